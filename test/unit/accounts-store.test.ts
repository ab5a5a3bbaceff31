import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../appliance/log.js';
import { openStore, type Store } from '../../appliance/store/db.js';
import { Accounts, AccountError, createAccount, hasAdmin } from '../../appliance/accounts/accounts.js';
import { PasswordHasher, BusyError } from '../../appliance/accounts/passwords.js';
import { InviteSigner } from '../../appliance/accounts/invites.js';
import { Rooms } from '../../appliance/accounts/rooms.js';
import { FailureLimiter } from '../../appliance/accounts/limiter.js';

const log = createLogger({ level: 'error' });
/** Small scrypt parameters: the tests check logic, not cost. */
export const fastHasher = (): PasswordHasher => new PasswordHasher({ params: { N: 1024, r: 8, p: 1, keyLen: 32 } });

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stube-store-'));
  store = openStore(dir, { log });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('store', () => {
  it('uses WAL with synchronous=FULL and records its migrations', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.prepare('SELECT version, name FROM migrations').all()).toEqual([{ version: 1, name: 'accounts, sessions, rooms, invites' }]);
    expect(store.version).toBe(1);
    // Only the service's user may read it (password hashes).
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    store.db.prepare("INSERT INTO rooms VALUES ('x', 'r', 0, NULL, 8, 1, 1, 0)").run();
    expect(statSync(`${store.file}-wal`).mode & 0o777).toBe(0o600);
  });

  it('runs only new migrations, backing up first, and refuses a newer database', () => {
    store.close();
    const migrations = [
      { version: 1, name: 'a', sql: 'CREATE TABLE t (x INTEGER) STRICT' },
      { version: 2, name: 'b', sql: 'ALTER TABLE t ADD COLUMN y INTEGER' },
    ];
    const dir2 = mkdtempSync(join(tmpdir(), 'stube-mig-'));
    try {
      const first = openStore(dir2, { log, migrations: migrations.slice(0, 1) });
      first.db.prepare('INSERT INTO t (x) VALUES (1)').run();
      first.close();
      const hooks: { from: number; to: number }[] = [];
      const second = openStore(dir2, { log, migrations, beforeMigrate: (i) => hooks.push({ from: i.from, to: i.to }) });
      expect(hooks).toEqual([{ from: 1, to: 2 }]);
      expect(second.db.prepare('SELECT x, y FROM t').all()).toEqual([{ x: 1, y: null }]);
      second.close();
      // The default hook writes a copy of the old database.
      const third = openStore(dir2, { log, migrations: [...migrations, { version: 3, name: 'c', sql: 'CREATE TABLE u (z INTEGER) STRICT' }] });
      third.close();
      expect(existsSync(join(dir2, 'stube.db.before-v3'))).toBe(true);
      expect(() => openStore(dir2, { log, migrations })).toThrow(/newer than this software/);
      expect(() => openStore(dir2, { log, migrations: [{ version: 2, name: 'x', sql: '' }] })).toThrow(/numbered/);
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
    store = openStore(dir, { log });
  });

  it('keeps every committed write when the writer is killed mid-burst', async () => {
    store.close();
    const script = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const committed: string[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        committed.push(...lines);
        if (committed.length >= 300 && !child.killed) child.kill('SIGKILL');
      });
    });
    expect(committed.length).toBeGreaterThanOrEqual(300);
    store = openStore(dir, { log });
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const ids = new Set((store.db.prepare('SELECT id FROM rooms').all() as { id: string }[]).map((r) => r.id));
    const missing = committed.filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
  }, 60_000);
});

describe('accounts', () => {
  it('creates the first admin for the setup wizard', async () => {
    expect(hasAdmin(store)).toBe(false);
    await createAccount(store, { name: 'host', password: 'correct horse battery', role: 'admin' }, fastHasher());
    expect(hasAdmin(store)).toBe(true);
    await expect(createAccount(store, { name: 'HOST', password: 'correct horse battery', role: 'member' }, fastHasher())).rejects.toMatchObject({ code: 'exists' });
    await expect(createAccount(store, { name: 'x', password: 'short', role: 'member' }, fastHasher())).rejects.toMatchObject({ code: 'invalid' });
    await expect(createAccount(store, { name: '<script>', password: 'long enough pw', role: 'member' }, fastHasher())).rejects.toMatchObject({ code: 'invalid' });
  });

  it('signs in, keeps sessions, signs out, and expires them', async () => {
    let now = 1_700_000_000_000;
    const accounts = new Accounts(store, { hasher: fastHasher(), now: () => now });
    const a = await accounts.create({ name: 'alice', password: 'alice password', role: 'member' });
    const s = await accounts.signIn('Alice', 'alice password', '192.0.2.1');
    expect(s.account.id).toBe(a.id);
    expect(accounts.session(s.token)?.name).toBe('alice');
    // Only a hash of the token is stored.
    expect(JSON.stringify(store.db.prepare('SELECT * FROM sessions').all())).not.toContain(s.token);
    accounts.signOut(s.token);
    expect(accounts.session(s.token)).toBeNull();
    const s2 = await accounts.signIn('alice', 'alice password', '192.0.2.1');
    now += 13 * 3600_000;
    expect(accounts.session(s2.token)).toBeNull();
  });

  it('rate-limits failed sign-ins per address and per account', async () => {
    const accounts = new Accounts(store, { hasher: fastHasher() });
    await accounts.create({ name: 'bob', password: 'bob password!', role: 'member' });
    for (let i = 0; i < 10; i++) await expect(accounts.signIn('bob', 'wrong', '192.0.2.9')).rejects.toMatchObject({ code: 'bad-credentials' });
    await expect(accounts.signIn('bob', 'bob password!', '192.0.2.9')).rejects.toMatchObject({ code: 'rate-limited' });
    // Per account: from another address the account is still refused for a while.
    await expect(accounts.signIn('bob', 'bob password!', '198.51.100.1')).rejects.toMatchObject({ code: 'rate-limited' });
    // Unknown names count against the address too, with the same error as a wrong password.
    await expect(accounts.signIn('nobody', 'x', '203.0.113.5')).rejects.toMatchObject({ code: 'bad-credentials' });
  });

  it('never removes the last admin; a password reset ends sessions', async () => {
    const accounts = new Accounts(store, { hasher: fastHasher() });
    const admin = await accounts.create({ name: 'root', password: 'root password', role: 'admin' });
    expect(() => accounts.remove(admin.id)).toThrow(AccountError);
    const s = await accounts.signIn('root', 'root password', '::1');
    await accounts.resetPassword(admin.id, 'another password');
    expect(accounts.session(s.token)).toBeNull();
    await expect(accounts.signIn('root', 'another password', '::1')).resolves.toMatchObject({ account: { id: admin.id } });
  });
});

