// What of an encoded frame stays readable for the SFU, and the per-frame encrypt/decrypt built on it.
// VP8: the 3-byte frame tag of every frame, plus the start code and dimensions of a keyframe (10 bytes
// in all), so that Janus can detect keyframes and the receiving depacketiser can size its decoder.
// Opus: the TOC byte. Those bytes are SFrame metadata, i.e. authenticated but not encrypted.
import { concat } from './bytes.js';
import { sframeDecrypt, type SFrameKey, type SFrameSender } from './sframe.js';

export type MediaKind = 'audio' | 'video';

export function clearByteCount(kind: MediaKind, data: Uint8Array): number {
  if (data.length === 0) return 0;
  // VP8 frame tag: bit 0 of the first byte is 0 for a keyframe.
  const n = kind === 'video' ? ((data[0]! & 0x01) === 0 ? 10 : 3) : 1;
  return Math.min(n, data.length);
}

export async function encryptFrame(sender: SFrameSender, kind: MediaKind, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const n = clearByteCount(kind, data);
  const clear = data.slice(0, n);
  const sealed = await sender.encrypt(clear, data.slice(n));
  return concat(clear, sealed);
}

/** Throws SFrameAuthError when the frame does not authenticate under any known key. */
export async function decryptFrame(
  lookup: (kid: number) => SFrameKey | undefined,
  kind: MediaKind,
  data: Uint8Array,
): Promise<{ kid: number; frame: Uint8Array<ArrayBuffer> }> {
  const n = clearByteCount(kind, data);
  const clear = data.subarray(0, n);
  const { kid, plaintext } = await sframeDecrypt(lookup, clear, data.subarray(n));
  return { kid, frame: concat(clear, plaintext) };
}
