import type { FetchPageInput, FetchPageResult } from '../activities/types';
import type { ExportApi } from '../shared';
import type { ExportInput, ExportState, StoredTail } from './messages';
import { advanceCursor, isoSeconds, pageEnd } from './pacing';

/**
 * The cursor rules of the three endpoint families, as pure functions of the export's state: which request comes
 * next, and where the export stands once a page is stored.
 */

export type FetchedPage = Extract<FetchPageResult, { kind: 'page' }>;
export type PageRequest = FetchPageInput & { perPage?: number };

/** What the export needs to know to build a request. */
export type RequestContext = Pick<ExportInput, 'account' | 'include' | 'excludeDeleted'>;
type CursorState = Pick<ExportState, 'cursor' | 'afterCursor' | 'trap' | 'perPage'>;

export function nextRequest(api: ExportApi, state: CursorState, input: RequestContext, perPage: number): PageRequest {
  if (api === 'exports') return { account: input.account, startTime: state.cursor };
  const common = {
    account: input.account,
    perPage: state.perPage ?? perPage,
    ...(input.include?.length ? { include: input.include } : {}),
    ...(input.excludeDeleted ? { excludeDeleted: true } : {}),
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
  const newest = page.rows.reduce((max, row) => Math.max(max, row.generated_timestamp), 0);
  const outcome = (cursor: number, afterCursor: string | null, flags: PageOutcome['flags'] = {}): PageOutcome => ({
    cursor,
    afterCursor,
    flags,
    warnings,
  });

  if (api === 'exports') {
    const advance = advanceCursor({
      startTime: request.startTime,
      endTime: page.endTime,
      rowCount: page.rows.length,
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
    if (previous !== null && afterCursor === previous && page.rows.length > 0 && !caughtUp) {
      warnings.push(
        `after_cursor did not advance with ${page.rows.length} tickets still coming: waiting the poll interval`,
      );
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
  const end = page.rows.length > 0 ? pageEnd(page.endTime, newest) : { endTime: page.endTime };
  if (end.warning) warnings.push(end.warning);
  const endTime = end.endTime;
  if (page.rows.length >= perPage && endTime === request.startTime) {
    warnings.push(
      `a full page of ${page.rows.length} tickets shares generated_timestamp ${request.startTime} ` +
        `(${isoSeconds(request.startTime)}): reading that second through the cursor endpoint`,
    );
    return outcome(state.cursor, null, { caughtUp: false, trap: { startTime: request.startTime, afterCursor: null } });
  }
  if (page.rows.length === 0 || endTime === null) return outcome(request.startTime, null, { caughtUp });
  if (endTime < request.startTime) {
    warnings.push(`end_time ${endTime} is before start_time ${request.startTime}: cursor kept`);
    return outcome(request.startTime, null, { caughtUp });
  }
  return outcome(endTime, null, { caughtUp });
}

/** The sink's checkpoint once a page is stored: the cursor, and for the incremental endpoints the after_cursor. */
export function checkpointAt(api: ExportApi, next: { cursor: number; afterCursor: string | null }) {
  return api === 'exports' ? { cursor: next.cursor } : { ...next, api };
}

/** Whether a page reached the end of what Zendesk has now. */
export function reachedEnd(api: ExportApi, page: FetchedPage, pageSize: number): boolean {
  return api === 'exports' ? page.rows.length < pageSize : page.endOfStream === true;
}

/** More tickets than this in the cursor's second (a burst) are not remembered: such a page is simply stored again. */
export const STORED_TAIL_MAX_TICKETS = 100;

/**
 * The tickets of a stored page that the next call returns again: on the time-based endpoints start_time is inclusive,
 * so a call from the new cursor repeats the tickets of the cursor's second.
 */
export function storedTail(page: FetchedPage, cursor: number): StoredTail | undefined {
  const tail = page.rows.filter((row) => row.generated_timestamp >= cursor);
  if (tail.length > STORED_TAIL_MAX_TICKETS || tail.some((row) => row.id <= 0)) return undefined;
  return { cursor, tickets: tail.map((row) => [row.id, fingerprint(row)]) };
}

/**
 * Whether a page holds nothing new: every ticket exactly as stored with the last page (two changes within one second
 * share a generated_timestamp, so the whole row is compared), and the cursor stays. A page with sideloads is stored
 * anyway: a user or organization can change without its tickets changing.
 */
export function storedAlready(tail: StoredTail | undefined, page: FetchedPage, next: PageOutcome): boolean {
  if (!tail || next.cursor !== tail.cursor || page.rows.length === 0 || page.sideloads) return false;
  const stored = new Set(tail.tickets.map(([id, print]) => `${id}:${print}`));
  return page.rows.every((row) => stored.has(`${row.id}:${fingerprint(row)}`));
}

/** A 64-bit fingerprint (two 32-bit FNV-1a lanes, hex) of a row's JSON: equal rows, equal prints. */
export function fingerprint(row: unknown): string {
  const text = JSON.stringify(row);
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193) ^ (a >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
