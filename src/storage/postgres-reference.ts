import type { PoolClient } from 'pg';
import { REFERENCE_LISTS, type ReferenceList } from '../streams/names';
import type { ReferenceRecord } from './reference-tables';

const NEW_REFERENCE_TABLES = REFERENCE_LISTS.filter((list) => list !== 'groups');

/**
 * The reference lists' tables (a migration of postgres.ts): four new ones, and groups (a sideload table, which keeps
 * the row as received in raw too) gains deleted_at and last_refresh.
 */
export function postgresReferenceSchema(): string {
  const tables = NEW_REFERENCE_TABLES.map(
    (table) => `
      CREATE TABLE ${table} (
        account TEXT NOT NULL,
        id BIGINT NOT NULL,
        updated_at TIMESTAMPTZ,
        deleted_at TIMESTAMPTZ,
        last_refresh BIGINT,
        data JSONB NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account, id)
      );`,
  );
  return [...tables, 'ALTER TABLE groups ADD COLUMN deleted_at TIMESTAMPTZ, ADD COLUMN last_refresh BIGINT;'].join(
    '\n',
  );
}

/** groups keeps the row in raw too, as the sideloads write it. */
const withRaw = (list: ReferenceList) => list === 'groups';

// What the list says now replaces what was stored: a row seen again is live again.
function upsertSql(list: ReferenceList): string {
  const raw = withRaw(list);
  return `
    INSERT INTO ${list} (account, id, updated_at, deleted_at, last_refresh, data, ${raw ? 'raw, ' : ''}stored_at)
    SELECT $1, r.id, r.updated_at, NULL, $3, r.data::jsonb, ${raw ? 'r.data, ' : ''}$2
    FROM unnest($4::bigint[], $5::timestamptz[], $6::text[]) AS r(id, updated_at, data)
    ON CONFLICT (account, id) DO UPDATE SET
      updated_at = excluded.updated_at, deleted_at = NULL, last_refresh = excluded.last_refresh,
      data = excluded.data, ${raw ? 'raw = excluded.raw, ' : ''}stored_at = excluded.stored_at`;
}

/** Upserts a batch of one list's rows (one per id) with the refresh's id. */
export async function upsertReferenceRows(
  db: PoolClient,
  list: ReferenceList,
  account: string,
  storedAt: string,
  refreshId: number,
  records: readonly ReferenceRecord[],
): Promise<void> {
  await db.query(upsertSql(list), [
    account,
    storedAt,
    refreshId,
    records.map((r) => r.id),
    records.map((r) => r.updatedAt),
    records.map((r) => r.data),
  ]);
}

/** Marks deleted the rows of the list this refresh did not see; returns how many. */
export async function markUnseenReferenceRows(
  db: PoolClient,
  list: ReferenceList,
  account: string,
  refreshId: number,
  deletedAt: string,
): Promise<number> {
  const result = await db.query(
    `UPDATE ${list} SET deleted_at = $3
     WHERE account = $1 AND deleted_at IS NULL AND (last_refresh IS NULL OR last_refresh <> $2)`,
    [account, refreshId, deletedAt],
  );
  return result.rowCount ?? 0;
}
