// Renders Janus's configuration from templates/janus/ into a runtime folder, with secrets that are
// generated once per box and kept in the data folder. Janus then runs with `-F <dir>`: it sees only
// our files and, through the lib/ folders we fill with symlinks, only the plugin and transport we use.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { writeFileDurable } from '../config/durable.js';
import { Ajv, type JSONSchemaType } from 'ajv';

export interface JanusSecrets {
  /** Janus core `api_secret`: required on every API request. */
  apiSecret: string;
  /** Janus core `admin_secret` (the admin API has no transport; set so no default exists). */
  adminSecret: string;
  /** VideoRoom `admin_key`: required to create rooms and to forward RTP. */
  adminKey: string;
}

export interface JanusConfigInput extends JanusSecrets {
  configDir: string;
  socketPath: string;
  rtpPortMin: number;
  rtpPortMax: number;
  eventLoops: number;
  debugLevel: number;
  iceIgnoreList: string;
  /** Empty: no restriction. */
  iceEnforceList: string;
  /** Public address for `nat_1_1_mapping`; empty when the box has it on an interface. */
  natMapping: string;
}

// Everything that ends up between quotes in a libconfig file is restricted to characters that need no
// escaping, so a value can never close its string and add settings of its own.
const SAFE_PATH = '^/[A-Za-z0-9._/+-]*$';
const SECRET = '^[A-Za-z0-9_-]{32,128}$';
const IFACE_LIST = '^[A-Za-z0-9.:,_-]*$';

export const janusConfigSchema: JSONSchemaType<JanusConfigInput> = {
  type: 'object',
  additionalProperties: false,
  required: ['configDir', 'socketPath', 'rtpPortMin', 'rtpPortMax', 'eventLoops', 'debugLevel', 'apiSecret',
    'adminSecret', 'adminKey', 'iceIgnoreList', 'iceEnforceList', 'natMapping'],
  properties: {
    configDir: { type: 'string', pattern: SAFE_PATH, maxLength: 200 },
    // Linux limits unix socket paths to 107 bytes.
    socketPath: { type: 'string', pattern: SAFE_PATH, maxLength: 107 },
    rtpPortMin: { type: 'integer', minimum: 1024, maximum: 65535 },
    rtpPortMax: { type: 'integer', minimum: 1024, maximum: 65535 },
    eventLoops: { type: 'integer', minimum: 1, maximum: 64 },
    // 4 = info. Higher levels print ICE candidates, i.e. participants' IP addresses.
    debugLevel: { type: 'integer', minimum: 0, maximum: 7 },
    apiSecret: { type: 'string', pattern: SECRET },
    adminSecret: { type: 'string', pattern: SECRET },
    adminKey: { type: 'string', pattern: SECRET },
    iceIgnoreList: { type: 'string', pattern: IFACE_LIST, maxLength: 500 },
    iceEnforceList: { type: 'string', pattern: IFACE_LIST, maxLength: 500 },
    natMapping: { type: 'string', pattern: '^([0-9a-fA-F.:]{2,45})?$' },
  },
};

const ajv = new Ajv({ allErrors: true });
const validateInput = ajv.compile(janusConfigSchema);

/** The API socket inside a Janus runtime folder. */
export function janusSocketPath(configDir: string): string {
  return join(configDir, 'api.sock');
}

/** The template input for a runtime folder: the same for the service (managed) and janus-run. */
export function janusConfigFor(
  secrets: JanusSecrets,
  configDir: string,
  options: Omit<JanusConfigInput, keyof JanusSecrets | 'configDir' | 'socketPath'>,
): JanusConfigInput {
  return { ...secrets, ...options, configDir, socketPath: janusSocketPath(configDir) };
}

export class JanusConfigError extends Error {
  override readonly name = 'JanusConfigError';
}

