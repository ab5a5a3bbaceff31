// The admin's TURN routes (/api/turn): who may rotate the secret (real accounts and sessions, the same
// adminOnly guard the service mounts), and what a rotation does when the TURN server cannot follow.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounts } from '../../appliance/accounts/accounts.js';
import { adminOnly, createAccountsApi } from '../../appliance/accounts/api.js';
import { InviteSigner } from '../../appliance/accounts/invites.js';
import { PasswordHasher } from '../../appliance/accounts/passwords.js';
import { Rooms } from '../../appliance/accounts/rooms.js';
import { loadSettings } from '../../appliance/config/settings.js';
import { createLogger } from '../../appliance/log.js';
import { sameOrigin } from '../../appliance/server/app.js';
import { openStore, type Store } from '../../appliance/store/db.js';
import { turnApi, type TurnControl } from '../../appliance/turn/api.js';
import { startTurn } from '../../appliance/turn/turn-service.js';

const HOST = 'box.example';
const log = createLogger({ level: 'error' });
let dir: string;
let store: Store;
let app: Hono;
let rotations: number;
let failNext: boolean;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stube-turn-api-'));
  store = openStore(dir, { log });
  const hasher = new PasswordHasher({ params: { N: 1024, r: 8, p: 1, keyLen: 32 } });
  const accounts = new Accounts(store, { hasher });
  const rooms = new Rooms(store, hasher, await InviteSigner.open(dir));
  await accounts.create({ name: 'root', password: 'root password', role: 'admin' });
  await accounts.create({ name: 'mia', password: 'member password', role: 'member' });
  rotations = 0;
  failNext = false;
  const control: TurnControl = {
    ttlSeconds: 3600,
    async rotateSecret() {
      await new Promise((r) => setTimeout(r, 20));
      if (failNext) throw new Error('helper unreachable');
      rotations++;
    },
  };
  app = new Hono();
  app.route('/api', createAccountsApi({
    accounts,
    rooms,
    live: { list: () => [], end: async () => false },
    openMeetings: false,
    secureCookies: true,
    log,
    sameOrigin,
  }));
  app.route('/api/turn', turnApi(control, adminOnly(accounts, sameOrigin), log));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function req(method: string, path: string, opts: { cookie?: string; origin?: string | null; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { host: HOST };
  if (opts.origin !== null) headers.origin = opts.origin ?? `https://${HOST}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return app.request(path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
}

async function signIn(name: string, password: string): Promise<string> {
  const res = await req('POST', '/api/session', { body: { name, password } });
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

describe('POST /api/turn/rotate', () => {
  it('rotates for a signed-in admin from the box\'s own page', async () => {
    const admin = await signIn('root', 'root password');
    const res = await req('POST', '/api/turn/rotate', { cookie: admin });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rotated: true, credentialSeconds: 3600 });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(rotations).toBe(1);
  });

  it('is refused to members, to nobody, to a forged session and across origins', async () => {
    const member = await signIn('mia', 'member password');
    const admin = await signIn('root', 'root password');
    const cases: [string, { cookie?: string; origin?: string | null }][] = [
      ['no session', {}],
      ['member', { cookie: member }],
      ['forged session', { cookie: 'stube_session=' + 'A'.repeat(43) }],
      ['admin from another origin', { cookie: admin, origin: 'https://evil.example' }],
      ['admin from an opaque origin', { cookie: admin, origin: 'null' }],
    ];
    for (const [what, opts] of cases) {
      const res = await req('POST', '/api/turn/rotate', opts);
      expect(res.status, what).toBe(403);
    }
    expect(rotations).toBe(0);
  });

  it('shows the state only to the admin', async () => {
    expect((await req('GET', '/api/turn')).status).toBe(403);
    const member = await signIn('mia', 'member password');
    expect((await req('GET', '/api/turn', { cookie: member })).status).toBe(403);
    const admin = await signIn('root', 'root password');
    const res = await req('GET', '/api/turn', { cookie: admin });
    expect(await res.json()).toEqual({ enabled: true, credentialSeconds: 3600 });
  });

  it('runs one rotation at a time and reports a failed one', async () => {
    const admin = await signIn('root', 'root password');
    const [a, b] = await Promise.all([req('POST', '/api/turn/rotate', { cookie: admin }), req('POST', '/api/turn/rotate', { cookie: admin })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    failNext = true;
    const failed = await req('POST', '/api/turn/rotate', { cookie: admin });
    expect(failed.status).toBe(503);
    expect(rotations).toBe(1);
  });

  it('answers 503 when the box runs no TURN', async () => {
    const none = new Hono();
    none.route('/api/turn', turnApi(null, async (_c, next) => next(), log));
    expect((await none.request('/api/turn/rotate', { method: 'POST' })).status).toBe(503);
    expect(await (await none.request('/api/turn')).json()).toEqual({ enabled: false, credentialSeconds: null });
  });
});

describe('rotating the secret of a TURN server run by systemd', () => {
  const external = (secretFile: string) =>
    loadSettings(['--data', dir], { STUBE_TURN: 'external', STUBE_TURN_SECRET_FILE: secretFile }).turn;

  it('keeps the old secret when the TURN unit cannot be restarted', async () => {
    const file = join(dir, 'turn-secret');
    const old = 'ab'.repeat(32);
    writeFileSync(file, `${old}\n`);
    const turn = await startTurn({
      settings: external(file),
      tlsPort: () => 443,
      allowedPeers: [],
      realm: 'stube.local',
      log,
      restartExternal: async () => {
        throw new Error('no helper');
      },
    });
    await expect(turn.rotateSecret()).rejects.toThrow('no helper');
    expect(readFileSync(file, 'utf8').trim()).toBe(old);
    await turn.stop();
  });

  it('writes a new secret and restarts the unit', async () => {
    const file = join(dir, 'turn-secret');
    const old = 'cd'.repeat(32);
    writeFileSync(file, `${old}\n`);
    let restarted = 0;
    const turn = await startTurn({
      settings: external(file),
      tlsPort: () => 443,
      allowedPeers: [],
      realm: 'stube.local',
      log,
      restartExternal: async () => {
        restarted++;
      },
    });
    await turn.rotateSecret();
    expect(restarted).toBe(1);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(file, 'utf8').trim()).not.toBe(old);
    await turn.stop();
  });

  it('refuses without a way to restart the unit, leaving the file alone', async () => {
    const file = join(dir, 'turn-secret');
    const old = 'ef'.repeat(32);
    writeFileSync(file, `${old}\n`);
    const turn = await startTurn({ settings: external(file), tlsPort: () => 443, allowedPeers: [], realm: 'stube.local', log });
    await expect(turn.rotateSecret()).rejects.toThrow(/cannot be restarted/);
    expect(readFileSync(file, 'utf8').trim()).toBe(old);
    await turn.stop();
  });
});
