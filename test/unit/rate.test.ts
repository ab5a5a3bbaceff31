import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../appliance/meeting/rate.js';

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function takeAll(bucket: TokenBucket, limit = 1_000): number {
  let n = 0;
  while (n < limit && bucket.take()) n++;
  return n;
}

describe('TokenBucket', () => {
  it('allows the burst at once, then refuses', () => {
    const c = clock();
    const bucket = new TokenBucket(10, 5, c.now);
    expect(takeAll(bucket)).toBe(5);
    expect(bucket.take()).toBe(false);
  });

  it('refills at the sustained rate', () => {
    const c = clock();
    const bucket = new TokenBucket(10, 5, c.now);
    takeAll(bucket);
    c.advance(99);
    expect(bucket.take()).toBe(false);
    c.advance(1); // 100 ms in total at 10/s: one token
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    c.advance(300);
    expect(takeAll(bucket)).toBe(3);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const c = clock();
    const bucket = new TokenBucket(10, 5, c.now);
    takeAll(bucket);
    c.advance(3_600_000);
    expect(takeAll(bucket)).toBe(5);
  });

  it('does not spend tokens on a refused take', () => {
    const c = clock();
    const bucket = new TokenBucket(1, 3, c.now);
    expect(bucket.take(2)).toBe(true);
    expect(bucket.take(2)).toBe(false);
    expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
  });

  it('sustains exactly the rate over a long run', () => {
    const c = clock();
    const bucket = new TokenBucket(40, 120, c.now);
    takeAll(bucket);
    let taken = 0;
    // Ten seconds of a client trying every 5 ms.
    for (let i = 0; i < 2_000; i++) {
      c.advance(5);
      if (bucket.take()) taken++;
    }
    // 400 exactly, give or take one for floating-point rounding of the fractional refills.
    expect(taken).toBeGreaterThanOrEqual(399);
    expect(taken).toBeLessThanOrEqual(400);
  });

  it('starts counting from the moment it was built', () => {
    const c = clock(50_000);
    const bucket = new TokenBucket(10, 2, c.now);
    expect(takeAll(bucket)).toBe(2);
    c.advance(100);
    expect(takeAll(bucket)).toBe(1);
  });
});
