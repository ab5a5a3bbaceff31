import { describe, expect, it } from 'vitest';
import { normaliseName } from '../../appliance/meeting/names.js';
import { LIMITS } from '../../appliance/meeting/protocol.js';

describe('normaliseName', () => {
  it.each([
    ['  Ada  ', 'Ada'],
    ['Ada    Lovelace', 'Ada Lovelace'],
    ['Ada\u00a0\u00a0Lovelace', 'Ada Lovelace'], // no-break spaces
    ['\u3000Ada\u3000Lovelace\u3000', 'Ada Lovelace'], // ideographic spaces
    ['José', 'José'],
    ['Zoë Ångström', 'Zoë Ångström'],
    ['李小龙', '李小龙'],
  ])('%j → %j', (raw, expected) => {
    expect(normaliseName(raw)).toBe(expected);
  });

  it.each([
    ['right-to-left override', 'Ada\u202Eecalevol\u202C', 'Adaecalevol'],
    ['bidi isolates', '\u2066Ada\u2069', 'Ada'],
    ['zero-width space', 'A\u200Bda', 'Ada'],
    ['byte order mark', '\uFEFFAda', 'Ada'],
    ['left-to-right mark', 'Ada\u200E', 'Ada'],
    ['NUL and escape', 'Ada\u0000\u001b[31m', 'Ada[31m'],
    ['line and paragraph separators', 'Ada\u2028\u2029', 'Ada'],
  ])('removes %s', (_what, raw, expected) => {
    expect(normaliseName(raw)).toBe(expected);
  });

  it('leaves no control characters from tabs or newlines', () => {
    const name = normaliseName('Ada\tLove\r\nlace');
    expect(name).not.toBeNull();
    expect(name).not.toMatch(/[\p{Cc}]/u);
  });

  it('composes to NFC', () => {
    expect(normaliseName('Jose\u0301')).toBe('Jos\u00e9');
  });

  it.each([
    ['an empty name', ''],
    ['only spaces', '    '],
    ['only format characters', '\u200B\u202E\u2066'],
    ['only controls', '\u0000\u0007\n'],
  ])('returns null for %s', (_what, raw) => {
    expect(normaliseName(raw)).toBeNull();
  });

  it(`accepts ${LIMITS.maxNameChars} visible characters and refuses one more`, () => {
    const longest = 'a'.repeat(LIMITS.maxNameChars);
    expect(normaliseName(longest)).toBe(longest);
    expect(normaliseName(`   ${longest}   `)).toBe(longest);
    expect(normaliseName(longest + 'a')).toBeNull();
  });

  it('counts characters removed before the limit as nothing', () => {
    const longest = 'a'.repeat(LIMITS.maxNameChars);
    expect(normaliseName(longest + '\u200B\u200B')).toBe(longest);
  });

  it('counts an emoji outside the BMP as one character, not two', () => {
    const emoji = '\u{1F600}';
    expect(emoji).toHaveLength(2);
    expect(normaliseName(emoji.repeat(LIMITS.maxNameChars))).toBe(emoji.repeat(LIMITS.maxNameChars));
    expect(normaliseName(emoji.repeat(LIMITS.maxNameChars + 1))).toBeNull();
  });

  it('counts a letter with a combining accent as one character after composing', () => {
    expect(normaliseName('e\u0301'.repeat(LIMITS.maxNameChars))).toBe('\u00e9'.repeat(LIMITS.maxNameChars));
  });
});
