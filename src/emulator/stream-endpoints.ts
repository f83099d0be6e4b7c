import type { Bucket, LimitedBucket } from './buckets';
import type { StreamPosition } from './data';
import type { StreamFaultSpec } from './faults';
import { jsonReply, TEXT_TYPE, type Reply } from './http';
import { encodeCursor } from './incremental-query';
import type { TicketMetricEvent } from './metric-events';
import type { ResolvedEmulatorOptions } from './options';
import { INCREMENTAL_RATE_LIMIT_ERROR, RATE_WINDOW_SECONDS, tooManyRequests } from './rate-limits';
import { cursorPage, sortedAfter, timePage, type PageRule } from './stream-pages';
import { bucketOfEndpoint, STREAM_ENDPOINT_PATH, type StreamEndpoint } from './stream-paths';
import { parseStreamQuery, type StreamQuery } from './stream-query';
import type { StreamModel, Timed } from './stream-model';

/** A GET of one of the streams around the ticket. */
export interface StreamCall {
  endpoint: StreamEndpoint;
  /** the start_time parameter, when it is a non-negative integer */
  startTime: number | null;
  params: URLSearchParams;
}

export interface StreamDeps {
  model: StreamModel;
  options: ResolvedEmulatorOptions;
  buckets: Readonly<Record<LimitedBucket, Bucket>>;
  /** the emulator's origin, for next_page, after_url and links.next */
  url(): string;
  nowMs(): number;
}

/** What a page answer is made of before it is serialized. */
interface Page {
  body: Record<string, unknown>;
  rows: number;
}

const TOO_RECENT = JSON.stringify({
  error: 'StartTimeTooRecent',
  description: 'Too recent start_time. Use a start_time older than 1 minute',
});
const GATEWAY_TIMEOUT = 'upstream request timeout';

const rowsOf = <T>(page: Array<Timed<T>>) => page.map((timed) => timed.row);

/**
 * The exports of the streams around the ticket (docs/emulator.md#the-streams-around-the-ticket): ticket events,
 * organizations and the time-based users export page by time with Zendesk's same-second rule; the users cursor export
 * and ticket metric events with page[…] parameters page by cursor. Each call counts against its bucket.
 */
export class StreamEndpoints {
  readonly rateLimit = { body: INCREMENTAL_RATE_LIMIT_ERROR, retryAfterSeconds: RATE_WINDOW_SECONDS };

  constructor(private readonly deps: StreamDeps) {}

  bucketOf(call: StreamCall): Bucket {
    return this.deps.buckets[bucketOfEndpoint(call.endpoint)];
  }

  limited(call: StreamCall, nowMs: number): Reply | undefined {
    const retryAfter = this.bucketOf(call).refuse(nowMs);
    return retryAfter === undefined ? undefined : tooManyRequests(INCREMENTAL_RATE_LIMIT_ERROR, retryAfter);
  }

  /** The parameters of a call, for choosing a fault (undefined when they are not valid). */
  query(call: StreamCall): StreamQuery | undefined {
    const query = parseStreamQuery(call.endpoint, call.params);
    return 'error' in query ? undefined : query;
  }

  /** Parameter check, too-recent check, the stream fault if any, the page; a `counted` call counts in its bucket. */
  answer(call: StreamCall, counted: boolean, fault?: StreamFaultSpec): Reply {
    const query = parseStreamQuery(call.endpoint, call.params);
    if ('error' in query) return jsonReply(400, query.error);
    const now = this.deps.nowMs();
    const nowSeconds = Math.floor(now / 1000);
    const { incrementalMinStartAgeSeconds, maxPageBytes } = this.deps.options;
    if (query.startTime !== null && nowSeconds - query.startTime < incrementalMinStartAgeSeconds) {
      if (counted) this.bucketOf(call).accept(now);
      return jsonReply(400, TOO_RECENT);
    }
    if (fault?.kind === 'commentEventsTimeout') return gatewayTimeout();
    if (fault) this.applyDataFault(fault, query, nowSeconds);
    const page = this.page(call.endpoint, query, nowSeconds, fault);
    const body = JSON.stringify(page.body);
    if (maxPageBytes > 0 && Buffer.byteLength(body) > maxPageBytes) return gatewayTimeout();
    if (counted) this.bucketOf(call).accept(now);
    return { ...jsonReply(200, body), delivered: page.rows };
  }

