import { ApplicationFailure } from '@temporalio/common';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../zendesk/errors';
import { PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../shared';
import { FetchPageInput, FetchPageResult } from './types';

export interface FetchPageDeps {
  zendesk: ZendeskClient;
  /** The account this worker holds credentials for. */
  account: string;
}

export function createFetchPage({ zendesk, account }: FetchPageDeps) {
  return async function fetchPage(input: FetchPageInput): Promise<FetchPageResult> {
    if (input.account !== account) {
      throw ApplicationFailure.nonRetryable(
        `this worker holds credentials for "${account}", not for "${input.account}"`,
        PERMANENT_FAILURE,
      );
    }
    const requestedAt = Date.now();
    try {
      const outcome = await zendesk.fetchExportPage(input.startTime);
      switch (outcome.kind) {
        case 'page':
          return {
            kind: 'page',
            requestedAt,
            rows: outcome.rows,
            endTime: outcome.endTime,
            fieldHeaders: outcome.fieldHeaders,
            ...(outcome.foreignNextPage ? { foreignNextPage: outcome.foreignNextPage } : {}),
          };
        case 'rate_limited':
          return {
            kind: 'rate_limited',
            requestedAt,
            retryAfterSeconds: outcome.retryAfterSeconds,
            note: outcome.note,
          };
        case 'too_recent':
          return { kind: 'too_recent', requestedAt, message: outcome.message };
      }
    } catch (err) {
      throw toApplicationFailure(err);
    }
  };
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
