// RFC 9605 test vectors (Appendix C: header encoding, and SFrame encryption with cipher suite 0x0004),
// plus the properties the meeting relies on: counters never repeat, tampering is rejected, and a
// newcomer who only gets the ratcheted key cannot decrypt earlier frames.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { decryptFrame, encryptFrame } from './frameCrypto.js';
import { newSenderKey, ratchet } from './keySchedule.js';
import {
  decodeHeader,
  deriveRawKeySalt,
  deriveSFrameKey,
  encodeHeader,
  keyLabel,
  nonceFor,
  saltLabel,
  sframeDecrypt,
  sframeEncrypt,
  SFrameAuthError,
  SFrameSender,
} from './sframe.js';

// RFC 9605 Appendix C.1 (a selection of the header vectors).
const HEADERS: [number, number, string][] = [
  [0x0, 0x0, '00'],
  [0x0, 0x1, '01'],
  [0x0, 0xff, '08ff'],
  [0x0, 0x100, '090100'],
  [0x0, 0xffffff, '0affffff'],
  [0x0, 0xffffffff, '0bffffffff'],
  [0x1, 0x0, '10'],
  [0x1, 0xff, '18ff'],
  [0x1, 0x100, '190100'],
  [0xff, 0x0, '80ff'],
  [0xff, 0xff, '88ffff'],
  [0x100, 0x0, '900100'],
  [0xffff, 0xffffff, '9affffffffff'],
  [0x123, 0x4567, '9901234567'],
];

// RFC 9605 Appendix C.4, cipher suite 0x0004 (AES_128_GCM_SHA256_128).
const V = {
  kid: 0x123,
  ctr: 0x4567,
  baseKey: '000102030405060708090a0b0c0d0e0f',
  keyLabel: '534672616d6520312e3020536563726574206b65792000000000000001230004',
  saltLabel: '534672616d6520312e30205365637265742073616c742000000000000001230004',
  key: 'd34f547f4ca4f9a7447006fe7fcbf768',
  salt: '75234edefe07819026751816',
  metadata: '4945544620534672616d65205747',
  nonce: '75234edefe07819026755d71',
  pt: '64726166742d696574662d736672616d652d656e63',
  ct: '9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0b091c07018ce4adb34eb',
};

describe('SFrame header (RFC 9605 C.1)', () => {
  it.each(HEADERS)('KID %i, CTR %i encodes as %s and decodes back', (kid, ctr, hex) => {
    expect(toHex(encodeHeader(kid, ctr))).toBe(hex);
    const h = decodeHeader(fromHex(hex + 'abcdef'));
    expect(h).toEqual({ kid, ctr, length: hex.length / 2 });
  });

  it('refuses truncated headers', () => {
    expect(() => decodeHeader(fromHex('99012345'))).toThrow(/truncated/);
    expect(() => decodeHeader(new Uint8Array(0))).toThrow();
  });
});

describe('SFrame encryption (RFC 9605 C.4, suite 0x0004)', () => {
  it('derives the labels, key, salt and nonce of the vector', async () => {
    expect(toHex(keyLabel(V.kid))).toBe(V.keyLabel);
    expect(toHex(saltLabel(V.kid))).toBe(V.saltLabel);
    const raw = await deriveRawKeySalt(fromHex(V.baseKey), V.kid);
    expect(toHex(raw.key)).toBe(V.key);
    expect(toHex(raw.salt)).toBe(V.salt);
    expect(toHex(nonceFor(raw.salt, V.ctr))).toBe(V.nonce);
  });

  it('encrypts the plaintext to the vector ciphertext and decrypts it back', async () => {
    const k = await deriveSFrameKey(fromHex(V.baseKey), V.kid);
    const ct = await sframeEncrypt(k, V.ctr, fromHex(V.metadata), fromHex(V.pt));
    expect(toHex(ct)).toBe(V.ct);
    const out = await sframeDecrypt((kid) => (kid === V.kid ? k : undefined), fromHex(V.metadata), fromHex(V.ct));
    expect(toHex(out.plaintext)).toBe(V.pt);
    expect(out.ctr).toBe(V.ctr);
  });
});

async function sender(): Promise<{ s: SFrameSender; lookup: (kid: number) => Awaited<ReturnType<typeof deriveSFrameKey>> | undefined }> {
  const sk = newSenderKey();
  const k = await deriveSFrameKey(sk.key, sk.kid);
  const s = new SFrameSender();
  s.setKey(k);
  return { s, lookup: (kid) => (kid === k.kid ? k : undefined) };
}

function vp8Frame(keyframe: boolean, size: number): Uint8Array<ArrayBuffer> {
  const f = crypto.getRandomValues(new Uint8Array(size));
  f[0] = keyframe ? f[0]! & 0xfe : f[0]! | 0x01;
  return f;
}

