import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { fillBothSinks, FilledSinks } from '../helpers/analyst-sinks';
import { SinkName, taggedBlocks } from '../helpers/query-docs';

// The DuckDB path docs/query.md documents for a machine without DuckDB's sqlite and postgres extensions (they are
// downloaded at INSTALL, which this project's machines cannot): the sink's own client writes a table or view as JSON,
// DuckDB's built-in JSON reader and Parquet writer turn it into Parquet. The doc's blocks run as written, from a
// directory that holds the SQLite sink at .data/tickets.db, with SINK_URL the PostgreSQL sink; each Parquet file,
// read back with read_parquet, holds as many rows as the sink's table. The ATTACH path needs the extensions: not run.

const TABLES = ['ticket', 'ticket_comment', 'ticket_field_history'];

const export_ = Object.fromEntries(taggedBlocks('duckdb').map((b) => [b.value, b.code])) as Record<
  SinkName | 'parquet',
  string | undefined
>;

let sinks: FilledSinks;
let workDir: string;
let duck: DuckDBInstance;
let connection: DuckDBConnection;
const startDir = process.cwd();

beforeAll(async () => {
  // The documented commands need these clients; a missing one fails the test, never skips it.
  for (const [tool, args] of [
    ['sqlite3', ['--version']],
    ['psql', ['--version']],
  ] as const) {
    try {
      execFileSync(tool, args, { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: docs/query.md's DuckDB path runs it (apt-get install ${tool})`);
    }
  }
  sinks = await fillBothSinks();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-duckdb-'));
  fs.mkdirSync(path.join(workDir, '.data'));
  fs.copyFileSync(sinks.sqliteFile, path.join(workDir, '.data/tickets.db'));
  duck = await DuckDBInstance.create(':memory:');
  connection = await duck.connect();
}, 120_000);

afterAll(async () => {
  process.chdir(startDir);
  connection?.closeSync();
  duck?.closeSync();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  await sinks?.cleanUp();
});

test('the doc has the export command of each sink and the DuckDB statement', () => {
  expect(export_.sqlite).toMatch(/\bticket\b/);
  expect(export_.postgres).toMatch(/\bticket\b/);
  expect(export_.parquet).toMatch(/FORMAT parquet/);
});

/** A documented block for another table: the doc's is for `ticket`. */
const forTable = (code: string, table: string) => code.replace(/\bticket\b/g, table);

async function sinkCount(sink: SinkName, table: string): Promise<number> {
  if (sink === 'sqlite') {
    const db = new Database(path.join(workDir, '.data/tickets.db'), { readonly: true });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const db = new Client({ connectionString: sinks.postgresUrl });
  await db.connect();
  try {
    return Number((await db.query(`SELECT count(*) AS n FROM zendesk."${table}"`)).rows[0].n);
  } finally {
    await db.end();
  }
}

describe.each(['sqlite', 'postgres'] as const)('the %s sink', (sink) => {
  test.each(TABLES)('%s: JSON from the sink, Parquet from DuckDB, every row', async (table) => {
    const expected = await sinkCount(sink, table);
    expect(expected).toBeGreaterThan(0);
    const dir = path.join(workDir, sink);
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir);
      fs.symlinkSync(path.join(workDir, '.data'), path.join(dir, '.data'));
    }

    execFileSync('bash', ['-euo', 'pipefail', '-c', forTable(export_[sink]!, table)], {
      cwd: dir,
      env: { ...process.env, SINK_URL: sinks.postgresUrl },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // DuckDB resolves the statement's relative paths against the process's directory.
    process.chdir(dir);
    try {
      await connection.run(forTable(export_.parquet!, table));
      const reader = await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${table}.parquet')`);
      expect(Number(reader.getRowObjects()[0].n)).toBe(expected);
    } finally {
      process.chdir(startDir);
    }
  });
});
