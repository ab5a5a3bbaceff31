// The JSON API on a fresh app with a real store: sign-in and cookies, bodies checked, and the
// authorisation matrix — every account role × every API action, on the server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createLogger } from '../../appliance/log.js';
import { openStore, type Store } from '../../appliance/store/db.js';
import { Accounts, type Account } from '../../appliance/accounts/accounts.js';
import { createAccountsApi } from '../../appliance/accounts/api.js';
import { InviteSigner } from '../../appliance/accounts/invites.js';
import { PasswordHasher } from '../../appliance/accounts/passwords.js';
import { API_ACTIONS, apiAllowed, type ApiAction, type ApiRole } from '../../appliance/accounts/policy.js';
import { Rooms, type Room } from '../../appliance/accounts/rooms.js';
import { sameOrigin } from '../../appliance/server/app.js';

let dir: string;
let store: Store;
let accounts: Accounts;
let rooms: Rooms;
let api: Hono<any>;
let admin: Account;
let member: Account;
let room: Room;
let inviteId: string;
const ended: string[] = [];

const HOST = 'box.example';
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stube-api-'));
  store = openStore(dir, { log: createLogger({ level: 'error' }) });
  const hasher = new PasswordHasher({ params: { N: 1024, r: 8, p: 1, keyLen: 32 } });
  accounts = new Accounts(store, { hasher });
  rooms = new Rooms(store, hasher, await InviteSigner.open(dir));
  admin = await accounts.create({ name: 'root', password: 'root password', role: 'admin' });
  member = await accounts.create({ name: 'mia', password: 'member password', role: 'member' });
  room = await rooms.create({ name: 'Board', waitingRoom: true, guestsAllowed: true, maxParticipants: 8, lockedWithoutModerator: true });
  inviteId = rooms.createInvite(room.id, 'participant', null).invite.id;
  ended.length = 0;
  api = createAccountsApi({
    accounts,
    rooms,
    live: { list: () => [{ id: room.id, participants: 3, waiting: 1 }], end: async (id) => (ended.push(id), id === room.id) },
    openMeetings: false,
    secureCookies: true,
    log: createLogger({ level: 'error' }),
    sameOrigin,
  });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function req(method: string, path: string, opts: { cookie?: string; body?: unknown; origin?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { host: HOST, origin: opts.origin ?? `https://${HOST}` };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return Promise.resolve(api.request(path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) }));
}

async function signIn(name: string, password: string): Promise<string> {
  const res = await req('POST', '/session', { body: { name, password } });
  expect(res.status).toBe(200);
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0] ?? '';
}

