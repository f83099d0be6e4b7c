import { allHandlersFinished, condition, continueAsNew, log, workflowInfo } from '@temporalio/workflow';
import type { Checkpoint, FetchPageResult, PageContent, PersistOutput } from '../activities/types';
import { isoSeconds, seconds } from '../common/time-text';
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
import { describeFailure, failureType, isPermanent, retryNotBefore } from './failures';
import type { ExportInput, ExportPhase, ExportState, ExportStatus, ResetCursorRequest } from './messages';
import { recordBlocked, recordProgress, recordRetryAfterWait } from './metrics';
import { explainNextCall, nextCallAt } from './pacing';
import { resetCursorProblem } from './reset-request';
import { ExportSettings, resolveSettings } from './settings';
import { describeRequest, waitSummary } from './summaries';

const BLOCKED_RETRY = '1 hour';
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
  private readonly display: ExportDisplay;

  constructor(readonly input: ExportInput) {
    const resolved = resolveSettings(input, input.state?.api ?? input.api ?? 'exports');
    this.settings = resolved.settings;
    this.state = input.state ?? freshState();
    this.api = this.state.api ?? input.api ?? 'exports';
    this.state.api = this.api;
    this.display = new ExportDisplay(this);
    for (const warning of resolved.warnings) this.addWarning(warning);
  }

  status(): ExportStatus {
    return this.display.status();
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
    this.state.paused = false;
    this.state.blocked = false;
    // An operator's resume ends a backoff after failures (never a Retry-After, which is Zendesk's).
    this.state.notBefore = this.state.retryNotBefore ?? 0;
    this.operatorMessages++;
    this.display.publishSearchAttributes();
  }

  pollNow(): void {
    this.state.pollNowPending = true;
  }

  /** The reason a reset request cannot be taken, or undefined. */
  resetProblem(request: unknown): string | undefined {
    return resetCursorProblem(request, this.zendeskNow());
  }

  resetBySignal(request: ResetCursorRequest): void {
    const problem = this.resetProblem(request);
    if (problem) this.addWarning(`resetCursor signal ignored: ${problem}`);
    else this.reset(request.startTime);
  }

  /**
   * An operator's reset; returns the cursor it replaces. One that arrives while the cursor is being worked on (first
   * load, a fetch) is applied afterwards, so it wins over that page's cursor.
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

  /** An operator's reset written to the checkpoint, a pause or a block held: true when the loop should re-decide. */
  async holdForOperator(): Promise<boolean> {
    const { state } = this;
    recordProgress(this.input.account, exportLagSeconds(this.zendeskNow(), completeThrough(state)));
    if (state.resetToSave) await this.saveResetCheckpoint();
    if (state.paused) {
      this.phase = 'paused';
      this.nextCall = null;
      this.display.publishSearchAttributes();
      this.display.showDetails('until resumed');
      await condition(() => !state.paused || state.resetToSave === true);
      return true;
    }
    if (state.blocked) {
      this.phase = 'blocked';
      this.nextCall = Date.now() + 3_600_000;
      this.display.publishSearchAttributes();
      const summary = `blocked: retry in ${BLOCKED_RETRY} unless resumed`;
      this.display.showDetails(summary);
      const cleared = await this.waitUnlessInterrupted(BLOCKED_RETRY, summary, () => !state.blocked || state.paused);
      if (!cleared) state.blocked = false;
      if (!state.blocked) recordBlocked(this.input.account, false);
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
   * Waits until the API allows the next call: the idle interval of a caught-up incremental export, the pacing, a
   * Retry-After, a failure backoff. Returns the request to send, or undefined when an operator's message (or a pause
   * or block) ended the wait and the loop should re-decide.
   */
  async waitForNextCall(): Promise<PageRequest | undefined> {
    const { state, settings, api } = this;
    let idleUntil: number | undefined;
    if (api !== 'exports' && state.caughtUp) {
      const idle = await this.idleUntilNextPoll();
      if (idle === 'interrupted') return undefined;
      if (idle !== 'poll_now') idleUntil = idle;
    }

    const request = this.nextRequest();
    const notBefore = state.notBefore ?? 0;
    const pacing = {
      lastCallAt: state.lastCallAt,
      pollIntervalMs: this.pacingIntervalMs(),
      // A call by after_cursor has no start_time, so no minimum age.
      startTime: request.afterCursor === undefined ? request.startTime : 0,
      minStartAgeMs: settings.minStartAgeMs,
      notBefore: Math.max(notBefore, state.retryAfterUntil ?? 0),
      zendeskClockOffsetMs: state.zendeskClockOffsetMs,
    };
    const { at: callAt, rule } = explainNextCall({ ...pacing, nowMs: Date.now() });
    // Whether the next command is a timer or an activity must not hinge on a workflow-task timestamp, which can
    // differ between a live run and a replay after a workflow task timed out. So: no timer only when every rule
    // was already met when the last page was stored, a time its activities recorded; else a timer, and no clock
    // comparison after it fires. (A timer costs the server's timer granularity, about a second on the dev server.)
    // An idle wait that ran out is such a time too: the moment it ran out follows from recorded times. (Judged at
    // pageDoneAt instead, a poll interval shorter than the pacing gap cost a 1 ms timer, a second, after each one.)
    const judgedAt = idleUntil !== undefined ? Math.max(idleUntil, state.pageDoneAt ?? 0) : state.pageDoneAt;
    const waitOver = judgedAt !== undefined && nextCallAt({ ...pacing, nowMs: judgedAt }) <= judgedAt;
    if (!waitOver) {
      // One timer for the longest of the waits: a second timer right after a Retry-After would add the server's
      // timer granularity to every 429.
      if ((state.retryAfterUntil ?? 0) >= callAt) this.phase = 'rate_limited';
      else this.phase = notBefore >= callAt && notBefore > 0 ? 'backoff' : 'waiting';
      this.nextCall = callAt;
      const waitMs = Math.max(MIN_TIMER_MS, Math.ceil(callAt - Date.now()));
      const summary = waitSummary(this.phase, rule, pacing.pollIntervalMs, waitMs);
      this.display.publishSearchAttributes();
      this.display.showDetails(summary);
      // An operator's message ends the wait; the next turn decides again (a Retry-After still holds then).
      if (await this.waitUnlessInterrupted(waitMs, summary)) return undefined;
      if (state.paused || state.blocked) return undefined;
    }
    state.pageDoneAt = undefined;
    // Built after the wait: a reset during the wait is the request.
    return this.nextRequest();
  }

  /**
   * Calls Zendesk. Returns the page, or undefined for every other outcome (a 429, nothing new yet, a 504, a rejected
   * cursor, a failure), each already accounted for.
   */
  async fetch(request: PageRequest): Promise<FetchedPage | undefined> {
    const { state } = this;
    this.phase = 'fetching';
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
    const refused = refusalOf(result);
    if (refused !== undefined) {
      this.addWarning(refused);
      this.failedCall(new Error(refused));
      return undefined;
    }
    state.calls++;
    state.lastCallAt = result.requestedAt;
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

  /**
   * Incremental endpoints, caught up: the idle interval, which pollNow cuts short. Returns when the interval ran out
   * (ms, from recorded times), 'poll_now', or 'interrupted' (pause, block, an operator's message: re-decide).
   */
  private async idleUntilNextPoll(): Promise<number | 'poll_now' | 'interrupted'> {
    const { state, settings } = this;
    this.phase = 'idle';
    const pollAt = (state.lastCallAt ?? 0) + settings.idleGapMs;
    this.nextCall = pollAt;
    const summary = `caught up: next poll after ${seconds(settings.idleGapMs / 1000)}`;
    this.display.showDetails(summary);
    const seen = this.operatorMessages;
    const interrupted = () => state.paused || state.blocked || this.operatorMessages !== seen;
    const waitMs = Math.max(MIN_TIMER_MS, Math.ceil(pollAt - Date.now()));
    const woken = await this.waitUnlessInterrupted(waitMs, summary, () => state.pollNowPending === true);
    state.pollNowPending = false;
    if (interrupted()) return 'interrupted';
    return woken ? 'poll_now' : pollAt;
  }

  private nextRequest(): PageRequest {
    return nextRequest(this.api, this.state, this.input, this.settings.perPage);
  }

  /** The gap the pacing keeps after a call. */
  private pacingIntervalMs(): number {
    const { api, state, settings } = this;
    if (api !== 'exports') return 60_000 / settings.requestsPerMinute;
    return state.lastPageSize < settings.pageSize ? settings.idleGapMs : settings.pollIntervalMs;
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
      state.lastError = describeFailure(err);
      recordBlocked(this.input.account, true);
      this.display.publishSearchAttributes();
      log.error('Export blocked: waiting for resume', { account: this.input.account, error: state.lastError });
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

  private addWarning(message: string): void {
    const { warnings } = this.state;
    warnings.push(`${new Date().toISOString()} ${message}`);
    if (warnings.length > MAX_WARNINGS) warnings.splice(0, warnings.length - MAX_WARNINGS);
    log.warn(message, { account: this.input.account });
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

/** Why a fetchPage result cannot be taken (undecodable, or not adding up), or undefined. */
function refusalOf(result: FetchPageResult): string | undefined {
  const unreadable = undecodableReason(result);
  if (unreadable !== undefined) return `fetchPage result could not be decoded (${unreadable})`;
  const problem = result.kind === 'page' ? pageProblem(result) : undefined;
  return problem === undefined ? undefined : `fetchPage result refused: ${problem}`;
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
