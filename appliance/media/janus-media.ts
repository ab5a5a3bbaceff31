// The Janus VideoRoom implementation of MediaBackend, driven with janode over the API unix socket.
//
// Traps this module exists to handle (checked against Janus's and janode's sources):
// - janode retries only its first connect. After a lost connection we rebuild connection, session and
//   admin handle ourselves, recreate every room from our own list and emit `restored`, so the meeting
//   layer can ask every browser to publish again.
// - Janus never adapts simulcast to a subscriber's bandwidth: the meeting layer picks substreams and we
//   `configure` them. With multistream `streams`, `fallback` sits inside each stream object and is in
//   microseconds (janode's sc_* options are ignored there).
// - Subscribers are joined with autoupdate off and updated one offer/answer at a time, so Janus never
//   sends an offer the browser did not ask for while another is in flight.
// - `kick` alone is not enforcement: we also detach the participant's subscriber handle (and the
//   meeting layer refuses their rejoin).
// - Rooms get a random secret and are created with the admin key; recording options never come from
//   clients.
import { EventEmitter } from 'node:events';
import { randomBytes, randomInt } from 'node:crypto';
import Janode, { type JanodeConnection, type JanodeSession } from 'janode';
import VideoRoomPlugin, { type JanusStream, type VideoRoomHandle } from 'janode/plugins/videoroom';
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import {
  MediaError,
  type IceCandidate,
  type LayerChoice,
  type MediaBackend,
  type MediaEvents,
  type PeerKey,
  type RoomKey,
  type SubscriberOffer,
  type SubscriberStreamInfo,
} from './types.js';

export interface JanusMediaOptions {
  socketPath: string;
  apiSecret: string;
  adminKey: string;
  log: Logger;
  /** How long a subscriber update waits for the browser's answer before the next one goes ahead. */
  answerTimeoutMs?: number;
}

interface RoomState {
  janusId: number;
  secret: string;
  maxPublishers: number;
}

interface PeerState {
  room: RoomKey;
  publisher: VideoRoomHandle | null;
  feed: number | null;
  /** The publisher's m-line mids by kind, from its offer: what a moderator's mute addresses. */
  mids: { audio: string[]; video: string[] };
  subscriber: VideoRoomHandle | null;
  /** Streams of the current subscription, as Janus last described them. */
  streams: JanusStream[];
  /** Chosen substream by subscriber mid, so unchanged choices are not sent again. */
  substreams: Map<string, number>;
  /** Serialises subscriber renegotiations for this peer. */
  queue: Promise<unknown>;
  /** The sources last asked for: a queued renegotiation uses these, not the ones of its own request. */
  wanted: readonly PeerKey[];
  /** Resolves when the browser answered the offer in flight (or gave up). */
  answered: (() => void) | null;
  answeredPromise: Promise<void>;
}

/** Fallback to a lower substream when the chosen one stops arriving: 0.5 s, in microseconds. */
const SUBSTREAM_FALLBACK_US = 500_000;

type JanodeErr = Error & { _code?: number };

export class JanusMedia extends EventEmitter<MediaEvents> implements MediaBackend {
  readonly #opts: Required<JanusMediaOptions>;
  readonly #log: Logger;
  #connection: JanodeConnection | null = null;
  #session: JanodeSession | null = null;
  #admin: VideoRoomHandle | null = null;
  #rooms = new Map<RoomKey, RoomState>();
  #peers = new Map<PeerKey, PeerState>();
  #feedToPeer = new Map<number, PeerKey>();
  #ready = false;
  #closed = false;
  #reconnecting = false;
  /** Bumped on every (re)connection so that late results of an old connection are dropped. */
  #generation = 0;

  private constructor(opts: JanusMediaOptions) {
    super();
    this.#opts = { answerTimeoutMs: 15_000, ...opts };
    this.#log = opts.log;
    Janode.Logger.setLevel('none');
  }

  /** Connects (retrying until `deadlineMs` passes) and returns a ready backend. */
  static async create(opts: JanusMediaOptions, deadlineMs = 30_000): Promise<JanusMedia> {
    const media = new JanusMedia(opts);
    const until = Date.now() + deadlineMs;
    for (;;) {
      try {
        await media.#connect();
        return media;
      } catch (err) {
        if (Date.now() > until) throw new MediaError('could not connect to Janus', 'unavailable', { cause: err });
        await delay(250);
      }
    }
  }

