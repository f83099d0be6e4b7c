import { isoMillis, isoSeconds, seconds } from '../common/time-text';
import { LOG_EVENTS, type WarningFields } from '../observability/events';
import { completeThrough, exportLagSeconds } from '../common/zendesk-clock';
import { STAGED_PAGE_GONE, undecodableReason } from '../shared';
import type { FetchStreamInput, FetchStreamResult, PersistStreamOutput, StreamCheckpoint } from '../streams/contract';
import { bucketOf, type BucketName, type PagedStream, type SupportTypeScope } from '../streams/names';
import {
  fetchRetryPolicy,
  fetchStreamPage,
  loadStreamCheckpoint,
  persistStream,
  persistStreamLocally,
} from './activity-proxies';
import { failureBackoffMs, perPageAfterGoodPage, sinkBackoffMs } from './backoff';
import { describeFailure, failureType, isPermanent, retryNotBefore } from './failures';
import type { AroundStreamState, BucketClock, ExportPhase, StreamStatus } from './messages';
import { explainNextCall, type PacingRule } from './pacing';
import type { ExportSettings } from './settings';
import { afterStreamPage, FetchedStreamPage, nextStreamRequest, streamPageProblem } from './stream-rules';
import type { TurnCandidate } from './stream-schedule';
import {
  afterReferencePage,
  nextReferenceRequest,
  nextRefreshAt,
  referenceCheckpoint,
  type ReferenceOutcome,
} from './reference-rules';
import { refusalOf } from './refusal';

const BLOCKED_RETRY_MS = 3_600_000;
const NOTHING_STORED: PersistStreamOutput = { written: 0, ignoredOlder: 0, rejected: 0, completedAt: 0 };
/** The streams around the ticket are read through the incremental endpoints: a start_time a minute old at least. */
const STREAM_MIN_START_AGE_MS = 60_000;

/** What a stream needs of the export it belongs to: the account's settings, buckets, messages and display. */
export interface StreamHost {
  readonly account: string;
  readonly settings: ExportSettings;
  readonly supportTypeScope: SupportTypeScope;
  /**
   * A stream's first cursor: `explicit` (its own start time, else the export's) wins over its checkpoint in the sink;
   * `fallback` serves when there is neither.
   */
  firstCursor(stream: PagedStream): { explicit?: number; fallback: number };
  bucket(name: BucketName): BucketClock;
  /** The pacing gap of a bucket (ms). */
  bucketGapMs(name: BucketName): number;
  /** In `status` and the log; `event` (default export_warning) and `stream` become fields of the log line. */
  addWarning(message: string, fields?: WarningFields): void;
  noteZendeskClock(measuredMs: number | undefined): void;
  showDetails(summary: string): void;
  /** A durable wait ended early by an operator's message or `until`; true when ended early. */
  waitUnlessInterrupted(durationMs: number, summary: string, until?: () => boolean): Promise<boolean>;
  /** A stream was blocked or freed: the search attributes show it. */
  blockedChanged(): void;
  /**
   * A page was done with at this recorded time (a wait already over then needs no timer); `stored` when it was
   * stored (it counts towards continue-as-new).
   */
  pageDone(atMs: number, stored: boolean): void;
  /** Pause, a reset of this stream, continue-as-new: a persist that keeps failing gives way. */
  persistGivesWay(stream: PagedStream): boolean;
  zendeskNow(): number;
}

export type StreamCandidate = TurnCandidate<PagedStream> & {
  phase: ExportPhase;
  rule: PacingRule | 'idle' | 'blocked';
};

export function freshStreamState(): AroundStreamState {
  return {
    cursor: 0,
    afterCursor: null,
    caughtUp: false,
    lastCallAt: null,
    consecutiveFailures: 0,
    blocked: false,
    lastError: null,
    started: false,
    pages: 0,
    rowsStored: 0,
    rejected: 0,
    calls: 0,
    rateLimited: 0,
  };
}

/**
 * One stream around the ticket (ticket events, users, organizations, ticket metric events), or the reference lists,
 * inside an account's export: its cursor moves only after its page is stored, its calls go through its bucket's clock,
 * its failures back off or block only itself. The reference lists' cursor is a refresh walking the lists
 * (reference-rules.ts); once done, the stream is idle until the next refresh is due.
 */
