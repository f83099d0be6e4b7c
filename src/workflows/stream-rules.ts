import type { FetchStreamInput, FetchStreamResult } from '../streams/contract';
import { STREAM_MAX_PER_PAGE, type AroundStream, type SupportTypeScope } from '../streams/names';
import { MAX_AHEAD_OF_ZENDESK_SECONDS, MAX_PAGE_ROWS } from '../shared';
import { isoSeconds } from '../common/time-text';

/**
 * The cursor rules of the streams around the ticket, as pure functions of a stream's state: which request comes next,
 * and where the stream stands once a page is stored. ticket_events and organizations are time-based (start_time, the
 * next page from end_time inclusive); users is a cursor export (after_cursor, kept after end_of_stream); metric events
 * page by page[after] while has_more, and start again from the newest stored time once caught up.
 */

export type FetchedStreamPage = Extract<FetchStreamResult, { kind: 'page' }>;

/** What the rules read of a stream's state. */
export interface StreamCursor {
  cursor: number;
  afterCursor: string | null;
  perPage?: number;
  /** A crowded second already asked again with the largest page: a full page there now is stepped past. */
  crowdedSecond?: number;
}

export function streamPerPage(stream: AroundStream, configured: number): number {
  return Math.min(configured, STREAM_MAX_PER_PAGE[stream]);
}

export function nextStreamRequest(
  stream: AroundStream,
  state: StreamCursor,
  context: { account: string; perPage: number; supportTypeScope?: SupportTypeScope },
): FetchStreamInput {
  const request: FetchStreamInput = {
    account: context.account,
    stream,
    startTime: state.cursor,
    perPage: state.perPage ?? streamPerPage(stream, context.perPage),
  };
  if ((stream === 'users' || stream === 'ticket_metric_events') && state.afterCursor) {
    request.afterCursor = state.afterCursor;
  }
  if (stream === 'ticket_events' && context.supportTypeScope) request.supportTypeScope = context.supportTypeScope;
  return request;
}

export interface StreamOutcome {
  cursor: number;
  afterCursor: string | null;
  caughtUp: boolean;
  warnings: string[];
  /** The per_page of the next call, when the page decides it (a crowded second asked again with the largest). */
  perPage?: number;
  /** The crowded second being asked again, to remember; undefined clears it. */
  crowdedSecond?: number;
}

/** Where a stream stands once the page is stored. */
export function afterStreamPage(
  stream: AroundStream,
  state: StreamCursor,
  request: FetchStreamInput,
  page: FetchedStreamPage,
): StreamOutcome {
  const warnings: string[] = [];
  const { summary } = page;
  // No cursor passes the newest time the answer vouches for (its Date header).
  const newest = Math.min(summary.newest, page.vouchedUntil);
  const caughtUp = page.endOfStream;
  const outcome = (cursor: number, afterCursor: string | null, done = caughtUp): StreamOutcome => ({
    cursor,
    afterCursor,
    caughtUp: done,
    warnings,
  });

  if (stream === 'users') {
    // A cursor export: after_cursor carries on, also after end_of_stream; the time only shows progress.
    const afterCursor = page.afterCursor ?? state.afterCursor;
    if (state.afterCursor !== null && afterCursor === state.afterCursor && summary.rows > 0 && !caughtUp) {
      warnings.push(
        `users: after_cursor did not advance with ${summary.rows} rows still coming: waiting the poll interval`,
      );
      return outcome(Math.max(state.cursor, newest), afterCursor, true);
    }
    return outcome(Math.max(state.cursor, newest), afterCursor);
  }

  if (stream === 'ticket_metric_events') {
    const cursor = Math.max(state.cursor, newest);
    // Caught up: the next poll starts again from the newest stored second (its rows come back: upserts by id).
    if (caughtUp || !page.afterCursor) return outcome(cursor, null, true);
    if (page.afterCursor === state.afterCursor) {
      warnings.push('ticket_metric_events: page[after] did not advance: starting again from the newest stored time');
      return outcome(cursor, null, true);
    }
    return outcome(cursor, page.afterCursor);
  }

  // Time-based: ticket_events, organizations.
  const endTime = page.endTime === null ? null : Math.min(page.endTime, page.vouchedUntil);
  if (summary.rows === 0) return outcome(request.startTime, null);
  const end = endTime ?? newest;
  if (end < request.startTime) {
    warnings.push(`${stream}: end_time ${end} is before start_time ${request.startTime}: cursor kept`);
    return outcome(request.startTime, null);
  }
  if (end === request.startTime && summary.rows >= request.perPage && !caughtUp) {
    // A full page inside one second. Asked again with the largest page first: that may hold the whole second.
    const largest = STREAM_MAX_PER_PAGE[stream];
    if (request.perPage < largest && state.crowdedSecond !== request.startTime) {
      warnings.push(
        `${stream}: a full page of ${summary.rows} rows shares the second ${request.startTime} ` +
          `(${isoSeconds(request.startTime)}): asking that second again with per_page=${largest}`,
      );
      return { ...outcome(request.startTime, null, false), perPage: largest, crowdedSecond: request.startTime };
    }
    // Zendesk serves the same full page again and again: never asked twice more (invariant 6).
    warnings.push(
      `${stream}: a full page of ${summary.rows} rows shares the second ${request.startTime} ` +
        `(${isoSeconds(request.startTime)}) and Zendesk does not page past it: stepped to the next second`,
    );
    return outcome(request.startTime + 1, null, false);
  }
  return outcome(end, null);
}

const isCount = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Why a stream page cannot be taken as it is (its counts and times checked again), or undefined. */
export function streamPageProblem(page: FetchedStreamPage): string | undefined {
  const { summary, content, vouchedUntil } = page;
  if (typeof summary !== 'object' || summary === null) return 'no summary';
  if (!isTime(vouchedUntil) || vouchedUntil === 0) return `vouchedUntil ${vouchedUntil} is not a time`;
  const latest = vouchedUntil + MAX_AHEAD_OF_ZENDESK_SECONDS;
  if (!isCount(summary.rows, MAX_PAGE_ROWS)) return `${summary.rows} rows is not a page's count`;
  if (!isCount(summary.setAside, summary.rows)) return `${summary.setAside} set aside of ${summary.rows}`;
  if (!isTime(summary.newest) || summary.newest > latest) return `newest ${summary.newest} is not a time before then`;
  if (page.endTime !== null && (!isTime(page.endTime) || page.endTime > latest)) {
    return `end_time ${page.endTime} is not a time near the answer's`;
  }
  if (page.afterCursor !== null && (typeof page.afterCursor !== 'string' || page.afterCursor.length > 2048)) {
    return 'the after cursor is not a cursor';
  }
  if (typeof content !== 'object' || content === null) return 'no content';
  if ('staged' in content) {
    return /^[0-9a-f]{64}$/.test(content.staged) ? undefined : 'the staged page is not a blob id';
  }
  if (!Array.isArray(content.rows) || content.rows.length !== summary.rows - summary.setAside) {
    const held = Array.isArray(content.rows) ? content.rows.length : 'no';
    return `${held} rows where the summary counts ${summary.rows - summary.setAside}`;
  }
  return undefined;
}
