import { TicketSink } from '../storage/sink';
import { PageStaging } from '../codec/staged-pages';
import { withHeartbeat } from './heartbeat';
import { activityMetrics } from './metrics';
import { TICKETS_STREAM } from '../metrics/names';
import { readPageContent } from './page-content';
import { InlinePage, PersistInput, PersistOutput, Checkpoint } from './types';

export interface PersistDeps {
  sink: TicketSink;
  /** Where fetchPage staged the pages too big for the history. */
  staging: PageStaging;
}

export function createPersist({ sink, staging }: PersistDeps) {
  return async function persist(input: PersistInput): Promise<PersistOutput> {
    const { content, ...checkpoint } = input;
    const page = await withHeartbeat(() => readPageContent<InlinePage>(content, staging));
    const output = await withHeartbeat(() => sink.persistPage({ ...checkpoint, ...page }));
    const metrics = activityMetrics();
    // No rows: a checkpoint only (an operator's reset), not a page.
    if (page.rows.length > 0) metrics.pageStored(input.account, TICKETS_STREAM, page.rows.length);
    if (output.rejected > 0) metrics.rowsRejected(input.account, TICKETS_STREAM, output.rejected);
    return { ...output, completedAt: Date.now() };
  };
}

export function createLoadCheckpoint({ sink }: { sink: TicketSink }) {
  /** The checkpoint the sink last stored for this account, the recovery point of a new workflow. */
  return async function loadCheckpoint(account: string): Promise<Checkpoint | null> {
    return (await withHeartbeat(() => sink.readFullCheckpoint(account))) ?? null;
  };
}
