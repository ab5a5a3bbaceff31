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

/** The raw derived bytes; exported so that tests can look for them in everything a page sends. */
export async function deriveSecretMaterial(secret: string): Promise<{ announceMacKey: Uint8Array<ArrayBuffer>; pairwiseSalt: Uint8Array<ArrayBuffer> }> {
  const ikm = await crypto.subtle.importKey('raw', fromBase64Url(secret), 'HKDF', false, ['deriveBits']);
  const salt = utf8('stube e2ee v1');
  const bits = async (info: string) => new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: utf8(info) }, ikm, 256));
  return { announceMacKey: await bits('announce mac'), pairwiseSalt: await bits('pairwise salt') };
}

export async function deriveSecretKeys(secret: string): Promise<MeetingSecretKeys> {
  const m = await deriveSecretMaterial(secret);
  const announceMac = await crypto.subtle.importKey('raw', m.announceMacKey, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  m.announceMacKey.fill(0);
  return { announceMac, pairwiseSalt: m.pairwiseSalt };
}
