import type { ExportStatus } from '../workflows/messages';
import { exportLagSeconds } from '../workflows/pacing';

/** An activity that failed and waits for its next attempt (from the server's description of the workflow). */
export interface PendingRetry {
  activity: string;
  attempt: number;
  lastFailure: string;
  nextAttemptAt: string | null;
}

/** What `status` shows: the workflow's own status, plus a retry in progress. */
export type StatusView = ExportStatus & { retrying?: PendingRetry };

/** The lag now: the workflow's figure (on Zendesk's clock) plus the time since it answered. */
function lagNow(status: ExportStatus, nowMs: number): number {
  const sinceAnswer = Math.max(0, Math.floor((nowMs - Date.parse(status.asOf)) / 1000));
  if (typeof status.lagSeconds === 'number' && Number.isFinite(status.lagSeconds))
    return status.lagSeconds + sinceAnswer;
  return exportLagSeconds(nowMs, status.completeThrough ?? status.cursor);
}

function describeRetry(retry: PendingRetry, nowMs: number): string {
  const next = retry.nextAttemptAt
    ? `, next attempt in ${Math.max(0, Math.ceil((Date.parse(retry.nextAttemptAt) - nowMs) / 1000))} s`
    : '';
  return `${retry.activity} attempt ${retry.attempt}${next}: ${retry.lastFailure}`;
}

export function formatStatus(status: StatusView, nowMs = Date.now()): string {
  const lag = lagNow(status, nowMs);
  const next = status.nextCallAt
    ? `${status.nextCallAt} (in ${Math.max(0, Math.ceil((Date.parse(status.nextCallAt) - nowMs) / 1000))} s)`
    : '—';
  const lines: [string, string][] = [
    ['account', status.account],
    [
      'phase',
      status.phase + (status.paused ? ' (paused)' : '') + (status.blocked ? ' (blocked: resume to retry)' : ''),
    ],
    ['cursor', `${status.cursor} (${status.cursorIso}), lag ${formatDuration(lag)}`],
    [
      'stored',
      `${status.ticketsStored.toLocaleString('en-US')} tickets in ${status.pages} pages (last page ${status.lastPageSize} rows)`,
    ],
    ['calls', `${status.calls} (rate-limited: ${status.rateLimited})`],
    ['next call', next],
    ['pacing', `every ${status.pollIntervalSeconds} s, start_time at least ${status.minStartAgeSeconds} s old`],
    ['last error', status.lastError ?? '—'],
    ...(status.retrying ? [['retrying', describeRetry(status.retrying, nowMs)] as [string, string]] : []),
    ['warnings', status.warnings.length === 0 ? '—' : status.warnings.join('\n' + ' '.repeat(12))],
  ];
  return lines.map(([k, v]) => `${k.padEnd(11)} ${v}`).join('\n');
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** One account in `status --all`: its status when the export runs, else what state its workflow is in. */
export interface StatusRow {
  account: string;
  state: string;
  status?: StatusView;
}

export function formatStatusTable(rows: StatusRow[], nowMs = Date.now()): string {
  const header = ['ACCOUNT', 'STATE', 'CURSOR', 'LAG', 'TICKETS', 'PAGES', 'CALLS', '429S', 'NEXT CALL', 'LAST ERROR'];
  const cells = rows.map(({ account, state, status: s }) => {
    if (!s) return [account, state, '—', '—', '—', '—', '—', '—', '—', '—'];
    const phase = s.blocked ? 'blocked' : s.paused ? 'paused' : s.phase;
    const next = s.nextCallAt
      ? `in ${formatDuration(Math.max(0, Math.ceil((Date.parse(s.nextCallAt) - nowMs) / 1000)))}`
      : '—';
    return [
      account,
      phase,
      s.cursorIso.replace(/:\d\d(\.\d+)?Z$/, 'Z'),
      formatDuration(lagNow(s, nowMs)),
      s.ticketsStored.toLocaleString('en-US'),
      String(s.pages),
      String(s.calls),
      String(s.rateLimited),
      next,
      s.lastError ?? (s.retrying ? `retrying: ${s.retrying.lastFailure}` : '—'),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  return [header, ...cells]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
