import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export interface ExportInput {
  account: string;
  /** An explicit first cursor (epoch seconds): wins over the checkpoint stored in the sink. */
  startTime?: number;
  /** The first cursor when neither startTime nor a stored checkpoint exists. Default 0. */
  defaultStartTime?: number;
  /** Minimum gap between two calls to Zendesk. Default 300. */
  pollIntervalSeconds?: number;
  /** Zendesk rejects a start_time younger than this. Default 300. */
  minStartAgeSeconds?: number;
  /** Continue-as-new after this many pages in one run. Default 500. */
  pagesPerRun?: number;
  /** Rows in a full page (1000 on the export endpoint): a full page at one timestamp is stepped past. */
  pageSize?: number;
  /** Carried over continue-as-new; absent on a fresh start. */
  state?: ExportState;
}

export interface ExportState {
  cursor: number;
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
}

export type ExportPhase =
  | 'starting'
  | 'waiting'
  | 'fetching'
  | 'persisting'
  | 'rate_limited'
  | 'backoff'
  | 'paused'
  | 'blocked'
  | 'continuing_as_new';

export interface ExportStatus {
  account: string;
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
  lastError: string | null;
  warnings: string[];
  lagSeconds: number;
  pollIntervalSeconds: number;
  minStartAgeSeconds: number;
  historyLength: number;
  asOf: string;
}

export interface ResetCursorRequest {
  /** The new cursor, epoch seconds: a whole number, not in the future. */
  startTime: number;
}

export interface ResetCursorResult {
  previousCursor: number;
  cursor: number;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const resetCursorSignal = defineSignal<[ResetCursorRequest]>('resetCursor');
export const resetCursorUpdate = defineUpdate<ResetCursorResult, [ResetCursorRequest]>('resetCursor');
export const statusQuery = defineQuery<ExportStatus>('status');
