import type Database from 'better-sqlite3';
import type { PersistStreamPageInput, PersistStreamPageResult, StreamCheckpoint, StreamRow } from '../streams/contract';
import type { PagedStream } from '../streams/names';
import { referenceRecord } from './reference-tables';
import { SqliteReferenceTables } from './sqlite-reference';
import { shortError, SideloadEntry } from './sink';
import {
  accountRecordEntry,
  metricEventRecord,
  RejectedStreamRow,
  rejectedRow,
  sortStreamPage,
  ticketEventRows,
} from './stream-rows';
import { streamTableRow, streamTableShape } from './stream-tables';

/**
 * The tables of the streams around the ticket as the baseline migration creates them (users and organizations are the
 * sideloads' tables). Migration 4 renames ticket_field_history to ticket_field_changes.
 */
export const SQLITE_STREAM_SCHEMA = `
CREATE TABLE IF NOT EXISTS ticket_events (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  ticket_id INTEGER,
  timestamp INTEGER,
  created_at TEXT,
  updater_id INTEGER,
  via TEXT,
  event_type TEXT,
  child_events TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;
CREATE TABLE IF NOT EXISTS ticket_comments (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  ticket_id INTEGER,
  event_id INTEGER NOT NULL,
  event_timestamp INTEGER,
  author_id INTEGER,
  public INTEGER,
  created_at TEXT,
  body TEXT,
  html_body TEXT,
  plain_body TEXT,
  attachments TEXT,
  via TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;
CREATE TABLE IF NOT EXISTS ticket_field_history (
  account TEXT NOT NULL,
  child_id INTEGER NOT NULL,
  field_name TEXT NOT NULL,
  ticket_id INTEGER,
  event_id INTEGER NOT NULL,
  value TEXT NOT NULL,
  previous_value TEXT,
  updated_at TEXT,
  updater_id INTEGER,
  event_type TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, child_id, field_name)
) STRICT;
CREATE TABLE IF NOT EXISTS ticket_metric_events (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  ticket_id INTEGER,
  metric TEXT,
  instance_id INTEGER,
  type TEXT,
  time TEXT,
  deleted INTEGER,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;
CREATE TABLE IF NOT EXISTS stream_checkpoints (
  account TEXT NOT NULL,
  stream TEXT NOT NULL,
  cursor INTEGER NOT NULL,
  after_cursor TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (account, stream)
) STRICT;
CREATE TABLE IF NOT EXISTS rejected_rows (
  account TEXT NOT NULL,
  stream TEXT NOT NULL,
  row_id TEXT NOT NULL,
  data TEXT NOT NULL,
  error TEXT NOT NULL,
  rejected_at TEXT NOT NULL,
  PRIMARY KEY (account, stream, row_id)
) STRICT;
`;

/** Upserts one user or organization into its table; returns 1 if written, 0 if older than the stored one. */
export type AccountRecordUpsert = (account: string, entry: SideloadEntry, storedAt: string) => number;

type Tally = Required<PersistStreamPageResult>;

/** The SQLite side of StreamSink, on the sink's connection; `write` runs inside the sink's transaction. */
export class SqliteStreamTables {
  private readonly upsertEvent: Database.Statement;
  private readonly upsertComment: Database.Statement;
  private readonly upsertFieldChange: Database.Statement;
  private readonly upsertMetricEvent: Database.Statement;
  private readonly upsertRejected: Database.Statement;
  private readonly upsertCheckpoint: Database.Statement;
  private readonly storeEvent: (account: string, row: StreamRow, id: number, storedAt: string, tally: Tally) => void;
  private readonly references: SqliteReferenceTables;

