import type { FetchPageInput, FetchPageResult } from '../activities/types';
import { ExportApi, MAX_AHEAD_OF_ZENDESK_SECONDS, MAX_PAGE_ROWS, STORED_TAIL_MAX_TICKETS } from '../shared';
import type { ExportInput, ExportState, StoredTail } from './messages';
import { advanceCursor, pageEnd } from './cursor-advance';
import { isoSeconds } from '../common/time-text';

/**
 * The cursor rules of the three endpoint families, as pure functions of the export's state: which request comes
 * next, and where the export stands once a page is stored.
 */

export type FetchedPage = Extract<FetchPageResult, { kind: 'page' }>;
export type PageRequest = FetchPageInput & { perPage?: number };

/** What the export needs to know to build a request. */
export type RequestContext = Pick<ExportInput, 'account' | 'include' | 'excludeDeleted' | 'supportTypeScope'>;
type CursorState = Pick<ExportState, 'cursor' | 'afterCursor' | 'trap' | 'perPage'>;

export function nextRequest(api: ExportApi, state: CursorState, input: RequestContext, perPage: number): PageRequest {
  if (api === 'exports') return { account: input.account, startTime: state.cursor };
  const common = {
    account: input.account,
    perPage: state.perPage ?? perPage,
    ...(input.include?.length ? { include: input.include } : {}),
    ...(input.excludeDeleted ? { excludeDeleted: true } : {}),
    ...(input.supportTypeScope ? { supportTypeScope: input.supportTypeScope } : {}),
  };
  if (api === 'incremental' && state.trap) {
    const { startTime, afterCursor } = state.trap;
    return { ...common, api: 'cursor', startTime, ...(afterCursor ? { afterCursor } : {}) };
  }
  if (api === 'cursor' && state.afterCursor) {
    return { ...common, api, startTime: state.cursor, afterCursor: state.afterCursor };
  }
  return { ...common, api, startTime: state.cursor };
}

/** Where the export stands once a page is stored, the flags the page decides, and what is worth a warning. */
export interface PageOutcome {
  cursor: number;
  afterCursor: string | null;
  /** The flags to set now (a key left out stays as it is). */
  flags: Partial<Pick<ExportState, 'caughtUp' | 'trap'>>;
  warnings: string[];
}

export function afterPage(
  api: ExportApi,
  state: CursorState & Pick<ExportState, 'caughtUp'>,
  request: FetchPageInput & { perPage?: number },
  page: FetchedPage,
  sizes: { pageSize: number; perPage: number },
): PageOutcome {
  const warnings: string[] = [];
  const { summary } = page;
  // No cursor passes the newest time the answer vouches for (its Date header): a time from its future is not one.
  const newest = Math.min(summary.newest, page.vouchedUntil);
  const endTime = vouchedEnd(page, warnings);
  const rowCount = summary.tickets;
  const outcome = (cursor: number, afterCursor: string | null, flags: PageOutcome['flags'] = {}): PageOutcome => ({
    cursor,
    afterCursor,
    flags,
    warnings,
  });

  if (api === 'exports') {
    const advance = advanceCursor({
      startTime: request.startTime,
      endTime,
      rowCount,
      pageSize: sizes.pageSize,
      newest,
    });
    if (advance.warning) warnings.push(advance.warning);
    return outcome(advance.cursor, null);
  }

  const caughtUp = page.endOfStream ?? false;
  if (api === 'cursor') {
    const previous = state.afterCursor ?? null;
    const afterCursor = page.afterCursor ?? previous;
    if (previous !== null && afterCursor === previous && rowCount > 0 && !caughtUp) {
      warnings.push(`after_cursor did not advance with ${rowCount} tickets still coming: waiting the poll interval`);
      return outcome(Math.max(state.cursor, newest), afterCursor, { caughtUp: true });
    }
    return outcome(Math.max(state.cursor, newest), afterCursor, { caughtUp });
  }

  if (state.trap) {
    // Inside a crowded second, paged by cursor: back to start_time once a later second shows up.
    const trap = { ...state.trap, afterCursor: page.afterCursor ?? state.trap.afterCursor };
    if (newest > trap.startTime) return outcome(newest, null, { caughtUp, trap: null });
    return outcome(state.cursor, null, { caughtUp, trap });
  }
  const perPage = request.perPage ?? sizes.perPage;
  const end = rowCount > 0 ? pageEnd(endTime, newest) : { endTime };
  if (end.warning) warnings.push(end.warning);
  const pageEndTime = end.endTime;
  if (rowCount >= perPage && pageEndTime === request.startTime) {
    warnings.push(
      `a full page of ${rowCount} tickets shares generated_timestamp ${request.startTime} ` +
        `(${isoSeconds(request.startTime)}): reading that second through the cursor endpoint`,
    );
    return outcome(state.cursor, null, { caughtUp: false, trap: { startTime: request.startTime, afterCursor: null } });
  }
  if (rowCount === 0 || pageEndTime === null) return outcome(request.startTime, null, { caughtUp });
  if (pageEndTime < request.startTime) {
    warnings.push(`end_time ${pageEndTime} is before start_time ${request.startTime}: cursor kept`);
    return outcome(request.startTime, null, { caughtUp });
  }
  return outcome(pageEndTime, null, { caughtUp });
}