/** Returns every rendered file, by file name. Throws on invalid input instead of rendering blanks. */
export function renderJanusConfig(input: JanusConfigInput, templateDir = defaultTemplateDir()): Promise<Map<string, string>> {
  if (!validateInput(input)) {
    const detail = (validateInput.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new JanusConfigError(`invalid Janus configuration input: ${detail}`);
  }
  if (input.rtpPortMax - input.rtpPortMin < 1) {
    throw new JanusConfigError('invalid Janus configuration input: the RTP port range needs at least two ports');
  }
  return renderAll(input, templateDir);
}

const TEMPLATES = ['janus.jcfg', 'janus.plugin.videoroom.jcfg', 'janus.transport.websockets.jcfg'] as const;

async function renderAll(input: JanusConfigInput, templateDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of TEMPLATES) {
    const template = await readFile(join(templateDir, `${name}.ejs`), 'utf8');
    // These are not HTML: values go in verbatim (the schema already forbids characters that would
    // need escaping in libconfig).
    out.set(name, ejs.render(template, input, { escape: (s: unknown) => String(s) }));
  }
  return out;
}

export function defaultTemplateDir(): string {
  // Works from the TypeScript sources (appliance/media) and from the build (dist/appliance/media).
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '../../templates/janus'), join(here, '../../../templates/janus')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new JanusConfigError(`templates/janus not found near ${here}`);
}

/** Generates the secrets on first use and keeps them (mode 0600) so that restarts keep the same ones. */
export async function loadOrCreateSecrets(dataDir: string): Promise<JanusSecrets> {
  const file = join(dataDir, 'secrets', 'janus.json');
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      // Not the parser's message: it would quote part of the file, i.e. of a secret.
      throw new JanusConfigError(`${file} is damaged: not valid JSON`);
    }
    if (!validateSecrets(parsed)) throw new JanusConfigError(`${file} is damaged: ${ajv.errorsText(validateSecrets.errors)}`);
    return parsed;
  }
  const secrets: JanusSecrets = { apiSecret: newSecret(), adminSecret: newSecret(), adminKey: newSecret() };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Durable: an empty file after a power cut would keep the box from ever starting again.
  await writeFileDurable(file, JSON.stringify(secrets, null, 2) + '\n', 0o600);
  return secrets;
}

const secretsSchema: JSONSchemaType<JanusSecrets> = {
  type: 'object',
  required: ['apiSecret', 'adminSecret', 'adminKey'],
  additionalProperties: false,
  properties: {
    apiSecret: { type: 'string', pattern: SECRET },
    adminSecret: { type: 'string', pattern: SECRET },
    adminKey: { type: 'string', pattern: SECRET },
  },
};
const validateSecrets = ajv.compile(secretsSchema);

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Where Debian (or a local build) put Janus's plugins and transports. */
export function findJanusLibDir(): string {
  const candidates = [
    '/usr/lib/x86_64-linux-gnu/janus',
    '/usr/lib/aarch64-linux-gnu/janus',
    '/usr/lib/janus',
    '/usr/local/lib/janus',
    '/opt/janus/lib/janus',
  ];
  const found = candidates.find((d) => existsSync(join(d, 'plugins', 'libjanus_videoroom.so')));
  if (!found) throw new JanusConfigError(`Janus's VideoRoom plugin not found in ${candidates.join(', ')}; is the janus package installed?`);
  return found;
}

/** The only Janus modules we load. Everything else Debian ships stays unloaded. */
const MODULES = { plugins: ['libjanus_videoroom.so'], transports: ['libjanus_websockets.so'], events: [], loggers: [] } as const;

/**
 * Writes the rendered files and the module folders into `input.configDir`, replacing what an earlier
 * start left there.
 */
export async function writeJanusConfig(input: JanusConfigInput, janusLibDir = findJanusLibDir()): Promise<void> {
  const files = await renderJanusConfig(input);
  const dir = input.configDir;
  await mkdir(dir, { recursive: true, mode: 0o750 });
  for (const [name, text] of files) {
    await writeFile(join(dir, name), text, { mode: 0o600 });
    await chmod(join(dir, name), 0o600);
  }
  // Stale files from an older template set would be read by Janus too.
  for (const entry of await readdir(dir)) {
    if (entry.endsWith('.jcfg') && !files.has(entry)) await rm(join(dir, entry));
  }
  await rm(join(dir, 'lib'), { recursive: true, force: true });
  for (const [kind, names] of Object.entries(MODULES)) {
    await mkdir(join(dir, 'lib', kind), { recursive: true });
    for (const name of names) await symlink(join(janusLibDir, kind, name), join(dir, 'lib', kind, name));
  }
}
