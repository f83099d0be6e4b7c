import { EXPORT_APIS, ExportApi } from '../shared';
import type { StreamSink } from '../streams/contract';

/** A ticket row as the API sent it; only these keys are read, the rest is stored untouched. */
export type TicketRow = Record<string, unknown> & { id: number; generated_timestamp: number };

/** A record of a sideloaded array (`include=users,groups,…`) as the API sent it. */
export type SideloadRecord = Record<string, unknown> & { id: number | string; updated_at?: string | null };

/** A page's tickets and what came with them. */
export interface PageRows {
  rows: TicketRow[];
  fieldHeaders: Record<string, string>;
  /** The arrays next to `tickets` in the answer, by name (`users`, `groups`, `organizations`, `metric_sets`, …). */
  sideloads?: Record<string, SideloadRecord[]>;
  /** Tickets of the page the export did not trust: written to rejected_tickets in the same transaction. */
  setAside?: SetAsideTicket[];
}

/** Whose page it is, and the checkpoint that follows it: written in the same transaction as the tickets. */
export interface PageCheckpoint {
  account: string;
  cursor: number;
  /** Which export wrote the checkpoint: a cursor of one endpoint means nothing to another. */
  api?: ExportApi;
  /** Cursor-based export: the after_cursor that follows this page. */
  afterCursor?: string | null;
}

export type PersistPageInput = PageCheckpoint & PageRows;

/** A ticket with a value that cannot be true (a negative id, a timestamp in milliseconds…), as received, and why. */
export interface SetAsideTicket {
  row: Record<string, unknown>;
  reason: string;
}

/** The export a stored checkpoint names; null for none, or for a name this version does not know. */
export function exportApiOf(stored: string | null): ExportApi | null {
  return (EXPORT_APIS as readonly (string | null)[]).includes(stored) ? (stored as ExportApi) : null;
}

/** An account's last stored checkpoint: the recovery point of a new workflow. */
export interface Checkpoint {
  cursor: number;
  api: ExportApi | null;
  afterCursor: string | null;
}

export interface PersistResult {
  /** Rows inserted or replacing an older (or equally old) version. */
  written: number;
  /** Rows older than the version already stored. */
  ignoredOlder: number;
  /**
   * Rows the database refuses the same way every time and the input's setAside tickets, all in rejected_tickets
   * (written + ignoredOlder + rejected = rows.length + setAside.length).
   */
  rejected: number;
  /** Sideload records skipped: no usable id, or a value the database refuses. */
  rejectedSideloads: number;
}

export interface StoredTicket {
  id: number;
  generatedTimestamp: number;
  updatedAt: string | null;
  status: string | null;
  /** The ticket JSON exactly as received. */
  data: string;
}

export interface RejectedTicket {
  /** The id as text: it may not fit a number column. */
  ticketId: string;
  generatedTimestamp: number | null;
  /** The ticket JSON exactly as received. */
  data: string;
  /** Why the database refused it, or why the export did not trust it. */
  error: string;
}

export interface StoredSideload {
  id: string;
  updatedAt: string | null;
  /** The record JSON exactly as received. */
  data: string;
}

/** How a sink writes, whatever the database (SINK_TICKET_VERSIONS). */
export interface SinkOptions {
  /** Also keep every version of a ticket in ticket_version (default true). */
  ticketVersions?: boolean;
  /**
   * Also write the analysts' typed copy of each stored ticket (`ticket`, `ticket_tag`, `ticket_custom_field_value`;
   * default true). Exists for measurement only (the bench's persist cost of the typed copy, `--only analyst`): not a
   * user setting and not in the config; a sink written with it off has typed tables that miss tickets.
   */
  typedTickets?: boolean;
}

/** Both sinks: the tickets stream (below) and the streams around the ticket (StreamSink). */
export interface TicketSink extends StreamSink {
  /**
   * One transaction: upsert every row by (account, id) keeping the newest generated_timestamp (ties: this write
   * wins), set aside the rows the database can never store and the input's setAside tickets, upsert the sideloads by
   * (account, id) keeping the newest updated_at, store the field headers, write the checkpoint; unless turned off, add
   * each stored row's version to ticket_version (once per (account, id, generated_timestamp); the same key with other
   * content: this write wins).
   */
  persistPage(input: PersistPageInput): Promise<PersistResult>;
  readCheckpoint(account: string): Promise<number | undefined>;
  readFullCheckpoint(account: string): Promise<Checkpoint | undefined>;
  readTickets(account: string): Promise<StoredTicket[]>;
  /** The account's rows of ticket_version, by id then generated_timestamp. */
  readTicketVersions(account: string): Promise<StoredTicket[]>;
  countTickets(account: string): Promise<number>;
  readRejected(account: string): Promise<RejectedTicket[]>;
  countRejected(account: string): Promise<number>;
  readSideloads(account: string, kind: string): Promise<StoredSideload[]>;
  /**
   * Whether the database answers now, for the worker's /readyz: SQLite, the file opens and reads; PostgreSQL, a new
   * connection (not one of the pool's, which persist may all hold) runs `SELECT 1`. Rejects after `timeoutMs`.
   */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function normalizedStatus(row: TicketRow): string | null {
  return typeof row.status === 'string' ? row.status.toLowerCase() : null;
}

export function updatedAt(row: TicketRow): string | null {
  return typeof row.updated_at === 'string' ? row.updated_at : null;
}

/**
 * A value a driver binds as one scalar: anything else (an object, an array, a boolean) becomes its JSON text, which a
 * number column refuses like any other bad value instead of the driver throwing or nesting arrays.
 */
export function scalar(value: unknown): string | number | bigint | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return value;
  return JSON.stringify(value) ?? String(value);
}

