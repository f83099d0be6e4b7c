import type { SetAsideTicket, TicketRow } from '../storage/sink';

/** The key of a placeholder row that carries a set-aside ticket from fetchPage to persist. */
export const SET_ASIDE_KEY = 'set_aside';

/**
 * A ticket fetchPage did not trust, standing in the page for it. The workflow counts a page's rows (a full page, the
 * crowded-second trap) but takes the newest generated_timestamp of its rows for the cursor, so the ticket keeps its
 * place without its values: id 0 (no ticket has it, and a real row with it is set aside) and a generated_timestamp
 * that cannot move the cursor. persist files the ticket in rejected_tickets.
 */
export type SetAsidePlaceholder = TicketRow & { id: 0; [SET_ASIDE_KEY]: SetAsideTicket };

/**
 * The rows the workflow receives: the trusted ones, then a placeholder per set-aside ticket dated like the oldest
 * trusted row (the start_time when there is none), inside the page's own range.
 */
export function withPlaceholders(rows: TicketRow[], setAside: SetAsideTicket[], startTime: number): TicketRow[] {
  if (setAside.length === 0) return rows;
  const oldest =
    rows.length > 0 ? rows.reduce((min, row) => Math.min(min, row.generated_timestamp), Infinity) : startTime;
  const placeholders = setAside.map((ticket): SetAsidePlaceholder => ({
    id: 0,
    generated_timestamp: oldest,
    [SET_ASIDE_KEY]: ticket,
  }));
  return [...rows, ...placeholders];
}

/** persist's input rows apart: the tickets to store, and the set-aside ones their placeholders carry. */
export function separatePlaceholders(rows: TicketRow[]): { rows: TicketRow[]; setAside: SetAsideTicket[] } {
  const tickets: TicketRow[] = [];
  const setAside: SetAsideTicket[] = [];
  for (const row of rows) {
    if (isPlaceholder(row)) setAside.push(row[SET_ASIDE_KEY]);
    else tickets.push(row);
  }
  return { rows: tickets, setAside };
}

function isPlaceholder(row: TicketRow): row is SetAsidePlaceholder {
  const ticket = row[SET_ASIDE_KEY] as Partial<SetAsideTicket> | undefined;
  return (
    row.id === 0 &&
    typeof ticket === 'object' &&
    ticket !== null &&
    typeof ticket.reason === 'string' &&
    typeof ticket.row === 'object' &&
    ticket.row !== null
  );
}
