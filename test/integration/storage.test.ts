import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient, Pool } from 'pg';
import { migrateSchema, POSTGRES_SCHEMA_VERSION, postgresPool, PostgresSink } from '../../src/storage/postgres';
import { ANALYST_INDEXES } from '../../src/storage/indexes';
import { PersistPageInput, SideloadRecord, TicketRow, TicketSink } from '../../src/storage/sink';
import { SqliteSink } from '../../src/storage/sqlite';
import { freezableProxy, silentServer } from '../helpers/tcp';
import { commentChild, streamSinkCases, ticketEvent } from '../helpers/stream-sink-cases';
import { ticketVersionCases } from '../helpers/ticket-version-cases';
import { testPostgresUrl } from '../helpers/prerequisites';

// The machine's PostgreSQL (trust auth). A missing server fails these tests: .ci/run starts it when it is down.
const POSTGRES_URL = testPostgresUrl();

const row = (id: number, gts: number, extra: Record<string, unknown> = {}): TicketRow => ({
  id,
  generated_timestamp: gts,
  updated_at: new Date(gts * 1000).toISOString().replace('.000Z', 'Z'),
  status: 'Open',
  subject: `ticket ${id}`,
  ...extra,
});

const record = (
  id: number | string,
  updatedAt?: string | null,
  extra: Record<string, unknown> = {},
): SideloadRecord => ({
  id,
  ...(updatedAt === undefined ? {} : { updated_at: updatedAt }),
  name: `record ${id}`,
  ...extra,
});

const nothingElse = { ignoredOlder: 0, rejected: 0, rejectedSideloads: 0 };

const sinks: [string, () => Promise<TicketSink>][] = [
  ['sqlite', async () => new SqliteSink(path.join(os.tmpdir(), `zte-sink-${randomUUID()}.db`))],
  ['postgres', () => PostgresSink.open(POSTGRES_URL)],
];

