// Who may enter a persistent room: the Admitter the meeting service asks on every hello. Signed-in
// members and admins moderate; a link's role decides for everyone else; a room password is checked
// before knocking (on every hello, so a reconnect cannot skip a password set meanwhile) and wrong
// passwords are limited per address and per room.
import type { AdmissionDecision, AdmissionRequest, Admitter } from '../meeting/lobby.js';
import { FailureLimiter } from './limiter.js';
import type { Rooms } from './rooms.js';

export const PASSWORD_ATTEMPTS = {
  /** Wrong room passwords from one address within the window; then refused until it passes. */
  perAddress: 10,
  /** Wrong passwords for one room from anywhere (a distributed guess) within the window. */
  perRoom: 50,
  windowMs: 15 * 60_000,
} as const;

export class RoomAccess implements Admitter {
  readonly #rooms: Rooms;
  readonly #byAddress: FailureLimiter;
  readonly #byRoom: FailureLimiter;

  constructor(rooms: Rooms, now: () => number = Date.now) {
    this.#rooms = rooms;
    this.#byAddress = new FailureLimiter({ limit: PASSWORD_ATTEMPTS.perAddress, windowMs: PASSWORD_ATTEMPTS.windowMs, now });
    this.#byRoom = new FailureLimiter({ limit: PASSWORD_ATTEMPTS.perRoom, windowMs: PASSWORD_ATTEMPTS.windowMs, now });
  }

  isRoom(meeting: string): boolean {
    return this.#rooms.get(meeting) !== null;
  }

  async admit(req: AdmissionRequest): Promise<AdmissionDecision> {
    const room = this.#rooms.get(req.meeting);
    if (!room) return { ok: false, reason: 'invite-invalid', message: 'this room does not exist' };
    const settings = { maxParticipants: room.maxParticipants, lockedWithoutModerator: room.lockedWithoutModerator };
    if (req.context.account) return { ok: true, role: 'moderator', knock: false, inviteId: null, ...settings };
    if (!req.invite) return { ok: false, reason: 'invite-required', message: 'this room needs an invite link' };
    const check = this.#rooms.checkInvite(room.id, req.invite);
    if (!check.ok) {
      const text = { invalid: 'this invite link is not valid', revoked: 'this invite link was revoked', expired: 'this invite link has expired' } as const;
      return { ok: false, reason: `invite-${check.reason}`, message: text[check.reason] };
    }
    if (check.role === 'moderator') return { ok: true, role: 'moderator', knock: false, inviteId: check.inviteId, ...settings };
    if (!room.guestsAllowed) return { ok: false, reason: 'guests-not-allowed', message: 'this room is for members only' };
    if (room.hasPassword) {
      const address = req.context.address;
      if (!this.#byAddress.allowed(address) || !this.#byRoom.allowed(room.id)) {
        return { ok: false, reason: 'password-rate-limited', message: 'too many wrong passwords; try again later' };
      }
      if (!req.password) return { ok: false, reason: 'password-required', message: 'this room has a password' };
      if (!(await this.#rooms.checkPassword(room.id, req.password))) {
        this.#byAddress.fail(address);
        this.#byRoom.fail(room.id);
        return { ok: false, reason: 'password-wrong', message: 'wrong room password' };
      }
    }
    return { ok: true, role: 'participant', knock: room.waitingRoom, inviteId: check.inviteId, ...settings };
  }
}
