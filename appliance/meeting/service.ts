// The meeting service: owns the meetings, accepts signalling connections and routes each validated
// message to its meeting. One Session per WebSocket; a bad client only ever hurts its own session.
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import type { MediaBackend } from '../media/types.js';
import { MediaError } from '../media/types.js';
import { meetingAllowed } from '../accounts/policy.js';
import { blockKey, Lobby, type Admitter, type SessionContext } from './lobby.js';
import { Meeting, newParticipantId, type Connection } from './meeting.js';
import { moderate } from './moderation.js';
import { normaliseName } from './names.js';
import { parseClientMessage } from './protocol-schema.js';
import {
  CloseCode,
  LIMITS,
  PROTOCOL_VERSION,
  type ChatClientMessage,
  type ClientMessage,
  type E2eeClientMessage,
  type DenyReason,
  type ErrorCode,
  type HelloMessage,
  type ModerateMessage,
  type Participant,
  type Role,
  type WelcomeMessage,
} from './protocol.js';
import { TokenBucket } from './rate.js';
import type { MeetingStore } from './store.js';

export interface MeetingServiceDeps {
  media: MediaBackend;
  store: MeetingStore;
  log: Logger;
  iceServers?: WelcomeMessage['iceServers'];
  /** Fresh ICE servers (with a new TURN credential) for each welcome; wins over `iceServers`. */
  iceServersFor?: (host: string | undefined) => WelcomeMessage['iceServers'];
  /** Who may enter persistent rooms; without it every meeting is ad hoc (first one in moderates). */
  admitter?: Admitter;
}

/** What the admin panel sees of a live meeting: counts only, never names or addresses. */
export interface LiveMeetingSummary {
  id: string;
  participants: number;
  waiting: number;
}

const NO_CONTEXT: SessionContext = { address: '', account: null };

