import type { Pool, PoolClient } from 'pg';
import type { PersistStreamPageInput, PersistStreamPageResult, StreamCheckpoint, StreamRow } from '../streams/contract';
import type { PagedStream } from '../streams/names';
import { markUnseenReferenceRows, upsertReferenceRows } from './postgres-reference';
import { referenceRecord } from './reference-tables';
import { storeOrSetAside } from './postgres-batch';
import { jsonbCanHold, SideloadEntry } from './sink';
import {
  accountRecordEntry,
  lastPerKey,
  metricEventRecord,
  newestPerKey,
  RejectedStreamRow,
  rejectedRow,
  sortStreamPage,
  ticketEventRows,
} from './stream-rows';
import { streamTableRow, streamTableShape } from './stream-tables';

/**
 * The tables of the streams around the ticket (a migration of postgres.ts). users and organizations are the sideloads'
 * tables; organizations gains deleted_at. rejected_rows.data is text: it holds what jsonb cannot. Migration 7 renames
 * ticket_field_history to ticket_field_changes.
 */
export const POSTGRES_STREAM_TABLES = `
  CREATE TABLE ticket_events (
    account TEXT NOT NULL,
    id BIGINT NOT NULL,
    ticket_id BIGINT,
    "timestamp" BIGINT,
    created_at TIMESTAMPTZ,
    updater_id BIGINT,
    via JSONB,
    event_type TEXT,
    child_events JSONB,
    data JSONB NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, id)
  );
  CREATE TABLE ticket_comments (
    account TEXT NOT NULL,
    id BIGINT NOT NULL,
    ticket_id BIGINT,
    event_id BIGINT NOT NULL,
    event_timestamp BIGINT,
    author_id BIGINT,
    public BOOLEAN,
    created_at TIMESTAMPTZ,
    body TEXT,
    html_body TEXT,
    plain_body TEXT,
    attachments JSONB,
    via JSONB,
    data JSONB NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, id)
  );
  CREATE TABLE ticket_field_history (
    account TEXT NOT NULL,
    child_id BIGINT NOT NULL,
    field_name TEXT NOT NULL,
    ticket_id BIGINT,
    event_id BIGINT NOT NULL,
    value JSONB NOT NULL,
    previous_value JSONB,
    updated_at TIMESTAMPTZ,
    updater_id BIGINT,
    event_type TEXT NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, child_id, field_name)
  );
  CREATE TABLE ticket_metric_events (
    account TEXT NOT NULL,
    id BIGINT NOT NULL,
    ticket_id BIGINT,
    metric TEXT,
    instance_id BIGINT,
    "type" TEXT,
    "time" TIMESTAMPTZ,
    deleted BOOLEAN,
    data JSONB NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, id)
  );
  CREATE TABLE stream_checkpoints (
    account TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor BIGINT NOT NULL,
    after_cursor TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, stream)
  );
  CREATE TABLE rejected_rows (
    account TEXT NOT NULL,
    stream TEXT NOT NULL,
    row_id TEXT NOT NULL,
    data TEXT NOT NULL,
    error TEXT NOT NULL,
    rejected_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, stream, row_id)
  );
  ALTER TABLE organizations ADD COLUMN deleted_at TIMESTAMPTZ;`;

// One statement per table and batch: arrays of columns, unnested server-side; JSON travels as text.
const UPSERT_EVENTS = `
  INSERT INTO ticket_events (account, id, ticket_id, "timestamp", created_at, updater_id, via, event_type,
    child_events, data, stored_at)
  SELECT $1, e.id, e.ticket_id, e.ts, e.created_at, e.updater_id, e.via::jsonb, e.event_type, e.child_events::jsonb,
    e.data::jsonb, $2
  FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::timestamptz[], $7::bigint[], $8::text[], $9::text[],
    $10::text[], $11::text[]) AS e(id, ticket_id, ts, created_at, updater_id, via, event_type, child_events, data)
  ON CONFLICT (account, id) DO UPDATE SET
    ticket_id = excluded.ticket_id, "timestamp" = excluded."timestamp", created_at = excluded.created_at,
    updater_id = excluded.updater_id, via = excluded.via, event_type = excluded.event_type,
    child_events = excluded.child_events, data = excluded.data, stored_at = excluded.stored_at`;