export class StreamRun {
  phase: ExportPhase = 'starting';
  /** A reset that arrived during a turn, applied once the turn is over. */
  pendingReset: number | undefined;
  private busy = false;

  constructor(
    readonly name: PagedStream,
    readonly state: AroundStreamState,
    private readonly host: StreamHost,
  ) {}

  private get isReferenceLists(): boolean {
    return this.name === 'reference_lists';
  }

  get bucketName(): BucketName {
    return bucketOf(this.name, 'incremental');
  }

  /** When this stream's next call may go, and why then. */
  candidate(): StreamCandidate {
    const { state, host } = this;
    const base = { stream: this.name, lastCallAt: state.lastCallAt };
    if (state.blocked) {
      return { ...base, at: state.blockedUntil ?? 0, phase: 'blocked', rule: 'blocked' };
    }
    const bucket = host.bucket(this.bucketName);
    const request = this.nextRequest();
    const notBefore = Math.max(state.notBefore ?? 0, bucket.retryAfterUntil ?? 0);
    const pacing = explainNextCall({
      nowMs: 0,
      lastCallAt: bucket.lastCallAt,
      pollIntervalMs: host.bucketGapMs(this.bucketName),
      startTime: request.afterCursor === undefined ? request.startTime : 0,
      minStartAgeMs: Math.min(host.settings.minStartAgeMs, STREAM_MIN_START_AGE_MS),
      notBefore,
    });
    const idleUntil = state.caughtUp && !state.pollNowPending ? this.idleUntil() : -Infinity;
    if (idleUntil >= pacing.at) return { ...base, at: idleUntil, phase: 'idle', rule: 'idle' };
    let phase: ExportPhase = 'waiting';
    if ((bucket.retryAfterUntil ?? 0) >= pacing.at && pacing.rule === 'not_before') phase = 'rate_limited';
    else if ((state.notBefore ?? 0) >= pacing.at && pacing.rule === 'not_before') phase = 'backoff';
    return { ...base, at: pacing.at, phase, rule: pacing.rule };
  }

  /** A blocked stream whose retry time came: it tries again. */
  unblockAfterWait(): void {
    this.state.blocked = false;
    this.host.blockedChanged();
  }

  /** One call and, for a page, its persist and the cursor's advance. */
  async turn(): Promise<void> {
    const { state } = this;
    this.busy = true;
    try {
      if (!state.started) await this.start();
      if (!state.started) return;
      if (state.caughtUp) state.pollNowPending = false;
      if (this.isReferenceLists && (state.caughtUp || state.refreshId === undefined)) this.beginRefresh();
      const request = this.nextRequest();
      const page = await this.fetch(request);
      if (!page) return;
      const reference = this.isReferenceLists ? afterReferencePage(state, request, page) : undefined;
      const next =
        reference ?? afterStreamPage(this.name as Exclude<PagedStream, 'reference_lists'>, state, request, page);
      for (const warning of next.warnings) this.warn(warning);
      if (page.foreignNextPage) {
        this.warn(`${this.name}: next page URL points to another origin and was ignored: ${page.foreignNextPage}`);
      }
      // An empty page that leaves the cursor where it is (an idle poll) has nothing to store, not even a checkpoint. (A
      // reference list's empty last page still marks its stored rows deleted.)
      const unchanged =
        !reference && page.summary.rows === 0 && next.cursor === state.cursor && next.afterCursor === state.afterCursor;
      const stored = unchanged ? NOTHING_STORED : await this.persistUntilStored(page, next, reference);
      if (!stored) return;
      state.cursor = next.cursor;
      state.afterCursor = next.afterCursor;
      state.caughtUp = next.caughtUp;
      if (reference) {
        state.list = reference.list;
        // A refresh done: the sink holds every list as it was when the refresh started.
        if (reference.caughtUp) state.completeThroughMs = (state.refreshId ?? 0) + this.clockOffset();
      } else if (page.endOfStream) {
        state.completeThroughMs = page.requestedAt + this.clockOffset();
      }
      if (!unchanged) state.pages++;
      state.rowsStored += stored.written;
      state.rejected += stored.rejected;
      if (stored.comments) state.comments = (state.comments ?? 0) + stored.comments;
      if (stored.fieldChanges) state.fieldChanges = (state.fieldChanges ?? 0) + stored.fieldChanges;
      if (stored.rejected) {
        this.warn(`${this.name}: ${stored.rejected} rows of a page set aside in rejected_rows`, {
          event: LOG_EVENTS.rowsRejected,
          count: stored.rejected,
        });
      }
      state.lastError = null;
      state.consecutiveFailures = 0;
      state.notBefore = 0;
      state.retryNotBefore = undefined;
      this.growPerPage();
      if (next.perPage !== undefined) state.perPage = next.perPage;
      state.crowdedSecond = next.crowdedSecond;
      this.host.pageDone(unchanged ? page.completedAt : stored.completedAt, !unchanged);
    } finally {
      this.busy = false;
      this.applyPendingReset();
    }
  }

