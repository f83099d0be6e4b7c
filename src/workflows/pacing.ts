// Pure timing and cursor rules of the export loop: no Temporal APIs, so they are unit-tested directly.

import { undecodableReason } from '../shared';

export interface PacingInput {
  nowMs: number;
  lastCallAt: number | null;
  pollIntervalMs: number;
  /** The start_time the call sends (epoch seconds); 0 for a call by after_cursor, which has no minimum age. */
  startTime: number;
  minStartAgeMs: number;
  /** No call before this instant (backoff after failures, a Retry-After); 0 when none. */
  notBefore?: number;
  /** Zendesk's clock minus the worker's (ms): the start_time's age is Zendesk's to judge. */
  zendeskClockOffsetMs?: number;
}

/** The earliest instant (ms) at which the next call may be sent. */
export function nextCallAt(input: PacingInput): number {
  return explainNextCall(input).at;
}

/** Which rule sets the next call: the instant itself, or the interval, the start_time's age or a notBefore. */
export type PacingRule = 'now' | 'interval' | 'start_age' | 'not_before';

export function explainNextCall(input: PacingInput): { at: number; rule: PacingRule } {
  const candidates: [number, PacingRule][] = [
    [input.nowMs, 'now'],
    [input.lastCallAt === null ? 0 : input.lastCallAt + input.pollIntervalMs, 'interval'],
    [input.startTime * 1000 + input.minStartAgeMs - (input.zendeskClockOffsetMs ?? 0), 'start_age'],
    [input.notBefore ?? 0, 'not_before'],
  ];
  // The first of the latest: a wait already over is "now".
  let [at, rule] = candidates[0];
  for (const [candidateAt, candidateRule] of candidates)
    if (candidateAt > at) [at, rule] = [candidateAt, candidateRule];
  return { at, rule };
}

/** Below this, a measured clock offset is the Date header's one-second resolution and the network, not skew. */
export const CLOCK_NOISE_MS = 2000;

/**
 * Beyond this, a Date header is wrong, not a clock that drifted: no NTP-less host is a day off, while a proxy or a
 * broken server can send `Thu, 01 Jan 1970 …`, which taken at its word would park the export for decades.
 */
export const MAX_CLOCK_OFFSET_MS = 86_400_000;

/** Whether a measured offset (Zendesk's clock minus the worker's) can be believed. */
export function plausibleClockOffset(measuredMs: number): boolean {
  return Number.isFinite(measuredMs) && Math.abs(measuredMs) <= MAX_CLOCK_OFFSET_MS;
}

/**
 * The clock offset the pacing uses: the measured one, 0 when it is within the measuring noise, and the previous one
 * when the measurement is implausible.
 */
export function usableClockOffset(measuredMs: number, previousMs = 0): number {
  if (!plausibleClockOffset(measuredMs)) return previousMs;
  return Math.abs(measuredMs) < CLOCK_NOISE_MS ? 0 : measuredMs;
}

export interface CursorAdvance {
  cursor: number;
  warning?: string;
}

/** Where the cursor goes after a page that started at `startTime`. */
export function advanceCursor(page: {
  startTime: number;
  endTime: number | null;
  rowCount: number;
  pageSize: number;
  /** The page's newest generated_timestamp: the end of a non-empty page that came without end_time. */
  newest?: number;
}): CursorAdvance {
  const { startTime, rowCount, pageSize } = page;
  if (rowCount === 0) return { cursor: startTime };
  const { endTime, warning: missing } = pageEnd(page.endTime, page.newest);
  if (endTime === null) return { cursor: startTime };
  const advance = advanceToEnd(startTime, endTime, rowCount, pageSize);
  return missing ? { cursor: advance.cursor, warning: [missing, advance.warning].filter(Boolean).join('; ') } : advance;
}

/**
 * The end of a non-empty page: its end_time, or, when Zendesk left it out, its newest generated_timestamp (asking
 * again from the same start_time would return the same page forever).
 */