describe.each(sinks)('the %s sink', (_name, open) => {
  let sink: TicketSink;
  let account: string;
  beforeEach(async () => {
    sink = await open();
    account = `acct-${randomUUID()}`;
  });
  afterEach(async () => sink.close());

  test('upsert keeps the newest generated_timestamp; ties go to the later write', async () => {
    await sink.persistPage({ account, rows: [row(1, 100), row(2, 100)], fieldHeaders: {}, cursor: 100 });
    const result = await sink.persistPage({
      account,
      rows: [row(1, 90, { subject: 'older' }), row(2, 100, { subject: 'same second, later write' }), row(3, 110)],
      fieldHeaders: {},
      cursor: 110,
    });
    expect(result).toEqual({ written: 2, ignoredOlder: 1, rejected: 0, rejectedSideloads: 0 });
    const stored = await sink.readTickets(account);
    expect(stored.map((t) => [t.id, t.generatedTimestamp])).toEqual([
      [1, 100],
      [2, 100],
      [3, 110],
    ]);
    expect(JSON.parse(stored[0].data).subject).toBe('ticket 1');
    expect(JSON.parse(stored[1].data).subject).toBe('same second, later write');
  });

  test('same updated_at but a newer generated_timestamp wins; status is normalized; deleted stays a tombstone', async () => {
    const base = row(7, 200);
    await sink.persistPage({ account, rows: [base], fieldHeaders: {}, cursor: 200 });
    await sink.persistPage({
      account,
      rows: [{ ...base, generated_timestamp: 260, status: 'Deleted' }],
      fieldHeaders: {},
      cursor: 260,
    });
    const [stored] = await sink.readTickets(account);
    expect(stored).toMatchObject({ id: 7, generatedTimestamp: 260, status: 'deleted', updatedAt: base.updated_at });
    expect(JSON.parse(stored.data)).toEqual({ ...base, generated_timestamp: 260, status: 'Deleted' });
  });

  test('one page is one transaction: a failing checkpoint rolls back the tickets, set-aside rows and sideloads', async () => {
    await sink.persistPage({ account, rows: [row(1, 100)], fieldHeaders: { id: 'Id' }, cursor: 100 });
    await expect(
      sink.persistPage({
        account,
        rows: [row(1, 120, { subject: 'rolled back' }), row(3, 120), row(2 ** 63, 120)],
        fieldHeaders: { subject: 'Subject' },
        cursor: null as unknown as number,
        sideloads: { users: [record(1, '2024-01-01T00:00:00Z')], metric_sets: [record(2)] },
      }),
    ).rejects.toBeDefined();
    expect(await sink.countTickets(account)).toBe(1);
    expect(JSON.parse((await sink.readTickets(account))[0].data).subject).toBe('ticket 1');
    expect(await sink.countRejected(account)).toBe(0);
    expect(await sink.readSideloads(account, 'users')).toEqual([]);
    expect(await sink.readSideloads(account, 'metric_sets')).toEqual([]);
    expect(await sink.readCheckpoint(account)).toBe(100);
  });

  test('a ticket jsonb cannot hold (NUL, a lone surrogate) or with an unreadable updated_at is stored as received', async () => {
    const rows = [
      row(1, 100, { subject: 'NUL \u0000 inside', custom_fields: [{ id: 1, value: '\u0000' }] }),
      row(2, 100, { subject: 'an emoji cut after its high surrogate \ud83d' }),
      row(3, 100, { description: '\ude00 a lone low surrogate', 'key \ud83d': 1 }),
      row(4, 100, { subject: 'escaped backslashes \\u0000 \\ud83d, a backslash and NUL \\\u0000, an emoji 😀' }),
      row(5, 100, { updated_at: '2024-02-30T25:61:00Z' }),
      row(6, 100, { updated_at: '+275760-09-13T00:00:00.000Z' }),
      row(7, 100, { updated_at: 'yesterday' }),
      row(8, 100, { updated_at: '10000-01-01T00:00:00Z' }),
      row(9, 100, { updated_at: '2024-02-30T00:00:00Z' }),
    ];
    const result = await sink.persistPage({ account, rows, fieldHeaders: {}, cursor: 100 });
    expect(result).toEqual({ written: rows.length, ...nothingElse });
    expect((await sink.readTickets(account)).map((t) => t.data)).toEqual(rows.map((r) => JSON.stringify(r)));
    expect(await sink.countRejected(account)).toBe(0);
    expect(await sink.readCheckpoint(account)).toBe(100);
  });

  test('rows the database can never store are set aside with the reason; the rest and the checkpoint are stored', async () => {
    await sink.persistPage({ account, rows: [row(1, 100)], fieldHeaders: {}, cursor: 100 });
    const bad = [
      row(1e300, 110),
      row(2 ** 63, 110),
      row(4, 1.5),
      { ...row(5, 110), generated_timestamp: undefined },
      { ...row(6, 110), generated_timestamp: 'soon' },
      { ...row(7, 110), id: { nested: true } },
    ] as unknown as TicketRow[];
    const page = { account, rows: [row(2, 110), ...bad, row(1, 90), row(3, 120)], fieldHeaders: {}, cursor: 120 };
    expect(await sink.persistPage(page)).toEqual({ written: 2, ignoredOlder: 1, rejected: 6, rejectedSideloads: 0 });
    expect((await sink.readTickets(account)).map((t) => [t.id, t.generatedTimestamp])).toEqual([
      [1, 100],
      [2, 110],
      [3, 120],
    ]);
    expect(await sink.readCheckpoint(account)).toBe(120);

    const rejected = await sink.readRejected(account);
    expect(rejected.map((r) => [r.ticketId, r.generatedTimestamp, r.data])).toEqual(
      [
        ['1e+300', 110, JSON.stringify(bad[0])],
        [String(2 ** 63), 110, JSON.stringify(bad[1])],
        ['4', null, JSON.stringify(bad[2])],
        ['5', null, JSON.stringify(bad[3])],
        ['6', null, JSON.stringify(bad[4])],
        ['{"nested":true}', 110, JSON.stringify(bad[5])],
      ].sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)),
    );
    for (const { error } of rejected) expect(error).toMatch(/^.{5,500}$/s);
    expect(await sink.countRejected(account)).toBe(6);

    // The same page again (at-least-once delivery): the same outcome, still one row per set-aside ticket.
    expect(await sink.persistPage(page)).toEqual({ written: 2, ignoredOlder: 1, rejected: 6, rejectedSideloads: 0 });
    expect(await sink.countRejected(account)).toBe(6);
    expect(await sink.countRejected(`${account}-other`)).toBe(0);
  });

  test('sideloads: upsert by id keeping the newest updated_at; older ignored; ties go to the later write', async () => {
    const t1 = '2024-01-01T00:00:00Z';
    const t2 = '2024-01-02T00:00:00Z';
    const first = {
      users: [record(10, t2, { v: 'first' }), record(11, t1, { v: 'first' }), record(12, t1, { v: 'first' })],
      groups: [record(20, t1, { v: 'first' })],
      organizations: [record(30, t1, { notes: 'NUL \u0000, a cut emoji \ud83d, a lone \ude00' })],
    };
    await sink.persistPage({ account, rows: [row(1, 100)], fieldHeaders: {}, cursor: 100, sideloads: first });
    const second = {
      // 00:30+01:00 is before t2, though its text sorts after it.
      users: [
        record(10, '2024-01-02T00:30:00+01:00', { v: 'older' }),
        record(11, '2024-01-01T00:00:00.000Z', { v: 'same time, later write' }),
        record(12, '2024-01-01T00:00:00.500Z', { v: 'newer' }),
        record(13, t1),
      ],
      groups: [record(20, t2, { v: 'newer' }), record(20, t1, { v: 'older, later in the page' })],
      organizations: [record(31, t1, { v: 'a' }), record(31, t1, { v: 'b, later in the page' })],
    };
    const result = await sink.persistPage({ account, rows: [], fieldHeaders: {}, cursor: 110, sideloads: second });
    expect(result).toEqual({ written: 0, ...nothingElse });
    expect(await sink.readSideloads(account, 'users')).toEqual([
      { id: '10', updatedAt: t2, data: JSON.stringify(first.users[0]) },
      { id: '11', updatedAt: t1, data: JSON.stringify(second.users[1]) },
      { id: '12', updatedAt: '2024-01-01T00:00:00.500Z', data: JSON.stringify(second.users[2]) },
      { id: '13', updatedAt: t1, data: JSON.stringify(second.users[3]) },
    ]);
    expect(await sink.readSideloads(account, 'groups')).toEqual([
      { id: '20', updatedAt: t2, data: JSON.stringify(second.groups[0]) },
    ]);
    expect(await sink.readSideloads(account, 'organizations')).toEqual([
      { id: '30', updatedAt: t1, data: JSON.stringify(first.organizations[0]) },
      { id: '31', updatedAt: t1, data: JSON.stringify(second.organizations[1]) },
    ]);
    expect(await sink.readSideloads(`${account}-other`, 'users')).toEqual([]);
  });

  test('sideloads without updated_at overwrite one without, never one with', async () => {
    const t1 = '2024-01-01T00:00:00Z';
    const first = [record(1), record(2, t1, { v: 'with time' }), record(3, null), record(4, 'yesterday')];
    await sink.persistPage({ account, rows: [], fieldHeaders: {}, cursor: 1, sideloads: { users: first } });
    const second = [record(1, undefined, { v: 'later' }), record(2), record(3, t1, { v: 'now with time' }), record(4)];
    await sink.persistPage({ account, rows: [], fieldHeaders: {}, cursor: 2, sideloads: { users: second } });
    expect(await sink.readSideloads(account, 'users')).toEqual([
      { id: '1', updatedAt: null, data: JSON.stringify(second[0]) },
      { id: '2', updatedAt: t1, data: JSON.stringify(first[1]) },
      { id: '3', updatedAt: t1, data: JSON.stringify(second[2]) },
      { id: '4', updatedAt: null, data: JSON.stringify(second[3]) },
    ]);
  });

  test('other sideload kinds share one table by kind; records without a usable id are skipped and counted', async () => {
    const sideloads = {
      metric_sets: [{ id: 5, ticket_id: 1, reopens: 0 }, record(6, '2024-01-01T00:00:00Z')],
      brands: [record(5), record('brand-x')],
      users: [
        { name: 'no id' },
        record(1.5),
        record('abc'),
        record(true as never),
        record({} as never),
        record(2 ** 63),
      ],
      dates: [record(''), record('x\u0000'), record('\ud83d'), null, 'text', [1]],
    } as unknown as PersistPageInput['sideloads'];
    sideloads!.users.push(record(7), record('8'));
    const result = await sink.persistPage({ account, rows: [row(1, 1)], fieldHeaders: {}, cursor: 1, sideloads });
    expect(result).toEqual({ written: 1, ignoredOlder: 0, rejected: 0, rejectedSideloads: 12 });
    expect(await sink.readSideloads(account, 'metric_sets')).toEqual([
      { id: '5', updatedAt: null, data: JSON.stringify(sideloads!.metric_sets[0]) },
      { id: '6', updatedAt: '2024-01-01T00:00:00Z', data: JSON.stringify(sideloads!.metric_sets[1]) },
    ]);
    expect((await sink.readSideloads(account, 'brands')).map((s) => [s.id, s.data])).toEqual([
      ['5', JSON.stringify(record(5))],
      ['brand-x', JSON.stringify(record('brand-x'))],
    ]);
    expect((await sink.readSideloads(account, 'users')).map((s) => s.id)).toEqual(['7', '8']);
    expect(await sink.readSideloads(account, 'dates')).toEqual([]);
    expect(await sink.readSideloads(account, 'tickets')).toEqual([]);
  });

  test('the checkpoint carries the endpoint and its after_cursor; accounts are isolated', async () => {
    await sink.persistPage({
      account,
      rows: [row(1, 100)],
      fieldHeaders: {},
      cursor: 100,
      api: 'cursor',
      afterCursor: 'abc',
    });
    expect(await sink.readFullCheckpoint(account)).toEqual({ cursor: 100, api: 'cursor', afterCursor: 'abc' });
    expect(await sink.readFullCheckpoint(`${account}-other`)).toBeUndefined();
    expect(await sink.countTickets(`${account}-other`)).toBe(0);
  });

  test('a page repeating one id keeps its newest version', async () => {
    await sink.persistPage({ account, rows: [row(5, 300), row(5, 310), row(5, 305)], fieldHeaders: {}, cursor: 310 });
    const [stored] = await sink.readTickets(account);
    expect(stored.generatedTimestamp).toBe(310);
  });
});

