// The meeting as this browser sees it: who is here, their media, who is talking, and our own state. It
// wires the signalling client, the media engine and the local devices together and emits typed events
// that the components render. No DOM here apart from the remote MediaStreams it hands out.
import type { E2eeSession } from '../e2ee/E2eeSession.js';
import { Emitter } from './Emitter.js';
import { LocalMedia } from './LocalMedia.js';
import { MediaEngine, type RemoteTracks, type TrackPipeline } from './MediaEngine.js';
import { backoffPolicy, type ReconnectPolicy } from './reconnectPolicy.js';
import { SignalClient, type SignalClosed, type SocketLike } from './SignalClient.js';
import type { ConnectionPath, PublishedLayerStats, RemoteParticipantStats } from './stats.js';
import { ViewReporter } from './ViewReporter.js';
import {
  CloseCode,
  type DeniedMessage,
  type Knocker,
  type ModeratorAction,
  type Participant,
  type ParticipantId,
  type ServerMessage,
  type WelcomeMessage,
} from './protocolImports.js';

export type RoomState = 'prejoin' | 'joining' | 'joined' | 'reconnecting' | 'left' | 'kicked' | 'ended';

export interface RoomParticipant {
  info: Participant;
  isSelf: boolean;
  talking: boolean;
  /** What to play in the tile: remote audio + video, or our own camera (video only). */
  stream: MediaStream | null;
  /** A video track is there and the participant's camera is on. */
  showsVideo: boolean;
}

export interface Notice {
  kind: 'info' | 'error';
  text: string;
}

export type RoomEvents = {
  state: [RoomState];
  /** Participants, their media or talking changed: re-render. */
  changed: [];
  notice: [Notice];
  /** Waiting room and moderator messages: rendered by the moderation components (ui/src/moderation/). */
  lobby: [LobbyMessage];
};

export type LobbyMessage = Extract<ServerMessage, { type: 'waiting' | 'knocking' | 'denied' | 'moderated' | 'meetingState' }>;

export interface RoomOptions {
  meetingId: string;
  local: LocalMedia;
  /** ws(s)://host/ws */
  signalUrl: string;
  createSocket?: (url: string) => SocketLike;
  policy?: ReconnectPolicy;
  pipeline?: TrackPipeline;
  /** End-to-end encryption: its pipeline wraps every sender and receiver, and it gets the relayed messages. */
  e2ee?: E2eeSession;
  /** The invite token from the link's fragment, and a room password once asked for. */
  invite?: string;
  password?: string;
}

/** What to tell someone whose meeting ended for a reason other than leaving. */
export interface EndReason {
  title: string;
  text: string;
  /** Whether offering "Join again" makes sense. */
  canRejoin: boolean;
}

const END_REASONS: Record<number, EndReason> = {
  [CloseCode.kicked]: { title: 'You were removed', text: 'A moderator removed you from the meeting.', canRejoin: false },
  [CloseCode.meetingNotFound]: {
    title: 'Meeting not found',
    text: 'This meeting does not exist (any more). Check the link, or start a new meeting.',
    canRejoin: false,
  },
  [CloseCode.meetingFull]: { title: 'The meeting is full', text: 'Try again when someone has left.', canRejoin: true },
  [CloseCode.protocolVersion]: { title: 'This page is out of date', text: 'Reload the page to join.', canRejoin: false },
  [CloseCode.replaced]: { title: 'Joined elsewhere', text: 'You joined this meeting from another tab or device.', canRejoin: true },
  [CloseCode.abuse]: {
    title: 'Disconnected',
    text: 'The connection was closed because this page sent too many bad messages.',
    canRejoin: true,
  },
};

const CONNECTION_LOST: EndReason = {
  title: 'Connection lost',
  text: 'The connection to the meeting was lost and could not be restored.',
  canRejoin: true,
};

const BANDWIDTH_POLL_MS = 3_000;
const MAX_PUBLISH_RETRIES = 5;

export class Room extends Emitter<RoomEvents> {
  readonly meetingId: string;
  readonly local: LocalMedia;
  #state: RoomState = 'prejoin';
  #endReason: EndReason | null = null;
  #self: Participant | null = null;
  readonly #remote = new Map<ParticipantId, Participant>();
  readonly #talking = new Set<ParticipantId>();
  #remoteTracks: ReadonlyMap<ParticipantId, RemoteTracks> = new Map();
  readonly #streams = new Map<ParticipantId, { stream: MediaStream; tracks: MediaStreamTrack[] }>();
  #selfStream: { stream: MediaStream; track: MediaStreamTrack } | null = null;
  readonly #opts: RoomOptions;
  #signal: SignalClient | null = null;
  #engine: MediaEngine | null = null;
  readonly #view: ViewReporter;
  #bandwidthTimer: ReturnType<typeof setInterval> | undefined;
  #publishRetries = 0;
  /** Waiting room: set while we wait to be let in. */
  #waiting: { moderatorPresent: boolean } | null = null;
  #knockers: Knocker[] = [];
  #locked = false;
  #denied: DeniedMessage | null = null;
  #publishRetryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #unsubscribeLocal: (() => void)[] = [];