  constructor(
    private readonly db: Database.Database,
    private readonly upsertAccountRecord: AccountRecordUpsert,
    private readonly isDataError: (err: unknown) => boolean,
  ) {
    this.upsertEvent = db.prepare(`
      INSERT INTO ticket_events (account, id, ticket_id, timestamp, created_at, updater_id, via, event_type,
        child_events, data, stored_at)
      VALUES (@account, @id, @ticketId, @timestamp, @createdAt, @updaterId, @via, @eventType, @childEvents, @data,
        @storedAt)
      ON CONFLICT (account, id) DO UPDATE SET
        ticket_id = excluded.ticket_id, timestamp = excluded.timestamp, created_at = excluded.created_at,
        updater_id = excluded.updater_id, via = excluded.via, event_type = excluded.event_type,
        child_events = excluded.child_events, data = excluded.data, stored_at = excluded.stored_at`);
    // The copy of the newest event wins (a redaction lands); ties and a missing timestamp over a missing one: this one.
    this.upsertComment = db.prepare(`
      INSERT INTO ticket_comments (account, id, ticket_id, event_id, event_timestamp, author_id, public, created_at,
        body, html_body, plain_body, attachments, via, data, stored_at)
      VALUES (@account, @id, @ticketId, @eventId, @eventTimestamp, @authorId, @public, @createdAt, @body, @htmlBody,
        @plainBody, @attachments, @via, @data, @storedAt)
      ON CONFLICT (account, id) DO UPDATE SET
        ticket_id = excluded.ticket_id, event_id = excluded.event_id, event_timestamp = excluded.event_timestamp,
        author_id = excluded.author_id, public = excluded.public, created_at = excluded.created_at,
        body = excluded.body, html_body = excluded.html_body, plain_body = excluded.plain_body,
        attachments = excluded.attachments, via = excluded.via, data = excluded.data, stored_at = excluded.stored_at
      WHERE ticket_comments.event_timestamp IS NULL OR excluded.event_timestamp >= ticket_comments.event_timestamp`);
    this.upsertFieldChange = db.prepare(`
      INSERT INTO ticket_field_changes (account, child_id, field_name, ticket_id, event_id, value, previous_value,
        updated_at, updater_id, event_type, stored_at)
      VALUES (@account, @childId, @fieldName, @ticketId, @eventId, @value, @previousValue, @updatedAt, @updaterId,
        @eventType, @storedAt)
      ON CONFLICT (account, child_id, field_name) DO UPDATE SET
        ticket_id = excluded.ticket_id, event_id = excluded.event_id, value = excluded.value,
        previous_value = excluded.previous_value, updated_at = excluded.updated_at, updater_id = excluded.updater_id,
        event_type = excluded.event_type, stored_at = excluded.stored_at`);
    this.upsertMetricEvent = db.prepare(`
      INSERT INTO ticket_metric_events (account, id, ticket_id, metric, instance_id, type, time, deleted, data,
        stored_at)
      VALUES (@account, @id, @ticketId, @metric, @instanceId, @type, @time, @deleted, @data, @storedAt)
      ON CONFLICT (account, id) DO UPDATE SET
        ticket_id = excluded.ticket_id, metric = excluded.metric, instance_id = excluded.instance_id,
        type = excluded.type, time = excluded.time, deleted = excluded.deleted, data = excluded.data,
        stored_at = excluded.stored_at`);
    this.upsertRejected = db.prepare(`
      INSERT INTO rejected_rows (account, stream, row_id, data, error, rejected_at)
      VALUES (@account, @stream, @rowId, @data, @error, @rejectedAt)
      ON CONFLICT (account, stream, row_id) DO UPDATE SET
        data = excluded.data, error = excluded.error, rejected_at = excluded.rejected_at`);
    this.upsertCheckpoint = db.prepare(`
      INSERT INTO stream_checkpoints (account, stream, cursor, after_cursor, updated_at)
      VALUES (@account, @stream, @cursor, @afterCursor, @updatedAt)
      ON CONFLICT (account, stream) DO UPDATE SET
        cursor = excluded.cursor, after_cursor = excluded.after_cursor, updated_at = excluded.updated_at`);
    this.references = new SqliteReferenceTables(db);
    // Inside the page's transaction this is a savepoint: an event the database refuses leaves none of its rows.
    this.storeEvent = db.transaction((account: string, row: StreamRow, id: number, storedAt: string, tally: Tally) => {
      const { event, comments, fieldChanges } = ticketEventRows(row, id);
      this.upsertEvent.run({ account, ...event, storedAt });
      let written = 0;
      for (const comment of comments) {
        written += this.upsertComment.run({ account, ...comment, public: bit(comment.public), storedAt }).changes;
      }
      for (const change of fieldChanges) this.upsertFieldChange.run({ account, ...change, storedAt });
      tally.comments += written;
      tally.ignoredOlder += comments.length - written;
      tally.fieldChanges += fieldChanges.length;
    });
  }