// The same cases as the SQLite sink's (test/unit/sqlite-sink.test.ts).
describe('the postgres sink: the streams around the ticket', () => {
  streamSinkCases(() => PostgresSink.open(POSTGRES_URL));

  test('an event jsonb or text cannot hold (NUL, a lone surrogate) is set aside with none of its rows', async () => {
    const sink = await PostgresSink.open(POSTGRES_URL);
    const account = `acct-${randomUUID()}`;
    try {
      const rows = [
        ticketEvent(1, 100, [commentChild(10, 'fine'), { id: 11, event_type: 'Change', status: 'open' }]),
        ticketEvent(2, 100, [commentChild(20, 'NUL \u0000 in a body'), { id: 21, event_type: 'Change', status: 'x' }]),
        ticketEvent(3, 100, [{ id: 30, event_type: 'Change', subject: 'half an emoji \ud83d' }]),
        ticketEvent(4, 100, [{ id: 40, event_type: 'Change', subject: 'escaped, not NUL: \\u0000' }]),
      ];
      const result = await sink.persistStreamPage({
        account,
        stream: 'ticket_events',
        rows,
        checkpoint: { cursor: 100, afterCursor: null },
      });
      expect(result).toEqual({ written: 2, ignoredOlder: 0, rejected: 2, comments: 1, fieldChanges: 2 });
      expect((await sink.readStreamTable(account, 'ticket_events')).map((e) => e.id)).toEqual([1, 4]);
      expect((await sink.readStreamTable(account, 'ticket_comments')).map((c) => c.id)).toEqual([10]);
      expect((await sink.readStreamTable(account, 'ticket_field_changes')).map((f) => f.child_id)).toEqual([11, 40]);
      const rejected = await sink.readStreamTable(account, 'rejected_rows');
      expect(rejected.map((r) => [r.row_id, r.data])).toEqual([
        ['2', rows[1]],
        ['3', rows[2]],
      ]);
      for (const { error } of rejected) expect(error).toMatch(/jsonb cannot hold this row: it has a NUL character/);
      expect(await sink.readStreamCheckpoint(account, 'ticket_events')).toEqual({ cursor: 100, afterCursor: null });

      // Users keep what jsonb cannot hold in raw, as the sideloads always have.
      const user = { id: 5, updated_at: '2024-01-01T00:00:00Z', name: 'NUL \u0000' };
      const stored = await sink.persistStreamPage({
        account,
        stream: 'users',
        rows: [user],
        checkpoint: { cursor: 1, afterCursor: null },
      });
      expect(stored).toEqual({ written: 1, ignoredOlder: 0, rejected: 0 });
      expect((await sink.readSideloads(account, 'users'))[0].data).toBe(JSON.stringify(user));
      expect((await sink.readStreamTable(account, 'users'))[0].data).toEqual(user);
    } finally {
      await sink.close();
    }
  });
});

