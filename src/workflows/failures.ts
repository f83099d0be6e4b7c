import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../shared';

/** A failure no retry fixes (a 401, a 403, a 400 that is not a rejected cursor): the export blocks until resumed. */
export function isPermanent(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return false;
  // A transient failure the activity stopped retrying (the next retry was the workflow's to wait for) is not permanent.
  return cause.type === PERMANENT_FAILURE || (cause.nonRetryable === true && cause.type !== TRANSIENT_FAILURE);
}

/** The earliest retry a failed fetchPage asked for (its pacing or a 503's Retry-After); 0 when none. */
export function retryNotBefore(err: unknown): number {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return 0;
  const detail = cause.details?.[0] as { retryNotBefore?: unknown } | undefined;
  return typeof detail?.retryNotBefore === 'number' ? detail.retryNotBefore : 0;
}

export function describeFailure(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The ApplicationFailure type of a failed activity, if any. */
export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}
