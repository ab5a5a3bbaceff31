// Counts failures per key (an address, an account, a room) in a sliding window and refuses further
// attempts once a key reached the limit, until the window passes. Memory is bounded: the table holds
// at most `maxKeys` keys and drops the oldest first. Keys live in memory only, never on disk or in logs.
export interface FailureLimiterOptions {
  /** Failures allowed within `windowMs` before the key is refused. */
  limit: number;
  windowMs: number;
  maxKeys?: number;
  now?: () => number;
}

export class FailureLimiter {
  readonly #opts: Required<FailureLimiterOptions>;
  readonly #failures = new Map<string, number[]>();

  constructor(opts: FailureLimiterOptions) {
    this.#opts = { maxKeys: 10_000, now: Date.now, ...opts };
  }

  #recent(key: string): number[] {
    const cutoff = this.#opts.now() - this.#opts.windowMs;
    const list = (this.#failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** True while the key may try again. */
  allowed(key: string): boolean {
    return this.#recent(key).length < this.#opts.limit;
  }

  /** Milliseconds until the key may try again (0 when it may now). */
  retryAfterMs(key: string): number {
    const list = this.#recent(key);
    if (list.length < this.#opts.limit) return 0;
    return Math.max(0, (list[list.length - this.#opts.limit] ?? 0) + this.#opts.windowMs - this.#opts.now());
  }

  fail(key: string): void {
    const list = this.#recent(key);
    list.push(this.#opts.now());
    this.#failures.delete(key);
    this.#failures.set(key, list.slice(-this.#opts.limit));
    while (this.#failures.size > this.#opts.maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest === undefined) break;
      this.#failures.delete(oldest);
    }
  }

  /** After a success: the key starts afresh. */
  reset(key: string): void {
    this.#failures.delete(key);
  }
}
