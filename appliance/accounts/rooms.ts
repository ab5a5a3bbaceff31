// Persistent rooms and their invite links. A room has a name and settings; its ID (128 random bits) is
// the path of its link. Invite links carry a signed token (invites.ts) that names the invite's row
// here, so revoking is one UPDATE and an expiry is checked on every use.
import { randomBytes } from 'node:crypto';
import { normaliseName } from '../meeting/names.js';
import type { Store } from '../store/db.js';
import type { PasswordHasher } from './passwords.js';
import type { InviteSigner } from './invites.js';

export type InviteRole = 'moderator' | 'participant';

export interface RoomSettings {
  name: string;
  waitingRoom: boolean;
  /** Guests (people with a participant link) may join; otherwise only moderators and members. */
  guestsAllowed: boolean;
  maxParticipants: number;
  /** Without a moderator present, nobody is let in from the waiting room. */
  lockedWithoutModerator: boolean;
}

export interface Room extends RoomSettings {
  id: string;
  hasPassword: boolean;
  createdAt: number;
}

export interface Invite {
  id: string;
  roomId: string;
  role: InviteRole;
  expiresAt: number | null;
  revoked: boolean;
  createdAt: number;
}

export const ROOM_LIMITS = { maxNameChars: 64, minParticipants: 2, maxParticipants: 16, maxPasswordChars: 128, maxRooms: 1000, maxInvitesPerRoom: 200 } as const;

export class RoomError extends Error {
  override readonly name = 'RoomError';
  constructor(
    message: string,
    readonly code: 'invalid' | 'not-found' | 'too-many',
  ) {
    super(message);
  }
}

interface RoomRow {
  id: string;
  name: string;
  waiting_room: number;
  password_hash: string | null;
  max_participants: number;
  guests_allowed: number;
  locked_without_moderator: number;
  created_at: number;
}
interface InviteRow {
  id: string;
  room_id: string;
  role: InviteRole;
  expires_at: number | null;
  revoked: number;
  created_at: number;
}

const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  waitingRoom: r.waiting_room === 1,
  guestsAllowed: r.guests_allowed === 1,
  maxParticipants: r.max_participants,
  lockedWithoutModerator: r.locked_without_moderator === 1,
  hasPassword: r.password_hash !== null,
  createdAt: r.created_at,
});
const toInvite = (r: InviteRow): Invite => ({
  id: r.id,
  roomId: r.room_id,
  role: r.role,
  expiresAt: r.expires_at,
  revoked: r.revoked === 1,
  createdAt: r.created_at,
});

export type InviteCheck =
  | { ok: true; room: Room; role: InviteRole; inviteId: string }
  | { ok: false; reason: 'invalid' | 'revoked' | 'expired' };

export class Rooms {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #signer: InviteSigner;
  readonly #now: () => number;

