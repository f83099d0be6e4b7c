import type { Emulator } from '../../src/emulator';
import type { TicketSink } from '../../src/storage/sink';

// The sink's tables of the streams around the ticket against the emulator's truth: '' when every table holds exactly
// what a full read of each stream returns now, else the differences, a few per table.

type Row = Record<string, unknown>;

interface TableCheck {
  table: string;
  /** The truth's rows, as the table should hold them: key → the fields compared. */
  truth(emulator: Emulator): Map<string, Row>;
  stored(row: Row): [key: string, fields: Row];
}

const asNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const seconds = (iso: unknown) => (typeof iso === 'string' ? Math.floor(Date.parse(iso) / 1000) : null);

const CHECKS: TableCheck[] = [
  {
    table: 'ticket_events',
    truth: (e) =>
      new Map(
        e.streamTruth('ticket_events').map((event) => {
          const row = event as unknown as Row;
          return [
            String(row.id),
            { ticket_id: row.ticket_id, timestamp: row.timestamp, child_events: row.child_events },
          ];
        }),
      ),
    stored: (row) => [
      String(row.id),
      { ticket_id: row.ticket_id, timestamp: row.timestamp, child_events: row.child_events },
    ],
  },
  {
    table: 'ticket_comments',
    truth: (e) =>
      new Map(
        e.streamTruth('ticket_comments').map((comment) => {
          const row = comment as unknown as Row;
          return [String(row.id), { ticket_id: row.ticket_id, body: row.body, public: row.public }];
        }),
      ),
    stored: (row) => [String(row.id), { ticket_id: row.ticket_id, body: row.body, public: row.public }],
  },
  {
    table: 'ticket_field_history',
    truth: (e) =>
      new Map(
        e.streamTruth('ticket_field_history').map((change) => {
          const row = change as unknown as Row;
          const key = `${row.child_id ?? row.id}:${row.field_name}`;
          return [key, { ticket_id: row.ticket_id, value: row.value, previous_value: row.previous_value ?? null }];
        }),
      ),
    stored: (row) => [
      `${row.child_id}:${row.field_name}`,
      { ticket_id: row.ticket_id, value: row.value, previous_value: row.previous_value ?? null },
    ],
  },
  {
    table: 'users',
    truth: (e) =>
      new Map(
        e.streamTruth('users').map((user) => {
          const row = user as unknown as Row;
          return [String(row.id), { updated_at: seconds(row.updated_at), active: row.active }];
        }),
      ),
    stored: (row) => [
      String(row.id),
      { updated_at: seconds(row.updated_at), active: (row.data as Row | null)?.active },
    ],
  },
  {
    table: 'organizations',
    truth: (e) =>
      new Map(
        e.streamTruth('organizations').map((organization) => {
          const row = organization as unknown as Row;
          return [String(row.id), { updated_at: seconds(row.updated_at), deleted: row.deleted_at != null }];
        }),
      ),
    stored: (row) => [String(row.id), { updated_at: seconds(row.updated_at), deleted: row.deleted_at != null }],
  },
  {
    table: 'ticket_metric_events',
    truth: (e) =>
      new Map(
        e.streamTruth('ticket_metric_events').map((metric) => {
          const row = metric as unknown as Row;
          return [String(row.id), { ticket_id: row.ticket_id, type: row.type, metric: row.metric }];
        }),
      ),
    stored: (row) => [String(row.id), { ticket_id: asNumber(row.ticket_id), type: row.type, metric: row.metric }],
  },
];

/** The tables that streams fill, checked: pass the streams the export reads (the tables of the others are skipped). */
export async function compareStreamsWithTruth(
  sink: TicketSink,
  emulator: Emulator,
  account: string,
  tables: readonly string[] = CHECKS.map((c) => c.table),
): Promise<string> {
  const problems: string[] = [];
  for (const check of CHECKS.filter((c) => tables.includes(c.table))) {
    const truth = check.truth(emulator);
    const stored = new Map((await sink.readStreamTable(account, check.table)).map((row) => check.stored(row)));
    const missing = [...truth.keys()].filter((key) => !stored.has(key));
    const extra = [...stored.keys()].filter((key) => !truth.has(key));
    // PostgreSQL's jsonb keeps the content, not the key order: compared with keys sorted.
    const differing = [...truth.keys()].filter(
      (key) => stored.has(key) && canonical(stored.get(key)) !== canonical(truth.get(key)),
    );
    if (missing.length + extra.length + differing.length === 0) continue;
    const sample = (keys: string[]) => keys.slice(0, 3).join(', ');
    const first = differing[0];
    problems.push(
      `${check.table}: ${truth.size} in the truth, ${stored.size} stored; ` +
        `missing ${missing.length} (${sample(missing)}), extra ${extra.length} (${sample(extra)}), ` +
        `differing ${differing.length}` +
        (first ? ` (${first}: stored ${short(stored.get(first))} truth ${short(truth.get(first))})` : ''),
    );
  }
  return problems.join('\n');
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
