// Schema migrations, numbered from 1 and never edited once released: a change is a new migration.
// Every table is STRICT (SQLite checks the column types) and nothing here records a past meeting, a
// participant, an address or a display name (docs/privacy.md).
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts, sessions, rooms, invites',
    sql: `
      CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      -- Only a hash of each session token: a copy of the database signs nobody in.
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX sessions_account ON sessions(account_id);
      CREATE TABLE rooms (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        waiting_room INTEGER NOT NULL CHECK (waiting_room IN (0, 1)),
        password_hash TEXT,
        max_participants INTEGER NOT NULL CHECK (max_participants BETWEEN 2 AND 1000),
        guests_allowed INTEGER NOT NULL CHECK (guests_allowed IN (0, 1)),
        locked_without_moderator INTEGER NOT NULL CHECK (locked_without_moderator IN (0, 1)),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE invites (
        id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('moderator', 'participant')),
        expires_at INTEGER,
        revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX invites_room ON invites(room_id);
    `,
  },
];