describe('password hashing', () => {
  it('verifies in constant time and bounds concurrency', async () => {
    const h = new PasswordHasher({ concurrency: 1, maxQueue: 2, params: { N: 1024, r: 8, p: 1, keyLen: 32 } });
    const hash = await h.hash('secret password');
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await h.verify('secret password', hash)).toBe(true);
    expect(await h.verify('secret passwore', hash)).toBe(false);
    expect(await h.verify('secret password', null)).toBe(false);
    const burst = Array.from({ length: 6 }, () => h.hash('x'));
    const results = await Promise.allSettled(burst);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof BusyError).length).toBe(3);
  });
});

describe('rooms and invite links', () => {
  it('signs, checks, revokes and expires invite tokens', async () => {
    let now = 1_700_000_000_000;
    const signer = await InviteSigner.open(dir);
    const rooms = new Rooms(store, fastHasher(), signer, () => now);
    const room = await rooms.create({ name: 'Board', waitingRoom: true, guestsAllowed: true, maxParticipants: 8, lockedWithoutModerator: true });
    expect(room.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const forever = rooms.createInvite(room.id, 'participant', null);
    const hour = rooms.createInvite(room.id, 'moderator', 3600);
    expect(rooms.checkInvite(room.id, forever.token)).toMatchObject({ ok: true, role: 'participant' });
    expect(rooms.checkInvite(room.id, hour.token)).toMatchObject({ ok: true, role: 'moderator' });
    // Another room, a changed role, a changed MAC: invalid.
    const other = await rooms.create({ name: 'Other', waitingRoom: false, guestsAllowed: true, maxParticipants: 8, lockedWithoutModerator: false });
    expect(rooms.checkInvite(other.id, forever.token)).toEqual({ ok: false, reason: 'invalid' });
    const [body, mac] = forever.token.split('.') as [string, string];
    const promoted = Buffer.from(Buffer.from(body, 'base64url').toString().replace(/:p$/, ':m')).toString('base64url');
    expect(rooms.checkInvite(room.id, `${promoted}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(rooms.checkInvite(room.id, `${body}.${mac.slice(0, -2)}AA`)).toEqual({ ok: false, reason: 'invalid' });
    // A token signed with another key.
    const stranger = new InviteSigner(Buffer.alloc(32, 7));
    expect(rooms.checkInvite(room.id, stranger.sign({ invite: forever.invite.id, room: room.id, role: 'participant' }))).toEqual({ ok: false, reason: 'invalid' });
    rooms.revokeInvite(forever.invite.id);
    expect(rooms.checkInvite(room.id, forever.token)).toEqual({ ok: false, reason: 'revoked' });
    now += 3601_000;
    expect(rooms.checkInvite(room.id, hour.token)).toEqual({ ok: false, reason: 'expired' });
    // The key survives reopening.
    const again = await InviteSigner.open(dir);
    expect(again.verify(hour.token)).not.toBeNull();
  });

  it('keeps room names as text within limits and checks room passwords', async () => {
    const rooms = new Rooms(store, fastHasher(), await InviteSigner.open(dir));
    const room = await rooms.create({ name: '  <img src=x onerror=alert(1)>  ', waitingRoom: false, guestsAllowed: true, maxParticipants: 4, lockedWithoutModerator: false, password: 'door code 42' });
    expect(room.name).toBe('<img src=x onerror=alert(1)>');
    expect(room.hasPassword).toBe(true);
    expect(await rooms.checkPassword(room.id, 'door code 42')).toBe(true);
    expect(await rooms.checkPassword(room.id, 'door code 43')).toBe(false);
    await expect(rooms.create({ name: 'x'.repeat(65), waitingRoom: false, guestsAllowed: true, maxParticipants: 4, lockedWithoutModerator: false })).rejects.toMatchObject({ code: 'invalid' });
    const updated = await rooms.update(room.id, { password: null, name: 'Kitchen' });
    expect(updated).toMatchObject({ name: 'Kitchen', hasPassword: false });
    rooms.remove(room.id);
    expect(rooms.get(room.id)).toBeNull();
  });
});

describe('failure limiter', () => {
  it('refuses after the limit within the window and forgets after it', () => {
    let now = 0;
    const l = new FailureLimiter({ limit: 3, windowMs: 1000, maxKeys: 2, now: () => now });
    for (let i = 0; i < 3; i++) l.fail('a');
    expect(l.allowed('a')).toBe(false);
    expect(l.retryAfterMs('a')).toBe(1000);
    now = 1001;
    expect(l.allowed('a')).toBe(true);
    l.fail('b');
    l.fail('c');
    l.fail('d');
    expect(l.allowed('b')).toBe(true); // dropped: the table holds at most two keys
  });
});