// The copy of the newest event wins (a redaction lands); ties and a missing timestamp over a missing one: this one.
const UPSERT_COMMENTS = `
  INSERT INTO ticket_comments (account, id, ticket_id, event_id, event_timestamp, author_id, public, created_at, body,
    html_body, plain_body, attachments, via, data, stored_at)
  SELECT $1, c.id, c.ticket_id, c.event_id, c.event_ts, c.author_id, c.public, c.created_at, c.body, c.html_body,
    c.plain_body, c.attachments::jsonb, c.via::jsonb, c.data::jsonb, $2
  FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::boolean[], $9::timestamptz[],
    $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])
    AS c(id, ticket_id, event_id, event_ts, author_id, public, created_at, body, html_body, plain_body, attachments,
      via, data)
  ON CONFLICT (account, id) DO UPDATE SET
    ticket_id = excluded.ticket_id, event_id = excluded.event_id, event_timestamp = excluded.event_timestamp,
    author_id = excluded.author_id, public = excluded.public, created_at = excluded.created_at, body = excluded.body,
    html_body = excluded.html_body, plain_body = excluded.plain_body, attachments = excluded.attachments,
    via = excluded.via, data = excluded.data, stored_at = excluded.stored_at
  WHERE ticket_comments.event_timestamp IS NULL OR excluded.event_timestamp >= ticket_comments.event_timestamp`;

const UPSERT_FIELD_CHANGES = `
  INSERT INTO ticket_field_changes (account, child_id, field_name, ticket_id, event_id, value, previous_value,
    updated_at, updater_id, event_type, stored_at)
  SELECT $1, f.child_id, f.field_name, f.ticket_id, f.event_id, f.value::jsonb, f.previous_value::jsonb, f.updated_at,
    f.updater_id, f.event_type, $2
  FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::timestamptz[],
    $10::bigint[], $11::text[])
    AS f(child_id, field_name, ticket_id, event_id, value, previous_value, updated_at, updater_id, event_type)
  ON CONFLICT (account, child_id, field_name) DO UPDATE SET
    ticket_id = excluded.ticket_id, event_id = excluded.event_id, value = excluded.value,
    previous_value = excluded.previous_value, updated_at = excluded.updated_at, updater_id = excluded.updater_id,
    event_type = excluded.event_type, stored_at = excluded.stored_at`;

const UPSERT_METRIC_EVENTS = `
  INSERT INTO ticket_metric_events (account, id, ticket_id, metric, instance_id, "type", "time", deleted, data,
    stored_at)
  SELECT $1, m.id, m.ticket_id, m.metric, m.instance_id, m.type, m.time, m.deleted, m.data::jsonb, $2
  FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::timestamptz[], $9::boolean[],
    $10::text[]) AS m(id, ticket_id, metric, instance_id, type, time, deleted, data)
  ON CONFLICT (account, id) DO UPDATE SET
    ticket_id = excluded.ticket_id, metric = excluded.metric, instance_id = excluded.instance_id,
    "type" = excluded."type", "time" = excluded."time", deleted = excluded.deleted, data = excluded.data,
    stored_at = excluded.stored_at`;

const UPSERT_REJECTED = `
  INSERT INTO rejected_rows (account, stream, row_id, data, error, rejected_at)
  SELECT $1, $2, r.row_id, r.data, r.error, $3
  FROM unnest($4::text[], $5::text[], $6::text[]) AS r(row_id, data, error)
  ON CONFLICT (account, stream, row_id) DO UPDATE SET
    data = excluded.data, error = excluded.error, rejected_at = excluded.rejected_at`;

/** Upserts users or organizations (one entry per id) into their table; returns how many were written. */
export type AccountRecordsUpsert = (
  db: PoolClient,
  account: string,
  storedAt: string,
  table: 'users' | 'organizations',
  entries: SideloadEntry[],
) => Promise<number>;

type Tally = Required<PersistStreamPageResult>;
type KeptRow = { id: number; row: StreamRow };

