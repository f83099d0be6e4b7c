/**
 * Typed views over the reference lists' tables, named as in Fivetran's Zendesk schema (what dbt_zendesk reads), written
 * once for both sinks. PostgreSQL: schema `zendesk`, BIGINT, BOOLEAN, TIMESTAMPTZ. SQLite: the same names in the same
 * file, integers, booleans as 0/1, times as the ISO text Zendesk wrote.
 */

type ViewKind = 'integer' | 'text' | 'boolean' | 'time';

interface ViewSpec {
  view: string;
  table: string;
  /** Columns read from the row as received: [column, its key in the row, its type]. */
  fields: readonly (readonly [column: string, key: string, kind: ViewKind])[];
  /** deleted_at as a column of the view (group has it in Fivetran's schema). */
  deletedAt?: boolean;
  /** The row's own `deleted` flag counts too (groups carry one). */
  deletedFlag?: boolean;
}

const TIMES = [
  ['created_at', 'created_at', 'time'],
  ['updated_at', 'updated_at', 'time'],
] as const;

export const ANALYST_VIEWS: readonly ViewSpec[] = [
  {
    view: 'group',
    table: 'groups',
    fields: [
      ['name', 'name', 'text'],
      ['description', 'description', 'text'],
      ['is_public', 'is_public', 'boolean'],
      ...TIMES,
      ['url', 'url', 'text'],
    ],
    deletedAt: true,
    deletedFlag: true,
  },
  {
    view: 'brand',
    table: 'brands',
    fields: [
      ['name', 'name', 'text'],
      ['subdomain', 'subdomain', 'text'],
      ['brand_url', 'brand_url', 'text'],
      ['active', 'active', 'boolean'],
      ['default', 'default', 'boolean'],
      ['has_help_center', 'has_help_center', 'boolean'],
      ...TIMES,
    ],
  },
  {
    view: 'ticket_field',
    table: 'ticket_fields',
    fields: [
      ['title', 'title', 'text'],
      ['raw_title', 'raw_title', 'text'],
      ['type', 'type', 'text'],
      ['active', 'active', 'boolean'],
      ['required', 'required', 'boolean'],
      ['description', 'description', 'text'],
      ...TIMES,
      ['position', 'position', 'integer'],
    ],
  },
  ...['ticket_form', 'ticket_form_history'].map((view) => ({
    view,
    table: 'ticket_forms',
    fields: [
      ['name', 'name', 'text'],
      ['display_name', 'display_name', 'text'],
      ['active', 'active', 'boolean'],
      ...TIMES,
    ] as const,
  })),
  {
    view: 'custom_status',
    table: 'custom_statuses',
    fields: [
      ['status_category', 'status_category', 'text'],
      ['agent_label', 'agent_label', 'text'],
      ['end_user_label', 'end_user_label', 'text'],
      ['active', 'active', 'boolean'],
      ['default', 'default', 'boolean'],
      ...TIMES,
    ],
  },
];

/** The views' names, ticket_field_option included. */
export const ANALYST_VIEW_NAMES = [...ANALYST_VIEWS.map((spec) => spec.view), 'ticket_field_option'];

const quoted = (name: string) => `"${name}"`;

function sqliteValue(key: string, kind: ViewKind, from = 'data'): string {
  const value = `json_extract(${from}, '$.${key}')`;
  // json_extract gives 1 and 0 for true and false; a value of another type is not a boolean.
  return kind === 'boolean' ? `CASE json_type(${from}, '$.${key}') WHEN 'true' THEN 1 WHEN 'false' THEN 0 END` : value;
}

function postgresValue(key: string, kind: ViewKind, from = 'data'): string {
  const text = `(${from} ->> '${key}')`;
  switch (kind) {
    case 'integer':
      return `${text}::bigint`;
    case 'boolean':
      return `CASE jsonb_typeof(${from} -> '${key}') WHEN 'boolean' THEN ${text}::boolean END`;
    case 'time':
      return `${text}::timestamptz`;
    case 'text':
      return text;
  }
}

function viewSql(spec: ViewSpec, dialect: 'sqlite' | 'postgres'): string {
  const value = dialect === 'sqlite' ? sqliteValue : postgresValue;
  const deletedFlag =
    dialect === 'sqlite'
      ? `json_type(data, '$.deleted') = 'true'`
      : `COALESCE(jsonb_typeof(data -> 'deleted') = 'boolean' AND (data ->> 'deleted')::boolean, false)`;
  const isDeleted = spec.deletedFlag ? `(deleted_at IS NOT NULL OR ${deletedFlag})` : '(deleted_at IS NOT NULL)';
  const columns = [
    'id',
    ...spec.fields.map(([column, key, kind]) => `${value(key, kind)} AS ${quoted(column)}`),
    `${isDeleted} AS is_deleted`,
    ...(spec.deletedAt ? ['deleted_at'] : []),
    'account',
  ];
  const view = dialect === 'sqlite' ? quoted(spec.view) : `zendesk.${quoted(spec.view)}`;
  const table = dialect === 'sqlite' ? spec.table : `public.${spec.table}`;
  return `CREATE VIEW ${view} AS SELECT ${columns.join(', ')} FROM ${table};`;
}

const SQLITE_FIELD_OPTIONS = `
CREATE VIEW "ticket_field_option" AS
SELECT f.id AS ticket_field_id, json_extract(o.value, '$.id') AS id, json_extract(o.value, '$.name') AS name,
  json_extract(o.value, '$.value') AS value, COALESCE(json_extract(o.value, '$.position'), o.key) AS position,
  f.account AS account
FROM ticket_fields f, json_each(f.data, '$.custom_field_options') o;`;

const POSTGRES_FIELD_OPTIONS = `
CREATE VIEW zendesk."ticket_field_option" AS
SELECT f.id AS ticket_field_id, (o.option ->> 'id')::bigint AS id, o.option ->> 'name' AS name,
  o.option ->> 'value' AS value, COALESCE((o.option ->> 'position')::bigint, o.ordinality - 1) AS position,
  f.account AS account
FROM public.ticket_fields f
CROSS JOIN LATERAL jsonb_array_elements(
  CASE jsonb_typeof(f.data -> 'custom_field_options') WHEN 'array' THEN f.data -> 'custom_field_options' ELSE '[]' END
) WITH ORDINALITY AS o(option, ordinality);`;

export function sqliteViewsSql(): string {
  return [...ANALYST_VIEWS.map((spec) => viewSql(spec, 'sqlite')), SQLITE_FIELD_OPTIONS].join('\n');
}

export function postgresViewsSql(): string {
  return [
    'CREATE SCHEMA IF NOT EXISTS zendesk;',
    ...ANALYST_VIEWS.map((spec) => viewSql(spec, 'postgres')),
    POSTGRES_FIELD_OPTIONS,
  ].join('\n');
}
