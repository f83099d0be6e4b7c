import type { FaultSpec } from '../../src/emulator';
import type { ExportApi } from '../../src/shared';
import type { Harness } from './harness';

// Pages as the fault suites hand them to the emulator: the truth in stream order, and well-formed answers to alter.

export type Row = { id: number; generated_timestamp: number } & Record<string, unknown>;

/** Every ticket's current version in the endpoint's shape, in stream order: (generated_timestamp, id). */
export function inStreamOrder(h: Harness, api: ExportApi): Row[] {
  const rows = (api === 'exports' ? h.emulator.truth() : h.emulator.truthFull()) as unknown as Row[];
  return [...rows].sort((a, b) => a.generated_timestamp - b.generated_timestamp || a.id - b.id);
}

export function rowsKey(api: ExportApi): 'results' | 'tickets' {
  return api === 'exports' ? 'results' : 'tickets';
}

/** A well-formed page of `rows` in the endpoint's own format. */
export function pageBody(api: ExportApi, rows: Row[], endTime: number, extra: Record<string, unknown> = {}) {
  if (api === 'exports') {
    return {
      results: rows,
      field_headers: {},
      options: { timezone: 'UTC', hour_offset: 0 },
      end_time: endTime,
      ...extra,
    };
  }
  if (api === 'incremental') {
    return { tickets: rows, count: rows.length, end_time: endTime, end_of_stream: false, ...extra };
  }
  return { tickets: rows, after_cursor: null, before_cursor: null, end_of_stream: false, ...extra };
}

export const body = (value: unknown, contentType?: string): FaultSpec => ({
  kind: 'body',
  body: typeof value === 'string' ? value : JSON.stringify(value),
  ...(contentType ? { contentType } : {}),
});

/** The first rows of the stream up to a second boundary, and the row that starts the next second. */
export function headOfStream(rows: Row[], atLeast = 5): { head: Row[]; next: Row } {
  let k = atLeast;
  while (rows[k].generated_timestamp === rows[k - 1].generated_timestamp) k++;
  return { head: rows.slice(0, k), next: rows[k] };
}
