import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { PostgresSink } from '../src/storage/postgres';
import type { TicketRow, TicketSink } from '../src/storage/sink';
import { SqliteSink } from '../src/storage/sqlite';
import { exportPages } from './scenarios/sink-throughput';
import { round } from './support/stats';

/**
 * `node -r ts-node/register bench/ticket-versions.ts [pages]` (default 20 pages of 1000 emulator tickets): persist
 * throughput of both sinks with ticket_version on and off, and the size ticket_version takes. Each run stores every
 * ticket new, then every ticket changed once (generated_timestamp + 1): 2 × pages × 1000 versions. PostgreSQL:
 * BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) may create databases.
 */
async function run() {
  const pages = Number(process.argv[2] ?? 20);
  const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const batches = await exportPages(pages);
  const changed = batches.map((rows) => rows.map((r) => ({ ...r, generated_timestamp: r.generated_timestamp + 1 })));
  const all = batches.flat();
  const averageTicketBytes = Math.round(
    all.reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r)), 0) / all.length,
  );
  console.log(`${all.length} tickets, ${averageTicketBytes} bytes of JSON each on average`);
  const results = [];
  for (const sinkName of ['sqlite', 'postgres'] as const) {
    for (const ticketVersions of [false, true, false, true]) {
      const scratch = await scratchSink(sinkName, adminUrl, ticketVersions);
      try {
        const account = 'bench';
        const pass = async (rounds: TicketRow[][]) => {
          const started = process.hrtime.bigint();
          for (const [i, rows] of rounds.entries()) {
            await scratch.sink.persistPage({ account, rows, fieldHeaders: {}, cursor: i + 1 });
          }
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          return Math.round((rounds.length * 1000) / seconds);
        };
        const fresh = await pass(batches);
        const changes = await pass(changed);
        const versions = (await scratch.sink.readTicketVersions(account)).length;
        const bytes = ticketVersions ? await scratch.size() : 0;
        results.push({
          sink: sinkName,
          ticketVersions: ticketVersions ? 'on' : 'off',
          newTicketsPerSecond: fresh,
          changedTicketsPerSecond: changes,
          versions,
          ticketVersionBytes: bytes,
          mibPerMillionVersions: versions ? round(((bytes / versions) * 1e6) / 2 ** 20, 1) : 0,
        });
        console.log(JSON.stringify(results[results.length - 1]));
      } finally {
        await scratch.close();
      }
    }
  }
  console.table(results);
}

interface Scratch {
  sink: TicketSink;
  /** Bytes of ticket_version with its index (and, in PostgreSQL, its TOAST table). */
  size(): Promise<number>;
  close(): Promise<void>;
}

async function scratchSink(kind: 'sqlite' | 'postgres', adminUrl: string, ticketVersions: boolean): Promise<Scratch> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-bench-versions-'));
    const file = path.join(dir, 'tickets.db');
    const sink = new SqliteSink(file, { ticketVersions });
    return {
      sink,
      size: async () => {
        const db = new Database(file, { readonly: true });
        try {
          const row = db
            .prepare(
              `SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN ('ticket_version', 'sqlite_autoindex_ticket_version_1')`,
            )
            .get() as { bytes: number };
          return row.bytes;
        } finally {
          db.close();
        }
      },
      close: async () => {
        await sink.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const database = `zte_bench_versions_${randomUUID().replace(/-/g, '')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = adminUrl.replace(/\/[^/]*$/, `/${database}`);
  const sink = await PostgresSink.open(url, {}, { ticketVersions });
  return {
    sink,
    size: async () => {
      const db = new Client({ connectionString: url });
      await db.connect();
      try {
        await db.query('VACUUM ANALYZE ticket_version');
        const { rows } = await db.query<{ bytes: string }>(`SELECT pg_total_relation_size('ticket_version') AS bytes`);
        return Number(rows[0].bytes);
      } finally {
        await db.end();
      }
    },
    close: async () => {
      await sink.close();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
