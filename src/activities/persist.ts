import { ApplicationFailure } from '@temporalio/activity';
import { TicketSink } from '../storage/sink';
import { undecodableReason } from '../shared';
import { PageStaging, StagedPageGoneError } from '../codec/staged-pages';
import { withHeartbeat } from './heartbeat';
import { owningWorkflow } from './owner';
import { activityMetrics } from './metrics';
import { InlinePage, isStaged, PageContent, PersistInput, PersistOutput, STAGED_PAGE_GONE, Checkpoint } from './types';

export interface PersistDeps {
  sink: TicketSink;
  /** Where fetchPage staged the pages too big for the history. */
  staging: PageStaging;
}

export function createPersist({ sink, staging }: PersistDeps) {
  return async function persist(input: PersistInput): Promise<PersistOutput> {
    const { content, ...checkpoint } = input;
    const page = await withHeartbeat(() => readContent(content, staging));
    const output = await withHeartbeat(() => sink.persistPage({ ...checkpoint, ...page }));
    const metrics = activityMetrics();
    // No rows: a checkpoint only (an operator's reset), not a page.
    if (page.rows.length > 0) metrics.pageStored(input.account, page.rows.length);
    if (output.rejected > 0) metrics.ticketsRejected(input.account, output.rejected);
    return { ...output, completedAt: Date.now() };
  };
}

/** The page itself: as it came, or read back from the blob store. */
async function readContent(content: PageContent, staging: PageStaging): Promise<InlinePage> {
  if (!isStaged(content)) return content;
  let page: unknown;
  try {
    page = await staging.load(content.staged, owningWorkflow());
  } catch (err) {
    if (err instanceof StagedPageGoneError) throw gone(err.message);
    throw err;
  }
  const unreadable = undecodableReason(page);
  if (unreadable !== undefined) throw gone(`staged page ${content.staged} cannot be read: ${unreadable}`);
  return page as InlinePage;
}

/** Retrying cannot bring the page back: the workflow fetches it again. */
function gone(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: STAGED_PAGE_GONE, nonRetryable: true });
}

export function createLoadCheckpoint({ sink }: { sink: TicketSink }) {
  /** The checkpoint the sink last stored for this account, the recovery point of a new workflow. */
  return async function loadCheckpoint(account: string): Promise<Checkpoint | null> {
    return (await withHeartbeat(() => sink.readFullCheckpoint(account))) ?? null;
  };
}
