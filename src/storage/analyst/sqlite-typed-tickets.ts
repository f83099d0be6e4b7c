import type Database from 'better-sqlite3';
import type { TicketRow } from '../sink';
import { TYPED_TICKET_COLUMNS, typedTicketRows } from './typed-ticket';

/**
 * Writes a ticket's typed rows (`ticket`, `ticket_tag`, `ticket_custom_field_value`) on the sink's connection, inside
 * the transaction that stored the ticket: called only for a row `tickets` took, so the typed copy is always the
 * stored version's.
 */
export class SqliteTypedTickets {
  private readonly upsertTicket: Database.Statement;
  private readonly deleteTags: Database.Statement;
  private readonly insertTag: Database.Statement;
  private readonly deleteCustomFields: Database.Statement;
  private readonly insertCustomField: Database.Statement;

  constructor(db: Database.Database) {
    const columns = Object.keys(TYPED_TICKET_COLUMNS);
    this.upsertTicket = db.prepare(`
      INSERT INTO ticket (account, ${columns.join(', ')}, stored_at)
      VALUES (@account, ${columns.map((c) => `@${c}`).join(', ')}, @stored_at)
      ON CONFLICT (account, id) DO UPDATE SET
        ${[...columns.filter((c) => c !== 'id'), 'stored_at'].map((c) => `${c} = excluded.${c}`).join(', ')}`);
    this.deleteTags = db.prepare('DELETE FROM ticket_tag WHERE account = ? AND ticket_id = ?');
    this.insertTag = db.prepare('INSERT OR IGNORE INTO ticket_tag (account, ticket_id, tag) VALUES (?, ?, ?)');
    this.deleteCustomFields = db.prepare('DELETE FROM ticket_custom_field_value WHERE account = ? AND ticket_id = ?');
    this.insertCustomField = db.prepare(
      'INSERT OR REPLACE INTO ticket_custom_field_value (account, ticket_id, field_id, value) VALUES (?, ?, ?, ?)',
    );
  }

  write(account: string, row: TicketRow, storedAt: string): void {
    const { ticket, tags, customFields } = typedTicketRows(row);
    // SQLite has no booleans: 1 and 0, as the stored tables keep them.
    const values = Object.fromEntries(
      Object.entries(ticket).map(([key, value]) => [key, typeof value === 'boolean' ? Number(value) : value]),
    );
    this.upsertTicket.run({ ...values, account, stored_at: storedAt });
    this.deleteTags.run(account, ticket.id);
    for (const tag of tags) this.insertTag.run(account, ticket.id, tag);
    this.deleteCustomFields.run(account, ticket.id);
    for (const field of customFields) this.insertCustomField.run(account, ticket.id, field.field_id, field.value);
  }
}

/**
 * Fills the typed tables from the tickets already stored (the upgrade of a file written before they existed), in
 * batches by (account, id); returns how many tickets it wrote.
 */
export function fillTypedTicketsSqlite(db: Database.Database): number {
  const typed = new SqliteTypedTickets(db);
  const batch = db.prepare(`
    SELECT account, id, data, stored_at AS storedAt FROM tickets
    WHERE (account, id) > (?, ?) ORDER BY account, id LIMIT 2000`);
  let after: [string, number] = ['', -Infinity];
  let count = 0;
  for (;;) {
    const rows = batch.all(...after) as { account: string; id: number; data: string; storedAt: string }[];
    if (rows.length === 0) return count;
    for (const { account, data, storedAt } of rows) {
      typed.write(account, JSON.parse(data) as TicketRow, storedAt);
      count++;
    }
    const last = rows[rows.length - 1];
    after = [last.account, last.id];
  }
}
