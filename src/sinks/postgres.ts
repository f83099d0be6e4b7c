import { Pool, PoolClient } from 'pg';
import {
  Checkpoint,
  normalizedStatus,
  PersistPageInput,
  PersistResult,
  StoredTicket,
  TicketRow,
  TicketSink,
  updatedAt,
} from './sink';

/** Versioned schema changes, applied in order at start; each runs once per database. */
const MIGRATIONS: { version: number; sql: string }[] = [
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
];

// Any constant works: it serializes concurrent migrations of workers that start together.
const MIGRATION_LOCK = 7_362_915_001;

/** The production sink: a shared PostgreSQL database, one pool per worker. */
export class PostgresSink implements TicketSink {
  private constructor(private readonly pool: Pool) {}

  static async open(url: string): Promise<PostgresSink> {
    const pool = new Pool({ connectionString: url, max: 4 });
    // An idle connection dropped by a PostgreSQL restart must not crash the worker: the next query reconnects, and a
    // query that fails in between fails its activity, which Temporal retries.
    pool.on('error', () => undefined);
    const sink = new PostgresSink(pool);
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
    return this.transaction(async (db) => {
      const storedAt = new Date().toISOString();
      let written = 0;
      if (rows.length > 0) {
        // One statement per page: arrays of columns, unnested server-side. `>=`: on a tie the later write wins.
        const result = await db.query(
          `INSERT INTO tickets (account, id, generated_timestamp, updated_at, status, data, stored_at)
           SELECT $1, t.id, t.gts, t.updated_at, t.status, t.data, $2
           FROM unnest($3::bigint[], $4::bigint[], $5::timestamptz[], $6::text[], $7::jsonb[])
             AS t(id, gts, updated_at, status, data)
           ON CONFLICT (account, id) DO UPDATE SET
             generated_timestamp = excluded.generated_timestamp, updated_at = excluded.updated_at,
             status = excluded.status, data = excluded.data, stored_at = excluded.stored_at
           WHERE excluded.generated_timestamp >= tickets.generated_timestamp`,
          [
            input.account,
            storedAt,
            rows.map((r) => r.id),
            rows.map((r) => r.generated_timestamp),
            rows.map((r) => validTimestamp(updatedAt(r))),
            rows.map((r) => normalizedStatus(r)),
            rows.map((r) => JSON.stringify(r)),
          ],
        );
        written = result.rowCount ?? 0;
      }
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
      return { written, ignoredOlder: input.rows.length - written };
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
    return row ? { cursor: Number(row.cursor), api: row.api, afterCursor: row.after_cursor } : undefined;
  }

  async readTickets(account: string): Promise<StoredTicket[]> {
    const { rows } = await this.pool.query<{
      id: string;
      generated_timestamp: string;
      updated_at: Date | null;
      status: string | null;
      data: string;
    }>(
      `SELECT id, generated_timestamp, updated_at, status, data::text AS data
       FROM tickets WHERE account = $1 ORDER BY id`,
      [account],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      generatedTimestamp: Number(r.generated_timestamp),
      updatedAt: r.updated_at ? r.updated_at.toISOString().replace('.000Z', 'Z') : null,
      status: r.status,
      data: r.data,
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
 * starting at once (advisory lock inside the transaction).
 */
export async function migrateSchema(pool: Pool): Promise<number> {
  return inTransaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await db.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
    );
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    let count = 0;
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await db.query(migration.sql);
      await db.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [migration.version]);
      count++;
    }
    return count;
  });
}

async function inTransaction<T>(pool: Pool, work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
}

/** One statement cannot touch a row twice: keep each id's newest version (ties: the later one in the page). */
function newestPerId(rows: TicketRow[]): TicketRow[] {
  const byId = new Map<number, TicketRow>();
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (!seen || row.generated_timestamp >= seen.generated_timestamp) byId.set(row.id, row);
  }
  return [...byId.values()];
}

/** An unreadable updated_at is stored as NULL rather than failing the page (the row in `data` keeps it). */
function validTimestamp(value: string | null): string | null {
  return value !== null && !Number.isNaN(Date.parse(value)) ? value : null;
}
