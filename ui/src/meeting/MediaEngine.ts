// The two PeerConnections of a participant: the publisher (our camera and microphone into the SFU,
// simulcast) and the subscriber (everyone else out of the SFU, renegotiated by the service whenever the
// set of feeds changes). Offers are applied strictly in order; a restart closes both and publishes again
// with the same local tracks. Every sender and receiver passes through one TrackPipeline: that is where
// end-to-end encryption will insert its transform.
import { Emitter } from './Emitter.js';
import { preferCodec, SIMULCAST_ENCODINGS } from './simulcast.js';
import {
  availableIncomingKbps,
  summariseInbound,
  summariseOutboundVideo,
  type CandidateStatsEntry,
  type ConnectionPath,
  selectedPath,
  type PublishedLayerStats,
  type ReceiverStats,
  type RemoteParticipantStats,
  type StatsEntry,
} from './stats.js';
import type { ClientMessage, IceCandidateInit, ParticipantId, SubscriberStream } from './protocolImports.js';

/** The hook for per-frame processing of everything we send and receive (E2EE later). */
export interface TrackPipeline {
  attachSender(sender: RTCRtpSender, kind: 'audio' | 'video'): void;
  /** Called again whenever the SFU reuses a receiver for another participant's stream. */
  attachReceiver(receiver: RTCRtpReceiver, kind: 'audio' | 'video', participant: ParticipantId): void;
}

export const passThroughPipeline: TrackPipeline = {
  attachSender() {},
  attachReceiver() {},
};

export interface LocalTracks {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  audioMuted: boolean;
  videoMuted: boolean;
}

export interface RemoteTracks {
  audio?: MediaStreamTrack;
  video?: MediaStreamTrack;
}

export type MediaEngineEvents = {
  /** The remote tracks of every participant, after each subscriber negotiation. */
  remoteTracks: [ReadonlyMap<ParticipantId, RemoteTracks>];
  connectionState: ['publisher' | 'subscriber', RTCPeerConnectionState];
  /** A PeerConnection stayed failed; the caller should reconnect signalling (which restarts media). */
  failed: ['publisher' | 'subscriber'];
  /** Something went wrong that the user may want to know about. */
  problem: [string];
};

export interface MediaEngineOptions {
  send: (message: ClientMessage) => boolean;
  /** Current local tracks and mute state, read on every (re)publish. */
  local: () => LocalTracks;
  pipeline?: TrackPipeline;
  createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
  /** How long a PeerConnection may stay 'failed' before `failed` is emitted. */
  failedGraceMs?: number;
}

type IceServers = RTCIceServer[];

