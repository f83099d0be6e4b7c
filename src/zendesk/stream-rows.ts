// A stream's rows, judged one by one: a row is kept with its JSON text and its time, or set aside with the reason.
// One broken row never stalls a stream, and a row dated ahead of Zendesk's own clock is never kept (stored, it would
// pin that row against its real updates and carry the stream's cursor past what the answer vouches for).

import type { PagedStream } from '../streams/names';
import type { SetAsideStreamRow, StreamRow } from '../streams/contract';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from './limits';
import { PlausibilityContext, structureProblem, timestampProblem } from './plausibility';
import { describeSchemaError } from './schemas';
import { ticketEventShape } from './stream-schemas';

/** The key of a stream's row time, and how it is written. */
export const STREAM_ROW_TIME: Record<PagedStream, { key: string; format: 'epoch seconds' | 'ISO 8601' }> = {
  ticket_events: { key: 'timestamp', format: 'epoch seconds' },
  users: { key: 'updated_at', format: 'ISO 8601' },
  organizations: { key: 'updated_at', format: 'ISO 8601' },
  ticket_metric_events: { key: 'time', format: 'ISO 8601' },
  reference_lists: { key: 'updated_at', format: 'ISO 8601' },
};

/** A date and time with a zone, as Zendesk writes them: `2023-11-14T22:13:20Z`. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

export interface JudgedStreamRows {
  rows: StreamRow[];
  /** Each kept row's JSON, in the order of `rows`. */
  rowTexts: string[];
  /** Each kept row's time in epoch seconds, in the order of `rows`. */
  rowTimes: number[];
  setAside: SetAsideStreamRow[];
}

export function judgeStreamRows(
  stream: PagedStream,
  rows: readonly StreamRow[],
  context: PlausibilityContext,
): JudgedStreamRows {
  const judged: JudgedStreamRows = { rows: [], rowTexts: [], rowTimes: [], setAside: [] };
  for (const row of rows) {
    const structure = structureProblem(row);
    if ('problem' in structure) {
      judged.setAside.push({
        row: storableStandIn(stream, row, structure.problem),
        reason: `the row ${structure.problem}`,
      });
      continue;
    }
    const reading = readStreamRow(stream, row, context);
    if ('problem' in reading) {
      judged.setAside.push({ row, reason: reading.problem });
      continue;
    }
    judged.rows.push(row);
    judged.rowTexts.push(structure.json);
    judged.rowTimes.push(reading.time);
  }
  return judged;
}

/** A row's time in epoch seconds, or why the row cannot be kept. */
export function readStreamRow(
  stream: PagedStream,
  row: StreamRow,
  context: PlausibilityContext,
): { time: number } | { problem: string } {
  const idProblem = rowIdProblem(row.id);
  if (idProblem) return { problem: idProblem };
  if (stream === 'ticket_events') {
    const shape = ticketEventShape.safeParse(row);
    if (!shape.success) return { problem: describeSchemaError(shape.error) };
  }
  const { key, format } = STREAM_ROW_TIME[stream];
  const value = row[key];
  if (value === undefined || value === null) return { problem: `${key}: missing` };
  const seconds = format === 'epoch seconds' ? epochSeconds(value) : isoSeconds(value);
  if (typeof seconds === 'string') return { problem: `${key}: ${seconds}` };
  const problem = timestampProblem(seconds, 0, context, context.toleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS);
  return problem ? { problem: `${key}: ${problem}` } : { time: seconds };
}

function rowIdProblem(id: unknown): string | undefined {
  if (id === undefined || id === null) return 'id: missing';
  if (typeof id !== 'number' || !Number.isInteger(id)) return `id: ${short(id)} is not a whole number`;
  if (!Number.isSafeInteger(id)) return `id: ${id} is beyond Number.MAX_SAFE_INTEGER (not read exactly)`;
  if (id <= 0) return `id: ${id} is not a positive id`;
  return undefined;
}

/** Epoch seconds, or why the value is not such a time. */
function epochSeconds(value: unknown): number | string {
  if (typeof value !== 'number' || !Number.isInteger(value)) return `${short(value)} is not a time in epoch seconds`;
  return value;
}

/** The epoch second an ISO 8601 text names, or why it names none. */
function isoSeconds(value: unknown): number | string {
  const ms = typeof value === 'string' && ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) return `${short(value)} is not an ISO 8601 date and time`;
  return Math.floor(ms / 1000);
}

/** A value as a reason quotes it: JSON, cut short. */
function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** What rejected_rows keeps of a row that cannot be serialised: its id and time where readable, and a note. */
function storableStandIn(stream: PagedStream, row: StreamRow, problem: string): StreamRow {
  const { key } = STREAM_ROW_TIME[stream];
  return { id: row.id, [key]: row[key], not_stored: `the row ${problem}` };
}
