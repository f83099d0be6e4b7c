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
import type { FetchPageInput, FetchPageResult } from '../activities/types';
import type { TicketRow } from '../sinks/sink';
import {
  ExportApi,
  ExportStateName,
  PERMANENT_FAILURE,
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
  isoSeconds,
  PacingRule,
  nextCallAt,
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

const { persist, loadCheckpoint } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
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

/** One per Zendesk account, forever: wait until the API allows a call, fetch a page, store it, advance. */
export async function ticketExportWorkflow(input: ExportInput): Promise<void> {
  const badInput = undecodableReason(input);
  if (badInput !== undefined) {
    throw ApplicationFailure.nonRetryable(`the workflow input could not be decoded (${badInput})`, 'BadWorkflowInput');
  }
  const settings = resolveSettings(input, input.state?.api ?? input.api ?? 'exports');
  const state: ExportState = input.state ?? freshState();
  const api: ExportApi = state.api ?? input.api ?? 'exports';
  state.api = api;
  let phase: ExportPhase = 'starting';
  let nextCall: number | null = null;
  let cursorBusy = false;
  let pendingReset: number | undefined;
  let pagesThisRun = 0;
  let notBefore = 0;
  let pollNowRequested = false;
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
    const offset = usableClockOffset(measuredMs);
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
    publishSearchAttributes();
    return previous;
  }

  // A signal name this workflow does not know (a typo in `temporal workflow signal`) is reported, not dropped silently.
  setDefaultSignalHandler((signalName) => addWarning(`unknown signal "${signalName}" ignored`));
  setHandler(pauseSignal, () => {
    state.paused = true;
    publishSearchAttributes();
  });
  setHandler(pollNowSignal, () => {
    pollNowRequested = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    state.blocked = false;
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
      nextCallAt: nextCall === null ? null : new Date(nextCall).toISOString(),
      pages: state.pages,
      ticketsStored: state.ticketsStored,
      calls: state.calls,
      rateLimited: state.rateLimited,
      lastPageSize: state.lastPageSize,
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
    const withState = published.state !== now && patched(STATE_SEARCH_ATTRIBUTE);
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
      }),
    );
  }
  if (!input.state) {
    cursorBusy = true;
    const checkpoint = input.startTime === undefined ? await loadCheckpoint(input.account) : null;
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
    if (state.paused) {
      phase = 'paused';
      nextCall = null;
      publishSearchAttributes();
      showDetails('until resumed');
      await condition(() => !state.paused);
      continue;
    }
    if (state.blocked) {
      phase = 'blocked';
      nextCall = Date.now() + 3_600_000;
      publishSearchAttributes();
      const summary = `blocked: retry in ${BLOCKED_RETRY} unless resumed`;
      showDetails(summary);
      const cleared = await condition(() => !state.blocked || state.paused, BLOCKED_RETRY, { summary });
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
      await condition(
        () => pollNowRequested || state.paused || state.blocked,
        Math.max(MIN_TIMER_MS, Math.ceil(nextCall - Date.now())),
        { summary },
      );
      pollNowRequested = false;
      if (state.paused || state.blocked) continue;
    }

    const request = nextRequest();
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
      await sleep(waitMs, { summary });
      if (state.paused || state.blocked) continue;
    }
    state.pageDoneAt = undefined;

    phase = 'fetching';
    nextCall = null;
    cursorBusy = true;
    let result: FetchPageResult;
    try {
      const summary = describeRequest(request);
      showDetails(summary);
      result = await fetchPage.executeWithOptions({ summary }, [request]);
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
        notBefore = Date.now() + failureBackoffMs(state.consecutiveFailures, settings.idleGapMs);
        phase = 'backoff';
      }
      continue;
    }
    // Our own worker wrote it, so this cannot happen short of a corrupted history: fail the task, as without the marker.
    const unreadable = undecodableReason(result);
    if (unreadable !== undefined) throw new Error(`fetchPage result: ${unreadable}`);
    state.calls++;
    state.lastCallAt = result.requestedAt;
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
        addWarning(`504 from Zendesk at per_page=${request.perPage}: asking for ${state.perPage} next`);
      } else {
        addWarning(`the cursor was rejected (${result.message}): restarting from start_time ${state.cursor}`);
        if (state.trap) state.trap.afterCursor = null;
        else state.afterCursor = null;
      }
      applyPendingReset();
      continue;
    }

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
      const stored = await persistUntilStored(result.rows, result.fieldHeaders, next);
      storedAt = stored.completedAt;
      state.ticketsStored += stored.written;
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
    notBefore = 0;
    if (api !== 'exports') state.perPage = settings.perPage;
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
    if (page.rows.length >= perPage && page.endTime === request.startTime) {
      addWarning(
        `a full page of ${page.rows.length} tickets shares generated_timestamp ${request.startTime} ` +
          `(${isoSeconds(request.startTime)}): reading that second through the cursor endpoint`,
      );
      state.trap = { startTime: request.startTime, afterCursor: null };
      state.caughtUp = false;
      return { cursor: state.cursor, afterCursor: null };
    }
    if (page.rows.length === 0 || page.endTime === null) return { cursor: request.startTime, afterCursor: null };
    if (page.endTime < request.startTime) {
      addWarning(`end_time ${page.endTime} is before start_time ${request.startTime}: cursor kept`);
      return { cursor: request.startTime, afterCursor: null };
    }
    return { cursor: page.endTime, afterCursor: null };
  }

  function moveCursor(startTime: number): void {
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
  ) {
    const checkpoint = api === 'exports' ? { cursor: next.cursor } : { ...next, api };
    const tickets = `${rows.length.toLocaleString('en-US')} ticket${rows.length === 1 ? '' : 's'}`;
    const summary = `persist ${tickets}, then cursor ${isoSeconds(next.cursor)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        showDetails(summary);
        return await persist.executeWithOptions({ summary }, [
          { account: input.account, rows, fieldHeaders, ...checkpoint },
        ]);
      } catch (err) {
        state.lastError = `persist failed: ${describeFailure(err)}`;
        phase = 'backoff';
        const backoffMs = failureBackoffMs(attempt, settings.idleGapMs);
        nextCall = Date.now() + backoffMs;
        const backoff = `persist failed: retry in ${seconds(backoffMs / 1000)}`;
        showDetails(backoff);
        await sleep(backoffMs, { summary: backoff });
        phase = 'persisting';
      }
    }
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
  return cause instanceof ApplicationFailure && (cause.nonRetryable || cause.type === PERMANENT_FAILURE);
}

function describeFailure(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
