import { describe, expect, it } from 'vitest';
import { CAPACITY_CONSTANTS, estimateCapacity, type CapacityInput } from '../../appliance/setup/capacity.js';

const box: CapacityInput = { cores: 4, hasAes: true, memoryMiB: 8192, uploadMbps: null, downloadMbps: null, meetingSize: 10 };

describe('capacity model', () => {
  // Expected values computed by hand from the constants (see docs/capacity.md):
  // per packet 21 µs × 1.1 = 23.1 µs; budget 4 × 0.8 × 1e6 = 3.2e6 µs/s.
  // video, m=10: 50+230 in + 9×(50+60) out = 1270 pps → 3.2e6/(1270×23.1) = 109.07 → 109
  // audio, m=10: 50 + 9×50 = 500 pps → 3.2e6/(500×23.1) = 277.05 → 277
  it.each<[string, Partial<CapacityInput>, number, string, number, string]>([
    ['4 cores, line unknown', {}, 109, 'cpu', 277, 'cpu'],
    ['no AES: packets cost 1.5×', { hasAes: false }, 72, 'cpu', 184, 'cpu'],
    // upload 50 Mbit/s × 0.8 = 40e6; video per participant up 9 × 548 kbit/s = 4.932e6 → 8.1 → 8
    ['50/250 Mbit/s line', { uploadMbps: 50, downloadMbps: 250 }, 8, 'upload', 92, 'upload'],
    // 1000/1000: upload 800e6/4.932e6 = 162.2; cpu 109 binds
    ['gigabit line', { uploadMbps: 1000, downloadMbps: 1000 }, 109, 'cpu', 277, 'cpu'],
    // 2 GiB: (2048-600)/12 = 120.6 → memory binds audio-only
    ['2 GiB memory', { memoryMiB: 2048 }, 109, 'cpu', 120, 'memory'],
    // meetings of 4: video 280 + 3×110 = 610 pps → 227.1; audio 50+150 = 200 → 692.6 by CPU, but memory
    // (8192-600)/12 = 632.7 binds first
    ['meetings of 4', { meetingSize: 4 }, 227, 'cpu', 632, 'memory'],
    // 1 core: 0.8e6/(1270×23.1) = 27.3
    ['one core', { cores: 1 }, 27, 'cpu', 69, 'cpu'],
    // download 10 Mbit/s × 0.8 = 8e6 / 2.048e6 = 3.9 → 3
    ['slow download', { uploadMbps: 1000, downloadMbps: 10 }, 3, 'download', 166, 'download'],
  ])('%s', (_name, change, video, videoLimit, audio, audioLimit) => {
    const r = estimateCapacity({ ...box, ...change });
    expect(r.video).toEqual({ participants: video, limitedBy: videoLimit });
    expect(r.audioOnly).toEqual({ participants: audio, limitedBy: audioLimit });
  });

  it('says when the line was not part of the estimate', () => {
    expect(estimateCapacity(box).lineUnknown).toBe(true);
    expect(estimateCapacity({ ...box, uploadMbps: 10, downloadMbps: 10 }).lineUnknown).toBe(false);
  });

  it('reports zero rather than a meeting of one', () => {
    const r = estimateCapacity({ ...box, uploadMbps: 1, downloadMbps: 1 });
    expect(r.video.participants).toBe(0);
  });

  it('follows its constants (benchmarks can update them)', () => {
    const faster = estimateCapacity(box, { ...CAPACITY_CONSTANTS, cpuPerPacketUs: 12 });
    expect(faster.video.participants).toBeGreaterThan(estimateCapacity(box).video.participants);
  });

  it('refuses a meeting size below two', () => {
    expect(() => estimateCapacity({ ...box, meetingSize: 1 })).toThrow(RangeError);
  });
});
