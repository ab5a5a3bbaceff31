// Accounts (admins and members) and their sign-in sessions, in the store. The setup wizard creates the
// first admin through createAccount()/hasAdmin(); the admin panel's API manages the rest.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/db.js';
import { FailureLimiter } from './limiter.js';
import { BusyError, PasswordHasher, passwordProblem } from './passwords.js';

export type AccountRole = 'admin' | 'member';

export interface Account {
  id: string;
  name: string;
  role: AccountRole;
  createdAt: number;
}

export const ACCOUNT_NAME_PATTERN = '^[\\p{L}\\p{N}._@-]{1,64}$';
const NAME = new RegExp(ACCOUNT_NAME_PATTERN, 'u');
/** Sessions last 12 hours; signing in again starts a new one. */
export const SESSION_SECONDS = 12 * 3600;

export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(
    message: string,
    readonly code: 'invalid' | 'exists' | 'not-found' | 'last-admin' | 'rate-limited' | 'busy' | 'bad-credentials',
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

interface AccountRow {
  id: string;
  name: string;
  role: AccountRole;
  password_hash: string;
  created_at: number;
}

const toAccount = (r: AccountRow): Account => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at });
const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

export function normaliseAccountName(name: string): string | null {
  const n = name.normalize('NFC').trim();
  return NAME.test(n) ? n : null;
}

/** For the setup wizard: creates an account (the first admin). Throws AccountError on bad input. */
export async function createAccount(
  store: Store,
  input: { name: string; password: string; role: AccountRole },
  hasher: PasswordHasher = new PasswordHasher(),
): Promise<Account> {
  const name = normaliseAccountName(input.name);
  if (!name) throw new AccountError('a name has 1 to 64 letters, digits or . _ @ -', 'invalid');
  const problem = passwordProblem(input.password);
  if (problem) throw new AccountError(problem, 'invalid');
  const hash = await hasher.hash(input.password);
  const row: AccountRow = { id: randomBytes(16).toString('base64url'), name, role: input.role, password_hash: hash, created_at: Math.floor(Date.now() / 1000) };
  try {
    store.db.prepare('INSERT INTO accounts (id, name, role, password_hash, created_at) VALUES (@id, @name, @role, @password_hash, @created_at)').run(row);
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AccountError('an account with this name exists', 'exists');
    throw err;
  }
  return toAccount(row);
}

/** The setup wizard's view of the store: does an admin exist, and create the first one. */
export function adminAccountsOf(store: Store): { hasAdmin(): boolean; createAdmin(name: string, password: string): Promise<void> } {
  return {
    hasAdmin: () => hasAdmin(store),
    createAdmin: async (name, password) => {
      await createAccount(store, { name, password, role: 'admin' });
    },
  };
}

/** For the setup wizard: true once an admin account exists. */
export function hasAdmin(store: Store): boolean {
  return store.db.prepare("SELECT 1 FROM accounts WHERE role = 'admin' LIMIT 1").get() !== undefined;
}

export interface SignedIn {
  account: Account;
  token: string;
  expiresAt: number;
}

export class Accounts {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #now: () => number;
  /** Failed sign-ins: 10 per 15 minutes per address, and per account name (a slow guess from many addresses). */
  readonly #byAddress: FailureLimiter;
  readonly #byAccount: FailureLimiter;

  constructor(store: Store, opts: { hasher?: PasswordHasher; now?: () => number } = {}) {
    this.#store = store;
    this.#hasher = opts.hasher ?? new PasswordHasher();
    this.#now = opts.now ?? Date.now;
    this.#byAddress = new FailureLimiter({ limit: 10, windowMs: 15 * 60_000, now: this.#now });
    this.#byAccount = new FailureLimiter({ limit: 10, windowMs: 15 * 60_000, now: this.#now });
  }

  get hasher(): PasswordHasher {
    return this.#hasher;
  }

  list(): Account[] {
    return (this.#store.db.prepare('SELECT * FROM accounts ORDER BY name').all() as AccountRow[]).map(toAccount);
  }

  get(id: string): Account | null {
    const row = this.#store.db.prepare('SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  create(input: { name: string; password: string; role: AccountRole }): Promise<Account> {
    return createAccount(this.#store, input, this.#hasher);
  }

  /** Removes an account and its sessions; the last admin cannot be removed. */
  remove(id: string): void {
    const db = this.#store.db;
    db.transaction(() => {
      const row = db.prepare('SELECT role FROM accounts WHERE id = ?').get(id) as { role: AccountRole } | undefined;
      if (!row) throw new AccountError('no such account', 'not-found');
      if (row.role === 'admin') {
        const admins = db.prepare("SELECT COUNT(*) AS n FROM accounts WHERE role = 'admin'").get() as { n: number };
        if (admins.n <= 1) throw new AccountError('the last admin cannot be removed', 'last-admin');
      }
      db.prepare('DELETE FROM accounts WHERE id = ?').run(id);
    })();
  }

  /** Sets a new password and ends all of the account's sessions. */
  async resetPassword(id: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new AccountError(problem, 'invalid');
    if (!this.get(id)) throw new AccountError('no such account', 'not-found');
    const hash = await this.#hasher.hash(password);
    const db = this.#store.db;
    db.transaction(() => {
      db.prepare('UPDATE accounts SET password_hash = ? WHERE id = ?').run(hash, id);
      db.prepare('DELETE FROM sessions WHERE account_id = ?').run(id);
    })();
  }

  /**
   * Checks a name and password. `address` only keys the in-memory rate limit. Unknown names and wrong
   * passwords give the same error after the same work.
   */
  async signIn(name: string, password: string, address: string): Promise<SignedIn> {
    const key = (normaliseAccountName(name) ?? name.slice(0, 64)).toLowerCase();
    const wait = Math.max(this.#byAddress.retryAfterMs(address), this.#byAccount.retryAfterMs(key));
    if (wait > 0) throw new AccountError('too many failed sign-ins; try again later', 'rate-limited', wait);
    const row = this.#store.db.prepare('SELECT * FROM accounts WHERE name = ?').get(key) as AccountRow | undefined;
    let ok: boolean;
    try {
      ok = await this.#hasher.verify(password.slice(0, 1024), row?.password_hash ?? null);
    } catch (err) {
      if (err instanceof BusyError) throw new AccountError(err.message, 'busy');
      throw err;
    }
    if (!ok || !row) {
      this.#byAddress.fail(address);
      this.#byAccount.fail(key);
      throw new AccountError('wrong name or password', 'bad-credentials');
    }
    this.#byAccount.reset(key);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = Math.floor(this.#now() / 1000) + SESSION_SECONDS;
    const db = this.#store.db;
    db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(Math.floor(this.#now() / 1000));
    db.prepare('INSERT INTO sessions (token_hash, account_id, expires_at) VALUES (?, ?, ?)').run(sha256(token), row.id, expiresAt);
    return { account: toAccount(row), token, expiresAt };
  }

  /** The account behind a session token, or null when it is unknown or expired. */
  session(token: string | undefined): Account | null {
    if (!token || token.length > 128) return null;
    const row = this.#store.db
      .prepare('SELECT a.* FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ? AND s.expires_at > ?')
      .get(sha256(token), Math.floor(this.#now() / 1000)) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  signOut(token: string): void {
    this.#store.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(sha256(token));
  }
}
