// How long the loop waits after failures, and how per_page recovers after a 504. Pure rules, unit-tested directly.

/** Backoff while the sink fails (it is not Zendesk's pacing): 2 s, doubling, at most a minute. */
export function sinkBackoffMs(consecutiveFailures: number): number {
  return Math.min(1000 * 2 ** Math.min(Math.max(consecutiveFailures, 1), 6), 60_000);
}

/** Backoff after an activity exhausted its retries: poll interval × 2^(n-1), at most one hour. */
export function failureBackoffMs(consecutiveFailures: number, pollIntervalMs: number): number {
  const exponent = Math.min(Math.max(consecutiveFailures - 1, 0), 16);
  return Math.min(pollIntervalMs * 2 ** exponent, 3_600_000);
}

/** Good pages in a row at a reduced per_page before it doubles again (after a 504 halved it). */
export const GOOD_PAGES_BEFORE_GROWING = 3;

/** per_page after a good page: back towards the configured size, doubling after a few good pages in a row. */
export function perPageAfterGoodPage(
  current: number,
  configured: number,
  goodPages: number,
): { perPage: number; goodPages: number } {
  if (current >= configured) return { perPage: configured, goodPages: 0 };
  if (goodPages + 1 < GOOD_PAGES_BEFORE_GROWING) return { perPage: current, goodPages: goodPages + 1 };
  return { perPage: Math.min(configured, current * 2), goodPages: 0 };
}