  /** Stores the page and its checkpoint; the caller's transaction makes it all or nothing. */
  write(input: PersistStreamPageInput): PersistStreamPageResult {
    if (input.stream === 'reference_lists' && !input.refresh)
      throw new Error('a reference list page without its refresh');
    const storedAt = new Date().toISOString();
    const { kept, rejected } = sortStreamPage(input);
    const tally: Tally = { written: 0, ignoredOlder: 0, rejected: 0, comments: 0, fieldChanges: 0 };
    for (const { id, row } of kept) {
      try {
        this.storeRow(input, row, id, storedAt, tally);
      } catch (err) {
        if (!this.isDataError(err)) throw err;
        rejected.push(rejectedRow(row, shortError(err)));
      }
    }
    for (const entry of rejected) this.setAside(input.account, input.stream, entry, storedAt);
    const { refresh } = input;
    if (refresh?.lastPage) this.references.markUnseen(refresh.list, input.account, refresh.refreshId, storedAt);
    this.upsertCheckpoint.run({
      account: input.account,
      stream: input.stream,
      cursor: input.checkpoint.cursor,
      afterCursor: input.checkpoint.afterCursor ?? null,
      updatedAt: storedAt,
    });
    tally.rejected = rejected.length;
    const { comments, fieldChanges, ...counts } = tally;
    return input.stream === 'ticket_events' ? { ...counts, comments, fieldChanges } : counts;
  }

  readCheckpoint(account: string, stream: PagedStream): StreamCheckpoint | undefined {
    return this.db
      .prepare('SELECT cursor, after_cursor AS afterCursor FROM stream_checkpoints WHERE account = ? AND stream = ?')
      .get(account, stream) as StreamCheckpoint | undefined;
  }

  readTable(account: string, table: string): Record<string, unknown>[] {
    const shape = streamTableShape(table);
    const columns = Object.keys(shape.columns).map(quoted).join(', ');
    const rows = this.db
      .prepare(`SELECT ${columns} FROM ${shape.name} WHERE account = ? ORDER BY ${shape.key.map(quoted).join(', ')}`)
      .all(account) as Record<string, unknown>[];
    return rows.map((row) => streamTableRow(shape, row));
  }

  countTable(account: string, table: string): number {
    const { name } = streamTableShape(table);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${name} WHERE account = ?`).get(account) as { n: number }).n;
  }

  private storeRow(input: PersistStreamPageInput, row: StreamRow, id: number, storedAt: string, tally: Tally): void {
    const { account, stream } = input;
    if (stream === 'ticket_events') {
      this.storeEvent(account, row, id, storedAt, tally);
      tally.written++;
    } else if (input.refresh) {
      this.references.upsert(input.refresh.list, account, referenceRecord(row, id), input.refresh.refreshId, storedAt);
      tally.written++;
    } else if (stream === 'ticket_metric_events') {
      const record = metricEventRecord(row, id);
      this.upsertMetricEvent.run({ account, ...record, deleted: bit(record.deleted), storedAt });
      tally.written++;
    } else if (stream === 'users' || stream === 'organizations') {
      const changes = this.upsertAccountRecord(account, accountRecordEntry(stream, row, id), storedAt);
      tally.written += changes;
      tally.ignoredOlder += 1 - changes;
    }
  }

  private setAside(account: string, stream: PagedStream, entry: RejectedStreamRow, rejectedAt: string): void {
    this.upsertRejected.run({ account, stream, ...entry, rejectedAt });
  }
}

function bit(value: boolean | null): number | null {
  return value === null ? null : Number(value);
}

function quoted(column: string): string {
  return `"${column}"`;
}
