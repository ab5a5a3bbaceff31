import { describe, expect, it } from 'vitest';
import { shareableLink } from './shareLink.js';

const SECRET = 'S'.repeat(43);
const TOKEN = 'aGVsbG8gd29ybGQgaGVsbG8.c2lnbmF0dXJlc2lnbmF0dXJl';

describe('shareableLink', () => {
  it('drops the invite token from a moderator\'s copy but keeps the meeting secret', () => {
    expect(shareableLink(`https://box.example/r/abc#${SECRET}~${TOKEN}`, true)).toBe(`https://box.example/r/abc#${SECRET}`);
  });
  it('keeps a participant\'s token', () => {
    expect(shareableLink(`https://box.example/r/abc#${SECRET}~${TOKEN}`, false)).toBe(`https://box.example/r/abc#${SECRET}~${TOKEN}`);
  });
  it('leaves a link without fragment alone', () => {
    expect(shareableLink('https://box.example/r/abc', true)).toBe('https://box.example/r/abc');
  });
});
