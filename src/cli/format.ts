import chalk from 'chalk';
import type { ExportStateName } from '../shared';
import type { ExportStatus } from '../workflows/messages';
import { API_TOKEN_END_DATE, AuthState } from '../zendesk/auth';
import { duration, isoMillis, isoSeconds } from '../common/time-text';
import { printable } from '../common/printable';
import { exportLagSeconds } from '../common/zendesk-clock';

/** An activity that failed and waits for its next attempt (from the server's description of the workflow). */
export interface PendingRetry {
  activity: string;
  attempt: number;
  lastFailure: string;
  nextAttemptAt: string | null;
}

/** What `status` shows: the workflow's own status, plus a retry in progress. */
export type StatusView = ExportStatus & { retrying?: PendingRetry };

export interface FormatOptions {
  nowMs?: number;
  /** Colours: chalk's own detection (a TTY that supports them, FORCE_COLOR, NO_COLOR) unless set. */
  color?: boolean;
}

type Chalk = chalk.Chalk;

const BAR_WIDTH = 30;

function paint(options: FormatOptions): Chalk {
  if (options.color === undefined) return chalk;
  return new chalk.Instance({ level: options.color ? (Math.max(chalk.level, 1) as 1 | 2 | 3) : 0 });
}

const STATE_LABELS: Record<ExportStateName, string> = {
  catching_up: 'catching up',
  caught_up: 'caught up',
  rate_limited: 'rate-limited (waiting for Retry-After)',
  backoff: 'backing off after a failure',
  paused: 'paused',
  blocked: 'blocked (resume to retry)',
};

function stateColor(c: Chalk, state: ExportStateName): (text: string) => string {
  if (state === 'caught_up') return c.green;
  if (state === 'catching_up') return c.cyan;
  if (state === 'blocked') return c.red.bold;
  return c.yellow;
}

/** The lag now: the workflow's figure (on Zendesk's clock) plus the time since it answered. */
function lagNow(status: ExportStatus, nowMs: number): number {
  const sinceAnswer = Math.max(0, Math.floor((nowMs - Date.parse(status.asOf)) / 1000));
  if (typeof status.lagSeconds === 'number' && Number.isFinite(status.lagSeconds))
    return status.lagSeconds + sinceAnswer;
  return exportLagSeconds(nowMs, status.completeThrough ?? status.cursor);
}

/** How far the catch-up has come, how fast, and when it will be done (null when there is nothing to tell). */
export function progressOf(status: ExportStatus, nowMs: number) {
  const from = status.progressFrom;
  const lag = lagNow(status, nowMs);
  // Zendesk's now, as the workflow sees it: the complete-through point plus the lag.
  const zendeskNow = (status.completeThrough ?? status.cursor) + lag;
  if (!from) return null;
  const start = Math.max(from.cursor, from.firstTicketAt ?? from.cursor);
  const span = zendeskNow - start;
  const done = (status.completeThrough ?? status.cursor) - start;
  const fraction = status.state === 'caught_up' || span <= 0 ? 1 : Math.min(1, Math.max(0, done / span));
  const elapsedSeconds = Math.max(0, (Date.parse(status.asOf) - from.atMs) / 1000);
  const tickets = status.ticketsStored - from.tickets;
  const ticketsPerMinute = elapsedSeconds >= 1 ? (tickets / elapsedSeconds) * 60 : null;
  // Cursor seconds covered per second of export: the remaining span at that speed.
  const speed = elapsedSeconds >= 1 ? done / elapsedSeconds : 0;
  const caughtUp = status.state === 'caught_up' || fraction >= 1;
  const etaSeconds = caughtUp ? 0 : speed > 0 ? Math.round((zendeskNow - status.cursor) / speed) : null;
  return { fraction, fromCursor: start, ticketsPerMinute, etaSeconds, caughtUp };
}

function bar(c: Chalk, fraction: number): string {
  const filled = Math.round(fraction * BAR_WIDTH);
  return c.green('█'.repeat(filled)) + c.gray('░'.repeat(BAR_WIDTH - filled));
}

function describeRetry(retry: PendingRetry, nowMs: number): string {
  const next = retry.nextAttemptAt
    ? `, next attempt in ${Math.max(0, Math.ceil((Date.parse(retry.nextAttemptAt) - nowMs) / 1000))} s`
    : '';
  return `${retry.activity} attempt ${retry.attempt}${next}: ${printable(retry.lastFailure)}`;
}