  constructor(opts: RoomOptions) {
    super();
    this.#opts = opts;
    this.meetingId = opts.meetingId;
    this.local = opts.local;
    this.#view = new ViewReporter({ send: (r) => this.#signal?.send({ type: 'view', ...r }) });
    this.#unsubscribeLocal.push(
      opts.local.on('changed', () => this.emit('changed')),
      opts.local.on('track', (kind, track) => {
        void this.#engine?.replaceTrack(kind, track);
        this.#sendMediaState();
        this.emit('changed');
      }),
    );
  }

  get state(): RoomState {
    return this.#state;
  }

  /** Why the meeting ended for us (state 'kicked' or 'ended'). */
  get endReason(): EndReason | null {
    return this.#endReason;
  }

  get self(): Participant | null {
    return this.#self;
  }

  /** The meeting's end-to-end encryption, when on (always, in the app). */
  get e2ee(): E2eeSession | null {
    return this.#opts.e2ee ?? null;
  }

  /** While waiting to be let in: whether a moderator is there. Null once in (or before asking). */
  get waiting(): { moderatorPresent: boolean } | null {
    return this.#waiting;
  }

  /** For moderators: who is knocking, in order of arrival. */
  get knockers(): readonly Knocker[] {
    return this.#knockers;
  }

  get locked(): boolean {
    return this.#locked;
  }

  /** Why the service did not let us in (or ended the meeting), when it said so. */
  get denial(): DeniedMessage | null {
    return this.#denied;
  }

  /** A moderator action; the service checks our role and refuses it otherwise. */
  moderate(action: ModeratorAction, participant?: ParticipantId, block?: boolean): void {
    this.#signal?.send({ type: 'moderate', action, ...(participant ? { participant } : {}), ...(block ? { block } : {}) });
  }

  get isModerator(): boolean {
    return this.#self?.role === 'moderator';
  }

  /** Self first, then the others in the order they joined. */
  participants(): RoomParticipant[] {
    const out: RoomParticipant[] = [];
    if (this.#self) {
      const video = this.local.cameraOff ? null : this.local.video;
      out.push({
        info: { ...this.#self, audioMuted: this.#localAudioMuted(), videoMuted: this.#localVideoMuted() },
        isSelf: true,
        talking: this.#talking.has(this.#self.id),
        stream: this.#selfStreamFor(video),
        showsVideo: video !== null,
      });
    }
    for (const info of this.#remote.values()) {
      const stream = this.#streams.get(info.id)?.stream ?? null;
      const hasVideo = this.#remoteTracks.get(info.id)?.video !== undefined;
      out.push({ info, isSelf: false, talking: this.#talking.has(info.id), stream, showsVideo: hasVideo && !info.videoMuted });
    }
    return out;
  }

  join(name: string): void {
    if (this.#state !== 'prejoin') return;
    this.#setState('joining');
    const signal = new SignalClient({
      url: this.#opts.signalUrl,
      meeting: this.meetingId,
      name,
      ...(this.#opts.invite ? { invite: this.#opts.invite } : {}),
      ...(this.#opts.password ? { password: this.#opts.password } : {}),
      policy: this.#opts.policy ?? backoffPolicy(),
      createSocket: this.#opts.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
    });
    this.#signal = signal;
    const e2ee = this.#opts.e2ee;
    e2ee?.connect((m) => signal.send(m));
    const pcConfig = e2ee?.peerConnectionConfig ?? {};
    const engine = new MediaEngine({
      send: (m) => signal.send(m),
      local: () => ({
        audio: this.local.audio,
        video: this.local.cameraOff ? null : this.local.video,
        audioMuted: this.#localAudioMuted(),
        videoMuted: this.#localVideoMuted(),
      }),
      ...(this.#opts.pipeline ? { pipeline: this.#opts.pipeline } : {}),
      ...(e2ee ? { pipeline: e2ee.pipeline } : {}),
      ...(Object.keys(pcConfig).length > 0 ? { createPeerConnection: (c: RTCConfiguration) => new RTCPeerConnection({ ...c, ...pcConfig }) } : {}),
    });
    this.#engine = engine;
    engine.on('remoteTracks', (tracks) => {
      this.#remoteTracks = tracks;
      this.#rebuildStreams();
      this.emit('changed');
    });
    engine.on('problem', (text) => this.emit('notice', { kind: 'error', text }));
    engine.on('failed', (role) => {
      console.warn(`the ${role} connection failed; reconnecting`);
      signal.reconnect();
    });
    signal.on('welcome', (w, { resumed }) => this.#onWelcome(w, resumed));
    signal.on('message', (m) => this.#onMessage(m));
    signal.on('reconnecting', ({ attempt }) => {
      this.#view.pause();
      clearTimeout(this.#publishRetryTimer);
      if (attempt === 1) console.warn('signalling connection lost; reconnecting');
      this.#setState('reconnecting');
    });
    signal.on('closed', (c) => this.#onClosed(c));
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('pagehide', this.#onPageHide);
    signal.connect();
  }

  /** Leaves the meeting and releases camera and microphone. */
  leave(): void {
    if (this.#state === 'left' || this.#state === 'kicked' || this.#state === 'ended') return;
    if (this.#signal && this.#signal.state !== 'closed') {
      this.#signal.send({ type: 'leave' });
      this.#signal.close();
    } else {
      this.#finish('left', null);
    }
  }

  kick(participant: ParticipantId): void {
    this.#signal?.send({ type: 'kick', participant });
  }

  toggleMic(): void {
    this.local.setMicMuted(!this.local.micMuted);
    this.#sendMediaState();
  }

  async toggleCamera(): Promise<void> {
    await this.local.setCameraOff(!this.local.cameraOff);
    this.#sendMediaState();
  }

  /** A tile's rendered size in device pixels (0 × 0 when hidden); the service picks layers from it. */
  setTile(participant: ParticipantId, width: number, height: number): void {
    if (participant === this.#self?.id) return;
    this.#view.setTile(participant, width, height);
  }

  removeTile(participant: ParticipantId): void {
    this.#view.removeTile(participant);
  }

  async remoteStats(): Promise<Record<ParticipantId, RemoteParticipantStats>> {
    const names = new Map([...this.#remote.values()].map((p) => [p.id, p.name] as const));
    return this.#engine ? this.#engine.remoteStats(names) : {};
  }

  async publishedVideoStats(): Promise<PublishedLayerStats[]> {
    return this.#engine ? this.#engine.publishedVideoStats() : [];
  }

  async connectionPath(): Promise<ConnectionPath> {
    return this.#engine ? this.#engine.connectionPath() : 'unknown';
  }

  // ---- internals ----

  #setState(state: RoomState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
    this.emit('changed');
  }

  #localAudioMuted(): boolean {
    return this.local.micMuted || this.local.audio === null;
  }

  #localVideoMuted(): boolean {
    return this.local.cameraOff || this.local.video === null;
  }

  #sendMediaState(): void {
    if (this.#state !== 'joined') return;
    this.#signal?.send({ type: 'media', audioMuted: this.#localAudioMuted(), videoMuted: this.#localVideoMuted() });
  }

  #onWelcome(w: WelcomeMessage, resumed: boolean): void {
    this.#waiting = null;
    this.#self = w.you;
    this.#remote.clear();
    this.#talking.clear();
    for (const p of w.participants) if (p.id !== w.you.id) this.#remote.set(p.id, p);
    this.#publishRetries = 0;
    if (resumed) this.emit('notice', { kind: 'info', text: 'Reconnected.' });
    this.#setState('joined');
    // Keys first: the others must be able to decrypt our first frames.
    this.#opts.e2ee?.joined(w.you.id);
    void this.#engine?.start(w.iceServers);
    this.#view.resume();
    clearInterval(this.#bandwidthTimer);
    this.#bandwidthTimer = setInterval(() => this.#pollBandwidth(), BANDWIDTH_POLL_MS);
    this.emit('changed');
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'publisherAnswer':
        this.#publishRetries = 0;
        void this.#engine?.handlePublisherAnswer(m.sdp);
        return;
      case 'subscriberOffer':
        void this.#engine?.handleSubscriberOffer(m.sdp, m.streams);
        return;
      case 'participantJoined':
      case 'participantUpdated':
        if (m.participant.id === this.#self?.id) this.#self = m.participant;
        else this.#remote.set(m.participant.id, m.participant);
        this.emit('changed');
        return;
      case 'participantLeft': {
        const who = this.#remote.get(m.participant);
        this.#remote.delete(m.participant);
        this.#talking.delete(m.participant);
        this.#view.removeTile(m.participant);
        this.#opts.e2ee?.participantLeft(m.participant);
        if (who && m.reason === 'kicked') this.emit('notice', { kind: 'info', text: `${who.name} was removed from the meeting.` });
        this.emit('changed');
        return;
      }
      case 'talking':
        if (m.talking) this.#talking.add(m.participant);
        else this.#talking.delete(m.participant);
        this.emit('changed');
        return;
      case 'mediaRestart':
        void this.#engine?.restart();
        return;
      case 'error':
        console.warn(`service reported ${m.code}${m.about ? ` about ${m.about}` : ''}: ${m.message}`);
        if (m.about === 'publish' && m.code === 'media-failed') this.#retryPublish();
        else this.emit('notice', { kind: 'error', text: m.message });
        return;
      case 'e2ee':
      case 'chat':
        this.#opts.e2ee?.receive(m);
        return;
      case 'waiting':
        this.#waiting = { moderatorPresent: m.moderatorPresent };
        this.emit('lobby', m);
        this.emit('changed');
        return;
      case 'knocking':
        this.#knockers = m.knockers;
        this.emit('lobby', m);
        this.emit('changed');
        return;
      case 'denied':
        this.#denied = m;
        this.emit('lobby', m);
        return;
      case 'moderated':
        if (m.action === 'mute' && !this.local.micMuted) this.toggleMic();
        this.emit('notice', {
          kind: 'info',
          text: m.action === 'mute' ? 'A moderator muted you.' : m.action === 'stopVideo' ? 'A moderator stopped your video.' : 'You are now a moderator.',
        });
        this.emit('lobby', m);
        return;
      case 'meetingState':
        this.#locked = m.locked;
        this.emit('lobby', m);
        this.emit('changed');
        return;
      case 'notice':
        this.emit('notice', { kind: 'info', text: m.message });
        return;
      case 'welcome':
      case 'pong':
        return; // handled by the signal client
      default: {
        const unknown: never = m;
        console.warn('ignoring an unknown message', unknown);
      }
    }
  }

  #retryPublish(): void {
    if (this.#publishRetries >= MAX_PUBLISH_RETRIES) {
      this.emit('notice', { kind: 'error', text: 'The media server is not available; others cannot see or hear you.' });
      return;
    }
    this.#publishRetries += 1;
    clearTimeout(this.#publishRetryTimer);
    this.#publishRetryTimer = setTimeout(() => void this.#engine?.restart(), 1_000 * this.#publishRetries);
  }

  #pollBandwidth(): void {
    this.#engine?.incomingBandwidthKbps().then(
      (kbps) => this.#view.setBandwidth(kbps),
      (err: unknown) => console.warn('reading the incoming bandwidth failed', err),
    );
  }

  #rebuildStreams(): void {
    for (const id of [...this.#streams.keys()]) if (!this.#remoteTracks.has(id)) this.#streams.delete(id);
    for (const [id, t] of this.#remoteTracks) {
      const tracks = [t.audio, t.video].filter((x): x is MediaStreamTrack => x !== undefined);
      const known = this.#streams.get(id);
      if (known && known.tracks.length === tracks.length && known.tracks.every((x, i) => x === tracks[i])) continue;
      this.#streams.set(id, { stream: new MediaStream(tracks), tracks });
    }
  }

  #selfStreamFor(track: MediaStreamTrack | null): MediaStream | null {
    if (!track) return null;
    if (this.#selfStream?.track !== track) this.#selfStream = { stream: new MediaStream([track]), track };
    return this.#selfStream.stream;
  }

  #onClosed(c: SignalClosed): void {
    if (c.byUs) this.#finish('left', null);
    else if (this.#denied && (c.code === CloseCode.denied || c.code === CloseCode.ended || c.code === CloseCode.kicked)) {
      const canRejoin = c.code === CloseCode.denied && this.#denied.reason.startsWith('password');
      const title = c.code === CloseCode.ended ? 'The meeting has ended' : c.code === CloseCode.kicked ? 'You were removed' : 'You were not let in';
      this.#finish(c.code === CloseCode.kicked ? 'kicked' : 'ended', { title, text: this.#denied.message, canRejoin });
    } else if (c.code === CloseCode.kicked) this.#finish('kicked', END_REASONS[c.code] ?? null);
    else this.#finish('ended', END_REASONS[c.code] ?? CONNECTION_LOST);
  }

  #finish(state: 'left' | 'kicked' | 'ended', reason: EndReason | null): void {
    this.#endReason = reason;
    clearInterval(this.#bandwidthTimer);
    clearTimeout(this.#publishRetryTimer);
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('pagehide', this.#onPageHide);
    this.#view.pause();
    this.#engine?.close();
    this.#engine = null;
    this.#opts.e2ee?.close();
    this.#remote.clear();
    this.#talking.clear();
    this.#remoteTracks = new Map();
    this.#streams.clear();
    for (const off of this.#unsubscribeLocal.splice(0)) off();
    this.local.stop();
    this.#setState(state);
  }

  #onOnline = (): void => this.#signal?.retryNow();

  #onPageHide = (): void => this.leave();
}
