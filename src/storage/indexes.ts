/**
 * The indexes for what analysts filter on: tickets by status and by updated_at, and the tables around the ticket by
 * ticket_id (a ticket's comments, events, field history and metric events). Written once; each sink's migration
 * creates them. Every key starts with `account`, as every table's primary key does. The list is migration 3 (SQLite)
 * and 6 (PostgreSQL) as written: later migrations renamed ticket_field_history to ticket_field_changes (and its index),
 * and the analysts' tables bring their own (analyst/schema.ts).
 */
export const ANALYST_INDEXES = [
  { name: 'tickets_status', table: 'tickets', columns: ['account', 'status'] },
  { name: 'tickets_updated_at', table: 'tickets', columns: ['account', 'updated_at'] },
  { name: 'ticket_events_ticket_id', table: 'ticket_events', columns: ['account', 'ticket_id'] },
  { name: 'ticket_comments_ticket_id', table: 'ticket_comments', columns: ['account', 'ticket_id'] },
  { name: 'ticket_field_history_ticket_id', table: 'ticket_field_history', columns: ['account', 'ticket_id'] },
  { name: 'ticket_metric_events_ticket_id', table: 'ticket_metric_events', columns: ['account', 'ticket_id'] },
] as const;

/** The statements both sinks run (both take CREATE INDEX IF NOT EXISTS). */
export function analystIndexesSql(): string {
  return ANALYST_INDEXES.map(
    ({ name, table, columns }) => `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${columns.join(', ')});`,
  ).join('\n');
}
