import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ExportApi, ExportStateName } from '../shared';
import type { AuthState } from '../zendesk/auth';
import type { AroundStream, BucketName, PagedStream, StreamName, SupportTypeScope } from '../streams/names';

export interface ExportInput {
  account: string;
  /**
   * Which Zendesk export to read; kept for the life of the export. Default 'exports' (the specified one). `start`
   * always sends one: when nothing chooses, cursor at <subdomain>.zendesk.com, exports elsewhere (defaultExportApi).
   */
  api?: ExportApi;
  /** An explicit first cursor (epoch seconds): wins over the checkpoint stored in the sink. */
  startTime?: number;
  /** The first cursor when neither startTime nor a stored checkpoint exists. Default 0. */
  defaultStartTime?: number;
  /**
   * Minimum gap between two calls to Zendesk. Default 300. 0 (no gap while catching up; a benchmark's setting, the
   * CLI and the environment take 0.1 at least): once caught up, or after a failure, calls are 0.1 s apart at least.
   */
  pollIntervalSeconds?: number;
  /** Zendesk rejects a start_time younger than this. Default 300 ('exports'), 60 (incremental endpoints). */
  minStartAgeSeconds?: number;
  /** Incremental endpoints: calls per minute while catching up. Default 10 (30 with the High Volume add-on). */
  requestsPerMinute?: number;
  /** Incremental endpoints: per_page, 1-1000. Default 1000; a 504 halves it for the next call. */
  perPage?: number;
  /** Incremental endpoints: sideloads passed through (users, groups, organizations…). */
  include?: string[];
  /** Incremental endpoints: leave deleted tickets out. */
  excludeDeleted?: boolean;
  /** Continue-as-new after this many pages in one run. Default 500. */
  pagesPerRun?: number;
  /** Rows in a full page (1000 on the export endpoint): a full page at one timestamp is stepped past. */
  pageSize?: number;
  /**
   * False when the namespace has no ZendeskState search attribute (a deployment that registered only the first
   * three): the workflow then never upserts it. `start` sets it from the namespace; default true.
   */
  stateSearchAttribute?: boolean;
  /**
   * The streams this export reads. Absent: tickets only (an input written before streams existed); `start`, the
   * environment and the accounts file default to all five.
   */
  streams?: StreamName[];
  /** A first start_time per stream around the ticket (epoch seconds); default the export's first cursor. */
  streamStartTimes?: Partial<Record<AroundStream, number>>;
  /** The users cursor export's own budget: calls per minute. Default 20 (60 with the High Volume add-on). */
  usersRequestsPerMinute?: number;
  /** The account-wide budget (the reference lists): calls per minute. Default 30. */
  accountRequestsPerMinute?: number;
  /** The reference lists are read again this long after a refresh started (seconds). Default 3600. */
  referenceRefreshSeconds?: number;
  /** `support_type_scope` on ticket events and the incremental ticket endpoints; `start` sends `all` by default. */
  supportTypeScope?: SupportTypeScope;
  /** Carried over continue-as-new; absent on a fresh start. */
  state?: ExportState;
}

/** A Zendesk rate-limit bucket's clock: every stream that calls through it paces by it. */
export interface BucketClock {
  /** When a call through the bucket last went (worker clock, ms). */
  lastCallAt: number | null;
  /** No call through the bucket before this instant (ms): the last 429's Retry-After, whichever stream got it. */
  retryAfterUntil?: number;
}

