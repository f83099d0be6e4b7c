import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setDefaultSignalHandler,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { FetchPageInput, FetchPageResult, PersistOutput, StoredCheckpoint } from '../activities/types';
import type { SideloadRecord, TicketRow } from '../sinks/sink';
import {
  ExportApi,
  ExportStateName,
  PERMANENT_FAILURE,
  TRANSIENT_FAILURE,
  undecodableReason,
  ZENDESK_ACCOUNT,
  ZENDESK_CURSOR,
  ZENDESK_PAUSED,
  ZENDESK_STATE,
} from '../shared';
import { currentDetails, seconds } from './details';
import {
  ExportInput,
  ExportPhase,
  ExportState,
  ExportStatus,
  pauseSignal,
  pollNowSignal,
  resetCursorSignal,
  resetCursorUpdate,
  resumeSignal,
  statusQuery,
} from './messages';
import { recordBlocked, recordProgress, recordRetryAfterWait } from './metrics';
import {
  advanceCursor,
  completeThrough,
  explainNextCall,
  exportLagSeconds,
  failureBackoffMs,
  isoMillis,
  isoSeconds,
  MAX_CLOCK_OFFSET_MS,
  PacingRule,
  nextCallAt,
  pageEnd,
  perPageAfterGoodPage,
  plausibleClockOffset,
  sinkBackoffMs,
  resetCursorProblem,
  usableClockOffset,
} from './pacing';

// The activities heartbeat every 2 s: a worker that dies mid-call is noticed in 15 s, not after start-to-close.
const { fetchPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [PERMANENT_FAILURE],
  },
});

// A few quick attempts; past them the workflow waits for the sink with its own backoff, which an operator's message
// cuts short (a database that is down must not keep pause, reset or continue-as-new waiting).
const { persist, loadCheckpoint } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
});

const DEFAULTS = {
  pollIntervalSeconds: 300,
  minStartAgeSeconds: 300,
  pagesPerRun: 500,
  pageSize: 1000,
  requestsPerMinute: 10,
  perPage: 1000,
};
/** The incremental endpoints accept a start_time one minute old (the specified one: five). */
const INCREMENTAL_MIN_START_AGE_SECONDS = 60;
const BLOCKED_RETRY = '1 hour';
const MAX_WARNINGS = 20;
const MIN_TIMER_MS = 1;
const MIN_IDLE_GAP_MS = 100;
/** A clock skew this large is worth an operator's attention (NTP on the worker's host, usually). */
const CLOCK_WARNING_MS = 60_000;
const ONE_TIMER_AFTER_429 = 'one-timer-after-429';
const STATE_SEARCH_ATTRIBUTE = 'state-search-attribute';
/**
 * Runs started after this patch: operator messages cut every wait short (the request is built after the wait), a
 * reset is written to the sink's checkpoint, a persist that keeps failing gives way to pause, reset and
 * continue-as-new, a failed checkpoint read is waited out, resume ends a failure backoff, per_page grows back
 * gradually after a 504. Decided once per run, so a run that began on older code keeps its behaviour to its end.
 */
const OPERATOR_INTERRUPTS = 'operator-interrupts';

