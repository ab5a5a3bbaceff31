import { describe, expect, it } from 'vitest';
import { preferCodec, SIMULCAST_ENCODINGS } from './simulcast.js';

describe('simulcast encodings', () => {
  it('has three layers h, m, l at full, half and quarter size with falling bitrates', () => {
    expect(SIMULCAST_ENCODINGS.map((e) => [e.rid, e.scaleResolutionDownBy])).toEqual([
      ['h', 1],
      ['m', 2],
      ['l', 4],
    ]);
    const rates = SIMULCAST_ENCODINGS.map((e) => e.maxBitrate ?? 0);
    expect(rates[0]! > rates[1]! && rates[1]! > rates[2]! && rates[2]! > 0).toBe(true);
  });
});

describe('preferCodec', () => {
  const codecs = [
    { mimeType: 'video/H264', sdpFmtpLine: 'a' },
    { mimeType: 'video/rtx' },
    { mimeType: 'video/VP8' },
    { mimeType: 'video/VP9' },
    { mimeType: 'video/vp8', sdpFmtpLine: 'b' },
  ];

  it('moves every entry of the codec to the front and keeps the rest in order', () => {
    expect(preferCodec(codecs, 'video/VP8')?.map((c) => c.mimeType)).toEqual([
      'video/VP8',
      'video/vp8',
      'video/H264',
      'video/rtx',
      'video/VP9',
    ]);
  });

  it('returns null when the codec is missing', () => {
    expect(preferCodec(codecs, 'video/AV1')).toBeNull();
  });
});
