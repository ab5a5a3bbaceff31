// The media engine against a scripted stand-in for RTCPeerConnection: what it sends, in which order,
// and that a restart drops everything of the previous generation.
import { describe, expect, it, vi } from 'vitest';
import { MediaEngine, type TrackPipeline } from './MediaEngine.js';
import type { ClientMessage } from './protocolImports.js';

type Deferred = { resolve: () => void; promise: Promise<void> };
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { resolve, promise };
}

class FakeTransceiver {
  mid: string | null = null;
  currentDirection: string | null = 'recvonly';
  sender = { replaceTrack: vi.fn(async () => undefined), getStats: async () => new Map() };
  receiver: { track: { id: string }; getStats: () => Promise<Map<string, unknown>> };
  constructor(
    readonly kind: string,
    readonly init: unknown,
    trackId: string,
  ) {
    this.receiver = { track: { id: trackId }, getStats: async () => new Map() };
  }
}

class FakePc {
  static all: FakePc[] = [];
  /** Given to the next PeerConnection created. */
  static nextGate: Deferred | null = null;
  transceivers: FakeTransceiver[] = [];
  signalingState = 'stable';
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescriptions: string[] = [];
  closed = false;
  /** Lets a test hold setRemoteDescription until it says so. */
  gate: Deferred | null = null;
  onicecandidate: ((ev: { candidate: unknown }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  ontrack: unknown = null;
  constructor(readonly config: RTCConfiguration) {
    FakePc.all.push(this);
    this.gate = FakePc.nextGate;
    FakePc.nextGate = null;
  }
  addTransceiver(trackOrKind: unknown, init: unknown): FakeTransceiver {
    const kind = typeof trackOrKind === 'string' ? trackOrKind : 'track';
    const t = new FakeTransceiver(kind, init, `local-${this.transceivers.length}`);
    this.transceivers.push(t);
    return t;
  }
  getTransceivers(): FakeTransceiver[] {
    return this.transceivers;
  }
  async createOffer() {
    return { type: 'offer', sdp: `offer-${this.transceivers.length}` };
  }
  async createAnswer() {
    return { type: 'answer', sdp: `answer-to-${this.remoteDescriptions.at(-1)}` };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    if (this.gate) await this.gate.promise;
    this.remoteDescriptions.push(d.sdp);
    if (d.type === 'offer') {
      // An offer with "mids:0,1" creates receivers for those mids.
      for (const mid of /mids:([\d,]+)/.exec(d.sdp)?.[1]?.split(',') ?? []) {
        if (!this.transceivers.some((t) => t.mid === mid)) {
          const t = new FakeTransceiver('remote', {}, `remote-${mid}`);
          t.mid = mid;
          this.transceivers.push(t);
        }
      }
      this.signalingState = 'have-remote-offer';
    } else {
      this.signalingState = 'stable';
    }
  }
  close() {
    this.closed = true;
  }
}

function setup(pipeline?: TrackPipeline) {
  FakePc.all = [];
  const sent: ClientMessage[] = [];
  const engine = new MediaEngine({
    send: (m) => {
      sent.push(m);
      return true;
    },
    local: () => ({ audio: null, video: null, audioMuted: true, videoMuted: true }),
    createPeerConnection: (config) => new FakePc(config) as unknown as RTCPeerConnection,
    ...(pipeline ? { pipeline } : {}),
  });
  return { engine, sent };
}

describe('MediaEngine', () => {
  it('publishes audio and three simulcast layers with the box ICE servers only', async () => {
    const { engine, sent } = setup();
    await engine.start([{ urls: ['turn:box.example:443'] }]);
    const pc = FakePc.all[0]!;
    expect(pc.config.iceServers).toEqual([{ urls: ['turn:box.example:443'] }]);
    expect(pc.transceivers.map((t) => t.kind)).toEqual(['audio', 'video']);
    const enc = (pc.transceivers[1]!.init as { sendEncodings: RTCRtpEncodingParameters[] }).sendEncodings;
    expect(enc.map((e) => e.rid)).toEqual(['h', 'm', 'l']);
    expect(sent).toEqual([{ type: 'publish', sdp: 'offer-2', audioMuted: true, videoMuted: true }]);
  });

  it('sends local candidates only after the offer, and ends with null', async () => {
    const { engine, sent } = setup();
    const starting = engine.start([]);
    const pc = FakePc.all[0]!;
    pc.onicecandidate?.({ candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
    await starting;
    pc.onicecandidate?.({ candidate: null });
    expect(sent.map((m) => m.type)).toEqual(['publish', 'trickle', 'trickle']);
    expect(sent[1]).toMatchObject({ target: 'publisher', candidate: { sdpMid: '0' } });
    expect(sent[2]).toEqual({ type: 'trickle', target: 'publisher', candidate: null });
  });

  it('applies subscriber offers strictly in order and maps tracks to participants by mid', async () => {
    const attached: string[] = [];
    const { engine, sent } = setup({
      attachSender: () => undefined,
      attachReceiver: (_r, kind, participant) => attached.push(`${participant}:${kind}`),
    });
    await engine.start([]);
    const seen: string[][] = [];
    engine.on('remoteTracks', (m) => seen.push([...m].map(([p, t]) => `${p}:${t.audio?.id ?? '-'}/${t.video?.id ?? '-'}`)));

    const gate = deferred();
    FakePc.nextGate = gate;
    const first = engine.handleSubscriberOffer('sub1 mids:0,1', [
      { mid: '0', participant: 'ada', kind: 'audio' },
      { mid: '1', participant: 'ada', kind: 'video' },
    ]);
    // The first offer is now waiting inside setRemoteDescription; the second must wait for it.
    const second = engine.handleSubscriberOffer('sub2 mids:0,1,2', [
      { mid: '0', participant: 'ada', kind: 'audio' },
      { mid: '1', participant: 'ada', kind: 'video' },
      { mid: '2', participant: 'bo', kind: 'audio' },
    ]);
    await new Promise((r) => setTimeout(r, 0));
    const sub = FakePc.all[1]!;
    expect(sub.remoteDescriptions).toEqual([]);
    gate.resolve();
    await Promise.all([first, second]);
    expect(sub.remoteDescriptions).toEqual(['sub1 mids:0,1', 'sub2 mids:0,1,2']);
    expect(sent.filter((m) => m.type === 'answer')).toEqual([
      { type: 'answer', sdp: 'answer-to-sub1 mids:0,1' },
      { type: 'answer', sdp: 'answer-to-sub2 mids:0,1,2' },
    ]);
    expect(seen.at(-1)).toEqual(['ada:remote-0/remote-1', 'bo:remote-2/-']);
    expect(attached).toEqual(['ada:audio', 'ada:video', 'bo:audio']);
  });

  it('restart closes both connections, publishes again and ignores offers queued before it', async () => {
    const { engine, sent } = setup();
    await engine.start([]);
    await engine.handleSubscriberOffer('sub1 mids:0', [{ mid: '0', participant: 'ada', kind: 'audio' }]);
    const [pub1, sub1] = FakePc.all;
    sub1!.gate = deferred();
    const stale = engine.handleSubscriberOffer('sub2 mids:0,1', [{ mid: '1', participant: 'bo', kind: 'audio' }]);
    await engine.restart();
    sub1!.gate.resolve();
    await stale;
    expect(pub1!.closed && sub1!.closed).toBe(true);
    expect(sent.filter((m) => m.type === 'publish')).toHaveLength(2);
    expect(sent.filter((m) => m.type === 'answer')).toHaveLength(1);
    // A fresh subscriber PeerConnection for the next offer.
    await engine.handleSubscriberOffer('sub3 mids:0', [{ mid: '0', participant: 'ada', kind: 'audio' }]);
    expect(FakePc.all).toHaveLength(4);
    expect(FakePc.all[3]!.remoteDescriptions).toEqual(['sub3 mids:0']);
  });

  it('ignores a publisher answer when no offer is pending', async () => {
    const { engine } = setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await engine.handlePublisherAnswer('late');
    await engine.start([]);
    await engine.handlePublisherAnswer('answer');
    await engine.handlePublisherAnswer('duplicate');
    expect(FakePc.all[0]!.remoteDescriptions).toEqual(['answer']);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });
});
