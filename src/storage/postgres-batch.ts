import { DatabaseError, PoolClient } from 'pg';
import { shortError } from './sink';

/** Batched writes of PostgreSQL pages, and which errors set a row aside rather than fail the page. */

/** An error PostgreSQL itself reported (with a SQLSTATE), as opposed to a connection or client-side failure. */
export function hasSqlState(err: unknown): boolean {
  return err instanceof DatabaseError;
}

/**
 * SQLSTATE classes a page meets the same way on every retry: 22 data exception (a value out of range or unreadable),
 * 23 integrity violation, 54 program limit (a value too large or too deep). Connection errors (08…, 57P01) and errors
 * without a SQLSTATE fail the page, which is retried.
 */
export function isPostgresDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

export interface Refused<T> {
  item: T;
  error: string;
}

/**
 * Stores `items` in one attempt (`store` may run several statements); when the database refuses the data, splits the batch in halves down to single
 * items and returns the ones it refuses, with the reason. A savepoint per attempt keeps the transaction usable.
 */
export async function storeOrSetAside<T>(
  db: PoolClient,
  items: T[],
  store: (batch: T[]) => Promise<number>,
): Promise<{ stored: number; refused: Refused<T>[] }> {
  if (items.length === 0) return { stored: 0, refused: [] };
  try {
    return { stored: await withSavepoint(db, () => store(items)), refused: [] };
  } catch (err) {
    if (!isPostgresDataError(err)) throw err;
    if (items.length === 1) return { stored: 0, refused: [{ item: items[0], error: shortError(err) }] };
  }
  const middle = Math.ceil(items.length / 2);
  const first = await storeOrSetAside(db, items.slice(0, middle), store);
  const second = await storeOrSetAside(db, items.slice(middle), store);
  return { stored: first.stored + second.stored, refused: [...first.refused, ...second.refused] };
}

async function withSavepoint<T>(db: PoolClient, work: () => Promise<T>): Promise<T> {
  await db.query('SAVEPOINT attempt');
  try {
    const result = await work();
    await db.query('RELEASE SAVEPOINT attempt');
    return result;
  } catch (err) {
    // Without an answer from PostgreSQL the connection is done for: the transaction fails as a whole (inTransaction).
    if (hasSqlState(err)) await db.query('ROLLBACK TO SAVEPOINT attempt; RELEASE SAVEPOINT attempt');
    throw err;
  }
}
