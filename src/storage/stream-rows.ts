import { createHash } from 'node:crypto';
import type { PersistStreamPageInput, StreamRow } from '../streams/contract';
import { isoTimestamp, replaces, SideloadEntry, ticketIdText } from './sink';

/**
 * What both sinks store of a stream's page, derived from the rows as Zendesk sent them: pure functions, so that SQLite
 * and PostgreSQL store the same rows. JSON values are JSON.stringify text (null when the key is absent), times
 * isoTimestamp text.
 */

/** A row's id when it is one a BIGINT key can hold and Zendesk could have written: a positive safe integer. */
export function usableId(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined;
}

/** A row of rejected_rows: a set-aside row or one the database refused, as received, and why. */
export interface RejectedStreamRow {
  rowId: string;
  data: string;
  error: string;
}

export const NO_USABLE_ID = 'no usable id (a positive safe integer)';

/**
 * The row_id of a rejected row: its id as text, or, for a row without one, a digest of the row, so that two different
 * rows keep two entries and the same row delivered again keeps one.
 */
export function rejectedRow(row: unknown, error: string): RejectedStreamRow {
  const data = JSON.stringify(row) ?? String(row);
  const id = isRecord(row) ? row.id : undefined;
  const rowId =
    id === undefined || id === null
      ? `no-id:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`
      : ticketIdText(id);
  return { rowId, data, error };
}

/** A page's rows with a usable id, in page order, and every row for rejected_rows (the input's set-aside ones too). */
export function sortStreamPage(input: Pick<PersistStreamPageInput, 'rows' | 'setAside'>): {
  kept: { id: number; row: StreamRow }[];
  rejected: RejectedStreamRow[];
} {
  const kept: { id: number; row: StreamRow }[] = [];
  const rejected = (input.setAside ?? []).map(({ row, reason }) => rejectedRow(row, reason));
  for (const row of input.rows) {
    const id = isRecord(row) ? usableId(row.id) : undefined;
    if (id === undefined) rejected.push(rejectedRow(row, NO_USABLE_ID));
    else kept.push({ id, row });
  }
  return { kept, rejected };
}

export interface TicketEventRecord {
  id: number;
  ticketId: number | null;
  /** Epoch seconds. */
  timestamp: number | null;
  createdAt: string | null;
  updaterId: number | null;
  via: string | null;
  eventType: string | null;
  childEvents: string | null;
  data: string;
}

export interface CommentRecord {
  id: number;
  ticketId: number | null;
  eventId: number;
  /** The event's timestamp: the newest copy of a comment wins (a redaction lands). */
  eventTimestamp: number | null;
  authorId: number | null;
  public: boolean | null;
  createdAt: string | null;
  body: string | null;
  htmlBody: string | null;
  plainBody: string | null;
  attachments: string | null;
  via: string | null;
  data: string;
}

export interface FieldChangeRecord {
  childId: number;
  fieldName: string;
  ticketId: number | null;
  eventId: number;
  value: string;
  /** Null when the child sent no previous_value (JSON `null` when it sent null). */
  previousValue: string | null;
  /** The event's time. */
  updatedAt: string | null;
  updaterId: number | null;
  eventType: string;
}

/** What one ticket event writes: its row, its comments, its field changes. */
export interface TicketEventRows {
  event: TicketEventRecord;
  comments: CommentRecord[];
  fieldChanges: FieldChangeRecord[];
}

/**
 * The keys of a Create or Change child that describe the child, not a ticket field: every other key is a field the
 * child sets (`status`, `tags`, `type`, `custom_field_123`…), named after it. `previous_value` is that field's old
 * value; `added_tags` and `removed_tags` detail a change of `tags`; `audit_id` and `created_at` are what audits and
 * comments carry next to the same data.
 */
export const CHILD_OWN_KEYS: ReadonlySet<string> = new Set([
  'id',
  'event_type',
  'via',
  'via_reference_id',
  'previous_value',
  'added_tags',
  'removed_tags',
  'audit_id',
  'created_at',
]);

const FIELD_CHILD_TYPES = ['Create', 'Change'];

