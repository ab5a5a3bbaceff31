// The waiting room, invite links, room passwords and moderator actions, on the server: real store
// (SQLite in a temporary folder), real access rules, the meeting service with a recording media fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../appliance/log.js';
import { openStore, type Store } from '../../appliance/store/db.js';
import { InviteSigner } from '../../appliance/accounts/invites.js';
import { Rooms, type Room, type RoomSettings } from '../../appliance/accounts/rooms.js';
import { RoomAccess } from '../../appliance/accounts/access.js';
import { PasswordHasher } from '../../appliance/accounts/passwords.js';
import { meetingAllowed } from '../../appliance/accounts/policy.js';
import type { Connection } from '../../appliance/meeting/meeting.js';
import type { SessionContext } from '../../appliance/meeting/lobby.js';
import { MeetingService, type Session } from '../../appliance/meeting/service.js';
import { MeetingStore } from '../../appliance/meeting/store.js';
import { CloseCode, LIMITS, MODERATOR_ACTIONS, PROTOCOL_VERSION, type ClientMessage, type ModeratorAction, type ServerMessage } from '../../appliance/meeting/protocol.js';
import { FakeMedia } from './fake-media.js';

class FakeConnection implements Connection {
  readonly sent: ServerMessage[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  send(message: ServerMessage): void {
    this.sent.push(message);
  }
  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
  }
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
  last<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }> | undefined {
    return this.of(type).at(-1);
  }
}

