// Password hashing with scrypt from node:crypto: memory-hard, in Node itself (no native add-on to keep
// building for two Node versions), parameters stored with each hash so they can be raised later.
// Hashing is expensive on purpose, so it runs through a small gate: at most `concurrency` at once and a
// bounded queue behind it; a flood of sign-ins gets "busy" instead of eating the box's memory.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** N=2^15, r=8, p=1: 32 MiB per hash (time: docs/accounts.md; not yet measured on the box itself). */
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLen: 32 } as const;
export const PASSWORD_LIMITS = { minChars: 10, maxChars: 256 } as const;

export class BusyError extends Error {
  override readonly name = 'BusyError';
}

function scryptAsync(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export class PasswordHasher {
  readonly #concurrency: number;
  readonly #maxQueue: number;
  readonly #params: { N: number; r: number; p: number; keyLen: number };
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  /** A hash of a random password: verifying an unknown account costs the same as a known one. */
  #dummy: Promise<string> | null = null;

  constructor(opts: { concurrency?: number; maxQueue?: number; params?: { N: number; r: number; p: number; keyLen: number } } = {}) {
    this.#concurrency = opts.concurrency ?? 2;
    this.#maxQueue = opts.maxQueue ?? 32;
    this.#params = opts.params ?? SCRYPT;
  }

  async #gate<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueue) throw new BusyError('too many sign-ins at once; try again in a moment');
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running++;
    try {
      return await work();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  #derive(password: string, salt: Buffer, p: { N: number; r: number; p: number; keyLen: number }): Promise<Buffer> {
    // maxmem: scrypt needs 128·N·r bytes; Node's default limit (32 MiB) is exactly that, so leave room.
    return this.#gate(() => scryptAsync(password, salt, p.keyLen, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r }));
  }

  /** `scrypt$N$r$p$salt$key`, salt and key base64url. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.#derive(password, salt, this.#params);
    const { N, r, p } = this.#params;
    return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  }

  /** Constant-time comparison; `stored` null (no such account) still costs one hash. */
  async verify(password: string, stored: string | null): Promise<boolean> {
    const against = stored ?? (await (this.#dummy ??= this.hash(randomBytes(16).toString('base64url'))));
    const parts = against.split('$');
    const [scheme, n, r, p, salt, key] = parts;
    if (parts.length !== 6 || scheme !== 'scrypt' || !salt || !key) return false;
    const expected = Buffer.from(key, 'base64url');
    const params = { N: Number(n), r: Number(r), p: Number(p), keyLen: expected.length };
    if (![params.N, params.r, params.p].every((x) => Number.isInteger(x) && x > 0) || params.N > 2 ** 20) return false;
    const actual = await this.#derive(password, Buffer.from(salt, 'base64url'), params);
    return timingSafeEqual(actual, expected) && stored !== null;
  }
}

/** Checks a new password's length (characters, not bytes); returns the problem or null. */
export function passwordProblem(password: string): string | null {
  const n = [...password].length;
  if (n < PASSWORD_LIMITS.minChars) return `a password needs at least ${PASSWORD_LIMITS.minChars} characters`;
  if (n > PASSWORD_LIMITS.maxChars) return `a password may have at most ${PASSWORD_LIMITS.maxChars} characters`;
  return null;
}
