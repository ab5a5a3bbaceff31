// The input schema of every wizard step. Each request body is checked here before anything else reads
// it; the error names the field. Limits on every string and number.
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { PASSWORD_MAX } from './password.js';

const ajv = new Ajv({ allErrors: false, strict: true });

/** A DNS name with at least two labels, lower case, as a certificate can name it. */
export const HOSTNAME_PATTERN = '^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';

export interface CodeInput { code: string }
export interface LineInput { uploadMbps: number | null; downloadMbps: number | null; meetingSize: number }
export interface NetworkInput { mapPorts: boolean }
export type DomainInput = { kind: 'own'; name: string } | { kind: 'desec'; name: string; token: string };
export interface CertificateInput { email: string | null }
export interface AdminInput { name: string; password: string; boxName: string }
export interface DoneInput { confirm: true }

const code: JSONSchemaType<CodeInput> = {
  type: 'object',
  properties: { code: { type: 'string', minLength: 1, maxLength: 32 } },
  required: ['code'],
  additionalProperties: false,
};

const speed = { type: 'number', minimum: 0.1, maximum: 100_000, nullable: true } as const;
const line = {
  type: 'object',
  properties: { uploadMbps: speed, downloadMbps: speed, meetingSize: { type: 'integer', minimum: 2, maximum: 100 } },
  required: ['uploadMbps', 'downloadMbps', 'meetingSize'],
  additionalProperties: false,
  // ajv's type helper cannot express "required but nullable"; the schema itself is checked by tests.
} as unknown as JSONSchemaType<LineInput>;

const network: JSONSchemaType<NetworkInput> = {
  type: 'object',
  properties: { mapPorts: { type: 'boolean' } },
  required: ['mapPorts'],
  additionalProperties: false,
};

const domain: JSONSchemaType<DomainInput> = {
  type: 'object',
  oneOf: [
    {
      type: 'object',
      properties: { kind: { type: 'string', const: 'own' }, name: { type: 'string', pattern: HOSTNAME_PATTERN } },
      required: ['kind', 'name'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        kind: { type: 'string', const: 'desec' },
        name: { type: 'string', pattern: HOSTNAME_PATTERN },
        // deSEC tokens are 28 characters of base64url-ish text; allow some room, never whitespace.
        token: { type: 'string', minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_.~-]+$' },
      },
      required: ['kind', 'name', 'token'],
      additionalProperties: false,
    },
  ],
  required: [],
} as unknown as JSONSchemaType<DomainInput>;

const certificate = {
  type: 'object',
  properties: { email: { type: 'string', nullable: true, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$' } },
  required: ['email'],
  additionalProperties: false,
} as unknown as JSONSchemaType<CertificateInput>;

const admin: JSONSchemaType<AdminInput> = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\s].*[^\\s]$|^[^\\s]$' },
    password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX },
    boxName: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\x00-\\x1f<>]+$' },
  },
  required: ['name', 'password', 'boxName'],
  additionalProperties: false,
};

const done: JSONSchemaType<DoneInput> = {
  type: 'object',
  properties: { confirm: { type: 'boolean', const: true } },
  required: ['confirm'],
  additionalProperties: false,
} as unknown as JSONSchemaType<DoneInput>;

export const STEP_SCHEMAS = {
  code: ajv.compile(code),
  line: ajv.compile(line),
  network: ajv.compile(network),
  domain: ajv.compile(domain),
  certificate: ajv.compile(certificate),
  admin: ajv.compile(admin),
  done: ajv.compile(done),
} satisfies Record<string, ValidateFunction>;

export type StepName = keyof typeof STEP_SCHEMAS;

export class InputError extends Error {
  override readonly name = 'InputError';
  readonly status = 400;
}

/** Validates `body` for `step`, or throws InputError naming the first problem. */
export function checkStep<S extends StepName>(step: S, body: unknown): (typeof STEP_SCHEMAS)[S] extends ValidateFunction<infer T> ? T : never {
  const validate = STEP_SCHEMAS[step] as ValidateFunction;
  if (!validate(body)) throw new InputError(`${step}: ${ajv.errorsText(validate.errors, { dataVar: 'input' })}`);
  return body as never;
}