describe('PostgreSQL: a stream row the database refuses', () => {
  const url = scratchDatabase('zte_refusal');

  test('is set aside with none of its rows, found by halving the page; the rest of the page is stored', async () => {
    const sink = await PostgresSink.open(url);
    const db = new PgClient({ connectionString: url });
    await db.connect();
    try {
      await db.query(`
        CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'this comment is refused' USING ERRCODE = 'check_violation'; END $$;
        CREATE TRIGGER refuse BEFORE INSERT ON ticket_comments FOR EACH ROW WHEN (NEW.body = 'refused')
          EXECUTE FUNCTION refuse();`);
      const rows = [1, 2, 3, 4, 5].map((id) =>
        ticketEvent(id, 100 + id, [
          { id: id * 10, event_type: 'Change', status: 'open' },
          commentChild(id * 10 + 1, id === 4 ? 'refused' : 'fine'),
        ]),
      );
      const result = await sink.persistStreamPage({
        account: 'x',
        stream: 'ticket_events',
        rows,
        checkpoint: { cursor: 105, afterCursor: null },
      });
      expect(result).toEqual({ written: 4, ignoredOlder: 0, rejected: 1, comments: 4, fieldChanges: 4 });
      expect((await sink.readStreamTable('x', 'ticket_events')).map((e) => e.id)).toEqual([1, 2, 3, 5]);
      expect((await sink.readStreamTable('x', 'ticket_comments')).map((c) => c.id)).toEqual([11, 21, 31, 51]);
      expect((await sink.readStreamTable('x', 'ticket_field_changes')).map((f) => f.child_id)).toEqual([
        10, 20, 30, 50,
      ]);
      expect(await sink.readStreamTable('x', 'rejected_rows')).toEqual([
        expect.objectContaining({ row_id: '4', data: rows[3], error: 'this comment is refused' }),
      ]);
      expect(await sink.readStreamCheckpoint('x', 'ticket_events')).toEqual({ cursor: 105, afterCursor: null });
    } finally {
      await db.end();
      await sink.close();
    }
  });
});

