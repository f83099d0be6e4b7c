import { sqliteFilename } from '../storage/open';
import type { PostgresTimeouts } from '../storage/postgres-timeouts';
import { BlobStore, SqliteBlobStore } from './blob-store';
import { PostgresBlobStore } from './postgres-blob-store';

/**
 * Opens the claim-check blob store that lives next to the ticket sink named by SINK_URL: the same SQLite file (one
 * host only) or the same PostgreSQL database (shared by every worker).
 */
export async function openBlobStore(sinkUrl: string, timeouts: Partial<PostgresTimeouts> = {}): Promise<BlobStore> {
  const filename = sqliteFilename(sinkUrl);
  if (filename) return new SqliteBlobStore(filename);
  if (/^postgres(ql)?:\/\//.test(sinkUrl)) return PostgresBlobStore.open(sinkUrl, { timeouts });
  throw new Error(`SINK_URL: unknown scheme in "${sinkUrl.split(':')[0]}:"; use sqlite:<path> or postgres://…`);
}