/** One stream around the ticket (or the reference lists): its cursor, phase and counters, carried over continue-as-new. */
export interface AroundStreamState {
  /**
   * Epoch seconds: the time-based cursor, or the newest row time stored by a cursor-paged stream; reference_lists: the
   * start of the current (once caught up, the last) refresh.
   */
  cursor: number;
  /** users: the after_cursor; ticket_metric_events and reference lists: page[after] while has_more. */
  afterCursor: string | null;
  /** reference_lists: the list being read, an index of REFERENCE_LISTS. */
  list?: number;
  /** reference_lists: the current (once caught up, the last) refresh's start, epoch ms: the id its rows carry. */
  refreshId?: number;
  caughtUp: boolean;
  /** When this stream last called (ms): the idle interval, and turns shared fairly among streams with a backlog. */
  lastCallAt: number | null;
  /** When a call last reached the end of the stream (ms, Zendesk's clock). */
  completeThroughMs?: number;
  perPage?: number;
  goodPagesAtPerPage?: number;
  /** A crowded second asked again with the largest page: a full page there now is stepped past. */
  crowdedSecond?: number;
  /** No call before this instant (ms): the backoff after failures. */
  notBefore?: number;
  retryNotBefore?: number;
  consecutiveFailures: number;
  blocked: boolean;
  /** A blocked stream tries again at this instant (ms) unless resumed. */
  blockedUntil?: number;
  lastError: string | null;
  pollNowPending?: boolean;
  /** An operator's reset whose cursor the sink's checkpoint does not hold yet. */
  resetToSave?: boolean;
  /** The checkpoint was read (or a start time given): the stream's first cursor is known. */
  started: boolean;
  pages: number;
  rowsStored: number;
  rejected: number;
  calls: number;
  rateLimited: number;
  comments?: number;
  fieldChanges?: number;
}

/** Tickets stored with the cursor they led to, by id and a fingerprint of the row as received. */
export interface StoredTail {
  cursor: number;
  tickets: [id: number, fingerprint: string][];
  /** The fingerprint of the field headers stored with it: a renamed custom field is stored even on an idle poll. */
  fieldHeaders?: string;
}

export interface ExportState {
  api?: ExportApi;
  /** Epoch seconds: the time-based cursor, or the newest generated_timestamp stored by a cursor export. */
  cursor: number;
  /** Cursor-based export: the after_cursor to continue from (null: start from `cursor`). */
  afterCursor?: string | null;
  /** Time-based export: a second holding a full page, being read through the cursor endpoint. */
  trap?: { startTime: number; afterCursor: string | null } | null;
  /** Incremental endpoints: the last page reached end_of_stream, so the next call waits the poll interval. */
  caughtUp?: boolean;
  /**
   * When (ms) a call last reached the end of the stream: the sink then held every change up to that moment. Lag is
   * counted from here or from the cursor, whichever is newer, so a caught-up export on a quiet account shows no lag.
   * On Zendesk's clock.
   */
  completeThroughMs?: number;
  /** Zendesk's clock minus the worker's (ms), from the last answer's Date header; 0 within measuring noise. */
  zendeskClockOffsetMs?: number;
  /** No call before this instant (worker clock, ms): the last 429's Retry-After. */
  retryAfterUntil?: number;
  /**
   * When the last page was fetched and stored (ms, as its activities reported it); unset after any other outcome.
   * A recorded time: a wait already over by then needs no timer, and replay decides the same.
   */
  pageDoneAt?: number;
  perPage?: number;
  /** Good pages in a row at a per_page a 504 reduced: it doubles again after a few. */
  goodPagesAtPerPage?: number;
  /** No call before this instant (worker clock, ms): the backoff after failures, carried over continue-as-new. */
  notBefore?: number;
  /** The part of `notBefore` a failed call's answer or the pacing asked for (a 503's Retry-After): resume keeps it. */
  retryNotBefore?: number;
  /** A pollNow signal not yet acted on, carried over continue-as-new. */
  pollNowPending?: boolean;
  /** An operator's reset whose cursor the sink's checkpoint does not hold yet. */
  resetToSave?: boolean;
  /** Tickets the sink could not store (set aside in rejected_tickets). */
  ticketsRejected?: number;
  /** The tickets of the last stored page at or past its cursor: the next call from that cursor returns them again. */
  storedTail?: StoredTail;
  /** How the worker signed in at the last call (mode, token renewal): nothing secret. */
  auth?: AuthState;
  paused: boolean;
  blocked: boolean;
  /** When the last call to Zendesk was sent (ms): pacing counts from here. */
  lastCallAt: number | null;
  pages: number;
  ticketsStored: number;
  calls: number;
  rateLimited: number;
  lastPageSize: number;
  lastError: string | null;
  consecutiveFailures: number;
  warnings: string[];
  /** Where the current catch-up started (the first cursor, or the last reset): progress, rate and ETA count from here. */
  progressFrom?: ProgressFrom;
  /** The streams read now (an update may change them); absent: the input's. */
  streams?: StreamName[];
  /** The streams around the ticket, each with its own cursor. */
  around?: Partial<Record<PagedStream, AroundStreamState>>;
  /** One pacing clock per rate-limit bucket of the account. */
  buckets?: Partial<Record<BucketName, BucketClock>>;
  /** The tickets stream, blocked, tries again at this instant (ms) unless resumed. */
  blockedUntil?: number;
}