// The same cases as the SQLite sink's (test/unit/sqlite-sink.test.ts).
describe('the postgres sink: ticket_version', () => {
  ticketVersionCases((options) => PostgresSink.open(POSTGRES_URL, {}, options));
});

describe('PostgreSQL: a database written by the code before ticket_version (schema_migrations 1-4)', () => {
  const url = scratchDatabase('zte_baseline');
  /** Every row of every table, as JSON text, table by table. */
  const contents = async (db: PgClient, tables?: string[]) => {
    const names =
      tables ??
      (
        await db.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
        )
      ).rows.map((r) => r.name);
    const result: Record<string, string[]> = {};
    for (const name of names) {
      const { rows } = await db.query<{ row: string }>(
        `SELECT to_jsonb(t)::text AS row FROM public.${name} t ORDER BY 1`,
      );
      result[name] = rows.map((r) => r.row);
    }
    return result;
  };

  test('is upgraded in place: every row and checkpoint kept, ticket_version added', async () => {
    const db = new PgClient({ connectionString: url });
    await db.connect();
    try {
      await db.query(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'postgres-baseline.sql'), 'utf8'));
      const before = await contents(db);
      expect(before.schema_migrations).toHaveLength(4);
      expect(Object.values(before).flat()).toHaveLength(24);

      const sink = await PostgresSink.open(url);
      try {
        const after = await contents(db);
        expect(after.schema_migrations.map((r) => JSON.parse(r).version)).toEqual(
          Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
        );
        // The stored field changes moved to ticket_field_changes (and its index); ticket_field_history is now the
        // analysts' view of them.
        const renamed = (name: string) => name.replace('ticket_field_history', 'ticket_field_changes');
        const names = ANALYST_INDEXES.map((index) => renamed(index.name));
        const indexes = await db.query('SELECT indexname FROM pg_indexes WHERE indexname = ANY($1)', [names]);
        expect(indexes.rows.map((r) => r.indexname).sort()).toEqual([...names].sort());
        const kept = Object.entries(before).filter(([t]) => t !== 'schema_migrations');
        expect(
          await contents(
            db,
            kept.map(([t]) => renamed(t)),
          ),
        ).toEqual(Object.fromEntries(kept.map(([t, rows]) => [renamed(t), rows])));
        // The typed tables are filled from the stored tickets, and the views read the stored rows.
        const typed = await db.query('SELECT account, id, status FROM zendesk.ticket ORDER BY account, id');
        expect(typed.rows.map((r) => [r.account, Number(r.id), r.status])).toEqual(
          (await db.query('SELECT account, id, status FROM public.tickets ORDER BY account, id')).rows.map((r) => [
            r.account,
            Number(r.id),
            r.status,
          ]),
        );
        expect(typed.rows.length).toBeGreaterThan(0);
        const history = await db.query('SELECT ticket_id, field_name, value FROM zendesk.ticket_field_history');
        expect(history.rows.length).toBe(before.ticket_field_history.length);
        expect(await sink.readFullCheckpoint('acme')).toEqual({
          cursor: 1_700_000_200,
          api: 'incremental',
          afterCursor: null,
        });
        expect(await sink.readFullCheckpoint('globex')).toEqual({
          cursor: 1_700_000_300,
          api: 'cursor',
          afterCursor: 'MTcwMDAwMDMwMC4xMA==',
        });
        for (const [stream, cursor] of [
          ['ticket_events', 1_700_000_050],
          ['organizations', 1_700_000_060],
          ['ticket_metric_events', 1_700_000_070],
          ['users', 1_700_000_080],
        ] as const) {
          expect(await sink.readStreamCheckpoint('acme', stream)).toEqual({ cursor, afterCursor: null });
        }
        expect(await sink.readTicketVersions('acme')).toEqual([]);
        await sink.persistPage({
          account: 'acme',
          rows: [row(2, 1_700_000_300)],
          fieldHeaders: {},
          cursor: 1_700_000_300,
        });
        expect((await sink.readTicketVersions('acme')).map((v) => v.id)).toEqual([2]);
        expect(await sink.countTickets('acme')).toBe(3);
      } finally {
        await sink.close();
      }

      // A database of a version this code does not know is refused, naming both versions, and left as it is.
      await db.query('INSERT INTO public.schema_migrations (version, applied_at) VALUES (99, now())');
      await expect(PostgresSink.open(url)).rejects.toThrow(
        `the PostgreSQL database has schema version 99, newer than this code knows (version ${POSTGRES_SCHEMA_VERSION})`,
      );
      expect((await db.query('SELECT max(version) AS v FROM public.schema_migrations')).rows[0].v).toBe(99);
    } finally {
      await db.end();
    }
  });
});

