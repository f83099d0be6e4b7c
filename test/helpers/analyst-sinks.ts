import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DEFAULT_CREDENTIALS, startEmulator } from '../../src/emulator';
import { PostgresSink } from '../../src/storage/postgres';
import type { TicketRow, TicketSink } from '../../src/storage/sink';
import { SqliteSink } from '../../src/storage/sqlite';
import { REFERENCE_LISTS, type PagedStream } from '../../src/streams/names';
import { postgresAdminUrl, testPostgresUrl } from './prerequisites';

// Both sinks, fresh (a new SQLite file, a new PostgreSQL database), filled with a page of every stream the emulator
// serves: the data the docs' example queries (docs/query.md) and the DuckDB path are run against.

/** The account the documented examples name. */
export const DOCS_ACCOUNT = 'acme';

export interface FilledSinks {
  /** The SQLite sink's file (closed: open it as you like). */
  sqliteFile: string;
  /** The fresh PostgreSQL database the sink migrated and filled. */
  postgresUrl: string;
  /** Drops the database and removes the file. */
  cleanUp(): Promise<void>;
}

type Page = Record<string, unknown>;

export async function fillBothSinks(): Promise<FilledSinks> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-analyst-'));
  const sqliteFile = path.join(dir, 'tickets.db');
  const database = `zte_docs_${randomUUID().replace(/-/g, '')}`;
  const admin = new Client({ connectionString: postgresAdminUrl() });
  await admin.connect().catch((err: Error) => {
    throw new Error(`PostgreSQL at ${postgresAdminUrl()} is unreachable (TEST_POSTGRES_URL): ${err.message}`);
  });
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(testPostgresUrl());
  url.pathname = `/${database}`;
  const postgresUrl = url.toString();
  const cleanUp = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const sinks: TicketSink[] = [new SqliteSink(sqliteFile), await PostgresSink.open(postgresUrl)];
    try {
      await fill(sinks);
    } finally {
      for (const sink of sinks) await sink.close();
    }
  } catch (err) {
    await cleanUp();
    throw err;
  }
  return { sqliteFile, postgresUrl, cleanUp };
}

async function fill(sinks: TicketSink[]): Promise<void> {
  const emulator = await startEmulator({
    ticketCount: 40,
    windowSeconds: 0,
    minStartAgeSeconds: 0,
    incrementalMinStartAgeSeconds: 0,
    incrementalRequestsPerMinute: 0,
    usersCursorRequestsPerMinute: 0,
    accountRequestsPerMinute: 0,
  });
  const auth = Buffer.from(`${DEFAULT_CREDENTIALS.email}/token:${DEFAULT_CREDENTIALS.apiToken}`).toString('base64');
  const get = async (apiPath: string): Promise<Page> => {
    const response = await fetch(`${emulator.url}/api/v2/${apiPath}`, { headers: { Authorization: `Basic ${auth}` } });
    if (!response.ok) throw new Error(`GET ${apiPath}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Page;
  };
  const list = <T = Record<string, unknown>>(page: Page, key: string) => page[key] as T[];
  const all = (write: (sink: TicketSink) => Promise<unknown>) => Promise.all(sinks.map(write));
  const account = DOCS_ACCOUNT;
  try {
    // The tickets from the legacy exports endpoint (flattened rows), then changes, then the same tickets from the
    // cursor endpoint (full objects, sideloads): ticket_version gets the versions of both.
    const exported = await get('exports/tickets.json?start_time=0');
    await all((sink) =>
      sink.persistPage({
        account,
        cursor: Number(exported.end_time),
        api: 'exports',
        rows: list<TicketRow>(exported, 'results'),
        fieldHeaders: (exported.field_headers as Record<string, string> | undefined) ?? {},
      }),
    );
    emulator.mutate(40);
    const cursor = await get('incremental/tickets/cursor.json?start_time=0&include=users,groups,organizations');
    await all((sink) =>
      sink.persistPage({
        account,
        cursor: Number(cursor.end_time ?? 0),
        api: 'cursor',
        afterCursor: (cursor.after_cursor as string | null) ?? null,
        rows: list<TicketRow>(cursor, 'tickets'),
        fieldHeaders: {},
        sideloads: {
          users: list(cursor, 'users'),
          groups: list(cursor, 'groups'),
          organizations: list(cursor, 'organizations'),
        },
      }),
    );

    const streams: [PagedStream, string, string][] = [
      ['ticket_events', 'incremental/ticket_events.json?start_time=0&include=comment_events', 'ticket_events'],
      ['users', 'incremental/users/cursor.json?start_time=0', 'users'],
      ['organizations', 'incremental/organizations.json?start_time=0', 'organizations'],
      ['ticket_metric_events', 'incremental/ticket_metric_events.json?start_time=0', 'ticket_metric_events'],
    ];
    for (const [stream, apiPath, key] of streams) {
      const page = await get(apiPath);
      const checkpoint = { cursor: Number(page.end_time ?? 1), afterCursor: (page.after_cursor as string) ?? null };
      await all((sink) => sink.persistStreamPage({ account, stream, rows: list(page, key), checkpoint }));
    }
    const refreshId = Date.now();
    for (const name of REFERENCE_LISTS) {
      const page = await get(`${name}.json`);
      await all((sink) =>
        sink.persistStreamPage({
          account,
          stream: 'reference_lists',
          rows: list(page, name),
          refresh: { list: name, refreshId, lastPage: true },
          checkpoint: { cursor: Math.floor(refreshId / 1000), afterCursor: null },
        }),
      );
    }
  } finally {
    await emulator.close();
  }
}
