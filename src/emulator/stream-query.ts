import type { SupportTypeScope } from '../streams/names';
import type { StreamPosition } from './data';
import { parseStartTime } from './endpoints';
import { decodeCursor, invalidValue, parseSupportTypeScope } from './incremental-query';
import type { StreamEndpoint } from './stream-paths';

const MAX_PER_PAGE = 1000;
/** ticket_metric_events' documented page[size] maximum */
export const MAX_METRIC_PAGE_SIZE = 100;

/** The parameters of a call to a stream around the ticket. */
export interface StreamQuery {
  /** the start_time parameter; null when a cursor gives the position */
  startTime: number | null;
  /** users cursor: the cursor parameter; ticket metric events: page[after] */
  cursor: StreamPosition | null;
  /** per_page, or page[size] */
  perPage: number;
  /** ticket_events: include=comment_events */
  withComments: boolean;
  /** ticket_events: the support_type_scope sent, if any */
  scope: SupportTypeScope | null;
  /** ticket_metric_events: a page[…] parameter asks for cursor pagination */
  paged: boolean;
}

function pageSize(raw: string | null, name: string, max: number, fallback: number): number | { error: string } {
  if (raw === null) return fallback;
  const value = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= max)) return invalidValue(`${name} must be an integer from 1 to ${max}, got '${raw}'`);
  return value;
}

/** The parameters of a stream call, or the body of its 400 answer. */
export function parseStreamQuery(endpoint: StreamEndpoint, params: URLSearchParams): StreamQuery | { error: string } {
  const paged = endpoint === 'ticket_metric_events' && (params.has('page[size]') || params.has('page[after]'));
  const perPage = paged
    ? pageSize(params.get('page[size]'), 'page[size]', MAX_METRIC_PAGE_SIZE, MAX_METRIC_PAGE_SIZE)
    : pageSize(params.get('per_page'), 'per_page', MAX_PER_PAGE, MAX_PER_PAGE);
  if (typeof perPage !== 'number') return perPage;
  const include = (params.get('include') ?? '').split(',').map((name) => name.trim());
  const withComments = endpoint === 'ticket_events' && include.includes('comment_events');
  const scope = endpoint === 'ticket_events' ? parseSupportTypeScope(params) : null;
  if (scope !== null && typeof scope === 'object') return scope;

  const cursorParam = endpoint === 'users_cursor' ? 'cursor' : paged ? 'page[after]' : undefined;
  const rawCursor = cursorParam === undefined ? null : params.get(cursorParam);
  if (endpoint === 'users_cursor' && (rawCursor !== null) === params.has('start_time')) {
    return invalidValue('exactly one of start_time and cursor is required');
  }
  if (rawCursor !== null) {
    const cursor = decodeCursor(rawCursor);
    if (!cursor) return { error: JSON.stringify({ error: 'InvalidCursor', description: 'cursor is not valid' }) };
    return { startTime: null, cursor, perPage, withComments, scope, paged };
  }
  const startTime = parseStartTime(params.get('start_time'));
  if (startTime === null) return invalidValue('start_time is required and must be an integer');
  return { startTime, cursor: null, perPage, withComments, scope, paged };
}
