// The configuration the wizard's last step writes to the data partition (<data>/setup.json), checked
// against its schema on write and on every read. Its presence is what "setup is done" means.
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv, type JSONSchemaType } from 'ajv';
import { writeFileDurable } from '../config/durable.js';
import { HOSTNAME_PATTERN } from './schemas.js';

/** Dotted-quad IPv4, each part 0-255. */
const IPV4_PATTERN = '^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$';

export interface SetupConfig {
  version: 1;
  boxName: string;
  domain: { kind: 'own' | 'desec'; name: string };
  /** True when the box asked the router for its forwards (and keeps renewing them). */
  upnp: boolean;
  /** The router's public IPv4 address from the network step, when it has one: Janus announces it
   *  (nat_1_1_mapping) next to its private address. Missing in files written before it existed. */
  publicIp?: string;
  line: { uploadMbps: number | null; downloadMbps: number | null; meetingSize: number };
  /** Shown in the wizard with their defaults; both stay off (DESIGN.md privacy rules). */
  privacy: { meetingLog: false; recordings: false };
  completedAt: string;
}

const schema = {
  type: 'object',
  properties: {
    version: { type: 'integer', const: 1 },
    boxName: { type: 'string', minLength: 1, maxLength: 64 },
    domain: {
      type: 'object',
      properties: { kind: { type: 'string', enum: ['own', 'desec'] }, name: { type: 'string', pattern: HOSTNAME_PATTERN } },
      required: ['kind', 'name'],
      additionalProperties: false,
    },
    upnp: { type: 'boolean' },
    publicIp: { type: 'string', nullable: true, maxLength: 15, pattern: IPV4_PATTERN },
    line: {
      type: 'object',
      properties: {
        uploadMbps: { type: 'number', nullable: true, minimum: 0.1, maximum: 100_000 },
        downloadMbps: { type: 'number', nullable: true, minimum: 0.1, maximum: 100_000 },
        meetingSize: { type: 'integer', minimum: 2, maximum: 100 },
      },
      required: ['uploadMbps', 'downloadMbps', 'meetingSize'],
      additionalProperties: false,
    },
    privacy: {
      type: 'object',
      properties: { meetingLog: { type: 'boolean', const: false }, recordings: { type: 'boolean', const: false } },
      required: ['meetingLog', 'recordings'],
      additionalProperties: false,
    },
    completedAt: { type: 'string', maxLength: 40 },
  },
  required: ['version', 'boxName', 'domain', 'upnp', 'line', 'privacy', 'completedAt'],
  additionalProperties: false,
} as unknown as JSONSchemaType<SetupConfig>;

const validate = new Ajv({ strict: true }).compile(schema);

/** What setup.json keeps of the router step for Janus: its WAN address, only when that is public —
 *  behind carrier-grade NAT or a second router it is not where people outside reach the box. */
export function publicIpFromRouter(router: { externalIp: string | null; wan: string } | null): { publicIp?: string } {
  return router?.externalIp && router.wan === 'public' ? { publicIp: router.externalIp } : {};
}

/** The public IPv4 address Janus should announce, from a finished setup (null: none known). */
export function natMappingFromSetup(config: SetupConfig | null): string | null {
  return config?.publicIp ?? null;
}
export const SETUP_FILE = 'setup.json';

export function checkSetupConfig(data: unknown): SetupConfig {
  if (!validate(data)) throw new Error(`setup configuration invalid: ${new Ajv().errorsText(validate.errors)}`);
  return data;
}

export async function writeSetupConfig(dataDir: string, config: SetupConfig): Promise<void> {
  checkSetupConfig(config);
  await mkdir(dataDir, { recursive: true });
  await writeFileDurable(join(dataDir, SETUP_FILE), JSON.stringify(config, null, 2) + '\n', 0o640);
}

/** The stored configuration, or null when setup has not been completed. A damaged file is an error. */
export async function readSetupConfig(dataDir: string): Promise<SetupConfig | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, SETUP_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return checkSetupConfig(JSON.parse(text));
}
