import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TicketRow } from '../sinks/sink';
import { PERMANENT_FAILURE, ZENDESK_ACCOUNT, ZENDESK_CURSOR, ZENDESK_PAUSED } from '../shared';
import {
  ExportInput,
  ExportPhase,
  ExportState,
  ExportStatus,
  pauseSignal,
  resetCursorSignal,
  resetCursorUpdate,
  resumeSignal,
  statusQuery,
} from './messages';
import { advanceCursor, failureBackoffMs, isoSeconds, nextCallAt, resetCursorProblem } from './pacing';

const { fetchPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
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
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

const DEFAULTS = { pollIntervalSeconds: 300, minStartAgeSeconds: 300, pagesPerRun: 500, pageSize: 1000 };
const BLOCKED_RETRY = '1 hour';
const MAX_WARNINGS = 20;
const MIN_TIMER_MS = 1;

/** One per Zendesk account, forever: wait until the API allows a call, fetch a page, store it, advance. */
export async function ticketExportWorkflow(input: ExportInput): Promise<void> {
  const settings = resolveSettings(input);
  const state: ExportState = input.state ?? freshState();
  let phase: ExportPhase = 'starting';
  let nextCall: number | null = null;
  let cursorBusy = false;
  let pendingReset: number | undefined;
  let pagesThisRun = 0;
  let notBefore = 0;
  let published: { account?: string; cursor?: number; paused?: boolean } = {};
  for (const warning of settings.warnings) addWarning(warning);

  function addWarning(message: string): void {
    state.warnings.push(`${new Date().toISOString()} ${message}`);
    if (state.warnings.length > MAX_WARNINGS) state.warnings.splice(0, state.warnings.length - MAX_WARNINGS);
    log.warn(message, { account: input.account });
  }

  // A reset that arrives while the cursor is being worked on (first load, a fetch) is applied afterwards, so it
  // wins over that page's cursor.
  function requestReset(startTime: number): number {
    const previous = pendingReset ?? state.cursor;
    if (cursorBusy) pendingReset = startTime;
    else state.cursor = startTime;
    publishSearchAttributes();
    return previous;
  }

  setHandler(pauseSignal, () => {
    state.paused = true;
    publishSearchAttributes();
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    state.blocked = false;
    publishSearchAttributes();
  });
  setHandler(resetCursorSignal, (request) => {
    const problem = resetCursorProblem(request, Date.now());
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
        const problem = resetCursorProblem(request, Date.now());
        if (problem) throw new Error(problem);
      },
    },
  );
  setHandler(statusQuery, (): ExportStatus => {
    const now = Date.now();
    const shownCursor = pendingReset ?? state.cursor;
    return {
      account: input.account,
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
      lagSeconds: Math.max(0, Math.floor(now / 1000) - shownCursor),
      pollIntervalSeconds: settings.pollIntervalMs / 1000,
      minStartAgeSeconds: settings.minStartAgeMs / 1000,
      historyLength: workflowInfo().historyLength,
      asOf: new Date(now).toISOString(),
    };
  });

  function publishSearchAttributes(): void {
    const cursor = pendingReset ?? state.cursor;
    const updates = [];
    if (published.account !== input.account) updates.push({ key: ZENDESK_ACCOUNT, value: input.account });
    if (published.cursor !== cursor) updates.push({ key: ZENDESK_CURSOR, value: new Date(cursor * 1000) });
    if (published.paused !== state.paused) updates.push({ key: ZENDESK_PAUSED, value: state.paused });
    if (updates.length === 0) return;
    upsertSearchAttributes(updates);
    published = { account: input.account, cursor, paused: state.paused };
  }
  if (!input.state) {
    cursorBusy = true;
    state.cursor = input.startTime ?? (await loadCheckpoint(input.account)) ?? input.defaultStartTime ?? 0;
    cursorBusy = false;
    applyPendingReset();
  }
  published = readPublishedSearchAttributes();
  publishSearchAttributes();

  for (;;) {
    if (state.paused) {
      phase = 'paused';
      nextCall = null;
      await condition(() => !state.paused);
      continue;
    }
    if (state.blocked) {
      phase = 'blocked';
      nextCall = Date.now() + 3_600_000;
      const cleared = await condition(() => !state.blocked || state.paused, BLOCKED_RETRY);
      if (!cleared) state.blocked = false;
      continue;
    }
    if (pagesThisRun >= settings.pagesPerRun || workflowInfo().continueAsNewSuggested) {
      phase = 'continuing_as_new';
      await condition(allHandlersFinished);
      await continueAsNew<typeof ticketExportWorkflow>({ ...input, state });
    }

    const callAt = nextCallAt({
      nowMs: Date.now(),
      lastCallAt: state.lastCallAt,
      pollIntervalMs: settings.pollIntervalMs,
      cursor: state.cursor,
      minStartAgeMs: settings.minStartAgeMs,
      notBefore,
    });
    // Always a timer, even when the wait is already over, and no clock comparison after it fires: whether the
    // next command is a timer or an activity must not hinge on a workflow-task timestamp, which can differ
    // between a live run and a replay after a workflow task timed out.
    phase = notBefore >= callAt && notBefore > 0 ? 'backoff' : 'waiting';
    nextCall = callAt;
    await sleep(Math.max(MIN_TIMER_MS, Math.ceil(callAt - Date.now())));
    if (state.paused || state.blocked) continue;

    phase = 'fetching';
    nextCall = null;
    const startTime = state.cursor;
    cursorBusy = true;
    let result;
    try {
      result = await fetchPage({ account: input.account, startTime });
    } catch (err) {
      cursorBusy = false;
      state.lastCallAt = Date.now();
      applyPendingReset();
      if (isPermanent(err)) {
        state.blocked = true;
        state.lastError = describeFailure(err);
        log.error('Export blocked: waiting for resume', { account: input.account, error: state.lastError });
      } else {
        state.consecutiveFailures++;
        state.lastError = describeFailure(err);
        notBefore = Date.now() + failureBackoffMs(state.consecutiveFailures, settings.pollIntervalMs);
        phase = 'backoff';
      }
      continue;
    }
    state.calls++;
    state.lastCallAt = result.requestedAt;

    if (result.kind === 'rate_limited') {
      cursorBusy = false;
      applyPendingReset();
      state.rateLimited++;
      if (result.note) addWarning(result.note);
      phase = 'rate_limited';
      const retryAfterMs = result.retryAfterSeconds * 1000;
      nextCall = Date.now() + retryAfterMs;
      await sleep(retryAfterMs);
      continue;
    }
    if (result.kind === 'too_recent') {
      // The pacing interval, counted from this call, is the wait: "nothing new yet" is not an error.
      cursorBusy = false;
      applyPendingReset();
      continue;
    }

    const advance = advanceCursor({
      startTime,
      endTime: result.endTime,
      rowCount: result.rows.length,
      pageSize: settings.pageSize,
    });
    if (advance.warning) addWarning(advance.warning);
    if (result.foreignNextPage)
      addWarning(`next_page points to another origin and was ignored: ${result.foreignNextPage}`);
    if (result.rows.length > 0) {
      phase = 'persisting';
      const stored = await persistUntilStored(result.rows, result.fieldHeaders, advance.cursor);
      state.ticketsStored += stored;
      state.pages++;
      pagesThisRun++;
    }
    state.cursor = advance.cursor;
    state.lastPageSize = result.rows.length;
    state.lastError = null;
    state.consecutiveFailures = 0;
    notBefore = 0;
    cursorBusy = false;
    applyPendingReset();
    publishSearchAttributes();
  }

  function applyPendingReset(): void {
    if (pendingReset === undefined) return;
    state.cursor = pendingReset;
    pendingReset = undefined;
    publishSearchAttributes();
  }

  /** The page stays in workflow memory until a persist succeeds: the cursor never passes unstored rows. */
  async function persistUntilStored(rows: TicketRow[], fieldHeaders: Record<string, string>, cursor: number) {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await persist({ account: input.account, rows, fieldHeaders, cursor });
        return out.written;
      } catch (err) {
        state.lastError = `persist failed: ${describeFailure(err)}`;
        phase = 'backoff';
        const backoffMs = failureBackoffMs(attempt, settings.pollIntervalMs);
        nextCall = Date.now() + backoffMs;
        await sleep(backoffMs);
        phase = 'persisting';
      }
    }
  }
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

function resolveSettings(input: ExportInput) {
  const warnings: string[] = [];
  function positive(name: keyof typeof DEFAULTS, min: number): number {
    const value = input[name] ?? DEFAULTS[name];
    if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value;
    warnings.push(`input ${name}=${JSON.stringify(value)} is invalid; using ${DEFAULTS[name]}`);
    return DEFAULTS[name];
  }
  return {
    pollIntervalMs: positive('pollIntervalSeconds', 0.1) * 1000,
    minStartAgeMs: positive('minStartAgeSeconds', 0) * 1000,
    pagesPerRun: Math.floor(positive('pagesPerRun', 1)),
    pageSize: Math.floor(positive('pageSize', 1)),
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
