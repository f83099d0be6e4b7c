import { analystIndexesSql } from './indexes';
import {
  ANALYST_VIEWS,
  analystName,
  analystViewsSql,
  POSTGRES_ANALYST_FUNCTIONS,
  typedTicketStatusGroupIndexSql,
  typedTicketTablesSql,
} from './analyst/schema';
import { fillTypedTicketsPostgres, writeTypedTickets } from './analyst/postgres-typed-tickets';
import { Client, ClientConfig, Pool, PoolClient } from 'pg';
import type { PersistStreamPageInput, PersistStreamPageResult, StreamCheckpoint } from '../streams/contract';
import type { PagedStream } from '../streams/names';
import {
  Checkpoint,
  exportApiOf,
  isoTimestamp,
  jsonbCanHold,
  normalizedStatus,
  PersistPageInput,
  PersistResult,
  RejectedTicket,
  safeTimestamp,
  scalar,
  SIDELOAD_TABLES,
  sideloadEntries,
  SideloadEntry,
  SinkOptions,
  StoredSideload,
  StoredTicket,
  ticketIdText,
  TicketRow,
  TicketSink,
  zendeskTimestamp,
} from './sink';
import { hasSqlState, Refused, storeOrSetAside } from './postgres-batch';
import {
  AccountRecordsUpsert,
  countStreamTable,
  POSTGRES_STREAM_TABLES,
  readStreamCheckpoint,
  readStreamTable,
  writeStreamPage,
} from './postgres-streams';
import { postgresReferenceSchema } from './postgres-reference';
import { DEFAULT_POSTGRES_TIMEOUTS, PostgresTimeouts, STATEMENT_GRACE_SECONDS } from './postgres-timeouts';

export { isPostgresDataError } from './postgres-batch';

/** Versioned schema changes, applied in order at start; each runs once per database. */
interface PostgresMigration {
  version: number;
  sql: string;
  /** Work after the statements, in the same transaction (filling a new table from the stored rows). */
  fill?: (db: PoolClient) => Promise<unknown>;
}

