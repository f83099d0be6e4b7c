import { allHandlersFinished, condition, continueAsNew, log, workflowInfo } from '@temporalio/workflow';
import type { Checkpoint, PageContent, PersistOutput } from '../activities/types';
import { isoMillis, isoSeconds, seconds } from '../common/time-text';
import { completeThrough, exportLagSeconds, readZendeskClock } from '../common/zendesk-clock';
import { ExportApi, STAGED_PAGE_GONE, undecodableReason } from '../shared';
import { fetchPage, fetchRetryPolicy, loadCheckpoint, persist, persistLocally } from './activity-proxies';
import { failureBackoffMs, perPageAfterGoodPage, sinkBackoffMs } from './backoff';
import {
  afterPage,
  checkpointAt,
  FetchedPage,
  nextRequest,
  PageOutcome,
  pageProblem,
  PageRequest,
  reachedEnd,
  storedAlready,
  storedTail,
} from './endpoint-rules';
import { ExportDisplay } from './export-display';
import { LOG_EVENTS, type WarningFields } from '../observability/events';
import { refusalOf } from './refusal';
import { freshStreamState, StreamCandidate, StreamHost, StreamRun } from './around-stream';
import { pickTurn, TurnCandidate } from './stream-schedule';
import { isAroundStream, isStreamName, STREAMS } from '../streams/names';
import { bucketOf, isPagedStream, type BucketName, type PagedStream, type StreamName } from '../streams/names';
import { describeFailure, failureType, isPermanent, retryNotBefore } from './failures';
import type {
  BucketClock,
  ExportInput,
  ExportPhase,
  ExportState,
  ExportStatus,
  ResetCursorRequest,
  StreamStatus,
} from './messages';
import { recordBlocked, recordProgress, recordRetryAfterWait, recordStreamProgress } from './metrics';
import { explainNextCall } from './pacing';
import { resetCursorProblem } from './reset-request';
import { catchUpPacing, ExportSettings, resolveSettings } from './settings';
import { describeRequest, waitSummary } from './summaries';

const BLOCKED_RETRY = '1 hour';
const BLOCKED_RETRY_MS = 3_600_000;
const MIN_TIMER_MS = 1;
const MAX_WARNINGS = 20;
/** An operator's reset stores no page: a checkpoint only. */
const NO_PAGE: PageContent = { rows: [], fieldHeaders: {} };

/**
 * One run of an account's export: everything it knows, what operators' messages do to it, and the loop's steps. The
 * workflow function (ticket-export.ts) wires the messages and runs the steps in order; what the export shows (status,
 * search attributes, the Web UI's details) is the display's, which reads this state.
 *
 * Operator messages cut every wait short: the loop then decides again, with the request built after the wait (a
 * Retry-After still holds). A reset is written to the sink's checkpoint; a persist that keeps failing gives way to
 * pause, reset and continue-as-new.
 */
export class ExportRun {
  readonly api: ExportApi;
  readonly settings: ExportSettings;
  /** Carried over continue-as-new: cursors, counters, the pacing's clock (see ExportState). */
  readonly state: ExportState;
  /** What the loop does now, as status and the Web UI show it. */
  phase: ExportPhase = 'starting';
  /** When the next call may go (ms), while the loop waits for it; null otherwise. */
  nextCall: number | null = null;
  /** A reset that arrived while the cursor was being worked on, applied once it is free. */
  pendingReset: number | undefined;
  /** The cursor is being worked on (first load, a fetch, a persist): a reset then waits in `pendingReset`. */
  private cursorBusy = false;
  private pagesThisRun = 0;
  /** Counts operator messages (pause, resume, reset): a wait that sees it change ends and the loop re-decides. */
  private operatorMessages = 0;
  /** Counts pollNow signals: one ends a wait, and the idle interval of every caught-up stream. */
  private pollNows = 0;
  /** What the tickets stream waits for now, for its status row. */
  private ticketsPhase: ExportPhase = 'starting';
  private readonly display: ExportDisplay;
  /** The streams around the ticket (and the reference lists) this export reads, each with its own cursor. */
  private readonly around = new Map<PagedStream, StreamRun>();
  /** When each stream's next call may go, as the last wait saw it (status shows it). */
  private readonly nextCalls = new Map<StreamName, { at: number; phase: ExportPhase }>();
  /** The stream whose turn it is (its call or its persist): the others wait. */
  private turnOf: StreamName | undefined;
  private readonly host: StreamHost;

