import Database from 'better-sqlite3';
import { Client } from 'pg';
import { quantile, round } from '../support/stats';

/**
 * Three dashboard queries an analyst runs on the typed tables and views (docs/query.md), as written for each sink,
 * timed on a connection of their own (an analyst's, not the sink's): a first run, then `runs` more.
 */

export type AnalystSinkKind = 'sqlite' | 'postgres';

interface DashboardQuery {
  name: string;
  what: string;
  sql: Record<AnalystSinkKind, string>;
}

export const DASHBOARD_QUERIES: readonly DashboardQuery[] = [
  {
    name: 'open-per-group',
    what: 'open tickets per group (ticket ⋈ "group"; new, open, pending, hold; not deleted)',
    sql: {
      sqlite: `
        SELECT g.name AS group_name, count(*) AS tickets
        FROM ticket t JOIN "group" g ON g.account = t.account AND g.id = t.group_id
        WHERE t.account = @account AND t.status IN ('new', 'open', 'pending', 'hold') AND NOT t.is_deleted
        GROUP BY g.id, g.name ORDER BY tickets DESC, group_name`,
      postgres: `
        SELECT g.name AS group_name, count(*) AS tickets
        FROM zendesk.ticket t JOIN zendesk."group" g ON g.account = t.account AND g.id = t.group_id
        WHERE t.account = $1 AND t.status IN ('new', 'open', 'pending', 'hold') AND NOT t.is_deleted
        GROUP BY g.id, g.name ORDER BY tickets DESC, group_name`,
    },
  },
  {
    name: 'top-tags',
    what: 'top tags by tickets (ticket_tag)',
    sql: {
      sqlite: `
        SELECT tag, count(*) AS tickets FROM ticket_tag WHERE account = @account
        GROUP BY tag ORDER BY tickets DESC, tag LIMIT 20`,
      postgres: `
        SELECT tag, count(*) AS tickets FROM zendesk.ticket_tag WHERE account = $1
        GROUP BY tag ORDER BY tickets DESC, tag LIMIT 20`,
    },
  },
  {
    name: 'created-per-week',
    what: "tickets created per week by status, the data's last 90 days (ticket; not deleted)",
    sql: {
      sqlite: `
        WITH last AS (SELECT max(created_at) AS at FROM ticket WHERE account = @account)
        SELECT date(t.created_at, '-6 days', 'weekday 1') AS week, t.status, count(*) AS tickets
        FROM ticket t, last
        WHERE t.account = @account AND NOT t.is_deleted
          AND t.created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', last.at, '-90 days')
        GROUP BY week, t.status ORDER BY week, t.status`,
      postgres: `
        WITH last AS (SELECT max(created_at) AS at FROM zendesk.ticket WHERE account = $1)
        SELECT date_trunc('week', t.created_at AT TIME ZONE 'UTC')::date AS week, t.status, count(*) AS tickets
        FROM zendesk.ticket t, last
        WHERE t.account = $1 AND NOT t.is_deleted AND t.created_at >= last.at - interval '90 days'
        GROUP BY 1, 2 ORDER BY 1, 2`,
    },
  },
];

export interface QueryTiming {
  name: string;
  what: string;
  rows: number;
  firstMs: number;
  /** The `runs` runs after the first. */
  runsMs: number[];
  medianMs: number;
  p95Ms: number;
  /** EXPLAIN QUERY PLAN (SQLite) / EXPLAIN (PostgreSQL), one line a step. */
  plan: string[];
  /** The first rows, for the record. */
  sample: unknown[];
}

interface Connection {
  run(sql: string): Promise<unknown[]>;
  plan(sql: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function timeDashboardQueries(
  kind: AnalystSinkKind,
  target: string,
  account: string,
  runs: number,
): Promise<QueryTiming[]> {
  const connection = kind === 'sqlite' ? sqliteConnection(target, account) : await postgresConnection(target, account);
  try {
    const timings: QueryTiming[] = [];
    for (const query of DASHBOARD_QUERIES) {
      const sql = query.sql[kind];
      const timed = async () => {
        const started = process.hrtime.bigint();
        const rows = await connection.run(sql);
        return { rows, ms: round(Number(process.hrtime.bigint() - started) / 1e6, 1) };
      };
      const first = await timed();
      const runsMs: number[] = [];
      for (let i = 0; i < runs; i++) runsMs.push((await timed()).ms);
      timings.push({
        name: query.name,
        what: query.what,
        rows: first.rows.length,
        firstMs: first.ms,
        runsMs,
        medianMs: quantile(runsMs, 0.5),
        p95Ms: quantile(runsMs, 0.95),
        plan: await connection.plan(sql),
        sample: first.rows.slice(0, 5),
      });
    }
    return timings;
  } finally {
    await connection.close();
  }
}

function sqliteConnection(file: string, account: string): Connection {
  const db = new Database(file, { readonly: true });
  return {
    run: async (sql) => db.prepare(sql).all({ account }),
    plan: async (sql) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ account }) as { detail: string }[]).map((r) => r.detail),
    close: async () => {
      db.close();
    },
  };
}

async function postgresConnection(url: string, account: string): Promise<Connection> {
  const db = new Client({ connectionString: url });
  await db.connect();
  return {
    run: async (sql) => (await db.query(sql, [account])).rows,
    plan: async (sql) =>
      (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [account])).rows.map((r) => r['QUERY PLAN']),
    close: () => db.end(),
  };
}

/** Bytes each table takes with its indexes (SQLite: dbstat; PostgreSQL: pg_total_relation_size, TOAST included). */
export async function tableBytes(
  kind: AnalystSinkKind,
  target: string,
  tables: readonly string[],
): Promise<Record<string, number>> {
  if (kind === 'sqlite') {
    const db = new Database(target, { readonly: true });
    try {
      const indexes = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?`);
      const size = db.prepare(`SELECT coalesce(sum(pgsize), 0) AS bytes FROM dbstat WHERE name = ? AND aggregate = 1`);
      return Object.fromEntries(
        tables.map((table) => {
          const names = [table, ...(indexes.all(table) as { name: string }[]).map((i) => i.name)];
          return [table, names.reduce((sum, name) => sum + (size.get(name) as { bytes: number }).bytes, 0)];
        }),
      );
    } finally {
      db.close();
    }
  }
  const db = new Client({ connectionString: target });
  await db.connect();
  try {
    const sizes: Record<string, number> = {};
    for (const table of tables) {
      const { rows } = await db.query<{ bytes: string }>('SELECT pg_total_relation_size($1::regclass) AS bytes', [
        table.includes('.') ? table : `public.${table}`,
      ]);
      sizes[table] = Number(rows[0].bytes);
    }
    return sizes;
  } finally {
    await db.end();
  }
}
