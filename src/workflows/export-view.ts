import { log, patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ExportApi, ExportStateName, ZENDESK_ACCOUNT, ZENDESK_CURSOR, ZENDESK_PAUSED, ZENDESK_STATE } from '../shared';
import { currentDetails } from './details';
import type { ExportInput, ExportPhase, ExportState, ExportStatus } from './messages';
import {
  completeThrough,
  exportLagSeconds,
  isoMillis,
  isoSeconds,
  MAX_CLOCK_OFFSET_MS,
  plausibleClockOffset,
  usableClockOffset,
} from './pacing';
import { ExportSettings, resolveSettings } from './settings';

const MAX_WARNINGS = 20;
/** A clock skew this large is worth an operator's attention (NTP on the worker's host, usually). */
const CLOCK_WARNING_MS = 60_000;
const STATE_SEARCH_ATTRIBUTE = 'state-search-attribute';
/** Runs that publish a cursor that merely moved (a page stored) at most once a minute: each upsert is a billed action. */
const CURSOR_UPSERT_THROTTLED = 'cursor-upsert-throttled';
const CURSOR_PUBLISH_INTERVAL_MS = 60_000;

/**
 * What an export run holds and shows: its state (carried over continue-as-new), its status, the search attributes and
 * the Web UI's current details. ExportRun adds the loop's steps and the operators' messages.
 */
export class ExportView {
  readonly api: ExportApi;
  protected readonly settings: ExportSettings;
  protected readonly state: ExportState;
  protected phase: ExportPhase = 'starting';
  protected nextCall: number | null = null;
  /** The cursor is being worked on (first load, a fetch, a persist): a reset then waits in `pendingReset`. */
  protected cursorBusy = false;
  protected pendingReset: number | undefined;
  protected pagesThisRun = 0;
  /** Counts operator messages (pause, resume, reset): a wait that sees it change ends and the loop re-decides. */
  protected operatorMessages = 0;
  protected published: { account?: string; cursor?: number; paused?: boolean; state?: ExportStateName } = {};
  private cursorPublishedAt = -Infinity;

  constructor(
    protected readonly input: ExportInput,
    protected readonly interruptible: boolean,
  ) {
    const resolved = resolveSettings(input, input.state?.api ?? input.api ?? 'exports');
    this.settings = resolved.settings;
    this.state = input.state ?? freshState();
    this.api = this.state.api ?? input.api ?? 'exports';
    this.state.api = this.api;
    for (const warning of resolved.warnings) this.addWarning(warning);
  }

  status(): ExportStatus {
    const { state, settings } = this;
    const shownCursor = this.pendingReset ?? state.cursor;
    return {
      account: this.input.account,
      api: this.api,
      state: this.exportState(),
      progressFrom: state.progressFrom ?? null,
      afterCursor: state.afterCursor ?? null,
      perPage: state.perPage ?? settings.perPage,
      caughtUp: state.caughtUp ?? false,
      cursor: shownCursor,
      cursorIso: isoSeconds(shownCursor),
      phase: this.phase,
      paused: state.paused,
      blocked: state.blocked,
      nextCallAt: this.nextCall === null ? null : (isoMillis(this.nextCall) ?? null),
      pages: state.pages,
      ticketsStored: state.ticketsStored,
      calls: state.calls,
      rateLimited: state.rateLimited,
      lastPageSize: state.lastPageSize,
      ticketsRejected: state.ticketsRejected ?? 0,
      auth: state.auth ?? null,
      lastError: state.lastError,
      warnings: [...state.warnings],
      lagSeconds: this.lagSeconds(),
      completeThrough: this.pendingReset ?? completeThrough(state),
      pollIntervalSeconds: settings.pollIntervalMs / 1000,
      minStartAgeSeconds: settings.minStartAgeMs / 1000,
      historyLength: workflowInfo().historyLength,
      asOf: new Date().toISOString(),
    };
  }

  protected addWarning(message: string): void {
    const { warnings } = this.state;
    warnings.push(`${new Date().toISOString()} ${message}`);
    if (warnings.length > MAX_WARNINGS) warnings.splice(0, warnings.length - MAX_WARNINGS);
    log.warn(message, { account: this.input.account });
  }

  /** Now on Zendesk's clock, which judges start_time ages and dates the tickets. */
  protected zendeskNow(): number {
    return Date.now() + (this.state.zendeskClockOffsetMs ?? 0);
  }

  /** How far behind Zendesk the sink is, on Zendesk's clock (a pending reset counts as done). */
  protected lagSeconds(): number {
    return exportLagSeconds(this.zendeskNow(), this.pendingReset ?? completeThrough(this.state));
  }