/** One per Zendesk account, forever: wait until the API allows a call, fetch a page, store it, advance. */
export async function ticketExportWorkflow(input: ExportInput): Promise<void> {
  const badInput = undecodableReason(input);
  if (badInput !== undefined) {
    throw ApplicationFailure.nonRetryable(`the workflow input could not be decoded (${badInput})`, 'BadWorkflowInput');
  }
  const interruptible = patched(OPERATOR_INTERRUPTS);
  const settings = resolveSettings(input, input.state?.api ?? input.api ?? 'exports');
  const state: ExportState = input.state ?? freshState();
  const api: ExportApi = state.api ?? input.api ?? 'exports';
  state.api = api;
  let phase: ExportPhase = 'starting';
  let nextCall: number | null = null;
  let cursorBusy = false;
  let pendingReset: number | undefined;
  let pagesThisRun = 0;
  /** Counts operator messages (pause, resume, reset): a wait that sees it change ends and the loop re-decides. */
  let operatorMessages = 0;
  let published: { account?: string; cursor?: number; paused?: boolean; state?: ExportStateName } = {};
  for (const warning of settings.warnings) addWarning(warning);

  function addWarning(message: string): void {
    state.warnings.push(`${new Date().toISOString()} ${message}`);
    if (state.warnings.length > MAX_WARNINGS) state.warnings.splice(0, state.warnings.length - MAX_WARNINGS);
    log.warn(message, { account: input.account });
  }

  /** Now on Zendesk's clock, which judges start_time ages and dates the tickets. */
  function zendeskNow(): number {
    return Date.now() + (state.zendeskClockOffsetMs ?? 0);
  }

  /** How far behind Zendesk the sink is, on Zendesk's clock (a pending reset counts as done). */
  function lagSeconds(): number {
    return exportLagSeconds(zendeskNow(), pendingReset ?? completeThrough(state));
  }

  function noteZendeskClock(measuredMs: number | undefined): void {
    if (measuredMs === undefined) return;
    const previous = state.zendeskClockOffsetMs ?? 0;
    if (!plausibleClockOffset(measuredMs)) {
      addWarning(
        `Zendesk's Date header is ${Math.round(Math.abs(measuredMs) / 86_400_000)} days off the worker's clock: ` +
          `ignored (offsets beyond ${MAX_CLOCK_OFFSET_MS / 3_600_000} h are taken for a broken header)`,
      );
    }
    const offset = usableClockOffset(measuredMs, previous);
    state.zendeskClockOffsetMs = offset;
    if (Math.abs(offset) >= CLOCK_WARNING_MS && Math.abs(offset - previous) >= CLOCK_WARNING_MS) {
      addWarning(
        `Zendesk's clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'ahead of' : 'behind'} ` +
          "the worker's: start_time ages and lag are counted on Zendesk's clock",
      );
    }
  }

  // A reset that arrives while the cursor is being worked on (first load, a fetch) is applied afterwards, so it
  // wins over that page's cursor.
  function requestReset(startTime: number): number {
    const previous = pendingReset ?? state.cursor;
    if (cursorBusy) pendingReset = startTime;
    else moveCursor(startTime);
    operatorMessages++;
    publishSearchAttributes();
    return previous;
  }

  // A signal name this workflow does not know (a typo in `temporal workflow signal`) is reported, not dropped silently.
  setDefaultSignalHandler((signalName) => addWarning(`unknown signal "${signalName}" ignored`));
  setHandler(pauseSignal, () => {
    state.paused = true;
    operatorMessages++;
    publishSearchAttributes();
  });
  setHandler(pollNowSignal, () => {
    state.pollNowPending = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    state.blocked = false;
    // An operator's resume ends a backoff after failures (never a Retry-After, which is Zendesk's).
    if (interruptible) state.notBefore = 0;
    operatorMessages++;
    publishSearchAttributes();
  });
  setHandler(resetCursorSignal, (request) => {
    const problem = resetCursorProblem(request, zendeskNow());
    if (problem) addWarning(`resetCursor signal ignored: ${problem}`);
    else requestReset(request.startTime);
  });
  setHandler(
    resetCursorUpdate,
    (request) => {
      const previousCursor = requestReset(request.startTime);
      return { previousCursor, cursor: request.startTime };
    },
    {
      validator: (request) => {
        const problem = resetCursorProblem(request, zendeskNow());
        if (problem) throw new Error(problem);
      },
    },
  );
  setHandler(statusQuery, (): ExportStatus => {
    const now = Date.now();
    const shownCursor = pendingReset ?? state.cursor;
    return {
      account: input.account,
      api,
      state: exportState(),
      progressFrom: state.progressFrom ?? null,
      afterCursor: state.afterCursor ?? null,
      perPage: state.perPage ?? settings.perPage,
      caughtUp: state.caughtUp ?? false,
      cursor: shownCursor,
      cursorIso: isoSeconds(shownCursor),
      phase,
      paused: state.paused,
      blocked: state.blocked,
      nextCallAt: nextCall === null ? null : (isoMillis(nextCall) ?? null),
      pages: state.pages,
      ticketsStored: state.ticketsStored,
      calls: state.calls,
      rateLimited: state.rateLimited,
      lastPageSize: state.lastPageSize,
      ticketsRejected: state.ticketsRejected ?? 0,
      auth: state.auth ?? null,
      lastError: state.lastError,
      warnings: [...state.warnings],
      lagSeconds: lagSeconds(),
      completeThrough: pendingReset ?? completeThrough(state),
      pollIntervalSeconds: settings.pollIntervalMs / 1000,
      minStartAgeSeconds: settings.minStartAgeMs / 1000,
      historyLength: workflowInfo().historyLength,
      asOf: new Date(now).toISOString(),
    };
  });

  /** Coarsely what the export does, for list filters (`ZendeskState = "blocked"`). */
  function exportState(): ExportStateName {
    if (state.paused) return 'paused';
    if (state.blocked) return 'blocked';
    if (phase === 'rate_limited' || phase === 'backoff') return phase;
    const caughtUp = api === 'exports' ? state.calls > 0 && state.lastPageSize < settings.pageSize : state.caughtUp;
    return caughtUp ? 'caught_up' : 'catching_up';
  }

  function publishSearchAttributes(): void {
    const cursor = pendingReset ?? state.cursor;
    const now = exportState();
    const updates = [];
    if (published.account !== input.account) updates.push({ key: ZENDESK_ACCOUNT, value: input.account });
    if (published.cursor !== cursor) updates.push({ key: ZENDESK_CURSOR, value: new Date(cursor * 1000) });
    if (published.paused !== state.paused) updates.push({ key: ZENDESK_PAUSED, value: state.paused });
    // Histories recorded before ZendeskState existed replay without it.
    const withState =
      published.state !== now && input.stateSearchAttribute !== false && patched(STATE_SEARCH_ATTRIBUTE);
    if (withState) updates.push({ key: ZENDESK_STATE, value: now });
    if (updates.length === 0) return;
    upsertSearchAttributes(updates);
    published = { account: input.account, cursor, paused: state.paused, state: withState ? now : published.state };
  }

  /** The Web UI's "current details": which export, where it stands, what it does now. */
  function showDetails(waitingFor?: string): void {
    setCurrentDetails(
      currentDetails({
        account: input.account,
        api,
        pollIntervalSeconds: settings.pollIntervalMs / 1000,
        minStartAgeSeconds: settings.minStartAgeMs / 1000,
        cursor: pendingReset ?? state.cursor,
        ticketsStored: state.ticketsStored,
        pages: state.pages,
        lagSeconds: lagSeconds(),
        phase,
        waitingFor,
        nextCallAt: nextCall,
        lastError: state.lastError,
        warnings: state.warnings.length,
        ticketsRejected: state.ticketsRejected ?? 0,
      }),
    );
  }
  if (!input.state) {
    cursorBusy = true;
    const checkpoint = input.startTime === undefined ? await loadStoredCheckpoint() : null;
    state.cursor = input.startTime ?? checkpoint?.cursor ?? input.defaultStartTime ?? 0;
    state.progressFrom = { cursor: state.cursor, atMs: Date.now(), tickets: 0 };
    // A cursor of one endpoint means nothing to another: only the same export resumes from its after_cursor.
    if (checkpoint?.api === api && api === 'cursor') state.afterCursor = checkpoint.afterCursor;
    cursorBusy = false;
    applyPendingReset();
  }
  published = readPublishedSearchAttributes();
  publishSearchAttributes();
  recordBlocked(input.account, state.blocked);

  for (;;) {
    recordProgress(input.account, exportLagSeconds(zendeskNow(), completeThrough(state)));
    if (state.resetToSave) await saveResetCheckpoint();
    if (state.paused) {
      phase = 'paused';
      nextCall = null;
      publishSearchAttributes();
      showDetails('until resumed');
      await condition(() => !state.paused || state.resetToSave === true);
      continue;
    }
    if (state.blocked) {
      phase = 'blocked';
      nextCall = Date.now() + 3_600_000;
      publishSearchAttributes();
      const summary = `blocked: retry in ${BLOCKED_RETRY} unless resumed`;
      showDetails(summary);
      const seen = operatorMessages;
      const cleared = await condition(
        () => !state.blocked || state.paused || (interruptible && operatorMessages !== seen),
        BLOCKED_RETRY,
        { summary },
      );
      if (!cleared) state.blocked = false;
      if (!state.blocked) recordBlocked(input.account, false);
      continue;
    }
    if (pagesThisRun >= settings.pagesPerRun || workflowInfo().continueAsNewSuggested) {
      phase = 'continuing_as_new';
      showDetails();
      await condition(allHandlersFinished);
      await continueAsNew<typeof ticketExportWorkflow>({ ...input, state });
    }

    // Incremental endpoints, caught up: the idle interval, which pollNow cuts short.
    if (api !== 'exports' && state.caughtUp) {
      phase = 'idle';
      nextCall = (state.lastCallAt ?? 0) + settings.idleGapMs;
      const summary = `caught up: next poll after ${seconds(settings.idleGapMs / 1000)}`;
      showDetails(summary);
      const seen = operatorMessages;
      await condition(
        () =>
          state.pollNowPending === true ||
          state.paused ||
          state.blocked ||
          (interruptible && operatorMessages !== seen),
        Math.max(MIN_TIMER_MS, Math.ceil(nextCall - Date.now())),
        { summary },
      );
      state.pollNowPending = false;
      if (state.paused || state.blocked || (interruptible && operatorMessages !== seen)) continue;
    }

    let request = nextRequest();
    const notBefore = state.notBefore ?? 0;
    const pacing = {
      lastCallAt: state.lastCallAt,
      pollIntervalMs:
        api !== 'exports'
          ? 60_000 / settings.requestsPerMinute
          : state.lastPageSize < settings.pageSize
            ? settings.idleGapMs
            : settings.pollIntervalMs,
      // A cursor call has no start_time, so no minimum age.
      cursor: request.cursor === undefined ? request.startTime : 0,
      minStartAgeMs: settings.minStartAgeMs,
      notBefore: Math.max(notBefore, state.retryAfterUntil ?? 0),
      zendeskClockOffsetMs: state.zendeskClockOffsetMs,
    };
    const { at: callAt, rule } = explainNextCall({ ...pacing, nowMs: Date.now() });
    // Whether the next command is a timer or an activity must not hinge on a workflow-task timestamp, which can
    // differ between a live run and a replay after a workflow task timed out. So: no timer only when every rule
    // was already met when the last page was stored, a time its activities recorded; else a timer, and no clock
    // comparison after it fires. (A timer costs the server's timer granularity, about a second on the dev server.)
    const waitOver =
      state.pageDoneAt !== undefined && nextCallAt({ ...pacing, nowMs: state.pageDoneAt }) <= state.pageDoneAt;
    if (!waitOver) {
      // One timer for the longest of the waits: a second timer right after a Retry-After would add the server's
      // timer granularity to every 429.
      if ((state.retryAfterUntil ?? 0) >= callAt) phase = 'rate_limited';
      else phase = notBefore >= callAt && notBefore > 0 ? 'backoff' : 'waiting';
      nextCall = callAt;
      const waitMs = Math.max(MIN_TIMER_MS, Math.ceil(callAt - Date.now()));
      const summary = waitSummary(phase, rule, pacing.pollIntervalMs, waitMs);
      publishSearchAttributes();
      showDetails(summary);
      if (interruptible) {
        // An operator's message ends the wait; the next turn decides again (a Retry-After still holds then).
        const seen = operatorMessages;
        if (await condition(() => operatorMessages !== seen, waitMs, { summary })) continue;
      } else await sleep(waitMs, { summary });
      if (state.paused || state.blocked) continue;
    }
    state.pageDoneAt = undefined;
    // Older runs built the request before the wait, so a reset during the wait was undone by the old request's page.
    if (interruptible) request = nextRequest();

    phase = 'fetching';
    nextCall = null;
    cursorBusy = true;
    let result: FetchPageResult;
    try {
      const summary = describeRequest(request);
      showDetails(summary);
      result = await fetchPage.executeWithOptions({ summary }, [{ ...request, minGapMs: pacing.pollIntervalMs }]);
    } catch (err) {
      cursorBusy = false;
      state.lastCallAt = Date.now();
      applyPendingReset();
      if (isPermanent(err)) {
        state.blocked = true;
        state.lastError = describeFailure(err);
        recordBlocked(input.account, true);
        publishSearchAttributes();
        log.error('Export blocked: waiting for resume', { account: input.account, error: state.lastError });
      } else {
        state.consecutiveFailures++;
        state.lastError = describeFailure(err);
        state.notBefore = Math.max(
          Date.now() + failureBackoffMs(state.consecutiveFailures, settings.idleGapMs),
          retryNotBefore(err),
        );
        phase = 'backoff';
      }
      continue;
    }
    // Our own worker wrote it, so this cannot happen short of a corrupted history: fail the task, as without the marker.
    const unreadable = undecodableReason(result);
    if (unreadable !== undefined) throw new Error(`fetchPage result: ${unreadable}`);
    state.calls++;
    state.lastCallAt = result.requestedAt;
    if (result.auth) state.auth = result.auth;
    noteZendeskClock(result.zendeskClockOffsetMs);

    if (result.kind === 'rate_limited') {
      cursorBusy = false;
      applyPendingReset();
      state.rateLimited++;
      if (result.note) addWarning(result.note);
      const retryAfterMs = result.retryAfterSeconds * 1000;
      recordRetryAfterWait(input.account, result.retryAfterSeconds);
      if (patched(ONE_TIMER_AFTER_429)) {
        state.retryAfterUntil = Date.now() + retryAfterMs;
        continue;
      }
      // Histories recorded before the patch: the Retry-After timer, then the pacing timer.
      phase = 'rate_limited';
      nextCall = Date.now() + retryAfterMs;
      await sleep(retryAfterMs);
      continue;
    }
    if (result.kind !== 'page') {
      cursorBusy = false;
      if (result.kind === 'too_recent') {
        // "Nothing new yet": the pacing (and, on the incremental endpoints, the idle interval) is the wait.
        if (api !== 'exports') state.caughtUp = true;
      } else if (result.kind === 'gateway_timeout') {
        state.perPage = Math.max(1, Math.floor(request.perPage! / 2));
        state.goodPagesAtPerPage = 0;
        addWarning(`504 from Zendesk at per_page=${request.perPage}: asking for ${state.perPage} next`);
      } else {
        addWarning(`the cursor was rejected (${result.message}): restarting from start_time ${state.cursor}`);
        if (state.trap) state.trap.afterCursor = null;
        else state.afterCursor = null;
      }
      applyPendingReset();
      continue;
    }

    // afterPage moves the flags a page decides; a page given up before it is stored must leave them as they were.
    const flagsBefore = { caughtUp: state.caughtUp, trap: state.trap ? { ...state.trap } : state.trap };
    const next = afterPage(request, result);
    const endOfStream = api === 'exports' ? result.rows.length < settings.pageSize : result.endOfStream === true;
    if (result.foreignNextPage)
      addWarning(`next page URL points to another origin and was ignored: ${result.foreignNextPage}`);
    let storedAt: number | undefined;
    if (state.progressFrom && state.progressFrom.firstTicketAt === undefined && result.rows.length > 0) {
      state.progressFrom.firstTicketAt = result.rows.reduce(
        (min, row) => Math.min(min, row.generated_timestamp),
        Number.MAX_SAFE_INTEGER,
      );
    }
    if (result.rows.length > 0) {
      phase = 'persisting';
      const stored = await persistUntilStored(result.rows, result.fieldHeaders, next, result.sideloads);
      if (stored === undefined) {
        // Given up for an operator's message or continue-as-new: the page is fetched again later.
        Object.assign(state, flagsBefore);
        cursorBusy = false;
        applyPendingReset();
        continue;
      }
      storedAt = stored.completedAt;
      state.ticketsStored += stored.written;
      if (stored.rejected) {
        state.ticketsRejected = (state.ticketsRejected ?? 0) + stored.rejected;
        addWarning(
          `${stored.rejected} ticket${stored.rejected === 1 ? '' : 's'} of the page before cursor ` +
            `${isoSeconds(next.cursor)} could not be stored: set aside in rejected_tickets with the error`,
        );
      }
      state.pages++;
      pagesThisRun++;
    }
    state.cursor = next.cursor;
    state.pageDoneAt = storedAt ?? result.completedAt;
    if (endOfStream) state.completeThroughMs = result.requestedAt + (state.zendeskClockOffsetMs ?? 0);
    if (api === 'cursor') state.afterCursor = next.afterCursor;
    state.lastPageSize = result.rows.length;
    state.lastError = null;
    state.consecutiveFailures = 0;
    state.notBefore = 0;
    if (api !== 'exports') growPerPage();
    cursorBusy = false;
    applyPendingReset();
    publishSearchAttributes();
  }

  function nextRequest(): FetchPageInput & { perPage?: number } {
    if (api === 'exports') return { account: input.account, startTime: state.cursor };
    const common = {
      account: input.account,
      perPage: state.perPage ?? settings.perPage,
      ...(input.include?.length ? { include: input.include } : {}),
      ...(input.excludeDeleted ? { excludeDeleted: true } : {}),
    };
    if (api === 'incremental' && state.trap) {
      const { startTime, afterCursor } = state.trap;
      return { ...common, api: 'cursor', startTime, ...(afterCursor ? { cursor: afterCursor } : {}) };
    }
    if (api === 'cursor' && state.afterCursor) {
      return { ...common, api, startTime: state.cursor, cursor: state.afterCursor };
    }
    return { ...common, api, startTime: state.cursor };
  }

  /** Where the export stands once this page is stored; also updates the trap and caught-up flags. */
  function afterPage(
    request: FetchPageInput,
    page: Extract<FetchPageResult, { kind: 'page' }>,
  ): { cursor: number; afterCursor: string | null } {
    const newest = page.rows.reduce((max, row) => Math.max(max, row.generated_timestamp), 0);
    if (api === 'exports') {
      const advance = advanceCursor({
        startTime: request.startTime,
        endTime: page.endTime,
        rowCount: page.rows.length,
        pageSize: settings.pageSize,
        newest,
      });
      if (advance.warning) addWarning(advance.warning);
      return { cursor: advance.cursor, afterCursor: null };
    }
    state.caughtUp = page.endOfStream ?? false;
    if (api === 'cursor') {
      const previous = state.afterCursor ?? null;
      const afterCursor = page.afterCursor ?? previous;
      if (previous !== null && afterCursor === previous && page.rows.length > 0 && !state.caughtUp) {
        addWarning(
          `after_cursor did not advance with ${page.rows.length} tickets still coming: waiting the poll interval`,
        );
        state.caughtUp = true;
      }
      return { cursor: Math.max(state.cursor, newest), afterCursor };
    }
    if (state.trap) {
      // Inside a crowded second, paged by cursor: back to start_time once a later second shows up.
      state.trap.afterCursor = page.afterCursor ?? state.trap.afterCursor;
      if (newest > state.trap.startTime) {
        state.trap = null;
        return { cursor: newest, afterCursor: null };
      }
      return { cursor: state.cursor, afterCursor: null };
    }
    const perPage = request.perPage ?? settings.perPage;
    const end = page.rows.length > 0 ? pageEnd(page.endTime, newest) : { endTime: page.endTime };
    if (end.warning) addWarning(end.warning);
    const endTime = end.endTime;
    if (page.rows.length >= perPage && endTime === request.startTime) {
      addWarning(
        `a full page of ${page.rows.length} tickets shares generated_timestamp ${request.startTime} ` +
          `(${isoSeconds(request.startTime)}): reading that second through the cursor endpoint`,
      );
      state.trap = { startTime: request.startTime, afterCursor: null };
      state.caughtUp = false;
      return { cursor: state.cursor, afterCursor: null };
    }
    if (page.rows.length === 0 || endTime === null) return { cursor: request.startTime, afterCursor: null };
    if (endTime < request.startTime) {
      addWarning(`end_time ${endTime} is before start_time ${request.startTime}: cursor kept`);
      return { cursor: request.startTime, afterCursor: null };
    }
    return { cursor: endTime, afterCursor: null };
  }

  /** An operator's reset. */
  function moveCursor(startTime: number): void {
    if (interruptible) state.resetToSave = true;
    state.cursor = startTime;
    state.progressFrom = { cursor: startTime, atMs: Date.now(), tickets: state.ticketsStored };
    state.completeThroughMs = undefined;
    state.afterCursor = null;
    state.trap = null;
    state.caughtUp = false;
  }

  function applyPendingReset(): void {
    if (pendingReset === undefined) return;
    moveCursor(pendingReset);
    pendingReset = undefined;
    publishSearchAttributes();
  }

  /** The page stays in workflow memory until a persist succeeds: the cursor never passes unstored rows. */
  async function persistUntilStored(
    rows: TicketRow[],
    fieldHeaders: Record<string, string>,
    next: { cursor: number; afterCursor: string | null },
    sideloads: Record<string, SideloadRecord[]> | undefined,
  ): Promise<PersistOutput | undefined> {
    const checkpoint = checkpointAt(next);
    const tickets = `${rows.length.toLocaleString('en-US')} ticket${rows.length === 1 ? '' : 's'}`;
    const summary = `persist ${tickets}, then cursor ${isoSeconds(next.cursor)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        showDetails(summary);
        return await persist.executeWithOptions({ summary }, [
          { account: input.account, rows, fieldHeaders, ...checkpoint, ...(sideloads ? { sideloads } : {}) },
        ]);
      } catch (err) {
        state.lastError = `persist failed: ${describeFailure(err)}`;
        phase = 'backoff';
        const backoffMs = interruptible ? sinkBackoffMs(attempt) : failureBackoffMs(attempt, settings.idleGapMs);
        nextCall = Date.now() + backoffMs;
        const backoff = `persist failed: retry in ${seconds(backoffMs / 1000)}`;
        showDetails(backoff);
        if (interruptible) {
          const givesWay = () => state.paused || pendingReset !== undefined || workflowInfo().continueAsNewSuggested;
          if (givesWay()) return undefined;
          const seen = operatorMessages;
          await condition(() => operatorMessages !== seen, backoffMs, { summary: backoff });
          if (givesWay()) return undefined;
        } else await sleep(backoffMs, { summary: backoff });
        phase = 'persisting';
      }
    }
  }

  function checkpointAt(next: { cursor: number; afterCursor: string | null }) {
    return api === 'exports' ? { cursor: next.cursor } : { ...next, api };
  }

  /** Writes an operator's reset to the sink's checkpoint, so a stop and a start right after it resume from there. */
  async function saveResetCheckpoint(): Promise<void> {
    state.resetToSave = false;
    const summary = `checkpoint the reset: cursor ${isoSeconds(state.cursor)}`;
    showDetails(summary);
    try {
      await persist.executeWithOptions({ summary }, [
        {
          account: input.account,
          rows: [],
          fieldHeaders: {},
          ...checkpointAt({ cursor: state.cursor, afterCursor: null }),
        },
      ]);
    } catch (err) {
      addWarning(
        `the reset's checkpoint could not be written (${describeFailure(err)}): the next stored page writes it`,
      );
    }
  }

  /** The first cursor's recovery point: waits for a sink that is down, unless an operator's reset gives the cursor. */
  async function loadStoredCheckpoint(): Promise<StoredCheckpoint | null> {
    if (!interruptible) return loadCheckpoint(input.account);
    for (let attempt = 1; ; attempt++) {
      try {
        const checkpoint = await loadCheckpoint(input.account);
        state.lastError = null;
        return checkpoint;
      } catch (err) {
        state.lastError = `reading the checkpoint failed: ${describeFailure(err)}`;
        phase = 'backoff';
        const backoffMs = sinkBackoffMs(attempt);
        nextCall = Date.now() + backoffMs;
        const summary = `checkpoint read failed: retry in ${seconds(backoffMs / 1000)}`;
        showDetails(summary);
        const seen = operatorMessages;
        await condition(() => operatorMessages !== seen, backoffMs, { summary });
        if (pendingReset !== undefined) return null;
        phase = 'starting';
      }
    }
  }

  /** After a good page: per_page back towards the configured size (a 504 halved it). */
  function growPerPage(): void {
    if (!interruptible) {
      state.perPage = settings.perPage;
      return;
    }
    const grown = perPageAfterGoodPage(
      state.perPage ?? settings.perPage,
      settings.perPage,
      state.goodPagesAtPerPage ?? 0,
    );
    state.perPage = grown.perPage;
    state.goodPagesAtPerPage = grown.goodPages;
  }
}