const MIGRATIONS: PostgresMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE tickets (
        account TEXT NOT NULL,
        id BIGINT NOT NULL,
        generated_timestamp BIGINT NOT NULL,
        updated_at TIMESTAMPTZ,
        status TEXT,
        data JSONB NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, id)
      );
      CREATE TABLE export_checkpoints (
        account TEXT PRIMARY KEY,
        cursor BIGINT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        api TEXT,
        after_cursor TEXT
      );
      CREATE TABLE field_headers (
        account TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (account, key)
      );`,
  },
  {
    version: 2,
    // Claim-checked payloads (src/codec/postgres-blob-store.ts). They are gzip output already, so TOAST compression
    // would only burn CPU: EXTERNAL stores them out of line uncompressed.
    sql: `
      CREATE TABLE payload_blobs (
        id TEXT PRIMARY KEY,
        data BYTEA NOT NULL,
        size INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
      );
      ALTER TABLE payload_blobs ALTER COLUMN data SET STORAGE EXTERNAL;
      CREATE INDEX payload_blobs_created_at ON payload_blobs (created_at);`,
  },
  {
    version: 3,
    // `raw` is the row as received (JSON.stringify text); `data` the same as jsonb for queries, NULL where jsonb cannot
    // hold it (NUL, a lone surrogate). Rows written before keep raw NULL: their data is all there is.
    sql: `
      ALTER TABLE tickets ALTER COLUMN data DROP NOT NULL;
      ALTER TABLE tickets ADD COLUMN raw TEXT;
      CREATE TABLE rejected_tickets (
        account TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        generated_timestamp BIGINT,
        data TEXT NOT NULL,
        error TEXT NOT NULL,
        rejected_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, ticket_id)
      );
      CREATE TABLE users (
        account TEXT NOT NULL,
        id BIGINT NOT NULL,
        updated_at TIMESTAMPTZ,
        data JSONB,
        raw TEXT NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, id)
      );
      CREATE TABLE groups (
        account TEXT NOT NULL,
        id BIGINT NOT NULL,
        updated_at TIMESTAMPTZ,
        data JSONB,
        raw TEXT NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, id)
      );
      CREATE TABLE organizations (
        account TEXT NOT NULL,
        id BIGINT NOT NULL,
        updated_at TIMESTAMPTZ,
        data JSONB,
        raw TEXT NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, id)
      );
      CREATE TABLE other_sideloads (
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        updated_at TIMESTAMPTZ,
        data JSONB,
        raw TEXT NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, kind, id)
      );`,
  },
  { version: 4, sql: POSTGRES_STREAM_TABLES },
  {
    version: 5,
    // Every version of a ticket the export saw: append-only, one row per (account, id, generated_timestamp); data and
    // raw as in tickets. The primary key's leading columns are the (account, id) index a ticket's history is read by.
    sql: `
      CREATE TABLE ticket_version (
        account TEXT NOT NULL,
        id BIGINT NOT NULL,
        generated_timestamp BIGINT NOT NULL,
        updated_at TIMESTAMPTZ,
        status TEXT,
        data JSONB,
        raw TEXT NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, id, generated_timestamp)
      );`,
  },
  // What analysts filter on (indexes.ts): tickets by status and updated_at, the tables around the ticket by ticket_id.
  { version: 6, sql: analystIndexesSql() },
  {
    // The analysts' tables in the schema zendesk. The stored field changes make way for the typed ticket_field_history
    // (a view); the typed ticket tables are filled from the tickets already stored.
    version: 7,
    sql: `
      ALTER TABLE ticket_field_history RENAME TO ticket_field_changes;
      ALTER TABLE ticket_field_changes RENAME CONSTRAINT ticket_field_history_pkey TO ticket_field_changes_pkey;
      ALTER INDEX ticket_field_history_ticket_id RENAME TO ticket_field_changes_ticket_id;
      ${POSTGRES_ANALYST_FUNCTIONS}
      ${typedTicketTablesSql('postgres')}`,
    fill: fillTypedTicketsPostgres,
  },
  // The reference lists' tables (groups gains deleted_at and last_refresh) (the views over them: analyst/schema.ts).
  { version: 8, sql: postgresReferenceSchema() },
  // Open tickets per group from an index (the bench's analyst queries, docs/benchmarks.md#analyst-queries).
  { version: 9, sql: typedTicketStatusGroupIndexSql('postgres') },
];

/**
 * The views hold no data: the newest migration makes them again from ANALYST_VIEWS, so a view reads the tables of the
 * newest version. A change to a view therefore comes with a migration (one that may do nothing else).
 */
async function remakeAnalystViews(db: PoolClient): Promise<void> {
  for (const { name } of ANALYST_VIEWS) await db.query(`DROP VIEW IF EXISTS ${analystName('postgres', name)}`);
  await db.query(analystViewsSql('postgres'));
}

/** The version this code writes. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

// One statement per page: arrays of columns, unnested server-side. `>=`: on a tie the later write wins.
const UPSERT_TICKETS = `
  INSERT INTO tickets (account, id, generated_timestamp, updated_at, status, data, raw, stored_at)
  SELECT $1, t.id, t.gts, t.updated_at, t.status, CASE WHEN t.jsonb THEN t.raw::jsonb END, t.raw, $2
  FROM unnest($3::bigint[], $4::bigint[], $5::timestamptz[], $6::text[], $7::text[], $8::boolean[])
    AS t(id, gts, updated_at, status, raw, jsonb)
  ON CONFLICT (account, id) DO UPDATE SET
    generated_timestamp = excluded.generated_timestamp, updated_at = excluded.updated_at,
    status = excluded.status, data = excluded.data, raw = excluded.raw, stored_at = excluded.stored_at
  WHERE excluded.generated_timestamp >= tickets.generated_timestamp
  RETURNING id`;

// The same version again writes nothing; the same key with other content replaces it (the later write wins).
const INSERT_VERSIONS = `
  INSERT INTO ticket_version (account, id, generated_timestamp, updated_at, status, data, raw, stored_at)
  SELECT $1, t.id, t.gts, t.updated_at, t.status, CASE WHEN t.jsonb THEN t.raw::jsonb END, t.raw, $2
  FROM unnest($3::bigint[], $4::bigint[], $5::timestamptz[], $6::text[], $7::text[], $8::boolean[])
    AS t(id, gts, updated_at, status, raw, jsonb)
  ON CONFLICT (account, id, generated_timestamp) DO UPDATE SET
    updated_at = excluded.updated_at, status = excluded.status, data = excluded.data, raw = excluded.raw,
    stored_at = excluded.stored_at
  WHERE excluded.raw <> ticket_version.raw
  RETURNING id`;

const UPSERT_REJECTED = `
  INSERT INTO rejected_tickets (account, ticket_id, generated_timestamp, data, error, rejected_at)
  SELECT $1, r.ticket_id, r.gts, r.data, r.error, $2
  FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[]) AS r(ticket_id, gts, data, error)
  ON CONFLICT (account, ticket_id) DO UPDATE SET
    generated_timestamp = excluded.generated_timestamp, data = excluded.data, error = excluded.error,
    rejected_at = excluded.rejected_at`;

// The newest updated_at wins; ties and a missing updated_at over a missing one: the later write.
function upsertSideloadsSql(table: string): string {
  const other = table === 'other_sideloads';
  const key = other ? 'account, kind, id' : 'account, id';
  const deletedAt = table === 'organizations';
  return `
    INSERT INTO ${table} (${key}, updated_at, ${deletedAt ? 'deleted_at, ' : ''}data, raw, stored_at)
    SELECT $1, ${other ? 's.kind, s.id' : 's.id::bigint'}, s.updated_at, ${deletedAt ? 's.deleted_at, ' : ''}
      CASE WHEN s.jsonb THEN s.raw::jsonb END, s.raw, $2
    FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::boolean[], $8::timestamptz[])
      AS s(kind, id, updated_at, raw, jsonb, deleted_at)
    ON CONFLICT (${key}) DO UPDATE SET
      updated_at = excluded.updated_at, ${deletedAt ? 'deleted_at = excluded.deleted_at, ' : ''}data = excluded.data,
      raw = excluded.raw, stored_at = excluded.stored_at
    WHERE ${table}.updated_at IS NULL OR excluded.updated_at >= ${table}.updated_at`;
}

// Any constant works: it serializes concurrent migrations of workers that start together.
const MIGRATION_LOCK = 7_362_915_001;

type ConnectCallback = ((err: Error) => void) | ((err: null, client: Client) => void);

/**
 * A pg Client whose connection attempt ends after `ms`. The pool's own connectionTimeoutMillis would also bound the
 * wait for a free pooled connection, which many accounts' pages legitimately queue for.
 */
function clientClass(ms: number): typeof Client {
  const message = `PostgreSQL did not accept the connection within ${ms / 1000} s (SINK_CONNECT_TIMEOUT_SECONDS)`;
  // pg's own timer destroys the socket with this error.
  const clarify = (err: Error) => (err?.message === 'timeout expired' ? new Error(message, { cause: err }) : err);
  return class ConnectTimeoutClient extends Client {
    constructor(config?: string | ClientConfig) {
      super({ ...(typeof config === 'string' ? { connectionString: config } : config), connectionTimeoutMillis: ms });
    }

    override connect(): Promise<Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<Client> | void {
      if (!callback) {
        return super.connect().catch((err: Error) => {
          throw clarify(err);
        });
      }
      const done = callback as (err: Error | null, client?: Client) => void;
      super.connect((err: Error | null, client?: Client) => done(err && clarify(err), client));
    }
  };
}

/**
 * A new connection runs `SELECT 1` within `timeoutMs` (connecting included), then closes; on failure its socket is
 * destroyed rather than ended, since a server that went silent would never acknowledge the end.
 */
export async function pingPostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
  });
  client.on('error', () => undefined);
  const deadline = setTimeout(() => destroySocket(client), timeoutMs + 500);
  try {
    await client.connect();
    await client.query('SELECT 1');
    await client.end();
  } catch (err) {
    destroySocket(client);
    throw err;
  } finally {
    clearTimeout(deadline);
  }
}

function destroySocket(client: Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** A pool with every time limit set: `timeouts` over the defaults. */
export function postgresPool(url: string, max: number, timeouts: Partial<PostgresTimeouts> = {}): Pool {
  const t = { ...DEFAULT_POSTGRES_TIMEOUTS, ...timeouts };
  const ms = (seconds: number) => Math.round(seconds * 1000);
  return new Pool({
    connectionString: url,
    max,
    ...(t.connectSeconds > 0 && { Client: clientClass(ms(t.connectSeconds)) }),
    ...(t.statementSeconds > 0 && {
      statement_timeout: ms(t.statementSeconds),
      query_timeout: ms(t.statementSeconds + STATEMENT_GRACE_SECONDS),
    }),
    ...(t.idleInTransactionSeconds > 0 && { idle_in_transaction_session_timeout: ms(t.idleInTransactionSeconds) }),
    keepAlive: t.keepAliveSeconds > 0,
    ...(t.keepAliveSeconds > 0 && { keepAliveInitialDelayMillis: ms(t.keepAliveSeconds) }),
  });
}

/** The production sink: a shared PostgreSQL database, one pool per worker. */
export class PostgresSink implements TicketSink {
  private constructor(
    private readonly pool: Pool,
    private readonly options: SinkOptions,
    private readonly url: string,
  ) {}

  static async open(
    url: string,
    timeouts: Partial<PostgresTimeouts> = {},
    options: SinkOptions = {},
  ): Promise<PostgresSink> {
    const pool = postgresPool(url, 4, timeouts);
    // An idle connection dropped by a PostgreSQL restart must not crash the worker: the next query reconnects, and a
    // query that fails in between fails its activity, which Temporal retries.
    pool.on('error', () => undefined);
    const sink = new PostgresSink(pool, options, url);
    try {
      await sink.migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return sink;
  }

  /** Idempotent and safe with several workers starting at once (advisory lock inside the transaction). */
  async migrate(): Promise<number> {
    return migrateSchema(this.pool);
  }

  async persistPage(input: PersistPageInput): Promise<PersistResult> {
    const rows = newestPerId(input.rows);
    const sideloads = sideloadEntries(input.sideloads);
    return this.transaction(async (db) => {
      const storedAt = new Date().toISOString();
      const tickets = await storeOrSetAside(db, rows, async (batch) => {
        const written = new Set(await writeTicketRows(db, UPSERT_TICKETS, input.account, storedAt, batch));
        // The analysts' typed copy follows the stored version.
        if (this.options.typedTickets !== false) {
          await writeTypedTickets(
            db,
            input.account,
            storedAt,
            batch.filter((row) => written.has(row.id)),
          );
        }
        return written.size;
      });
      if (this.options.ticketVersions !== false) {
        // Every row tickets did not refuse, an older one included: a version the export saw. What tickets took, this
        // takes; a row newestPerId left out that the database refuses is skipped as tickets skipped it.
        const refused = new Set(tickets.refused.map(({ item }) => item));
        const versions = lastPerVersion(input.rows.filter((row) => !refused.has(row)));
        await storeOrSetAside(
          db,
          versions,
          async (batch) => (await writeTicketRows(db, INSERT_VERSIONS, input.account, storedAt, batch)).length,
        );
      }
      const untrusted = (input.setAside ?? []).map(({ row, reason }) => ({ item: row, error: reason }));
      await setAside(db, input.account, storedAt, [...tickets.refused, ...untrusted]);
      const refusedSideloads = await storeSideloads(db, input.account, storedAt, sideloads.entries);
      const headers = Object.entries(input.fieldHeaders);
      if (headers.length > 0) {
        await db.query(
          `INSERT INTO field_headers (account, key, name)
           SELECT $1, h.key, h.name FROM unnest($2::text[], $3::text[]) AS h(key, name)
           ON CONFLICT (account, key) DO UPDATE SET name = excluded.name`,
          [input.account, headers.map(([k]) => k), headers.map(([, v]) => v)],
        );
      }
      await db.query(
        `INSERT INTO export_checkpoints (account, cursor, updated_at, api, after_cursor) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at,
           api = excluded.api, after_cursor = excluded.after_cursor`,
        [input.account, input.cursor, storedAt, input.api ?? null, input.afterCursor ?? null],
      );
      const rejected = tickets.refused.length;
      return {
        written: tickets.stored,
        ignoredOlder: input.rows.length - tickets.stored - rejected,
        rejected: rejected + untrusted.length,
        rejectedSideloads: sideloads.skipped + refusedSideloads,
      };
    });
  }

  async readCheckpoint(account: string): Promise<number | undefined> {
    return (await this.readFullCheckpoint(account))?.cursor;
  }

  async readFullCheckpoint(account: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.pool.query<{ cursor: string; api: string | null; after_cursor: string | null }>(
      'SELECT cursor, api, after_cursor FROM export_checkpoints WHERE account = $1',
      [account],
    );
    const row = rows[0];
    return row ? { cursor: Number(row.cursor), api: exportApiOf(row.api), afterCursor: row.after_cursor } : undefined;
  }

  async readTickets(account: string): Promise<StoredTicket[]> {
    const { rows } = await this.pool.query<{
      id: string;
      generated_timestamp: string;
      updated_at: Date | null;
      status: string | null;
      data: string;
    }>(
      `SELECT id, generated_timestamp, updated_at, status, COALESCE(raw, data::text) AS data
       FROM tickets WHERE account = $1 ORDER BY id`,
      [account],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      generatedTimestamp: Number(r.generated_timestamp),
      updatedAt: r.updated_at ? zendeskTimestamp(r.updated_at.toISOString()) : null,
      status: r.status,
      data: r.data,
    }));
  }

  async readTicketVersions(account: string): Promise<StoredTicket[]> {
    const { rows } = await this.pool.query<{
      id: string;
      generated_timestamp: string;
      updated_at: Date | null;
      status: string | null;
      raw: string;
    }>(
      `SELECT id, generated_timestamp, updated_at, status, raw
       FROM ticket_version WHERE account = $1 ORDER BY id, generated_timestamp`,
      [account],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      generatedTimestamp: Number(r.generated_timestamp),
      updatedAt: r.updated_at ? zendeskTimestamp(r.updated_at.toISOString()) : null,
      status: r.status,
      data: r.raw,
    }));
  }

  async readFieldHeaders(account: string): Promise<Record<string, string>> {
    const { rows } = await this.pool.query<{ key: string; name: string }>(
      'SELECT key, name FROM field_headers WHERE account = $1',
      [account],
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.name]));
  }

  async countTickets(account: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM tickets WHERE account = $1', [
      account,
    ]);
    return Number(rows[0].n);
  }

  async readRejected(account: string): Promise<RejectedTicket[]> {
    const { rows } = await this.pool.query<{
      ticket_id: string;
      generated_timestamp: string | null;
      data: string;
      error: string;
    }>(
      `SELECT ticket_id, generated_timestamp, data, error
       FROM rejected_tickets WHERE account = $1 ORDER BY ticket_id COLLATE "C"`,
      [account],
    );
    return rows.map((r) => ({
      ticketId: r.ticket_id,
      generatedTimestamp: r.generated_timestamp === null ? null : Number(r.generated_timestamp),
      data: r.data,
      error: r.error,
    }));
  }

  async countRejected(account: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM rejected_tickets WHERE account = $1',
      [account],
    );
    return Number(rows[0].n);
  }

  async readSideloads(account: string, kind: string): Promise<StoredSideload[]> {
    const select = 'SELECT id::text AS id, updated_at, raw FROM';
    const { rows } = await this.pool.query<{ id: string; updated_at: Date | null; raw: string }>(
      SIDELOAD_TABLES.includes(kind)
        ? { text: `${select} ${kind} WHERE account = $1 ORDER BY id`, values: [account] }
        : {
            text: `${select} other_sideloads WHERE account = $1 AND kind = $2 ORDER BY id COLLATE "C"`,
            values: [account, kind],
          },
    );
    return rows.map((r) => ({
      id: r.id,
      updatedAt: r.updated_at ? zendeskTimestamp(r.updated_at.toISOString()) : null,
      data: r.raw,
    }));
  }

  async persistStreamPage(input: PersistStreamPageInput): Promise<PersistStreamPageResult> {
    return this.transaction((db) => writeStreamPage(db, input, upsertAccountRecords));
  }

  async readStreamCheckpoint(account: string, stream: PagedStream): Promise<StreamCheckpoint | undefined> {
    return readStreamCheckpoint(this.pool, account, stream);
  }

  async readStreamTable(account: string, table: string): Promise<Record<string, unknown>[]> {
    return readStreamTable(this.pool, account, table);
  }

  async countStreamTable(account: string, table: string): Promise<number> {
    return countStreamTable(this.pool, account, table);
  }

  async ping(timeoutMs: number): Promise<void> {
    await pingPostgres(this.url, timeoutMs);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }
}

/**
 * Applies the migrations this database lacks; returns how many ran. Every user of the schema (the sink, the blob
 * store) calls it on open, so whichever starts first creates the tables. Idempotent and safe with several processes
 * starting at once (advisory lock inside the transaction). `untilVersion`: a database of an older version (tests).
 */
export async function migrateSchema(pool: Pool, untilVersion = Infinity): Promise<number> {
  return inTransaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await db.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
    );
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > POSTGRES_SCHEMA_VERSION) {
      throw new Error(
        `the PostgreSQL database has schema version ${newest}, newer than this code knows (version ` +
          `${POSTGRES_SCHEMA_VERSION}): run the release that wrote it, or a newer one`,
      );
    }
    let count = 0;
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version) || migration.version > untilVersion) continue;
      await db.query(migration.sql);
      await migration.fill?.(db);
      if (migration.version === POSTGRES_SCHEMA_VERSION) await remakeAnalystViews(db);
      await db.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [migration.version]);
      count++;
    }
    return count;
  });
}

async function inTransaction<T>(pool: Pool, work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  // A connection lost mid-transaction (a PostgreSQL restart, a terminated backend) fails the query in flight, and
  // then emits 'error': unheard, that would crash the worker instead of failing the activity.
  const ignore = () => undefined;
  db.on('error', ignore);
  // Set when the connection cannot be trusted any more: it is closed instead of going back to the pool.
  let broken: Error | undefined;
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    // An error PostgreSQL answered leaves the connection usable: roll back on it. Anything else (no answer in time, a
    // connection lost) gets no ROLLBACK, which would wait out the same silence: closing the connection ends the
    // transaction on the server (or its idle-in-transaction timeout does, when the server cannot tell).
    if (hasSqlState(err)) {
      await db.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    } else {
      broken = err instanceof Error ? err : new Error(String(err));
    }
    throw err;
  } finally {
    db.off('error', ignore);
    db.release(broken);
  }
}

/**
 * Ticket rows through one of the two statements that take a ticket's columns: the upsert into tickets, or the insert
 * into ticket_version. Returns the ids it wrote.
 */
async function writeTicketRows(
  db: PoolClient,
  statement: string,
  account: string,
  storedAt: string,
  rows: TicketRow[],
): Promise<number[]> {
  const raw = rows.map((r) => JSON.stringify(r));
  const result = await db.query<{ id: string }>(statement, [
    account,
    storedAt,
    rows.map((r) => scalar(r.id)),
    rows.map((r) => scalar(r.generated_timestamp)),
    rows.map((r) => isoTimestamp(r.updated_at)),
    rows.map((r) => normalizedStatus(r)),
    raw,
    raw.map(jsonbCanHold),
  ]);
  return result.rows.map((r) => Number(r.id));
}

async function setAside(
  db: PoolClient,
  account: string,
  rejectedAt: string,
  refused: Refused<Record<string, unknown>>[],
) {
  if (refused.length === 0) return;
  // One statement cannot touch a row twice: one entry per ticket_id.
  const byId = new Map(refused.map(({ item, error }) => [ticketIdText(item.id), { row: item, error }]));
  const entries = [...byId.values()];
  await db.query(UPSERT_REJECTED, [
    account,
    rejectedAt,
    [...byId.keys()],
    entries.map(({ row }) => safeTimestamp(row.generated_timestamp)),
    entries.map(({ row }) => JSON.stringify(row)),
    entries.map(({ error }) => error),
  ]);
}

/** Upserts the sideload entries, one statement per table; returns how many the database refused. */
async function storeSideloads(db: PoolClient, account: string, storedAt: string, entries: SideloadEntry[]) {
  let refused = 0;
  for (const table of [...SIDELOAD_TABLES, 'other_sideloads']) {
    const tableEntries = entries.filter(
      (e) => (SIDELOAD_TABLES.includes(e.kind) ? e.kind : 'other_sideloads') === table,
    );
    const outcome = await storeOrSetAside(db, tableEntries, (batch) =>
      upsertSideloads(db, account, storedAt, batch, table),
    );
    refused += outcome.refused.length;
  }
  return refused;
}

/** Upserts entries of one table (one per key); returns how many were written (not older than the stored ones). */
async function upsertSideloads(
  db: PoolClient,
  account: string,
  storedAt: string,
  entries: SideloadEntry[],
  table: string,
): Promise<number> {
  const result = await db.query(upsertSideloadsSql(table), [
    account,
    storedAt,
    entries.map((e) => e.kind),
    entries.map((e) => e.id),
    entries.map((e) => e.updatedAt),
    entries.map((e) => e.data),
    entries.map((e) => jsonbCanHold(e.data)),
    entries.map((e) => e.deletedAt),
  ]);
  return result.rowCount ?? 0;
}

const upsertAccountRecords: AccountRecordsUpsert = (db, account, storedAt, table, entries) =>
  upsertSideloads(db, account, storedAt, entries, table);

/** One statement cannot touch a row twice: keep each id's newest version (ties: the later one in the page). */
function newestPerId(rows: TicketRow[]): TicketRow[] {
  const byId = new Map<number, TicketRow>();
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (!seen || row.generated_timestamp >= seen.generated_timestamp) byId.set(row.id, row);
  }
  return [...byId.values()];
}

/** One statement cannot touch a row twice: one row per (id, generated_timestamp), the later one in the page. */
function lastPerVersion(rows: TicketRow[]): TicketRow[] {
  const byVersion = new Map<string, TicketRow>();
  for (const row of rows) byVersion.set(JSON.stringify([row.id, row.generated_timestamp]), row);
  return [...byVersion.values()];
}
