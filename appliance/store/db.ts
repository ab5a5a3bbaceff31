// The box's one database: <data>/stube.db (SQLite through better-sqlite3). Accounts, sessions, rooms and
// invite links live here — nothing about past meetings (docs/privacy.md). Durability: WAL with
// synchronous=FULL, so a transaction that returned is on disk and a crash or power cut loses nothing
// committed. Schema changes are numbered migrations, recorded in the table `migrations`; before any
// migration runs on an existing database, a copy of it is made (the backup-before-migrate hook).
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export const DB_FILE = 'stube.db';

export interface OpenOptions {
  log: Logger;
  /** Called before pending migrations run on a database that already has a schema. Default: copy it. */
  beforeMigrate?: (info: { db: Db; file: string; from: number; to: number }) => void;
  /** For tests of the migration runner; the real list otherwise. */
  migrations?: readonly Migration[];
}

export interface Store {
  readonly db: Db;
  readonly file: string;
  /** The schema version after opening. */
  readonly version: number;
  close(): void;
}

/** The default hook: `VACUUM INTO` writes a consistent copy next to the database, one per target version. */
export function backupBeforeMigrate(info: { db: Db; file: string; from: number; to: number }): void {
  const target = `${info.file}.before-v${info.to}`;
  rmSync(target, { force: true });
  info.db.prepare('VACUUM INTO ?').run(target);
}

export function openStore(dataDir: string, opts: OpenOptions): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, DB_FILE);
  // Password hashes live here: owner only. SQLite gives its -wal and -shm files the database's mode.
  if (!existsSync(file)) closeSync(openSync(file, 'wx', 0o600));
  chmodSync(file, 0o600);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const version = migrate(db, file, opts);
    return {
      db,
      file,
      version,
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Runs the migrations the database has not seen, each in its own transaction. Returns the version. */
function migrate(db: Db, file: string, opts: OpenOptions): number {
  const migrations = opts.migrations ?? MIGRATIONS;
  for (const [i, m] of migrations.entries()) {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} is numbered ${m.version}: migrations must be 1, 2, 3, … in order`);
  }
  db.exec('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
  const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM migrations').get() as { v: number };
  const from = row.v;
  const to = migrations.length;
  if (from > to) throw new Error(`${DB_FILE} has schema version ${from}, newer than this software (${to}); refusing to touch it`);
  if (from === to) return from;
  if (from > 0) {
    opts.log.info('backing up the database before migrating', { from, to });
    (opts.beforeMigrate ?? backupBeforeMigrate)({ db, file, from, to });
  }
  const record = db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations.slice(from)) {
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Math.floor(Date.now() / 1000));
    })();
    opts.log.info('database migrated', { version: m.version });
  }
  return to;
}

export function storeExists(dataDir: string): boolean {
  return existsSync(join(dataDir, DB_FILE));
}