function describeNextCall(status: StatusView, nowMs: number): string {
  if (!status.nextCallAt) return status.phase.replace(/_/g, ' ');
  const inSeconds = Math.max(0, Math.ceil((Date.parse(status.nextCallAt) - nowMs) / 1000));
  const why =
    status.phase === 'rate_limited'
      ? ' (Retry-After)'
      : status.phase === 'backoff'
        ? ' (backoff after a failure)'
        : status.phase === 'idle'
          ? ' (caught up: polling)'
          : '';
  return `${status.nextCallAt} (in ${duration(inSeconds)})${why}`;
}

/** One account's status: a progress bar and the figures an operator asks for first. */
export function formatStatus(status: StatusView, options: FormatOptions = {}): string {
  const c = paint(options);
  const nowMs = options.nowMs ?? Date.now();
  const lag = lagNow(status, nowMs);
  const state = status.state ?? (status.blocked ? 'blocked' : status.paused ? 'paused' : 'catching_up');
  const progress = progressOf(status, nowMs);
  const lines: [string, string][] = [];
  lines.push([
    'account',
    `${c.bold(status.account)} · ${status.api} endpoint · ${stateColor(c, state)(STATE_LABELS[state])}`,
  ]);
  if (progress) {
    const percent = `${Math.floor(progress.fraction * 100)}%`.padStart(4);
    lines.push([
      'progress',
      `${bar(c, progress.fraction)} ${percent}  ${day(progress.fromCursor)} → ${progress.caughtUp ? 'now' : day(status.cursor)}`,
    ]);
  }
  lines.push(['cursor', `${status.cursor} (${status.cursorIso}), lag ${duration(lag)}`]);
  lines.push([
    'stored',
    `${status.ticketsStored.toLocaleString('en-US')} tickets in ${status.pages} pages (last page ${status.lastPageSize} rows)`,
  ]);
  if (status.ticketsRejected > 0) {
    lines.push([
      'rejected',
      c.yellow(
        `${status.ticketsRejected} tickets set aside (rejected_tickets: the database refused them, or a value could not be true)`,
      ),
    ]);
  }
  if (status.api !== 'exports') lines.push(['per_page', String(status.perPage)]);
  lines.push([
    'calls',
    `${status.calls} (rate-limited: ${status.rateLimited > 0 ? c.yellow(String(status.rateLimited)) : '0'})`,
  ]);
  if (progress) {
    const rate =
      progress.ticketsPerMinute === null
        ? '—'
        : `${Math.round(progress.ticketsPerMinute).toLocaleString('en-US')} tickets/min`;
    const eta = progress.caughtUp
      ? 'caught up'
      : progress.etaSeconds === null
        ? 'ETA unknown yet'
        : `caught up in about ${duration(progress.etaSeconds)}`;
    lines.push(['rate', `${rate} · ${eta}`]);
  }
  lines.push(['next call', describeNextCall(status, nowMs)]);
  lines.push([
    'pacing',
    `every ${status.pollIntervalSeconds} s, start_time at least ${status.minStartAgeSeconds} s old`,
  ]);
  if (status.auth) lines.push(['sign-in', describeSignIn(status.auth, nowMs)]);
  lines.push(['last error', status.lastError ? c.red(printable(status.lastError)) : '—']);
  if (status.retrying) lines.push(['retrying', c.yellow(describeRetry(status.retrying, nowMs))]);
  lines.push([
    'warnings',
    status.warnings.length === 0 ? '—' : status.warnings.map((w) => c.yellow(printable(w))).join('\n' + ' '.repeat(12)),
  ]);
  const text = lines.map(([k, v]) => `${c.dim(k.padEnd(11))} ${v}`).join('\n');
  const streams = status.streams ?? [];
  if (streams.length === 0 || (streams.length === 1 && streams[0].stream === 'tickets')) return text;
  return `${text}\n\n${formatStreams(status, c, nowMs)}`;
}

