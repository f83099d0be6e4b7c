import { createHash } from 'node:crypto';
import type { SetAsideTicket, SideloadRecord, TicketRow } from '../storage/sink';
import { INLINE_PAGE_MAX_BYTES } from '../codec/limits';
import { InlinePage, PageSummary, STORED_TAIL_MAX_TICKETS, TailTicket } from './types';

/** What fetchPage read: the tickets kept with their JSON text, and what came with them. */
export interface ReadPage {
  rows: TicketRow[];
  /** Each kept ticket's JSON, in the order of `rows`. */
  rowTexts: string[];
  setAside: SetAsideTicket[];
  fieldHeaders: Record<string, string>;
  sideloads?: Record<string, SideloadRecord[]>;
  endTime: number | null;
  vouchedUntil: number;
}

/** A 128-bit fingerprint of a JSON text: equal texts, equal prints; a different one collides with odds of 2^-128. */
export function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** The page as persist takes it, as JSON text, built from the rows' own texts (a page is serialised once). */
export function pageJson(page: ReadPage): string {
  const parts = [`"rows":[${page.rowTexts.join(',')}]`, `"fieldHeaders":${JSON.stringify(page.fieldHeaders)}`];
  if (page.sideloads) parts.push(`"sideloads":${JSON.stringify(page.sideloads)}`);
  if (page.setAside.length > 0) parts.push(`"setAside":${JSON.stringify(page.setAside)}`);
  return `{${parts.join(',')}}`;
}

/** The page as an object, for a page small enough to travel through the history. */
export function inlinePage(page: ReadPage): InlinePage {
  return {
    rows: page.rows,
    fieldHeaders: page.fieldHeaders,
    ...(page.sideloads && { sideloads: page.sideloads }),
    ...(page.setAside.length > 0 && { setAside: page.setAside }),
  };
}

export function fitsInHistory(bytes: number): boolean {
  return bytes <= INLINE_PAGE_MAX_BYTES;
}

/** What the workflow needs to know of a page (see PageSummary). */
export function summarizePage(page: ReadPage, bytes: number): PageSummary {
  let newest = 0;
  let oldest: number | null = null;
  for (const row of page.rows) {
    newest = Math.max(newest, row.generated_timestamp);
    oldest = oldest === null ? row.generated_timestamp : Math.min(oldest, row.generated_timestamp);
  }
  // The next start_time is at least the page's end (end_time, or its newest ticket), capped at the answer's own time.
  const tailFrom = Math.min(page.endTime ?? newest, newest, page.vouchedUntil);
  const tail: TailTicket[] = [];
  let tooMany = false;
  page.rows.forEach((row, i) => {
    if (row.generated_timestamp < tailFrom || tooMany) return;
    if (tail.length === STORED_TAIL_MAX_TICKETS) tooMany = true;
    else tail.push([row.id, row.generated_timestamp, fingerprint(page.rowTexts[i])]);
  });
  return {
    tickets: page.rows.length + page.setAside.length,
    setAside: page.setAside.length,
    newest,
    oldest,
    tail: tooMany ? null : tail,
    fieldHeaders: fingerprint(JSON.stringify(page.fieldHeaders)),
    sideloads: page.sideloads !== undefined,
    bytes,
  };
}