  /** The page a call would get (bad parameters: from the start), for the truncated fault. */
  whole(call: StreamCall): Reply {
    const parsed = parseStreamQuery(call.endpoint, call.params);
    const query: StreamQuery =
      'error' in parsed
        ? { startTime: 0, cursor: null, perPage: 100, withComments: false, scope: null, paged: false }
        : parsed;
    const nowSeconds = Math.floor(this.deps.nowMs() / 1000);
    return jsonReply(200, JSON.stringify(this.page(call.endpoint, query, nowSeconds).body));
  }

  /** The faults that add rows: at the call's start_time second, so that this very page serves them. */
  private applyDataFault(fault: StreamFaultSpec, query: StreamQuery, nowSeconds: number): void {
    const { model } = this.deps;
    const second = query.startTime ?? nowSeconds;
    if (fault.kind === 'sameSecondBurst') {
      if (fault.stream === 'organizations') model.people.addOrganizations(fault.size, second);
      else model.store.addBurst(fault.size, second);
    } else if (fault.kind === 'unusualEvents') {
      model.addUnusualEvents(fault.size, second);
    }
  }

  private page(endpoint: StreamEndpoint, query: StreamQuery, nowSeconds: number, fault?: StreamFaultSpec): Page {
    const rule: PageRule = fault?.kind === 'fullPageRepeats' ? 'cut' : 'wholeSeconds';
    const straddle = fault?.kind === 'straddle' ? fault.rows : 0;
    // Time-based exports never serve the last minute; cursor exports serve completed seconds.
    const timeUpTo = nowSeconds - this.deps.options.incrementalMinStartAgeSeconds;
    switch (endpoint) {
      case 'ticket_events':
        return this.ticketEvents(query, timeUpTo, rule);
      case 'organizations':
        return this.organizations(query, timeUpTo, rule);
      case 'users':
        return this.timeBasedUsers(query, timeUpTo, rule);
      case 'users_cursor':
        return this.cursorUsers(query, nowSeconds - 1);
      case 'ticket_metric_events':
        return query.paged
          ? this.cursorMetricEvents(query, nowSeconds - 1, straddle)
          : this.timeBasedMetricEvents(query, timeUpTo, straddle, rule);
    }
  }

  /** `count`, `end_time`, `next_page` and `end_of_stream` of a time-based page. */
  private timeBased<T>(
    endpoint: StreamEndpoint,
    key: string,
    query: StreamQuery,
    page: Array<Timed<T>>,
    rows: unknown[],
    more: boolean,
  ): Page {
    const startTime = query.startTime ?? 0;
    const endTime = page.length > 0 ? page[page.length - 1].time : startTime;
    let carried = `&per_page=${query.perPage}`;
    if (query.withComments) carried += '&include=comment_events';
    if (query.scope !== null) carried += `&support_type_scope=${query.scope}`;
    return {
      body: {
        [key]: rows,
        count: rows.length,
        end_time: endTime,
        next_page: `${this.deps.url()}${STREAM_ENDPOINT_PATH[endpoint]}?start_time=${endTime}${carried}`,
        end_of_stream: !more,
      },
      rows: rows.length,
    };
  }

  private ticketEvents(query: StreamQuery, upTo: number, rule: PageRule): Page {
    const { model } = this.deps;
    const startTime = query.startTime ?? 0;
    const { page, more } = timePage(model.eventsFrom(startTime, upTo), startTime, query.perPage, rule);
    const events = page.map((timed) => model.events.event(timed.row, query.withComments));
    return this.timeBased('ticket_events', 'ticket_events', query, page, events, more);
  }