export function pageEnd(
  endTime: number | null,
  newest: number | undefined,
): { endTime: number | null; warning?: string } {
  if (endTime !== null || newest === undefined || newest <= 0) return { endTime };
  return {
    endTime: newest,
    warning: `a page of tickets came without end_time: continuing from its newest generated_timestamp ${newest}`,
  };
}

function advanceToEnd(startTime: number, endTime: number, rowCount: number, pageSize: number): CursorAdvance {
  if (endTime < startTime) {
    return {
      cursor: startTime,
      warning: `end_time ${endTime} is before start_time ${startTime}: cursor kept at ${startTime}`,
    };
  }
  if (endTime === startTime && rowCount >= pageSize) {
    return {
      cursor: startTime + 1,
      warning:
        `a full page of ${rowCount} rows shares generated_timestamp ${startTime} (${isoSeconds(startTime)}); ` +
        `stepped past it: tickets beyond these ${rowCount} at that second may be hidden until they change again`,
    };
  }
  return { cursor: endTime };
}

/** Backoff while the sink fails (it is not Zendesk's pacing): 2 s, doubling, at most a minute. */
export function sinkBackoffMs(consecutiveFailures: number): number {
  return Math.min(1000 * 2 ** Math.min(Math.max(consecutiveFailures, 1), 6), 60_000);
}

/** Backoff after an activity exhausted its retries: poll interval × 2^(n-1), at most one hour. */
export function failureBackoffMs(consecutiveFailures: number, pollIntervalMs: number): number {
  const exponent = Math.min(Math.max(consecutiveFailures - 1, 0), 16);
  return Math.min(pollIntervalMs * 2 ** exponent, 3_600_000);
}

/** Why a reset request is invalid, or undefined when it is fine. */
export function resetCursorProblem(request: unknown, nowMs: number): string | undefined {
  const undecodable = undecodableReason(request);
  if (undecodable !== undefined) return `its payload could not be decoded (${undecodable})`;
  if (typeof request !== 'object' || request === null || !('startTime' in request)) {
    return 'expected { startTime: <epoch seconds> }';
  }
  const startTime = (request as { startTime: unknown }).startTime;
  if (typeof startTime !== 'number' || !Number.isSafeInteger(startTime)) {
    return `startTime must be a whole number of epoch seconds, got ${JSON.stringify(startTime)}`;
  }
  if (startTime < 0) return `startTime must be >= 0, got ${startTime}`;
  const now = Math.floor(nowMs / 1000);
  if (startTime > now) return `startTime ${startTime} is in the future (now is ${now})`;
  return undefined;
}

/** The furthest instant from 1970 a Date holds (ms): beyond it toISOString throws a RangeError. */
const MAX_DATE_MS = 8.64e15;

/** `new Date(ms).toISOString()`, or undefined for a time no Date holds (not finite, or beyond ±275,760 years). */
export function isoMillis(ms: number): string | undefined {
  return Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : undefined;
}

/** Epoch seconds as text for warnings, summaries and status; a value no Date holds is shown as the number. */
export function isoSeconds(epochSeconds: number): string {
  return isoMillis(epochSeconds * 1000)?.replace('.000Z', 'Z') ?? `${epochSeconds} s (not a date)`;
}

/** Epoch seconds the sink is known to hold every change up to. */
export function completeThrough(state: { cursor: number; completeThroughMs?: number }): number {
  return Math.max(state.cursor, Math.floor((state.completeThroughMs ?? 0) / 1000));
}

/** How far behind Zendesk the sink is, in seconds, at `nowMs`. */
export function exportLagSeconds(nowMs: number, completeThroughSeconds: number): number {
  return Math.max(0, Math.floor(nowMs / 1000) - completeThroughSeconds);
}

/** A fetchPage retry inside the activity never waits longer than this: a longer wait is the workflow's durable one. */
export const MAX_ACTIVITY_RETRY_DELAY_MS = 30_000;

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