  constructor(readonly input: ExportInput) {
    const resolved = resolveSettings(input, input.state?.api ?? input.api ?? 'exports');
    this.settings = resolved.settings;
    this.state = input.state ?? freshState();
    this.api = this.state.api ?? input.api ?? 'exports';
    this.state.api = this.api;
    this.display = new ExportDisplay(this);
    this.host = this.streamHost();
    for (const warning of resolved.warnings) this.addWarning(warning);
    const streams = this.state.streams ?? input.streams;
    const problem = streamsProblem(streams);
    if (problem) this.addWarning(`input streams ignored: ${problem}; reading tickets only`);
    this.setStreams(problem || !streams ? ['tickets'] : streams);
  }

  /** The streams read now, tickets first. */
  get streams(): StreamName[] {
    return this.state.streams ?? ['tickets'];
  }

  private get readsTickets(): boolean {
    return this.streams.includes('tickets');
  }

  /** Reads these streams from now on; a stream left out keeps its cursor and counters for a later return. */
  setStreams(streams: readonly StreamName[]): StreamName[] {
    const ordered = STREAMS.filter((s) => streams.includes(s));
    this.state.streams = ordered;
    this.around.clear();
    for (const name of ordered) {
      if (!isPagedStream(name)) continue;
      const around = (this.state.around ??= {});
      this.around.set(name, new StreamRun(name, (around[name] ??= freshStreamState()), this.host));
    }
    this.operatorMessages++;
    return ordered;
  }

  /** The reason a setStreams request cannot be taken, or undefined. */
  setStreamsProblem(request: unknown): string | undefined {
    const undecodable = undecodableReason(request);
    if (undecodable !== undefined) return `its payload could not be decoded (${undecodable})`;
    const streams = (request as { streams?: unknown } | null)?.streams;
    return streamsProblem(streams) ?? (streams === undefined ? 'expected { streams: [...] }' : undefined);
  }

  status(): ExportStatus {
    return { ...this.display.status(), streams: this.streamStatuses() };
  }

  /** One row per stream read, tickets first. */
  streamStatuses(): StreamStatus[] {
    return [...(this.readsTickets ? [this.ticketsStatus()] : []), ...this.aroundStatuses()];
  }

  aroundStatuses(): StreamStatus[] {
    return [...this.around].map(([name, stream]) => {
      const next = this.turnOf === name ? undefined : this.nextCalls.get(name);
      return stream.status(next?.at ?? null, this.state.paused ? 'paused' : next?.phase);
    });
  }

  private ticketsStatus(): StreamStatus {
    const { state, api } = this;
    const cursor = this.pendingReset ?? state.cursor;
    const next = this.turnOf === 'tickets' ? undefined : this.nextCalls.get('tickets');
    return {
      stream: 'tickets',
      bucket: bucketOf('tickets', api),
      cursor,
      cursorIso: isoSeconds(cursor),
      afterCursor: state.afterCursor ?? null,
      phase: state.paused ? 'paused' : state.blocked ? 'blocked' : (next?.phase ?? this.ticketsPhase),
      caughtUp: state.caughtUp ?? false,
      blocked: state.blocked,
      lagSeconds: this.lagSeconds(),
      rowsStored: state.ticketsStored,
      pages: state.pages,
      calls: state.calls,
      rateLimited: state.rateLimited,
      rejected: state.ticketsRejected ?? 0,
      nextCallAt: next === undefined ? null : (isoMillis(next.at) ?? null),
      lastError: state.lastError,
    };
  }

  /** How far behind Zendesk the sink is, on Zendesk's clock (a pending reset counts as done). */
  lagSeconds(): number {
    return exportLagSeconds(this.zendeskNow(), this.pendingReset ?? completeThrough(this.state));
  }

  // ---- operators' messages ----

  pause(): void {
    this.state.paused = true;
    this.operatorMessages++;
    this.display.publishSearchAttributes();
  }

  resume(): void {
    if (this.state.blocked) recordBlocked(this.input.account, false);
    this.state.paused = false;
    this.state.blocked = false;
    this.state.blockedUntil = undefined;
    // An operator's resume ends a backoff after failures (never a Retry-After, which is Zendesk's).
    this.state.notBefore = this.state.retryNotBefore ?? 0;
    for (const stream of this.around.values()) stream.resume();
    this.operatorMessages++;
    this.display.publishSearchAttributes();
  }

  pollNow(): void {
    this.state.pollNowPending = true;
    for (const stream of this.around.values()) stream.pollNow();
    this.pollNows++;
  }

  /** The reason a reset request cannot be taken, or undefined. */
  resetProblem(request: unknown): string | undefined {
    return resetCursorProblem(request, this.zendeskNow(), this.streams);
  }

