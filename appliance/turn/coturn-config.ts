// coturn's configuration from templates/coturn/turnserver.conf.ejs, checked against its schema. The image
// renders the static part (the start script adds the secret and the box's addresses); development and
// tests render the whole file here, secret and allowed peers included, into a runtime folder.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import ejs from 'ejs';

export interface CoturnConfigInput {
  /** Empty: every address of the host (the appliance). */
  listeningIps: string[];
  turnPort: number;
  realm: string;
  hostname: string;
  relayFirst: number;
  relayLast: number;
  userQuota: number;
  totalQuota: number;
  maxBytesPerSecond: number;
  capacityBytesPerSecond: number;
  runtimeDir: string;
  deniedPeerRanges: string[];
  /** The only peers coturn may relay to: the media server's addresses. */
  allowedPeerIps: string[];
}

/** Every IPv4 and IPv6 address (the IPv6 range covers the ::ffff:a.b.c.d forms too). */
export const ALL_PEER_RANGES: readonly string[] = ['0.0.0.0-255.255.255.255', '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'];

/**
 * Quotas and caps. A participant gets one credential per welcome; each of its two peer connections
 * allocates at most once per ICE server URL (three), and an ICE restart briefly doubles that: 12.
 * 5 Mbit/s per allocation carries the largest simulcast layer with room; 500 Mbit/s in total is more
 * than the box's uplink will usually give.
 */
export function coturnLimits(): Pick<CoturnConfigInput, 'userQuota' | 'totalQuota' | 'maxBytesPerSecond' | 'capacityBytesPerSecond'> {
  return { userQuota: 12, totalQuota: 1200, maxBytesPerSecond: 625_000, capacityBytesPerSecond: 62_500_000 };
}

export class CoturnConfigError extends Error {
  override readonly name = 'CoturnConfigError';
}

function templatesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '../../templates/coturn'), join(here, '../../../templates/coturn')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new CoturnConfigError(`templates/coturn not found near ${here}`);
}

let validate: ValidateFunction | null = null;

/** The configuration file's text; throws on input the schema refuses instead of rendering blanks. */
export function renderCoturnConfig(input: CoturnConfigInput, dir = templatesDir()): string {
  if (!validate) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    validate = ajv.compile(JSON.parse(readFileSync(join(dir, 'turnserver.conf.schema.json'), 'utf8')) as object);
  }
  if (!validate(input)) {
    const detail = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ');
    throw new CoturnConfigError(`invalid coturn configuration input: ${detail}`);
  }
  if (input.relayLast - input.relayFirst < 1) throw new CoturnConfigError('invalid coturn configuration input: the relay range needs at least two ports');
  const source = readFileSync(join(dir, 'turnserver.conf.ejs'), 'utf8');
  return ejs.render(source, input, { strict: true, _with: false, localsName: 'it', escape: (s: unknown) => String(s) });
}

/** The secret line, appended after rendering so a secret never passes through a golden file. */
export function secretLine(secret: string): string {
  if (!/^[0-9a-f]{32,128}$/.test(secret)) throw new CoturnConfigError('the TURN secret must be 32-128 lower-case hex digits');
  return `static-auth-secret=${secret}\n`;
}