describe('sign-in', () => {
  it('sets a Secure, HttpOnly, SameSite=Strict cookie with an expiry, and signs out', async () => {
    const res = await req('POST', '/session', { body: { name: 'root', password: 'root password' } });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^stube_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toMatch(/Max-Age=43200/);
    const session = cookie.split(';')[0] ?? '';
    expect((await req('GET', '/session', { cookie: session })).status).toBe(200);
    expect((await req('DELETE', '/session', { cookie: session })).status).toBe(204);
    expect((await req('GET', '/session', { cookie: session })).status).toBe(401);
  });

  it('refuses wrong passwords, bad bodies and cross-origin requests', async () => {
    expect((await req('POST', '/session', { body: { name: 'root', password: 'nope' } })).status).toBe(401);
    expect((await req('POST', '/session', { body: { name: 'root' } })).status).toBe(400);
    expect((await req('POST', '/session', { body: { name: 'root', password: 'root password' }, origin: 'https://evil.example' })).status).toBe(403);
    const big = await req('POST', '/session', { body: { name: 'root', password: 'x'.repeat(5000) } });
    expect(big.status).toBe(413);
  });

  it('serves an OpenAPI description naming every route', async () => {
    const doc = (await (await req('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/session', '/accounts', '/accounts/{id}', '/accounts/{id}/password', '/rooms', '/rooms/{id}', '/rooms/{id}/invites', '/invites/{id}/token', '/invites/{id}', '/live', '/live/{id}', '/meetings'].sort(),
    );
  });

  it('shows live meetings as counts with the room name as data, never addresses', async () => {
    const cookie = await signIn('mia', 'member password');
    const body = await (await req('GET', '/live', { cookie })).json();
    expect(body).toEqual({ meetings: [{ id: room.id, participants: 3, waiting: 1, room: 'Board' }] });
  });
});

// One request per action; `meeting.start` lives in app.ts (POST /api/meetings) and is covered there by
// the same policy function, so it is checked against the table only.
const REQUESTS: Record<Exclude<ApiAction, 'meeting.start'>, () => [string, string, unknown?]> = {
  'accounts.list': () => ['GET', '/accounts'],
  'accounts.create': () => ['POST', '/accounts', { name: 'newbie', password: 'newbie password', role: 'member' }],
  'accounts.remove': () => ['DELETE', `/accounts/${member.id}`],
  'accounts.resetPassword': () => ['PUT', `/accounts/${member.id}/password`, { password: 'a new password' }],
  'rooms.list': () => ['GET', '/rooms'],
  'rooms.create': () => ['POST', '/rooms', { name: 'New', waitingRoom: false, guestsAllowed: true, maxParticipants: 4, lockedWithoutModerator: false }],
  'rooms.update': () => ['PATCH', `/rooms/${room.id}`, { name: 'Renamed' }],
  'rooms.remove': () => ['DELETE', `/rooms/${room.id}`],
  'invites.create': () => ['POST', `/rooms/${room.id}/invites`, { role: 'moderator', ttlSeconds: 3600 }],
  'invites.revoke': () => ['DELETE', `/invites/${inviteId}`],
  'live.list': () => ['GET', '/live'],
  'live.end': () => ['DELETE', `/live/${room.id}`],
};

const EXPECTED: Record<ApiRole, Record<ApiAction, boolean>> = {
  admin: Object.fromEntries(API_ACTIONS.map((a) => [a, true])) as Record<ApiAction, boolean>,
  member: {
    'meeting.start': true,
    'accounts.list': false,
    'accounts.create': false,
    'accounts.remove': false,
    'accounts.resetPassword': false,
    'rooms.list': true,
    'rooms.create': true,
    'rooms.update': true,
    'rooms.remove': false,
    'invites.create': true,
    'invites.revoke': true,
    'live.list': true,
    'live.end': false,
  },
  anonymous: Object.fromEntries(API_ACTIONS.map((a) => [a, false])) as Record<ApiAction, boolean>,
};

describe('authorisation matrix (API)', () => {
  const cases = (['admin', 'member', 'anonymous'] as const).flatMap((role) => API_ACTIONS.map((action) => [role, action] as const));
  it.each(cases)('%s × %s', async (role, action) => {
    expect(apiAllowed(role, action, { openMeetings: false })).toBe(EXPECTED[role][action]);
    if (action === 'meeting.start') return;
    const cookie = role === 'admin' ? await signIn('root', 'root password') : role === 'member' ? await signIn('mia', 'member password') : undefined;
    const [method, path, body] = REQUESTS[action]();
    const res = await req(method, path, { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { body } : {}) });
    if (EXPECTED[role][action]) {
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    } else {
      expect(res.status).toBe(role === 'anonymous' ? 401 : 403);
      // Nothing changed.
      expect(accounts.list()).toHaveLength(2);
      expect(rooms.get(room.id)?.name).toBe('Board');
      expect(rooms.invites(room.id).every((i) => !i.revoked)).toBe(true);
      expect(ended).toEqual([]);
    }
  });

  it('lets anyone start a meeting only where meetings are open', () => {
    expect(apiAllowed('anonymous', 'meeting.start', { openMeetings: true })).toBe(true);
    expect(apiAllowed('anonymous', 'rooms.list', { openMeetings: true })).toBe(false);
  });
});