export interface ProgressFrom {
  /** Epoch seconds. */
  cursor: number;
  /** When (ms, worker clock). */
  atMs: number;
  /** ticketsStored then. */
  tickets: number;
  /**
   * The oldest generated_timestamp of the first page after it (epoch seconds): a catch-up from 0 spans decades of no
   * tickets, so progress counts from here.
   */
  firstTicketAt?: number;
}

export type ExportPhase =
  | 'starting'
  | 'waiting'
  | 'idle'
  | 'fetching'
  | 'persisting'
  | 'rate_limited'
  | 'backoff'
  | 'paused'
  | 'blocked'
  | 'continuing_as_new';

export interface ExportStatus {
  account: string;
  api: ExportApi;
  /** The same coarse state as the ZendeskState search attribute. */
  state: ExportStateName;
  progressFrom: ProgressFrom | null;
  afterCursor: string | null;
  perPage: number;
  caughtUp: boolean;
  cursor: number;
  cursorIso: string;
  phase: ExportPhase;
  paused: boolean;
  blocked: boolean;
  nextCallAt: string | null;
  pages: number;
  ticketsStored: number;
  calls: number;
  rateLimited: number;
  lastPageSize: number;
  /** Tickets the sink could not store, set aside in its rejected_tickets table. */
  ticketsRejected: number;
  /** How the worker signed in at the last call: the mode and when its token renews. */
  auth: AuthState | null;
  lastError: string | null;
  warnings: string[];
  /** Seconds between `asOf` and the newest moment the sink is known complete through (see ExportState). */
  lagSeconds: number;
  /** Epoch seconds the sink is known complete through: max(cursor, the last end-of-stream call). */
  completeThrough: number;
  pollIntervalSeconds: number;
  minStartAgeSeconds: number;
  historyLength: number;
  /** One row per stream read (tickets first); absent from workers before streams. */
  streams?: StreamStatus[];
  asOf: string;
}

/** A stream's row in status, the Web UI's details and the CLI. */
export interface StreamStatus {
  stream: StreamName;
  bucket: BucketName;
  cursor: number;
  cursorIso: string;
  afterCursor: string | null;
  phase: ExportPhase;
  caughtUp: boolean;
  blocked: boolean;
  lagSeconds: number;
  rowsStored: number;
  pages: number;
  calls: number;
  rateLimited: number;
  rejected: number;
  nextCallAt: string | null;
  lastError: string | null;
}

export interface ResetCursorRequest {
  /** The new cursor, epoch seconds: a whole number, not in the future. */
  startTime: number;
  /** The stream to move; default tickets. Every other stream keeps its cursor. */
  stream?: StreamName;
}

export interface SetStreamsRequest {
  /** The streams to read from now on; the others keep their cursors and counters, to be read again later. */
  streams: StreamName[];
}

export interface ResetCursorResult {
  previousCursor: number;
  cursor: number;
}

export const pauseSignal = defineSignal('pause');
/** Incremental endpoints: cut the idle wait short (never the rate limit). */
export const pollNowSignal = defineSignal('pollNow');
export const resumeSignal = defineSignal('resume');
export const resetCursorSignal = defineSignal<[ResetCursorRequest]>('resetCursor');
export const resetCursorUpdate = defineUpdate<ResetCursorResult, [ResetCursorRequest]>('resetCursor');
/** Adds or removes streams of a running export: every other stream keeps its cursor. Returns the streams read now. */
export const setStreamsUpdate = defineUpdate<StreamName[], [SetStreamsRequest]>('setStreams');
export const statusQuery = defineQuery<ExportStatus>('status');
