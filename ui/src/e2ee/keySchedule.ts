// Sender keys: each participant encrypts its media with its own random sender key, identified by a KID
// that is unique to that key. When someone joins, every sender ratchets its key forward (a one-way
// HKDF step) before handing it to the newcomer, so the newcomer cannot decrypt what was sent before;
// when someone leaves, every sender draws a fresh random key, so the leaver cannot decrypt what follows.
import { randomBytes, utf8 } from './bytes.js';

export const SENDER_KEY_BYTES = 16;

export interface SenderKey {
  kid: number;
  /** SFrame base key. */
  key: Uint8Array<ArrayBuffer>;
}

/** Random KIDs: unique per key with overwhelming probability, and they reveal nothing about order. */
export function randomKid(avoid?: number): number {
  for (;;) {
    const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
    // 48 bits: fits a JavaScript number and a 6-byte SFrame KID field.
    const kid = (hi! & 0xffff) * 2 ** 32 + lo!;
    if (kid >= 8 && kid !== avoid) return kid;
  }
}

export function newSenderKey(previousKid?: number): SenderKey {
  return { kid: randomKid(previousKid), key: randomBytes(SENDER_KEY_BYTES) };
}

/** One-way step: knowing the result does not reveal `current`. */
export async function ratchet(current: SenderKey): Promise<SenderKey> {
  const ikm = await crypto.subtle.importKey('raw', current.key, 'HKDF', false, ['deriveBits']);
  const next = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8('stube sender key ratchet') },
    ikm,
    SENDER_KEY_BYTES * 8,
  );
  return { kid: randomKid(current.kid), key: new Uint8Array(next) };
}
