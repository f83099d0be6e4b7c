import { Context, log } from '@temporalio/activity';
import { LOG_EVENTS } from '../observability/events';
import type { PageStaging } from '../codec/staged-pages';
import type { FetchStreamInput, FetchStreamResult, StreamContent, StreamPageSummary } from '../streams/contract';
import type { StreamPageOutcome, ZendeskClient } from '../zendesk/client';
import type { StreamRequest } from '../zendesk/stream-requests';
import { withHeartbeat } from './heartbeat';
import { activityMetrics } from './metrics';
import { owningWorkflow } from './owner';
import { fitsInHistory } from './page-summary';
import { inlineStreamPage, ReadStreamPage, streamPageJson, summarizeStreamPage } from './stream-page-summary';
import { failedCall, reportTokenRenewals, zendeskClientFor } from './zendesk-call';

export interface FetchStreamPageDeps {
  /** The accounts this worker holds credentials for, by account name. */
  zendesk: ReadonlyMap<string, ZendeskClient>;
  /** Where pages too big for the history wait for persistStream. */
  staging: PageStaging;
}

export function createFetchStreamPage({ zendesk: clients, staging }: FetchStreamPageDeps) {
  return async function fetchStreamPage(input: FetchStreamInput): Promise<FetchStreamResult> {
    const zendesk = zendeskClientFor(clients, input.account);
    const metrics = activityMetrics();
    const requestedAt = Date.now();
    try {
      // Aborted when the activity is cancelled (a heartbeat timeout, a worker shutdown, the workflow cancelled).
      const call = { signal: Context.current().cancellationSignal };
      const outcome = await withHeartbeat(() => zendesk.fetchStreamPage(streamRequestOf(input), call));
      metrics.apiCall(input.account, input.stream, input.stream, outcome.kind);
      if (outcome.kind === 'rate_limited') metrics.rateLimited(input.account, input.stream, outcome.retryAfterSeconds);
      if (outcome.kind === 'page') metrics.pageFetched(input.account, input.stream);
      if (outcome.kind !== 'page') return { ...outcome, requestedAt };
      const page: ReadStreamPage = { stream: input.stream, ...outcome };
      const { summary, content } = await pageForTheWorkflow(page, staging, input);
      if (outcome.setAside.length > 0) logSetAside(input, outcome);
      return resultOf(outcome, { requestedAt, summary, content });
    } catch (err) {
      throw failedCall(err, {
        account: input.account,
        stream: input.stream,
        endpoint: input.stream,
        minGapMs: input.minGapMs ?? 0,
        requestedAt,
      });
    } finally {
      reportTokenRenewals(zendesk, input.account);
    }
  };
}

function streamRequestOf(input: FetchStreamInput): StreamRequest {
  const { stream, list, startTime, afterCursor, perPage, supportTypeScope } = input;
  return {
    stream,
    ...(list !== undefined && { list }),
    startTime,
    perPage,
    ...(afterCursor !== undefined && { afterCursor }),
    ...(supportTypeScope && { supportTypeScope }),
  };
}

function resultOf(
  outcome: StreamPageOutcome,
  page: { requestedAt: number; summary: StreamPageSummary; content: StreamContent },
): FetchStreamResult {
  const result: FetchStreamResult = {
    kind: 'page',
    ...page,
    completedAt: Date.now(),
    vouchedUntil: outcome.vouchedUntil,
    endTime: outcome.endTime,
    afterCursor: outcome.afterCursor,
    endOfStream: outcome.endOfStream,
  };
  if (outcome.zendeskClockOffsetMs !== undefined) result.zendeskClockOffsetMs = outcome.zendeskClockOffsetMs;
  if (outcome.foreignNextPage) result.foreignNextPage = outcome.foreignNextPage;
  return result;
}

/**
 * The page's summary for the workflow, and its content: inline when as small as a ticket page may be, else staged in
 * the blob store, so that no page comes near the history's payload limits.
 */
async function pageForTheWorkflow(
  page: ReadStreamPage,
  staging: PageStaging,
  input: FetchStreamInput,
): Promise<{ summary: StreamPageSummary; content: StreamContent }> {
  const json = streamPageJson(page);
  const bytes = Buffer.byteLength(json, 'utf8');
  const summary = summarizeStreamPage(page, bytes);
  if (fitsInHistory(bytes)) return { summary, content: inlineStreamPage(page) };
  const staged = await staging.stage(json, owningWorkflow());
  log.info('Stream page staged out of the history', {
    account: input.account,
    stream: input.stream,
    bytes,
    rows: summary.rows,
    blob: staged.staged,
  });
  return { summary, content: staged };
}

/** The reasons in the worker's log too (the sink keeps them in rejected_rows). */
function logSetAside(input: FetchStreamInput, outcome: StreamPageOutcome): void {
  const { account, stream } = input;
  for (const { row, reason } of outcome.setAside.slice(0, 3)) {
    log.warn('Row set aside: a value cannot be true', {
      account,
      stream,
      id: JSON.stringify(row.id) ?? 'none',
      reason,
      event: LOG_EVENTS.rowSetAside,
    });
  }
  const more = outcome.setAside.length - 3;
  if (more > 0) log.warn(`${more} more rows of the page set aside`, { account, stream, event: LOG_EVENTS.rowSetAside });
}
