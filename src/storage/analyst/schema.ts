import { TYPED_TICKET_COLUMNS } from './typed-ticket';

/**
 * The analysts' tables and views, named and shaped as in Fivetran's Zendesk Support schema where we have the data (the
 * names dbt packages and BI tools already read), written once for both dialects. PostgreSQL keeps them in the schema
 * `zendesk`; SQLite in the same file as the stored tables. Every one has `account` (several accounts share a sink).
 *
 * Tables, written in the page's transaction: `ticket`, `ticket_tag`, `ticket_custom_field_value`. Views, over the
 * stored tables: the rest (see ANALYST_VIEWS). docs/query.md documents each column; a test compares both.
 */

export type Dialect = 'sqlite' | 'postgres';
export type AnalystKind = 'integer' | 'text' | 'time' | 'boolean';

/** Where PostgreSQL keeps the analysts' tables and views. */
export const ANALYST_SCHEMA = 'zendesk';

/** A name as each dialect writes it in a statement: PostgreSQL's are schema-qualified; `group` and `user` quoted. */
export function analystName(dialect: Dialect, name: string): string {
  const quoted = /^(group|user|default)$/.test(name) ? `"${name}"` : name;
  return dialect === 'postgres' ? `${ANALYST_SCHEMA}.${quoted}` : quoted;
}

function sqlType(dialect: Dialect, kind: AnalystKind): string {
  if (dialect === 'sqlite') return kind === 'integer' || kind === 'boolean' ? 'INTEGER' : 'TEXT';
  return { integer: 'BIGINT', text: 'TEXT', time: 'TIMESTAMPTZ', boolean: 'BOOLEAN' }[kind];
}

/** The typed tables: `ticket` and its child tables. */
export function typedTicketTablesSql(dialect: Dialect): string {
  const strict = dialect === 'sqlite' ? ' STRICT' : '';
  const t = (name: string) => analystName(dialect, name);
  const columns = Object.entries(TYPED_TICKET_COLUMNS)
    .map(
      ([name, kind]) =>
        `  ${name} ${sqlType(dialect, kind)}${name === 'id' || name === 'is_deleted' ? ' NOT NULL' : ''},`,
    )
    .join('\n');
  const time = sqlType(dialect, 'time');
  return `
${dialect === 'postgres' ? `CREATE SCHEMA IF NOT EXISTS ${ANALYST_SCHEMA};` : ''}
CREATE TABLE ${t('ticket')} (
  account TEXT NOT NULL,
${columns}
  stored_at ${time} NOT NULL,
  PRIMARY KEY (account, id)
)${strict};
CREATE TABLE ${t('ticket_tag')} (
  account TEXT NOT NULL,
  ticket_id ${sqlType(dialect, 'integer')} NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (account, ticket_id, tag)
)${strict};
CREATE TABLE ${t('ticket_custom_field_value')} (
  account TEXT NOT NULL,
  ticket_id ${sqlType(dialect, 'integer')} NOT NULL,
  field_id ${sqlType(dialect, 'integer')} NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (account, ticket_id, field_id)
)${strict};
CREATE INDEX ticket_status ON ${t('ticket')} (account, status);
CREATE INDEX ticket_updated_at ON ${t('ticket')} (account, updated_at);
CREATE INDEX ticket_group_id ON ${t('ticket')} (account, group_id);
CREATE INDEX ticket_created_at ON ${t('ticket')} (account, created_at);
CREATE INDEX ticket_tag_tag ON ${t('ticket_tag')} (account, tag);
CREATE INDEX ticket_custom_field_value_field ON ${t('ticket_custom_field_value')} (account, field_id);
`;
}

/**
 * Open tickets per group (status and group_id, not deleted), a dashboard's first query, from the index alone: without
 * it SQLite looks up the wide `ticket` row of every open ticket (450 ms at 200,000 tickets, 98 ms with it; the bench's
 * `analyst` scenario). It starts with (account, status), so it replaces `ticket_status`. A migration of both sinks
 * (SQLite 6, PostgreSQL 9).
 */
export function typedTicketStatusGroupIndexSql(dialect: Dialect): string {
  const schema = dialect === 'postgres' ? `${ANALYST_SCHEMA}.` : '';
  return `
DROP INDEX IF EXISTS ${schema}ticket_status;
CREATE INDEX ticket_status_group_id ON ${analystName(dialect, 'ticket')} (account, status, group_id, is_deleted);
`;
}