/** Stores the page and its checkpoint on `db`, inside the caller's transaction. */
export async function writeStreamPage(
  db: PoolClient,
  input: PersistStreamPageInput,
  upsertAccountRecords: AccountRecordsUpsert,
): Promise<PersistStreamPageResult> {
  if (input.stream === 'reference_lists' && !input.refresh)
    throw new Error('a reference list page without its refresh');
  const storedAt = new Date().toISOString();
  const { kept: usable, rejected } = sortStreamPage(input);
  const kept = usable.filter(({ row }) => {
    if (!holdsOnlyInRaw(input.stream, row)) return true;
    rejected.push(rejectedRow(row, JSONB_REFUSES_ROW));
    return false;
  });
  const tally: Tally = { written: 0, ignoredOlder: 0, rejected: 0, comments: 0, fieldChanges: 0 };
  const outcome = await storeOrSetAside(db, kept, async (batch) => {
    const counts = await storeBatch(db, input, batch, storedAt, upsertAccountRecords);
    // Counted only once the whole batch is stored: a refused one is split and stored again.
    for (const key of Object.keys(tally) as (keyof Tally)[]) tally[key] += counts[key];
    return batch.length;
  });
  rejected.push(...outcome.refused.map(({ item, error }) => rejectedRow(item.row, error)));
  await setAside(db, input.account, input.stream, storedAt, rejected);
  const { refresh } = input;
  if (refresh?.lastPage) await markUnseenReferenceRows(db, refresh.list, input.account, refresh.refreshId, storedAt);
  await db.query(
    `INSERT INTO stream_checkpoints (account, stream, cursor, after_cursor, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account, stream) DO UPDATE SET
       cursor = excluded.cursor, after_cursor = excluded.after_cursor, updated_at = excluded.updated_at`,
    [input.account, input.stream, input.checkpoint.cursor, input.checkpoint.afterCursor ?? null, storedAt],
  );
  tally.rejected = rejected.length;
  const { comments, fieldChanges, ...counts } = tally;
  return input.stream === 'ticket_events' ? { ...counts, comments, fieldChanges } : counts;
}

const JSONB_REFUSES_ROW = 'PostgreSQL jsonb cannot hold this row: it has a NUL character or a lone UTF-16 surrogate';

/**
 * Whether only a text column could hold the row: the stream tables keep rows as jsonb alone, users and organizations
 * keep them in raw too. Set aside at once, such a row costs no failed statement per half of its page.
 */
function holdsOnlyInRaw(stream: PagedStream, row: StreamRow): boolean {
  const jsonbOnly = stream === 'ticket_events' || stream === 'ticket_metric_events' || stream === 'reference_lists';
  return jsonbOnly && !jsonbCanHold(JSON.stringify(row));
}

async function storeBatch(
  db: PoolClient,
  input: PersistStreamPageInput,
  batch: KeptRow[],
  storedAt: string,
  upsertAccountRecords: AccountRecordsUpsert,
): Promise<Tally> {
  const { account, stream } = input;
  const tally: Tally = { written: batch.length, ignoredOlder: 0, rejected: 0, comments: 0, fieldChanges: 0 };
  if (stream === 'ticket_events') return storeTicketEvents(db, account, storedAt, batch, tally);
  if (stream === 'ticket_metric_events') {
    await upsertMetricEvents(db, account, storedAt, batch);
    return tally;
  }
  if (input.refresh) {
    const records = lastPerKey(
      batch.map(({ id, row }) => referenceRecord(row, id)),
      (r) => r.id,
    );
    await upsertReferenceRows(db, input.refresh.list, account, storedAt, input.refresh.refreshId, records);
    return tally;
  }
  if (stream !== 'users' && stream !== 'organizations') throw new Error(`no table for the stream ${stream}`);
  const entries = batch.map(({ id, row }) => accountRecordEntry(stream, row, id));
  const newest = newestPerKey(
    entries,
    (e) => e.id,
    (e) => e.updatedAt,
  );
  const written = await upsertAccountRecords(db, account, storedAt, stream, newest.kept);
  return {
    ...tally,
    written: newest.superseded + written,
    ignoredOlder: newest.older + newest.kept.length - written,
  };
}

