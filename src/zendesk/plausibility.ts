// Bounds on what Zendesk sends. The schemas check types; these check that the numbers can be true. A page-level value
// that drives the cursor (end_time, count, after_cursor) and fails is a bad answer (retried, nothing stored); a ticket
// whose id or generated_timestamp fails, or that cannot be serialised again, is set aside, so that one broken row never
// stalls an export.

import type { SetAsideTicket } from '../storage/sink';
import {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  describeBytes,
  MAX_AHEAD_OF_ZENDESK_SECONDS,
  MAX_TICKET_BYTES,
  MAX_TICKET_DEPTH,
} from './limits';
import { isoMillis } from '../common/time-text';

/** 2007-01-01T00:00:00Z: Zendesk was founded in 2007, so no export can end before then. */
export const ZENDESK_FOUNDED_SECONDS = 1_167_609_600;

export { MAX_AHEAD_OF_ZENDESK_SECONDS };

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
  /** How far ahead of `nowSeconds` a ticket may be dated; default DEFAULT_CLOCK_TOLERANCE_SECONDS. */
  toleranceSeconds?: number;
}

/** A value in seconds as a reader checks it: `1700000000 (2023-11-14T22:13:20Z)`. */
function withDate(seconds: number): string {
  const iso = isoMillis(seconds * 1000);
  return iso ? `${seconds} (${iso.replace('.000Z', 'Z')})` : `${seconds}`;
}

/** "2 min", "24 h", "90 s": a span of seconds as an operator reads it. */
function span(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/**
 * Why an epoch-seconds value at or after `earliest`, and at most `aheadSeconds` past Zendesk's clock, cannot be true;
 * undefined when it can.
 */
export function timestampProblem(
  value: number,
  earliest: number,
  context: PlausibilityContext,
  aheadSeconds: number,
): string | undefined {
  if (!Number.isSafeInteger(value)) return `${value} is beyond Number.MAX_SAFE_INTEGER: not a time in epoch seconds`;
  if (value < earliest) {
    return earliest === 0 ? `${value} is negative` : `${withDate(value)} is before ${withDate(earliest)}`;
  }
  const latest = context.nowSeconds + aheadSeconds;
  if (value <= latest) return undefined;
  const asSeconds = Math.floor(value / 1000);
  if (asSeconds >= ZENDESK_FOUNDED_SECONDS && asSeconds <= context.nowSeconds + MAX_AHEAD_OF_ZENDESK_SECONDS) {
    return `${value} is in milliseconds (${withDate(asSeconds)} in seconds), not epoch seconds`;
  }
  return (
    `${withDate(value)} is more than ${span(aheadSeconds)} ahead of Zendesk's clock ` +
    `(${withDate(context.nowSeconds)}, the answer's Date header)`
  );
}

/**
 * Why a page's end_time cannot be true. Not before 2007 (a first export from start_time 0 may get an end_time
 * before that: nothing lies there to lose), not more than a day past Zendesk's clock.
 */
export function endTimeProblem(endTime: number, context: PlausibilityContext): string | undefined {
  const earliest = Math.max(0, Math.min(ZENDESK_FOUNDED_SECONDS, context.startTime ?? ZENDESK_FOUNDED_SECONDS));
  const problem = timestampProblem(endTime, earliest, context, MAX_AHEAD_OF_ZENDESK_SECONDS);
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
  const tolerance = context.toleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const problem = timestampProblem(row.generated_timestamp, 0, context, tolerance);
  return problem && `generated_timestamp: ${problem}`;
}

/** How deep a value nests (a scalar is 0), counted without recursion and given up past `limit`. */
export function nestingDepth(value: unknown, limit = MAX_TICKET_DEPTH): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    const inside = depth + 1;
    deepest = Math.max(deepest, inside);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) pending.push([child, inside]);
  }
  return deepest;
}

/**
 * Why a ticket cannot be carried and stored as JSON (nested too deep, too large, not serialisable), or undefined with
 * its JSON text.
 */
export function structureProblem(row: unknown): { problem: string } | { json: string } {
  const depth = nestingDepth(row);
  if (depth > MAX_TICKET_DEPTH) return { problem: `nested more than ${MAX_TICKET_DEPTH} levels deep` };
  let json: string;
  try {
    json = JSON.stringify(row);
  } catch (err) {
    return { problem: `cannot be serialised as JSON (${err instanceof Error ? err.name : 'error'})` };
  }
  if (json.length > MAX_TICKET_BYTES) {
    return {
      problem: `${json.length} characters of JSON, more than the ${describeBytes(MAX_TICKET_BYTES)} a ticket takes`,
    };
  }
  return { json };
}

/** What rejected_tickets keeps of a ticket that cannot be serialised: its id and time where readable, and a note. */
function storableStandIn(row: { id: unknown; generated_timestamp: unknown }, problem: string): Record<string, unknown> {
  return { id: row.id, generated_timestamp: row.generated_timestamp, not_stored: `the ticket ${problem}` };
}

/** A ticket that can be carried and stored, with its JSON text (for fingerprints and sizes). */
export interface TrustedRow<T> {
  row: T;
  json: string;
}

/** The rows whose values can be true and that serialise, in their order, and the others with the reason. */
export function separateImplausible<T extends { id: number; generated_timestamp: number }>(
  rows: readonly T[],
  context: PlausibilityContext,
): { rows: TrustedRow<T>[]; setAside: SetAsideTicket[] } {
  const plausible: TrustedRow<T>[] = [];
  const setAside: SetAsideTicket[] = [];
  for (const row of rows) {
    const structure = structureProblem(row);
    if ('problem' in structure) {
      setAside.push({ row: storableStandIn(row, structure.problem), reason: `the ticket ${structure.problem}` });
      continue;
    }
    const reason = ticketProblem(row, context);
    if (reason === undefined) plausible.push({ row, json: structure.json });
    else setAside.push({ row, reason });
  }
  return { rows: plausible, setAside };
}