/** Lets queued handlers run; password checks hash on the thread pool, so poll a few rounds. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, i < 20 ? 0 : 5));
  }
  throw new Error(`never happened: ${what}`);
}
const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

let dir: string;
let store: Store;
let rooms: Rooms;
let media: FakeMedia;
let service: MeetingService;
let logLines: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stube-mod-'));
  store = openStore(dir, { log: createLogger({ level: 'error' }) });
  const hasher = new PasswordHasher({ params: { N: 1024, r: 8, p: 1, keyLen: 32 } });
  rooms = new Rooms(store, hasher, await InviteSigner.open(dir));
  media = new FakeMedia();
  logLines = [];
  service = new MeetingService({
    media,
    store: await MeetingStore.open(dir),
    log: createLogger({ level: 'debug', write: (l) => logLines.push(l) }),
    admitter: new RoomAccess(rooms),
  });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Client {
  conn: FakeConnection;
  session: Session;
  send(m: ClientMessage): Promise<void>;
  id(): string;
}

function connect(address = '192.0.2.10', account: SessionContext['account'] = null): Client {
  const conn = new FakeConnection();
  const session = service.connect(conn, { address, account });
  return {
    conn,
    session,
    async send(m) {
      session.receive(JSON.stringify(m));
      await flush();
    },
    id: () => conn.of('welcome')[0]?.you.id ?? '',
  };
}

async function hello(room: Room, name: string, opts: { invite?: string; password?: string; address?: string; member?: boolean } = {}): Promise<Client> {
  const c = connect(opts.address, opts.member ? { id: 'acc', role: 'member' } : null);
  c.session.receive(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, meeting: room.id, name, ...(opts.invite ? { invite: opts.invite } : {}), ...(opts.password ? { password: opts.password } : {}) }));
  await until(`an answer to ${name}'s hello`, () => c.conn.sent.some((m) => ['welcome', 'waiting', 'denied'].includes(m.type)));
  return c;
}

const SETTINGS: RoomSettings = { name: 'Board', waitingRoom: true, guestsAllowed: true, maxParticipants: 8, lockedWithoutModerator: true };

describe('waiting room', () => {
  it('lets a guest with a participant link knock and a moderator admit them', async () => {
    const room = await rooms.create(SETTINGS);
    const mod = await hello(room, 'Mod', { invite: rooms.createInvite(room.id, 'moderator', null).token });
    expect(mod.conn.of('welcome')[0]?.you.role).toBe('moderator');
    const guest = await hello(room, 'Guest <b>', { invite: rooms.createInvite(room.id, 'participant', null).token });
    expect(guest.conn.sent).toEqual([{ type: 'waiting', moderatorPresent: true }]);
    const knockers = mod.conn.last('knocking')?.knockers ?? [];
    expect(knockers.map((k) => k.name)).toEqual(['Guest <b>']);
    // The guest can do nothing meanwhile.
    await guest.send({ type: 'media', audioMuted: true, videoMuted: true });
    expect(guest.conn.last('error')?.code).toBe('bad-state');
    await mod.send({ type: 'moderate', action: 'admit', participant: knockers[0]?.id ?? '' });
    await until('the guest is welcomed', () => guest.conn.of('welcome').length === 1);
    expect(guest.conn.of('welcome')[0]?.you).toMatchObject({ id: knockers[0]?.id, role: 'participant', name: 'Guest <b>' });
    expect(mod.conn.last('knocking')?.knockers).toEqual([]);
  });

  it('tells a denied guest why and closes their connection', async () => {
    const room = await rooms.create(SETTINGS);
    const mod = await hello(room, 'Mod', { member: true });
    const guest = await hello(room, 'Guest', { invite: rooms.createInvite(room.id, 'participant', null).token });
    await mod.send({ type: 'moderate', action: 'deny', participant: mod.conn.last('knocking')?.knockers[0]?.id ?? '' });
    expect(guest.conn.last('denied')).toMatchObject({ reason: 'denied' });
    expect(guest.conn.closes[0]?.code).toBe(CloseCode.denied);
  });

  it('stays locked without a moderator, unless the room says otherwise', async () => {
    const locked = await rooms.create(SETTINGS);
    const link = rooms.createInvite(locked.id, 'participant', null).token;
    const a = await hello(locked, 'A', { invite: link });
    expect(a.conn.sent).toEqual([{ type: 'waiting', moderatorPresent: false }]);
    const b = await hello(locked, 'B', { invite: link, address: '192.0.2.11' });
    expect(b.conn.of('welcome')).toEqual([]);
    // A moderator arriving sees both and lets them in at once.
    const mod = await hello(locked, 'Mod', { member: true });
    expect(mod.conn.last('knocking')?.knockers.map((k) => k.name)).toEqual(['A', 'B']);
    // Those waiting learn that a moderator is here now.
    expect(a.conn.last('waiting')).toEqual({ type: 'waiting', moderatorPresent: true });
    await mod.send({ type: 'moderate', action: 'admitAll' });
    await until('both are in', () => a.conn.of('welcome').length === 1 && b.conn.of('welcome').length === 1);

    const open = await rooms.create({ ...SETTINGS, name: 'Open', lockedWithoutModerator: false });
    const c = await hello(open, 'C', { invite: rooms.createInvite(open.id, 'participant', null).token });
    expect(c.conn.of('welcome')).toHaveLength(1);
  });
});

describe('links and passwords', () => {
  it('refuses revoked, expired, foreign and missing links', async () => {
    const room = await rooms.create({ ...SETTINGS, waitingRoom: false });
    const revoked = rooms.createInvite(room.id, 'participant', null);
    rooms.revokeInvite(revoked.invite.id);
    expect((await hello(room, 'R', { invite: revoked.token })).conn.last('denied')?.reason).toBe('invite-revoked');
    const expired = rooms.createInvite(room.id, 'participant', -1);
    expect((await hello(room, 'E', { invite: expired.token })).conn.last('denied')?.reason).toBe('invite-expired');
    const other = await rooms.create({ ...SETTINGS, name: 'Other' });
    expect((await hello(room, 'F', { invite: rooms.createInvite(other.id, 'moderator', null).token })).conn.last('denied')?.reason).toBe('invite-invalid');
    const none = await hello(room, 'N');
    expect(none.conn.last('denied')?.reason).toBe('invite-required');
    expect(none.conn.closes[0]?.code).toBe(CloseCode.denied);
    const members = await rooms.create({ ...SETTINGS, name: 'Members', guestsAllowed: false });
    expect((await hello(members, 'G', { invite: rooms.createInvite(members.id, 'participant', null).token })).conn.last('denied')?.reason).toBe('guests-not-allowed');
  });

  it('asks for the room password and refuses an address after ten wrong ones', async () => {
    const room = await rooms.create({ ...SETTINGS, waitingRoom: false, lockedWithoutModerator: false, password: 'open sesame' });
    const link = rooms.createInvite(room.id, 'participant', null).token;
    expect((await hello(room, 'P', { invite: link })).conn.last('denied')?.reason).toBe('password-required');
    for (let i = 0; i < 10; i++) expect((await hello(room, 'P', { invite: link, password: `guess ${i}` })).conn.last('denied')?.reason).toBe('password-wrong');
    expect((await hello(room, 'P', { invite: link, password: 'open sesame' })).conn.last('denied')?.reason).toBe('password-rate-limited');
    // Another address is not affected; the right password lets it in.
    expect((await hello(room, 'Q', { invite: link, password: 'open sesame', address: '198.51.100.7' })).conn.of('welcome')).toHaveLength(1);
  });

  it('asks again after a password was set, also of someone who was in before', async () => {
    const room = await rooms.create({ ...SETTINGS, waitingRoom: false, lockedWithoutModerator: false });
    const link = rooms.createInvite(room.id, 'participant', null).token;
    const before = await hello(room, 'Early', { invite: link });
    expect(before.conn.of('welcome')).toHaveLength(1);
    await rooms.update(room.id, { password: 'new password' });
    expect((await hello(room, 'Early', { invite: link })).conn.last('denied')?.reason).toBe('password-required');
  });
});

describe('moderator actions', () => {
  it('mutes everyone at the media server; unmuting oneself lifts it', async () => {
    const room = await rooms.create({ ...SETTINGS, waitingRoom: false });
    const link = rooms.createInvite(room.id, 'participant', null).token;
    const mod = await hello(room, 'Mod', { member: true });
    const a = await hello(room, 'A', { invite: link });
    const b = await hello(room, 'B', { invite: link });
    await mod.send({ type: 'moderate', action: 'muteAll' });
    expect(media.callsOf('setForwarding').map((c) => [c.peer, c.change])).toEqual([
      [a.id(), { audio: false }],
      [b.id(), { audio: false }],
    ]);
    expect(a.conn.last('moderated')).toEqual({ type: 'moderated', action: 'mute' });
    expect(mod.conn.of('participantUpdated').filter((m) => m.participant.audioMuted).map((m) => m.participant.id)).toEqual([a.id(), b.id()]);
    await a.send({ type: 'media', audioMuted: false, videoMuted: false });
    expect(media.callsOf('setForwarding').at(-1)).toMatchObject({ peer: a.id(), change: { audio: true } });
  });

  it('removes and blocks: the same link from the same address is refused for this meeting', async () => {
    const room = await rooms.create({ ...SETTINGS, waitingRoom: false });
    const link = rooms.createInvite(room.id, 'participant', null).token;
    const mod = await hello(room, 'Mod', { member: true });
    const p = await hello(room, 'P', { invite: link, address: '203.0.113.9' });
    await mod.send({ type: 'moderate', action: 'remove', participant: p.id(), block: true });
    expect(p.conn.last('denied')?.reason).toBe('blocked');
    expect(p.conn.closes[0]?.code).toBe(CloseCode.kicked);
    expect(media.callsOf('kick')).toHaveLength(1);
    expect((await hello(room, 'P again', { invite: link, address: '203.0.113.9' })).conn.last('denied')?.reason).toBe('blocked');
  });

  it('ends the meeting for everyone, waiting ones included', async () => {
    const room = await rooms.create(SETTINGS);
    const mod = await hello(room, 'Mod', { member: true });
    const guest = await hello(room, 'Guest', { invite: rooms.createInvite(room.id, 'participant', null).token });
    await mod.send({ type: 'moderate', action: 'end' });
    expect(guest.conn.last('denied')?.reason).toBe('ended');
    expect(mod.conn.closes[0]?.code).toBe(CloseCode.ended);
    expect(service.live()).toEqual([]);
  });
});

// Every meeting role × every moderator action, through the real session: allowed ones take effect,
// refused ones change nothing and are logged without personal data.
describe('authorisation matrix (meeting)', () => {
  const EXPECTED: Record<'moderator' | 'participant', Record<ModeratorAction, boolean>> = {
    moderator: { admit: true, deny: true, admitAll: true, mute: true, muteAll: true, stopVideo: true, remove: true, lock: true, unlock: true, promote: true, end: true },
    participant: { admit: false, deny: false, admitAll: false, mute: false, muteAll: false, stopVideo: false, remove: false, lock: false, unlock: false, promote: false, end: false },
  };
  const cases = (['moderator', 'participant'] as const).flatMap((role) => MODERATOR_ACTIONS.map((action) => [role, action] as const));

  it.each(cases)('%s × %s', async (role, action) => {
    expect(meetingAllowed(role, action)).toBe(EXPECTED[role][action]);
    const room = await rooms.create(SETTINGS);
    const mod = await hello(room, 'Mod secret-name', { member: true });
    const actor = role === 'moderator' ? mod : await hello(room, 'Actor', { invite: rooms.createInvite(room.id, 'participant', null).token });
    if (role === 'participant') {
      await mod.send({ type: 'moderate', action: 'admit', participant: mod.conn.last('knocking')?.knockers[0]?.id ?? '' });
      await until('actor in', () => actor.conn.of('welcome').length === 1);
    }
    const target = await hello(room, 'Target', { invite: rooms.createInvite(room.id, 'participant', null).token, address: '192.0.2.99' });
    await mod.send({ type: 'moderate', action: 'admit', participant: mod.conn.last('knocking')?.knockers[0]?.id ?? '' });
    await until('target in', () => target.conn.of('welcome').length === 1);
    const knocker = await hello(room, 'Knocker', { invite: rooms.createInvite(room.id, 'participant', null).token, address: '192.0.2.98' });
    const knockerId = mod.conn.last('knocking')?.knockers[0]?.id ?? '';
    const before = { forwarding: media.callsOf('setForwarding').length, kicks: media.callsOf('kick').length, sent: target.conn.sent.length, knocker: knocker.conn.sent.length };
    const participant = action === 'admit' || action === 'deny' ? knockerId : target.id();
    logLines.length = 0;
    await actor.send({ type: 'moderate', action, participant });
    await flush();
    const refused = actor.conn.last('error')?.code === 'not-allowed';
    expect(refused).toBe(!EXPECTED[role][action]);
    const changed =
      media.callsOf('setForwarding').length !== before.forwarding ||
      media.callsOf('kick').length !== before.kicks ||
      target.conn.sent.length !== before.sent ||
      knocker.conn.sent.length !== before.knocker;
    expect(changed).toBe(EXPECTED[role][action]);
    if (refused) {
      const line = logLines.find((l) => l.includes('refused a moderator action'));
      expect(line).toBe(`WARN refused a moderator action from a participant action=${action}`);
      for (const l of logLines) for (const secret of ['Actor', 'Target', '192.0.2', room.id, room.name]) expect(l).not.toContain(secret);
    }
  });
});

describe('limits', () => {
  it('lets at most LIMITS.maxWaiting people wait at once', async () => {
    const room = await rooms.create(SETTINGS);
    const link = rooms.createInvite(room.id, 'participant', null).token;
    for (let i = 0; i < LIMITS.maxWaiting; i++) expect((await hello(room, `W${i}`, { invite: link })).conn.of('waiting')).toHaveLength(1);
    expect((await hello(room, 'One too many', { invite: link })).conn.last('denied')?.reason).toBe('full');
  });
});