  /** An operator's reset of this stream; returns the cursor it replaces. */
  reset(startTime: number): number {
    const previous = this.pendingReset ?? this.state.cursor;
    if (this.busy) this.pendingReset = startTime;
    else this.moveCursor(startTime);
    return previous;
  }

  resume(): void {
    const { state } = this;
    state.blocked = false;
    state.notBefore = state.retryNotBefore ?? 0;
  }

  pollNow(): void {
    this.state.pollNowPending = true;
  }

  /** Writes an operator's reset to the sink's checkpoint. */
  async saveResetCheckpoint(): Promise<void> {
    const { state } = this;
    state.resetToSave = false;
    const summary = `checkpoint the reset of ${this.name}: cursor ${isoSeconds(state.cursor)}`;
    this.host.showDetails(summary);
    try {
      await persistStream.executeWithOptions({ summary }, [
        {
          account: this.host.account,
          stream: this.name,
          content: { rows: [] },
          checkpoint: { cursor: state.cursor, afterCursor: null },
        },
      ]);
    } catch (err) {
      this.warn(
        `${this.name}: the reset's checkpoint could not be written (${describeFailure(err)}): the next page writes it`,
      );
    }
  }

  lagSeconds(): number {
    return exportLagSeconds(this.host.zendeskNow(), this.pendingReset ?? completeThrough(this.state));
  }

  /** Its status row; `waiting` is what its wait shows while another stream has the turn. */
  status(nextCall: number | null, waiting?: ExportPhase): StreamStatus {
    const { state } = this;
    const cursor = this.pendingReset ?? state.cursor;
    return {
      stream: this.name,
      bucket: this.bucketName,
      cursor,
      cursorIso: isoSeconds(cursor),
      afterCursor: state.afterCursor,
      phase: state.blocked ? 'blocked' : (waiting ?? this.phase),
      caughtUp: state.caughtUp,
      blocked: state.blocked,
      lagSeconds: this.lagSeconds(),
      rowsStored: state.rowsStored,
      pages: state.pages,
      calls: state.calls,
      rateLimited: state.rateLimited,
      rejected: state.rejected,
      nextCallAt: nextCall === null ? null : (isoMillis(nextCall) ?? null),
      lastError: state.lastError,
    };
  }

  // ---- the turn's parts ----

  /** The first cursor: the stream's start time, else its checkpoint in the sink, else the export's first cursor. */
  private async start(): Promise<void> {
    const { state, host } = this;
    if (this.isReferenceLists) return this.startReferenceLists();
    const first = host.firstCursor(this.name);
    const checkpoint = first.explicit === undefined ? await this.loadCheckpoint() : null;
    if (checkpoint === undefined) return; // the sink is down: the next turn tries again, after a backoff
    state.started = true;
    state.cursor = first.explicit ?? checkpoint?.cursor ?? first.fallback;
    state.afterCursor = checkpoint?.afterCursor ?? null;
  }

  /**
   * The reference lists start with a refresh, unless the sink's checkpoint holds a complete one: then the next is due
   * the interval after it started.
   */
  private async startReferenceLists(): Promise<void> {
    const { state } = this;
    const checkpoint = await this.loadCheckpoint();
    if (checkpoint === undefined) return;
    state.started = true;
    if (checkpoint && checkpoint.afterCursor === null && checkpoint.cursor > 0) {
      state.cursor = checkpoint.cursor;
      state.refreshId = checkpoint.cursor * 1000;
      state.caughtUp = true;
    }
  }

  /** A new refresh: from the first list, identified by its start. */
  private beginRefresh(): void {
    const { state } = this;
    state.refreshId = Date.now();
    state.cursor = Math.floor(state.refreshId / 1000);
    state.list = 0;
    state.afterCursor = null;
    state.caughtUp = false;
  }

