import type { FetchStreamInput, ReferenceRefreshPage } from '../streams/contract';
import { REFERENCE_LIST_MAX_PER_PAGE, REFERENCE_LISTS } from '../streams/names';
import type { FetchedStreamPage, StreamOutcome } from './stream-rules';

/**
 * The rules of the reference lists' stream, as pure functions of its state. A refresh walks the lists in a fixed order
 * (REFERENCE_LISTS), each page by page[after]; it is identified by its start (epoch ms), which every row it stores
 * carries. Once done, the stream is idle until the refresh's start plus the refresh interval.
 */

/** What the rules read of the stream's state. */
export interface ReferenceCursor {
  /** The list being read: an index of REFERENCE_LISTS (absent: the first). */
  list?: number;
  /** page[after] within that list. */
  afterCursor: string | null;
  perPage?: number;
  /** The current (or, once caught up, the last) refresh's start, epoch ms. */
  refreshId?: number;
}

export function nextReferenceRequest(
  state: ReferenceCursor,
  context: { account: string; perPage: number },
): FetchStreamInput {
  const request: FetchStreamInput = {
    account: context.account,
    stream: 'reference_lists',
    list: REFERENCE_LISTS[state.list ?? 0] ?? REFERENCE_LISTS[0],
    startTime: 0,
    perPage: state.perPage ?? Math.min(context.perPage, REFERENCE_LIST_MAX_PER_PAGE),
  };
  if (state.afterCursor) request.afterCursor = state.afterCursor;
  return request;
}

export interface ReferenceOutcome extends StreamOutcome {
  /** The list the next call reads (an index of REFERENCE_LISTS). */
  list: number;
  /** How the page is stored: its list, the refresh's id, whether it is the list's last page. */
  refresh: ReferenceRefreshPage;
}

/** Where the stream stands once the page is stored: the list's next page, the next list, or the refresh done. */
export function afterReferencePage(
  state: ReferenceCursor,
  request: FetchStreamInput,
  page: FetchedStreamPage,
): ReferenceOutcome {
  const index = state.list ?? 0;
  const refreshId = state.refreshId ?? 0;
  const list = REFERENCE_LISTS[index] ?? REFERENCE_LISTS[0];
  const warnings: string[] = [];
  const cursor = Math.floor(refreshId / 1000);
  let lastPage = page.endOfStream || page.afterCursor === null;
  if (!lastPage && page.afterCursor === request.afterCursor) {
    // Asked again, the same cursor would bring the same page: the list ends here.
    warnings.push(`reference_lists: ${list}: page[after] did not advance: the list is taken as read`);
    lastPage = true;
  }
  const refresh = { list, refreshId, lastPage };
  if (!lastPage) return { cursor, afterCursor: page.afterCursor, caughtUp: false, warnings, list: index, refresh };
  const done = index + 1 >= REFERENCE_LISTS.length;
  return { cursor, afterCursor: null, caughtUp: done, warnings, list: done ? 0 : index + 1, refresh };
}

/** The checkpoint of a page: the refresh's start (epoch seconds), and where the refresh is unless it is done. */
export function referenceCheckpoint(outcome: ReferenceOutcome): { cursor: number; afterCursor: string | null } {
  if (outcome.caughtUp) return { cursor: outcome.cursor, afterCursor: null };
  const list = REFERENCE_LISTS[outcome.list];
  return { cursor: outcome.cursor, afterCursor: outcome.afterCursor ? `${list}:${outcome.afterCursor}` : list };
}

/** When the next refresh is due: the last one's start plus the interval. */
export function nextRefreshAt(state: ReferenceCursor & { lastCallAt: number | null }, refreshMs: number): number {
  return (state.refreshId ?? state.lastCallAt ?? 0) + refreshMs;
}