  resetBySignal(request: ResetCursorRequest): void {
    const problem = this.resetProblem(request);
    if (problem) this.addWarning(`resetCursor signal ignored: ${problem}`);
    else this.resetStream(request);
  }

  /** An operator's reset of one stream (default tickets); returns the cursor it replaces. Other streams keep theirs. */
  resetStream(request: ResetCursorRequest): number {
    const stream = request.stream ?? 'tickets';
    if (stream === 'tickets') return this.reset(request.startTime);
    const run = this.around.get(stream);
    if (!run) return request.startTime; // the validator refuses a stream not read
    const previous = run.reset(request.startTime);
    this.operatorMessages++;
    return previous;
  }

  /**
   * An operator's reset of the tickets stream; returns the cursor it replaces. One that arrives while the cursor is
   * being worked on (first load, a fetch) is applied afterwards, so it wins over that page's cursor.
   */
  reset(startTime: number): number {
    const previous = this.pendingReset ?? this.state.cursor;
    if (this.cursorBusy) this.pendingReset = startTime;
    else this.moveCursor(startTime);
    this.operatorMessages++;
    this.display.publishSearchAttributes({ cursorNow: true });
    return previous;
  }

  /** A signal name this workflow does not know (a typo in `temporal workflow signal`): reported, not dropped silently. */
  unknownSignal(name: string): void {
    this.addWarning(`unknown signal "${name}" ignored`);
  }

  // ---- the loop's steps ----

  /** The first cursor: the input's start time, else the sink's checkpoint, else the default. */
  async start(): Promise<void> {
    const { input, state } = this;
    if (!input.state) {
      this.cursorBusy = true;
      const checkpoint = input.startTime === undefined ? await this.loadCheckpoint() : null;
      state.cursor = input.startTime ?? checkpoint?.cursor ?? input.defaultStartTime ?? 0;
      state.progressFrom = { cursor: state.cursor, atMs: Date.now(), tickets: 0 };
      // A cursor of one endpoint means nothing to another: only the same export resumes from its after_cursor.
      if (checkpoint?.api === this.api && this.api === 'cursor') state.afterCursor = checkpoint.afterCursor;
      this.cursorBusy = false;
      this.applyPendingReset();
    }
    this.display.loadPublished();
    this.display.publishSearchAttributes({ cursorNow: true });
    recordBlocked(input.account, state.blocked);
  }

  /** An operator's reset written to the checkpoint, or a pause held: true when the loop should re-decide. */
  async holdForOperator(): Promise<boolean> {
    const { state } = this;
    recordProgress(this.input.account, exportLagSeconds(this.zendeskNow(), completeThrough(state)));
    for (const stream of this.around.values()) recordStreamProgress(this.input.account, stream);
    if (state.resetToSave) await this.saveResetCheckpoint();
    for (const stream of this.around.values()) {
      if (stream.state.resetToSave) await stream.saveResetCheckpoint();
    }
    if (state.paused) {
      this.phase = 'paused';
      this.nextCall = null;
      this.display.publishSearchAttributes();
      this.display.showDetails('until resumed');
      const resetToSave = () =>
        state.resetToSave === true || [...this.around.values()].some((s) => s.state.resetToSave === true);
      await condition(() => !state.paused || resetToSave());
      return true;
    }
    return false;
  }

  /** Continue-as-new after `pagesPerRun` pages or when the server suggests it: the history stays bounded. */
  async continueAsNewIfLong(): Promise<void> {
    if (this.pagesThisRun < this.settings.pagesPerRun && !workflowInfo().continueAsNewSuggested) return;
    this.phase = 'continuing_as_new';
    this.display.showDetails();
    await condition(allHandlersFinished);
    await continueAsNew<(input: ExportInput) => Promise<void>>({ ...this.input, state: this.state });
  }