  /** Caught up: when the next call is due (the poll interval; the reference lists: the next refresh). */
  private idleUntil(): number {
    const { state, host } = this;
    if (this.isReferenceLists) return nextRefreshAt(state, host.settings.referenceRefreshMs);
    return (state.lastCallAt ?? 0) + host.settings.idleGapMs;
  }

  /** The stream's checkpoint, null for none, undefined when it could not be read. */
  private async loadCheckpoint(): Promise<StreamCheckpoint | null | undefined> {
    try {
      const checkpoint = await loadStreamCheckpoint({ account: this.host.account, stream: this.name });
      const unreadable = undecodableReason(checkpoint);
      if (unreadable !== undefined) throw new Error(`the checkpoint could not be decoded (${unreadable})`);
      this.state.lastError = null;
      this.state.consecutiveFailures = 0;
      return checkpoint;
    } catch (err) {
      this.state.lastError = `reading the checkpoint failed: ${describeFailure(err)}`;
      this.state.consecutiveFailures++;
      this.state.notBefore = Date.now() + sinkBackoffMs(this.state.consecutiveFailures);
      return undefined;
    }
  }

  private nextRequest(): FetchStreamInput {
    const { host } = this;
    if (this.name === 'reference_lists') {
      return nextReferenceRequest(this.state, { account: host.account, perPage: host.settings.perPage });
    }
    return nextStreamRequest(this.name, this.state, {
      account: host.account,
      perPage: host.settings.perPage,
      supportTypeScope: host.supportTypeScope,
    });
  }

  private async fetch(request: FetchStreamInput): Promise<FetchedStreamPage | undefined> {
    const { state, host } = this;
    this.phase = 'fetching';
    const minGapMs = host.bucketGapMs(this.bucketName);
    let result: FetchStreamResult;
    const summary = describeStreamRequest(request);
    try {
      host.showDetails(summary);
      result = await fetchStreamPage.executeWithOptions({ summary, retry: fetchRetryPolicy(minGapMs) }, [
        { ...request, minGapMs },
      ]);
    } catch (err) {
      this.failedCall(err);
      return undefined;
    }
    const refused = refusalOf('fetchStreamPage', result, streamPageProblem);
    if (refused !== undefined) {
      this.warn(`${this.name}: ${refused}`);
      this.failedCall(new Error(refused));
      return undefined;
    }
    state.calls++;
    state.lastCallAt = result.requestedAt;
    const bucket = host.bucket(this.bucketName);
    bucket.lastCallAt = Math.max(bucket.lastCallAt ?? 0, result.requestedAt);
    host.noteZendeskClock(result.zendeskClockOffsetMs);
    this.phase = 'waiting';
    switch (result.kind) {
      case 'page':
        return result;
      case 'rate_limited':
        state.rateLimited++;
        if (result.note) this.warn(result.note);
        // The whole bucket waits: its other streams would get the same 429.
        bucket.retryAfterUntil = Date.now() + result.retryAfterSeconds * 1000;
        return undefined;
      case 'too_recent':
        state.caughtUp = true;
        return undefined;
      case 'gateway_timeout':
      case 'too_large': {
        state.perPage = Math.max(1, Math.floor(request.perPage / 2));
        state.goodPagesAtPerPage = 0;
        const what = result.kind === 'gateway_timeout' ? '504 from Zendesk' : `a page too large (${result.message})`;
        this.warn(`${this.name}: ${what} at per_page=${request.perPage}: asking for ${state.perPage} next`);
        return undefined;
      }
      case 'cursor_rejected':
        this.warn(`${this.name}: the cursor was rejected (${result.message}): restarting from ${state.cursor}`);
        state.afterCursor = null;
        return undefined;
    }
  }

