// When the signalling socket drops, the policy says how long to wait before the next attempt, or to stop.
// A one-method interface so tests and later features (e.g. "stop after the meeting ended") can swap it.
export interface ReconnectContext {
  /** 1 for the first retry after a drop. */
  attempt: number;
  /** Milliseconds since the connection was lost. */
  elapsedMs: number;
}

export interface ReconnectPolicy {
  /** Delay in ms before the next attempt, or null to give up. */
  nextDelayMs(ctx: ReconnectContext): number | null;
}

/**
 * Exponential backoff with jitter: 0.3 s, 0.6 s, 1.2 s … capped at `maxDelayMs`, giving up after
 * `giveUpAfterMs`. The first retry is quick because most drops are a restarted service or a network
 * handover. `random` is injectable for tests.
 */
export function backoffPolicy({
  baseDelayMs = 300,
  maxDelayMs = 10_000,
  giveUpAfterMs = 5 * 60_000,
  random = Math.random,
}: {
  baseDelayMs?: number;
  maxDelayMs?: number;
  giveUpAfterMs?: number;
  random?: () => number;
} = {}): ReconnectPolicy {
  return {
    nextDelayMs({ attempt, elapsedMs }) {
      if (elapsedMs >= giveUpAfterMs) return null;
      const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
      // ±20 % jitter so a box restart does not get every client back in the same millisecond.
      const jittered = exp * (0.8 + 0.4 * random());
      return Math.round(Math.min(maxDelayMs, jittered));
    },
  };
}