  /**
   * Waits until the next call is due: of the streams read, the one due first (the idle interval of a caught-up stream,
   * its bucket's pacing, a Retry-After, a failure backoff, a block's retry), turns shared fairly among streams with a
   * backlog. Returns the turn to take, or undefined when an operator's message (or a pause) ended the wait and the
   * loop should re-decide.
   */
  async waitForNextTurn(): Promise<Turn | undefined> {
    const { state } = this;
    const candidates: WaitCandidate[] = [];
    if (this.readsTickets) candidates.push(this.ticketsCandidate());
    for (const stream of this.around.values()) candidates.push(this.streamCandidate(stream.candidate()));
    this.nextCalls.clear();
    for (const { stream, at, phase } of candidates) this.nextCalls.set(stream, { at, phase });
    this.turnOf = undefined;
    const chosen = pickTurn(candidates);
    if (!chosen) {
      await condition(() => false, BLOCKED_RETRY); // no stream read: nothing to do until an update adds one
      return undefined;
    }
    // Whether the next command is a timer or an activity must not hinge on a workflow-task timestamp, which can
    // differ between a live run and a replay after a workflow task timed out. So: no timer only when the call was
    // already due when the last page was stored, a time its activities recorded; else a timer, and no clock
    // comparison after it fires. (A timer costs the server's timer granularity, about a second on the dev server.)
    const judgedAt = state.pageDoneAt;
    const waitOver = judgedAt !== undefined && chosen.at <= judgedAt;
    if (!waitOver) {
      this.phase = chosen.phase;
      this.ticketsPhase = chosen.stream === 'tickets' ? chosen.phase : this.ticketsPhase;
      this.nextCall = chosen.at;
      const waitMs = Math.max(MIN_TIMER_MS, Math.ceil(chosen.at - Date.now()));
      const summary = chosen.summary(waitMs);
      this.display.publishSearchAttributes();
      this.display.showDetails(summary);
      const pollNows = this.pollNows;
      // An operator's message (or a pollNow) ends the wait; the next turn decides again (a Retry-After still holds).
      if (await this.waitUnlessInterrupted(waitMs, summary, () => this.pollNows !== pollNows)) return undefined;
      if (state.paused) return undefined;
    }
    state.pageDoneAt = undefined;
    if (chosen.phase === 'blocked') {
      // A block's retry time came: the stream tries again from the next turn.
      if (chosen.stream === 'tickets') {
        state.blocked = false;
        state.blockedUntil = undefined;
        recordBlocked(this.input.account, false);
      } else {
        this.around.get(chosen.stream)?.unblockAfterWait();
      }
      return undefined;
    }
    this.turnOf = chosen.stream;
    if (chosen.stream !== 'tickets') return { stream: chosen.stream };
    if (chosen.phase === 'idle' || state.pollNowPending) state.pollNowPending = false;
    // Built after the wait: a reset during the wait is the request.
    return { stream: 'tickets', request: this.nextRequest() };
  }

  /** One turn of a stream around the ticket: its call, its persist, its cursor. */
  async streamTurn(stream: PagedStream): Promise<void> {
    const run = this.around.get(stream);
    if (!run) return;
    this.phase = 'fetching';
    this.nextCall = null;
    await run.turn();
  }

  /** When the tickets stream's next call may go, and what the wait shows. */
  private ticketsCandidate(): WaitCandidate {
    const { state, settings, api } = this;
    const base = { stream: 'tickets' as const, lastCallAt: state.lastCallAt };
    if (state.blocked) {
      state.blockedUntil ??= Date.now() + BLOCKED_RETRY_MS;
      return {
        ...base,
        at: state.blockedUntil,
        phase: 'blocked',
        summary: () => `blocked: retry in ${BLOCKED_RETRY} unless resumed`,
      };
    }
    const request = this.nextRequest();
    const notBefore = state.notBefore ?? 0;
    const bucket = this.bucket(bucketOf('tickets', api));
    const retryAfterUntil = Math.max(state.retryAfterUntil ?? 0, bucket.retryAfterUntil ?? 0);
    const pacing = {
      lastCallAt: maxOrNull(state.lastCallAt, bucket.lastCallAt),
      pollIntervalMs: this.pacingIntervalMs(),
      // A call by after_cursor has no start_time, so no minimum age.
      startTime: request.afterCursor === undefined ? request.startTime : 0,
      minStartAgeMs: settings.minStartAgeMs,
      notBefore: Math.max(notBefore, retryAfterUntil),
      zendeskClockOffsetMs: state.zendeskClockOffsetMs,
      nowMs: 0,
    };
    const { at, rule } = explainNextCall(pacing);
    const idleUntil =
      api !== 'exports' && state.caughtUp && !state.pollNowPending ? (state.lastCallAt ?? 0) + settings.idleGapMs : 0;
    if (idleUntil > 0 && idleUntil >= at) {
      return {
        ...base,
        at: idleUntil,
        phase: 'idle',
        summary: () => `caught up: next poll after ${seconds(settings.idleGapMs / 1000)}`,
      };
    }
    let phase: ExportPhase = 'waiting';
    if (retryAfterUntil >= at && retryAfterUntil > 0) phase = 'rate_limited';
    else if (notBefore >= at && notBefore > 0) phase = 'backoff';
    return { ...base, at, phase, summary: (waitMs) => waitSummary(phase, rule, pacing.pollIntervalMs, waitMs) };
  }