  protected noteZendeskClock(measuredMs: number | undefined): void {
    if (measuredMs === undefined) return;
    const previous = this.state.zendeskClockOffsetMs ?? 0;
    if (!plausibleClockOffset(measuredMs)) {
      this.addWarning(
        `Zendesk's Date header is ${Math.round(Math.abs(measuredMs) / 86_400_000)} days off the worker's clock: ` +
          `ignored (offsets beyond ${MAX_CLOCK_OFFSET_MS / 3_600_000} h are taken for a broken header)`,
      );
    }
    const offset = usableClockOffset(measuredMs, previous);
    this.state.zendeskClockOffsetMs = offset;
    if (Math.abs(offset) >= CLOCK_WARNING_MS && Math.abs(offset - previous) >= CLOCK_WARNING_MS) {
      this.addWarning(
        `Zendesk's clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'ahead of' : 'behind'} ` +
          "the worker's: start_time ages and lag are counted on Zendesk's clock",
      );
    }
  }

  /** Coarsely what the export does, for list filters (`ZendeskState = "blocked"`). */
  protected exportState(): ExportStateName {
    const { state, settings, api } = this;
    if (state.paused) return 'paused';
    if (state.blocked) return 'blocked';
    if (this.phase === 'rate_limited' || this.phase === 'backoff') return this.phase;
    const caughtUp = api === 'exports' ? state.calls > 0 && state.lastPageSize < settings.pageSize : state.caughtUp;
    return caughtUp ? 'caught_up' : 'catching_up';
  }

  /**
   * Upserts the search attributes that changed. A cursor that only moved forward with a stored page waits until a
   * minute has passed since it was last published, or until something else changes; `cursorNow` (the first cursor, an
   * operator's reset) publishes it at once. `status` always shows the exact cursor.
   */
  protected publishSearchAttributes({ cursorNow = false, at }: { cursorNow?: boolean; at?: number } = {}): void {
    const { input, state, published } = this;
    const cursor = this.pendingReset ?? state.cursor;
    const now = this.exportState();
    const accountChanged = published.account !== input.account;
    const pausedChanged = published.paused !== state.paused;
    // Histories recorded before ZendeskState existed replay without it.
    const withState =
      published.state !== now && input.stateSearchAttribute !== false && patched(STATE_SEARCH_ATTRIBUTE);
    const withCursor =
      published.cursor !== cursor &&
      (cursorNow || accountChanged || pausedChanged || withState || this.cursorPublishDue(at));
    const updates = [];
    if (accountChanged) updates.push({ key: ZENDESK_ACCOUNT, value: input.account });
    if (withCursor) updates.push({ key: ZENDESK_CURSOR, value: new Date(cursor * 1000) });
    if (pausedChanged) updates.push({ key: ZENDESK_PAUSED, value: state.paused });
    if (withState) updates.push({ key: ZENDESK_STATE, value: now });
    if (updates.length === 0) return;
    upsertSearchAttributes(updates);
    if (withCursor && at !== undefined) this.cursorPublishedAt = at;
    this.published = {
      account: input.account,
      cursor: withCursor ? cursor : published.cursor,
      paused: state.paused,
      state: withState ? now : published.state,
    };
  }

  /**
   * Whether a cursor that only moved is due, judged at `at`, a time the history recorded (a stored page's): never at a
   * workflow task's own timestamp. Without such a time it waits for the next stored page or another change.
   */
  private cursorPublishDue(at: number | undefined): boolean {
    if (!patched(CURSOR_UPSERT_THROTTLED)) return true;
    return at !== undefined && at - this.cursorPublishedAt >= CURSOR_PUBLISH_INTERVAL_MS;
  }

  /** The Web UI's "current details": which export, where it stands, what it does now. */
  protected showDetails(waitingFor?: string): void {
    const { state, settings } = this;
    setCurrentDetails(
      currentDetails({
        account: this.input.account,
        api: this.api,
        pollIntervalSeconds: settings.pollIntervalMs / 1000,
        minStartAgeSeconds: settings.minStartAgeMs / 1000,
        cursor: this.pendingReset ?? state.cursor,
        ticketsStored: state.ticketsStored,
        pages: state.pages,
        lagSeconds: this.lagSeconds(),
        phase: this.phase,
        waitingFor,
        nextCallAt: this.nextCall,
        lastError: state.lastError,
        warnings: state.warnings.length,
        ticketsRejected: state.ticketsRejected ?? 0,
      }),
    );
  }
}

export function readPublishedSearchAttributes() {
  const attributes = workflowInfo().typedSearchAttributes;
  const cursor = attributes.get(ZENDESK_CURSOR);
  return {
    account: attributes.get(ZENDESK_ACCOUNT),
    cursor: cursor ? Math.floor(cursor.getTime() / 1000) : undefined,
    paused: attributes.get(ZENDESK_PAUSED),
    state: attributes.get(ZENDESK_STATE) as ExportStateName | undefined,
  };
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