describe('frame encryption', () => {
  it('never repeats a counter, also for frames encrypted concurrently', async () => {
    const { s } = await sender();
    const frames = await Promise.all(Array.from({ length: 500 }, (_, i) => encryptFrame(s, i % 3 === 0 ? 'audio' : 'video', vp8Frame(i % 50 === 0, 200))));
    const seen = new Set<number>();
    for (let i = 0; i < frames.length; i++) {
      const kind = i % 3 === 0 ? 'audio' : 'video';
      const clear = kind === 'audio' ? 1 : (frames[i]![0]! & 1) === 0 ? 10 : 3;
      const { ctr } = decodeHeader(frames[i]!.subarray(clear));
      expect(seen.has(ctr)).toBe(false);
      seen.add(ctr);
    }
    expect(seen.size).toBe(500);
    expect(s.nextCounter).toBe(500);
  });

  it('a new key must come with a new KID', async () => {
    const sk = newSenderKey();
    const s = new SFrameSender();
    s.setKey(await deriveSFrameKey(sk.key, sk.kid));
    await expect(deriveSFrameKey(sk.key, sk.kid).then((k) => s.setKey(k))).rejects.toThrow(/new KID/);
  });

  it('keeps the VP8 header and the Opus TOC byte in clear and decrypts the frame back', async () => {
    const { s, lookup } = await sender();
    for (const [kind, frame] of [
      ['video', vp8Frame(true, 1000)],
      ['video', vp8Frame(false, 300)],
      ['audio', crypto.getRandomValues(new Uint8Array(80))],
    ] as const) {
      const enc = await encryptFrame(s, kind, frame);
      const clear = kind === 'audio' ? 1 : (frame[0]! & 1) === 0 ? 10 : 3;
      expect(toHex(enc.subarray(0, clear))).toBe(toHex(frame.subarray(0, clear)));
      // The rest is not the plaintext (it is SFrame header + ciphertext + 16-byte tag).
      expect(enc.length).toBeGreaterThanOrEqual(frame.length + 16 + 1);
      expect(toHex(enc.subarray(clear))).not.toContain(toHex(frame.subarray(clear, clear + 16)));
      const dec = await decryptFrame(lookup, kind, enc);
      expect(toHex(dec.frame)).toBe(toHex(frame));
    }
  });

  it('rejects a frame whose clear header, SFrame header, ciphertext or tag was changed', async () => {
    const { s, lookup } = await sender();
    const frame = vp8Frame(true, 400);
    const enc = await encryptFrame(s, 'video', frame);
    await expect(decryptFrame(lookup, 'video', enc)).resolves.toBeTruthy();
    for (const at of [4, 9, 11, 12, 50, enc.length - 1]) {
      const bad = enc.slice();
      bad[at]! ^= 0x20;
      await expect(decryptFrame(lookup, 'video', bad), `byte ${at} flipped`).rejects.toBeInstanceOf(SFrameAuthError);
    }
    await expect(decryptFrame(lookup, 'video', enc.slice(0, enc.length - 3))).rejects.toBeInstanceOf(SFrameAuthError);
    await expect(decryptFrame(() => undefined, 'video', enc)).rejects.toThrow(/unknown KID/);
  });
});

describe('key schedule', () => {
  it('a newcomer who receives the ratcheted key cannot decrypt frames sent before it joined', async () => {
    const before = newSenderKey();
    const oldKey = await deriveSFrameKey(before.key, before.kid);
    const s = new SFrameSender();
    s.setKey(oldKey);
    const earlier = await encryptFrame(s, 'video', vp8Frame(true, 300));

    const after = await ratchet(before);
    expect(after.kid).not.toBe(before.kid);
    expect(toHex(after.key)).not.toBe(toHex(before.key));
    const newKey = await deriveSFrameKey(after.key, after.kid);
    s.setKey(newKey);
    const later = await encryptFrame(s, 'video', vp8Frame(true, 300));

    // The newcomer knows only `after`: later frames decrypt, earlier ones do not — not even when it
    // tries its key under the old KID.
    const newcomer = (kid: number) => (kid === after.kid ? newKey : undefined);
    await expect(decryptFrame(newcomer, 'video', later)).resolves.toBeTruthy();
    await expect(decryptFrame(newcomer, 'video', earlier)).rejects.toBeInstanceOf(SFrameAuthError);
    const misuse = await deriveSFrameKey(after.key, before.kid);
    await expect(decryptFrame(() => misuse, 'video', earlier)).rejects.toBeInstanceOf(SFrameAuthError);
    // Those who were there keep both keys for a moment and decrypt both.
    const member = (kid: number) => (kid === before.kid ? oldKey : kid === after.kid ? newKey : undefined);
    await expect(decryptFrame(member, 'video', earlier)).resolves.toBeTruthy();
  });

  it('ratcheting is deterministic in the key and one-way', async () => {
    const k = newSenderKey();
    const a = await ratchet(k);
    const b = await ratchet(k);
    expect(toHex(a.key)).toBe(toHex(b.key));
    expect(toHex(a.key)).not.toBe(toHex(k.key));
  });
});
