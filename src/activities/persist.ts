import { TicketSink } from '../storage/sink';
import type { ExportApi } from '../shared';
import { withHeartbeat } from './heartbeat';
import { separatePlaceholders } from './set-aside';
import { activityMetrics } from './metrics';
import { PersistInput, PersistOutput, StoredCheckpoint } from './types';

export function createPersist({ sink }: { sink: TicketSink }) {
  return async function persist(input: PersistInput): Promise<PersistOutput> {
    // Tickets fetchPage did not trust travel as placeholder rows: they go to rejected_tickets, in the same transaction.
    const { rows, setAside } = separatePlaceholders(input.rows);
    const page = setAside.length > 0 ? { ...input, rows, setAside } : input;
    const output = await withHeartbeat(() => sink.persistPage(page));
    const metrics = activityMetrics();
    // No rows: a checkpoint only (an operator's reset), not a page.
    if (input.rows.length > 0) metrics.pageStored(input.account, rows.length);
    if (output.rejected > 0) metrics.ticketsRejected(input.account, output.rejected);
    return { ...output, completedAt: Date.now() };
  };
}

export function createLoadCheckpoint({ sink }: { sink: TicketSink }) {
  /** The checkpoint the sink last stored for this account, the recovery point of a new workflow. */
  return async function loadCheckpoint(account: string): Promise<StoredCheckpoint | null> {
    const checkpoint = await withHeartbeat(() => sink.readFullCheckpoint(account));
    if (!checkpoint) return null;
    return { cursor: checkpoint.cursor, api: checkpoint.api as ExportApi | null, afterCursor: checkpoint.afterCursor };
  };
}
