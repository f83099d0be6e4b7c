import type { StreamRow } from '../streams/contract';
import { isoTimestamp } from './sink';

/**
 * What both sinks store of a reference list's row: its table is the list's name (groups is the table the tickets
 * stream's sideloads fill too), keyed (account, id), with updated_at, deleted_at, last_refresh (the id of the refresh
 * that last saw it, epoch ms) and the row as received.
 */
export interface ReferenceRecord {
  id: number;
  /** isoTimestamp of its updated_at. */
  updatedAt: string | null;
  /** The row as received (JSON.stringify text). */
  data: string;
}

export function referenceRecord(row: StreamRow, id: number): ReferenceRecord {
  return { id, updatedAt: isoTimestamp(row.updated_at), data: JSON.stringify(row) };
}
