// The safety code: a short sequence of emoji derived from every participant's public key. Everyone
// who holds the same set of keys sees the same code; a man in the middle who swapped a key would make
// the codes differ. 6 emoji from 64 = 36 bits, enough to read aloud and compare.
import { concat } from './bytes.js';

const EMOJI = [
  '🍎', '🍌', '🍇', '🍉', '🍒', '🍋', '🥕', '🌽', '🍄', '🥨', '🧀', '🍪', '🎂', '☕', '🍵', '🥛',
  '🐶', '🐱', '🐭', '🐰', '🦊', '🐻', '🐼', '🐨', '🐯', '🦁', '🐮', '🐷', '🐸', '🐵', '🐔', '🐧',
  '🐢', '🐙', '🐳', '🐬', '🦋', '🐝', '🐞', '🌵', '🌲', '🌻', '🌙', '⭐', '🔥', '🌈', '❄', '⚡',
  '⚽', '🎸', '🎈', '🎁', '🔑', '🔔', '📚', '✏', '🚲', '🚗', '🚀', '⛵', '🏠', '⏰', '☂', '👓',
];

/** Order-independent: the keys are sorted before hashing. */
export async function safetyCode(publicKeys: Uint8Array[]): Promise<string> {
  const sorted = [...publicKeys].sort(compareBytes);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(...sorted)));
  const out: string[] = [];
  // 6 × 6 bits from the first 5 bytes.
  let bits = 0;
  let acc = 0;
  for (const byte of digest) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6 && out.length < 6) {
      bits -= 6;
      out.push(EMOJI[(acc >> bits) & 0x3f]!);
    }
    acc &= (1 << bits) - 1;
    if (out.length === 6) break;
  }
  return out.join(' ');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
