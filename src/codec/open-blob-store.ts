import { sqliteFilename } from '../storage/open';
import { BlobStore, SqliteBlobStore } from './blob-store';
import { PostgresBlobStore } from './postgres-blob-store';

/**
 * Opens the claim-check blob store that lives next to the ticket sink named by SINK_URL: the same SQLite file (one
 * host only) or the same PostgreSQL database (shared by every worker).
 */
export async function openBlobStore(sinkUrl: string): Promise<BlobStore> {
  const filename = sqliteFilename(sinkUrl);
  if (filename) return new SqliteBlobStore(filename);
  if (/^postgres(ql)?:\/\//.test(sinkUrl)) return PostgresBlobStore.open(sinkUrl);
  throw new Error(`SINK_URL: unknown scheme in "${sinkUrl.split(':')[0]}:"; use sqlite:<path> or postgres://…`);
}