/** A view's column: a stored column as it is, a value read from the stored JSON, or an expression per dialect. */
type ColumnSource = { column: string } | { json: readonly string[]; from?: string } | { sql: Record<Dialect, string> };

export interface AnalystColumn {
  name: string;
  kind: AnalystKind;
  source: ColumnSource;
}

export interface AnalystView {
  name: string;
  /** The table it reads, with the alias `s`: a stored table (public's, in PostgreSQL), or one of the typed tables. */
  from: string;
  fromTypedTable?: boolean;
  /** More FROM text after the stored table (joins). */
  join?: Record<Dialect, string>;
  columns: readonly AnalystColumn[];
}

const col = (name: string, kind: AnalystKind, column = name): AnalystColumn => ({ name, kind, source: { column } });
const json = (name: string, kind: AnalystKind, ...path: string[]): AnalystColumn => ({
  name,
  kind,
  source: { json: path.length > 0 ? path : [name] },
});

/** A JSON value as text: strings as they are, lists of strings space-separated (tags), anything else as JSON. */
const fieldValueText = (column: string): Record<Dialect, string> => ({
  sqlite: `CASE json_type(s.${column}) WHEN 'null' THEN NULL WHEN 'text' THEN json_extract(s.${column}, '$')
    WHEN 'array' THEN (SELECT group_concat(CASE e.type WHEN 'text' THEN e.value ELSE json_quote(e.value) END, ' ')
      FROM json_each(s.${column}) e)
    ELSE CAST(json_extract(s.${column}, '$') AS TEXT) END`,
  postgres: `CASE jsonb_typeof(s.${column}) WHEN 'null' THEN NULL WHEN 'string' THEN s.${column} #>> '{}'
    WHEN 'array' THEN (SELECT string_agg(CASE jsonb_typeof(e) WHEN 'string' THEN e #>> '{}' ELSE e::text END, ' ')
      FROM jsonb_array_elements(s.${column}) e)
    ELSE s.${column}::text END`,
});

const isDeleted = (column: string): AnalystColumn => ({
  name: 'is_deleted',
  kind: 'boolean',
  source: {
    sql: {
      sqlite: `CASE WHEN s.${column} IS NULL THEN 0 ELSE 1 END`,
      postgres: `s.${column} IS NOT NULL`,
    },
  },
});

const createdUpdated = [json('created_at', 'time'), json('updated_at', 'time')];

/** A reference list's row is deleted once a complete refresh no longer lists it (deleted_at is set). */
const listDeleted = isDeleted('deleted_at');

