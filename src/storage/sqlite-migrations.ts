import type Database from 'better-sqlite3';
import { SIDELOAD_TABLES } from './sink';
import { SQLITE_STREAM_SCHEMA } from './sqlite-streams';
import { analystIndexesSql } from './indexes';
import { ANALYST_VIEWS, analystViewsSql, typedTicketStatusGroupIndexSql, typedTicketTablesSql } from './analyst/schema';
import { fillTypedTicketsSqlite } from './analyst/sqlite-typed-tickets';
import { sqliteReferenceSchema } from './sqlite-reference';

/**
 * The SQLite sink's schema as numbered migrations, like PostgreSQL's (postgres.ts). The version is the file's
 * `PRAGMA user_version`: it lives in the database header, so it changes in the same transaction as the tables it
 * describes, needs no table of its own next to the analysts' tables, and any SQLite tool reads it. Files written before
 * these migrations have user_version 0, as a new file does: version 1 is written to take both (CREATE TABLE IF NOT
 * EXISTS, columns added where missing).
 */

// updated_at of a sideload is isoTimestamp text (fixed width), so comparing the text compares the time.
const sideloadTable = (table: string) => `
CREATE TABLE IF NOT EXISTS ${table} (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  updated_at TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;`;

const BASELINE_SCHEMA = `
CREATE TABLE IF NOT EXISTS tickets (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  generated_timestamp INTEGER NOT NULL,
  updated_at TEXT,
  status TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;
CREATE TABLE IF NOT EXISTS export_checkpoints (
  account TEXT PRIMARY KEY,
  cursor INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  api TEXT,
  after_cursor TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS field_headers (
  account TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (account, key)
) STRICT;
CREATE TABLE IF NOT EXISTS rejected_tickets (
  account TEXT NOT NULL,
  ticket_id TEXT NOT NULL,
  generated_timestamp INTEGER,
  data TEXT NOT NULL,
  error TEXT NOT NULL,
  rejected_at TEXT NOT NULL,
  PRIMARY KEY (account, ticket_id)
) STRICT;
${SIDELOAD_TABLES.map(sideloadTable).join('')}
CREATE TABLE IF NOT EXISTS other_sideloads (
  account TEXT NOT NULL,
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  updated_at TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, kind, id)
) STRICT;
${SQLITE_STREAM_SCHEMA}`;

// Every version of a ticket the export saw: append-only, one row per (account, id, generated_timestamp). The primary
// key's leading columns are the (account, id) index a ticket's history is read by.
const TICKET_VERSION_TABLE = `
CREATE TABLE ticket_version (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  generated_timestamp INTEGER NOT NULL,
  updated_at TEXT,
  status TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id, generated_timestamp)
) STRICT;`;

interface SqliteMigration {
  version: number;
  apply(db: Database.Database): void;
}

/** Applied in order, each in one transaction with the user_version it sets. Never edit one: add the next. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    // The baseline: the schema of the versions before numbered migrations, and the columns they added one by one.
    version: 1,
    apply(db) {
      db.exec(BASELINE_SCHEMA);
      const columns = (table: string) =>
        (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
      const checkpoints = columns('export_checkpoints');
      if (!checkpoints.includes('api')) db.exec('ALTER TABLE export_checkpoints ADD COLUMN api TEXT');
      if (!checkpoints.includes('after_cursor')) db.exec('ALTER TABLE export_checkpoints ADD COLUMN after_cursor TEXT');
      if (!columns('organizations').includes('deleted_at')) {
        db.exec('ALTER TABLE organizations ADD COLUMN deleted_at TEXT');
      }
    },
  },
  { version: 2, apply: (db) => db.exec(TICKET_VERSION_TABLE) },
  { version: 3, apply: (db) => db.exec(analystIndexesSql()) },
  {
    // The analysts' tables. The stored field changes make way for the typed ticket_field_history (a view); the typed
    // ticket tables are filled from the tickets already stored.
    version: 4,
    apply(db) {
      db.exec(`
        ALTER TABLE ticket_field_history RENAME TO ticket_field_changes;
        DROP INDEX IF EXISTS ticket_field_history_ticket_id;
        CREATE INDEX ticket_field_changes_ticket_id ON ticket_field_changes (account, ticket_id);
        ${typedTicketTablesSql('sqlite')}`);
      fillTypedTicketsSqlite(db);
    },
  },
  // The reference lists' tables (groups gains deleted_at and last_refresh) (the views over them: analyst/schema.ts).
  { version: 5, apply: (db) => db.exec(sqliteReferenceSchema()) },
  // Open tickets per group from an index (the bench's analyst queries, docs/benchmarks.md#analyst-queries).
  { version: 6, apply: (db) => db.exec(typedTicketStatusGroupIndexSql('sqlite')) },
];

/**
 * The views hold no data: the newest migration makes them again from ANALYST_VIEWS, so a view reads the tables of the
 * newest version. A change to a view therefore comes with a migration (one that may do nothing else). Only our views
 * are dropped: an analyst's own views in the file stay.
 */
function remakeAnalystViews(db: Database.Database): void {
  for (const { name } of ANALYST_VIEWS) db.exec(`DROP VIEW IF EXISTS "${name}"`);
  db.exec(analystViewsSql('sqlite'));
}

/** The version this code writes. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;

/**
 * Applies the migrations the file lacks, each in its own immediate (write-locked) transaction, so that two processes
 * opening the file together apply each once; returns how many ran. A file of a version this code does not know is
 * refused before anything is written. `untilVersion`: stop there (tests build files of an older version).
 */
export function migrateSqlite(db: Database.Database, filename: string, untilVersion = Infinity): number {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  refuseNewer(version(), filename);
  let count = 0;
  for (const migration of SQLITE_MIGRATIONS) {
    if (migration.version > untilVersion) break;
    const applied = db
      .transaction(() => {
        const current = version();
        refuseNewer(current, filename);
        if (current >= migration.version) return false;
        migration.apply(db);
        // After the newest migration, in its transaction: the views read the tables as they now are.
        if (migration.version === SQLITE_SCHEMA_VERSION) remakeAnalystViews(db);
        db.pragma(`user_version = ${migration.version}`);
        return true;
      })
      .immediate();
    if (applied) count++;
  }
  return count;
}

function refuseNewer(version: number, filename: string): void {
  if (version <= SQLITE_SCHEMA_VERSION) return;
  throw new Error(
    `the SQLite file ${filename} has schema version ${version}, newer than this code knows (version ` +
      `${SQLITE_SCHEMA_VERSION}): run the release that wrote it, or a newer one`,
  );
}
