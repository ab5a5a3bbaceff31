// SFrame (RFC 9605) with cipher suite AES_128_GCM_SHA256_128 (0x0004): AES-128-GCM with the full
// 128-bit tag, keys and salts derived with HKDF-SHA256 from a base key and the KID. Pure WebCrypto, so
// the same code runs in the transform worker, on the main thread (chat) and in Node (unit tests).
//
// Ciphertext = header || AEAD(key, nonce = salt XOR CTR, aad = header || metadata, plaintext).
// The caller passes the bytes that must stay readable (VP8 header, Opus TOC) as metadata; they travel
// in clear in front of the SFrame ciphertext and are authenticated through the AAD.
import { concat, uintBytes, utf8 } from './bytes.js';

export const CIPHER_SUITE = 0x0004;
const NK = 16;
const NN = 12;
const NT = 16;
/** KIDs and counters are JavaScript numbers: 53 bits are plenty and avoid BigInt in the hot path. */
const MAX_VALUE = Number.MAX_SAFE_INTEGER;

export interface SFrameHeader {
  kid: number;
  ctr: number;
  /** Length of the encoded header in bytes. */
  length: number;
}

function minimalLength(v: number): number {
  let n = 1;
  while (v >= 256 ** n) n++;
  return n;
}

/** Encodes the header in its shortest form (values below 8 go into the config byte). */
export function encodeHeader(kid: number, ctr: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(kid) || kid < 0 || !Number.isSafeInteger(ctr) || ctr < 0) throw new RangeError('KID and CTR must be safe non-negative integers');
  const parts: Uint8Array[] = [];
  let config = 0;
  if (kid < 8) config |= kid << 4;
  else {
    const n = minimalLength(kid);
    config |= 0x80 | ((n - 1) << 4);
    parts.push(uintBytes(kid, n));
  }
  if (ctr < 8) config |= ctr;
  else {
    const n = minimalLength(ctr);
    config |= 0x08 | (n - 1);
    parts.push(uintBytes(ctr, n));
  }
  return concat(new Uint8Array([config]), ...parts);
}

function readUint(bytes: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    v = v * 256 + bytes[at + i]!;
    if (v > MAX_VALUE) throw new RangeError('value too large');
  }
  return v;
}

/** Parses a header at the start of `bytes`; throws on truncated or oversized values. */
export function decodeHeader(bytes: Uint8Array): SFrameHeader {
  if (bytes.length < 1) throw new RangeError('empty SFrame header');
  const config = bytes[0]!;
  let at = 1;
  let kid = (config >> 4) & 0x07;
  if (config & 0x80) {
    const n = kid + 1;
    if (bytes.length < at + n) throw new RangeError('truncated KID');
    kid = readUint(bytes, at, n);
    at += n;
  }
  let ctr = config & 0x07;
  if (config & 0x08) {
    const n = ctr + 1;
    if (bytes.length < at + n) throw new RangeError('truncated CTR');
    ctr = readUint(bytes, at, n);
    at += n;
  }
  return { kid, ctr, length: at };
}

export interface SFrameKey {
  kid: number;
  key: CryptoKey;
  salt: Uint8Array<ArrayBuffer>;
}

function labelFor(prefix: string, kid: number): Uint8Array<ArrayBuffer> {
  return concat(utf8(prefix), uintBytes(kid, 8), uintBytes(CIPHER_SUITE, 2));
}

export function keyLabel(kid: number): Uint8Array<ArrayBuffer> {
  return labelFor('SFrame 1.0 Secret key ', kid);
}

export function saltLabel(kid: number): Uint8Array<ArrayBuffer> {
  return labelFor('SFrame 1.0 Secret salt ', kid);
}

