import { STREAM_MAX_PER_PAGE, STREAM_PATHS, type AroundStream, type SupportTypeScope } from '../streams/names';
import type { CursorParam } from './client';

/** One page of a stream around the ticket, as the workflow asks for it. */
export interface StreamRequest {
  stream: AroundStream;
  /** Epoch seconds: the start_time of a time-based call, or of the first call of a cursor export. */
  startTime: number;
  /** users: `cursor=`; ticket_metric_events: `page[after]=`. The time-based streams have none. */
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
export function streamPageSize(stream: AroundStream, perPage: number): number {
  const whole = Number.isFinite(perPage) ? Math.floor(perPage) : STREAM_MAX_PER_PAGE[stream];
  return Math.min(Math.max(whole, 1), STREAM_MAX_PER_PAGE[stream]);
}

export function streamCall(request: StreamRequest): StreamCall {
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
