// Errors of the image pipeline. Each carries a code so callers (the CLI, tests) can tell them apart
// without matching message text.

export type ImageErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'PREFLIGHT'
  | 'STAGE_FAILED'
  | 'PLAN_INVALID'
  | 'TEMPLATE_INPUT'
  | 'VM';

export class ImageError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageError';
    this.code = code;
  }
}

export class ConfigError extends ImageError {
  /** One line per problem: "<field>: <reason>". */
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super('CONFIG_INVALID', `${file} is not a valid image configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class PreflightError extends ImageError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('PREFLIGHT', `cannot build the image:\n  ${problems.join('\n  ')}`);
    this.name = 'PreflightError';
    this.problems = problems;
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
