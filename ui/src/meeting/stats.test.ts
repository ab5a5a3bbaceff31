import { describe, expect, it } from 'vitest';
import { availableIncomingKbps, summariseInbound, summariseOutboundVideo } from './stats.js';

describe('summariseInbound', () => {
  it('adds up frames and audio packets per participant and names everyone', () => {
    const names = new Map([
      ['a', 'Ada'],
      ['b', 'Bo'],
      ['c', 'Cy'],
    ]);
    const result = summariseInbound(
      [
        { participant: 'a', kind: 'video', entries: [{ type: 'inbound-rtp', kind: 'video', framesDecoded: 40, frameWidth: 320, frameHeight: 180 }, { type: 'codec' }] },
        { participant: 'a', kind: 'audio', entries: [{ type: 'inbound-rtp', kind: 'audio', packetsReceived: 100 }] },
        { participant: 'b', kind: 'audio', entries: [{ type: 'inbound-rtp', kind: 'audio', packetsReceived: 7 }] },
      ],
      names,
    );
    expect(result).toEqual({
      a: { framesDecoded: 40, audioPacketsReceived: 100, name: 'Ada', frameWidth: 320, frameHeight: 180 },
      b: { framesDecoded: 0, audioPacketsReceived: 7, name: 'Bo', frameWidth: 0, frameHeight: 0 },
      c: { framesDecoded: 0, audioPacketsReceived: 0, name: 'Cy', frameWidth: 0, frameHeight: 0 },
    });
  });
});

describe('availableIncomingKbps', () => {
  it('reads the selected pair through the transport', () => {
    expect(
      availableIncomingKbps([
        { type: 'candidate-pair', id: 'p1', availableIncomingBitrate: 100_000 },
        { type: 'candidate-pair', id: 'p2', availableIncomingBitrate: 2_500_000 },
        { type: 'transport', selectedCandidatePairId: 'p2' },
      ]),
    ).toBe(2500);
  });

  it('falls back to a selected or nominated pair, and is undefined when nothing is known', () => {
    expect(availableIncomingKbps([{ type: 'candidate-pair', selected: true, availableIncomingBitrate: 800_000 }])).toBe(800);
    expect(availableIncomingKbps([{ type: 'candidate-pair', nominated: true, state: 'succeeded' }])).toBeUndefined();
    expect(availableIncomingKbps([])).toBeUndefined();
  });
});

describe('summariseOutboundVideo', () => {
  it('lists the video layers by rid and ignores audio', () => {
    expect(
      summariseOutboundVideo([
        { type: 'outbound-rtp', kind: 'audio' },
        { type: 'outbound-rtp', kind: 'video', rid: 'm', frameWidth: 640, frameHeight: 360, framesEncoded: 10 },
        { type: 'outbound-rtp', kind: 'video', rid: 'h', frameWidth: 1280, frameHeight: 720, framesEncoded: 9, qualityLimitationReason: 'cpu' },
      ]),
    ).toEqual([
      { rid: 'h', width: 1280, height: 720, framesEncoded: 9, qualityLimitationReason: 'cpu' },
      { rid: 'm', width: 640, height: 360, framesEncoded: 10, qualityLimitationReason: 'unknown' },
    ]);
  });
});
