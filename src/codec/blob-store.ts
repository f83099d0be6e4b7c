import Database from 'better-sqlite3';
import { prepareSqliteFile } from '../storage/sqlite-file';
import { blobTooLarge } from './limits';

/** Out-of-history storage for claim-checked payloads. Ids are content hashes, so the same data always has the same id. */
export interface BlobStore {
  /** Idempotent for the same id; storing an existing id again refreshes its age. */
  put(id: string, data: Uint8Array): Promise<void>;
  /** Throws PayloadTooLargeError, without loading it, for a blob above `maxBytes`. */
  get(id: string, maxBytes?: number): Promise<Uint8Array | undefined>;
  /** Deletes blobs created before `olderThan`, except those in `keep`; returns how many. */
  deleteOlderThan(olderThan: Date, keep?: ReadonlySet<string>): Promise<number>;
  close(): Promise<void>;
}

export interface SqliteBlobStoreOptions {
  /** Clock for `created_at`; tests pass a fake one. */
  now?: () => number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS payload_blobs (
  id TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  size INTEGER NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS payload_blobs_created_at ON payload_blobs (created_at);
`;

/**
 * Blobs in a SQLite file, normally the ticket sink's own file through a second connection. Only workers on the same
 * host can reach it: with more than one worker host, use a store they all share.
 */
export class SqliteBlobStore implements BlobStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly upsert: Database.Statement<[string, Buffer, number, string]>;
  private readonly select: Database.Statement<[number, string]>;
  private readonly idsBefore: Database.Statement<[string]>;
  private readonly deleteOne: Database.Statement<[string]>;

  constructor(
    readonly filename: string,
    { now = Date.now }: SqliteBlobStoreOptions = {},
  ) {
    // Owner-only, like the ticket sink's file it normally is (0600, in a 0700 directory when created here).
    prepareSqliteFile(filename);
    this.now = now;
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    // The history will reference a blob as soon as encode returns, so it must survive a power loss from then on.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    // A repeated put (activity retry, a page fetched again by a later run) is a fresh reference: it restarts the
    // retention clock so the purge cannot delete a blob that a younger history still points to.
    this.upsert = this.db.prepare(`
      INSERT INTO payload_blobs (id, data, size, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at WHERE excluded.created_at > created_at`);
    this.select = this.db.prepare(
      'SELECT length(data) AS size, CASE WHEN length(data) <= ? THEN data END AS data FROM payload_blobs WHERE id = ?',
    );
    this.idsBefore = this.db.prepare('SELECT id FROM payload_blobs WHERE created_at < ?');
    this.deleteOne = this.db.prepare('DELETE FROM payload_blobs WHERE id = ?');
  }

  async put(id: string, data: Uint8Array): Promise<void> {
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.upsert.run(id, buffer, data.byteLength, new Date(this.now()).toISOString());
  }

  async get(id: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array | undefined> {
    const row = this.select.get(maxBytes, id) as { size: number; data: Buffer | null } | undefined;
    if (!row) return undefined;
    if (!row.data) throw blobTooLarge(id, row.size, maxBytes);
    return new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength);
  }

  async deleteOlderThan(olderThan: Date, keep: ReadonlySet<string> = new Set()): Promise<number> {
    const ids = (this.idsBefore.all(olderThan.toISOString()) as { id: string }[]).map((r) => r.id);
    const doomed = ids.filter((id) => !keep.has(id));
    this.db.transaction(() => doomed.forEach((id) => this.deleteOne.run(id)))();
    return doomed.length;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
