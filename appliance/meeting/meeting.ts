// One meeting's live state: who is in it, who publishes, and keeping everyone's subscription in step
// with the publishers. Lives in memory only; nothing here is written anywhere.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { describeError } from '../log.js';
import type { MediaBackend } from '../media/types.js';
import { MediaError } from '../media/types.js';
import { chooseLayers } from './layers.js';
import { CloseCode, type Participant, type ParticipantId, type ServerMessage, type TileView } from './protocol.js';

/** What the meeting needs from a participant's connection. */
export interface Connection {
  send(message: ServerMessage): void;
  close(code: number, reason: string): void;
  /** The host the browser reached the service by (Host header); ICE server URLs use it. */
  host?: string;
}

export interface Member {
  participant: Participant;
  connection: Connection;
}

export function newParticipantId(): ParticipantId {
  return randomBytes(16).toString('base64url');
}

export class Meeting {
  readonly id: string;
  readonly #media: MediaBackend;
  readonly #log: Logger;
  readonly #members = new Map<ParticipantId, Member>();
  /** Participants removed by a moderator; their ID is refused if it comes back. */
  readonly #removed = new Set<ParticipantId>();
  #mediaRoom = false;

  constructor(id: string, media: MediaBackend, log: Logger) {
    this.id = id;
    this.#media = media;
    this.#log = log;
  }

  get size(): number {
    return this.#members.size;
  }

  participants(): Participant[] {
    return [...this.#members.values()].map((m) => ({ ...m.participant }));
  }

  member(id: ParticipantId): Member | undefined {
    return this.#members.get(id);
  }

  isRemoved(id: ParticipantId): boolean {
    return this.#removed.has(id);
  }

  /** The media room is created on first use and again after the media server restarted. */
  async ensureMediaRoom(maxPublishers: number): Promise<void> {
    if (this.#mediaRoom) return;
    await this.#media.createRoom(this.id, { maxPublishers });
    this.#mediaRoom = true;
  }

  add(member: Member): void {
    this.#members.set(member.participant.id, member);
    this.broadcast({ type: 'participantJoined', participant: { ...member.participant } }, member.participant.id);
  }

  async remove(id: ParticipantId, reason: 'left' | 'kicked' | 'disconnected'): Promise<void> {
    const member = this.#members.get(id);
    if (!member) return;
    this.#members.delete(id);
    if (reason === 'kicked') {
      this.#removed.add(id);
      await this.#media.kick(this.id, id);
    } else {
      await this.#media.leave(id);
    }
    this.broadcast({ type: 'participantLeft', participant: id, reason });
    if (member.participant.publishing) this.refreshSubscriptions();
    if (this.#members.size === 0 && this.#mediaRoom) {
      this.#mediaRoom = false;
      await this.#media.destroyRoom(this.id);
    }
  }

  update(id: ParticipantId, change: Partial<Pick<Participant, 'audioMuted' | 'videoMuted' | 'publishing' | 'role'>>): void {
    const member = this.#members.get(id);
    if (!member) return;
    Object.assign(member.participant, change);
    this.broadcast({ type: 'participantUpdated', participant: { ...member.participant } });
  }

  broadcast(message: ServerMessage, except?: ParticipantId): void {
    for (const [id, m] of this.#members) if (id !== except) m.connection.send(message);
  }

  publishers(): ParticipantId[] {
    return [...this.#members.values()].filter((m) => m.participant.publishing).map((m) => m.participant.id);
  }

  /**
   * Brings members' subscriptions to the current set of publishers and sends the offers that result:
   * everyone's, only one member's, or everyone's but one (whose own subscription a change did not touch).
   */
  refreshSubscriptions(which: { only?: ParticipantId; except?: ParticipantId } = {}): void {
    const sources = this.publishers();
    for (const [id, member] of this.#members) {
      if ((which.only !== undefined && id !== which.only) || id === which.except) continue;
      this.#media
        .subscribe(this.id, id, sources)
        .then((offer) => {
          if (!offer || this.#members.get(id) !== member) return;
          member.connection.send({
            type: 'subscriberOffer',
            sdp: offer.sdp,
            streams: offer.streams.map((s) => ({ mid: s.mid, participant: s.from, kind: s.kind })),
          });
        })
        .catch((err: unknown) => {
          // A member whose subscription failed affects only themselves: they are told and can retry.
          if (err instanceof MediaError && err.code === 'unavailable') return;
          this.#log.warn('subscription update failed', { err: describeError(err) });
          member.connection.send({ type: 'error', code: 'media-failed', message: 'could not update the incoming media' });
        });
    }
  }

  async applyView(id: ParticipantId, tiles: readonly TileView[], bandwidthKbps?: number): Promise<void> {
    const choices = chooseLayers(tiles.filter((t) => this.#members.has(t.participant)), bandwidthKbps);
    await this.#media.setLayers(id, [...choices].map(([from, substream]) => ({ from, substream })));
  }

  /** After a media server restart: nobody publishes any more; every browser starts its media again. */
  mediaRestarted(): void {
    this.#mediaRoom = false;
    for (const m of this.#members.values()) m.participant.publishing = false;
    this.broadcast({ type: 'mediaRestart' });
  }

  closeAll(code: number = CloseCode.goingAway, reason = 'service stopping'): void {
    for (const m of this.#members.values()) m.connection.close(code, reason);
  }
}