/** The rows one ticket event (with a usable `id`) writes. Nothing of its shape is refused: odd values become null. */
export function ticketEventRows(row: StreamRow, id: number): TicketEventRows {
  const timestamp = safeInteger(row.timestamp);
  const event: TicketEventRecord = {
    id,
    ticketId: safeInteger(row.ticket_id),
    timestamp,
    createdAt: isoTimestamp(row.created_at),
    updaterId: safeInteger(row.updater_id),
    via: json(row.via),
    eventType: text(row.event_type),
    childEvents: json(row.child_events),
    data: JSON.stringify(row),
  };
  const comments: CommentRecord[] = [];
  const fieldChanges: FieldChangeRecord[] = [];
  const children = Array.isArray(row.child_events) ? (row.child_events as unknown[]) : [];
  for (const child of children) {
    if (!isRecord(child)) continue;
    // A child without a usable id is kept only inside child_events: its rows would have no key.
    const childId = usableId(child.id);
    if (childId === undefined) continue;
    const type = childType(child);
    if (type === 'Comment') comments.push(commentRecord(event, child, childId));
    if (FIELD_CHILD_TYPES.includes(type ?? '')) {
      for (const [fieldName, value] of childFields(child)) {
        fieldChanges.push({
          childId,
          fieldName,
          ticketId: event.ticketId,
          eventId: id,
          value: json(value) ?? 'null',
          previousValue: 'previous_value' in child ? json(child.previous_value) : null,
          updatedAt: eventTime(timestamp, event.createdAt),
          updaterId: event.updaterId,
          eventType: type!,
        });
      }
    }
  }
  return { event, comments, fieldChanges };
}

// Audits name the child's type `type`; ticket events `event_type`.
function childType(child: Record<string, unknown>): string | undefined {
  const type = child.event_type ?? child.type;
  return typeof type === 'string' ? type : undefined;
}

// The audit shape (`field_name`, `value`) is read too: its keys are no field names.
function childFields(child: Record<string, unknown>): [string, unknown][] {
  if (typeof child.field_name === 'string' && 'value' in child) return [[child.field_name, child.value]];
  // `type` is the ticket's type field, unless it names the child itself (audits write `type: "Change"`).
  const ownType = (key: string, value: unknown) => key === 'type' && (value === 'Create' || value === 'Change');
  return Object.entries(child).filter(([key, value]) => !CHILD_OWN_KEYS.has(key) && !ownType(key, value));
}

function commentRecord(event: TicketEventRecord, child: Record<string, unknown>, id: number): CommentRecord {
  return {
    id,
    ticketId: event.ticketId,
    eventId: event.id,
    eventTimestamp: event.timestamp,
    authorId: safeInteger(child.author_id),
    public: typeof child.public === 'boolean' ? child.public : null,
    createdAt: isoTimestamp(child.created_at),
    body: text(child.body),
    htmlBody: text(child.html_body),
    plainBody: text(child.plain_body),
    attachments: json(child.attachments),
    via: json(child.via),
    data: JSON.stringify(child),
  };
}

/** The event's time: its `timestamp`, else its `created_at`. */
function eventTime(timestamp: number | null, createdAt: string | null): string | null {
  const date = new Date((timestamp ?? NaN) * 1000);
  return (Number.isNaN(date.getTime()) ? null : isoTimestamp(date.toISOString())) ?? createdAt;
}

/**
 * One item per key, the one the sinks' upserts keep (the newest stamp; ties, and a missing stamp over a missing one: the
 * later), for a statement that cannot touch a row twice. Counted as if stored one after the other: `superseded` were
 * written and then replaced by a later one of the page, `older` were older than one before them.
 */
export function newestPerKey<T>(
  items: T[],
  key: (item: T) => string | number,
  stamp: (item: T) => string | number | null,
): { kept: T[]; superseded: number; older: number } {
  const byKey = new Map<string | number, T>();
  let superseded = 0;
  for (const item of items) {
    const seen = byKey.get(key(item));
    if (seen === undefined || replaces(stamp(item), stamp(seen))) {
      if (seen !== undefined) superseded++;
      byKey.set(key(item), item);
    }
  }
  return { kept: [...byKey.values()], superseded, older: items.length - byKey.size - superseded };
}

/** The last of each key: repeats of one row in a page are the same row. */
export function lastPerKey<T>(items: T[], key: (item: T) => string | number): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

export interface MetricEventRecord {
  id: number;
  ticketId: number | null;
  metric: string | null;
  instanceId: number | null;
  type: string | null;
  time: string | null;
  deleted: boolean | null;
  data: string;
}

export function metricEventRecord(row: StreamRow, id: number): MetricEventRecord {
  return {
    id,
    ticketId: safeInteger(row.ticket_id),
    metric: text(row.metric),
    instanceId: safeInteger(row.instance_id),
    type: text(row.type),
    time: isoTimestamp(row.time),
    deleted: typeof row.deleted === 'boolean' ? row.deleted : null,
    data: JSON.stringify(row),
  };
}

/** A user or organization of its stream, as the tickets stream's sideloads of the same kind are stored. */
export function accountRecordEntry(kind: 'users' | 'organizations', row: StreamRow, id: number): SideloadEntry {
  return {
    kind,
    id: String(id),
    updatedAt: isoTimestamp(row.updated_at),
    deletedAt: isoTimestamp(row.deleted_at),
    data: JSON.stringify(row),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeInteger(value: unknown): number | null {
  return Number.isSafeInteger(value) ? (value as number) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A value as JSON text; null when absent (undefined), `null` when sent as null. */
function json(value: unknown): string | null {
  return value === undefined ? null : (JSON.stringify(value) ?? null);
}