  get ready(): boolean {
    return this.#ready;
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const connection = await Janode.connect({
      address: { url: `ws+unix://${this.#opts.socketPath}:/`, apisecret: this.#opts.apiSecret },
      retry_time_secs: 1,
      max_retries: 0,
    });
    let session: JanodeSession;
    let admin: VideoRoomHandle;
    try {
      session = await connection.create(15);
      admin = await session.attach(VideoRoomPlugin);
    } catch (err) {
      await connection.close().catch((e: unknown) => this.#log.debug('closing a half-open connection failed', { err: describeError(e) }));
      throw err;
    }
    const onLost = (): void => {
      if (generation === this.#generation) this.#lost();
    };
    connection.once(Janode.EVENT.CONNECTION_CLOSED, onLost);
    connection.once(Janode.EVENT.CONNECTION_ERROR, onLost);
    session.once(Janode.EVENT.SESSION_DESTROYED, onLost);
    this.#connection = connection;
    this.#session = session;
    this.#admin = admin;
    // Rooms existed before a restart: recreate them with the same numbers and secrets.
    for (const room of this.#rooms.values()) await this.#createJanusRoom(room);
    this.#ready = true;
    this.#log.info('connected to Janus', { rooms: this.#rooms.size });
  }

  #lost(): void {
    if (this.#closed || this.#reconnecting) return;
    this.#ready = false;
    this.#reconnecting = true;
    this.#generation++;
    this.#connection = null;
    this.#session = null;
    this.#admin = null;
    for (const peer of this.#peers.values()) peer.answered?.();
    this.#peers.clear();
    this.#feedToPeer.clear();
    this.#log.warn('lost the connection to Janus; reconnecting', { rooms: this.#rooms.size });
    this.emit('lost');
    void this.#reconnectLoop();
  }

  async #reconnectLoop(): Promise<void> {
    let wait = 100;
    while (!this.#closed) {
      try {
        await this.#connect();
        this.#reconnecting = false;
        this.emit('restored');
        return;
      } catch (err) {
        this.#log.debug('Janus not reachable yet', { err: describeError(err) });
        await delay(wait);
        wait = Math.min(wait * 2, 500);
      }
    }
  }

  #requireReady(): { session: JanodeSession; admin: VideoRoomHandle; generation: number } {
    if (!this.#ready || !this.#session || !this.#admin) throw new MediaError('the media server is not available', 'unavailable');
    return { session: this.#session, admin: this.#admin, generation: this.#generation };
  }

  #room(key: RoomKey): RoomState {
    const room = this.#rooms.get(key);
    if (!room) throw new MediaError('no such room', 'not-found');
    return room;
  }

  async #createJanusRoom(room: RoomState): Promise<void> {
    const admin = this.#admin;
    if (!admin) throw new MediaError('the media server is not available', 'unavailable');
    await admin.create({
      room: room.janusId,
      secret: room.secret,
      admin_key: this.#opts.adminKey,
      is_private: true,
      permanent: false,
      max_publishers: room.maxPublishers,
      audiocodec: 'opus',
      videocodec: 'vp8',
      talking_events: true,
      talking_level_threshold: 55,
      talking_packets_threshold: 50,
      notify_joining: false,
      record: false,
      fir_freq: 10,
    });
  }

  async createRoom(key: RoomKey, opts: { maxPublishers: number }): Promise<void> {
    if (this.#rooms.has(key)) return;
    const room: RoomState = { janusId: randomInt(1, 2 ** 47), secret: randomBytes(24).toString('base64url'), maxPublishers: opts.maxPublishers };
    this.#rooms.set(key, room);
    if (!this.#ready) return; // created when Janus is back
    try {
      await this.#createJanusRoom(room);
    } catch (err) {
      this.#rooms.delete(key);
      throw new MediaError('the media server refused to create a room', 'rejected', { cause: err });
    }
  }

  async destroyRoom(key: RoomKey): Promise<void> {
    const room = this.#rooms.get(key);
    if (!room) return;
    this.#rooms.delete(key);
    for (const [peerKey, peer] of this.#peers) if (peer.room === key) await this.leave(peerKey);
    if (!this.#ready || !this.#admin) return;
    await this.#admin.destroy({ room: room.janusId, secret: room.secret }).catch((err: unknown) => {
      this.#log.warn('destroying a Janus room failed', { err: describeError(err) });
    });
  }

  #peer(key: PeerKey, room: RoomKey): PeerState {
    let peer = this.#peers.get(key);
    if (!peer) {
      peer = { room, publisher: null, feed: null, mids: { audio: [], video: [] }, subscriber: null, streams: [], substreams: new Map(), queue: Promise.resolve(), wanted: [],
        answered: null, answeredPromise: Promise.resolve() };
      this.#peers.set(key, peer);
    }
    return peer;
  }

  async publish(roomKey: RoomKey, peerKey: PeerKey, offerSdp: string): Promise<string> {
    const { session, generation } = this.#requireReady();
    const room = this.#room(roomKey);
    const peer = this.#peer(peerKey, roomKey);
    if (peer.publisher) await this.#detachPublisher(peer);
    const handle = await session.attach(VideoRoomPlugin);
    const feed = randomInt(1, 2 ** 47);
    peer.publisher = handle;
    peer.feed = feed;
    peer.mids = publisherMids(offerSdp);
    this.#feedToPeer.set(feed, peerKey);
    handle.on(VideoRoomPlugin.EVENT.VIDEOROOM_TALKING ?? 'videoroom_talking', (evt: { talking?: boolean }) => {
      if (generation === this.#generation) this.emit('talking', roomKey, peerKey, evt.talking === true);
    });
    const failed = (): void => {
      if (generation === this.#generation && peer.publisher === handle) this.emit('peerFailed', roomKey, peerKey, 'publisher');
    };
    handle.once(Janode.EVENT.HANDLE_ICE_FAILED, failed);
    // Our own detach clears peer.publisher first, so only a hangup Janus decided on gets through.
    handle.once(Janode.EVENT.HANDLE_HANGUP, () => {
      if (generation === this.#generation && peer.publisher === handle) this.emit('publisherDown', roomKey, peerKey);
    });
    handle.once(Janode.EVENT.HANDLE_WEBRTCUP, () => {
      if (generation === this.#generation && peer.publisher === handle) this.emit('publisherUp', roomKey, peerKey);
    });
    try {
      const res = await handle.joinConfigurePublisher({
        room: room.janusId,
        feed,
        audio: true,
        video: true,
        // Every publisher is end-to-end encrypted (SFrame in the browsers): Janus must not expect to
        // read the payload beyond the clear VP8/Opus header bytes.
        e2ee: true,
        jsep: { type: 'offer', sdp: offerSdp },
      });
      if (!res.jsep || res.jsep.type !== 'answer') throw new MediaError('Janus gave no answer', 'rejected');
      return res.jsep.sdp;
    } catch (err) {
      await this.#detachPublisher(peer);
      throw toMediaError(err, 'the media server refused the offer');
    }
  }

  subscribe(roomKey: RoomKey, peerKey: PeerKey, sources: readonly PeerKey[]): Promise<SubscriberOffer | null> {
    const peer = this.#peer(peerKey, roomKey);
    peer.wanted = sources;
    // Requests that pile up while an offer waits for its answer (everyone republishing after a media
    // server restart) become one renegotiation: the first to run takes the latest sources, the
    // others then find nothing left to change.
    const task = peer.queue.then(async () => {
      await peer.answeredPromise;
      return this.#updateSubscription(roomKey, peerKey, peer, peer.wanted);
    });
    peer.queue = task.catch(() => undefined);
    return task;
  }

  async #updateSubscription(roomKey: RoomKey, peerKey: PeerKey, peer: PeerState, sources: readonly PeerKey[]): Promise<SubscriberOffer | null> {
    const { session, generation } = this.#requireReady();
    if (this.#peers.get(peerKey) !== peer) return null; // left meanwhile
    const room = this.#room(roomKey);
    const wanted = new Set<number>();
    for (const source of sources) {
      const feed = source === peerKey ? null : this.#peers.get(source)?.feed;
      if (feed) wanted.add(feed);
    }
    const current = new Set(peer.streams.filter((s) => s.active !== false && typeof s.feed_id === 'number').map((s) => s.feed_id as number));
    const add = [...wanted].filter((f) => !current.has(f));
    const removeMids = peer.streams.filter((s) => s.active !== false && typeof s.feed_id === 'number' && !wanted.has(s.feed_id)).map((s) => s.mid);
    if (add.length === 0 && removeMids.length === 0) return null;

    let result: { jsep?: { type: string; sdp: string }; streams?: JanusStream[] };
    try {
      if (!peer.subscriber) {
        if (add.length === 0) return null;
        const handle = await session.attach(VideoRoomPlugin);
        peer.subscriber = handle;
        handle.once(Janode.EVENT.HANDLE_ICE_FAILED, () => {
          if (generation === this.#generation && peer.subscriber === handle) this.emit('peerFailed', roomKey, peerKey, 'subscriber');
        });
        result = await handle.joinSubscriber({ room: room.janusId, streams: add.map((feed) => ({ feed })), autoupdate: false, use_msid: false });
      } else {
        // Janus refuses an empty list ("Empty unsubscription list"): send only the non-empty ones.
        const change: { subscribe?: Record<string, unknown>[]; unsubscribe?: Record<string, unknown>[] } = {};
        if (add.length > 0) change.subscribe = add.map((feed) => ({ feed }));
        if (removeMids.length > 0) change.unsubscribe = removeMids.map((mid) => ({ sub_mid: mid }));
        result = (await peer.subscriber.update(change)) as typeof result;
      }
    } catch (err) {
      throw toMediaError(err, 'the media server refused the subscription');
    }
    if (!result.jsep || result.jsep.type !== 'offer') {
      // Janus answers an update that changes nothing visible without a new offer.
      this.#log.debug('subscription changed without an offer', { keys: Object.keys(result).join(','), added: add.length });
      if (result.streams) peer.streams = result.streams;
      return null;
    }
    peer.streams = result.streams ?? [];
    peer.substreams.clear();
    this.#log.debug('subscriber offer', { streams: peer.streams.length, added: add.length, removed: removeMids.length, ...sdpShape(result.jsep.sdp) });
    peer.answeredPromise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#log.debug('no subscriber answer in time; going on');
        resolve();
      }, this.#opts.answerTimeoutMs);
      peer.answered = () => {
        clearTimeout(timer);
        peer.answered = null;
        resolve();
      };
    });
    return { sdp: result.jsep.sdp, streams: this.#describeStreams(peer.streams) };
  }

  #describeStreams(streams: readonly JanusStream[]): SubscriberStreamInfo[] {
    const out: SubscriberStreamInfo[] = [];
    for (const s of streams) {
      if (s.active === false || typeof s.feed_id !== 'number' || (s.type !== 'audio' && s.type !== 'video')) continue;
      const from = this.#feedToPeer.get(s.feed_id);
      if (from) out.push({ mid: s.mid, from, kind: s.type });
    }
    return out;
  }

  async startSubscriber(peerKey: PeerKey, answerSdp: string): Promise<void> {
    this.#requireReady();
    const peer = this.#peers.get(peerKey);
    if (!peer?.subscriber || !peer.answered) throw new MediaError('no subscriber offer is waiting for an answer', 'bad-state');
    const answered = peer.answered;
    this.#log.debug('subscriber answer', sdpShape(answerSdp));
    try {
      await peer.subscriber.start({ jsep: { type: 'answer', sdp: answerSdp } });
    } catch (err) {
      throw toMediaError(err, 'the media server refused the answer');
    } finally {
      answered();
    }
  }

  async trickle(peerKey: PeerKey, target: 'publisher' | 'subscriber', candidate: IceCandidate | null): Promise<void> {
    this.#requireReady();
    const peer = this.#peers.get(peerKey);
    const handle = target === 'publisher' ? peer?.publisher : peer?.subscriber;
    if (!handle) throw new MediaError(`no ${target} connection to add candidates to`, 'bad-state');
    try {
      if (candidate) await handle.trickle(candidate);
      else await handle.trickleComplete();
    } catch (err) {
      throw toMediaError(err, 'the media server refused a candidate');
    }
  }

  async setLayers(peerKey: PeerKey, choices: readonly LayerChoice[]): Promise<void> {
    this.#requireReady();
    const peer = this.#peers.get(peerKey);
    if (!peer?.subscriber) return;
    const byPeer = new Map(choices.map((c) => [c.from, c.substream]));
    const streams: { mid: string; substream: number; fallback: number }[] = [];
    for (const s of peer.streams) {
      if (s.type !== 'video' || s.active === false || typeof s.feed_id !== 'number') continue;
      const from = this.#feedToPeer.get(s.feed_id);
      const substream = from === undefined ? undefined : byPeer.get(from);
      if (substream === undefined || peer.substreams.get(s.mid) === substream) continue;
      streams.push({ mid: s.mid, substream, fallback: SUBSTREAM_FALLBACK_US });
    }
    if (streams.length === 0) return;
    try {
      await peer.subscriber.configure({ streams });
      for (const s of streams) peer.substreams.set(s.mid, s.substream);
    } catch (err) {
      throw toMediaError(err, 'the media server refused a layer change');
    }
  }

  async #detachPublisher(peer: PeerState): Promise<void> {
    const handle = peer.publisher;
    if (peer.feed !== null) this.#feedToPeer.delete(peer.feed);
    peer.publisher = null;
    peer.feed = null;
    if (handle) await handle.detach().catch((err: unknown) => this.#log.debug('detaching a publisher failed', { err: describeError(err) }));
  }

  async leave(peerKey: PeerKey): Promise<void> {
    const peer = this.#peers.get(peerKey);
    if (!peer) return;
    this.#peers.delete(peerKey);
    peer.answered?.();
    await this.#detachPublisher(peer);
    const sub = peer.subscriber;
    peer.subscriber = null;
    if (sub) await sub.detach().catch((err: unknown) => this.#log.debug('detaching a subscriber failed', { err: describeError(err) }));
  }

  async kick(roomKey: RoomKey, peerKey: PeerKey): Promise<void> {
    const peer = this.#peers.get(peerKey);
    const room = this.#rooms.get(roomKey);
    if (peer?.feed && room && this.#ready && this.#admin) {
      await this.#admin.kick({ room: room.janusId, feed: peer.feed, secret: room.secret }).catch((err: unknown) => {
        this.#log.debug('Janus kick failed; detaching anyway', { err: describeError(err) });
      });
    }
    await this.leave(peerKey);
  }

  async setForwarding(roomKey: RoomKey, peerKey: PeerKey, change: { audio?: boolean; video?: boolean }): Promise<void> {
    const peer = this.#peers.get(peerKey);
    const room = this.#rooms.get(roomKey);
    // Nothing published yet: the meeting layer applies the state again once this peer publishes.
    if (!peer?.feed || !room) return;
    const admin = this.#admin;
    if (!this.#ready || !admin) throw new MediaError('the media server is not available', 'unavailable');
    for (const kind of ['audio', 'video'] as const) {
      const forward = change[kind];
      if (forward === undefined) continue;
      for (const mid of peer.mids[kind]) {
        try {
          // VideoRoom's "moderate": Janus drops this m-line's packets instead of relaying them.
          await admin.message({ request: 'moderate', room: room.janusId, secret: room.secret, id: peer.feed, mid, mute: !forward });
        } catch (err) {
          throw toMediaError(err, 'the media server refused a moderator mute');
        }
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = false;
    this.#generation++;
    for (const key of [...this.#peers.keys()]) await this.leave(key);
    const connection = this.#connection;
    this.#connection = null;
    if (connection) await connection.close().catch((err: unknown) => this.#log.debug('closing Janus connection failed', { err: describeError(err) }));
  }
}

function toMediaError(err: unknown, message: string): MediaError {
  if (err instanceof MediaError) return err;
  const code = (err as JanodeErr)._code;
  // 426 no such room, 428 no such feed: the thing the request named is gone.
  if (code === 426 || code === 428) return new MediaError(message, 'not-found', { cause: err });
  return new MediaError(message, 'rejected', { cause: err });
}

/** The mids of an offer's audio and video m-lines (a=mid after each m=). */
export function publisherMids(sdp: string): { audio: string[]; video: string[] } {
  const out = { audio: [] as string[], video: [] as string[] };
  let kind: 'audio' | 'video' | null = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) kind = line.startsWith('m=audio') ? 'audio' : line.startsWith('m=video') ? 'video' : null;
    const mid = /^a=mid:(\S{1,32})$/.exec(line)?.[1];
    if (mid && kind) out[kind].push(mid);
  }
  return out;
}

/** Counts of m-lines by direction: enough to debug a negotiation without logging SDP (it has addresses). */
function sdpShape(sdp: string): Record<string, number> {
  const shape: Record<string, number> = { mlines: 0 };
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) shape.mlines = (shape.mlines ?? 0) + 1;
    const dir = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line)?.[1];
    if (dir) shape[dir] = (shape[dir] ?? 0) + 1;
  }
  return shape;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
