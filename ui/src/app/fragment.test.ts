import { describe, expect, it } from 'vitest';
import { formatFragment, parseFragment } from './fragment.js';

const secret = 'q4M1x2ZcVb8hYk9Lr0PtWA';
const invite = 'eyJhbGciOiJFZERTQSJ9.eyJyIjoibSJ9.c2lnbmF0dXJl';

describe('link fragment', () => {
  it('round-trips a secret alone and a secret with an invite', () => {
    expect(parseFragment(formatFragment({ secret }))).toEqual({ secret });
    expect(parseFragment(formatFragment({ secret, invite }))).toEqual({ secret, invite });
    expect(parseFragment(`#${secret}~${invite}`)).toEqual({ secret, invite });
  });
  it('accepts an invite without a secret (the secret is then asked for)', () => {
    expect(parseFragment(`#~${invite}`)).toEqual({ invite });
  });
  it('drops parts of the wrong shape', () => {
    expect(parseFragment('#short')).toEqual({});
    expect(parseFragment(`#${secret}<script>`)).toEqual({});
    expect(parseFragment('')).toEqual({});
    expect(formatFragment({})).toBe('');
  });
});