/** The views over the stored tables: the streams around the ticket and the reference lists. */
export const ANALYST_VIEWS: readonly AnalystView[] = [
  {
    name: 'ticket_custom_field',
    from: 'ticket_custom_field_value',
    fromTypedTable: true,
    // The title the ticket fields list gives; for a field it does not list, the header the exports endpoint sent.
    join: {
      sqlite: `LEFT JOIN ticket_fields f ON f.account = s.account AND f.id = s.field_id
        LEFT JOIN field_headers h ON h.account = s.account AND h.key = 'field_' || s.field_id`,
      postgres: `LEFT JOIN public.ticket_fields f ON f.account = s.account AND f.id = s.field_id
        LEFT JOIN public.field_headers h ON h.account = s.account AND h.key = 'field_' || s.field_id`,
    },
    columns: [
      col('ticket_id', 'integer'),
      col('field_id', 'integer'),
      {
        name: 'field_title',
        kind: 'text',
        source: {
          sql: {
            sqlite: `COALESCE(CASE WHEN json_type(f.data, '$.title') = 'text' THEN json_extract(f.data, '$.title') END, h.name)`,
            postgres: `COALESCE(CASE WHEN jsonb_typeof(f.data -> 'title') = 'string' THEN f.data ->> 'title' END, h.name)`,
          },
        },
      },
      col('value', 'text'),
    ],
  },
  {
    name: 'ticket_comment',
    from: 'ticket_comments',
    columns: [
      col('id', 'integer'),
      col('ticket_id', 'integer'),
      col('user_id', 'integer', 'author_id'),
      col('created', 'time', 'created_at'),
      col('public', 'boolean'),
      col('body', 'text'),
      col('html_body', 'text'),
      col('plain_body', 'text'),
      { name: 'via_channel', kind: 'text', source: { json: ['channel'], from: 'via' } },
      col('event_id', 'integer'),
    ],
  },
  {
    name: 'ticket_field_history',
    from: 'ticket_field_changes',
    columns: [
      col('ticket_id', 'integer'),
      col('field_name', 'text'),
      col('updated', 'time', 'updated_at'),
      col('user_id', 'integer', 'updater_id'),
      { name: 'value', kind: 'text', source: { sql: fieldValueText('value') } },
      { name: 'previous_value', kind: 'text', source: { sql: fieldValueText('previous_value') } },
      col('event_id', 'integer'),
      col('event_type', 'text'),
    ],
  },
  {
    name: 'user',
    from: 'users',
    columns: [
      col('id', 'integer'),
      json('name', 'text'),
      json('email', 'text'),
      json('role', 'text'),
      json('active', 'boolean'),
      json('suspended', 'boolean'),
      json('verified', 'boolean'),
      json('organization_id', 'integer'),
      json('default_group_id', 'integer'),
      json('custom_role_id', 'integer'),
      json('external_id', 'text'),
      json('phone', 'text'),
      json('locale', 'text'),
      json('time_zone', 'text'),
      json('iana_time_zone', 'text'),
      json('created_at', 'time'),
      col('updated_at', 'time'),
      json('last_login_at', 'time'),
      json('url', 'text'),
    ],
  },
  {
    name: 'organization',
    from: 'organizations',
    columns: [
      col('id', 'integer'),
      json('name', 'text'),
      json('details', 'text'),
      json('notes', 'text'),
      json('external_id', 'text'),
      json('group_id', 'integer'),
      json('shared_tickets', 'boolean'),
      json('shared_comments', 'boolean'),
      json('created_at', 'time'),
      col('updated_at', 'time'),
      col('deleted_at', 'time'),
      isDeleted('deleted_at'),
      json('url', 'text'),
    ],
  },
  {
    name: 'ticket_metric_event',
    from: 'ticket_metric_events',
    columns: [
      col('id', 'integer'),
      col('ticket_id', 'integer'),
      col('metric', 'text'),
      col('instance_id', 'integer'),
      col('type', 'text'),
      col('time', 'time'),
      col('deleted', 'boolean'),
    ],
  },
  {
    name: 'group',
    from: 'groups',
    columns: [
      col('id', 'integer'),
      json('name', 'text'),
      json('description', 'text'),
      json('is_public', 'boolean'),
      ...createdUpdated,
      json('url', 'text'),
      // Groups carry their own `deleted` flag too.
      {
        name: 'is_deleted',
        kind: 'boolean',
        source: {
          sql: {
            sqlite: `CASE WHEN s.deleted_at IS NOT NULL OR json_type(s.data, '$.deleted') = 'true' THEN 1 ELSE 0 END`,
            postgres: `s.deleted_at IS NOT NULL OR COALESCE(s.data -> 'deleted' = 'true'::jsonb, false)`,
          },
        },
      },
      col('deleted_at', 'time'),
    ],
  },
  {
    name: 'brand',
    from: 'brands',
    columns: [
      col('id', 'integer'),
      json('name', 'text'),
      json('subdomain', 'text'),
      json('brand_url', 'text'),
      json('active', 'boolean'),
      json('default', 'boolean'),
      json('has_help_center', 'boolean'),
      ...createdUpdated,
      listDeleted,
    ],
  },
  {
    name: 'ticket_field',
    from: 'ticket_fields',
    columns: [
      col('id', 'integer'),
      json('title', 'text'),
      json('raw_title', 'text'),
      json('type', 'text'),
      json('active', 'boolean'),
      json('required', 'boolean'),
      json('description', 'text'),
      ...createdUpdated,
      json('position', 'integer'),
      listDeleted,
    ],
  },
  {
    name: 'ticket_field_option',
    from: 'ticket_fields',
    join: {
      sqlite: `JOIN json_each(s.data, '$.custom_field_options') o`,
      postgres: `CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(s.data -> 'custom_field_options')
        WHEN 'array' THEN s.data -> 'custom_field_options' ELSE '[]'::jsonb END) WITH ORDINALITY AS o(value, ordinality)`,
    },
    columns: [
      col('ticket_field_id', 'integer', 'id'),
      { name: 'id', kind: 'integer', source: { json: ['id'], from: 'o.value' } },
      { name: 'name', kind: 'text', source: { json: ['name'], from: 'o.value' } },
      { name: 'value', kind: 'text', source: { json: ['value'], from: 'o.value' } },
      {
        name: 'position',
        kind: 'integer',
        source: {
          sql: {
            sqlite: `COALESCE(CASE WHEN json_type(o.value, '$.position') = 'integer' THEN json_extract(o.value, '$.position') END, o.key)`,
            postgres: `COALESCE(CASE WHEN jsonb_typeof(o.value -> 'position') = 'number' THEN (o.value ->> 'position')::numeric::bigint END, o.ordinality - 1)`,
          },
        },
      },
    ],
  },
  ...['ticket_form', 'ticket_form_history'].map((name) => ({
    name,
    from: 'ticket_forms',
    columns: [
      col('id', 'integer'),
      json('name', 'text'),
      json('display_name', 'text'),
      json('active', 'boolean'),
      ...createdUpdated,
      listDeleted,
    ],
  })),
  {
    name: 'custom_status',
    from: 'custom_statuses',
    columns: [
      col('id', 'integer'),
      json('status_category', 'text'),
      json('agent_label', 'text'),
      json('end_user_label', 'text'),
      json('active', 'boolean'),
      json('default', 'boolean'),
      ...createdUpdated,
      listDeleted,
    ],
  },
];

