import Database from 'better-sqlite3';
import type { PersistStreamPageInput, PersistStreamPageResult, StreamCheckpoint } from '../streams/contract';
import type { PagedStream } from '../streams/names';
import {
  Checkpoint,
  exportApiOf,
  normalizedStatus,
  PersistPageInput,
  PersistResult,
  RejectedTicket,
  safeTimestamp,
  scalar,
  shortError,
  SIDELOAD_TABLES,
  sideloadEntries,
  SideloadEntry,
  SinkOptions,
  StoredSideload,
  StoredTicket,
  ticketIdText,
  TicketRow,
  TicketSink,
  updatedAt,
  zendeskTimestamp,
} from './sink';
import { prepareSqliteFile } from './sqlite-file';
import { migrateSqlite } from './sqlite-migrations';
import { SqliteStreamTables } from './sqlite-streams';
import { SqliteTypedTickets } from './analyst/sqlite-typed-tickets';

/** The default sink: one local file, zero set-up. */
export class SqliteSink implements TicketSink {
  private readonly db: Database.Database;
  private readonly upsertTicket: Database.Statement;
  /** Undefined when SINK_TICKET_VERSIONS is off. */
  private readonly insertVersion: Database.Statement | undefined;
  private readonly upsertRejected: Database.Statement;
  private readonly upsertSideload: Map<string, Database.Statement>;
  private readonly upsertOtherSideload: Database.Statement;
  private readonly upsertHeader: Database.Statement;
  private readonly upsertCheckpoint: Database.Statement;
  private readonly writePage: (input: PersistPageInput) => PersistResult;
  private readonly streams: SqliteStreamTables;
  /** Undefined when the typed copy is off (SinkOptions.typedTickets, for measurement). */
  private readonly typedTickets: SqliteTypedTickets | undefined;
  private readonly writeStreamPage: (input: PersistStreamPageInput) => PersistStreamPageResult;

