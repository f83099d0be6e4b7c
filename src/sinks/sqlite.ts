import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import {
  Checkpoint,
  normalizedStatus,
  PersistPageInput,
  PersistResult,
  StoredTicket,
  TicketSink,
  updatedAt,
} from './sink';

const SCHEMA = `
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
`;

/** The default sink: one local file, zero set-up. */
export class SqliteSink implements TicketSink {
  private readonly db: Database.Database;
  private readonly upsertTicket: Database.Statement;
  private readonly upsertHeader: Database.Statement;
  private readonly upsertCheckpoint: Database.Statement;
  private readonly writePage: (input: PersistPageInput) => PersistResult;

  constructor(readonly filename: string) {
    if (filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    migrate(this.db);
    // `>=`: on equal generated_timestamp the later write wins.
    this.upsertTicket = this.db.prepare(`
      INSERT INTO tickets (account, id, generated_timestamp, updated_at, status, data, stored_at)
      VALUES (@account, @id, @generatedTimestamp, @updatedAt, @status, @data, @storedAt)
      ON CONFLICT (account, id) DO UPDATE SET
        generated_timestamp = excluded.generated_timestamp, updated_at = excluded.updated_at,
        status = excluded.status, data = excluded.data, stored_at = excluded.stored_at
      WHERE excluded.generated_timestamp >= tickets.generated_timestamp`);
    this.upsertHeader = this.db.prepare(`
      INSERT INTO field_headers (account, key, name) VALUES (?, ?, ?)
      ON CONFLICT (account, key) DO UPDATE SET name = excluded.name`);
    this.upsertCheckpoint = this.db.prepare(`
      INSERT INTO export_checkpoints (account, cursor, updated_at, api, after_cursor) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (account) DO UPDATE SET
        cursor = excluded.cursor, updated_at = excluded.updated_at,
        api = excluded.api, after_cursor = excluded.after_cursor`);
    this.writePage = this.db.transaction((input: PersistPageInput) => {
      const storedAt = new Date().toISOString();
      let written = 0;
      for (const row of input.rows) {
        const info = this.upsertTicket.run({
          account: input.account,
          id: row.id,
          generatedTimestamp: row.generated_timestamp,
          updatedAt: updatedAt(row),
          status: normalizedStatus(row),
          data: JSON.stringify(row),
          storedAt,
        });
        written += info.changes;
      }
      for (const [key, name] of Object.entries(input.fieldHeaders)) this.upsertHeader.run(input.account, key, name);
      this.upsertCheckpoint.run(input.account, input.cursor, storedAt, input.api ?? null, input.afterCursor ?? null);
      return { written, ignoredOlder: input.rows.length - written };
    });
  }

  async persistPage(input: PersistPageInput): Promise<PersistResult> {
    return this.writePage(input);
  }

  async readCheckpoint(account: string): Promise<number | undefined> {
    const row = this.db.prepare('SELECT cursor FROM export_checkpoints WHERE account = ?').get(account) as
      { cursor: number } | undefined;
    return row?.cursor;
  }

  async readFullCheckpoint(account: string): Promise<Checkpoint | undefined> {
    const row = this.db
      .prepare('SELECT cursor, api, after_cursor AS afterCursor FROM export_checkpoints WHERE account = ?')
      .get(account) as Checkpoint | undefined;
    return row;
  }

  async readTickets(account: string): Promise<StoredTicket[]> {
    const rows = this.db
      .prepare(
        `SELECT id, generated_timestamp AS generatedTimestamp, updated_at AS updatedAt, status, data
         FROM tickets WHERE account = ? ORDER BY id`,
      )
      .all(account);
    return rows as StoredTicket[];
  }

  async readFieldHeaders(account: string): Promise<Record<string, string>> {
    const rows = this.db.prepare('SELECT key, name FROM field_headers WHERE account = ?').all(account) as {
      key: string;
      name: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.name]));
  }

  async countTickets(account: string): Promise<number> {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM tickets WHERE account = ?').get(account) as { n: number };
    return row.n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Brings a file written by an older version up to this schema. */
function migrate(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(export_checkpoints)').all() as { name: string }[]).map((c) => c.name);
  if (!columns.includes('api')) db.exec('ALTER TABLE export_checkpoints ADD COLUMN api TEXT');
  if (!columns.includes('after_cursor')) db.exec('ALTER TABLE export_checkpoints ADD COLUMN after_cursor TEXT');
}