/** A view's statement (CREATE VIEW; the caller drops the old one first when it replaces it). */
export function analystViewSql(dialect: Dialect, view: AnalystView): string {
  const stored = view.fromTypedTable
    ? analystName(dialect, view.from)
    : dialect === 'postgres'
      ? `public.${view.from}`
      : view.from;
  const select = [
    's.account AS account',
    ...view.columns.map((c) => `${columnExpression(dialect, c)} AS ${quotedColumn(c.name)}`),
  ].join(',\n  ');
  return `CREATE VIEW ${analystName(dialect, view.name)} AS SELECT\n  ${select}\nFROM ${stored} s ${view.join?.[dialect] ?? ''};`;
}

export function analystViewsSql(dialect: Dialect, views: readonly AnalystView[] = ANALYST_VIEWS): string {
  return views.map((view) => analystViewSql(dialect, view)).join('\n');
}

function quotedColumn(name: string): string {
  return /^(default|time|type|timestamp|user)$/.test(name) ? `"${name}"` : name;
}

function columnExpression(dialect: Dialect, column: AnalystColumn): string {
  const { source, kind } = column;
  if ('sql' in source) return source.sql[dialect];
  if ('column' in source) return `s.${quotedColumn(source.column)}`;
  const from = source.from ?? 'data';
  return jsonExpression(dialect, from.includes('.') ? from : `s.${from}`, source.json, kind);
}

/** A JSON value of the kind asked for, or null when the stored value is of another kind (never an error). */
function jsonExpression(dialect: Dialect, column: string, path: readonly string[], kind: AnalystKind): string {
  if (dialect === 'sqlite') {
    const at = `${column}, '$.${path.join('.')}'`;
    switch (kind) {
      case 'integer':
        return `CASE WHEN json_type(${at}) = 'integer' THEN json_extract(${at}) END`;
      case 'text':
        return `CASE WHEN json_type(${at}) = 'text' THEN json_extract(${at}) END`;
      case 'boolean':
        return `CASE json_type(${at}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END`;
      case 'time':
        return `CASE WHEN json_type(${at}) = 'text' THEN strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(${at})) END`;
    }
  }
  const value = `${column} #> '{${path.join(',')}}'`;
  const textValue = `${column} #>> '{${path.join(',')}}'`;
  switch (kind) {
    case 'integer':
      return `CASE WHEN jsonb_typeof(${value}) = 'number' AND ${textValue} ~ '^-?[0-9]{1,18}$' THEN (${textValue})::bigint END`;
    case 'text':
      return `CASE WHEN jsonb_typeof(${value}) = 'string' THEN ${textValue} END`;
    case 'boolean':
      return `CASE WHEN jsonb_typeof(${value}) = 'boolean' THEN (${textValue})::boolean END`;
    case 'time':
      return `CASE WHEN jsonb_typeof(${value}) = 'string' THEN ${ANALYST_SCHEMA}.timestamp_or_null(${textValue}) END`;
  }
}

/** PostgreSQL: a cast that gives null instead of an error, so that one odd value never breaks a view. */
export const POSTGRES_ANALYST_FUNCTIONS = `
CREATE SCHEMA IF NOT EXISTS ${ANALYST_SCHEMA};
CREATE FUNCTION ${ANALYST_SCHEMA}.timestamp_or_null(value TEXT) RETURNS TIMESTAMPTZ
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF value !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' THEN RETURN NULL; END IF;
  RETURN value::timestamptz;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;`;