  private streamCandidate(candidate: StreamCandidate): WaitCandidate {
    const { stream, phase, rule } = candidate;
    const gapMs = this.bucketGapMs(bucketOf(stream, this.api));
    const summary = (waitMs: number): string => {
      if (phase === 'blocked') return `${stream} blocked: retry in ${BLOCKED_RETRY} unless resumed`;
      if (phase === 'idle' && stream === 'reference_lists') {
        return `reference_lists refreshed: next refresh in ${seconds(waitMs / 1000)}`;
      }
      if (phase === 'idle') return `${stream} caught up: next poll after ${seconds(this.settings.idleGapMs / 1000)}`;
      return `${stream}: ${waitSummary(phase, rule === 'idle' || rule === 'blocked' ? 'now' : rule, gapMs, waitMs)}`;
    };
    return { ...candidate, summary };
  }

  /** A bucket's clock, created on first use. */
  private bucket(name: BucketName): BucketClock {
    const buckets = (this.state.buckets ??= {});
    return (buckets[name] ??= { lastCallAt: null });
  }

  /** The pacing gap of a bucket (ms). */
  private bucketGapMs(name: BucketName): number {
    const { settings } = this;
    if (name === 'users_cursor') return 60_000 / settings.usersRequestsPerMinute;
    if (name === 'incremental') return 60_000 / settings.requestsPerMinute;
    if (name === 'account') return 60_000 / settings.accountRequestsPerMinute;
    return this.pacingIntervalMs();
  }

