// Reads and checks an image configuration. A bad file fails here, before any work, with one line per
// problem naming the field and the reason.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError, ImageError } from '../errors.js';
import { imageConfigSchema, type ImageConfig } from './schema.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validate = ajv.compile(imageConfigSchema);

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  switch (error.keyword) {
    case 'required':
      return [path, String(error.params['missingProperty'])].filter(Boolean).join('.');
    case 'additionalProperties':
      return [path, String(error.params['additionalProperty'])].filter(Boolean).join('.');
    default:
      return path || '(top level)';
  }
}

function reasonOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      return `must be one of ${(error.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `has an invalid format (must match ${String(error.params['pattern'])})`;
    default:
      return error.message ?? error.keyword;
  }
}

function parseRange(range: string): [number, number] {
  const [first, last] = range.split('-').map(Number);
  return [first ?? NaN, last ?? NaN];
}

/** Checks the schema cannot express: port ranges that make sense and do not overlap. */
function semanticProblems(config: ImageConfig): string[] {
  const problems: string[] = [];
  const ranges: [string, [number, number]][] = [
    ['ports.rtp', parseRange(config.ports.rtp)],
    ['ports.turnRelay', parseRange(config.ports.turnRelay)],
  ];
  for (const [field, [first, last]] of ranges) {
    if (!(first >= 1024 && last <= 65535 && first <= last)) {
      problems.push(`${field}: must be "first-last" with 1024 <= first <= last <= 65535`);
    }
  }
  const [a, b] = ranges;
  if (a && b && a[1][0] <= b[1][1] && b[1][0] <= a[1][1]) {
    problems.push('ports.turnRelay: overlaps ports.rtp');
  }
  for (const [field, port] of [['ports.https', config.ports.https], ['ports.turn', config.ports.turn]] as const) {
    for (const [rangeField, [first, last]] of ranges) {
      if (port >= first && port <= last) problems.push(`${field}: lies inside ${rangeField}`);
    }
  }
  const names = config.backports.packages.map((p) => p.source);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) problems.push(`backports.packages: source "${dup}" is listed twice`);
  return problems;
}

/** Validates parsed JSON, fills defaults, and returns the typed configuration. */
export function parseConfig(data: unknown, file = 'configuration'): ImageConfig {
  const copy: unknown = structuredClone(data);
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${fieldOf(e)}: ${reasonOf(e)}`);
    throw new ConfigError(file, [...new Set(problems)]);
  }
  const config = copy as unknown as ImageConfig;
  const problems = semanticProblems(config);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return config;
}

export function loadConfig(file: string): ImageConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ImageError('CONFIG_UNREADABLE', `cannot read image configuration ${file}`, { cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(file, [`(file): is not valid JSON (${(cause as Error).message})`]);
  }
  return parseConfig(data, file);
}

/** The version the image carries: the configuration's, else package.json's. */
export function imageVersion(config: ImageConfig, packageVersion: string): string {
  return config.version !== '' ? config.version : packageVersion;
}
