// The wizard's install step: which disks the box could be installed onto, starting the installation in
// the privileged helper, its progress, and the reboot. What the wizard has so far (this boot's setup code
// and the language) is written to the data partition first, so the installed system carries on with it:
// the helper copies the data folder onto the new disk, and the next boot reads the file once and deletes it.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv, type JSONSchemaType } from 'ajv';
import { writeFileDurable } from '../config/durable.js';
import type { Logger } from '../log.js';
import { HelperError, type PrivilegedClient } from '../system/client.js';
import type { InstallChoice } from '../install/disks.js';
import type { InstallProgress } from '../install/progress.js';

export const CARRY_FILE = 'install-carry.json';
/** Written to the runtime folder when this boot continues an installation: the console says "remove the stick". */
export const INSTALLED_NOTICE_FILE = 'installed-from-stick';

export interface InstallInput { disk: string; confirmation: string; language: 'en' | 'de' }
export interface Carry { version: 1; code: string; language: 'en' | 'de' }

const ajv = new Ajv({ allErrors: false, strict: true });
const checkInput = ajv.compile<InstallInput>({
  type: 'object',
  properties: {
    disk: { type: 'string', pattern: '^/dev/[a-z0-9]{2,16}$' },
    confirmation: { type: 'string', minLength: 1, maxLength: 200 },
    language: { type: 'string', enum: ['en', 'de'] },
  },
  required: ['disk', 'confirmation', 'language'],
  additionalProperties: false,
} satisfies JSONSchemaType<InstallInput>);
const checkCarry = ajv.compile<Carry>({
  type: 'object',
  properties: {
    version: { type: 'integer', const: 1 },
    code: { type: 'string', pattern: '^[A-Z2-9]{10}$' },
    language: { type: 'string', enum: ['en', 'de'] },
  },
  required: ['version', 'code', 'language'],
  additionalProperties: false,
} satisfies JSONSchemaType<Carry>);

export function parseInstallInput(body: unknown): InstallInput | string {
  return checkInput(body) ? body : ajv.errorsText(checkInput.errors, { dataVar: 'body' });
}

/**
 * Reads and deletes the carried-over state. It counts only on an internal disk: a file found while
 * running from the stick is what an installation that failed or was never booted left behind, and
 * this boot makes its own code as usual.
 */
export async function takeCarry(dataDir: string, runningFromInternalDisk: () => Promise<boolean>): Promise<Carry | null> {
  const file = join(dataDir, CARRY_FILE);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  await rm(file, { force: true });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!checkCarry(value)) return null;
  return (await runningFromInternalDisk()) ? value : null;
}

export interface InstallRouteDeps {
  dataDir: string;
  /** This boot's setup code (normalised): carried to the installed system. */
  code: string;
  progressFile: string;
  system: PrivilegedClient;
  readChoice: () => Promise<InstallChoice>;
  /** Set when this boot continues an installation (the carry file was read): "remove the stick". */
  carried: Carry | null;
  log: Logger;
}

async function readProgress(file: string): Promise<InstallProgress | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as InstallProgress;
  } catch {
    return null; // being replaced this instant; the next poll reads it
  }
}

/** Mounted under /setup/api/install behind the wizard's gate and session. */
export function installRoutes(d: InstallRouteDeps): Hono {
  const app = new Hono();
  const json = bodyLimit({ maxSize: 4 * 1024, onError: (c) => c.json({ error: 'request body too large', code: 'tooLarge' }, 413) });

  app.get('/', async (c) => {
    if (d.carried) return c.json({ installed: true, language: d.carried.language, skip: true, candidates: [], progress: null });
    const progress = await readProgress(d.progressFile);
    try {
      return c.json({ installed: false, ...(await d.readChoice()), progress });
    } catch (err) {
      // Installing is an offer, not a requirement: when the disks cannot be read, setup goes on.
      d.log.warn('disks could not be read; the install step is skipped', { err: err instanceof Error ? err.name : 'unknown' });
      return c.json({ installed: false, bootDisk: null, bootRemovable: false, skip: true, minBytes: 0, candidates: [], progress });
    }
  });

  app.get('/progress', async (c) => {
    const progress = await readProgress(d.progressFile);
    if (progress?.phase === 'failed') await rm(join(d.dataDir, CARRY_FILE), { force: true });
    return c.json({ progress });
  });

  app.post('/', json, async (c) => {
    const input = parseInstallInput(await c.req.json().catch(() => null));
    if (typeof input === 'string') return c.json({ error: input, code: 'invalid' }, 400);
    const carry: Carry = { version: 1, code: d.code, language: input.language };
    // Before the copy starts: the helper copies the data folder as it is then.
    await writeFileDurable(join(d.dataDir, CARRY_FILE), JSON.stringify(carry) + '\n', 0o600);
    try {
      await d.system.call('installToDisk', { disk: input.disk, confirmation: input.confirmation });
    } catch (err) {
      await rm(join(d.dataDir, CARRY_FILE), { force: true });
      if (err instanceof HelperError && err.refused) return c.json({ error: err.message, code: 'refused' }, 422);
      throw err;
    }
    d.log.info('installation started');
    return c.json({ started: true }, 202);
  });

  app.post('/reboot', json, async (c) => {
    const progress = await readProgress(d.progressFile);
    if (progress?.phase !== 'done') return c.json({ error: 'the installation has not finished', code: 'notDone' }, 409);
    await d.system.call('reboot', {});
    return c.json({ rebooting: true });
  });
  return app;
}
