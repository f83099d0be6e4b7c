import type Database from 'better-sqlite3';
import { REFERENCE_LISTS, type ReferenceList } from '../streams/names';
import type { ReferenceRecord } from './reference-tables';

const NEW_REFERENCE_TABLES = REFERENCE_LISTS.filter((list) => list !== 'groups');

/**
 * The reference lists' tables (a migration of sqlite-migrations.ts): four new ones, and groups (a sideload table)
 * gains deleted_at and last_refresh.
 */
export function sqliteReferenceSchema(): string {
  const tables = NEW_REFERENCE_TABLES.map(
    (table) => `
CREATE TABLE ${table} (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  updated_at TEXT,
  deleted_at TEXT,
  last_refresh INTEGER,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;`,
  );
  return [
    ...tables,
    'ALTER TABLE groups ADD COLUMN deleted_at TEXT;',
    'ALTER TABLE groups ADD COLUMN last_refresh INTEGER;',
  ].join('\n');
}

/** The SQLite side of a refresh's page, on the sink's connection, inside the page's transaction. */
export class SqliteReferenceTables {
  private readonly upserts: Record<ReferenceList, Database.Statement>;
  private readonly marksUnseen: Record<ReferenceList, Database.Statement>;

  constructor(db: Database.Database) {
    const statements = (sql: (table: ReferenceList) => string) =>
      Object.fromEntries(REFERENCE_LISTS.map((list) => [list, db.prepare(sql(list))])) as Record<
        ReferenceList,
        Database.Statement
      >;
    // What the list says now replaces what was stored: a row seen again is live again.
    this.upserts = statements(
      (table) => `
      INSERT INTO ${table} (account, id, updated_at, deleted_at, last_refresh, data, stored_at)
      VALUES (@account, @id, @updatedAt, NULL, @refreshId, @data, @storedAt)
      ON CONFLICT (account, id) DO UPDATE SET
        updated_at = excluded.updated_at, deleted_at = NULL, last_refresh = excluded.last_refresh,
        data = excluded.data, stored_at = excluded.stored_at`,
    );
    this.marksUnseen = statements(
      (table) => `
      UPDATE ${table} SET deleted_at = @deletedAt
      WHERE account = @account AND deleted_at IS NULL AND (last_refresh IS NULL OR last_refresh <> @refreshId)`,
    );
  }

  upsert(list: ReferenceList, account: string, record: ReferenceRecord, refreshId: number, storedAt: string): void {
    this.upserts[list].run({ account, ...record, refreshId, storedAt });
  }

  /** Marks deleted the rows of the list this refresh did not see; returns how many. */
  markUnseen(list: ReferenceList, account: string, refreshId: number, deletedAt: string): number {
    return this.marksUnseen[list].run({ account, refreshId, deletedAt }).changes;
  }
}