/** Sends a PeerConnection's local candidates once its description has been sent, in order. */
class Trickler {
  #ready = false;
  #pending: (IceCandidateInit | null)[] = [];
  constructor(private readonly flush: (c: IceCandidateInit | null) => void) {}
  add(c: RTCIceCandidate | null): void {
    const init: IceCandidateInit | null = c
      ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }
      : null;
    // Browsers signal the end of a generation with an empty candidate string as well as with null.
    if (init && init.candidate === '') return;
    if (this.#ready) this.flush(init);
    else this.#pending.push(init);
  }
  ready(): void {
    if (this.#ready) return;
    this.#ready = true;
    for (const c of this.#pending.splice(0)) this.flush(c);
  }
}

export class MediaEngine extends Emitter<MediaEngineEvents> {
  readonly #opts: MediaEngineOptions;
  readonly #pipeline: TrackPipeline;
  #iceServers: IceServers = [];
  /** Bumped on every restart; async work of an older generation is dropped. */
  #generation = 0;
  #publisher: RTCPeerConnection | null = null;
  #audioSender: RTCRtpSender | null = null;
  #videoSender: RTCRtpSender | null = null;
  #subscriber: RTCPeerConnection | null = null;
  #subscriberTrickle: Trickler | null = null;
  #subscriberQueue: Promise<void> = Promise.resolve();
  #streams: SubscriberStream[] = [];
  #receiverOwners = new WeakMap<RTCRtpReceiver, ParticipantId>();
  #failTimers = new Map<'publisher' | 'subscriber', ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(opts: MediaEngineOptions) {
    super();
    this.#opts = opts;
    this.#pipeline = opts.pipeline ?? passThroughPipeline;
  }

  /** Publishes from scratch with the given ICE servers (those of the box, from the welcome). */
  async start(iceServers: IceServers): Promise<void> {
    this.#iceServers = iceServers;
    await this.restart();
  }

  /** Closes both PeerConnections and publishes again; the service follows with a fresh subscriberOffer. */
  async restart(): Promise<void> {
    if (this.#closed) return;
    this.#teardown();
    const gen = this.#generation;
    try {
      await this.#publish(gen);
    } catch (err) {
      if (gen !== this.#generation) return;
      console.error('starting the publisher failed', err);
      this.emit('problem', `Could not start sending your camera and microphone: ${describe(err)}`);
    }
  }

  async #publish(gen: number): Promise<void> {
    const pc = this.#createPc('publisher');
    this.#publisher = pc;
    const trickle = new Trickler((candidate) => this.#opts.send({ type: 'trickle', target: 'publisher', candidate }));
    pc.onicecandidate = (ev) => {
      if (gen === this.#generation) trickle.add(ev.candidate);
    };

    const local = this.#opts.local();
    const audio = pc.addTransceiver(local.audio ?? 'audio', { direction: 'sendonly' });
    const video = pc.addTransceiver(local.video && !local.videoMuted ? local.video : 'video', {
      direction: 'sendonly',
      sendEncodings: SIMULCAST_ENCODINGS.map((e) => ({ ...e })),
    });
    this.#setCodecPreference(audio, 'audio', 'audio/opus');
    this.#setCodecPreference(video, 'video', 'video/VP8');
    this.#audioSender = audio.sender;
    this.#videoSender = video.sender;
    this.#pipeline.attachSender(audio.sender, 'audio');
    this.#pipeline.attachSender(video.sender, 'video');

    const offer = await pc.createOffer();
    if (gen !== this.#generation) return;
    await pc.setLocalDescription(offer);
    if (gen !== this.#generation) return;
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
    this.#opts.send({ type: 'publish', sdp, audioMuted: local.audioMuted, videoMuted: local.videoMuted });
    trickle.ready();
  }

  async handlePublisherAnswer(sdp: string): Promise<void> {
    const pc = this.#publisher;
    if (!pc || pc.signalingState !== 'have-local-offer') {
      console.warn('ignoring a publisher answer without a pending offer');
      return;
    }
    const gen = this.#generation;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (err) {
      if (gen !== this.#generation) return;
      console.error('applying the publisher answer failed', err);
      this.emit('problem', `The media server's answer was not accepted: ${describe(err)}`);
    }
  }

  /** Queues a subscriber offer; offers are applied one after another, in arrival order. */
  handleSubscriberOffer(sdp: string, streams: SubscriberStream[]): Promise<void> {
    const gen = this.#generation;
    this.#subscriberQueue = this.#subscriberQueue.then(() => this.#applySubscriberOffer(gen, sdp, streams));
    return this.#subscriberQueue;
  }

  /** Swaps the track we send (e.g. another camera, or null when the camera is off); no renegotiation. */
  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    const sender = kind === 'audio' ? this.#audioSender : this.#videoSender;
    if (!sender) return;
    try {
      await sender.replaceTrack(track);
    } catch (err) {
      console.error(`replacing the ${kind} track failed`, err);
      this.emit('problem', `Could not switch the ${kind === 'audio' ? 'microphone' : 'camera'}: ${describe(err)}`);
    }
  }

  /** Per remote participant: video frames decoded and audio packets received so far. */
  async remoteStats(names: ReadonlyMap<ParticipantId, string>): Promise<Record<ParticipantId, RemoteParticipantStats>> {
    const pc = this.#subscriber;
    const receivers: ReceiverStats[] = [];
    if (pc) {
      const transceivers = pc.getTransceivers();
      await Promise.all(
        this.#streams.map(async (s) => {
          const t = transceivers.find((x) => x.mid === s.mid);
          if (!t) return;
          const report = await t.receiver.getStats();
          receivers.push({ participant: s.participant, kind: s.kind, entries: report.values() as Iterable<StatsEntry> });
        }),
      );
    }
    return summariseInbound(receivers, names);
  }

  /** The simulcast layers we are sending right now. */
  async publishedVideoStats(): Promise<PublishedLayerStats[]> {
    const sender = this.#videoSender;
    if (!sender) return [];
    const report = await sender.getStats();
    return summariseOutboundVideo(report.values() as Iterable<StatsEntry>);
  }

  /** The path our published media takes (direct, or through the box's TURN server by transport). */
  async connectionPath(): Promise<ConnectionPath> {
    const pc = this.#publisher;
    if (!pc) return 'unknown';
    const report = await pc.getStats();
    return selectedPath(report.values() as Iterable<CandidateStatsEntry>);
  }

  /** The browser's estimate of the bandwidth available for receiving, in kbit/s, where it has one. */
  async incomingBandwidthKbps(): Promise<number | undefined> {
    const pc = this.#subscriber;
    if (!pc) return undefined;
    const report = await pc.getStats();
    return availableIncomingKbps(report.values() as Iterable<StatsEntry>);
  }

  /** Closes both PeerConnections for good. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#teardown();
    this.removeAllListeners();
  }

  #teardown(): void {
    this.#generation += 1;
    for (const t of this.#failTimers.values()) clearTimeout(t);
    this.#failTimers.clear();
    for (const pc of [this.#publisher, this.#subscriber]) {
      if (!pc) continue;
      pc.onicecandidate = pc.onconnectionstatechange = pc.ontrack = null;
      pc.close();
    }
    this.#publisher = this.#subscriber = null;
    this.#audioSender = this.#videoSender = null;
    this.#subscriberTrickle = null;
    this.#subscriberQueue = Promise.resolve();
    if (this.#streams.length > 0) {
      this.#streams = [];
      this.emit('remoteTracks', new Map());
    }
  }

  #createPc(role: 'publisher' | 'subscriber'): RTCPeerConnection {
    const config: RTCConfiguration = { iceServers: this.#iceServers, bundlePolicy: 'max-bundle' };
    const pc = this.#opts.createPeerConnection ? this.#opts.createPeerConnection(config) : new RTCPeerConnection(config);
    const gen = this.#generation;
    pc.onconnectionstatechange = () => {
      if (gen !== this.#generation) return;
      const state = pc.connectionState;
      this.emit('connectionState', role, state);
      clearTimeout(this.#failTimers.get(role));
      this.#failTimers.delete(role);
      if (state === 'failed') {
        this.#failTimers.set(
          role,
          setTimeout(() => {
            if (gen === this.#generation && pc.connectionState === 'failed') this.emit('failed', role);
          }, this.#opts.failedGraceMs ?? 2_000),
        );
      }
    };
    return pc;
  }

  #setCodecPreference(t: RTCRtpTransceiver, kind: 'audio' | 'video', mimeType: string): void {
    if (typeof t.setCodecPreferences !== 'function') return;
    // A sendonly transceiver is checked against what the browser can send.
    const caps = (typeof RTCRtpSender.getCapabilities === 'function' ? RTCRtpSender.getCapabilities(kind) : null) ??
      RTCRtpReceiver.getCapabilities(kind);
    const ordered = caps ? preferCodec(caps.codecs, mimeType) : null;
    if (!ordered) {
      console.warn(`this browser cannot send ${mimeType}`);
      return;
    }
    try {
      t.setCodecPreferences(ordered);
    } catch (err) {
      // Older browsers reject sender capabilities here; the SFU's answer still picks the codec.
      console.warn(`setCodecPreferences(${mimeType}) was refused`, err);
    }
  }

  async #applySubscriberOffer(gen: number, sdp: string, streams: SubscriberStream[]): Promise<void> {
    if (gen !== this.#generation || this.#closed) return;
    let pc = this.#subscriber;
    if (!pc) {
      pc = this.#createPc('subscriber');
      this.#subscriber = pc;
      const trickle = new Trickler((candidate) => this.#opts.send({ type: 'trickle', target: 'subscriber', candidate }));
      this.#subscriberTrickle = trickle;
      pc.onicecandidate = (ev) => {
        if (gen === this.#generation) trickle.add(ev.candidate);
      };
    }
    // Receivers get their pipeline as soon as they exist (during setRemoteDescription): Chromium hands a
    // frame transform no frames when it is attached only after negotiation has finished.
    pc.ontrack = (ev) => {
      if (gen !== this.#generation) return;
      const s = streams.find((x) => x.mid === ev.transceiver.mid);
      if (s) this.#attachReceiver(ev.receiver, s);
    };
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      if (gen !== this.#generation) return;
      const answer = await pc.createAnswer();
      if (gen !== this.#generation) return;
      await pc.setLocalDescription(answer);
      if (gen !== this.#generation) return;
      this.#opts.send({ type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
      this.#subscriberTrickle?.ready();
    } catch (err) {
      if (gen !== this.#generation) return;
      console.error('applying a subscriber offer failed', err);
      this.emit('problem', `Could not receive the others' media: ${describe(err)}`);
      return;
    }
    this.#streams = streams;
    this.emit('remoteTracks', this.#collectRemoteTracks(pc));
  }

  #attachReceiver(receiver: RTCRtpReceiver, s: SubscriberStream): void {
    if (this.#receiverOwners.get(receiver) === s.participant) return;
    this.#receiverOwners.set(receiver, s.participant);
    this.#pipeline.attachReceiver(receiver, s.kind, s.participant);
  }

  #collectRemoteTracks(pc: RTCPeerConnection): Map<ParticipantId, RemoteTracks> {
    const byMid = new Map<string, RTCRtpTransceiver>();
    for (const t of pc.getTransceivers()) if (t.mid !== null) byMid.set(t.mid, t);
    const out = new Map<ParticipantId, RemoteTracks>();
    for (const s of this.#streams) {
      const t = byMid.get(s.mid);
      if (!t || t.currentDirection === 'inactive' || t.currentDirection === 'stopped') continue;
      const receiver = t.receiver;
      this.#attachReceiver(receiver, s);
      const entry = out.get(s.participant) ?? {};
      entry[s.kind] = receiver.track;
      out.set(s.participant, entry);
    }
    return out;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
