import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { PostgresSink } from '../../src/sinks/postgres';
import { TicketRow, TicketSink } from '../../src/sinks/sink';
import { SqliteSink } from '../../src/sinks/sqlite';

// The machine's PostgreSQL (trust auth). A missing server fails these tests: .ci/run starts it when it is down.
const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const row = (id: number, gts: number, extra: Record<string, unknown> = {}): TicketRow => ({
  id,
  generated_timestamp: gts,
  updated_at: new Date(gts * 1000).toISOString().replace('.000Z', 'Z'),
  status: 'Open',
  subject: `ticket ${id}`,
  ...extra,
});

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
    expect(result).toEqual({ written: 2, ignoredOlder: 1 });
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

  test('one page is one transaction: a bad row rolls back the tickets, the headers and the checkpoint', async () => {
    await sink.persistPage({ account, rows: [row(1, 100)], fieldHeaders: { id: 'Id' }, cursor: 100 });
    const bad = { id: 2, generated_timestamp: undefined } as unknown as TicketRow;
    await expect(
      sink.persistPage({ account, rows: [row(3, 120), bad], fieldHeaders: { subject: 'Subject' }, cursor: 120 }),
    ).rejects.toBeDefined();
    expect(await sink.countTickets(account)).toBe(1);
    expect(await sink.readCheckpoint(account)).toBe(100);
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

describe('PostgreSQL migrations', () => {
  const database = `zte_migrations_${randomUUID().replace(/-/g, '')}`;
  const admin = new PgClient({ connectionString: POSTGRES_URL });
  const url = POSTGRES_URL.replace(/\/[^/]*$/, `/${database}`);
  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  });

  test('two workers starting together migrate once; a second start changes nothing', async () => {
    const [a, b] = await Promise.all([PostgresSink.open(url), PostgresSink.open(url)]);
    const again = await PostgresSink.open(url);
    try {
      expect(await again.migrate()).toBe(0);
      const db = new PgClient({ connectionString: url });
      await db.connect();
      const { rows } = await db.query('SELECT version FROM schema_migrations ORDER BY version');
      await db.end();
      expect(rows.map((r) => r.version)).toEqual([1, 2]);
      await a.persistPage({ account: 'x', rows: [row(1, 1)], fieldHeaders: {}, cursor: 1 });
      expect(await b.countTickets('x')).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close(), again.close()]);
    }
  });
});
