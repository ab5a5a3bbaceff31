import { LIMITS } from './protocol.js';

/**
 * Display names as people type them, made safe to show: Unicode-normalised, control and format
 * characters removed (no bidi tricks), whitespace collapsed. Null when nothing is left or it is too long.
 */
export function normaliseName(raw: string): string | null {
  const name = raw
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  if (name.length === 0 || [...name].length > LIMITS.maxNameChars) return null;
  return name;
}