  constructor(
    readonly filename: string,
    options: SinkOptions = {},
  ) {
    // Owner-only (0600, in a 0700 directory when created here) before SQLite opens it; see prepareSqliteFile.
    prepareSqliteFile(filename);
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    migrateSqlite(this.db, filename);
    this.typedTickets = options.typedTickets === false ? undefined : new SqliteTypedTickets(this.db);
    // `>=`: on equal generated_timestamp the later write wins.
    this.upsertTicket = this.db.prepare(`
      INSERT INTO tickets (account, id, generated_timestamp, updated_at, status, data, stored_at)
      VALUES (@account, @id, @generatedTimestamp, @updatedAt, @status, @data, @storedAt)
      ON CONFLICT (account, id) DO UPDATE SET
        generated_timestamp = excluded.generated_timestamp, updated_at = excluded.updated_at,
        status = excluded.status, data = excluded.data, stored_at = excluded.stored_at
      WHERE excluded.generated_timestamp >= tickets.generated_timestamp`);
    // The same version again writes nothing; the same key with other content replaces it (the later write wins).
    this.insertVersion =
      options.ticketVersions === false
        ? undefined
        : this.db.prepare(`
      INSERT INTO ticket_version (account, id, generated_timestamp, updated_at, status, data, stored_at)
      VALUES (@account, @id, @generatedTimestamp, @updatedAt, @status, @data, @storedAt)
      ON CONFLICT (account, id, generated_timestamp) DO UPDATE SET
        updated_at = excluded.updated_at, status = excluded.status, data = excluded.data, stored_at = excluded.stored_at
      WHERE excluded.data <> ticket_version.data`);
    this.upsertRejected = this.db.prepare(`
      INSERT INTO rejected_tickets (account, ticket_id, generated_timestamp, data, error, rejected_at)
      VALUES (@account, @ticketId, @generatedTimestamp, @data, @error, @rejectedAt)
      ON CONFLICT (account, ticket_id) DO UPDATE SET
        generated_timestamp = excluded.generated_timestamp, data = excluded.data, error = excluded.error,
        rejected_at = excluded.rejected_at`);
    this.upsertSideload = new Map(SIDELOAD_TABLES.map((table) => [table, this.prepareSideloadUpsert(table, false)]));
    this.upsertOtherSideload = this.prepareSideloadUpsert('other_sideloads', true);
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
      let rejected = 0;
      for (const row of input.rows) {
        const changes = this.storeTicket(input.account, row, storedAt);
        if (changes === undefined) rejected++;
        else written += changes;
      }
      for (const { row, reason } of input.setAside ?? []) this.setAside(input.account, row, reason, storedAt);
      const rejectedSideloads = this.storeSideloads(input, storedAt);
      for (const [key, name] of Object.entries(input.fieldHeaders)) this.upsertHeader.run(input.account, key, name);
      this.upsertCheckpoint.run(input.account, input.cursor, storedAt, input.api ?? null, input.afterCursor ?? null);
      const ignoredOlder = input.rows.length - written - rejected;
      return { written, ignoredOlder, rejected: rejected + (input.setAside?.length ?? 0), rejectedSideloads };
    });
    this.streams = new SqliteStreamTables(
      this.db,
      (account, entry, storedAt) => this.upsertSideloadEntry(account, entry, storedAt),
      isSqliteDataError,
    );
    this.writeStreamPage = this.db.transaction((input: PersistStreamPageInput) => this.streams.write(input));
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
      .get(account) as { cursor: number; api: string | null; afterCursor: string | null } | undefined;
    return row && { ...row, api: exportApiOf(row.api) };
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

  async readTicketVersions(account: string): Promise<StoredTicket[]> {
    const rows = this.db
      .prepare(
        `SELECT id, generated_timestamp AS generatedTimestamp, updated_at AS updatedAt, status, data
         FROM ticket_version WHERE account = ? ORDER BY id, generated_timestamp`,
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

  async readRejected(account: string): Promise<RejectedTicket[]> {
    const rows = this.db
      .prepare(
        `SELECT ticket_id AS ticketId, generated_timestamp AS generatedTimestamp, data, error
         FROM rejected_tickets WHERE account = ? ORDER BY ticket_id`,
      )
      .all(account);
    return rows as RejectedTicket[];
  }

  async countRejected(account: string): Promise<number> {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM rejected_tickets WHERE account = ?').get(account) as {
      n: number;
    };
    return row.n;
  }

  async readSideloads(account: string, kind: string): Promise<StoredSideload[]> {
    const select = 'SELECT id, updated_at AS updatedAt, data';
    const rows = (
      SIDELOAD_TABLES.includes(kind)
        ? this.db.prepare(`${select} FROM ${kind} WHERE account = ? ORDER BY id`).all(account)
        : this.db
            .prepare(`${select} FROM other_sideloads WHERE account = ? AND kind = ? ORDER BY id`)
            .all(account, kind)
    ) as { id: number | string; updatedAt: string | null; data: string }[];
    return rows.map((r) => ({
      id: String(r.id),
      updatedAt: r.updatedAt === null ? null : zendeskTimestamp(r.updatedAt),
      data: r.data,
    }));
  }

  async persistStreamPage(input: PersistStreamPageInput): Promise<PersistStreamPageResult> {
    return this.writeStreamPage(input);
  }

  async readStreamCheckpoint(account: string, stream: PagedStream): Promise<StreamCheckpoint | undefined> {
    return this.streams.readCheckpoint(account, stream);
  }

  async readStreamTable(account: string, table: string): Promise<Record<string, unknown>[]> {
    return this.streams.readTable(account, table);
  }

  async countStreamTable(account: string, table: string): Promise<number> {
    return this.streams.countTable(account, table);
  }

  async ping(timeoutMs: number): Promise<void> {
    // A connection of its own: the open one would keep answering from a file deleted or unmounted under it.
    const probe = new Database(this.filename, { readonly: true, fileMustExist: true, timeout: timeoutMs });
    try {
      probe.prepare('SELECT count(*) FROM sqlite_master').get();
    } finally {
      probe.close();
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** 1 if written, 0 if older than the stored version, undefined if set aside in rejected_tickets. */
  private storeTicket(account: string, row: TicketRow, storedAt: string): number | undefined {
    // JSON.stringify escapes NUL and lone surrogates, which better-sqlite3 would otherwise turn into U+FFFD.
    const data = JSON.stringify(row);
    const values = {
      account,
      id: scalar(row.id),
      generatedTimestamp: scalar(row.generated_timestamp),
      updatedAt: updatedAt(row),
      status: normalizedStatus(row),
      data,
      storedAt,
    };
    let changes: number;
    try {
      changes = this.upsertTicket.run(values).changes;
    } catch (err) {
      if (!isSqliteDataError(err)) throw err;
      this.setAside(account, row, shortError(err), storedAt, data);
      return undefined;
    }
    // The analysts' typed copy follows the stored version.
    if (changes > 0) this.typedTickets?.write(account, row, storedAt);
    // A version older than the stored ticket is still one the export saw. The same columns as tickets': what tickets
    // took, this takes.
    this.insertVersion?.run(values);
    return changes;
  }

  private setAside(
    account: string,
    row: Record<string, unknown>,
    error: string,
    at: string,
    data = JSON.stringify(row),
  ) {
    this.upsertRejected.run({
      account,
      ticketId: ticketIdText(row.id),
      generatedTimestamp: safeTimestamp(row.generated_timestamp),
      data,
      error,
      rejectedAt: at,
    });
  }

  /** Upserts the page's sideloads; returns how many records were skipped. */
  private storeSideloads(input: PersistPageInput, storedAt: string): number {
    const { entries, skipped } = sideloadEntries(input.sideloads);
    let refused = 0;
    for (const entry of entries) {
      try {
        this.upsertSideloadEntry(input.account, entry, storedAt);
      } catch (err) {
        if (!isSqliteDataError(err)) throw err;
        refused++;
      }
    }
    return skipped + refused;
  }

  /** 1 if written, 0 if older than the stored record. */
  private upsertSideloadEntry(account: string, entry: SideloadEntry, storedAt: string): number {
    const statement = this.upsertSideload.get(entry.kind) ?? this.upsertOtherSideload;
    return statement.run({ account, ...entry, storedAt }).changes;
  }

  // The newest updated_at wins; ties and a missing updated_at over a missing one: the later write.
  private prepareSideloadUpsert(table: string, withKind: boolean): Database.Statement {
    const key = withKind ? 'account, kind, id' : 'account, id';
    const deletedAt = table === 'organizations';
    return this.db.prepare(`
      INSERT INTO ${table} (${key}, updated_at, ${deletedAt ? 'deleted_at, ' : ''}data, stored_at)
      VALUES (@account, ${withKind ? '@kind, ' : ''}@id, @updatedAt, ${deletedAt ? '@deletedAt, ' : ''}@data, @storedAt)
      ON CONFLICT (${key}) DO UPDATE SET
        updated_at = excluded.updated_at, ${deletedAt ? 'deleted_at = excluded.deleted_at, ' : ''}data = excluded.data,
        stored_at = excluded.stored_at
      WHERE ${table}.updated_at IS NULL OR excluded.updated_at >= ${table}.updated_at`);
  }
}

/**
 * Errors the same row meets every time: a value a STRICT column or a constraint refuses. Others (SQLITE_BUSY, I/O,
 * a full disk) may pass and fail the page, so that it is retried.
 */
export function isSqliteDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/.test(code);
}
