import { isoTimestamp } from '../sink';

/**
 * A stored ticket in the analysts' typed shape (tables `ticket`, `ticket_tag`, `ticket_custom_field_value`), the same
 * whichever endpoint sent it. Pure: both sinks store what this returns, and the upgrade of an older sink fills the
 * tables from the stored JSON with it.
 *
 * Two shapes arrive. The incremental and cursor endpoints send the full ticket object (`tags[]`, `custom_fields[]`,
 * `via.channel`, ids). The legacy exports endpoint sends a flattened row: names where the object has ids
 * (`assignee_name`, `group_name`, `req_name`, `organization_name`), `ticket_type`, `current_tags` as one
 * space-separated string, the `via` channel's display name, custom fields as `field_<id>` with what the export shows
 * (a drop-down's title), and capitalised status, priority and type. A value fills the typed column it means wherever
 * the row carries it; a name fills a `*_name` column; a value no endpoint writes in that form stays null.
 */

export type RowFormat = 'full' | 'exports';

export interface TypedTicket {
  id: number;
  created_at: string | null;
  updated_at: string | null;
  generated_timestamp: number;
  subject: string | null;
  description: string | null;
  status: string | null;
  priority: string | null;
  type: string | null;
  assignee_id: number | null;
  requester_id: number | null;
  submitter_id: number | null;
  group_id: number | null;
  organization_id: number | null;
  brand_id: number | null;
  ticket_form_id: number | null;
  via_channel: string | null;
  due_at: string | null;
  is_public: boolean | null;
  external_id: string | null;
  problem_id: number | null;
  custom_status_id: number | null;
  has_incidents: boolean | null;
  recipient: string | null;
  url: string | null;
  is_deleted: boolean;
  assignee_name: string | null;
  group_name: string | null;
  requester_name: string | null;
  organization_name: string | null;
  via_name: string | null;
  row_format: RowFormat;
}

/** The column kinds of `ticket`, in the table's order (after `account`; `stored_at` follows). */
export const TYPED_TICKET_COLUMNS: Readonly<Record<keyof TypedTicket, 'integer' | 'text' | 'time' | 'boolean'>> = {
  id: 'integer',
  created_at: 'time',
  updated_at: 'time',
  generated_timestamp: 'integer',
  subject: 'text',
  description: 'text',
  status: 'text',
  priority: 'text',
  type: 'text',
  assignee_id: 'integer',
  requester_id: 'integer',
  submitter_id: 'integer',
  group_id: 'integer',
  organization_id: 'integer',
  brand_id: 'integer',
  ticket_form_id: 'integer',
  via_channel: 'text',
  due_at: 'time',
  is_public: 'boolean',
  external_id: 'text',
  problem_id: 'integer',
  custom_status_id: 'integer',
  has_incidents: 'boolean',
  recipient: 'text',
  url: 'text',
  is_deleted: 'boolean',
  assignee_name: 'text',
  group_name: 'text',
  requester_name: 'text',
  organization_name: 'text',
  via_name: 'text',
  row_format: 'text',
};

export interface TicketCustomFieldValue {
  field_id: number;
  /** Text as the ticket carries it: numbers and booleans as JSON writes them, a multi-select's list as JSON. */
  value: string;
}

export interface TypedTicketRows {
  ticket: TypedTicket;
  /** Distinct, in the row's order. */
  tags: string[];
  /** One per field id with a value (null values are left out, as Zendesk's exports leave them empty). */
  customFields: TicketCustomFieldValue[];
}

/** The flattened legacy row: keys the full object never has. */
export function rowFormatOf(row: Record<string, unknown>): RowFormat {
  if (Array.isArray(row.tags) || Array.isArray(row.custom_fields) || isRecord(row.via)) return 'full';
  return 'current_tags' in row || 'req_name' in row || 'ticket_type' in row || typeof row.via === 'string'
    ? 'exports'
    : 'full';
}

/** The typed rows of a stored ticket row (its id and generated_timestamp already checked by the sink). */
export function typedTicketRows(row: Record<string, unknown> & { id: number; generated_timestamp: number }) {
  const format = rowFormatOf(row);
  const exports = format === 'exports';
  const status = lowerText(row.status);
  const ticket: TypedTicket = {
    id: row.id,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    generated_timestamp: row.generated_timestamp,
    subject: text(row.subject),
    description: text(row.description),
    status,
    priority: lowerText(row.priority),
    type: lowerText(exports ? row.ticket_type : row.type),
    assignee_id: id(row.assignee_id),
    requester_id: id(row.requester_id) ?? id(row.req_id),
    submitter_id: id(row.submitter_id),
    group_id: id(row.group_id),
    organization_id: id(row.organization_id),
    brand_id: id(row.brand_id),
    ticket_form_id: id(row.ticket_form_id),
    via_channel: isRecord(row.via) ? text(row.via.channel) : null,
    due_at: isoTimestamp(row.due_at) ?? isoTimestamp(row.due_date),
    is_public: bool(row.is_public),
    external_id: text(row.external_id),
    problem_id: id(row.problem_id),
    custom_status_id: id(row.custom_status_id),
    has_incidents: bool(row.has_incidents),
    recipient: text(row.recipient),
    url: text(row.url),
    is_deleted: status === 'deleted',
    assignee_name: text(row.assignee_name),
    group_name: text(row.group_name),
    requester_name: text(row.req_name) ?? text(row.requester_name),
    organization_name: text(row.organization_name),
    via_name: exports ? text(row.via) : null,
    row_format: format,
  };
  return { ticket, tags: tagsOf(row, exports), customFields: customFieldsOf(row, exports) };
}

function tagsOf(row: Record<string, unknown>, exports: boolean): string[] {
  const raw = exports ? (typeof row.current_tags === 'string' ? row.current_tags.split(/\s+/) : []) : row.tags;
  if (!Array.isArray(raw)) return [];
  const tags = raw.map(text).filter((tag): tag is string => tag !== null && tag !== '');
  return [...new Set(tags)];
}

function customFieldsOf(row: Record<string, unknown>, exports: boolean): TicketCustomFieldValue[] {
  const byId = new Map<number, string>();
  if (exports) {
    for (const [key, value] of Object.entries(row)) {
      const match = /^field_(\d{1,18})$/.exec(key);
      const fieldId = match ? id(Number(match[1])) : null;
      const valueText = fieldValue(value);
      if (fieldId !== null && valueText !== null) byId.set(fieldId, valueText);
    }
  } else if (Array.isArray(row.custom_fields)) {
    for (const field of row.custom_fields) {
      if (!isRecord(field)) continue;
      const fieldId = id(field.id);
      const valueText = fieldValue(field.value);
      if (fieldId !== null && valueText !== null) byId.set(fieldId, valueText);
    }
  }
  return [...byId].map(([field_id, value]) => ({ field_id, value }));
}

function fieldValue(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string') return text(value);
  if (Array.isArray(value) && value.length === 0) return null;
  return text(JSON.stringify(value) ?? null);
}

/**
 * Text both databases keep as it is: NUL (PostgreSQL's text refuses it) and lone surrogates (SQLite stores U+FFFD)
 * become U+FFFD in the typed copy; the stored JSON keeps the original.
 */
function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return value.replace(/\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function lowerText(value: unknown): string | null {
  return text(value)?.toLowerCase() ?? null;
}

function id(value: unknown): number | null {
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : null;
}

function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
