import { describe, expect, it } from 'vitest';
import { backoffPolicy } from './reconnectPolicy.js';

describe('backoffPolicy', () => {
  const mid = backoffPolicy({ random: () => 0.5 });

  it('doubles from the base delay and caps it', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => mid.nextDelayMs({ attempt, elapsedMs: 0 }));
    expect(delays).toEqual([300, 600, 1200, 2400, 4800, 9600, 10_000, 10_000]);
  });

  it('adds at most 20 % jitter either way', () => {
    const low = backoffPolicy({ random: () => 0 }).nextDelayMs({ attempt: 2, elapsedMs: 0 });
    const high = backoffPolicy({ random: () => 0.999999 }).nextDelayMs({ attempt: 2, elapsedMs: 0 });
    expect(low).toBe(480);
    expect(high).toBe(720);
  });

  it('gives up after the deadline', () => {
    expect(mid.nextDelayMs({ attempt: 3, elapsedMs: 5 * 60_000 })).toBeNull();
    expect(backoffPolicy({ giveUpAfterMs: 1000 }).nextDelayMs({ attempt: 1, elapsedMs: 999 })).not.toBeNull();
  });
});
