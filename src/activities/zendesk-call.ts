import { Context, log } from '@temporalio/activity';
import { LOG_EVENTS } from '../observability/events';
import { ApplicationFailure } from '@temporalio/common';
import type { ExportApi } from '../shared';
import { MAX_ACTIVITY_RETRY_DELAY_MS, PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../shared';
import type { PagedStream } from '../streams/names';
import { PayloadTooLargeError } from '../codec/limits';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../zendesk/errors';
import { activityMetrics, StreamLabel } from './metrics';
import { fetchRetryDelayMs } from './retry-delay';

/** What fetchPage and fetchStreamPage share around one Zendesk call: the client, the failure, the log. */

/** The account's client; none means this worker was started without the account's credentials: permanent. */
export function zendeskClientFor(clients: ReadonlyMap<string, ZendeskClient>, account: string): ZendeskClient {
  const zendesk = clients.get(account);
  if (zendesk) return zendesk;
  const held = [...clients.keys()].map((a) => `"${a}"`).join(', ');
  throw ApplicationFailure.nonRetryable(
    `this worker holds no credentials for "${account}" (it has ${held}); every worker on a task queue ` +
      'needs the same accounts',
    PERMANENT_FAILURE,
  );
}

/** What a failed call throws: the cancellation as it came, else the failure Temporal retries (or not), counted. */
export function failedCall(
  err: unknown,
  call: {
    account: string;
    stream: StreamLabel;
    endpoint: ExportApi | PagedStream;
    minGapMs: number;
    requestedAt: number;
  },
): unknown {
  // Cancelled: the SDK reports the cancellation itself, from the reason the signal carries.
  const cancellation = Context.current().cancellationSignal;
  if (cancellation.aborted) return cancellation.reason ?? err;
  const failure = toApplicationFailure(err, call);
  activityMetrics().apiCall(
    call.account,
    call.stream,
    call.endpoint,
    failure.type === PERMANENT_FAILURE ? 'permanent_error' : 'transient_error',
  );
  return failure;
}

/**
 * A failed call as Temporal sees it. A transient one is retried by the activity no sooner than the pacing allows
 * after the failed call; when that is further away than a short retry, the activity stops and the workflow waits
 * (durably, and interruptibly by the operator) instead.
 */
export function toApplicationFailure(
  err: unknown,
  call: { minGapMs: number; requestedAt: number },
): ApplicationFailure {
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

/**
 * The OAuth token requests made since the last call, counted (ok, failed); a renewal that failed while the current
 * token still served also goes to the worker's log (the call went on).
 */
export function reportTokenRenewals(zendesk: ZendeskClient, account: string): void {
  const renewals = zendesk.takeTokenRenewals();
  const metrics = activityMetrics();
  if (renewals.ok > 0) metrics.tokenRenewals(account, 'ok', renewals.ok);
  if (renewals.failed > 0) metrics.tokenRenewals(account, 'failed', renewals.failed);
  const failure = zendesk.takeRenewalFailure();
  if (failure) {
    log.warn('OAuth token renewal failed; the current token serves until it expires', {
      account,
      failure,
      event: LOG_EVENTS.tokenRenewalFailed,
    });
  }
}
