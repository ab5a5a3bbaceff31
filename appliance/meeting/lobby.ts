// The waiting room and the moderator state of one live meeting: who is knocking, whether the meeting is
// locked, who was removed and blocked, and whose audio or video a moderator stopped. Memory only; it
// goes when the meeting goes (nothing here is ever written to disk).
import { createHash } from 'node:crypto';
import type { DenyReason, Knocker, ParticipantId, Role } from './protocol.js';

/** What a session knows about the person behind it, from the HTTP upgrade. */
export interface SessionContext {
  /** The peer address: only a key for rate limits and blocks, never logged or stored. */
  address: string;
  /** The signed-in account (session cookie), if any. */
  account: { id: string; role: 'admin' | 'member' } | null;
}

export interface AdmissionRequest {
  meeting: string;
  invite?: string;
  password?: string;
  context: SessionContext;
}

export type AdmissionDecision =
  | { ok: true; role: Role; knock: boolean; inviteId: string | null; maxParticipants: number; lockedWithoutModerator: boolean }
  | { ok: false; reason: DenyReason; message: string };

/** Decides who may enter persistent rooms (appliance/accounts/access.ts); ad-hoc meetings do without. */
export interface Admitter {
  isRoom(meeting: string): boolean;
  admit(request: AdmissionRequest): Promise<AdmissionDecision>;
}

export interface Knock extends Knocker {
  /** Tells the person waiting whether a moderator is there now. */
  tell(moderatorPresent: boolean): void;
  admit(): void;
  deny(reason: DenyReason, message: string): void;
}

/** The key a block is kept under: the address and the link used, hashed (no raw address kept). */
export function blockKey(context: SessionContext, inviteId: string | null): string {
  return createHash('sha256').update(`${context.address}\n${inviteId ?? ''}`).digest('base64url');
}

export class Lobby {
  locked = false;
  /** From the room's settings: without a moderator present, nobody comes in from the waiting room. */
  lockedWithoutModerator = true;
  maxParticipants: number;
  readonly #knocks = new Map<ParticipantId, Knock>();
  readonly #blocked = new Set<string>();
  /** Each member's block key, for "remove and block". */
  readonly #keys = new Map<ParticipantId, string>();
  /** Participants whose audio / video a moderator stopped at the media server. */
  readonly audioStopped = new Set<ParticipantId>();
  readonly videoStopped = new Set<ParticipantId>();

  constructor(maxParticipants: number) {
    this.maxParticipants = maxParticipants;
  }

  get waiting(): number {
    return this.#knocks.size;
  }

  knock(k: Knock): void {
    this.#knocks.set(k.id, k);
  }

  /** Takes someone out of the waiting room (to admit or deny them, or because they left). */
  take(id: ParticipantId): Knock | undefined {
    const k = this.#knocks.get(id);
    this.#knocks.delete(id);
    return k;
  }

  takeAll(): Knock[] {
    const all = [...this.#knocks.values()];
    this.#knocks.clear();
    return all;
  }

  all(): Knock[] {
    return [...this.#knocks.values()];
  }

  knockers(): Knocker[] {
    return [...this.#knocks.values()].map((k) => ({ id: k.id, name: k.name }));
  }

  entered(id: ParticipantId, key: string): void {
    this.#keys.set(id, key);
  }

  left(id: ParticipantId): void {
    this.#keys.delete(id);
    this.audioStopped.delete(id);
    this.videoStopped.delete(id);
  }

  block(id: ParticipantId): void {
    const key = this.#keys.get(id);
    if (key) this.#blocked.add(key);
  }

  isBlocked(key: string): boolean {
    return this.#blocked.has(key);
  }
}