/** The page's end_time, or the answer's own time when it lies beyond (a second of the Date header's rounding aside). */
function vouchedEnd(page: FetchedPage, warnings: string[]): number | null {
  const { endTime, vouchedUntil } = page;
  if (endTime === null || endTime <= vouchedUntil) return endTime;
  if (endTime > vouchedUntil + 1) {
    warnings.push(
      `end_time ${endTime} (${isoSeconds(endTime)}) is ${endTime - vouchedUntil} s ahead of the answer's own time ` +
        `(${isoSeconds(vouchedUntil)}, its Date header): the cursor stops there`,
    );
  }
  return vouchedUntil;
}

/** The sink's checkpoint once a page is stored: the cursor, and for the incremental endpoints the after_cursor. */
export function checkpointAt(api: ExportApi, next: { cursor: number; afterCursor: string | null }) {
  return api === 'exports' ? { cursor: next.cursor } : { ...next, api };
}

/** Whether a page reached the end of what Zendesk has now. */
export function reachedEnd(api: ExportApi, page: FetchedPage, pageSize: number): boolean {
  return api === 'exports' ? page.summary.tickets < pageSize : page.endOfStream === true;
}

/**
 * The tickets of a stored page that the next call returns again: on the time-based endpoints start_time is inclusive,
 * so a call from the new cursor repeats the tickets of the cursor's second. Their fingerprints come from fetchPage.
 */
export function storedTail(page: FetchedPage, cursor: number): StoredTail | undefined {
  const { tail, setAside, fieldHeaders } = page.summary;
  if (tail === null || setAside > 0) return undefined;
  const tickets = tail.filter(([, generatedTimestamp]) => generatedTimestamp >= cursor);
  return { cursor, tickets: tickets.map(([id, , print]) => [id, print]), fieldHeaders };
}

/**
 * Whether a page holds nothing new: every ticket exactly as stored with the last page (two changes within one second
 * share a generated_timestamp, so the whole row is compared), the same field headers, and the cursor stays. A page
 * with sideloads or set-aside tickets is stored anyway: a user or organization can change without its tickets changing.
 */
export function storedAlready(tail: StoredTail | undefined, page: FetchedPage, next: PageOutcome): boolean {
  const { summary } = page;
  if (!tail || next.cursor !== tail.cursor || summary.tickets === 0 || summary.sideloads || summary.setAside > 0) {
    return false;
  }
  if (summary.tail === null || summary.tail.length !== summary.tickets) return false;
  if (tail.fieldHeaders !== summary.fieldHeaders) return false;
  const stored = new Set(tail.tickets.map(([id, print]) => `${id}:${print}`));
  return summary.tail.every(([id, , print]) => stored.has(`${id}:${print}`));
}

const isCount = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Why a page fetchPage returned cannot be taken as it is (its counts, ids and times checked again, whoever wrote it),
 * or undefined. Nothing of such a page is stored and no cursor moves with it.
 */
export function pageProblem(page: FetchedPage): string | undefined {
  const { summary, content, vouchedUntil } = page;
  if (typeof summary !== 'object' || summary === null) return 'no summary';
  if (!isTime(vouchedUntil) || vouchedUntil === 0) return `vouchedUntil ${vouchedUntil} is not a time`;
  const latest = vouchedUntil + MAX_AHEAD_OF_ZENDESK_SECONDS;
  if (!isCount(summary.tickets, MAX_PAGE_ROWS)) return `${summary.tickets} tickets is not a page's count`;
  if (!isCount(summary.setAside, summary.tickets)) return `${summary.setAside} set aside of ${summary.tickets}`;
  if (!isTime(summary.newest) || summary.newest > latest) return `newest ${summary.newest} is not a time before then`;
  if (summary.oldest !== null && (!isTime(summary.oldest) || summary.oldest > summary.newest)) {
    return `oldest ${summary.oldest} is not a time at or before the newest`;
  }
  if (page.endTime !== null && (!isTime(page.endTime) || page.endTime > latest)) {
    return `end_time ${page.endTime} is not a time near the answer's`;
  }
  if (summary.tail !== null) {
    if (!Array.isArray(summary.tail) || summary.tail.length > STORED_TAIL_MAX_TICKETS) return 'the tail is not a tail';
    const bad = summary.tail.find(
      ([id, at, print]) =>
        !isCount(id, Number.MAX_SAFE_INTEGER) || id === 0 || !isTime(at) || typeof print !== 'string',
    );
    if (bad) return `the tail holds ${JSON.stringify(bad).slice(0, 80)}`;
  }
  if (typeof content !== 'object' || content === null) return 'no content';
  if ('staged' in content) {
    return /^[0-9a-f]{64}$/.test(content.staged) ? undefined : 'the staged page is not a blob id';
  }
  if (!Array.isArray(content.rows) || content.rows.length !== summary.tickets - summary.setAside) {
    return `${Array.isArray(content.rows) ? content.rows.length : 'no'} rows where the summary counts ${summary.tickets - summary.setAside}`;
  }
  const row = content.rows.find(
    (r) =>
      !isCount(r?.id, Number.MAX_SAFE_INTEGER) ||
      r.id === 0 ||
      !isTime(r.generated_timestamp) ||
      r.generated_timestamp > summary.newest,
  );
  if (row) return `ticket ${JSON.stringify(row?.id)} has an id or generated_timestamp the summary does not account for`;
  return undefined;
}