describe('PostgreSQL: a database of the version before the streams', () => {
  const url = scratchDatabase('zte_previous');

  test('opens, keeps its rows and gains the stream tables', async () => {
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      expect(await migrateSchema(pool, 3)).toBe(3);
      await pool.query(
        `INSERT INTO organizations (account, id, updated_at, data, raw, stored_at)
         VALUES ('x', 5, NULL, '{"id": 5}', '{"id":5}', now())`,
      );
    } finally {
      await pool.end();
    }
    const sink = await PostgresSink.open(url);
    try {
      expect(await sink.migrate()).toBe(0);
      expect(await sink.readSideloads('x', 'organizations')).toEqual([{ id: '5', updatedAt: null, data: '{"id":5}' }]);
      const gone = { id: 5, updated_at: '2024-01-02T00:00:00Z', deleted_at: '2024-01-02T00:00:00Z' };
      await sink.persistStreamPage({
        account: 'x',
        stream: 'organizations',
        rows: [gone],
        checkpoint: { cursor: 1, afterCursor: null },
      });
      expect(await sink.readStreamTable('x', 'organizations')).toEqual([
        expect.objectContaining({ id: 5, deleted_at: '2024-01-02T00:00:00Z', data: gone }),
      ]);
      await sink.persistStreamPage({
        account: 'x',
        stream: 'ticket_events',
        rows: [ticketEvent(1, 100, [commentChild(10, 'hello')])],
        checkpoint: { cursor: 100, afterCursor: null },
      });
      expect(await sink.countStreamTable('x', 'ticket_comments')).toBe(1);
    } finally {
      await sink.close();
    }
  });
});

/** A database of the describe's own, for tests that lock tables or count migrations; returns its URL. */
function scratchDatabase(prefix: string): string {
  const database = `${prefix}_${randomUUID().replace(/-/g, '')}`;
  const admin = new PgClient({ connectionString: POSTGRES_URL });
  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });
  return POSTGRES_URL.replace(/\/[^/]*$/, `/${database}`);
}

describe('PostgreSQL migrations', () => {
  const url = scratchDatabase('zte_migrations');

  test('two workers starting together migrate once; a second start changes nothing', async () => {
    const [a, b] = await Promise.all([PostgresSink.open(url), PostgresSink.open(url)]);
    const again = await PostgresSink.open(url);
    try {
      expect(await again.migrate()).toBe(0);
      const db = new PgClient({ connectionString: url });
      await db.connect();
      const { rows } = await db.query('SELECT version FROM schema_migrations ORDER BY version');
      await db.end();
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
      await a.persistPage({ account: 'x', rows: [row(1, 1)], fieldHeaders: {}, cursor: 1 });
      expect(await b.countTickets('x')).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close(), again.close()]);
    }
  });
});

