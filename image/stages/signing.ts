// The update signing key. A real build takes the builder's OpenPGP secret key from the file named by
// STUBE_UPDATE_SIGNING_KEY; without it, a test key is generated once in the build cache (never in the
// repository, never in the image). The image carries only the public key.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from '../context.js';
import { ImageError } from '../errors.js';
import { capture, runLogged } from '../run.js';

/**
 * Creation time of the generated test key: fixed and well before any build date, so a box whose clock is
 * only set to the image's build date (see /usr/lib/clock-epoch) never sees a key "from the future".
 */
const TEST_KEY_CREATED = 1704067200; // 2024-01-01

export interface SigningKey {
  /** Armored secret key file. */
  readonly secretKey: string;
  readonly test: boolean;
}

export function signingKeyOf(ctx: BuildContext, env: NodeJS.ProcessEnv = process.env): SigningKey {
  const fromEnv = env['STUBE_UPDATE_SIGNING_KEY'];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ImageError('STAGE_FAILED', `STUBE_UPDATE_SIGNING_KEY names ${fromEnv}, which does not exist`);
    return { secretKey: fromEnv, test: false };
  }
  return { secretKey: join(ctx.paths.cache, 'update-test-key', 'secret.asc'), test: true };
}

/** A throw-away gpg home with the signing key imported; the caller removes it. */
async function withKeyHome<T>(ctx: BuildContext, f: (home: string) => Promise<T>): Promise<T> {
  const key = signingKeyOf(ctx);
  if (key.test) await ensureTestKey(ctx, key.secretKey);
  mkdirSync(ctx.paths.work, { recursive: true });
  const home = mkdtempSync(join(ctx.paths.work, 'gnupg-'));
  try {
    await runLogged(ctx, 'signing', 'gpg', ['--homedir', home, '--batch', '--quiet', '--import', key.secretKey]);
    return await f(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function ensureTestKey(ctx: BuildContext, secretKey: string): Promise<void> {
  if (existsSync(secretKey)) return;
  const dir = join(secretKey, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const home = mkdtempSync(join(dir, 'gnupg-'));
  try {
    // No expiry: a box in the field must accept updates for years; keys are rotated by shipping the next
    // public key in an image before the old one is retired (docs/updates.md).
    await runLogged(ctx, 'signing', 'gpg', ['--homedir', home, '--batch', '--passphrase', '', '--faked-system-time', `${TEST_KEY_CREATED}!`,
      '--quick-generate-key', 'Stube test update key (not for production) <updates@stube.invalid>', 'ed25519', 'sign', 'never']);
    const armored = await capture('gpg', ['--homedir', home, '--batch', '--armor', '--export-secret-keys']);
    writeFileSync(`${secretKey}.tmp`, `${armored}\n`, { mode: 0o600 });
    renameSync(`${secretKey}.tmp`, secretKey);
    ctx.log(`signing: generated a test update key in ${dir}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The public key (binary OpenPGP) the image carries in its keyring. */
export async function updatePublicKey(ctx: BuildContext): Promise<Buffer> {
  return withKeyHome(ctx, async (home) => {
    const out = join(home, 'public.pgp');
    await runLogged(ctx, 'signing', 'gpg', ['--homedir', home, '--batch', '--output', out, '--export']);
    return readFileSync(out);
  });
}

/** Detached binary signature of one file, written next to it as <file>.gpg. */
export async function signFile(ctx: BuildContext, file: string, signedAt: number): Promise<void> {
  await withKeyHome(ctx, async (home) => {
    rmSync(`${file}.gpg`, { force: true });
    await runLogged(ctx, 'signing', 'gpg', ['--homedir', home, '--batch', '--faked-system-time', `${signedAt}!`, '--output', `${file}.gpg`, '--detach-sign', file]);
  });
}
