import { LIMITS } from './protocol.js';

/**
 * Display names as people type them, made safe to show: Unicode-normalised, control and format
 * characters removed (no bidi tricks), whitespace collapsed. Null when nothing is left or it is too long.
 */
export function normaliseName(raw: string): string | null {
  const name = raw
    .normalize('NFC')
    .replace(/\s+/gu, ' ')
    // Zero-width (non-)joiners stay: emoji sequences and several scripts need them.
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (ch) => (ch === '\u200c' || ch === '\u200d' ? ch : ''))
    .replace(/ {2,}/g, ' ')
    .trim();
  if (name.length === 0 || [...name].length > LIMITS.maxNameChars) return null;
  return name;
}