/** One row per stream: where each cursor stands, what it waits for, what it stored. */
function formatStreams(status: StatusView, c: Chalk, nowMs: number): string {
  const header = [
    'STREAM',
    'BUCKET',
    'PHASE',
    'CURSOR',
    'LAG',
    'ROWS',
    'PAGES',
    'CALLS',
    '429S',
    'NEXT CALL',
    'LAST ERROR',
  ];
  const sinceAnswer = Math.max(0, Math.floor((nowMs - Date.parse(status.asOf)) / 1000));
  const rows = (status.streams ?? []).map((s) => [
    s.stream,
    s.bucket,
    s.blocked
      ? 'blocked'
      : s.caughtUp && s.phase !== 'fetching' && s.phase !== 'persisting'
        ? 'caught up'
        : s.phase.replace(/_/g, ' '),
    s.cursorIso.replace(/:\d\d(\.\d+)?Z$/, 'Z'),
    duration(s.lagSeconds + sinceAnswer),
    s.rowsStored.toLocaleString('en-US'),
    String(s.pages),
    String(s.calls),
    String(s.rateLimited),
    s.nextCallAt ? `in ${duration(Math.max(0, Math.ceil((Date.parse(s.nextCallAt) - nowMs) / 1000)))}` : '—',
    printable(s.lastError ?? '—'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [c.dim(line(header)), ...rows.map((row) => (row[2] === 'blocked' ? c.red(line(row)) : line(row)))].join('\n');
}

function day(epochSeconds: number): string {
  return isoSeconds(epochSeconds).slice(0, 16).replace('T', ' ') + 'Z';
}

/** One account in `status --all`: its status when the export runs, else what state its workflow is in. */
export interface StatusRow {
  account: string;
  state: string;
  status?: StatusView;
}

export function formatStatusTable(rows: StatusRow[], options: FormatOptions = {}): string {
  const c = paint(options);
  const nowMs = options.nowMs ?? Date.now();
  const header = [
    'ACCOUNT',
    'STATE',
    'PROGRESS',
    'CURSOR',
    'LAG',
    'TICKETS',
    'PAGES',
    'CALLS',
    '429S',
    'NEXT CALL',
    'LAST ERROR',
  ];
  const cells = rows.map(({ account, state, status: s }) => {
    if (!s) return { state: undefined, cells: [account, state, '—', '—', '—', '—', '—', '—', '—', '—', '—'] };
    const exportState = s.state ?? (s.blocked ? 'blocked' : s.paused ? 'paused' : 'catching_up');
    const next = s.nextCallAt
      ? `in ${duration(Math.max(0, Math.ceil((Date.parse(s.nextCallAt) - nowMs) / 1000)))}`
      : '—';
    const progress = progressOf(s, nowMs);
    return {
      state: exportState,
      cells: [
        account,
        exportState.replace(/_/g, ' '),
        progress ? `${Math.floor(progress.fraction * 100)}%` : '—',
        s.cursorIso.replace(/:\d\d(\.\d+)?Z$/, 'Z'),
        duration(lagNow(s, nowMs)),
        s.ticketsStored.toLocaleString('en-US'),
        String(s.pages),
        String(s.calls),
        String(s.rateLimited),
        next,
        printable(s.lastError ?? (s.retrying ? `retrying: ${s.retrying.lastFailure}` : '—')),
      ],
    };
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row.cells[i].length)));
  const line = (row: string[], state?: ExportStateName) =>
    row
      .map((cell, i) => {
        const padded = cell.padEnd(widths[i]);
        return i === 1 && state ? stateColor(c, state)(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [c.dim(line(header)), ...cells.map((row) => line(row.cells, row.state))].join('\n');
}

const AUTH_MODES: Record<AuthState['mode'], string> = {
  oauth_client_credentials: 'OAuth client credentials',
  oauth_access_token: 'OAuth access token (pre-issued)',
  api_token: `API token (Zendesk turns these off on ${API_TOKEN_END_DATE})`,
};

/** The worker's sign-in as the last call saw it: the mode, and when a client-credentials token renews. */
function describeSignIn(auth: AuthState, nowMs: number): string {
  const mode = AUTH_MODES[auth.mode];
  if (auth.tokenRenewsAt === undefined) return mode;
  const inSeconds = Math.round((auth.tokenRenewsAt - nowMs) / 1000);
  const when = inSeconds > 0 ? `in ${duration(inSeconds)}` : 'at the next call';
  const at = isoMillis(auth.tokenRenewsAt);
  return `${mode} · token renews ${when}${at ? ` (${at.slice(11, 19)}Z)` : ''}`;
}
