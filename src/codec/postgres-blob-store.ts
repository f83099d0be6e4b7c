import { Pool } from 'pg';
import { migrateSchema, postgresPool } from '../storage/postgres';
import type { PostgresTimeouts } from '../storage/postgres-timeouts';
import type { BlobStore } from './blob-store';
import { blobTooLarge } from './limits';

export interface PostgresBlobStoreOptions {
  /** Clock for `created_at`; tests pass a fake one. */
  now?: () => number;
  /** Over the defaults (DEFAULT_POSTGRES_TIMEOUTS): the sink's, from SINK_*_SECONDS. */
  timeouts?: Partial<PostgresTimeouts>;
}

/**
 * Blobs in the PostgreSQL database of the ticket sink (table `payload_blobs`, created by the sink's migrations), so
 * every worker, client and codec server that reaches the database can decode any claim-checked payload.
 */
export class PostgresBlobStore implements BlobStore {
  private ended = false;

  private constructor(
    private readonly pool: Pool,
    private readonly now: () => number,
  ) {}

  static async open(
    url: string,
    { now = Date.now, timeouts }: PostgresBlobStoreOptions = {},
  ): Promise<PostgresBlobStore> {
    const pool = postgresPool(url, 2, timeouts);
    // An idle connection dropped by the server (restart, failover) is reported here; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      await migrateSchema(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresBlobStore(pool, now);
  }

  async put(id: string, data: Uint8Array): Promise<void> {
    // A repeated put (activity retry, a page fetched again by a later run) is a fresh reference: it restarts the
    // retention clock so the purge cannot delete a blob that a younger history still points to.
    await this.pool.query(
      `INSERT INTO payload_blobs (id, data, size, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at
       WHERE excluded.created_at > payload_blobs.created_at`,
      [id, data, data.byteLength, new Date(this.now())],
    );
  }

  async get(id: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array | undefined> {
    const { rows } = await this.pool.query<{ size: number; data: Buffer | null }>(
      `SELECT octet_length(data) AS size, CASE WHEN octet_length(data) <= $2::bigint THEN data END AS data
       FROM payload_blobs WHERE id = $1`,
      [id, maxBytes],
    );
    if (rows.length === 0) return undefined;
    const { size, data } = rows[0];
    if (!data) throw blobTooLarge(id, size, maxBytes);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  async deleteOlderThan(olderThan: Date, keep: ReadonlySet<string> = new Set()): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM payload_blobs WHERE created_at < $1 AND id <> ALL($2::text[])',
      [olderThan, [...keep]],
    );
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}
