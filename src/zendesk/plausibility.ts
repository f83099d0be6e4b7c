// Bounds on what Zendesk sends. The schemas check types; these check that the numbers can be true. A page-level value
// that drives the cursor (end_time, count, after_cursor) and fails is a bad answer (retried, nothing stored); a ticket
// whose id or generated_timestamp fails is set aside, so that one broken row never stalls an export.

import type { SetAsideTicket } from '../storage/sink';
import { isoMillis } from '../workflows/pacing';

/** 2007-01-01T00:00:00Z: Zendesk was founded in 2007, so no export can end before then. */
export const ZENDESK_FOUNDED_SECONDS = 1_167_609_600;

/**
 * How far past Zendesk's own clock (its Date header) a time may lie: Zendesk dates its tickets with that clock, so this
 * leaves room only for a Date header a little off. A time further ahead is broken (decades away, or milliseconds).
 */
export const MAX_AHEAD_OF_ZENDESK_SECONDS = 86_400;

/** The most tickets Zendesk serves in one page (per_page is at most 1000): a larger `count` is not this page's. */
export const MAX_PAGE_COUNT = 1000;

/**
 * The longest after_cursor taken. Zendesk's are a few dozen characters; the cursor is kept in the workflow's history and
 * sent back in a URL, so an answer that hands out a huge one is broken rather than trusted.
 */
export const MAX_CURSOR_LENGTH = 1024;

/** Printable ASCII without spaces: what a cursor sent back in a query string looks like. */
const CURSOR_SHAPE = /^[\x21-\x7e]+$/;

/** What the checks compare with: Zendesk's clock when its Date header is believable, else the worker's. */
export interface PlausibilityContext {
  nowSeconds: number;
  /** The request's start_time, when it had one. */
  startTime?: number;
}

/** A value in seconds as a reader checks it: `1700000000 (2023-11-14T22:13:20Z)`. */
function withDate(seconds: number): string {
  const iso = isoMillis(seconds * 1000);
  return iso ? `${seconds} (${iso.replace('.000Z', 'Z')})` : `${seconds}`;
}

function latestPlausible(context: PlausibilityContext): number {
  return context.nowSeconds + MAX_AHEAD_OF_ZENDESK_SECONDS;
}

/** Why an epoch-seconds value at or after `earliest` cannot be true, or undefined when it can. */
function timestampProblem(value: number, earliest: number, context: PlausibilityContext): string | undefined {
  if (!Number.isSafeInteger(value)) return `${value} is beyond Number.MAX_SAFE_INTEGER: not a time in epoch seconds`;
  if (value < earliest) {
    return earliest === 0 ? `${value} is negative` : `${withDate(value)} is before ${withDate(earliest)}`;
  }
  const latest = latestPlausible(context);
  if (value <= latest) return undefined;
  const asSeconds = Math.floor(value / 1000);
  if (asSeconds >= ZENDESK_FOUNDED_SECONDS && asSeconds <= latest) {
    return `${value} is in milliseconds (${withDate(asSeconds)} in seconds), not epoch seconds`;
  }
  return (
    `${withDate(value)} is more than ${MAX_AHEAD_OF_ZENDESK_SECONDS / 3600} h ahead of Zendesk's clock ` +
    `(${withDate(context.nowSeconds)})`
  );
}

/**
 * Why a page's end_time cannot be true. Not before 2007 (a first export from start_time 0 may get an end_time
 * before that: nothing lies there to lose), not more than a day past Zendesk's clock.
 */
export function endTimeProblem(endTime: number, context: PlausibilityContext): string | undefined {
  const earliest = Math.max(0, Math.min(ZENDESK_FOUNDED_SECONDS, context.startTime ?? ZENDESK_FOUNDED_SECONDS));
  const problem = timestampProblem(endTime, earliest, context);
  return problem && `end_time: ${problem}`;
}

/** Why a time-based page's count cannot be true. */
export function countProblem(count: number): string | undefined {
  if (Number.isSafeInteger(count) && count >= 0 && count <= MAX_PAGE_COUNT) return undefined;
  return `count: ${count} is not a page's ticket count (0-${MAX_PAGE_COUNT})`;
}

/** Why an after_cursor cannot be sent back as it is. */
export function afterCursorProblem(cursor: string): string | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH) {
    return `after_cursor: ${cursor.length} characters, more than the ${MAX_CURSOR_LENGTH} a cursor takes`;
  }
  if (!CURSOR_SHAPE.test(cursor)) {
    return `after_cursor: ${JSON.stringify(cursor.slice(0, 40))} is not a cursor (printable characters, no spaces)`;
  }
  return undefined;
}

/** Why a ticket's id or generated_timestamp cannot be true (the schema has checked both are whole numbers). */
export function ticketProblem(
  row: { id: number; generated_timestamp: number },
  context: PlausibilityContext,
): string | undefined {
  if (!Number.isSafeInteger(row.id)) return `id: ${row.id} is beyond Number.MAX_SAFE_INTEGER (not read exactly)`;
  if (row.id <= 0) return `id: ${row.id} is not a positive ticket id`;
  const problem = timestampProblem(row.generated_timestamp, 0, context);
  return problem && `generated_timestamp: ${problem}`;
}

/** The rows whose values can be true, in their order, and the others with the reason. */
export function separateImplausible<T extends { id: number; generated_timestamp: number }>(
  rows: readonly T[],
  context: PlausibilityContext,
): { rows: T[]; setAside: SetAsideTicket[] } {
  const plausible: T[] = [];
  const setAside: SetAsideTicket[] = [];
  for (const row of rows) {
    const reason = ticketProblem(row, context);
    if (reason === undefined) plausible.push(row);
    else setAside.push({ row, reason });
  }
  return { rows: plausible, setAside };
}
