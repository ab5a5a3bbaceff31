// The meeting service: owns the meetings, accepts signalling connections and routes each validated
// message to its meeting. One Session per WebSocket; a bad client only ever hurts its own session.
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import type { MediaBackend } from '../media/types.js';
import { MediaError } from '../media/types.js';
import { Meeting, newParticipantId, type Connection } from './meeting.js';
import { normaliseName } from './names.js';
import { parseClientMessage } from './protocol-schema.js';
import {
  CloseCode,
  LIMITS,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ErrorCode,
  type HelloMessage,
  type Participant,
  type WelcomeMessage,
} from './protocol.js';
import { TokenBucket } from './rate.js';
import type { MeetingStore } from './store.js';

export interface MeetingServiceDeps {
  media: MediaBackend;
  store: MeetingStore;
  log: Logger;
  iceServers?: WelcomeMessage['iceServers'];
}

export class MeetingService {
  readonly #deps: MeetingServiceDeps;
  readonly #log: Logger;
  readonly #live = new Map<string, Meeting>();
  readonly #sessions = new Set<Session>();

  constructor(deps: MeetingServiceDeps) {
    this.#deps = deps;
    this.#log = deps.log;
    deps.media.on('talking', (room, peer, talking) => {
      this.#live.get(room)?.broadcast({ type: 'talking', participant: peer, talking });
    });
    deps.media.on('restored', () => {
      this.#log.info('media server back; asking participants to publish again', { meetings: this.#live.size });
      for (const meeting of this.#live.values()) meeting.mediaRestarted();
    });
    deps.media.on('publisherUp', (room, peer) => {
      const meeting = this.#live.get(room);
      if (!meeting?.member(peer)) return;
      meeting.update(peer, { publishing: true });
      // Everyone else now subscribes to this participant too.
      meeting.refreshSubscriptions({ except: peer });
    });
    deps.media.on('publisherDown', (room, peer) => {
      const meeting = this.#live.get(room);
      if (!meeting?.member(peer)) return;
      meeting.update(peer, { publishing: false });
      meeting.refreshSubscriptions({ except: peer });
    });
    deps.media.on('peerFailed', (room, peer, which) => {
      this.#log.debug('a media connection failed', { which });
      this.#live.get(room)?.member(peer)?.connection.send({ type: 'error', code: 'media-failed', message: `${which} connection failed` });
    });
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  get liveMeetings(): number {
    return this.#live.size;
  }

  /** Participants in all live meetings: the update agent restarts the box only when this is zero. */
  get participantCount(): number {
    let n = 0;
    for (const meeting of this.#live.values()) n += meeting.size;
    return n;
  }

  /** Tells every moderator in every live meeting something about the box; returns how many were told. */
  notifyModerators(message: string): number {
    let told = 0;
    for (const meeting of this.#live.values()) {
      for (const p of meeting.participants()) {
        if (p.role !== 'moderator') continue;
        meeting.member(p.id)?.connection.send({ type: 'notice', code: 'reboot-pending', message });
        told++;
      }
    }
    return told;
  }

  async createMeeting(): Promise<string> {
    return (await this.#deps.store.create()).id;
  }

  meetingExists(id: string): boolean {
    return this.#deps.store.has(id);
  }

  /** A new signalling connection. The caller feeds it messages and tells it when the socket closed. */
  connect(connection: Connection): Session {
    const session = new Session(this, connection, this.#log);
    this.#sessions.add(session);
    return session;
  }

  /** @internal used by Session */
  forget(session: Session): void {
    this.#sessions.delete(session);
  }

  /** @internal used by Session: the live meeting for an ID, created on the first join. */
  liveMeeting(id: string): Meeting | null {
    if (!this.#deps.store.has(id)) return null;
    let meeting = this.#live.get(id);
    if (!meeting) {
      meeting = new Meeting(id, this.#deps.media, this.#log);
      this.#live.set(id, meeting);
    }
    return meeting;
  }

  /** @internal */
  dropIfEmpty(meeting: Meeting): void {
    if (meeting.size === 0 && this.#live.get(meeting.id) === meeting) this.#live.delete(meeting.id);
  }

  get media(): MediaBackend {
    return this.#deps.media;
  }

  get iceServers(): WelcomeMessage['iceServers'] {
    return this.#deps.iceServers ?? [];
  }

  closeAll(): void {
    for (const meeting of this.#live.values()) meeting.closeAll();
  }
}

/** Thrown inside handlers: becomes an `error` message to this client only. */
class ClientError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class Session {
  readonly #service: MeetingService;
  readonly #conn: Connection;
  readonly #log: Logger;
  readonly #bucket = new TokenBucket(LIMITS.messagesPerSecond, LIMITS.messageBurst);
  readonly #helloTimer: NodeJS.Timeout;
  #invalid = 0;
  #droppedSinceNotice = 0;
  #meeting: Meeting | null = null;
  #self: Participant | null = null;
  #closed = false;
  /** Messages of one session are handled one after another, in order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(service: MeetingService, conn: Connection, log: Logger) {
    this.#service = service;
    this.#conn = conn;
    this.#log = log;
    this.#helloTimer = setTimeout(() => this.#close(CloseCode.helloTimeout, 'no hello'), LIMITS.helloTimeoutMs);
  }

  /** Called with each text frame; never throws. */
  receive(raw: string): void {
    if (this.#closed) return;
    if (!this.#bucket.take()) {
      // Dropped, not queued: a flood must not grow memory. One notice per burst of drops.
      if (this.#droppedSinceNotice++ === 0) this.#error('rate-limited', 'too many messages; some were dropped');
      if (this.#droppedSinceNotice > LIMITS.messageBurst * 5) this.#close(CloseCode.abuse, 'flooding');
      return;
    }
    this.#droppedSinceNotice = 0;
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      this.#error(parsed.code, parsed.message, parsed.about);
      this.#countInvalid();
      return;
    }
    const message = parsed.message;
    this.#queue = this.#queue.then(() => this.#handle(message)).catch((err: unknown) => {
      if (err instanceof ClientError) {
        this.#error(err.code, err.message, message.type);
        if (err.code === 'not-allowed' || err.code === 'bad-state') this.#countInvalid();
      } else if (err instanceof MediaError) {
        this.#error(err.code === 'not-found' ? 'not-found' : 'media-failed', err.message, message.type);
      } else {
        this.#log.error('unexpected error handling a message', { type: message.type, err: describeError(err) });
        this.#error('media-failed', 'internal error', message.type);
      }
    });
  }

  /** Called once when the socket is gone, whoever closed it. */
  closed(): void {
    if (this.#closed && !this.#meeting) return;
    this.#closed = true;
    clearTimeout(this.#helloTimer);
    this.#service.forget(this);
    void this.#leave('disconnected');
  }

  #countInvalid(): void {
    if (++this.#invalid >= LIMITS.maxInvalidMessages) this.#close(CloseCode.abuse, 'too many invalid messages');
  }

  #error(code: ErrorCode, message: string, about?: string): void {
    this.#conn.send({ type: 'error', code, message, ...(about ? { about } : {}) });
  }

  #close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#helloTimer);
    this.#conn.close(code, reason);
    this.#service.forget(this);
    void this.#leave(code === CloseCode.kicked ? 'kicked' : 'disconnected');
  }

  async #leave(reason: 'left' | 'kicked' | 'disconnected'): Promise<void> {
    const meeting = this.#meeting;
    const self = this.#self;
    this.#meeting = null;
    this.#self = null;
    if (!meeting || !self) return;
    try {
      await meeting.remove(self.id, reason);
    } catch (err) {
      this.#log.warn('cleaning up a participant failed', { err: describeError(err) });
    } finally {
      this.#service.dropIfEmpty(meeting);
    }
  }

  #joined(): { meeting: Meeting; self: Participant } {
    if (!this.#meeting || !this.#self) throw new ClientError('bad-state', 'send hello first');
    // Removed by a moderator: the socket may deliver a few more frames while it closes; none count.
    if (!this.#meeting.member(this.#self.id)) throw new ClientError('not-allowed', 'you are no longer in this meeting');
    return { meeting: this.#meeting, self: this.#self };
  }

  async #handle(message: ClientMessage): Promise<void> {
    if (this.#closed) return;
    switch (message.type) {
      case 'hello':
        return this.#hello(message);
      case 'publish': {
        const { meeting, self } = this.#joined();
        await meeting.ensureMediaRoom(LIMITS.maxParticipants);
        const answer = await this.#service.media.publish(meeting.id, self.id, message.sdp);
        if (this.#self !== self) return;
        this.#conn.send({ type: 'publisherAnswer', sdp: answer });
        // Others subscribe once the media connection is up (the media backend's `publisherUp`).
        meeting.update(self.id, { publishing: false, audioMuted: message.audioMuted, videoMuted: message.videoMuted });
        return;
      }
      case 'answer': {
        const { self } = this.#joined();
        await this.#service.media.startSubscriber(self.id, message.sdp);
        return;
      }
      case 'trickle': {
        const { self } = this.#joined();
        await this.#service.media.trickle(self.id, message.target, message.candidate);
        return;
      }
      case 'media': {
        const { meeting, self } = this.#joined();
        meeting.update(self.id, { audioMuted: message.audioMuted, videoMuted: message.videoMuted });
        return;
      }
      case 'view': {
        const { meeting, self } = this.#joined();
        await meeting.applyView(self.id, message.tiles, message.bandwidthKbps ?? undefined);
        return;
      }
      case 'kick': {
        const { meeting, self } = this.#joined();
        if (self.role !== 'moderator') throw new ClientError('not-allowed', 'only moderators can remove participants');
        const target = meeting.member(message.participant);
        if (!target || message.participant === self.id) throw new ClientError('not-found', 'no such participant');
        target.connection.send({ type: 'error', code: 'not-allowed', message: 'a moderator removed you from the meeting' });
        target.connection.close(CloseCode.kicked, 'removed by a moderator');
        await meeting.remove(message.participant, 'kicked');
        this.#log.info('participant removed by a moderator');
        return;
      }
      case 'leave':
        await this.#leave('left');
        this.#close(CloseCode.normal, 'left');
        return;
      case 'ping':
        this.#conn.send({ type: 'pong', seq: message.seq });
        return;
      default:
        return assertUnreachable(message);
    }
  }

  async #hello(message: HelloMessage): Promise<void> {
    if (this.#meeting) throw new ClientError('bad-state', 'already joined');
    if (message.protocol !== PROTOCOL_VERSION) {
      this.#error('invalid', `protocol version ${message.protocol} is not supported; this service speaks ${PROTOCOL_VERSION}`, 'hello');
      this.#close(CloseCode.protocolVersion, 'unsupported protocol version');
      return;
    }
    const name = normaliseName(message.name);
    if (!name) throw new ClientError('invalid', `a name needs 1 to ${LIMITS.maxNameChars} visible characters`);
    const meeting = this.#service.liveMeeting(message.meeting);
    if (!meeting) {
      this.#close(CloseCode.meetingNotFound, 'no such meeting');
      return;
    }
    if (meeting.size >= LIMITS.maxParticipants) {
      this.#close(CloseCode.meetingFull, 'meeting is full');
      return;
    }
    clearTimeout(this.#helloTimer);
    // Until accounts exist, whoever is first in a meeting moderates it.
    const self: Participant = {
      id: newParticipantId(),
      name,
      role: meeting.size === 0 ? 'moderator' : 'participant',
      audioMuted: false,
      videoMuted: false,
      publishing: false,
    };
    this.#meeting = meeting;
    this.#self = self;
    const others = meeting.participants();
    meeting.add({ participant: self, connection: this.#conn });
    this.#conn.send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      you: { ...self },
      participants: others,
      iceServers: this.#service.iceServers,
    });
    this.#log.info('participant joined', { participants: meeting.size });
    if (this.#service.media.ready) {
      await meeting.ensureMediaRoom(LIMITS.maxParticipants);
      meeting.refreshSubscriptions({ only: self.id });
    }
  }
}

function assertUnreachable(x: never): never {
  throw new Error(`unhandled message ${JSON.stringify(x)}`);
}
