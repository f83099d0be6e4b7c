// What the Web UI shows of an export: the workflow's current details and the summaries of its timers and activities.
// Pure text from the state, so that it is unit-tested and the same in a replay.

import type { ExportApi } from '../shared';
import type { ExportPhase } from './messages';
import { isoSeconds } from './pacing';

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
  return [`**${d.account}** · ${ENDPOINTS[d.api]} · ${pacing}`, where, now].join('\n\n');
}

// Terminal escape sequences: CSI (ESC [ … or the C1 byte), OSC (ESC ] … BEL or ST, hyperlinks and titles), the
// string sequences DCS/SOS/PM/APC, and two-byte ESC sequences.
const ESCAPE_SEQUENCES =
  // eslint-disable-next-line no-control-regex
  /(\u001b\[|\u009b)[0-?]*[ -/]*[@-~]?|(\u001b\]|\u009d)[^\u0007\u001b\u009c]*(\u0007|\u001b\\|\u009c)?|(\u001b[PX^_]|[\u0090\u0098\u009e\u009f])[^\u001b\u009c]*(\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?/g;
// Other control characters (C0 but line breaks and tabs, DEL, C1) and the bidirectional overrides that reorder what
// a reader sees.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;

/**
 * Text from outside (Zendesk's error bodies, warnings) as it may be shown in a terminal (`status`) or the Web UI:
 * escape sequences and control characters removed, line breaks turned into a space. Pure: workflow code uses it.
 */
export function printable(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROLS, '').replace(LINE_BREAKS, ' ');
}

export function seconds(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
}

export function duration(totalSeconds: number): string {
  if (totalSeconds < 120) return `${Math.round(totalSeconds)} s`;
  if (totalSeconds < 7200) return `${Math.round(totalSeconds / 60)} min`;
  if (totalSeconds < 172_800) return `${Math.round(totalSeconds / 3600)} h`;
  return `${Math.round(totalSeconds / 86_400)} days`;
}

function minutes(ms: number): string {
  return isoSeconds(Math.floor(ms / 1000))
    .replace('T', ' ')
    .replace(/:\d\dZ$/, 'Z');
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
