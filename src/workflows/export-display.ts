import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { isoMillis, isoSeconds } from '../common/time-text';
import { completeThrough } from '../common/zendesk-clock';
import { ExportApi, ExportStateName, ZENDESK_ACCOUNT, ZENDESK_CURSOR, ZENDESK_PAUSED, ZENDESK_STATE } from '../shared';
import { currentDetails } from './details';
import type { ExportInput, ExportPhase, ExportState, ExportStatus, StreamStatus } from './messages';
import type { ExportSettings } from './settings';

/** A cursor that merely moved with a stored page is published at most this often: each upsert is a billed action. */
const CURSOR_PUBLISH_INTERVAL_MS = 60_000;

/** What the display reads of a run; it writes none of it. */
export interface DisplayedRun {
  readonly input: ExportInput;
  readonly api: ExportApi;
  readonly settings: ExportSettings;
  readonly state: ExportState;
  readonly phase: ExportPhase;
  readonly nextCall: number | null;
  /** A reset waiting for the cursor to be free: shown as the cursor already. */
  readonly pendingReset: number | undefined;
  lagSeconds(): number;
  /** One row per stream around the ticket read (the tickets stream is the rest of the details). */
  aroundStatuses(): StreamStatus[];
}

/**
 * What an export shows: the status query's answer, the search attributes list filters use, and the Web UI's current
 * details. It keeps only what it last published.
 */
export class ExportDisplay {
  private published: { account?: string; cursor?: number; paused?: boolean; state?: ExportStateName } = {};
  private cursorPublishedAt = -Infinity;

  constructor(private readonly run: DisplayedRun) {}

  /** What an earlier run of this workflow published (carried over continue-as-new by the server). */
  loadPublished(): void {
    const attributes = workflowInfo().typedSearchAttributes;
    const cursor = attributes.get(ZENDESK_CURSOR);
    this.published = {
      account: attributes.get(ZENDESK_ACCOUNT),
      cursor: cursor ? Math.floor(cursor.getTime() / 1000) : undefined,
      paused: attributes.get(ZENDESK_PAUSED),
      state: attributes.get(ZENDESK_STATE) as ExportStateName | undefined,
    };
  }

  status(): ExportStatus {
    const { state, settings, input, api, pendingReset, phase, nextCall } = this.run;
    const shownCursor = pendingReset ?? state.cursor;
    return {
      account: input.account,
      api,
      state: this.exportState(),
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
      lagSeconds: this.run.lagSeconds(),
      completeThrough: pendingReset ?? completeThrough(state),
      pollIntervalSeconds: settings.pollIntervalMs / 1000,
      minStartAgeSeconds: settings.minStartAgeMs / 1000,
      historyLength: workflowInfo().historyLength,
      asOf: new Date().toISOString(),
    };
  }

  /** Coarsely what the export does, for list filters (`ZendeskState = "blocked"`). */
  exportState(): ExportStateName {
    const { state, settings, api, phase } = this.run;
    if (state.paused) return 'paused';
    // A stream blocked by a permanent error (a role without access to users, say) needs an operator as much.
    if (state.blocked || this.run.aroundStatuses().some((stream) => stream.blocked)) return 'blocked';
    if (phase === 'rate_limited' || phase === 'backoff') return phase;
    const caughtUp = api === 'exports' ? state.calls > 0 && state.lastPageSize < settings.pageSize : state.caughtUp;
    return caughtUp ? 'caught_up' : 'catching_up';
  }

  /**
   * Upserts the search attributes that changed. A cursor that only moved forward with a stored page waits until a
   * minute has passed since it was last published, judged at `at`, a time the history recorded (the stored page's),
   * never a workflow task's own timestamp; or until something else changes. `cursorNow` (the first cursor, an
   * operator's reset) publishes it at once. `status` always shows the exact cursor.
   */
  publishSearchAttributes({ cursorNow = false, at }: { cursorNow?: boolean; at?: number } = {}): void {
    const { input, state, pendingReset } = this.run;
    const { published } = this;
    const cursor = pendingReset ?? state.cursor;
    const now = this.exportState();
    const accountChanged = published.account !== input.account;
    const pausedChanged = published.paused !== state.paused;
    const withState = published.state !== now && input.stateSearchAttribute !== false;
    const cursorDue = at !== undefined && at - this.cursorPublishedAt >= CURSOR_PUBLISH_INTERVAL_MS;
    const withCursor =
      published.cursor !== cursor && (cursorNow || accountChanged || pausedChanged || withState || cursorDue);
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

  /** The Web UI's "current details": which export, where it stands, what it does now. */
  showDetails(waitingFor?: string): void {
    const { input, api, state, settings, pendingReset, phase, nextCall } = this.run;
    setCurrentDetails(
      currentDetails({
        account: input.account,
        api,
        pollIntervalSeconds: settings.pollIntervalMs / 1000,
        minStartAgeSeconds: settings.minStartAgeMs / 1000,
        cursor: pendingReset ?? state.cursor,
        ticketsStored: state.ticketsStored,
        pages: state.pages,
        lagSeconds: this.run.lagSeconds(),
        phase,
        waitingFor,
        nextCallAt: nextCall,
        lastError: state.lastError,
        warnings: state.warnings.length,
        ticketsRejected: state.ticketsRejected ?? 0,
        streams: this.run.aroundStatuses(),
      }),
    );
  }
}
