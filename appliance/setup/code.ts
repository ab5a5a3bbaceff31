// The setup code: proof that whoever uses the wizard can read the box's console. A new random code is
// made at each boot until setup is done, kept in the runtime folder (tmpfs on the box), never on the data
// partition, and compared in constant time. Wrong guesses are rate-limited per sender and in total.
import { randomInt, timingSafeEqual, createHash } from 'node:crypto';
import { mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** No 0/O, 1/I/L: the code is read off a screen and typed in. */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
/** 10 characters of a 31-letter alphabet: about 49.5 bits; with the rate limits, out of reach. */
export const CODE_LENGTH = 10;

export function generateCode(): string {
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** How the console shows it: groups of five, e.g. `ABCDE-FGHJK`. */
export function formatCode(code: string): string {
  return code.match(/.{1,5}/g)?.join('-') ?? code;
}

/** What people type: any case, with or without dashes and spaces. */
export function normaliseCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

export function codesEqual(expected: string, input: string): boolean {
  // Hash both so the comparison is constant-time whatever the input's length.
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(normaliseCode(input)).digest();
  return timingSafeEqual(a, b);
}

export const CODE_FILE = 'setup-code';

/**
 * Makes this boot's code and writes it (mode 0600) where the console banner reads it. `carried` is the
 * code of the boot before an installation onto the internal disk (setup/install.ts), which stays valid.
 */
export async function createBootCode(runtimeDir: string, carried?: string): Promise<string> {
  await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
  const code = carried ?? generateCode();
  await writeFile(join(runtimeDir, CODE_FILE), formatCode(code) + '\n', { mode: 0o600 });
  return code;
}

export async function readBootCode(runtimeDir: string): Promise<string | null> {
  try {
    return normaliseCode((await readFile(join(runtimeDir, CODE_FILE), 'utf8')).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function removeBootCode(runtimeDir: string): Promise<void> {
  await rm(join(runtimeDir, CODE_FILE), { force: true });
}

/**
 * Limits wrong codes: each sender gets `perSender` tries per window, everybody together `total`.
 * The total limit is what makes guessing hopeless even from many addresses; a locked-out host waits a
 * few minutes (the console says so) — the code itself stays valid.
 */
export class AttemptLimiter {
  readonly #bySender = new Map<string, { count: number; since: number }>();
  #total = { count: 0, since: 0 };
  constructor(
    readonly opts: { perSender: number; total: number; windowMs: number; maxSenders: number } = {
      perSender: 5,
      total: 30,
      windowMs: 5 * 60_000,
      maxSenders: 1000,
    },
    readonly now: () => number = () => Date.now(),
  ) {}

  /** Null when a try is allowed now; otherwise the milliseconds until it will be. */
  check(sender: string): number | null {
    const t = this.now();
    if (t - this.#total.since >= this.opts.windowMs) this.#total = { count: 0, since: t };
    if (this.#total.count >= this.opts.total) return this.#total.since + this.opts.windowMs - t;
    const s = this.#bySender.get(sender);
    if (s && t - s.since < this.opts.windowMs && s.count >= this.opts.perSender) return s.since + this.opts.windowMs - t;
    return null;
  }

  /** Counts a wrong code. */
  fail(sender: string): void {
    const t = this.now();
    this.#total.count++;
    const s = this.#bySender.get(sender);
    if (!s || t - s.since >= this.opts.windowMs) {
      // Bounded memory: forget the oldest sender first.
      if (!s && this.#bySender.size >= this.opts.maxSenders) {
        const oldest = this.#bySender.keys().next().value;
        if (oldest !== undefined) this.#bySender.delete(oldest);
      }
      this.#bySender.set(sender, { count: 1, since: t });
    } else s.count++;
  }
}
