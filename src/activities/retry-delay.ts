/**
 * When a failed fetchPage attempt may be retried: after a 503's Retry-After, else the retry policy's backoff (2 s,
 * doubling), and never sooner than the pacing allows after the failed call (a retry is a call like any other).
 */
export function fetchRetryDelayMs(retry: {
  attempt: number;
  minGapMs: number;
  sinceCallMs: number;
  retryAfterMs?: number;
}): number {
  const backoff = Math.min(2000 * 2 ** Math.max(retry.attempt - 1, 0), 60_000);
  return Math.max(retry.retryAfterMs ?? backoff, retry.minGapMs - retry.sinceCallMs);
}