describe('PostgreSQL columns', () => {
  let sink: PostgresSink;
  let db: PgClient;
  const account = `acct-${randomUUID()}`;
  beforeAll(async () => {
    sink = await PostgresSink.open(POSTGRES_URL);
    db = new PgClient({ connectionString: POSTGRES_URL });
    await db.connect();
  });
  afterAll(async () => {
    await sink.close();
    await db.end();
  });

  test('data is jsonb where jsonb can hold the row, NULL where it cannot; raw keeps every row as received', async () => {
    const rows = [
      row(1, 100),
      row(2, 100, { subject: 'NUL \u0000' }),
      row(3, 100, { subject: 'cut \ud83d' }),
      row(4, 100, { subject: 'text \\u0000' }),
    ];
    await sink.persistPage({ account, rows, fieldHeaders: {}, cursor: 100 });
    const { rows: stored } = await db.query(
      `SELECT id, data->>'subject' AS subject, raw FROM tickets WHERE account = $1 ORDER BY id`,
      [account],
    );
    expect(stored.map((r) => [Number(r.id), r.subject, r.raw])).toEqual([
      [1, 'ticket 1', JSON.stringify(rows[0])],
      [2, null, JSON.stringify(rows[1])],
      [3, null, JSON.stringify(rows[2])],
      [4, 'text \\u0000', JSON.stringify(rows[3])],
    ]);
  });

  test('updated_at: a readable one is normalized, one PostgreSQL would misread or refuse is NULL', async () => {
    const values = [
      '2024-01-01T10:00:00+02:00',
      '2024-01-01T10:00:00.250Z',
      'yesterday',
      '2024-02-30T00:00:00Z',
      '2024-02-30T25:61:00Z',
      '+275760-09-13T00:00:00.000Z',
      '10000-01-01T00:00:00Z',
      '0000-01-01T00:00:00Z',
    ];
    const other = `${account}-updated-at`;
    const rows = values.map((updated_at, i) => row(i + 1, 100, { updated_at }));
    await sink.persistPage({ account: other, rows, fieldHeaders: {}, cursor: 100 });
    expect((await sink.readTickets(other)).map((t) => t.updatedAt)).toEqual([
      '2024-01-01T08:00:00Z',
      '2024-01-01T10:00:00.250Z',
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  test('a row written before raw existed reads from data', async () => {
    const old = `${account}-old`;
    await db.query(
      `INSERT INTO tickets (account, id, generated_timestamp, status, data, stored_at)
       VALUES ($1, 9, 1, 'open', '{"id": 9, "generated_timestamp": 1}', now())`,
      [old],
    );
    expect((await sink.readTickets(old))[0].data).toBe('{"id": 9, "generated_timestamp": 1}');
  });
});

describe('PostgreSQL errors', () => {
  const url = scratchDatabase('zte_errors');

  test('a connection lost mid-page fails the page, to be retried, and sets nothing aside', async () => {
    const sink = await PostgresSink.open(url);
    const db = new PgClient({ connectionString: url });
    await db.connect();
    const waiting = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    try {
      await db.query('BEGIN');
      await db.query('LOCK TABLE export_checkpoints IN ACCESS EXCLUSIVE MODE');
      const page = { account: 'x', rows: [row(1, 1), row(2 ** 63, 1)], fieldHeaders: {}, cursor: 1 };
      const failure = sink.persistPage(page).then(
        () => undefined,
        (err: { code?: string }) => err,
      );
      const deadline = Date.now() + 10_000;
      while ((await db.query(waiting)).rowCount === 0) {
        if (Date.now() > deadline) throw new Error('the page never waited for the locked checkpoint');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await db.query(`SELECT pg_terminate_backend(pid) FROM (${waiting}) AS w`);
      expect((await failure)?.code).toBe('57P01');
      await db.query('ROLLBACK');
      expect(await sink.countTickets('x')).toBe(0);
      expect(await sink.countRejected('x')).toBe(0);
      expect(await sink.readCheckpoint('x')).toBeUndefined();
      // The retry stores it.
      expect(await sink.persistPage(page)).toEqual({ written: 1, ...nothingElse, rejected: 1 });
    } finally {
      await db.end();
      await sink.close();
    }
  });
});

describe('PostgreSQL timeouts', () => {
  const url = scratchDatabase('zte_timeouts');
  /** How long a call took, and how it ended. */
  const timed = async <T>(work: Promise<T>) => {
    const started = Date.now();
    const outcome = await work.then(
      (value) => ({ value, error: undefined }),
      (error: Error & { code?: string }) => ({ value: undefined, error }),
    );
    return { ...outcome, seconds: (Date.now() - started) / 1000 };
  };

  test('a server that accepts the connection and never answers fails the open within 10 s by default', async () => {
    const server = await silentServer();
    try {
      const { error, seconds } = await timed(PostgresSink.open(`postgres://exporter@127.0.0.1:${server.port}/tickets`));
      expect(error?.message).toBe(
        'PostgreSQL did not accept the connection within 10 s (SINK_CONNECT_TIMEOUT_SECONDS)',
      );
      expect(seconds).toBeGreaterThanOrEqual(9.5);
      expect(seconds).toBeLessThan(15);
    } finally {
      await server.close();
    }
  }, 20_000);

  test('the connect timeout can be set', async () => {
    const server = await silentServer();
    try {
      const open = PostgresSink.open(`postgres://exporter:pw@127.0.0.1:${server.port}/tickets`, { connectSeconds: 1 });
      const { error, seconds } = await timed(open);
      expect(error?.message).toBe('PostgreSQL did not accept the connection within 1 s (SINK_CONNECT_TIMEOUT_SECONDS)');
      expect(seconds).toBeLessThan(5);
    } finally {
      await server.close();
    }
  }, 20_000);

  test('pages blocked on a lock fail within the statement timeout and give their connections back', async () => {
    const sink = await PostgresSink.open(url, { statementSeconds: 1 });
    const db = new PgClient({ connectionString: url });
    await db.connect();
    try {
      await db.query('BEGIN');
      await db.query('LOCK TABLE export_checkpoints IN ACCESS EXCLUSIVE MODE');
      // More pages than the pool has connections: each waits for the lock, and each gives its connection back.
      const page = (i: number) => ({ account: `locked-${i}`, rows: [row(i, 1)], fieldHeaders: {}, cursor: 1 });
      const blocked = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => timed(sink.persistPage(page(i)))));
      for (const { error, seconds } of blocked) {
        expect(error?.code).toBe('57014'); // query_canceled: canceling statement due to statement timeout
        expect(seconds).toBeLessThan(8);
      }
      // The pool serves the next call while the lock is still held...
      expect(await sink.countTickets('locked-1')).toBe(0);
      // ...and stores the page once it is released.
      await db.query('ROLLBACK');
      expect(await sink.persistPage(page(1))).toEqual({ written: 1, ...nothingElse });
    } finally {
      await db.end();
      await sink.close();
    }
  }, 20_000);

  test('a connection that stops answering mid-page fails the page within the statement timeout + 5 s', async () => {
    const target = new URL(url);
    const proxy = await freezableProxy({ host: target.hostname, port: Number(target.port) });
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const sink = await PostgresSink.open(viaProxy.toString(), { statementSeconds: 1 });
    try {
      // Two pooled connections, then the path goes silent under them.
      await Promise.all([sink.readCheckpoint('black-hole'), sink.readCheckpoint('black-hole')]);
      proxy.freeze();
      const page = { account: 'black-hole', rows: [row(1, 1)], fieldHeaders: {}, cursor: 1 };
      const [stuck, read] = await Promise.all([
        timed(sink.persistPage(page)),
        timed(sink.readCheckpoint('black-hole')),
      ]);
      for (const { error, seconds } of [stuck, read]) {
        expect(error?.message).toMatch(/timeout/i);
        expect(seconds).toBeGreaterThanOrEqual(5.5);
        expect(seconds).toBeLessThan(10);
      }
      // The silent connections are dropped: once the path is back, new ones store the page.
      proxy.thaw();
      expect(await sink.persistPage(page)).toEqual({ written: 1, ...nothingElse });
      expect(await sink.readCheckpoint('black-hole')).toBe(1);
    } finally {
      await sink.close();
      await proxy.close();
    }
  }, 20_000);

  test('sessions carry the timeouts: PostgreSQL ends a transaction left idle', async () => {
    const pool = postgresPool(url, 1, { statementSeconds: 2, idleInTransactionSeconds: 1 });
    pool.on('error', () => undefined);
    try {
      const { rows } = await pool.query<{ statement: string; idle: string }>(
        `SELECT current_setting('statement_timeout') AS statement,
                current_setting('idle_in_transaction_session_timeout') AS idle`,
      );
      expect(rows).toEqual([{ statement: '2s', idle: '1s' }]);
      const db = await pool.connect();
      db.on('error', () => undefined);
      const ended = new Promise<Error & { code?: string }>((resolve) => db.once('error', resolve));
      try {
        await db.query('BEGIN');
        await db.query('SELECT 1');
        const idleSince = Date.now();
        expect(await ended).toMatchObject({ code: '25P03' }); // idle_in_transaction_session_timeout
        expect(Date.now() - idleSince).toBeLessThan(5_000);
      } finally {
        db.release(true);
      }
    } finally {
      await pool.end();
    }
  }, 20_000);
});
