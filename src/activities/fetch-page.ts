import { Context, log } from '@temporalio/activity';
import { LOG_EVENTS } from '../observability/events';
import { ZendeskClient } from '../zendesk/client';
import { withHeartbeat } from './heartbeat';
import { owningWorkflow } from './owner';
import { activityMetrics } from './metrics';
import { TICKETS_STREAM } from '../metrics/names';
import { fitsInHistory, inlinePage, pageJson, ReadPage, summarizePage } from './page-summary';
import { FetchPageInput, FetchPageResult, PageContent, PageSummary } from './types';
import { SetAsideTicket, ticketIdText } from '../storage/sink';
import type { PageStaging } from '../codec/staged-pages';
import type { ExportOutcome, IncrementalOutcome } from '../zendesk/client';
import { failedCall, reportTokenRenewals, zendeskClientFor } from './zendesk-call';

export interface FetchPageDeps {
  /** The accounts this worker holds credentials for, by account name. */
  zendesk: ReadonlyMap<string, ZendeskClient>;
  /** Where pages too big for the history wait for persist. */
  staging: PageStaging;
}

export function createFetchPage({ zendesk: clients, staging }: FetchPageDeps) {
  return async function fetchPage(input: FetchPageInput): Promise<FetchPageResult> {
    const zendesk = zendeskClientFor(clients, input.account);
    const metrics = activityMetrics();
    const endpoint = input.api ?? 'exports';
    const requestedAt = Date.now();
    try {
      const outcome = await withHeartbeat(() => callZendesk(zendesk, input));
      metrics.apiCall(input.account, TICKETS_STREAM, endpoint, outcome.kind);
      if (outcome.kind === 'rate_limited')
        metrics.rateLimited(input.account, TICKETS_STREAM, outcome.retryAfterSeconds);
      if (outcome.kind === 'page') metrics.pageFetched(input.account, TICKETS_STREAM);
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
      throw failedCall(err, {
        account: input.account,
        stream: TICKETS_STREAM,
        endpoint,
        minGapMs: input.minGapMs ?? 0,
        requestedAt,
      });
    } finally {
      reportTokenRenewals(zendesk, input.account);
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

/** The reasons in the worker's log too (the workflow's warning counts them; rejected_tickets keeps them). */
function logSetAside(account: string, setAside: SetAsideTicket[]): void {
  for (const { row, reason } of setAside.slice(0, 3)) {
    log.warn('Ticket set aside: a value cannot be true', {
      account,
      stream: 'tickets',
      ticketId: ticketIdText(row.id),
      reason,
      event: LOG_EVENTS.rowSetAside,
    });
  }
  if (setAside.length > 3) {
    log.warn(`${setAside.length - 3} more tickets of the page set aside`, {
      account,
      stream: 'tickets',
      event: LOG_EVENTS.rowSetAside,
    });
  }
}

/** One call, aborted when the activity is cancelled (a heartbeat timeout, a worker shutdown, the workflow cancelled). */
async function callZendesk(zendesk: ZendeskClient, input: FetchPageInput) {
  const request = {
    perPage: input.perPage,
    include: input.include,
    excludeDeleted: input.excludeDeleted,
    supportTypeScope: input.supportTypeScope,
  };
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
