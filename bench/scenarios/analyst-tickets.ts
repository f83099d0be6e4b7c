import { GROUP_ID_BASE, GROUPS, isoSeconds, TicketStore } from '../../src/emulator/data';
import type { SideloadRecord, TicketRow } from '../../src/storage/sink';

/**
 * Full ticket objects for the analyst scenario: the emulator's (`TicketStore.toFull`: 600-3000 byte descriptions, up
 * to 3 of 16 tags, 3 custom fields, statuses that age towards solved and closed, 1% deleted) over three years, with
 * each of the emulator's 5 groups split in 4, so that tickets spread over 20 groups as in a mid-size account.
 */

export const ANALYST_GROUP_COUNT = 20;
const PER_EMULATOR_GROUP = ANALYST_GROUP_COUNT / GROUPS.length;
const BASE_URL = 'https://bench.zendesk.com';
/** The data's last second: a fixed date, so that every run stores the same tickets. */
const RANGE_END = Date.parse('2026-12-01T00:00:00Z') / 1000;
const RANGE_SECONDS = 3 * 365 * 86400;

export interface AnalystTickets {
  tickets: number;
  /** Pages of 1000 full tickets in the export's order (generated_timestamp, id), each built when asked for. */
  pages(): Generator<TicketRow[]>;
  /** The 20 groups as the `groups` sideload (written with the first page, so that the `"group"` view has them). */
  groups: SideloadRecord[];
}

export function analystTickets(tickets: number, pageSize = 1000, seed = 24): AnalystTickets {
  const store = new TicketStore({
    seed,
    ticketCount: tickets,
    rangeStart: RANGE_END - RANGE_SECONDS,
    rangeEnd: RANGE_END,
  });
  const ordered = store.page(0, Infinity, tickets);
  const groups = Array.from({ length: ANALYST_GROUP_COUNT }, (_, i) => {
    const name = `${GROUPS[Math.floor(i / PER_EMULATOR_GROUP)]} ${1 + (i % PER_EMULATOR_GROUP)}`;
    return {
      id: GROUP_ID_BASE + i,
      url: `${BASE_URL}/api/v2/groups/${GROUP_ID_BASE + i}.json`,
      name,
      description: `${name} team`,
      default: i === 0,
      deleted: false,
      created_at: isoSeconds(RANGE_END - RANGE_SECONDS),
      updated_at: isoSeconds(RANGE_END - RANGE_SECONDS),
    };
  });
  return {
    tickets,
    groups,
    *pages() {
      for (let first = 0; first < ordered.length; first += pageSize) {
        yield ordered.slice(first, first + pageSize).map((ticket) => {
          const full = store.toFull(ticket, BASE_URL);
          const group = ticket.group * PER_EMULATOR_GROUP + (ticket.id % PER_EMULATOR_GROUP);
          return { ...full, group_id: GROUP_ID_BASE + group } as TicketRow;
        });
      }
    },
  };
}
