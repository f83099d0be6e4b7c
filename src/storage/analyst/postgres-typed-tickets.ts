import type { PoolClient } from 'pg';
import type { TicketRow } from '../sink';
import { analystName } from './schema';
import { TYPED_TICKET_COLUMNS, typedTicketRows } from './typed-ticket';

/**
 * Writes tickets' typed rows (`zendesk.ticket`, `ticket_tag`, `ticket_custom_field_value`) in the transaction that
 * stored them, three statements a batch: called only with rows `tickets` took, one per id.
 */

const COLUMNS = Object.keys(TYPED_TICKET_COLUMNS);

// jsonb_populate_recordset reads each typed row by column name and casts it to the table's types.
const UPSERT_TICKETS = `
  INSERT INTO ${analystName('postgres', 'ticket')} (account, ${COLUMNS.join(', ')}, stored_at)
  SELECT $1, ${COLUMNS.map((c) => `t.${c}`).join(', ')}, $2
  FROM jsonb_populate_recordset(NULL::${analystName('postgres', 'ticket')}, $3::jsonb) AS t
  ON CONFLICT (account, id) DO UPDATE SET
    ${[...COLUMNS.filter((c) => c !== 'id'), 'stored_at'].map((c) => `${c} = excluded.${c}`).join(', ')}`;

const DELETE_TAGS = `DELETE FROM ${analystName('postgres', 'ticket_tag')} WHERE account = $1 AND ticket_id = ANY($2)`;
const INSERT_TAGS = `
  INSERT INTO ${analystName('postgres', 'ticket_tag')} (account, ticket_id, tag)
  SELECT $1, t.ticket_id, t.tag FROM unnest($2::bigint[], $3::text[]) AS t(ticket_id, tag)
  ON CONFLICT DO NOTHING`;
const DELETE_FIELDS = `
  DELETE FROM ${analystName('postgres', 'ticket_custom_field_value')} WHERE account = $1 AND ticket_id = ANY($2)`;
const INSERT_FIELDS = `
  INSERT INTO ${analystName('postgres', 'ticket_custom_field_value')} (account, ticket_id, field_id, value)
  SELECT $1, f.ticket_id, f.field_id, f.value FROM unnest($2::bigint[], $3::bigint[], $4::text[])
    AS f(ticket_id, field_id, value)
  ON CONFLICT (account, ticket_id, field_id) DO UPDATE SET value = excluded.value`;

export async function writeTypedTickets(
  db: PoolClient,
  account: string,
  storedAt: string,
  rows: TicketRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const typed = rows.map(typedTicketRows);
  const ids = typed.map(({ ticket }) => ticket.id);
  await db.query(UPSERT_TICKETS, [account, storedAt, JSON.stringify(typed.map(({ ticket }) => ticket))]);
  const tags = typed.flatMap(({ ticket, tags }) => tags.map((tag) => [ticket.id, tag] as const));
  await db.query(DELETE_TAGS, [account, ids]);
  if (tags.length > 0) {
    await db.query(INSERT_TAGS, [account, tags.map(([id]) => id), tags.map(([, tag]) => tag)]);
  }
  const fields = typed.flatMap(({ ticket, customFields }) => customFields.map((field) => ({ id: ticket.id, field })));
  await db.query(DELETE_FIELDS, [account, ids]);
  if (fields.length > 0) {
    await db.query(INSERT_FIELDS, [
      account,
      fields.map(({ id }) => id),
      fields.map(({ field }) => field.field_id),
      fields.map(({ field }) => field.value),
    ]);
  }
}

/**
 * Fills the typed tables from the tickets already stored (the upgrade of a database written before they existed), in
 * batches by (account, id), inside the migration's transaction; returns how many tickets it wrote.
 */
export async function fillTypedTicketsPostgres(db: PoolClient): Promise<number> {
  let after: [string, string] = ['', '-1'];
  let count = 0;
  for (;;) {
    const { rows } = await db.query<{ account: string; id: string; raw: string; stored_at: Date }>(
      `SELECT account, id, raw, stored_at FROM public.tickets WHERE (account, id) > ($1, $2::bigint)
       ORDER BY account, id LIMIT 2000`,
      after,
    );
    if (rows.length === 0) return count;
    const byAccount = new Map<string, { storedAt: string; rows: TicketRow[] }[]>();
    for (const row of rows) {
      const batches = byAccount.get(row.account) ?? [];
      batches.push({ storedAt: row.stored_at.toISOString(), rows: [JSON.parse(row.raw) as TicketRow] });
      byAccount.set(row.account, batches);
    }
    for (const [account, batches] of byAccount) {
      // The stored_at of the typed copy is the stored ticket's; one statement per distinct stored_at keeps it.
      const byStoredAt = new Map<string, TicketRow[]>();
      for (const { storedAt, rows: tickets } of batches) {
        byStoredAt.set(storedAt, [...(byStoredAt.get(storedAt) ?? []), ...tickets]);
      }
      for (const [storedAt, tickets] of byStoredAt) await writeTypedTickets(db, account, storedAt, tickets);
    }
    count += rows.length;
    const last = rows[rows.length - 1];
    after = [last.account, last.id];
  }
}
