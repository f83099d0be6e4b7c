import { zendeskTimestamp } from './sink';

/**
 * The tables of the streams around the ticket as readStreamTable returns them: the same columns, types and order in
 * both sinks (`account` is the filter, not a column of the answer).
 */

type ColumnKind = 'integer' | 'text' | 'json' | 'time' | 'boolean';

interface StreamTableShape {
  /** The key after `account`, the order of the answer. */
  key: readonly string[];
  columns: Readonly<Record<string, ColumnKind>>;
}

export const STREAM_TABLE_SHAPES = {
  ticket_events: {
    key: ['id'],
    columns: {
      id: 'integer',
      ticket_id: 'integer',
      timestamp: 'integer',
      created_at: 'time',
      updater_id: 'integer',
      via: 'json',
      event_type: 'text',
      child_events: 'json',
      data: 'json',
      stored_at: 'time',
    },
  },
  ticket_comments: {
    key: ['id'],
    columns: {
      id: 'integer',
      ticket_id: 'integer',
      event_id: 'integer',
      event_timestamp: 'integer',
      author_id: 'integer',
      public: 'boolean',
      created_at: 'time',
      body: 'text',
      html_body: 'text',
      plain_body: 'text',
      attachments: 'json',
      via: 'json',
      data: 'json',
      stored_at: 'time',
    },
  },
  ticket_field_changes: {
    key: ['child_id', 'field_name'],
    columns: {
      child_id: 'integer',
      field_name: 'text',
      ticket_id: 'integer',
      event_id: 'integer',
      value: 'json',
      previous_value: 'json',
      updated_at: 'time',
      updater_id: 'integer',
      event_type: 'text',
      stored_at: 'time',
    },
  },
  users: { key: ['id'], columns: { id: 'integer', updated_at: 'time', data: 'json', stored_at: 'time' } },
  organizations: {
    key: ['id'],
    columns: { id: 'integer', updated_at: 'time', deleted_at: 'time', data: 'json', stored_at: 'time' },
  },
  ticket_metric_events: {
    key: ['id'],
    columns: {
      id: 'integer',
      ticket_id: 'integer',
      metric: 'text',
      instance_id: 'integer',
      type: 'text',
      time: 'time',
      deleted: 'boolean',
      data: 'json',
      stored_at: 'time',
    },
  },
  ...referenceTableShapes(),
  stream_checkpoints: {
    key: ['stream'],
    columns: { stream: 'text', cursor: 'integer', after_cursor: 'text', updated_at: 'time' },
  },
  rejected_rows: {
    key: ['stream', 'row_id'],
    columns: { stream: 'text', row_id: 'text', data: 'json', error: 'text', rejected_at: 'time' },
  },
} as const satisfies Record<string, StreamTableShape>;

/** The reference lists' tables: the same columns each. */
function referenceTableShapes() {
  const shape = {
    key: ['id'],
    columns: {
      id: 'integer',
      updated_at: 'time',
      deleted_at: 'time',
      last_refresh: 'integer',
      data: 'json',
      stored_at: 'time',
    },
  } as const;
  return { ticket_fields: shape, groups: shape, brands: shape, ticket_forms: shape, custom_statuses: shape };
}

export type StreamTableName = keyof typeof STREAM_TABLE_SHAPES;

/** The shape of a table readStreamTable may read; any other name (the tickets' tables included) is refused. */
export function streamTableShape(table: string): StreamTableShape & { name: StreamTableName } {
  if (!Object.hasOwn(STREAM_TABLE_SHAPES, table)) {
    throw new Error(`not a table of the streams around the ticket: ${JSON.stringify(table)}`);
  }
  const name = table as StreamTableName;
  return { name, ...STREAM_TABLE_SHAPES[name] };
}

/**
 * A row as a driver returned it, in the answer's form: integers as numbers (pg returns BIGINT as text), JSON parsed,
 * times as ISO text the way Zendesk writes them, booleans (SQLite keeps 0 and 1).
 */
export function streamTableRow(shape: StreamTableShape, stored: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(shape.columns).map(([column, kind]) => [column, columnValue(kind, stored[column])]),
  );
}

function columnValue(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'integer':
      return Number(value);
    case 'json':
      return JSON.parse(String(value));
    case 'time':
      return zendeskTimestamp((value instanceof Date ? value : new Date(String(value))).toISOString());
    case 'boolean':
      return Boolean(value);
    case 'text':
      return value;
  }
}
