import {
  REFERENCE_LIST_MAX_PER_PAGE,
  REFERENCE_LIST_PATHS,
  STREAM_MAX_PER_PAGE,
  STREAM_PATHS,
  type PagedStream,
  type ReferenceList,
  type SupportTypeScope,
} from '../streams/names';
import type { CursorParam } from './client';

/** One page of a stream around the ticket or of a reference list, as the workflow asks for it. */
export interface StreamRequest {
  stream: PagedStream;
  /** reference_lists: the list to read. */
  list?: ReferenceList;
  /** Epoch seconds: the start_time of a time-based call, or of the first call of a cursor export. */
  startTime: number;
  /** users: `cursor=`; ticket_metric_events and reference lists: `page[after]=`. The time-based streams have none. */
  afterCursor?: string;
  perPage: number;
  /** ticket_events only. */
  supportTypeScope?: SupportTypeScope;
}

/** The call a request becomes: its path and query, the page size sent, and the parameter that carried a cursor. */
export interface StreamCall {
  path: string;
  perPage: number;
  cursorParam?: CursorParam;
}

/** per_page as the stream takes it: a whole number from 1 to the stream's largest page. */
export function streamPageSize(stream: PagedStream, perPage: number): number {
  const largest = stream === 'reference_lists' ? REFERENCE_LIST_MAX_PER_PAGE : STREAM_MAX_PER_PAGE[stream];
  const whole = Number.isFinite(perPage) ? Math.floor(perPage) : largest;
  return Math.min(Math.max(whole, 1), largest);
}

export function streamCall(request: StreamRequest): StreamCall {
  if (request.stream === 'reference_lists') return referenceListCall(request);
  const perPage = streamPageSize(request.stream, request.perPage);
  const query = new URLSearchParams();
  let cursorParam: CursorParam | undefined;
  switch (request.stream) {
    case 'ticket_events':
      query.set('start_time', String(request.startTime));
      // The comments travel as Comment children only with this: ticket_comments is derived from them.
      query.set('include', 'comment_events');
      query.set('per_page', String(perPage));
      if (request.supportTypeScope !== undefined) query.set('support_type_scope', request.supportTypeScope);
      break;
    case 'organizations':
      query.set('start_time', String(request.startTime));
      query.set('per_page', String(perPage));
      break;
    case 'users':
      if (request.afterCursor !== undefined) {
        query.set('cursor', request.afterCursor);
        cursorParam = 'cursor';
      } else {
        query.set('start_time', String(request.startTime));
      }
      query.set('per_page', String(perPage));
      break;
    case 'ticket_metric_events':
      // start_time stays on every call: the cursor pages within the export it started.
      query.set('start_time', String(request.startTime));
      query.set('page[size]', String(perPage));
      if (request.afterCursor !== undefined) {
        query.set('page[after]', request.afterCursor);
        cursorParam = 'page[after]';
      }
      break;
  }
  const call: StreamCall = { path: `${STREAM_PATHS[request.stream]}?${query.toString()}`, perPage };
  return cursorParam ? { ...call, cursorParam } : call;
}

/** A page of a reference list: standard cursor pagination, except custom_statuses, which answers its whole list. */
function referenceListCall(request: StreamRequest): StreamCall {
  const { list } = request;
  if (list === undefined) throw new Error('a reference_lists request names no list');
  const path = REFERENCE_LIST_PATHS[list];
  const perPage = streamPageSize('reference_lists', request.perPage);
  if (list === 'custom_statuses') return { path, perPage };
  const query = new URLSearchParams({ 'page[size]': String(perPage) });
  if (request.afterCursor === undefined) return { path: `${path}?${query.toString()}`, perPage };
  query.set('page[after]', request.afterCursor);
  return { path: `${path}?${query.toString()}`, perPage, cursorParam: 'page[after]' };
}