/** RFC 9605 §4.4.2: sframe_secret = HKDF-Extract("", base_key); key and salt expanded with labels. */
export async function deriveRawKeySalt(baseKey: Uint8Array<ArrayBuffer>, kid: number): Promise<{ key: Uint8Array<ArrayBuffer>; salt: Uint8Array<ArrayBuffer> }> {
  const ikm = await crypto.subtle.importKey('raw', baseKey, 'HKDF', false, ['deriveBits']);
  const expand = async (info: Uint8Array<ArrayBuffer>, n: number): Promise<Uint8Array<ArrayBuffer>> =>
    new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info }, ikm, n * 8));
  const [key, salt] = await Promise.all([expand(keyLabel(kid), NK), expand(saltLabel(kid), NN)]);
  return { key, salt };
}

export async function deriveSFrameKey(baseKey: Uint8Array<ArrayBuffer>, kid: number): Promise<SFrameKey> {
  const raw = await deriveRawKeySalt(baseKey, kid);
  const key = await crypto.subtle.importKey('raw', raw.key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  raw.key.fill(0);
  return { kid, key, salt: raw.salt };
}

export function nonceFor(salt: Uint8Array, ctr: number): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(salt);
  const c = uintBytes(ctr, NN);
  for (let i = 0; i < NN; i++) nonce[i]! ^= c[i]!;
  return nonce;
}

/** Encrypts one frame with an explicit counter. Callers must never reuse a counter with a key. */
export async function sframeEncrypt(k: SFrameKey, ctr: number, metadata: Uint8Array, plaintext: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const header = encodeHeader(k.kid, ctr);
  const aad = concat(header, metadata);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonceFor(k.salt, ctr), additionalData: aad, tagLength: NT * 8 }, k.key, plaintext),
  );
  return concat(header, ct);
}

export class SFrameAuthError extends Error {
  override readonly name = 'SFrameAuthError';
}

/** Decrypts an SFrame ciphertext with the key its header names; `lookup` returns undefined for unknown KIDs. */
export async function sframeDecrypt(
  lookup: (kid: number) => SFrameKey | undefined,
  metadata: Uint8Array,
  ciphertext: Uint8Array,
): Promise<{ kid: number; ctr: number; plaintext: Uint8Array<ArrayBuffer> }> {
  let header: SFrameHeader;
  try {
    header = decodeHeader(ciphertext);
  } catch (err) {
    throw new SFrameAuthError(`bad SFrame header: ${(err as Error).message}`);
  }
  if (ciphertext.length < header.length + NT) throw new SFrameAuthError('SFrame ciphertext too short');
  const k = lookup(header.kid);
  if (!k) throw new SFrameAuthError('unknown KID');
  const headerBytes = ciphertext.subarray(0, header.length);
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: nonceFor(k.salt, header.ctr), additionalData: concat(headerBytes, metadata), tagLength: NT * 8 },
      k.key,
      ciphertext.slice(header.length),
    );
    return { kid: header.kid, ctr: header.ctr, plaintext: new Uint8Array(pt) };
  } catch {
    throw new SFrameAuthError('authentication failed');
  }
}

/**
 * One sender's encryption state: the current key and a counter that only ever goes up. A new key gets
 * a new KID, and a (key, KID) pair is never used with the same counter twice.
 */
export class SFrameSender {
  #key: SFrameKey | null = null;
  #ctr = 0;

  setKey(key: SFrameKey): void {
    if (this.#key && this.#key.kid === key.kid) throw new Error('a new sender key needs a new KID');
    this.#key = key;
    this.#ctr = 0;
  }

  get kid(): number | null {
    return this.#key?.kid ?? null;
  }

  /** The counter the next frame will use (for tests and stats). */
  get nextCounter(): number {
    return this.#ctr;
  }

  async encrypt(metadata: Uint8Array, plaintext: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    const k = this.#key;
    if (!k) throw new Error('no sender key yet');
    if (this.#ctr >= MAX_VALUE) throw new Error('counter exhausted; a new key is needed');
    // Taken before the await: frames encrypted concurrently still get distinct counters.
    const ctr = this.#ctr++;
    return sframeEncrypt(k, ctr, metadata, plaintext);
  }
}
