import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { DEFAULT_CREDENTIALS, startEmulator, type Emulator } from '../../src/emulator';
import { PostgresSink } from '../../src/storage/postgres';
import type { TicketRow, TicketSink } from '../../src/storage/sink';
import { SqliteSink } from '../../src/storage/sqlite';
import { TYPED_TICKET_COLUMNS } from '../../src/storage/analyst/typed-ticket';
import { ZendeskClient } from '../../src/zendesk/client';
import { testPostgresUrl } from '../helpers/prerequisites';

/**
 * One emulator truth exported through the three ticket endpoints (real HTTP) into each sink: the typed `ticket`,
 * `ticket_tag` and `ticket_custom_field` rows agree in every column the endpoint carries. incremental and cursor carry
 * the full object (every column); exports carries the flattened row.
 */

const POSTGRES_URL = testPostgresUrl();
const APIS = ['exports', 'incremental', 'cursor'] as const;
type Api = (typeof APIS)[number];

/** The ticket columns the exports row carries; the others are null there, or names in their own columns. */
const EXPORTS_COLUMNS = [
  'id',
  'created_at',
  'updated_at',
  'generated_timestamp',
  'subject',
  'status',
  'priority',
  'type',
  'url',
  'is_deleted',
];
/** The order number: free text, the same on every endpoint (the tier and area drop-downs are titles on exports). */
const TEXT_FIELD_ID = 360003;

const INTEGER_COLUMNS = new Set(
  Object.entries(TYPED_TICKET_COLUMNS)
    .filter(([, kind]) => kind === 'integer')
    .map(([name]) => name),
);

let emulator: Emulator;
let zendesk: ZendeskClient;

beforeAll(async () => {
  emulator = await startEmulator({
    ticketCount: 1500,
    windowSeconds: 0,
    minStartAgeSeconds: 0,
    incrementalMinStartAgeSeconds: 0,
    incrementalRequestsPerMinute: 0,
  });
  // Churn first: new tickets, agent and system updates, deletions (status "Deleted" on exports, "deleted" elsewhere).
  emulator.mutate(40, 'create');
  emulator.mutate(60, 'agentUpdate');
  emulator.mutate(30, 'systemUpdate');
  emulator.mutate(25, 'delete');
  zendesk = new ZendeskClient({
    baseUrl: emulator.url,
    auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
  });
});

afterAll(async () => emulator?.close());

/** Every page of one endpoint from the start, persisted as the export does (rows, headers, checkpoint). */
async function exportInto(sink: TicketSink, account: string, api: Api): Promise<number> {
  let pages = 0;
  let cursor = 0;
  let afterCursor: string | undefined;
  for (;;) {
    const page =
      api === 'exports'
        ? await zendesk.fetchExportPage(cursor)
        : api === 'incremental'
          ? await zendesk.fetchTimeBasedPage({ startTime: cursor, perPage: 1000 })
          : await zendesk.fetchCursorPage(
              afterCursor ? { afterCursor, perPage: 1000 } : { startTime: 0, perPage: 1000 },
            );
    if (page.kind !== 'page') throw new Error(`${api}: unexpected ${page.kind}`);
    pages++;
    const rows = page.rows as TicketRow[];
    const next = 'afterCursor' in page ? page.afterCursor : null;
    cursor = page.endTime ?? cursor;
    await sink.persistPage({
      account,
      rows,
      fieldHeaders: 'fieldHeaders' in page ? page.fieldHeaders : {},
      cursor,
      api,
      afterCursor: next,
    });
    const done = 'endOfStream' in page ? page.endOfStream : rows.length < 1000;
    if (done) return pages;
    if (api === 'cursor') afterCursor = next ?? undefined;
    if (pages > 50) throw new Error(`${api}: more pages than the truth holds`);
  }
}

interface TypedRows {
  tickets: Record<string, unknown>[];
  tags: string[];
  fields: string[];
}

type Reader = (account: string) => Promise<TypedRows>;

const normalized = (row: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      value instanceof Date ? value.toISOString() : typeof value === 'boolean' ? Number(value) : value,
    ]),
  );

