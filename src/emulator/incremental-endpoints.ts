import type { Bucket } from './buckets';
import { sideloadsFor, type FullTicket, type Sideloads } from './data';
import { CURSOR_PATH, INCREMENTAL_PATH, type EndpointDeps, type TicketCall, type TicketEndpoints } from './endpoints';
import { jsonReply, TEXT_TYPE, type Reply } from './http';
import {
  carriedParams,
  encodeCursor,
  FIRST_PAGE_QUERY,
  parseIncrementalQuery,
  type IncrementalQuery,
} from './incremental-query';
import { INCREMENTAL_RATE_LIMIT_ERROR, RATE_WINDOW_SECONDS, tooManyRequests } from './rate-limits';

/** GET /api/v2/incremental/tickets.json */
export type IncrementalTicketsPage = {
  tickets: FullTicket[];
  count: number;
  end_time: number;
  next_page: string;
  end_of_stream: boolean;
} & Sideloads;

/** GET /api/v2/incremental/tickets/cursor.json */
export type CursorTicketsPage = {
  tickets: FullTicket[];
  after_cursor: string;
  after_url: string;
  before_cursor: string | null;
  before_url: string | null;
  end_of_stream: boolean;
} & Sideloads;

const INCREMENTAL_TOO_RECENT = JSON.stringify({
  error: 'StartTimeTooRecent',
  description: 'Too recent start_time. Use a start_time older than 1 minute',
});
const PAGE_TOO_LARGE = 'upstream request timeout';

/**
 * The endpoints Zendesk serves today (docs/zendesk-api.md#the-time-based-incremental-export and
 * docs/zendesk-api.md#the-cursor-based-incremental-export): time-based and cursor-based, full ticket objects with
 * sideloads, one rate limit per sliding minute for both.
 */
export class IncrementalEndpoints implements TicketEndpoints {
  readonly rateLimit = { body: INCREMENTAL_RATE_LIMIT_ERROR, retryAfterSeconds: RATE_WINDOW_SECONDS };

  constructor(
    private readonly deps: EndpointDeps,
    /** the incremental bucket, shared with the streams around the ticket */
    private readonly limit: Bucket,
  ) {}

  limited(_call: TicketCall, nowMs: number): Reply | undefined {
    const retryAfter = this.limit.refuse(nowMs);
    return retryAfter === undefined ? undefined : tooManyRequests(INCREMENTAL_RATE_LIMIT_ERROR, retryAfter);
  }

  answer(call: TicketCall, counted: boolean): Reply {
    const query = parseIncrementalQuery(call.endpoint, call.params);
    if ('error' in query) return jsonReply(400, query.error);
    const now = this.deps.nowMs();
    const nowSeconds = Math.floor(now / 1000);
    const { incrementalMinStartAgeSeconds, maxPageBytes } = this.deps.options;
    if (query.startTime !== null && nowSeconds - query.startTime < incrementalMinStartAgeSeconds) {
      if (counted) this.limit.accept(now);
      return jsonReply(400, INCREMENTAL_TOO_RECENT);
    }
    const page = this.page(call, query, nowSeconds);
    const body = JSON.stringify(page);
    // Zendesk times out on pages too large to build in time; a 504 does not count against the limit.
    if (maxPageBytes > 0 && Buffer.byteLength(body) > maxPageBytes) {
      return { status: 504, body: PAGE_TOO_LARGE, headers: { 'Content-Type': TEXT_TYPE } };
    }
    if (counted) this.limit.accept(now);
    return { ...jsonReply(200, body), delivered: page.tickets.length };
  }

  whole(call: TicketCall): Reply {
    const parsed = parseIncrementalQuery(call.endpoint, call.params);
    const query = 'error' in parsed ? FIRST_PAGE_QUERY : parsed;
    return jsonReply(200, JSON.stringify(this.page(call, query, Math.floor(this.deps.nowMs() / 1000))));
  }

  private page(
    call: TicketCall,
    query: IncrementalQuery,
    nowSeconds: number,
  ): IncrementalTicketsPage | CursorTicketsPage {
    const { store } = this.deps;
    const url = this.deps.url();
    const cursorBased = call.endpoint === 'cursor';
    // The cursor endpoint serves only completed seconds: its position is (generated_timestamp, id), so a ticket
    // changed later in the current second with a lower id would otherwise land behind a cursor already handed out.
    // (Zendesk's cursor follows its change stream and never skips a late change; this keeps the emulator as safe.)
    const upTo = cursorBased ? nowSeconds - 1 : nowSeconds;
    const { tickets: found, more } = store.scan(query.from, upTo, query.perPage, query.excludeDeleted);
    const tickets = store.fullTickets(found, url);
    const sideloads = sideloadsFor(tickets, query.include, url);
    const first = found[0];
    const last = found[found.length - 1];
    if (!cursorBased) {
      const endTime = last ? last.gts : query.from.gts;
      return {
        tickets,
        count: tickets.length,
        end_time: endTime,
        next_page: `${url}${INCREMENTAL_PATH}?start_time=${endTime}${carriedParams(query)}`,
        end_of_stream: !more,
        ...sideloads,
      };
    }
    const afterCursor = encodeCursor(last ? { gts: last.gts, id: last.id } : query.from);
    // Under the "strictly after" reading, the position just before the first ticket re-reads this page.
    const beforeCursor = first ? encodeCursor({ gts: first.gts, id: first.id - 1 }) : null;
    const cursorUrl = (cursor: string) => `${url}${CURSOR_PATH}?cursor=${cursor}${carriedParams(query)}`;
    return {
      tickets,
      after_cursor: afterCursor,
      after_url: cursorUrl(afterCursor),
      before_cursor: beforeCursor,
      before_url: beforeCursor === null ? null : cursorUrl(beforeCursor),
      end_of_stream: !more,
      ...sideloads,
    };
  }
}