  private async persistUntilStored(
    page: FetchedStreamPage,
    next: StreamCheckpoint,
    reference?: ReferenceOutcome,
  ): Promise<PersistStreamOutput | undefined> {
    const { host, state } = this;
    const rows = page.summary.rows;
    const checkpoint = reference
      ? referenceCheckpoint(reference)
      : { cursor: next.cursor, afterCursor: next.afterCursor };
    const summary = reference
      ? `persist ${rows.toLocaleString('en-US')} ${reference.refresh.list} rows of the refresh of ${isoSeconds(checkpoint.cursor)}`
      : `persist ${rows.toLocaleString('en-US')} ${this.name} rows, then cursor ${isoSeconds(checkpoint.cursor)}`;
    const write = {
      account: host.account,
      stream: this.name,
      content: page.content,
      checkpoint,
      ...(reference && { refresh: reference.refresh }),
    };
    for (let attempt = 1; ; attempt++) {
      this.phase = 'persisting';
      try {
        host.showDetails(summary);
        const stored = await persistStreamLocally.executeWithOptions({ summary }, [write]);
        const unreadable = undecodableReason(stored);
        if (unreadable !== undefined) throw new Error(`persist result could not be decoded (${unreadable})`);
        return stored;
      } catch (err) {
        if (failureType(err) === STAGED_PAGE_GONE) {
          this.warn(`${this.name}: ${describeFailure(err)}: fetching the page again`);
          return undefined;
        }
        state.lastError = `persist failed: ${describeFailure(err)}`;
        this.phase = 'backoff';
        const backoffMs = sinkBackoffMs(attempt);
        const backoff = `${this.name}: persist failed: retry in ${seconds(backoffMs / 1000)}`;
        if (host.persistGivesWay(this.name) || this.pendingReset !== undefined) return undefined;
        await host.waitUnlessInterrupted(backoffMs, backoff);
        if (host.persistGivesWay(this.name) || this.pendingReset !== undefined) return undefined;
      }
    }
  }

  private warn(message: string, fields: WarningFields = {}): void {
    this.host.addWarning(message, { stream: this.name, ...fields });
  }

  private failedCall(err: unknown): void {
    const { state, host } = this;
    state.lastCallAt = Date.now();
    state.lastError = describeFailure(err);
    if (isPermanent(err)) {
      state.blocked = true;
      state.blockedUntil = Date.now() + BLOCKED_RETRY_MS;
      this.phase = 'blocked';
      host.blockedChanged();
      this.warn(`${this.name} blocked until resumed (or retried in an hour): ${state.lastError}`, {
        event: LOG_EVENTS.exportBlocked,
      });
      return;
    }
    state.consecutiveFailures++;
    const askedFor = retryNotBefore(err);
    state.notBefore = Math.max(
      Date.now() + failureBackoffMs(state.consecutiveFailures, host.settings.idleGapMs),
      askedFor,
    );
    state.retryNotBefore = askedFor;
    this.phase = 'backoff';
  }

  private growPerPage(): void {
    const { state, host } = this;
    const configured = Math.min(host.settings.perPage, this.nextRequestCap());
    const grown = perPageAfterGoodPage(state.perPage ?? configured, configured, state.goodPagesAtPerPage ?? 0);
    state.perPage = grown.perPage === configured ? undefined : grown.perPage;
    state.goodPagesAtPerPage = grown.goodPages;
  }

  private nextRequestCap(): number {
    if (this.name === 'reference_lists')
      return nextReferenceRequest({ afterCursor: null }, { account: '', perPage: Infinity }).perPage;
    return nextStreamRequest(this.name, { cursor: 0, afterCursor: null }, { account: '', perPage: Infinity }).perPage;
  }

  private moveCursor(startTime: number): void {
    const { state } = this;
    if (this.isReferenceLists) {
      // A reset of the reference lists is a refresh now, from the first list: no start time, no checkpoint to save.
      state.caughtUp = false;
      state.refreshId = undefined;
      state.list = 0;
      state.afterCursor = null;
      state.started = true;
      return;
    }
    state.cursor = startTime;
    state.afterCursor = null;
    state.caughtUp = false;
    state.completeThroughMs = undefined;
    state.started = true;
    state.resetToSave = true;
  }

  private applyPendingReset(): void {
    if (this.pendingReset === undefined) return;
    this.moveCursor(this.pendingReset);
    this.pendingReset = undefined;
  }

  private clockOffset(): number {
    return this.host.zendeskNow() - Date.now();
  }
}

function describeStreamRequest(request: FetchStreamInput): string {
  if (request.list !== undefined) {
    return `fetch ${request.list}${request.afterCursor === undefined ? '' : ` after ${request.afterCursor.slice(0, 24)}…`}`;
  }
  if (request.afterCursor !== undefined) return `fetch ${request.stream} after ${request.afterCursor.slice(0, 24)}…`;
  return `fetch ${request.stream} start_time=${request.startTime} (${isoSeconds(request.startTime)})`;
}
