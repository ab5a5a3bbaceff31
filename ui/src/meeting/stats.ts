// Reading WebRTC statistics: what arrives from each remote participant, and how much bandwidth the
// browser thinks it has for receiving. Pure functions over stats entries, so both are unit-tested.

/** The fields we read from RTCStats entries (browsers add many more). */
export interface StatsEntry {
  type: string;
  id?: string;
  kind?: string;
  framesDecoded?: number;
  packetsReceived?: number;
  bytesReceived?: number;
  state?: string;
  nominated?: boolean;
  selected?: boolean;
  selectedCandidatePairId?: string;
  availableIncomingBitrate?: number;
  rid?: string;
  frameWidth?: number;
  frameHeight?: number;
  framesEncoded?: number;
  qualityLimitationReason?: string;
}

/** One simulcast layer we send, as the browser reports it. */
export interface PublishedLayerStats {
  rid: string;
  width: number;
  height: number;
  framesEncoded: number;
  qualityLimitationReason: string;
}

/** The video layers of the publisher's outbound-rtp stats, sorted by rid. */
export function summariseOutboundVideo(entries: Iterable<StatsEntry>): PublishedLayerStats[] {
  const out: PublishedLayerStats[] = [];
  for (const e of entries) {
    if (e.type !== 'outbound-rtp' || e.kind !== 'video') continue;
    out.push({
      rid: e.rid ?? '',
      width: e.frameWidth ?? 0,
      height: e.frameHeight ?? 0,
      framesEncoded: e.framesEncoded ?? 0,
      qualityLimitationReason: e.qualityLimitationReason ?? 'unknown',
    });
  }
  return out.sort((a, b) => (a.rid < b.rid ? -1 : a.rid > b.rid ? 1 : 0));
}

export interface ReceiverStats {
  participant: string;
  kind: 'audio' | 'video';
  entries: Iterable<StatsEntry>;
}

export interface RemoteParticipantStats {
  framesDecoded: number;
  audioPacketsReceived: number;
  name: string;
  /** Size of the latest decoded video frame (0 before the first): shows which simulcast layer arrives. */
  frameWidth: number;
  frameHeight: number;
}

/** Sums inbound-rtp counters per participant; every participant in `names` appears, with zeros if need be. */
export function summariseInbound(
  receivers: Iterable<ReceiverStats>,
  names: ReadonlyMap<string, string>,
): Record<string, RemoteParticipantStats> {
  const out: Record<string, RemoteParticipantStats> = {};
  for (const [id, name] of names) out[id] = { framesDecoded: 0, audioPacketsReceived: 0, name, frameWidth: 0, frameHeight: 0 };
  for (const r of receivers) {
    const row = (out[r.participant] ??= { framesDecoded: 0, audioPacketsReceived: 0, name: names.get(r.participant) ?? '', frameWidth: 0, frameHeight: 0 });
    for (const e of r.entries) {
      if (e.type !== 'inbound-rtp') continue;
      if (r.kind === 'video') {
        row.framesDecoded += e.framesDecoded ?? 0;
        if (e.frameWidth) row.frameWidth = e.frameWidth;
        if (e.frameHeight) row.frameHeight = e.frameHeight;
      } else row.audioPacketsReceived += e.packetsReceived ?? 0;
    }
  }
  return out;
}

/** The available incoming bitrate of the selected candidate pair in kbit/s, when the browser reports one. */
export function availableIncomingKbps(entries: Iterable<StatsEntry>): number | undefined {
  const all = [...entries];
  const selectedIds = new Set(all.filter((e) => e.type === 'transport' && e.selectedCandidatePairId).map((e) => e.selectedCandidatePairId));
  const pair =
    all.find((e) => e.type === 'candidate-pair' && e.id !== undefined && selectedIds.has(e.id)) ??
    all.find((e) => e.type === 'candidate-pair' && (e.selected === true || (e.nominated === true && e.state === 'succeeded')));
  const bps = pair?.availableIncomingBitrate;
  return typeof bps === 'number' && bps > 0 ? bps / 1000 : undefined;
}

/** The path media takes: straight to the box over UDP, or through the box's TURN server by transport. */
export type ConnectionPath = 'direct-udp' | 'direct-tcp' | 'turn-udp' | 'turn-tcp' | 'turn-tls' | 'unknown';

/** The fields of candidate stats we read. */
export interface CandidateStatsEntry extends StatsEntry {
  localCandidateId?: string;
  candidateType?: string;
  protocol?: string;
  relayProtocol?: string;
}

/** Which path the selected candidate pair uses, from its local candidate. Pure, unit-tested. */
export function selectedPath(entries: Iterable<CandidateStatsEntry>): ConnectionPath {
  const all = [...entries];
  const selectedIds = new Set(all.filter((e) => e.type === 'transport' && e.selectedCandidatePairId).map((e) => e.selectedCandidatePairId));
  const pair =
    all.find((e) => e.type === 'candidate-pair' && e.id !== undefined && selectedIds.has(e.id)) ??
    all.find((e) => e.type === 'candidate-pair' && (e.selected === true || (e.nominated === true && e.state === 'succeeded')));
  if (!pair?.localCandidateId) return 'unknown';
  const local = all.find((e) => e.type === 'local-candidate' && e.id === pair.localCandidateId);
  if (!local) return 'unknown';
  if (local.candidateType === 'relay') {
    const p = local.relayProtocol;
    return p === 'udp' ? 'turn-udp' : p === 'tcp' ? 'turn-tcp' : p === 'tls' ? 'turn-tls' : 'unknown';
  }
  return local.protocol === 'tcp' ? 'direct-tcp' : local.protocol === 'udp' ? 'direct-udp' : 'unknown';
}