  constructor(store: Store, hasher: PasswordHasher, signer: InviteSigner, now: () => number = Date.now) {
    this.#store = store;
    this.#hasher = hasher;
    this.#signer = signer;
    this.#now = now;
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  list(): Room[] {
    return (this.#store.db.prepare('SELECT * FROM rooms ORDER BY name').all() as RoomRow[]).map(toRoom);
  }

  get(id: string): Room | null {
    const row = this.#store.db.prepare('SELECT * FROM rooms WHERE id = ?').get(id) as RoomRow | undefined;
    return row ? toRoom(row) : null;
  }

  /** Room names are user text: normalised like display names, limited, rendered only as text. */
  static cleanName(name: string): string {
    const n = normaliseName(name);
    if (!n || [...n].length > ROOM_LIMITS.maxNameChars) throw new RoomError(`a room name needs 1 to ${ROOM_LIMITS.maxNameChars} visible characters`, 'invalid');
    return n;
  }

  async create(settings: RoomSettings & { password?: string | null }): Promise<Room> {
    const count = this.#store.db.prepare('SELECT COUNT(*) AS n FROM rooms').get() as { n: number };
    if (count.n >= ROOM_LIMITS.maxRooms) throw new RoomError(`at most ${ROOM_LIMITS.maxRooms} rooms`, 'too-many');
    const row: RoomRow = {
      id: randomBytes(16).toString('base64url'),
      name: Rooms.cleanName(settings.name),
      waiting_room: settings.waitingRoom ? 1 : 0,
      password_hash: settings.password ? await this.#hasher.hash(settings.password) : null,
      max_participants: settings.maxParticipants,
      guests_allowed: settings.guestsAllowed ? 1 : 0,
      locked_without_moderator: settings.lockedWithoutModerator ? 1 : 0,
      created_at: this.#seconds(),
    };
    this.#store.db
      .prepare(
        `INSERT INTO rooms (id, name, waiting_room, password_hash, max_participants, guests_allowed, locked_without_moderator, created_at)
         VALUES (@id, @name, @waiting_room, @password_hash, @max_participants, @guests_allowed, @locked_without_moderator, @created_at)`,
      )
      .run(row);
    return toRoom(row);
  }

  /** Changes settings; `password`: a string sets it, null removes it, undefined keeps it. */
  async update(id: string, change: Partial<RoomSettings> & { password?: string | null }): Promise<Room> {
    const room = this.get(id);
    if (!room) throw new RoomError('no such room', 'not-found');
    const hash = change.password === undefined ? undefined : change.password === null ? null : await this.#hasher.hash(change.password);
    const next = { ...room, ...change, name: change.name === undefined ? room.name : Rooms.cleanName(change.name) };
    const db = this.#store.db;
    db.prepare(
      `UPDATE rooms SET name = ?, waiting_room = ?, max_participants = ?, guests_allowed = ?, locked_without_moderator = ? WHERE id = ?`,
    ).run(next.name, next.waitingRoom ? 1 : 0, next.maxParticipants, next.guestsAllowed ? 1 : 0, next.lockedWithoutModerator ? 1 : 0, id);
    if (hash !== undefined) db.prepare('UPDATE rooms SET password_hash = ? WHERE id = ?').run(hash, id);
    return this.get(id) as Room;
  }

  remove(id: string): void {
    const res = this.#store.db.prepare('DELETE FROM rooms WHERE id = ?').run(id);
    if (res.changes === 0) throw new RoomError('no such room', 'not-found');
  }

  async checkPassword(id: string, password: string): Promise<boolean> {
    const row = this.#store.db.prepare('SELECT password_hash FROM rooms WHERE id = ?').get(id) as { password_hash: string | null } | undefined;
    if (!row?.password_hash) return true;
    return this.#hasher.verify(password.slice(0, ROOM_LIMITS.maxPasswordChars), row.password_hash);
  }

  invites(roomId: string): Invite[] {
    return (this.#store.db.prepare('SELECT * FROM invites WHERE room_id = ? ORDER BY created_at').all(roomId) as InviteRow[]).map(toInvite);
  }

  /** A new invite link's token. `ttlSeconds` null: it does not expire. */
  createInvite(roomId: string, role: InviteRole, ttlSeconds: number | null): { invite: Invite; token: string } {
    if (!this.get(roomId)) throw new RoomError('no such room', 'not-found');
    const n = this.#store.db.prepare('SELECT COUNT(*) AS n FROM invites WHERE room_id = ?').get(roomId) as { n: number };
    if (n.n >= ROOM_LIMITS.maxInvitesPerRoom) throw new RoomError(`at most ${ROOM_LIMITS.maxInvitesPerRoom} links per room; revoke old ones`, 'too-many');
    const now = this.#seconds();
    const row: InviteRow = { id: randomBytes(16).toString('base64url'), room_id: roomId, role, expires_at: ttlSeconds === null ? null : now + ttlSeconds, revoked: 0, created_at: now };
    this.#store.db.prepare('INSERT INTO invites (id, room_id, role, expires_at, revoked, created_at) VALUES (@id, @room_id, @role, @expires_at, @revoked, @created_at)').run(row);
    return { invite: toInvite(row), token: this.#signer.sign({ invite: row.id, room: roomId, role }) };
  }

  /** The token of an existing invite again (the admin panel's "copy link"). */
  tokenFor(inviteId: string): string {
    const row = this.#store.db.prepare('SELECT * FROM invites WHERE id = ?').get(inviteId) as InviteRow | undefined;
    if (!row) throw new RoomError('no such link', 'not-found');
    return this.#signer.sign({ invite: row.id, room: row.room_id, role: row.role });
  }

  revokeInvite(inviteId: string): void {
    const res = this.#store.db.prepare('UPDATE invites SET revoked = 1 WHERE id = ?').run(inviteId);
    if (res.changes === 0) throw new RoomError('no such link', 'not-found');
  }

  /** Checks a token presented for `roomId`: signature, room, the row, revocation and expiry. */
  checkInvite(roomId: string, token: string): InviteCheck {
    const claims = this.#signer.verify(token);
    if (!claims || claims.room !== roomId) return { ok: false, reason: 'invalid' };
    const row = this.#store.db.prepare('SELECT * FROM invites WHERE id = ? AND room_id = ?').get(claims.invite, roomId) as InviteRow | undefined;
    const room = this.get(roomId);
    if (!row || !room || row.role !== claims.role) return { ok: false, reason: 'invalid' };
    if (row.revoked) return { ok: false, reason: 'revoked' };
    if (row.expires_at !== null && row.expires_at <= this.#seconds()) return { ok: false, reason: 'expired' };
    return { ok: true, room, role: row.role, inviteId: row.id };
  }
}
