import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../zendesk/errors';
import { MAX_ACTIVITY_RETRY_DELAY_MS, PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../shared';
import { withHeartbeat } from './heartbeat';
import { owningWorkflow } from './owner';
import { activityMetrics } from './metrics';
import { fitsInHistory, inlinePage, pageJson, ReadPage, summarizePage } from './page-summary';
import { FetchPageInput, FetchPageResult, PageContent, PageSummary } from './types';
import { SetAsideTicket, ticketIdText } from '../storage/sink';
import type { PageStaging } from '../codec/staged-pages';
import { PayloadTooLargeError } from '../codec/limits';
import type { ExportOutcome, IncrementalOutcome } from '../zendesk/client';
import { fetchRetryDelayMs } from './retry-delay';

export interface FetchPageDeps {
  /** The accounts this worker holds credentials for, by account name. */
  zendesk: ReadonlyMap<string, ZendeskClient>;
  /** Where pages too big for the history wait for persist. */
  staging: PageStaging;
}

export function createFetchPage({ zendesk: clients, staging }: FetchPageDeps) {
  return async function fetchPage(input: FetchPageInput): Promise<FetchPageResult> {
    const zendesk = clients.get(input.account);
    if (!zendesk) {
      const held = [...clients.keys()].map((a) => `"${a}"`).join(', ');
      throw ApplicationFailure.nonRetryable(
        `this worker holds no credentials for "${input.account}" (it has ${held}); every worker on a task queue ` +
          'needs the same accounts',
        PERMANENT_FAILURE,
      );
    }
    const metrics = activityMetrics();
    const endpoint = input.api ?? 'exports';
    const requestedAt = Date.now();
    try {
      const outcome = await withHeartbeat(() => callZendesk(zendesk, input));
      metrics.apiCall(input.account, endpoint, outcome.kind);
      if (outcome.kind === 'rate_limited') metrics.rateLimited(input.account, outcome.retryAfterSeconds);
      const auth = zendesk.authState();
      if (outcome.kind !== 'page') return { ...outcome, requestedAt, auth };
      const page = readPage(outcome);
      const { summary, content } = await pageForTheWorkflow(page, staging, input.account);
      const result: FetchPageResult = {
        kind: 'page',
        requestedAt,
        completedAt: Date.now(),
        vouchedUntil: page.vouchedUntil,
        summary,
        content,
        endTime: outcome.endTime,
      };
      if (outcome.zendeskClockOffsetMs !== undefined) result.zendeskClockOffsetMs = outcome.zendeskClockOffsetMs;
      result.auth = auth;
      if ('afterCursor' in outcome) result.afterCursor = outcome.afterCursor ?? null;
      if ('endOfStream' in outcome) result.endOfStream = outcome.endOfStream;
      if (outcome.foreignNextPage) result.foreignNextPage = outcome.foreignNextPage;
      if (outcome.setAside) logSetAside(input.account, outcome.setAside);
      return result;
    } catch (err) {
      // Cancelled: the SDK reports the cancellation itself, from the reason the signal carries.
      const cancellation = Context.current().cancellationSignal;
      if (cancellation.aborted) throw cancellation.reason ?? err;
      const failure = toApplicationFailure(err, { minGapMs: input.minGapMs ?? 0, requestedAt });
      metrics.apiCall(
        input.account,
        endpoint,
        failure.type === PERMANENT_FAILURE ? 'permanent_error' : 'transient_error',
      );
      throw failure;
    } finally {
      logRenewalFailure(zendesk, input.account);
    }
  };
}

type PageOutcome = Extract<ExportOutcome | IncrementalOutcome, { kind: 'page' }>;

function readPage(outcome: PageOutcome): ReadPage {
  return {
    rows: outcome.rows,
    rowTexts: outcome.rowTexts,
    setAside: outcome.setAside ?? [],
    fieldHeaders: 'fieldHeaders' in outcome ? outcome.fieldHeaders : {},
    ...('sideloads' in outcome && outcome.sideloads && { sideloads: outcome.sideloads }),
    endTime: outcome.endTime,
    vouchedUntil: outcome.vouchedUntil,
  };
}

/**
 * The page's summary for the workflow, and its content: inline when small, else staged in the blob store, so that no
 * page comes near the history's payload limits and no workflow task depends on the blob store.
 */
async function pageForTheWorkflow(
  page: ReadPage,
  staging: PageStaging,
  account: string,
): Promise<{ summary: PageSummary; content: PageContent }> {
  const json = pageJson(page);
  const bytes = Buffer.byteLength(json, 'utf8');
  const summary = summarizePage(page, bytes);
  if (fitsInHistory(bytes)) return { summary, content: inlinePage(page) };
  const staged = await staging.stage(json, owningWorkflow());
  log.info('Page staged out of the history', { account, bytes, tickets: summary.tickets, blob: staged.staged });
  return { summary, content: staged };
}

/** A token renewal that failed while the current token still served: in the worker's log, the call went on. */
function logRenewalFailure(zendesk: ZendeskClient, account: string): void {
  const failure = zendesk.takeRenewalFailure();
  if (failure) log.warn('OAuth token renewal failed; the current token serves until it expires', { account, failure });
}

/** The reasons in the worker's log too (the workflow's warning counts them; rejected_tickets keeps them). */
function logSetAside(account: string, setAside: SetAsideTicket[]): void {
  for (const { row, reason } of setAside.slice(0, 3)) {
    log.warn('Ticket set aside: a value cannot be true', { account, ticketId: ticketIdText(row.id), reason });
  }
  if (setAside.length > 3) log.warn(`${setAside.length - 3} more tickets of the page set aside`, { account });
}

/** One call, aborted when the activity is cancelled (a heartbeat timeout, a worker shutdown, the workflow cancelled). */
async function callZendesk(zendesk: ZendeskClient, input: FetchPageInput) {
  const request = { perPage: input.perPage, include: input.include, excludeDeleted: input.excludeDeleted };
  const call = { signal: Context.current().cancellationSignal };
  switch (input.api ?? 'exports') {
    case 'exports':
      return zendesk.fetchExportPage(input.startTime, 'export', call);
    case 'incremental':
      return zendesk.fetchTimeBasedPage({ ...request, startTime: input.startTime }, call);
    case 'cursor': {
      const afterCursor = input.afterCursor ?? input.cursor;
      return zendesk.fetchCursorPage(
        afterCursor !== undefined ? { ...request, afterCursor } : { ...request, startTime: input.startTime },
        call,
      );
    }
  }
}

/**
 * A failed call as Temporal sees it. A transient one is retried by the activity no sooner than the pacing allows
 * after the failed call; when that is further away than a short retry, the activity stops and the workflow waits
 * (durably, and interruptibly by the operator) instead.
 */
function toApplicationFailure(err: unknown, call: { minGapMs: number; requestedAt: number }): ApplicationFailure {
  if (err instanceof ZendeskPermanentError || err instanceof PayloadTooLargeError) {
    return ApplicationFailure.create({ message: err.message, type: PERMANENT_FAILURE, nonRetryable: true });
  }
  const message =
    err instanceof ZendeskTransientError
      ? err.message
      : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  const retryAfterMs =
    err instanceof ZendeskTransientError && err.retryAfterSeconds !== undefined
      ? err.retryAfterSeconds * 1000
      : undefined;
  const sinceCallMs = Date.now() - call.requestedAt;
  // What Zendesk asked for and the pacing demand, unlike the backoff, hold for the workflow's retry too.
  const mustWaitMs = Math.max(retryAfterMs ?? 0, call.minGapMs - sinceCallMs, 0);
  return ApplicationFailure.create({
    message,
    type: TRANSIENT_FAILURE,
    nextRetryDelay: fetchRetryDelayMs({
      attempt: Context.current().info.attempt,
      minGapMs: call.minGapMs,
      sinceCallMs,
      retryAfterMs,
    }),
    nonRetryable: mustWaitMs > MAX_ACTIVITY_RETRY_DELAY_MS,
    details: [{ retryNotBefore: Date.now() + mustWaitMs }],
  });
}
