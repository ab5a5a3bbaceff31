// Keys derived from the meeting secret (the link's fragment). The secret itself never leaves this
// module's callers' memory; what is derived here is used only for MACs and key derivation salts.
import { fromBase64Url, randomBytes, toBase64Url, utf8 } from './bytes.js';

/** 128 random bits, base64url (22 characters): the secret a new meeting link carries after '#'. */
export function newMeetingSecret(): string {
  return toBase64Url(randomBytes(16));
}

export interface MeetingSecretKeys {
  /** HMAC-SHA-256 over announced public keys: without the secret nobody can announce a key. */
  announceMac: CryptoKey;
  /** Salt for the pairwise key derivation, so pairwise keys also depend on the secret. */
  pairwiseSalt: Uint8Array<ArrayBuffer>;
}

export async function deriveSecretKeys(secret: string): Promise<MeetingSecretKeys> {
  const ikm = await crypto.subtle.importKey('raw', fromBase64Url(secret), 'HKDF', false, ['deriveBits', 'deriveKey']);
  const salt = utf8('stube e2ee v1');
  const announceMac = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: utf8('announce mac') },
    ikm,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign', 'verify'],
  );
  const pairwiseSalt = new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: utf8('pairwise salt') }, ikm, 256));
  return { announceMac, pairwiseSalt };
}
