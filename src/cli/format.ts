import type { ExportStatus } from '../workflows/messages';

export function formatStatus(status: ExportStatus, nowMs = Date.now()): string {
  const lag = Math.max(0, Math.floor(nowMs / 1000) - status.cursor);
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
