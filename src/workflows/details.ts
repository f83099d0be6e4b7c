// What the Web UI shows of an export: the workflow's current details and the summaries of its timers and activities.
// Pure text from the state, so that it is unit-tested and the same in a replay.

import type { ExportApi } from '../shared';
import type { ExportPhase } from './messages';
import { printable } from '../common/printable';
import { duration, isoSeconds, seconds } from '../common/time-text';

export interface DetailsInput {
  account: string;
  api: ExportApi;
  pollIntervalSeconds: number;
  minStartAgeSeconds: number;
  cursor: number;
  ticketsStored: number;
  pages: number;
  lagSeconds: number;
  phase: ExportPhase;
  /** Why the export waits, when it does: a timer's summary. */
  waitingFor?: string;
  nextCallAt: number | null;
  lastError: string | null;
  warnings: number;
  /** Tickets the sink could not store, set aside in rejected_tickets. */
  ticketsRejected?: number;
  /** The streams around the ticket, when the export reads any: a line each. */
  streams?: StreamLine[];
}

export interface StreamLine {
  stream: string;
  cursor: number;
  rowsStored: number;
  lagSeconds: number;
  phase: ExportPhase;
  caughtUp: boolean;
  blocked: boolean;
  lastError: string | null;
}

const ENDPOINTS: Record<ExportApi, string> = {
  exports: 'specified export endpoint',
  incremental: 'time-based incremental export',
  cursor: 'cursor-based incremental export',
};

/** Three paragraphs: which export, where it stands, what it does now. */
export function currentDetails(d: DetailsInput): string {
  const pacing = `every ${seconds(d.pollIntervalSeconds)}, start_time at least ${seconds(d.minStartAgeSeconds)} old`;
  const where =
    `cursor ${minutes(d.cursor * 1000)} · ${count(d.ticketsStored)} tickets stored in ${count(d.pages)} pages` +
    ` · lag ${duration(d.lagSeconds)}` +
    (d.ticketsRejected ? ` · ${count(d.ticketsRejected)} rejected (rejected_tickets)` : '');
  let now: string = d.phase.replace(/_/g, ' ');
  if (d.nextCallAt !== null) now += `: next call ${minutes(d.nextCallAt)}`;
  if (d.waitingFor) now += ` (${d.waitingFor})`;
  if (d.lastError) now += ` · last error: ${printable(d.lastError).slice(0, 200)}`;
  if (d.warnings > 0) now += ` · ${d.warnings} warning${d.warnings === 1 ? '' : 's'} in status`;
  // Paragraphs: the Web UI renders the details as Markdown, where a single newline is not a break.
  const paragraphs = [`**${d.account}** · ${ENDPOINTS[d.api]} · ${pacing}`, where, now];
  if (d.streams?.length) paragraphs.push(d.streams.map(streamLine).join('\n'));
  return paragraphs.join('\n\n');
}

function streamLine(s: StreamLine): string {
  const state = s.blocked ? 'blocked' : s.caughtUp ? 'caught up' : s.phase.replace(/_/g, ' ');
  const error = s.lastError ? ` · last error: ${printable(s.lastError).slice(0, 120)}` : '';
  return `- ${s.stream}: cursor ${minutes(s.cursor * 1000)} · ${count(s.rowsStored)} rows · lag ${duration(s.lagSeconds)} · ${state}${error}`;
}

function minutes(ms: number): string {
  return isoSeconds(Math.floor(ms / 1000))
    .replace('T', ' ')
    .replace(/:\d\dZ$/, 'Z');
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
