// TURN credentials in coturn's "TURN REST" scheme (use-auth-secret): the user name is
// "<expiry unix seconds>:<pseudonym>", the password base64(HMAC-SHA1(secret, user name)). coturn checks
// both without asking us, refuses expired ones, and never learns who the participant is: the pseudonym
// is random per credential. The secret lives in the data folder and can be rotated.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileDurable } from '../config/durable.js';

export interface TurnCredential {
  username: string;
  credential: string;
  /** Unix seconds. */
  expiresAt: number;
}

export class TurnSecretError extends Error {
  override readonly name = 'TurnSecretError';
}

const SECRET_PATTERN = /^[0-9a-f]{32,128}$/;

/** A new pseudonym: 12 random bytes, URL-safe base64 (16 characters), nothing derived from the person. */
export function newPseudonym(random: (n: number) => Buffer = randomBytes): string {
  return random(12).toString('base64url');
}

/** Pure: the credential for `pseudonym`, valid until `nowMs + ttlSeconds`. */
export function mintCredential(secret: string, pseudonym: string, ttlSeconds: number, nowMs: number): TurnCredential {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 86_400) throw new RangeError('TURN credential lifetime must be 60-86400 s');
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(pseudonym)) throw new RangeError('TURN pseudonym must be 8-64 URL-safe characters');
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAt}:${pseudonym}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

/**
 * The box's TURN secret, read from (and, when missing, created in) one file. On the appliance the TURN
 * unit's start script creates it first; the service only reads it. rotate() writes a new one: coturn
 * must then be restarted (credentials minted before stop working, allocations are re-made by ICE).
 */
export class TurnSecret {
  readonly #file: string;
  #secret: string;

  private constructor(file: string, secret: string) {
    this.#file = file;
    this.#secret = secret;
  }

  static async open(file: string, opts: { create: boolean }): Promise<TurnSecret> {
    if (!existsSync(file)) {
      if (!opts.create) throw new TurnSecretError(`TURN secret file ${file} does not exist (the TURN unit creates it)`);
      const secret = randomBytes(32).toString('hex');
      await write(file, secret);
      return new TurnSecret(file, secret);
    }
    return new TurnSecret(file, await read(file));
  }

  get value(): string {
    return this.#secret;
  }

  /** Reads the file again (after someone else rotated it). */
  async reload(): Promise<void> {
    this.#secret = await read(this.#file);
  }

  /** Writes a new secret; returns the previous one (for restore() when the TURN server cannot follow). */
  async rotate(): Promise<string> {
    const previous = this.#secret;
    const secret = randomBytes(32).toString('hex');
    await write(this.#file, secret);
    this.#secret = secret;
    return previous;
  }

  /** Puts back a secret rotate() returned. */
  async restore(previous: string): Promise<void> {
    if (!SECRET_PATTERN.test(previous)) throw new TurnSecretError('not a TURN secret');
    await write(this.#file, previous);
    this.#secret = previous;
  }

  mint(ttlSeconds: number, nowMs = Date.now()): TurnCredential {
    return mintCredential(this.#secret, newPseudonym(), ttlSeconds, nowMs);
  }
}

async function read(file: string): Promise<string> {
  const text = (await readFile(file, 'utf8')).trim();
  // Never quote the content: it is the secret.
  if (!SECRET_PATTERN.test(text)) throw new TurnSecretError(`TURN secret file ${file} is damaged: expected 32-128 hex digits`);
  return text;
}

async function write(file: string, secret: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileDurable(file, `${secret}\n`, 0o600);
}
