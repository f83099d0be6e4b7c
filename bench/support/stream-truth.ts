import type { Emulator, StreamTruthName } from '../../src/emulator';
import type { TicketSink } from '../../src/storage/sink';

// The sink's tables of the streams around the ticket against the emulator's truth: '' when every table holds exactly
// what a full read of each stream returns now, else the differences, a few per table. The truth comes from an
// emulator in this process or, by its control routes (`GET /__emulator/truth/<table>`), from one in another process.

type Row = Record<string, unknown>;

/** The emulator's truth of one table, as `streamTruth` and `GET /__emulator/truth/<table>` give it. */
export type StreamTruthReader = (table: StreamTruthName) => Promise<readonly unknown[]>;

/** An emulator in this process, or the base URL of one in another process (read through its control routes). */
export type StreamTruthSource = Pick<Emulator, 'streamTruth'> | string;

export function streamTruthReader(source: StreamTruthSource): StreamTruthReader {
  if (typeof source !== 'string') return async (table) => source.streamTruth(table);
  return async (table) => {
    const response = await fetch(new URL(`/__emulator/truth/${table}`, source));
    if (!response.ok) throw new Error(`GET /__emulator/truth/${table}: ${response.status}`);
    const body = (await response.json()) as Record<string, unknown>;
    const rows = body[table];
    if (!Array.isArray(rows)) throw new Error(`GET /__emulator/truth/${table}: no "${table}" array in the answer`);
    return rows;
  };
}

interface TableCheck {
  table: StreamTruthName;
  /** One row of the truth, as the table should hold it: key and the fields compared. */
  truth(row: Row): [key: string, fields: Row];
  stored(row: Row): [key: string, fields: Row];
}

const asNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const seconds = (iso: unknown) => (typeof iso === 'string' ? Math.floor(Date.parse(iso) / 1000) : null);

const CHECKS: TableCheck[] = [
  {
    table: 'ticket_events',
    truth: (row) => [
      String(row.id),
      { ticket_id: row.ticket_id, timestamp: row.timestamp, child_events: row.child_events },
    ],
    stored: (row) => [
      String(row.id),
      { ticket_id: row.ticket_id, timestamp: row.timestamp, child_events: row.child_events },
    ],
  },
  {
    table: 'ticket_comments',
    truth: (row) => [String(row.id), { ticket_id: row.ticket_id, body: row.body, public: row.public }],
    stored: (row) => [String(row.id), { ticket_id: row.ticket_id, body: row.body, public: row.public }],
  },
  {
    table: 'ticket_field_changes',
    truth: (row) => {
      const key = `${row.child_id ?? row.id}:${row.field_name}`;
      return [key, { ticket_id: row.ticket_id, value: row.value, previous_value: row.previous_value ?? null }];
    },
    stored: (row) => [
      `${row.child_id}:${row.field_name}`,
      { ticket_id: row.ticket_id, value: row.value, previous_value: row.previous_value ?? null },
    ],
  },
  {
    table: 'users',
    truth: (row) => [String(row.id), { updated_at: seconds(row.updated_at), active: row.active }],
    stored: (row) => [
      String(row.id),
      { updated_at: seconds(row.updated_at), active: (row.data as Row | null)?.active },
    ],
  },
  {
    table: 'organizations',
    truth: (row) => [String(row.id), { updated_at: seconds(row.updated_at), deleted: row.deleted_at != null }],
    stored: (row) => [String(row.id), { updated_at: seconds(row.updated_at), deleted: row.deleted_at != null }],
  },
  {
    table: 'ticket_metric_events',
    truth: (row) => [String(row.id), { ticket_id: row.ticket_id, type: row.type, metric: row.metric }],
    stored: (row) => [String(row.id), { ticket_id: asNumber(row.ticket_id), type: row.type, metric: row.metric }],
  },
];

/** The stream tables this module checks (each stream's tables; ticket_events fills three). */
export const STREAM_TABLES: readonly StreamTruthName[] = CHECKS.map((c) => c.table);

/** One table against the truth: its sizes, and the keys missing, extra or differing (every one, sorted). */
export interface TableDifferences {
  table: StreamTruthName;
  inTruth: number;
  stored: number;
  missing: string[];
  extra: string[];
  differing: string[];
  /** The first differing row, both ways, shortened. */
  example?: { key: string; stored: string; truth: string };
}

/** Every checked table of an account against the truth (the tables of streams not read can be left out). */
export async function diffStreamsWithTruth(
  sink: TicketSink,
  source: StreamTruthSource,
  account: string,
  tables: readonly string[] = STREAM_TABLES,
): Promise<TableDifferences[]> {
  const read = streamTruthReader(source);
  const differences: TableDifferences[] = [];
  for (const check of CHECKS.filter((c) => tables.includes(c.table))) {
    const truth = new Map((await read(check.table)).map((row) => check.truth(row as Row)));
    const stored = new Map((await sink.readStreamTable(account, check.table)).map((row) => check.stored(row)));
    const missing = [...truth.keys()].filter((key) => !stored.has(key)).sort();
    const extra = [...stored.keys()].filter((key) => !truth.has(key)).sort();
    // PostgreSQL's jsonb keeps the content, not the key order: compared with keys sorted.
    const differing = [...truth.keys()]
      .filter((key) => stored.has(key) && canonical(stored.get(key)) !== canonical(truth.get(key)))
      .sort();
    const first = differing[0];
    differences.push({
      table: check.table,
      inTruth: truth.size,
      stored: stored.size,
      missing,
      extra,
      differing,
      ...(first ? { example: { key: first, stored: short(stored.get(first)), truth: short(truth.get(first)) } } : {}),
    });
  }
  return differences;
}

/** '' when every checked table equals the truth, else a line per table that does not, with a few keys of each kind. */
export function describeStreamDifferences(differences: readonly TableDifferences[]): string {
  const sample = (keys: string[]) => keys.slice(0, 3).join(', ');
  return differences
    .filter((d) => d.missing.length + d.extra.length + d.differing.length > 0)
    .map(
      (d) =>
        `${d.table}: ${d.inTruth} in the truth, ${d.stored} stored; ` +
        `missing ${d.missing.length} (${sample(d.missing)}), extra ${d.extra.length} (${sample(d.extra)}), ` +
        `differing ${d.differing.length}` +
        (d.example ? ` (${d.example.key}: stored ${d.example.stored} truth ${d.example.truth})` : ''),
    )
    .join('\n');
}

/** The tables that streams fill, checked: pass the streams the export reads (the tables of the others are skipped). */
export async function compareStreamsWithTruth(
  sink: TicketSink,
  source: StreamTruthSource,
  account: string,
  tables: readonly string[] = STREAM_TABLES,
): Promise<string> {
  return describeStreamDifferences(await diffStreamsWithTruth(sink, source, account, tables));
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Row).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function short(value: unknown): string {
  const text = canonical(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