/** A timer's summary: which pacing rule it waits for. */
function waitSummary(phase: ExportPhase, rule: PacingRule, intervalMs: number, waitMs: number): string {
  const wait = seconds(Math.ceil(waitMs / 1000));
  if (phase === 'rate_limited') return `Retry-After ${wait}`;
  if (phase === 'backoff') return `backoff after a failure: ${wait}`;
  switch (rule) {
    case 'interval':
      return `pacing: ${seconds(intervalMs / 1000)} between calls`;
    case 'start_age':
      return `start_time too young for Zendesk: ${wait}`;
    case 'not_before':
      return `Retry-After or backoff: ${wait}`;
    case 'now':
      return 'next call';
  }
}

/** A fetchPage's summary: the request it sends. */
function describeRequest(request: FetchPageInput): string {
  const endpoint = request.api ?? 'exports';
  if (request.cursor !== undefined) return `fetch ${endpoint} after_cursor ${request.cursor.slice(0, 24)}…`;
  return `fetch ${endpoint} start_time=${request.startTime} (${isoSeconds(request.startTime)})`;
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

function resolveSettings(input: ExportInput, api: ExportApi) {
  const warnings: string[] = [];
  const defaults = {
    ...DEFAULTS,
    minStartAgeSeconds: api === 'exports' ? DEFAULTS.minStartAgeSeconds : INCREMENTAL_MIN_START_AGE_SECONDS,
  };
  function valid(name: keyof typeof DEFAULTS, min: number, max = Infinity): number {
    const value = input[name] ?? defaults[name];
    if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
    warnings.push(`input ${name}=${JSON.stringify(value)} is invalid; using ${defaults[name]}`);
    return defaults[name];
  }
  const pollIntervalMs = valid('pollIntervalSeconds', 0) * 1000;
  return {
    pollIntervalMs,
    // Caught up, or after a failure: at least 100 ms between calls, whatever the interval (0 included).
    idleGapMs: Math.max(pollIntervalMs, MIN_IDLE_GAP_MS),
    minStartAgeMs: valid('minStartAgeSeconds', 0) * 1000,
    pagesPerRun: Math.floor(valid('pagesPerRun', 1)),
    pageSize: Math.floor(valid('pageSize', 1)),
    requestsPerMinute: valid('requestsPerMinute', 0.1, 6000),
    perPage: Math.floor(valid('perPage', 1, 1000)),
    warnings,
  };
}

function readPublishedSearchAttributes() {
  const attributes = workflowInfo().typedSearchAttributes;
  const cursor = attributes.get(ZENDESK_CURSOR);
  return {
    account: attributes.get(ZENDESK_ACCOUNT),
    cursor: cursor ? Math.floor(cursor.getTime() / 1000) : undefined,
    paused: attributes.get(ZENDESK_PAUSED),
    state: attributes.get(ZENDESK_STATE) as ExportStateName | undefined,
  };
}

function isPermanent(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return false;
  // A transient failure the activity stopped retrying (the next retry was the workflow's to wait for) is not permanent.
  return cause.type === PERMANENT_FAILURE || (cause.nonRetryable === true && cause.type !== TRANSIENT_FAILURE);
}

/** The earliest retry a failed fetchPage asked for (its pacing or a 503's Retry-After); 0 when none. */
function retryNotBefore(err: unknown): number {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return 0;
  const detail = cause.details?.[0] as { retryNotBefore?: unknown } | undefined;
  return typeof detail?.retryNotBefore === 'number' ? detail.retryNotBefore : 0;
}

function describeFailure(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