  private organizations(query: StreamQuery, upTo: number, rule: PageRule): Page {
    const { people } = this.deps.model;
    const startTime = query.startTime ?? 0;
    const from = { gts: startTime, id: 0 };
    const sorted = sortedAfter(people.organizationsByUpdate(), (org) => org.updatedAt, from, upTo);
    const { page, more } = timePage(sorted, startTime, query.perPage, rule);
    const rows = page.map((timed) => people.organizationJson(timed.row, this.deps.url()));
    return this.timeBased('organizations', 'organizations', query, page, rows, more);
  }

  private timeBasedUsers(query: StreamQuery, upTo: number, rule: PageRule): Page {
    const { people } = this.deps.model;
    const startTime = query.startTime ?? 0;
    const sorted = sortedAfter(people.usersByUpdate(), (user) => user.updatedAt, { gts: startTime, id: 0 }, upTo);
    const { page, more } = timePage(sorted, startTime, query.perPage, rule);
    const rows = page.map((timed) => people.userJson(timed.row, this.deps.url()));
    return this.timeBased('users', 'users', query, page, rows, more);
  }

  private cursorUsers(query: StreamQuery, upTo: number): Page {
    const { people } = this.deps.model;
    const url = this.deps.url();
    const from = query.cursor ?? { gts: query.startTime ?? 0, id: 0 };
    const sorted = sortedAfter(people.usersByUpdate(), (user) => user.updatedAt, from, upTo);
    const { page, more } = cursorPage(sorted, query.perPage);
    const first = page[0];
    const last = page[page.length - 1];
    const afterCursor = encodeCursor(last ? { gts: last.time, id: last.row.id } : from);
    // Under the "strictly after" reading, the position just before the first user re-reads this page.
    const beforeCursor = first ? encodeCursor({ gts: first.time, id: first.row.id - 1 }) : null;
    const cursorUrl = (cursor: string) =>
      `${url}${STREAM_ENDPOINT_PATH.users_cursor}?cursor=${cursor}&per_page=${query.perPage}`;
    return {
      body: {
        users: page.map((timed) => people.userJson(timed.row, url)),
        after_cursor: afterCursor,
        before_cursor: beforeCursor,
        after_url: cursorUrl(afterCursor),
        before_url: beforeCursor === null ? null : cursorUrl(beforeCursor),
        end_of_stream: !more,
      },
      rows: page.length,
    };
  }

  private timeBasedMetricEvents(query: StreamQuery, upTo: number, straddle: number, rule: PageRule): Page {
    const { model } = this.deps;
    const startTime = query.startTime ?? 0;
    const from: StreamPosition = { gts: startTime, id: 0 };
    const { page, more } = timePage(model.metricsAfter(from, upTo), startTime, query.perPage, rule);
    const rows = [...rowsOf(model.metricsBefore(from, straddle)), ...rowsOf(page)];
    return this.timeBased('ticket_metric_events', 'ticket_metric_events', query, page, rows, more);
  }

  private cursorMetricEvents(query: StreamQuery, upTo: number, straddle: number): Page {
    const { model } = this.deps;
    const from = query.cursor ?? { gts: query.startTime ?? 0, id: 0 };
    const { page, more } = cursorPage(model.metricsAfter(from, upTo), query.perPage);
    const rows: TicketMetricEvent[] = [...rowsOf(model.metricsBefore(from, straddle)), ...rowsOf(page)];
    const first = page[0];
    const last = page[page.length - 1];
    const afterCursor = encodeCursor(last ? { gts: last.time, id: last.row.id } : from);
    const beforeCursor = first ? encodeCursor({ gts: first.time, id: first.row.id - 1 }) : null;
    const next = `${this.deps.url()}${STREAM_ENDPOINT_PATH.ticket_metric_events}?page[after]=${afterCursor}&page[size]=${query.perPage}`;
    return {
      body: {
        ticket_metric_events: rows,
        meta: { has_more: more, after_cursor: afterCursor, before_cursor: beforeCursor },
        links: { next, prev: null },
      },
      rows: rows.length,
    };
  }
}

function gatewayTimeout(): Reply {
  return { status: 504, body: GATEWAY_TIMEOUT, headers: { 'Content-Type': TEXT_TYPE } };
}