  private streamHost(): StreamHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const run = this;
    return {
      get account() {
        return run.input.account;
      },
      get settings() {
        return run.settings;
      },
      get supportTypeScope() {
        return run.input.supportTypeScope ?? 'all';
      },
      firstCursor: (stream) => ({
        explicit: (isAroundStream(stream) ? run.input.streamStartTimes?.[stream] : undefined) ?? run.input.startTime,
        fallback: run.input.defaultStartTime ?? 0,
      }),
      bucket: (name) => run.bucket(name),
      bucketGapMs: (name) => run.bucketGapMs(name),
      addWarning: (message, fields) => run.addWarning(message, fields),
      noteZendeskClock: (measuredMs) => run.noteZendeskClock(measuredMs),
      showDetails: (summary) => run.display.showDetails(summary),
      waitUnlessInterrupted: (durationMs, summary, until) => run.waitUnlessInterrupted(durationMs, summary, until),
      blockedChanged: () => run.display.publishSearchAttributes(),
      pageDone: (atMs, stored) => {
        run.state.pageDoneAt = atMs;
        if (stored) run.pagesThisRun++;
      },
      persistGivesWay: () => run.state.paused || workflowInfo().continueAsNewSuggested,
      zendeskNow: () => run.zendeskNow(),
    };
  }

  /**
   * Calls Zendesk. Returns the page, or undefined for every other outcome (a 429, nothing new yet, a 504, a rejected
   * cursor, a failure), each already accounted for.
   */
  async fetch(request: PageRequest): Promise<FetchedPage | undefined> {
    const { state } = this;
    this.phase = 'fetching';
    this.ticketsPhase = 'fetching';
    this.nextCall = null;
    this.cursorBusy = true;
    let result;
    const minGapMs = this.pacingIntervalMs();
    try {
      const summary = describeRequest(request);
      this.display.showDetails(summary);
      result = await fetchPage.executeWithOptions({ summary, retry: fetchRetryPolicy(minGapMs) }, [
        { ...request, minGapMs },
      ]);
    } catch (err) {
      this.failedCall(err);
      return undefined;
    }
    // A result that cannot be read (a payload refused by the codecs) or cannot be true is a failed call: nothing of it
    // is stored, no cursor moves, and the call is repeated after the backoff. Thrown, it would fail every task.
    const refused = refusalOf('fetchPage', result, pageProblem);
    if (refused !== undefined) {
      this.addWarning(refused);
      this.failedCall(new Error(refused));
      return undefined;
    }
    state.calls++;
    state.lastCallAt = result.requestedAt;
    const bucket = this.bucket(bucketOf('tickets', this.api));
    bucket.lastCallAt = Math.max(bucket.lastCallAt ?? 0, result.requestedAt);
    if (result.auth) state.auth = result.auth;
    this.noteZendeskClock(result.zendeskClockOffsetMs);
    if (result.kind === 'page') return result;
    this.cursorBusy = false;
    if (result.kind === 'rate_limited') {
      this.applyPendingReset();
      state.rateLimited++;
      if (result.note) this.addWarning(result.note);
      const retryAfterMs = result.retryAfterSeconds * 1000;
      recordRetryAfterWait(this.input.account, result.retryAfterSeconds);
      // The next wait is one timer for the longest of the Retry-After and the pacing.
      state.retryAfterUntil = Date.now() + retryAfterMs;
      // Every stream of the bucket waits too: it would get the same 429.
      bucket.retryAfterUntil = state.retryAfterUntil;
      return undefined;
    }
    if (result.kind === 'too_recent') {
      // "Nothing new yet": the pacing (and, on the incremental endpoints, the idle interval) is the wait.
      if (this.api !== 'exports') state.caughtUp = true;
    } else if (result.kind === 'gateway_timeout' || result.kind === 'too_large') {
      state.perPage = Math.max(1, Math.floor(request.perPage! / 2));
      state.goodPagesAtPerPage = 0;
      const what = result.kind === 'gateway_timeout' ? '504 from Zendesk' : `a page too large (${result.message})`;
      this.addWarning(`${what} at per_page=${request.perPage}: asking for ${state.perPage} next`);
    } else {
      this.addWarning(`the cursor was rejected (${result.message}): restarting from start_time ${state.cursor}`);
      if (state.trap) state.trap.afterCursor = null;
      else state.afterCursor = null;
    }
    this.applyPendingReset();
    return undefined;
  }

  /**
   * Stores the page with the checkpoint it leads to; returns where the export then stands, or undefined when the
   * page was given up for an operator's message or continue-as-new (it is fetched again later).
   */
  async persist(request: PageRequest, page: FetchedPage): Promise<PageOutcome | undefined> {
    const { state } = this;
    // The flags the page decides are set now, as status and search attributes show them while it is stored; a page
    // given up before it is stored leaves them as they were.
    const flagsBefore = { caughtUp: state.caughtUp, trap: state.trap ? { ...state.trap } : state.trap };
    const next = afterPage(this.api, state, request, page, this.settings);
    Object.assign(state, next.flags);
    for (const warning of next.warnings) this.addWarning(warning);
    if (page.foreignNextPage) {
      this.addWarning(`next page URL points to another origin and was ignored: ${page.foreignNextPage}`);
    }
    if (state.progressFrom && state.progressFrom.firstTicketAt === undefined && page.summary.oldest !== null) {
      state.progressFrom.firstTicketAt = page.summary.oldest;
    }
    if (page.summary.tickets === 0 || this.repeatsStoredTail(page, next)) {
      state.pageDoneAt = page.completedAt;
      return next;
    }
    this.phase = 'persisting';
    this.ticketsPhase = 'persisting';
    const stored = await this.persistUntilStored(page, next);
    if (stored === undefined) {
      Object.assign(state, flagsBefore);
      this.cursorBusy = false;
      this.applyPendingReset();
      return undefined;
    }
    state.ticketsStored += stored.written;
    if (stored.rejected) {
      state.ticketsRejected = (state.ticketsRejected ?? 0) + stored.rejected;
      this.addWarning(
        `${stored.rejected} ticket${stored.rejected === 1 ? '' : 's'} of the page before cursor ` +
          `${isoSeconds(next.cursor)} could not be stored: set aside in rejected_tickets with the error`,
        { event: LOG_EVENTS.rowsRejected, stream: 'tickets', count: stored.rejected },
      );
    }
    state.pages++;
    this.pagesThisRun++;
    state.pageDoneAt = stored.completedAt;
    state.storedTail = this.api === 'cursor' ? undefined : storedTail(page, next.cursor);
    return next;
  }

  /** The page is stored: the cursor moves to where it leads. */
  advance(page: FetchedPage, next: PageOutcome): void {
    const { state } = this;
    state.cursor = next.cursor;
    if (reachedEnd(this.api, page, this.settings.pageSize)) {
      state.completeThroughMs = page.requestedAt + (state.zendeskClockOffsetMs ?? 0);
    }
    if (this.api === 'cursor') state.afterCursor = next.afterCursor;
    state.lastPageSize = page.summary.tickets;
    state.lastError = null;
    state.consecutiveFailures = 0;
    state.notBefore = 0;
    state.retryNotBefore = undefined;
    if (this.api !== 'exports') this.growPerPage();
    this.cursorBusy = false;
    this.applyPendingReset();
    // The moment the page was stored, as its activity recorded it: whether the cursor is due to be published must not
    // hinge on a workflow task's timestamp.
    this.display.publishSearchAttributes({ at: state.pageDoneAt ?? page.completedAt ?? page.requestedAt });
  }

  // ---- the steps' parts ----

  /**
   * An idle poll of a time-based endpoint that only repeats the cursor's second, as stored: no persist needed. (A
   * cursor export keeps no tail; a crowded second read by cursor is never skipped.)
   */
  private repeatsStoredTail(page: FetchedPage, next: PageOutcome): boolean {
    return !this.state.trap && storedAlready(this.state.storedTail, page, next);
  }

  private nextRequest(): PageRequest {
    return nextRequest(this.api, this.state, this.input, this.settings.perPage);
  }

  /** The gap the pacing keeps after a call. */
  private pacingIntervalMs(): number {
    const { api, state, settings } = this;
    // A short page on the specified endpoint: caught up, only the idle gap.
    if (api === 'exports' && state.lastPageSize < settings.pageSize) return settings.idleGapMs;
    return catchUpPacing(api, settings).intervalMs;
  }

  /** A call that brought nothing usable: the cursor is free again, and the failure counts for the backoff. */
  private failedCall(err: unknown): void {
    this.cursorBusy = false;
    this.state.lastCallAt = Date.now();
    this.applyPendingReset();
    this.recordFailure(err);
  }

  private recordFailure(err: unknown): void {
    const { state } = this;
    if (isPermanent(err)) {
      state.blocked = true;
      state.blockedUntil = Date.now() + BLOCKED_RETRY_MS;
      state.lastError = describeFailure(err);
      recordBlocked(this.input.account, true);
      this.display.publishSearchAttributes();
      log.error('Export blocked: waiting for resume', {
        account: this.input.account,
        stream: 'tickets',
        event: LOG_EVENTS.exportBlocked,
        error: state.lastError,
      });
      return;
    }
    state.consecutiveFailures++;
    state.lastError = describeFailure(err);
    const askedFor = retryNotBefore(err);
    state.notBefore = Math.max(
      Date.now() + failureBackoffMs(state.consecutiveFailures, this.settings.idleGapMs),
      askedFor,
    );
    // Resume ends our backoff but not what Zendesk (a 503's Retry-After) or the pacing asked for.
    state.retryNotBefore = askedFor;
    this.phase = 'backoff';
  }

  /** The page stays in workflow memory until a persist succeeds: the cursor never passes unstored rows. */
  private async persistUntilStored(page: FetchedPage, next: PageOutcome): Promise<PersistOutput | undefined> {
    const count = page.summary.tickets;
    const tickets = `${count.toLocaleString('en-US')} ticket${count === 1 ? '' : 's'}`;
    const summary = `persist ${tickets}, then cursor ${isoSeconds(next.cursor)}`;
    const write = { account: this.input.account, content: page.content, ...checkpointAt(this.api, next) };
    for (let attempt = 1; ; attempt++) {
      try {
        this.display.showDetails(summary);
        const stored = await persistLocally.executeWithOptions({ summary }, [write]);
        // A result that cannot be read proves nothing was stored: it is retried like a failed persist.
        const unreadable = undecodableReason(stored);
        if (unreadable !== undefined) throw new Error(`persist result could not be decoded (${unreadable})`);
        return stored;
      } catch (err) {
        if (failureType(err) === STAGED_PAGE_GONE) {
          // Retrying cannot bring the staged page back: the loop fetches it again from the same cursor.
          this.addWarning(`${describeFailure(err)}: fetching the page again`);
          return undefined;
        }
        this.state.lastError = `persist failed: ${describeFailure(err)}`;
        this.phase = 'backoff';
        const backoffMs = sinkBackoffMs(attempt);
        this.nextCall = Date.now() + backoffMs;
        const backoff = `persist failed: retry in ${seconds(backoffMs / 1000)}`;
        this.display.showDetails(backoff);
        const givesWay = () =>
          this.state.paused || this.pendingReset !== undefined || workflowInfo().continueAsNewSuggested;
        if (givesWay()) return undefined;
        await this.waitUnlessInterrupted(backoffMs, backoff);
        if (givesWay()) return undefined;
        this.phase = 'persisting';
      }
    }
  }

  /** Writes an operator's reset to the sink's checkpoint, so a stop and a start right after it resume from there. */
  private async saveResetCheckpoint(): Promise<void> {
    const { state } = this;
    state.resetToSave = false;
    const summary = `checkpoint the reset: cursor ${isoSeconds(state.cursor)}`;
    this.display.showDetails(summary);
    try {
      await persist.executeWithOptions({ summary }, [
        {
          account: this.input.account,
          content: NO_PAGE,
          ...checkpointAt(this.api, { cursor: state.cursor, afterCursor: null }),
        },
      ]);
    } catch (err) {
      this.addWarning(
        `the reset's checkpoint could not be written (${describeFailure(err)}): the next stored page writes it`,
      );
    }
  }

  /** The first cursor's recovery point: waits for a sink that is down, unless an operator's reset gives the cursor. */
  private async loadCheckpoint(): Promise<Checkpoint | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        const checkpoint = await loadCheckpoint(this.input.account);
        const unreadable = undecodableReason(checkpoint);
        if (unreadable !== undefined) throw new Error(`the checkpoint could not be decoded (${unreadable})`);
        this.state.lastError = null;
        return checkpoint;
      } catch (err) {
        this.state.lastError = `reading the checkpoint failed: ${describeFailure(err)}`;
        this.phase = 'backoff';
        const backoffMs = sinkBackoffMs(attempt);
        this.nextCall = Date.now() + backoffMs;
        const summary = `checkpoint read failed: retry in ${seconds(backoffMs / 1000)}`;
        this.display.showDetails(summary);
        await this.waitUnlessInterrupted(backoffMs, summary);
        if (this.pendingReset !== undefined) return null;
        this.phase = 'starting';
      }
    }
  }

  /** After a good page: per_page back towards the configured size (a 504 halved it). */
  private growPerPage(): void {
    const { state, settings } = this;
    const grown = perPageAfterGoodPage(
      state.perPage ?? settings.perPage,
      settings.perPage,
      state.goodPagesAtPerPage ?? 0,
    );
    state.perPage = grown.perPage;
    state.goodPagesAtPerPage = grown.goodPages;
  }

  private moveCursor(startTime: number): void {
    const { state } = this;
    state.resetToSave = true;
    state.cursor = startTime;
    state.storedTail = undefined;
    state.progressFrom = { cursor: startTime, atMs: Date.now(), tickets: state.ticketsStored };
    state.completeThroughMs = undefined;
    state.afterCursor = null;
    state.trap = null;
    state.caughtUp = false;
  }

  /**
   * A durable wait of `duration` (its timer's summary in the Web UI), ended early by an operator's message or when
   * `until` holds. True when ended early.
   */
  private async waitUnlessInterrupted(
    duration: number | string,
    summary: string,
    until: () => boolean = () => false,
  ): Promise<boolean> {
    const seen = this.operatorMessages;
    return condition(() => this.operatorMessages !== seen || until(), duration, { summary });
  }

  private addWarning(message: string, fields: WarningFields = {}): void {
    const { warnings } = this.state;
    warnings.push(`${new Date().toISOString()} ${message}`);
    if (warnings.length > MAX_WARNINGS) warnings.splice(0, warnings.length - MAX_WARNINGS);
    log.warn(message, { account: this.input.account, ...fields, event: fields.event ?? LOG_EVENTS.exportWarning });
  }

  /** Now on Zendesk's clock, which judges start_time ages and dates the tickets. */
  private zendeskNow(): number {
    return Date.now() + (this.state.zendeskClockOffsetMs ?? 0);
  }

  private noteZendeskClock(measuredMs: number | undefined): void {
    if (measuredMs === undefined) return;
    const reading = readZendeskClock(measuredMs, this.state.zendeskClockOffsetMs ?? 0);
    this.state.zendeskClockOffsetMs = reading.offsetMs;
    for (const warning of reading.warnings) this.addWarning(warning);
  }

  private applyPendingReset(): void {
    if (this.pendingReset === undefined) return;
    this.moveCursor(this.pendingReset);
    this.pendingReset = undefined;
    this.display.publishSearchAttributes({ cursorNow: true });
  }
}

/** The turn the loop takes: the tickets stream with its request, or a stream around the ticket. */
export type Turn = { stream: 'tickets'; request: PageRequest } | { stream: PagedStream };

/** A stream waiting for its turn, and what its wait shows in the Web UI. */
type WaitCandidate = TurnCandidate<StreamName> & { phase: ExportPhase; summary: (waitMs: number) => string };

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.max(a, b);
}

/** Why a list of streams cannot be read, or undefined. */
export function streamsProblem(streams: unknown): string | undefined {
  if (streams === undefined) return undefined;
  if (!Array.isArray(streams) || streams.length === 0) return 'streams must be a non-empty list';
  const unknown = streams.filter((s) => !isStreamName(s));
  if (unknown.length) return `unknown streams ${JSON.stringify(unknown)} (known: ${STREAMS.join(', ')})`;
  return undefined;
}

function freshState(): ExportState {
  return {
    cursor: 0,
    paused: false,
    blocked: false,
    lastCallAt: null,
    pages: 0,
    ticketsStored: 0,
    calls: 0,
    rateLimited: 0,
    lastPageSize: 0,
    lastError: null,
    consecutiveFailures: 0,
    warnings: [],
  };
}