async function storeTicketEvents(
  db: PoolClient,
  account: string,
  storedAt: string,
  batch: KeptRow[],
  tally: Tally,
): Promise<Tally> {
  const derived = batch.map(({ id, row }) => ticketEventRows(row, id));
  const events = lastPerKey(
    derived.map((d) => d.event),
    (e) => e.id,
  );
  await db.query(UPSERT_EVENTS, [
    account,
    storedAt,
    events.map((e) => e.id),
    events.map((e) => e.ticketId),
    events.map((e) => e.timestamp),
    events.map((e) => e.createdAt),
    events.map((e) => e.updaterId),
    events.map((e) => e.via),
    events.map((e) => e.eventType),
    events.map((e) => e.childEvents),
    events.map((e) => e.data),
  ]);
  const comments = newestPerKey(
    derived.flatMap((d) => d.comments),
    (c) => c.id,
    (c) => c.eventTimestamp,
  );
  let written = 0;
  if (comments.kept.length > 0) {
    const c = comments.kept;
    const result = await db.query(UPSERT_COMMENTS, [
      account,
      storedAt,
      c.map((x) => x.id),
      c.map((x) => x.ticketId),
      c.map((x) => x.eventId),
      c.map((x) => x.eventTimestamp),
      c.map((x) => x.authorId),
      c.map((x) => x.public),
      c.map((x) => x.createdAt),
      c.map((x) => x.body),
      c.map((x) => x.htmlBody),
      c.map((x) => x.plainBody),
      c.map((x) => x.attachments),
      c.map((x) => x.via),
      c.map((x) => x.data),
    ]);
    written = result.rowCount ?? 0;
  }
  const allChanges = derived.flatMap((d) => d.fieldChanges);
  const changes = lastPerKey(allChanges, (f) => JSON.stringify([f.childId, f.fieldName]));
  if (changes.length > 0) {
    await db.query(UPSERT_FIELD_CHANGES, [
      account,
      storedAt,
      changes.map((f) => f.childId),
      changes.map((f) => f.fieldName),
      changes.map((f) => f.ticketId),
      changes.map((f) => f.eventId),
      changes.map((f) => f.value),
      changes.map((f) => f.previousValue),
      changes.map((f) => f.updatedAt),
      changes.map((f) => f.updaterId),
      changes.map((f) => f.eventType),
    ]);
  }
  return {
    ...tally,
    comments: comments.superseded + written,
    ignoredOlder: comments.older + comments.kept.length - written,
    fieldChanges: allChanges.length,
  };
}

async function upsertMetricEvents(db: PoolClient, account: string, storedAt: string, batch: KeptRow[]) {
  const records = lastPerKey(
    batch.map(({ id, row }) => metricEventRecord(row, id)),
    (m) => m.id,
  );
  await db.query(UPSERT_METRIC_EVENTS, [
    account,
    storedAt,
    records.map((m) => m.id),
    records.map((m) => m.ticketId),
    records.map((m) => m.metric),
    records.map((m) => m.instanceId),
    records.map((m) => m.type),
    records.map((m) => m.time),
    records.map((m) => m.deleted),
    records.map((m) => m.data),
  ]);
}

async function setAside(
  db: PoolClient,
  account: string,
  stream: PagedStream,
  rejectedAt: string,
  rows: RejectedStreamRow[],
) {
  if (rows.length === 0) return;
  const entries = lastPerKey(rows, (r) => r.rowId);
  await db.query(UPSERT_REJECTED, [
    account,
    stream,
    rejectedAt,
    entries.map((r) => r.rowId),
    entries.map((r) => r.data),
    entries.map((r) => r.error),
  ]);
}

export async function readStreamCheckpoint(
  pool: Pool,
  account: string,
  stream: PagedStream,
): Promise<StreamCheckpoint | undefined> {
  const { rows } = await pool.query<{ cursor: string; after_cursor: string | null }>(
    'SELECT cursor, after_cursor FROM stream_checkpoints WHERE account = $1 AND stream = $2',
    [account, stream],
  );
  return rows[0] && { cursor: Number(rows[0].cursor), afterCursor: rows[0].after_cursor };
}

export async function readStreamTable(pool: Pool, account: string, table: string): Promise<Record<string, unknown>[]> {
  const shape = streamTableShape(table);
  const columns = Object.entries(shape.columns).map(([column, kind]) => {
    // users, organizations and groups keep the record as received in raw (data is NULL where jsonb cannot hold it).
    if (column === 'data' && (shape.name === 'users' || shape.name === 'organizations' || shape.name === 'groups')) {
      return 'COALESCE(raw, data::text) AS data';
    }
    return kind === 'json' ? `"${column}"::text AS "${column}"` : `"${column}"`;
  });
  const order = shape.key.map((column) =>
    shape.columns[column] === 'text' ? `"${column}" COLLATE "C"` : `"${column}"`,
  );
  const { rows } = await pool.query<Record<string, unknown>>(
    `SELECT ${columns.join(', ')} FROM ${shape.name} WHERE account = $1 ORDER BY ${order.join(', ')}`,
    [account],
  );
  return rows.map((row) => streamTableRow(shape, row));
}

export async function countStreamTable(pool: Pool, account: string, table: string): Promise<number> {
  const { name } = streamTableShape(table);
  const { rows } = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${name} WHERE account = $1`, [account]);
  return Number(rows[0].n);
}
