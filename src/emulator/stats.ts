import { isReferenceList, PAGED_STREAMS, type PagedStream, type ReferenceList } from '../streams/names';
import type { BucketCounters, LimitedBucket } from './buckets';
import { familyOf, type Endpoint, type EndpointFamily } from './endpoints';
import { retryAfterExpiry, type FaultKind } from './faults';
import { bucketOfEndpoint, streamOfEndpoint, type StreamEndpoint } from './stream-paths';

/** Any endpoint a call is logged under: the ticket exports', the streams around the ticket's, a reference list. */
export type LoggedEndpoint = Endpoint | StreamEndpoint | ReferenceList;

const TICKET_ENDPOINTS: ReadonlySet<string> = new Set(['export', 'sample', 'incremental', 'cursor']);

function isTicketEndpoint(endpoint: LoggedEndpoint): endpoint is Endpoint {
  return TICKET_ENDPOINTS.has(endpoint);
}

function familyOfAny(endpoint: LoggedEndpoint): EndpointFamily {
  if (isReferenceList(endpoint)) return 'account';
  return isTicketEndpoint(endpoint) ? familyOf(endpoint) : bucketOfEndpoint(endpoint);
}

export interface EmulatorLogEntry {
  at: number;
  endpoint: LoggedEndpoint;
  startTime: number | null;
  /** the cursor parameter of a cursor-based call (ticket metric events: page[after]) */
  cursor?: string;
  /** a call of a stream around the ticket: the per_page (or page[size]) it asked for, when it named one */
  perPage?: number;
  status: number | string;
  rows: number;
  retryAfter?: string;
  /** the fault that shaped this answer, if any */
  fault?: FaultKind;
}

export interface TokenLogEntry {
  at: number;
  status: number | string;
  fault?: FaultKind;
}

export interface EmulatorStats {
  /** calls to the ticket exports and the streams around the ticket, all outcomes */
  calls: number;
  byStatus: Record<string, number>;
  /** the ticket exports; the incremental endpoints' keys appear with their first call */
  byEndpoint: Record<'export' | 'sample', number> & Partial<Record<'incremental' | 'cursor', number>>;
  /** calls of the streams around the ticket and of the reference lists, all outcomes (users: time-based and cursor) */
  byStream: Record<PagedStream, number>;
  /** per rate-limit bucket (filled in by the emulator when it answers) */
  buckets: Record<LimitedBucket, BucketCounters>;
  /** 429s and 503s that carried a Retry-After header */
  retryAfterIssued: number;
  /** calls that arrived before the latest Retry-After of their endpoint family had expired */
  callsBeforeRetryAfter: number;
  rowsServed: number;
  /** the last LOG_LIMIT calls */
  log: EmulatorLogEntry[];
  /** POST /oauth/tokens answered 200 with a whole grant (a token delivered) */
  tokenGrants: number;
  /** POST /oauth/tokens answered anything else: a refusal, a fault, a reset */
  tokenErrors: number;
  /** export calls that carried an access token which had expired */
  expiredTokenCalls: number;
  /** export calls answered 401, for whatever reason */
  unauthenticatedCalls: number;
  /** the last LOG_LIMIT calls to POST /oauth/tokens (not in calls or log) */
  tokenLog: TokenLogEntry[];
  /** calls to GET /api/v2/tickets/count.json, all outcomes (not in calls or log) */
  ticketCountCalls: number;
}

const LOG_LIMIT = 1000;
/** a 429 without a usable Retry-After: a careful client waits a minute */
const IMPLIED_RETRY_MS = 60_000;

function emptyStats(): EmulatorStats {
  return {
    calls: 0,
    byStatus: {},
    byEndpoint: { export: 0, sample: 0 },
    byStream: Object.fromEntries(PAGED_STREAMS.map((stream) => [stream, 0])) as Record<PagedStream, number>,
    buckets: {
      incremental: { accepted: 0, rateLimited: 0, injected: 0, overBudget: 0 },
      users_cursor: { accepted: 0, rateLimited: 0, injected: 0, overBudget: 0 },
      account: { accepted: 0, rateLimited: 0, injected: 0, overBudget: 0 },
    },
    retryAfterIssued: 0,
    callsBeforeRetryAfter: 0,
    rowsServed: 0,
    log: [],
    tokenGrants: 0,
    tokenErrors: 0,
    expiredTokenCalls: 0,
    unauthenticatedCalls: 0,
    tokenLog: [],
    ticketCountCalls: 0,
  };
}

function pushLimited<T>(log: T[], entry: T): void {
  log.push(entry);
  if (log.length > LOG_LIMIT) log.shift();
}

/** Counts and logs every call; the control API and the tests read it. */
export class StatsRecorder {
  private data = emptyStats();
  /** per endpoint family, when the latest Retry-After (or implied 60 s of a bare 429) expires, in ms */
  private retryUntil: Partial<Record<EndpointFamily, number>> = {};

  arrive(endpoint: LoggedEndpoint, at: number): void {
    this.data.calls += 1;
    if (isReferenceList(endpoint)) this.data.byStream.reference_lists += 1;
    else if (isTicketEndpoint(endpoint)) this.data.byEndpoint[endpoint] = (this.data.byEndpoint[endpoint] ?? 0) + 1;
    else this.data.byStream[streamOfEndpoint(endpoint)] += 1;
    const until = this.retryUntil[familyOfAny(endpoint)];
    if (until !== undefined && at < until) this.data.callsBeforeRetryAfter += 1;
  }

  finish(entry: EmulatorLogEntry): void {
    const key = String(entry.status);
    this.data.byStatus[key] = (this.data.byStatus[key] ?? 0) + 1;
    if (entry.status === 200) this.data.rowsServed += entry.rows;
    if (entry.status === 401) this.data.unauthenticatedCalls += 1;
    if (entry.status === 429 || entry.status === 503) {
      if (entry.retryAfter !== undefined) {
        this.data.retryAfterIssued += 1;
        this.retryUntil[familyOfAny(entry.endpoint)] =
          retryAfterExpiry(entry.retryAfter, entry.at) ?? entry.at + IMPLIED_RETRY_MS;
      } else if (entry.status === 429) {
        this.retryUntil[familyOfAny(entry.endpoint)] = entry.at + IMPLIED_RETRY_MS;
      }
    }
    pushLimited(this.data.log, entry);
  }

  ticketCount(): void {
    this.data.ticketCountCalls += 1;
  }

  expiredToken(): void {
    this.data.expiredTokenCalls += 1;
  }

  token(entry: TokenLogEntry, granted: boolean): void {
    if (granted) this.data.tokenGrants += 1;
    else this.data.tokenErrors += 1;
    pushLimited(this.data.tokenLog, entry);
  }

  snapshot(buckets: Record<LimitedBucket, BucketCounters>): EmulatorStats {
    return { ...structuredClone(this.data), buckets: structuredClone(buckets) };
  }

  reset(): void {
    this.data = emptyStats();
    this.retryUntil = {};
  }
}
