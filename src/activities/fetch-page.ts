import { ApplicationFailure } from '@temporalio/common';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../zendesk/errors';
import { PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../shared';
import { withHeartbeat } from './heartbeat';
import { activityMetrics } from './metrics';
import { FetchPageInput, FetchPageResult } from './types';

export interface FetchPageDeps {
  /** The accounts this worker holds credentials for, by account name. */
  zendesk: ReadonlyMap<string, ZendeskClient>;
}

export function createFetchPage({ zendesk: clients }: FetchPageDeps) {
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
      if (outcome.kind !== 'page') return { ...outcome, requestedAt };
      const result: FetchPageResult = {
        kind: 'page',
        requestedAt,
        completedAt: Date.now(),
        rows: outcome.rows,
        endTime: outcome.endTime,
        fieldHeaders: 'fieldHeaders' in outcome ? outcome.fieldHeaders : {},
      };
      if (outcome.zendeskClockOffsetMs !== undefined) result.zendeskClockOffsetMs = outcome.zendeskClockOffsetMs;
      if ('afterCursor' in outcome) result.afterCursor = outcome.afterCursor ?? null;
      if ('endOfStream' in outcome) result.endOfStream = outcome.endOfStream;
      if (outcome.foreignNextPage) result.foreignNextPage = outcome.foreignNextPage;
      return result;
    } catch (err) {
      const failure = toApplicationFailure(err);
      metrics.apiCall(
        input.account,
        endpoint,
        failure.type === PERMANENT_FAILURE ? 'permanent_error' : 'transient_error',
      );
      throw failure;
    }
  };
}

async function callZendesk(zendesk: ZendeskClient, input: FetchPageInput) {
  const request = { perPage: input.perPage, include: input.include, excludeDeleted: input.excludeDeleted };
  switch (input.api ?? 'exports') {
    case 'exports':
      return zendesk.fetchExportPage(input.startTime);
    case 'incremental':
      return zendesk.fetchTimeBasedPage({ ...request, startTime: input.startTime });
    case 'cursor':
      return zendesk.fetchCursorPage(
        input.cursor !== undefined ? { ...request, cursor: input.cursor } : { ...request, startTime: input.startTime },
      );
  }
}

function toApplicationFailure(err: unknown): ApplicationFailure {
  if (err instanceof ZendeskPermanentError) {
    return ApplicationFailure.create({ message: err.message, type: PERMANENT_FAILURE, nonRetryable: true });
  }
  if (err instanceof ZendeskTransientError) {
    return ApplicationFailure.create({
      message: err.message,
      type: TRANSIENT_FAILURE,
      nextRetryDelay: err.retryAfterSeconds !== undefined ? `${err.retryAfterSeconds} seconds` : undefined,
    });
  }
  return ApplicationFailure.create({
    message: `unexpected error: ${err instanceof Error ? err.message : String(err)}`,
    type: TRANSIENT_FAILURE,
  });
}
