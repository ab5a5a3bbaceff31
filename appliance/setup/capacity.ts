// The capacity model: how many participants one box can serve, from its cores and the line's speeds.
// docs/capacity.md explains every constant and the measurement it comes from; change them here only
// together with that file.

export const CAPACITY_CONSTANTS = {
  /** Janus CPU time per forwarded packet, µs. Janus 1.1.2, event_loops=2, development machines:
   *  12–21 µs measured; we plan with the upper end. */
  cpuPerPacketUs: 21,
  /** Share of the CPU the model may plan for: the benchmark's knee is "CPU < 80 %". */
  cpuBudget: 0.8,
  /** The service's own work (signalling, E2EE key relay) on top of Janus, as a share of Janus's. */
  serviceOverhead: 0.1,
  /** Without AES instructions SRTP costs more; an estimate (not yet measured), applied to the packet cost. */
  noAesFactor: 1.5,
  /** Opus, 20 ms frames: packets per second per audio stream, and bit/s on the wire with headers. */
  audioPps: 50,
  audioBps: 48_000,
  /** One publisher's simulcast (three VP8 layers, 1280×720 camera): packets/s and bit/s into the box. */
  videoInPps: 230,
  videoInBps: 2_000_000,
  /** One forwarded video stream to a subscriber (middle layer, a gallery tile): packets/s and bit/s. */
  videoOutPps: 60,
  videoOutBps: 500_000,
  /** Share of the line the model may plan for (other traffic, TCP/TURN overhead, bursts). */
  lineBudget: 0.8,
  /** Memory per participant, MiB: service RSS 68.8 MiB and Janus 26.6 MiB with 4 participants
   *  (docs/benchmarks.md), rounded up generously; plus a fixed base for the system. */
  memPerParticipantMiB: 12,
  memBaseMiB: 600,
} as const;

export type CapacityConstants = { -readonly [K in keyof typeof CAPACITY_CONSTANTS]: number };

export interface CapacityInput {
  cores: number;
  hasAes: boolean;
  memoryMiB: number;
  /** The line's speeds in Mbit/s (measured by the outside check or typed in); null: unknown. */
  uploadMbps: number | null;
  downloadMbps: number | null;
  /** Largest meeting the estimate is for (everyone sees everyone). */
  meetingSize: number;
}

export type Limit = 'cpu' | 'upload' | 'download' | 'memory';

export interface CapacityFigure {
  participants: number;
  limitedBy: Limit;
}

export interface CapacityEstimate {
  video: CapacityFigure;
  audioOnly: CapacityFigure;
  meetingSize: number;
  /** True when the line's speeds were not known: the figures are the box's, not the line's. */
  lineUnknown: boolean;
}

interface PerParticipant {
  pps: number;
  upBps: number;
  downBps: number;
}

/** Load one participant adds in a meeting of `m` where everybody publishes and sees everybody. */
function perParticipant(m: number, video: boolean, k: CapacityConstants): PerParticipant {
  const others = Math.max(0, m - 1);
  const inPps = k.audioPps + (video ? k.videoInPps : 0);
  const outPps = others * (k.audioPps + (video ? k.videoOutPps : 0));
  return {
    pps: inPps + outPps,
    downBps: k.audioBps + (video ? k.videoInBps : 0),
    upBps: others * (k.audioBps + (video ? k.videoOutBps : 0)),
  };
}

function figure(input: CapacityInput, video: boolean, k: CapacityConstants): CapacityFigure {
  const p = perParticipant(input.meetingSize, video, k);
  const packetUs = k.cpuPerPacketUs * (input.hasAes ? 1 : k.noAesFactor) * (1 + k.serviceOverhead);
  const limits: [Limit, number][] = [
    ['cpu', (input.cores * k.cpuBudget * 1e6) / (p.pps * packetUs)],
    ['memory', Math.max(0, input.memoryMiB - k.memBaseMiB) / k.memPerParticipantMiB],
  ];
  if (input.uploadMbps !== null && p.upBps > 0) limits.push(['upload', (input.uploadMbps * 1e6 * k.lineBudget) / p.upBps]);
  if (input.downloadMbps !== null) limits.push(['download', (input.downloadMbps * 1e6 * k.lineBudget) / p.downBps]);
  let best: [Limit, number] = limits[0] ?? ['cpu', 0];
  for (const l of limits) if (l[1] < best[1]) best = l;
  // A meeting smaller than its size limit still needs at least two people to be a meeting.
  const n = Math.floor(best[1]);
  return { participants: n < 2 ? 0 : n, limitedBy: best[0] };
}

export function estimateCapacity(input: CapacityInput, constants: CapacityConstants = { ...CAPACITY_CONSTANTS }): CapacityEstimate {
  if (!(input.meetingSize >= 2)) throw new RangeError('meetingSize must be at least 2');
  return {
    video: figure(input, true, constants),
    audioOnly: figure(input, false, constants),
    meetingSize: input.meetingSize,
    lineUnknown: input.uploadMbps === null || input.downloadMbps === null,
  };
}
