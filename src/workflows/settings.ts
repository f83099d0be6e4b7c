import type { ExportApi } from '../shared';

/**
 * The export's settings: defaults, ranges and per-endpoint rules, written once. The environment, the accounts file,
 * the CLI's flags and the workflow's input all take them from here. Plain values only: the workflow bundles it.
 */
export const EXPORT_DEFAULTS = {
  /** Seconds between two calls while catching up on the specified endpoint (Zendesk allows one call a minute). */
  pollIntervalSeconds: 300,
  pagesPerRun: 500,
  /** Rows of a full page on the specified endpoint. */
  pageSize: 1000,
  /** Incremental endpoints: calls per minute while catching up (30 with the High Volume add-on). */
  requestsPerMinute: 10,
  /** Incremental endpoints: rows asked for per page. */
  perPage: 1000,
  /** The users cursor export's own bucket: calls per minute (60 with the High Volume add-on). */
  usersRequestsPerMinute: 20,
  /** The account-wide budget (the reference lists): a small share of the smallest plan's 200 a minute. */
  accountRequestsPerMinute: 30,
  /** The reference lists are read again an hour after a refresh started. */
  referenceRefreshSeconds: 3600,
} as const;

/** Zendesk rejects a younger start_time: five minutes on the specified endpoint, one on the incremental ones. */
export function defaultMinStartAgeSeconds(api: ExportApi): number {
  return api === 'exports' ? 300 : 60;
}

/** Inclusive ranges of the numeric settings; the environment and the CLI may be stricter (see config.ts). */
export const EXPORT_RANGES = {
  pollIntervalSeconds: { min: 0 },
  minStartAgeSeconds: { min: 0 },
  pagesPerRun: { min: 1 },
  pageSize: { min: 1 },
  requestsPerMinute: { min: 0.1, max: 6000 },
  usersRequestsPerMinute: { min: 0.1, max: 6000 },
  accountRequestsPerMinute: { min: 0.1, max: 6000 },
  referenceRefreshSeconds: { min: 1 },
  perPage: { min: 1, max: 1000 },
} as const;

/** What an operator may set (environment, accounts file, CLI flags): calls at least 0.1 s apart. */
export const OPERATOR_RANGES = { ...EXPORT_RANGES, pollIntervalSeconds: { min: 0.1 } } as const;

/** Caught up, or after a failure: at least this long between calls, whatever the interval (0 included). */
export const MIN_IDLE_GAP_MS = 100;

export interface ExportSettings {
  pollIntervalMs: number;
  idleGapMs: number;
  minStartAgeMs: number;
  pagesPerRun: number;
  pageSize: number;
  requestsPerMinute: number;
  usersRequestsPerMinute: number;
  accountRequestsPerMinute: number;
  referenceRefreshMs: number;
  perPage: number;
}

/** How the tickets stream reads while it catches up: rows a full page holds, and the gap the pacing keeps after it. */
export interface CatchUpPacing {
  rowsPerCall: number;
  intervalMs: number;
}

/**
 * The tickets stream's pace while catching up: on the specified endpoint a full page of `pageSize` rows every poll
 * interval, on the incremental ones `perPage` rows at `requestsPerMinute`. The loop paces by it, and `start`'s
 * back-fill estimate is computed from it.
 */
export function catchUpPacing(
  api: ExportApi,
  settings: Pick<ExportSettings, 'pollIntervalMs' | 'pageSize' | 'requestsPerMinute' | 'perPage'>,
): CatchUpPacing {
  if (api === 'exports') return { rowsPerCall: settings.pageSize, intervalMs: settings.pollIntervalMs };
  return { rowsPerCall: settings.perPage, intervalMs: 60_000 / settings.requestsPerMinute };
}

type NumericSetting = keyof typeof EXPORT_RANGES;

/**
 * The settings of a workflow input. A value out of range (a hand-written input) falls back to the default with a
 * warning rather than failing the workflow.
 */
export function resolveSettings(
  input: Partial<Record<NumericSetting, unknown>>,
  api: ExportApi,
): { settings: ExportSettings; warnings: string[] } {
  const warnings: string[] = [];
  const defaults: Record<NumericSetting, number> = {
    ...EXPORT_DEFAULTS,
    minStartAgeSeconds: defaultMinStartAgeSeconds(api),
  };
  function valid(name: NumericSetting): number {
    const value = input[name] ?? defaults[name];
    const { min, max = Infinity } = EXPORT_RANGES[name] as { min: number; max?: number };
    if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
    warnings.push(`input ${name}=${JSON.stringify(value)} is invalid; using ${defaults[name]}`);
    return defaults[name];
  }
  const pollIntervalMs = valid('pollIntervalSeconds') * 1000;
  const settings = {
    pollIntervalMs,
    idleGapMs: Math.max(pollIntervalMs, MIN_IDLE_GAP_MS),
    minStartAgeMs: valid('minStartAgeSeconds') * 1000,
    pagesPerRun: Math.floor(valid('pagesPerRun')),
    pageSize: Math.floor(valid('pageSize')),
    requestsPerMinute: valid('requestsPerMinute'),
    usersRequestsPerMinute: valid('usersRequestsPerMinute'),
    accountRequestsPerMinute: valid('accountRequestsPerMinute'),
    referenceRefreshMs: valid('referenceRefreshSeconds') * 1000,
    perPage: Math.floor(valid('perPage')),
  };
  return { settings, warnings };
}