const sinks: [string, () => Promise<{ sink: TicketSink; read: Reader; close: () => Promise<void> }>][] = [
  [
    'sqlite',
    async () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zte-typed-')), 'sink.db');
      const sink = new SqliteSink(file);
      const db = new Database(file, { readonly: true });
      const read: Reader = async (account) => ({
        tickets: (
          db.prepare('SELECT * FROM ticket WHERE account = ? ORDER BY id').all(account) as Record<string, unknown>[]
        ).map(normalized),
        tags: (
          db.prepare('SELECT ticket_id, tag FROM ticket_tag WHERE account = ? ORDER BY 1, 2').all(account) as {
            ticket_id: number;
            tag: string;
          }[]
        ).map((r) => `${r.ticket_id}:${r.tag}`),
        fields: (
          db
            .prepare('SELECT ticket_id, field_id, value FROM ticket_custom_field WHERE account = ? ORDER BY 1, 2')
            .all(account) as { ticket_id: number; field_id: number; value: string }[]
        ).map((r) => `${r.ticket_id}:${r.field_id}:${r.value}`),
      });
      return { sink, read, close: async () => (db.close(), sink.close()) };
    },
  ],
  [
    'postgres',
    async () => {
      const sink = await PostgresSink.open(POSTGRES_URL);
      const pool = new Pool({ connectionString: POSTGRES_URL, max: 1 });
      const rows = async (sql: string, account: string) => (await pool.query(sql, [account])).rows;
      const read: Reader = async (account) => ({
        // BIGINT comes back as text.
        tickets: (await rows('SELECT * FROM zendesk.ticket WHERE account = $1 ORDER BY id', account)).map((r) =>
          normalized(
            Object.fromEntries(
              Object.entries(r).map(([key, value]) => [
                key,
                INTEGER_COLUMNS.has(key) && value !== null ? Number(value) : value,
              ]),
            ),
          ),
        ),
        tags: (
          await rows('SELECT ticket_id, tag FROM zendesk.ticket_tag WHERE account = $1 ORDER BY 1, 2', account)
        ).map((r) => `${r.ticket_id}:${r.tag}`),
        fields: (
          await rows(
            'SELECT ticket_id, field_id, value FROM zendesk.ticket_custom_field WHERE account = $1 ORDER BY 1, 2',
            account,
          )
        ).map((r) => `${r.ticket_id}:${r.field_id}:${r.value}`),
      });
      return { sink, read, close: async () => (await pool.end(), await sink.close()) };
    },
  ],
];

describe.each(sinks)('typed tickets in the %s sink', (_name, open) => {
  test('exports, incremental and cursor give the same typed rows in every column the endpoint carries', async () => {
    const { sink, read, close } = await open();
    try {
      const run = randomUUID().slice(0, 8);
      const typed = {} as Record<Api, TypedRows>;
      for (const api of APIS) {
        await exportInto(sink, `${api}-${run}`, api);
        typed[api] = await read(`${api}-${run}`);
      }
      const strip = (row: Record<string, unknown>) => {
        const { account: _account, stored_at: _storedAt, ...rest } = row;
        return rest;
      };
      const truth = emulator.truthFull();
      expect(typed.cursor.tickets).toHaveLength(truth.length);
      expect(typed.cursor.tickets.filter((t) => t.is_deleted === 1).length).toBeGreaterThan(0);

      // incremental and cursor: the same object, every column.
      expect(typed.incremental.tickets.map(strip)).toEqual(typed.cursor.tickets.map(strip));
      expect(typed.incremental.tags).toEqual(typed.cursor.tags);
      expect(typed.incremental.fields).toEqual(typed.cursor.fields);

      // exports: the columns it carries are the full object's; the ones it does not are null, its names are set.
      const pick = (row: Record<string, unknown>) => Object.fromEntries(EXPORTS_COLUMNS.map((c) => [c, row[c]]));
      expect(typed.exports.tickets.map(pick)).toEqual(typed.cursor.tickets.map(pick));
      for (const row of typed.exports.tickets) {
        expect(row).toMatchObject({ row_format: 'exports', assignee_id: null, group_id: null, via_channel: null });
        expect(typeof row.group_name).toBe('string');
        expect(typeof row.requester_name).toBe('string');
        expect(typeof row.via_name).toBe('string');
      }
      for (const row of typed.cursor.tickets) {
        expect(row).toMatchObject({ row_format: 'full', group_name: null, via_name: null });
        expect(typeof row.group_id).toBe('number');
        expect(typeof row.via_channel).toBe('string');
      }
      expect(typed.exports.tags).toEqual(typed.cursor.tags);
      const textField = (fields: string[]) => fields.filter((f) => f.split(':')[1] === String(TEXT_FIELD_ID));
      expect(textField(typed.exports.fields).length).toBeGreaterThan(0);
      expect(textField(typed.exports.fields)).toEqual(textField(typed.cursor.fields));
      // The drop-downs: the same tickets and fields have a value; exports shows the option's title.
      const keys = (fields: string[]) => fields.map((f) => f.split(':').slice(0, 2).join(':'));
      expect(keys(typed.exports.fields)).toEqual(keys(typed.cursor.fields));
    } finally {
      await close();
    }
  });
});