/** A ticket id as text for rejected_tickets: numbers as written, anything else as JSON (a string id gets quotes). */
export function ticketIdText(id: unknown): string {
  return typeof id === 'number' ? String(id) : (JSON.stringify(id) ?? String(id));
}

/** A generated_timestamp worth keeping next to a rejected row, or null. */
export function safeTimestamp(value: unknown): number | null {
  return Number.isSafeInteger(value) ? (value as number) : null;
}

/** A database error's message, short enough for a column. */
export function shortError(err: unknown): string {
  const message = String((err as { message?: unknown })?.message ?? err);
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}

/**
 * `value` as `YYYY-MM-DDTHH:mm:ss.sssZ`, or null when it is no real instant of years 1-9999 (what PostgreSQL's
 * TIMESTAMPTZ reads without surprises: it takes `yesterday` and rejects `+275760-…`). The fixed width also makes these
 * strings sort by time.
 */
export function isoTimestamp(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !realCalendarDay(value)) return null;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999 ? date.toISOString() : null;
}

// Date.parse rolls 2024-02-30 over to March 1st.
function realCalendarDay(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!match) return true;
  const [year, month, day] = match.slice(1).map(Number);
  return day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `2024-01-01T00:00:00.000Z` as Zendesk writes it, `2024-01-01T00:00:00Z`. */
export function zendeskTimestamp(iso: string): string {
  return iso.replace(/\.000Z$/, 'Z');
}

/**
 * JSON.stringify writes NUL as `\u0000` and a lone surrogate as `\udxxx`: valid JSON that PostgreSQL's jsonb refuses.
 * An escape counts only after an even number of backslashes (`\\u0000` is a backslash and the text `u0000`).
 */
const JSONB_REFUSES = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** Whether jsonb can hold this JSON.stringify text. */
export function jsonbCanHold(json: string): boolean {
  return !JSONB_REFUSES.test(json);
}

/** The sideload kinds with a table of their own; any other kind goes to other_sideloads. */
export const SIDELOAD_TABLES: readonly string[] = ['users', 'groups', 'organizations'];

export interface SideloadEntry {
  kind: string;
  /** Digits for the kinds of SIDELOAD_TABLES (a BIGINT/INTEGER column), any text for the others. */
  id: string;
  /** isoTimestamp of its updated_at. */
  updatedAt: string | null;
  /** isoTimestamp of its deleted_at: only organizations have a column for it. */
  deletedAt: string | null;
  /** The record JSON exactly as received. */
  data: string;
}

/**
 * The sideload records a sink stores, one per (kind, id): the one the upsert rule picks (newest updated_at; ties and a
 * missing updated_at over a missing one: the later), and how many were skipped for want of a usable id or kind.
 */
export function sideloadEntries(sideloads: PersistPageInput['sideloads']): {
  entries: SideloadEntry[];
  skipped: number;
} {
  const byKey = new Map<string, SideloadEntry>();
  let skipped = 0;
  for (const [kind, records] of Object.entries(sideloads ?? {})) {
    if (!Array.isArray(records)) continue;
    for (const record of records as unknown[]) {
      const entry = sideloadEntry(kind, record);
      if (!entry) {
        skipped++;
        continue;
      }
      const key = JSON.stringify([kind, entry.id]);
      const seen = byKey.get(key);
      if (!seen || replaces(entry.updatedAt, seen.updatedAt)) byKey.set(key, entry);
    }
  }
  return { entries: [...byKey.values()], skipped };
}

/** The sideload upsert rule, as the sinks' SQL writes it: `old IS NULL OR new >= old`. */
export function replaces<T extends string | number>(next: T | null, stored: T | null): boolean {
  return stored === null || (next !== null && next >= stored);
}

function sideloadEntry(kind: string, record: unknown): SideloadEntry | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record) || !storableText(kind)) return undefined;
  const { id: value, updated_at, deleted_at } = record as Record<string, unknown>;
  const id = sideloadId(kind, value);
  if (id === undefined) return undefined;
  return {
    kind,
    id,
    updatedAt: isoTimestamp(updated_at),
    deletedAt: isoTimestamp(deleted_at),
    data: JSON.stringify(record),
  };
}

function sideloadId(kind: string, value: unknown): string | undefined {
  const text = Number.isSafeInteger(value) ? String(value) : typeof value === 'string' ? value : undefined;
  if (text === undefined) return undefined;
  if (SIDELOAD_TABLES.includes(kind)) return /^-?\d{1,18}$/.test(text) ? text : undefined;
  return storableText(text) ? text : undefined;
}

/** Text both databases keep as is: not empty, no NUL (PostgreSQL refuses it), no lone surrogate (stored as U+FFFD). */
function storableText(text: string): boolean {
  return text.length > 0 && !/\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