export class MeetingService {
  readonly #deps: MeetingServiceDeps;
  readonly #log: Logger;
  readonly #live = new Map<string, Meeting>();
  readonly #sessions = new Set<Session>();
  readonly #lobbies = new Map<string, Lobby>();

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
  connect(connection: Connection, context: SessionContext = NO_CONTEXT): Session {
    const session = new Session(this, connection, this.#log, context);
    this.#sessions.add(session);
    return session;
  }

  /** @internal used by Session */
  forget(session: Session): void {
    this.#sessions.delete(session);
  }

  /** @internal used by Session: the live meeting for an ID, created on the first join. */
  liveMeeting(id: string): Meeting | null {
    if (!this.#deps.store.has(id) && !this.#deps.admitter?.isRoom(id)) return null;
    let meeting = this.#live.get(id);
    if (!meeting) {
      meeting = new Meeting(id, this.#deps.media, this.#log);
      this.#live.set(id, meeting);
    }
    return meeting;
  }

  /** @internal */
  dropIfEmpty(meeting: Meeting): void {
    if ((this.#lobbies.get(meeting.id)?.waiting ?? 0) > 0) return;
    if (meeting.size === 0 && this.#live.get(meeting.id) === meeting) {
      this.#live.delete(meeting.id);
      this.#lobbies.delete(meeting.id);
    }
  }

  /** @internal The waiting room and moderator state of a live meeting. */
  lobby(id: string): Lobby {
    let lobby = this.#lobbies.get(id);
    if (!lobby) {
      lobby = new Lobby(LIMITS.maxParticipants);
      this.#lobbies.set(id, lobby);
    }
    return lobby;
  }

  get admitter(): Admitter | undefined {
    return this.#deps.admitter;
  }

  /** @internal Sends the waiting list to every moderator of a meeting, and tells those waiting whether one is there. */
  announceKnockers(meeting: Meeting): void {
    const lobby = this.lobby(meeting.id);
    const knockers = lobby.knockers();
    const moderators = meeting.participants().filter((p) => p.role === 'moderator');
    for (const p of moderators) meeting.member(p.id)?.connection.send({ type: 'knocking', knockers });
    for (const knock of lobby.all()) knock.tell(moderators.length > 0);
  }

  /** Live meetings with their counts, for the admin panel. */
  live(): LiveMeetingSummary[] {
    return [...this.#live.values()].map((m) => ({ id: m.id, participants: m.size, waiting: this.#lobbies.get(m.id)?.waiting ?? 0 }));
  }

  /** Ends a meeting for everyone in it and everyone waiting. False when it is not live. */
  async endMeeting(id: string): Promise<boolean> {
    const meeting = this.#live.get(id);
    if (!meeting) return false;
    for (const knock of this.lobby(id).takeAll()) knock.deny('ended', 'the meeting was ended');
    for (const p of meeting.participants()) {
      const member = meeting.member(p.id);
      member?.connection.send({ type: 'denied', reason: 'ended', message: 'the meeting was ended for everyone' });
      member?.connection.close(CloseCode.ended, 'meeting ended');
      await meeting.remove(p.id, 'left');
    }
    this.dropIfEmpty(meeting);
    this.#log.info('meeting ended for everyone');
    return true;
  }

  get media(): MediaBackend {
    return this.#deps.media;
  }

  get iceServers(): WelcomeMessage['iceServers'] {
    return this.#deps.iceServers ?? [];
  }

  iceServersFor(host: string | undefined): WelcomeMessage['iceServers'] {
    return this.#deps.iceServersFor ? this.#deps.iceServersFor(host) : this.iceServers;
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
  /** Relayed messages reach other people's browsers, so they get a tighter budget of their own. */
  readonly #relayBucket = new TokenBucket(LIMITS.relayPerSecond, LIMITS.relayBurst);
  readonly #helloTimer: NodeJS.Timeout;
  #invalid = 0;
  #droppedSinceNotice = 0;
  #meeting: Meeting | null = null;
  #self: Participant | null = null;
  readonly #context: SessionContext;
  /** While in the waiting room: the meeting and our place in its lobby. */
  #knock: { meeting: Meeting; id: string } | null = null;
  #closed = false;
  /** Messages of one session are handled one after another, in order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(service: MeetingService, conn: Connection, log: Logger, context: SessionContext = NO_CONTEXT) {
    this.#service = service;
    this.#context = context;
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
    const knock = this.#knock;
    this.#knock = null;
    if (knock) {
      this.#service.lobby(knock.meeting.id).take(knock.id);
      this.#service.announceKnockers(knock.meeting);
      this.#service.dropIfEmpty(knock.meeting);
    }
    const meeting = this.#meeting;
    const self = this.#self;
    this.#meeting = null;
    this.#self = null;
    if (!meeting || !self) return;
    try {
      const lobby = this.#service.lobby(meeting.id);
      lobby.left(self.id);
      await meeting.remove(self.id, reason);
      // The last moderator gone: those waiting are told.
      if (lobby.waiting > 0) this.#service.announceKnockers(meeting);
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
        // A new feed at the media server: a moderator's stop applies to it too.
        const lobby = this.#service.lobby(meeting.id);
        const audioStopped = lobby.audioStopped.has(self.id);
        const videoStopped = lobby.videoStopped.has(self.id);
        if (audioStopped || videoStopped) {
          await this.#service.media.setForwarding(meeting.id, self.id, { ...(audioStopped ? { audio: false } : {}), ...(videoStopped ? { video: false } : {}) });
        }
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
        await this.#resumeIfUnmuted(meeting, self.id, message.audioMuted, message.videoMuted);
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
      case 'moderate':
        return this.#moderate(message);
      case 'leave':
        await this.#leave('left');
        this.#close(CloseCode.normal, 'left');
        return;
      case 'ping':
        this.#conn.send({ type: 'pong', seq: message.seq });
        return;
      case 'e2ee':
      case 'chat':
        return this.#relay(message);
      default:
        return assertUnreachable(message);
    }
  }

  /** Passes an opaque E2EE or chat payload to the others in the same meeting; nothing is kept or logged. */
  #relay(message: E2eeClientMessage | ChatClientMessage): void {
    const { meeting, self } = this.#joined();
    if (!this.#relayBucket.take()) throw new ClientError('rate-limited', `too many ${message.type} messages; this one was dropped`);
    if (message.type === 'chat') {
      meeting.broadcast({ type: 'chat', from: self.id, data: message.data }, self.id);
      return;
    }
    if (message.to === undefined) {
      meeting.broadcast({ type: 'e2ee', from: self.id, direct: false, data: message.data }, self.id);
      return;
    }
    const target = message.to === self.id ? undefined : meeting.member(message.to);
    if (!target) throw new ClientError('not-found', 'no such participant in this meeting');
    target.connection.send({ type: 'e2ee', from: self.id, direct: true, data: message.data });
  }

  /** A moderator stopped our audio/video at the media server; unmuting ourselves lifts that stop. */
  async #resumeIfUnmuted(meeting: Meeting, id: string, audioMuted: boolean, videoMuted: boolean): Promise<void> {
    const lobby = this.#service.lobby(meeting.id);
    const audio = !audioMuted && lobby.audioStopped.delete(id);
    const video = !videoMuted && lobby.videoStopped.delete(id);
    if (audio || video) await this.#service.media.setForwarding(meeting.id, id, { ...(audio ? { audio: true } : {}), ...(video ? { video: true } : {}) });
  }

  async #moderate(message: ModerateMessage): Promise<void> {
    const { meeting, self } = this.#joined();
    if (!meetingAllowed(self.role, message.action)) {
      // Only the action: no name, no target, no address.
      this.#log.warn('refused a moderator action from a participant', { action: message.action });
      throw new ClientError('not-allowed', 'only moderators can do this');
    }
    const result = await moderate(
      {
        meeting,
        lobby: this.#service.lobby(meeting.id),
        media: this.#service.media,
        self,
        announceKnockers: () => this.#service.announceKnockers(meeting),
        endMeeting: async () => {
          await this.#service.endMeeting(meeting.id);
        },
      },
      message,
    );
    if (!result.ok) throw new ClientError(result.code, result.message);
    this.#log.info('moderator action', { action: message.action });
  }

  #deny(reason: DenyReason, message: string): void {
    this.#conn.send({ type: 'denied', reason, message });
    this.#close(reason === 'ended' ? CloseCode.ended : CloseCode.denied, reason);
  }

  async #hello(message: HelloMessage): Promise<void> {
    if (this.#meeting || this.#knock) throw new ClientError('bad-state', 'already joined');
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
    const lobby = this.#service.lobby(meeting.id);
    const admitter = this.#service.admitter;
    let role: Role;
    let mustKnock: boolean;
    let key: string;
    if (admitter?.isRoom(meeting.id)) {
      // A persistent room: a sign-in or an invite link decides, and maybe a password (accounts/access.ts).
      const decision = await admitter.admit({
        meeting: meeting.id,
        context: this.#context,
        ...(message.invite ? { invite: message.invite } : {}),
        ...(message.password ? { password: message.password } : {}),
      });
      if (this.#closed) {
        this.#service.dropIfEmpty(meeting);
        return;
      }
      if (!decision.ok) {
        this.#service.dropIfEmpty(meeting);
        return this.#deny(decision.reason, decision.message);
      }
      lobby.lockedWithoutModerator = decision.lockedWithoutModerator;
      lobby.maxParticipants = Math.min(decision.maxParticipants, LIMITS.maxParticipants);
      role = decision.role;
      mustKnock = decision.knock;
      key = blockKey(this.#context, decision.inviteId);
    } else {
      // An ad-hoc meeting: whoever is first in it moderates it.
      role = meeting.size === 0 ? 'moderator' : 'participant';
      mustKnock = false;
      key = blockKey(this.#context, null);
    }
    if (lobby.isBlocked(key)) {
      this.#service.dropIfEmpty(meeting);
      return this.#deny('blocked', 'a moderator removed you from this meeting');
    }
    clearTimeout(this.#helloTimer);
    const moderatorPresent = meeting.participants().some((p) => p.role === 'moderator');
    if (role === 'participant' && (mustKnock || lobby.locked) && (moderatorPresent || lobby.lockedWithoutModerator || lobby.locked)) {
      if (lobby.waiting >= LIMITS.maxWaiting) {
        this.#service.dropIfEmpty(meeting);
        return this.#deny('full', 'too many people are waiting; try again later');
      }
      const id = newParticipantId();
      this.#knock = { meeting, id };
      let told = moderatorPresent;
      lobby.knock({
        id,
        name,
        tell: (present) => {
          if (present === told) return;
          told = present;
          this.#conn.send({ type: 'waiting', moderatorPresent: present });
        },
        admit: () => {
          this.#knock = null;
          this.#queue = this.#queue.then(() => this.#enter(meeting, name, 'participant', key, id)).catch((err: unknown) => {
            this.#log.warn('letting someone in failed', { err: describeError(err) });
          });
        },
        deny: (reason, text) => {
          this.#knock = null;
          this.#deny(reason, text);
        },
      });
      this.#conn.send({ type: 'waiting', moderatorPresent });
      this.#service.announceKnockers(meeting);
      return;
    }
    await this.#enter(meeting, name, role, key);
  }

  async #enter(meeting: Meeting, name: string, role: Role, key: string, id: string = newParticipantId()): Promise<void> {
    if (this.#closed) return;
    const lobby = this.#service.lobby(meeting.id);
    if (meeting.size >= lobby.maxParticipants) {
      this.#conn.send({ type: 'denied', reason: 'full', message: 'the meeting is full' });
      this.#close(CloseCode.meetingFull, 'meeting is full');
      this.#service.dropIfEmpty(meeting);
      return;
    }
    const self: Participant = {
      id,
      name,
      role,
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
      iceServers: this.#service.iceServersFor(this.#conn.host),
    });
    lobby.entered(self.id, key);
    if (role === 'moderator') {
      if (lobby.waiting > 0) this.#service.announceKnockers(meeting);
      if (lobby.locked) this.#conn.send({ type: 'meetingState', locked: true });
    }
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
