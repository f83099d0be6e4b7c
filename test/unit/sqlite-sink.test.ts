import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PersistPageInput, SinkOptions, TicketRow } from '../../src/storage/sink';
import { openSink } from '../../src/storage/open';
import { isSqliteDataError, SqliteSink } from '../../src/storage/sqlite';
import { SqliteBlobStore } from '../../src/codec/blob-store';
import { migrateSqlite, SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite-migrations';
import { ANALYST_INDEXES } from '../../src/storage/indexes';
import { commentChild, streamSinkCases, ticketEvent } from '../helpers/stream-sink-cases';
import { ticketVersionCases } from '../helpers/ticket-version-cases';

const ACCOUNT = 'acme';

let dir: string;
const opened: SqliteSink[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-sqlite-sink-'));
});

afterAll(async () => {
  await Promise.all(opened.map((sink) => sink.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

// The schema files of the version before rejected_tickets and sideloads were written with (the first versions
// lacked export_checkpoints.api and after_cursor).
const PREVIOUS_SCHEMA = `
CREATE TABLE tickets (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  generated_timestamp INTEGER NOT NULL,
  updated_at TEXT,
  status TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;
CREATE TABLE export_checkpoints (
  account TEXT PRIMARY KEY,
  cursor INTEGER NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE field_headers (
  account TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (account, key)
) STRICT;
`;

// The schema of the version before the streams around the ticket (no stream tables, organizations without deleted_at).
const SIDELOADS_SCHEMA = `
${PREVIOUS_SCHEMA.replace('updated_at TEXT NOT NULL\n', 'updated_at TEXT NOT NULL,\n  api TEXT,\n  after_cursor TEXT\n')}
CREATE TABLE rejected_tickets (
  account TEXT NOT NULL,
  ticket_id TEXT NOT NULL,
  generated_timestamp INTEGER,
  data TEXT NOT NULL,
  error TEXT NOT NULL,
  rejected_at TEXT NOT NULL,
  PRIMARY KEY (account, ticket_id)
) STRICT;
${['users', 'groups', 'organizations']
  .map(
    (table) => `
CREATE TABLE ${table} (
  account TEXT NOT NULL,
  id INTEGER NOT NULL,
  updated_at TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, id)
) STRICT;`,
  )
  .join('')}
CREATE TABLE other_sideloads (
  account TEXT NOT NULL,
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  updated_at TEXT,
  data TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (account, kind, id)
) STRICT;
`;

let fileCounter = 0;
function newFile(): string {
  fileCounter += 1;
  return path.join(dir, `tickets-${fileCounter}.db`);
}

function open(file = newFile(), options: SinkOptions = {}): SqliteSink {
  const sink = new SqliteSink(file, options);
  opened.push(sink);
  return sink;
}

function ticket(id: number, generatedTimestamp: number, extra: Record<string, unknown> = {}): TicketRow {
  return {
    id,
    generated_timestamp: generatedTimestamp,
    updated_at: '2024-01-01T00:00:00Z',
    status: 'Open',
    subject: `ticket ${id}`,
    ...extra,
  };
}

function page(rows: TicketRow[], cursor: number, overrides: Partial<PersistPageInput> = {}): PersistPageInput {
  return { account: ACCOUNT, rows, fieldHeaders: {}, cursor, ...overrides };
}

// Not `rejects.toThrow()`: better-sqlite3 keeps the SqliteError class of the first jest sandbox that loaded it, so in
// later test files in the same worker its errors are not `instanceof Error` and jest reports "did not throw".
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { message?: unknown }).message ?? err);
  }
  throw new Error('expected the promise to reject');
}

async function stored(sink: SqliteSink, id: number, account = ACCOUNT) {
  return (await sink.readTickets(account)).find((t) => t.id === id);
}

describe('SqliteSink', () => {
  test('inserts new tickets', async () => {
    const sink = open();
    const result = await sink.persistPage(page([ticket(1, 100), ticket(2, 101)], 101));
    expect(result).toEqual({ written: 2, ignoredOlder: 0, rejected: 0, rejectedSideloads: 0 });
    expect(await sink.countTickets(ACCOUNT)).toBe(2);
    expect(await sink.readTickets(ACCOUNT)).toEqual([
      {
        id: 1,
        generatedTimestamp: 100,
        updatedAt: '2024-01-01T00:00:00Z',
        status: 'open',
        data: JSON.stringify(ticket(1, 100)),
      },
      {
        id: 2,
        generatedTimestamp: 101,
        updatedAt: '2024-01-01T00:00:00Z',
        status: 'open',
        data: JSON.stringify(ticket(2, 101)),
      },
    ]);
  });

  test('an older generated_timestamp is ignored and counted', async () => {
    const sink = open();
    await sink.persistPage(page([ticket(1, 200, { subject: 'new' })], 200));
    const result = await sink.persistPage(page([ticket(1, 150, { subject: 'old' }), ticket(2, 150)], 150));
    expect(result).toEqual({ written: 1, ignoredOlder: 1, rejected: 0, rejectedSideloads: 0 });
    const row = await stored(sink, 1);
    expect(row?.generatedTimestamp).toBe(200);
    expect(JSON.parse(row!.data).subject).toBe('new');
  });

  test('an equal generated_timestamp: the later write wins', async () => {
    const sink = open();
    await sink.persistPage(page([ticket(1, 300, { subject: 'first' })], 300));
    const result = await sink.persistPage(page([ticket(1, 300, { subject: 'second' })], 300));
    expect(result).toEqual({ written: 1, ignoredOlder: 0, rejected: 0, rejectedSideloads: 0 });
    expect(JSON.parse((await stored(sink, 1))!.data).subject).toBe('second');
  });

  test('the same row twice in one page: the later one wins', async () => {
    const sink = open();
    await sink.persistPage(page([ticket(1, 300, { subject: 'first' }), ticket(1, 300, { subject: 'second' })], 300));
    expect(await sink.countTickets(ACCOUNT)).toBe(1);
    expect(JSON.parse((await stored(sink, 1))!.data).subject).toBe('second');
  });

  test('the same updated_at with a newer generated_timestamp wins (a system update)', async () => {
    const sink = open();
    const updated_at = '2024-02-02T10:00:00Z';
    await sink.persistPage(page([ticket(1, 400, { updated_at, status: 'Open' })], 400));
    await sink.persistPage(page([ticket(1, 460, { updated_at, status: 'Closed' })], 460));
    const row = await stored(sink, 1);
    expect(row).toMatchObject({ generatedTimestamp: 460, updatedAt: updated_at, status: 'closed' });
  });

  test('data is JSON.stringify(row), key order and nested values preserved', async () => {
    const sink = open();
    const row = {
      subject: 'zebra first',
      id: 7,
      via: { source: { from: {}, to: {} }, channel: 'email' },
      generated_timestamp: 500,
      field_360001: null,
      current_tags: 'b a',
      status: 'Pending',
      unicode: 'été ✓ 🎫',
    } as TicketRow;
    await sink.persistPage(page([row], 500));
    const data = (await stored(sink, 7))!.data;
    expect(data).toBe(JSON.stringify(row));
    expect(Object.keys(JSON.parse(data))).toEqual(Object.keys(row));
  });

  test('status is stored in lower case; a missing status or updated_at is null', async () => {
    const sink = open();
    await sink.persistPage(
      page(
        [
          ticket(1, 600, { status: 'Deleted' }),
          ticket(2, 600, { status: 'deleted' }),
          { id: 3, generated_timestamp: 600 },
        ],
        600,
      ),
    );
    const rows = await sink.readTickets(ACCOUNT);
    expect(rows.map((r) => r.status)).toEqual(['deleted', 'deleted', null]);
    expect(rows[2].updatedAt).toBeNull();
    expect(JSON.parse(rows[0].data).status).toBe('Deleted');
  });

  test('field headers are stored and updated', async () => {
    const sink = open();
    await sink.persistPage(page([], 0, { fieldHeaders: { id: 'Id', group_name: 'Group' } }));
    expect(await sink.readFieldHeaders(ACCOUNT)).toEqual({ id: 'Id', group_name: 'Group' });
    await sink.persistPage(page([], 0, { fieldHeaders: { group_name: 'Team', field_1: 'Custom' } }));
    expect(await sink.readFieldHeaders(ACCOUNT)).toEqual({ id: 'Id', group_name: 'Team', field_1: 'Custom' });
    expect(await sink.readFieldHeaders('other')).toEqual({});
  });

  test('the checkpoint is written in the same call and overwritten by the next', async () => {
    const sink = open();
    expect(await sink.readCheckpoint(ACCOUNT)).toBeUndefined();
    await sink.persistPage(page([ticket(1, 700)], 700));
    expect(await sink.readCheckpoint(ACCOUNT)).toBe(700);
    await sink.persistPage(page([], 701));
    expect(await sink.readCheckpoint(ACCOUNT)).toBe(701);
    await sink.persistPage(page([], 650));
    expect(await sink.readCheckpoint(ACCOUNT)).toBe(650);
  });

  test('accounts are isolated', async () => {
    const sink = open();
    await sink.persistPage(page([ticket(1, 800, { subject: 'acme' })], 800));
    await sink.persistPage(
      page([ticket(1, 100, { subject: 'other' }), ticket(2, 100)], 100, {
        account: 'other.example:8080',
        fieldHeaders: { id: 'ID' },
      }),
    );
    expect(await sink.countTickets(ACCOUNT)).toBe(1);
    expect(await sink.countTickets('other.example:8080')).toBe(2);
    expect(JSON.parse((await stored(sink, 1))!.data).subject).toBe('acme');
    expect(JSON.parse((await stored(sink, 1, 'other.example:8080'))!.data).subject).toBe('other');
    expect(await sink.readCheckpoint(ACCOUNT)).toBe(800);
    expect(await sink.readCheckpoint('other.example:8080')).toBe(100);
    expect(await sink.readFieldHeaders(ACCOUNT)).toEqual({});
    expect(await sink.countTickets('nobody')).toBe(0);
  });

  test('a row violating NOT NULL is set aside; the rest of the page, the headers and the checkpoint are stored', async () => {
    const sink = open();
    await sink.persistPage(page([ticket(1, 900, { subject: 'kept' })], 900, { fieldHeaders: { id: 'Id' } }));
    const bad = { id: 3, generated_timestamp: undefined } as unknown as TicketRow;
    const result = await sink.persistPage(
      page([ticket(1, 950, { subject: 'newer' }), ticket(2, 950), bad], 950, { fieldHeaders: { id: 'Changed' } }),
    );
    expect(result).toEqual({ written: 2, ignoredOlder: 0, rejected: 1, rejectedSideloads: 0 });
    expect(await sink.countTickets(ACCOUNT)).toBe(2);
    expect(JSON.parse((await stored(sink, 1))!.data).subject).toBe('newer');
    expect(await sink.readCheckpoint(ACCOUNT)).toBe(950);
    expect(await sink.readFieldHeaders(ACCOUNT)).toEqual({ id: 'Changed' });
    expect(await sink.readRejected(ACCOUNT)).toEqual([
      {
        ticketId: '3',
        generatedTimestamp: null,
        data: JSON.stringify(bad),
        error: 'NOT NULL constraint failed: tickets.generated_timestamp',
      },
    ]);
  });

  test('a page whose checkpoint cannot be written rolls back entirely; the sink stays usable', async () => {
    const sink = open();
    await sink.persistPage(page([ticket(1, 900, { subject: 'kept' })], 900, { fieldHeaders: { id: 'Id' } }));
    const bad = { id: 3, generated_timestamp: null } as unknown as TicketRow;
    const message = await rejection(
      sink.persistPage(
        page([ticket(1, 950, { subject: 'rolled back' }), ticket(2, 950), bad], null as unknown as number, {
          fieldHeaders: { id: 'Changed' },
          sideloads: { users: [{ id: 1 }], brands: [{ id: 2 }] },
        }),
      ),
    );
    expect(message).toMatch(/NOT NULL constraint failed: export_checkpoints.cursor/);
    expect(await sink.countTickets(ACCOUNT)).toBe(1);
    expect(JSON.parse((await stored(sink, 1))!.data).subject).toBe('kept');
    expect(await sink.readCheckpoint(ACCOUNT)).toBe(900);
    expect(await sink.readFieldHeaders(ACCOUNT)).toEqual({ id: 'Id' });
    expect(await sink.countRejected(ACCOUNT)).toBe(0);
    expect(await sink.readSideloads(ACCOUNT, 'users')).toEqual([]);
    expect(await sink.readSideloads(ACCOUNT, 'brands')).toEqual([]);

    await sink.persistPage(page([ticket(2, 960)], 960));
    expect(await sink.countTickets(ACCOUNT)).toBe(2);
    expect(await sink.readCheckpoint(ACCOUNT)).toBe(960);
  });

  test('ids and timestamps a STRICT INTEGER column cannot hold are set aside with the database message', async () => {
    const sink = open();
    const rows = [ticket(2 ** 63, 1), ticket(1e300, 1), ticket(4, 1.5), ticket(5, Infinity), ticket(6, 1)];
    expect(await sink.persistPage(page(rows, 10))).toEqual({
      written: 1,
      ignoredOlder: 0,
      rejected: 4,
      rejectedSideloads: 0,
    });
    expect((await sink.readRejected(ACCOUNT)).map((r) => [r.ticketId, r.generatedTimestamp, r.error])).toEqual([
      ['1e+300', 1, 'cannot store REAL value in INTEGER column tickets.id'],
      ['4', null, 'cannot store REAL value in INTEGER column tickets.generated_timestamp'],
      ['5', null, 'cannot store REAL value in INTEGER column tickets.generated_timestamp'],
      [String(2 ** 63), 1, 'cannot store REAL value in INTEGER column tickets.id'],
    ]);
  });

  test('only data errors set a row aside: SQLITE_BUSY, I/O and other failures fail the page', () => {
    const errors = ['SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG'];
    for (const code of errors) expect(isSqliteDataError(Object.assign(new Error('x'), { code }))).toBe(true);
    for (const code of ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL', 'SQLITE_READONLY']) {
      expect(isSqliteDataError(Object.assign(new Error('x'), { code }))).toBe(false);
    }
    expect(isSqliteDataError(new TypeError('not bindable'))).toBe(false);
    expect(isSqliteDataError(undefined)).toBe(false);
  });

  test('a file of the previous version opens, keeps its rows and takes the new tables', async () => {
    const file = newFile();
    const old = new Database(file);
    old.exec(PREVIOUS_SCHEMA);
    old
      .prepare('INSERT INTO tickets VALUES (?, 1, 100, ?, ?, ?, ?)')
      .run(ACCOUNT, '2024-01-01T00:00:00Z', 'open', JSON.stringify(ticket(1, 100)), '2024-01-01T00:00:00.000Z');
    old.prepare('INSERT INTO export_checkpoints (account, cursor, updated_at) VALUES (?, 100, ?)').run(ACCOUNT, 'x');
    old.close();

    const sink = open(file);
    expect(await sink.readFullCheckpoint(ACCOUNT)).toEqual({ cursor: 100, api: null, afterCursor: null });
    const result = await sink.persistPage(
      page([ticket(2, 110), ticket(2 ** 63, 110)], 110, {
        api: 'cursor',
        sideloads: { users: [{ id: 7 }, { id: 'x' }] },
      }),
    );
    expect(result).toEqual({ written: 1, ignoredOlder: 0, rejected: 1, rejectedSideloads: 1 });
    expect((await sink.readTickets(ACCOUNT)).map((t) => t.data)).toEqual([
      JSON.stringify(ticket(1, 100)),
      JSON.stringify(ticket(2, 110)),
    ]);
    expect(await sink.readFullCheckpoint(ACCOUNT)).toEqual({ cursor: 110, api: 'cursor', afterCursor: null });
    expect(await sink.countRejected(ACCOUNT)).toBe(1);
    expect(await sink.readSideloads(ACCOUNT, 'users')).toEqual([{ id: '7', updatedAt: null, data: '{"id":7}' }]);
  });

  test('reopening the file keeps tickets, checkpoint and headers', async () => {
    const file = newFile();
    const first = open(file);
    await first.persistPage(page([ticket(1, 1000), ticket(2, 1001)], 1001, { fieldHeaders: { id: 'Id' } }));
    await first.close();
    await first.close(); // closing twice is harmless

    const second = open(file);
    expect(await second.countTickets(ACCOUNT)).toBe(2);
    expect(await second.readCheckpoint(ACCOUNT)).toBe(1001);
    expect(await second.readFieldHeaders(ACCOUNT)).toEqual({ id: 'Id' });
    expect((await stored(second, 2))!.data).toBe(JSON.stringify(ticket(2, 1001)));
  });

  test('creates missing parent directories', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'tickets.db');
    const sink = open(file);
    await sink.persistPage(page([ticket(1, 1)], 1));
    expect(fs.existsSync(file)).toBe(true);
  });
});

describe('SqliteSink: the streams around the ticket', () => {
  streamSinkCases(async () => open());

  test('an event the database refuses is set aside with none of its rows; the rest of the page is stored', async () => {
    const file = newFile();
    const sink = open(file);
    const db = new Database(file);
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON ticket_comments WHEN NEW.body = 'refused'
      BEGIN SELECT RAISE(ABORT, 'this comment is refused'); END`);
    db.close();
    const refused = ticketEvent(2, 200, [
      { id: 20, event_type: 'Change', status: 'open' },
      commentChild(21, 'refused'),
    ]);
    const kept = ticketEvent(3, 300, [{ id: 30, event_type: 'Change', status: 'solved' }, commentChild(31, 'fine')]);
    const result = await sink.persistStreamPage({
      account: ACCOUNT,
      stream: 'ticket_events',
      rows: [refused, kept],
      checkpoint: { cursor: 300, afterCursor: null },
    });
    expect(result).toEqual({ written: 1, ignoredOlder: 0, rejected: 1, comments: 1, fieldChanges: 1 });
    expect((await sink.readStreamTable(ACCOUNT, 'ticket_events')).map((e) => e.id)).toEqual([3]);
    expect((await sink.readStreamTable(ACCOUNT, 'ticket_comments')).map((c) => c.id)).toEqual([31]);
    expect((await sink.readStreamTable(ACCOUNT, 'ticket_field_changes')).map((f) => f.child_id)).toEqual([30]);
    expect(await sink.readStreamTable(ACCOUNT, 'rejected_rows')).toEqual([
      expect.objectContaining({
        stream: 'ticket_events',
        row_id: '2',
        data: refused,
        error: 'this comment is refused',
      }),
    ]);
    expect(await sink.readStreamCheckpoint(ACCOUNT, 'ticket_events')).toEqual({ cursor: 300, afterCursor: null });
  });

  test('a file of the version before the streams opens, keeps its rows and takes the stream tables', async () => {
    const file = newFile();
    const old = new Database(file);
    old.exec(SIDELOADS_SCHEMA);
    old.prepare('INSERT INTO organizations VALUES (?, 5, NULL, ?, ?)').run(ACCOUNT, '{"id":5}', '2024-01-01T00:00:00Z');
    old.close();
    fs.chmodSync(file, 0o600);

    const sink = open(file);
    expect(await sink.readSideloads(ACCOUNT, 'organizations')).toEqual([
      { id: '5', updatedAt: null, data: '{"id":5}' },
    ]);
    const gone = { id: 5, updated_at: '2024-01-02T00:00:00Z', deleted_at: '2024-01-02T00:00:00Z' };
    expect(
      await sink.persistStreamPage({
        account: ACCOUNT,
        stream: 'organizations',
        rows: [gone],
        checkpoint: { cursor: 1, afterCursor: null },
      }),
    ).toEqual({ written: 1, ignoredOlder: 0, rejected: 0 });
    expect(await sink.readStreamTable(ACCOUNT, 'organizations')).toEqual([
      expect.objectContaining({ id: 5, deleted_at: '2024-01-02T00:00:00Z', data: gone }),
    ]);
    await sink.persistStreamPage({
      account: ACCOUNT,
      stream: 'ticket_events',
      rows: [ticketEvent(1, 100, [commentChild(10, 'hello')])],
      checkpoint: { cursor: 100, afterCursor: null },
    });
    expect(await sink.countStreamTable(ACCOUNT, 'ticket_comments')).toBe(1);
    await sink.close();
    // Opening it again changes nothing.
    const again = open(file);
    expect(await again.countStreamTable(ACCOUNT, 'ticket_events')).toBe(1);
    expect(await again.readStreamCheckpoint(ACCOUNT, 'organizations')).toEqual({ cursor: 1, afterCursor: null });
  });
});

describe('SqliteSink: ticket_version', () => {
  ticketVersionCases(async (options) => open(newFile(), options));
});

describe('SqliteSink: typedTickets off (the bench measures the typed copy with it)', () => {
  test('tickets and their versions are stored, no typed row is', async () => {
    const file = newFile();
    const sink = open(file, { typedTickets: false });
    const rows = [ticket(1, 100, { tags: ['vip'], custom_fields: [{ id: 7, value: 'x' }] }), ticket(2, 100)];
    await sink.persistPage({ account: ACCOUNT, rows, fieldHeaders: {}, cursor: 100 });
    expect(await sink.countTickets(ACCOUNT)).toBe(2);
    expect(await sink.readTicketVersions(ACCOUNT)).toHaveLength(2);
    const db = new Database(file, { readonly: true });
    try {
      for (const table of ['ticket', 'ticket_tag', 'ticket_custom_field_value']) {
        expect(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
      }
    } finally {
      db.close();
    }
  });
});

describe('SqliteSink: versioned migrations (PRAGMA user_version)', () => {
  const BASELINE = path.join(__dirname, '..', 'fixtures', 'sqlite-baseline.sql');
  const version = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.pragma('user_version', { simple: true });
    } finally {
      db.close();
    }
  };
  /** Every row of every table the file had, as text, table by table. */
  const contents = (file: string, tables?: string[]) => {
    const db = new Database(file, { readonly: true });
    try {
      const names =
        tables ??
        (
          db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
        ).map((t) => t.name);
      return Object.fromEntries(
        names.map((name) => [
          name,
          db
            .prepare(`SELECT * FROM ${name} ORDER BY rowid`)
            .all()
            .map((r) => JSON.stringify(r)),
        ]),
      );
    } finally {
      db.close();
    }
  };

  test('a file written by the code before migrations is the baseline: upgraded in place, every row and checkpoint kept', async () => {
    const file = newFile();
    const old = new Database(file);
    old.exec(fs.readFileSync(BASELINE, 'utf8'));
    old.close();
    expect(version(file)).toBe(0);
    const before = contents(file);
    expect(Object.values(before).flat()).toHaveLength(20);

    const sink = open(file);
    expect(version(file)).toBe(SQLITE_SCHEMA_VERSION);
    // The stored field changes moved to ticket_field_changes; ticket_field_history is now the analysts' view of them.
    const renamed = (name: string) => (name === 'ticket_field_history' ? 'ticket_field_changes' : name);
    const after = contents(file, Object.keys(before).map(renamed));
    expect(Object.fromEntries(Object.entries(before).map(([name, rows]) => [renamed(name), rows]))).toEqual(after);
    // The typed tables are filled from the stored tickets, and the views read the stored rows.
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT account, id, status, subject FROM ticket ORDER BY account, id').all()).toEqual([
        { account: 'acme', id: 1, status: 'open', subject: 'one' },
        { account: 'acme', id: 2, status: 'open', subject: 'two, edited' },
        { account: 'acme', id: 3, status: 'open', subject: 'three' },
        { account: 'globex', id: 10, status: 'open', subject: 'ten' },
      ]);
      expect(db.prepare('SELECT count(*) AS n FROM ticket_tag').get()).toEqual({ n: 4 });
      expect(db.prepare('SELECT ticket_id, field_name, user_id, value FROM ticket_field_history').all()).toEqual([
        { ticket_id: 1, field_name: 'status', user_id: 42, value: 'open' },
      ]);
    } finally {
      db.close();
    }
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
    expect((await sink.readTickets('acme')).map((t) => [t.id, t.generatedTimestamp])).toEqual([
      [1, 1_700_000_000],
      [2, 1_700_000_200],
      [3, 1_700_000_200],
    ]);
    // The new table is there, empty until the next page: versions start with the upgrade.
    expect(await sink.readTicketVersions('acme')).toEqual([]);
    await sink.persistPage({
      account: 'acme',
      rows: [ticket(2, 1_700_000_300)],
      fieldHeaders: {},
      cursor: 1_700_000_300,
    });
    expect((await sink.readTicketVersions('acme')).map((v) => v.id)).toEqual([2]);
    expect(await sink.countTickets('acme')).toBe(3);
  });

  test('a new file takes every migration once; opening it again runs none', async () => {
    const file = newFile();
    await open(file).close();
    expect(version(file)).toBe(SQLITE_SCHEMA_VERSION);
    const db = new Database(file);
    try {
      expect(migrateSqlite(db, file)).toBe(0);
    } finally {
      db.close();
    }
  });

  test('a file of version 1 gains ticket_version and keeps its tickets', async () => {
    const file = newFile();
    const db = new Database(file);
    expect(migrateSqlite(db, file, 1)).toBe(1);
    db.prepare('INSERT INTO tickets VALUES (?, 1, 100, NULL, NULL, ?, ?)').run(ACCOUNT, '{"id":1}', 'x');
    db.close();
    const sink = open(file);
    expect(version(file)).toBe(SQLITE_SCHEMA_VERSION);
    expect(await sink.countTickets(ACCOUNT)).toBe(1);
    expect(await sink.readTicketVersions(ACCOUNT)).toEqual([]);
  });

  test('the indexes analysts filter by exist, and a dashboard filter uses them', async () => {
    const file = newFile();
    await open(file).close();
    const db = new Database(file, { readonly: true });
    try {
      const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map(
        (row) => row.name,
      );
      const renamed = (name: string) => name.replace('ticket_field_history', 'ticket_field_changes');
      for (const index of ANALYST_INDEXES) expect(names).toContain(renamed(index.name));
      expect(names).toEqual(expect.arrayContaining(['ticket_status_group_id', 'ticket_updated_at', 'ticket_tag_tag']));
      const plan = db
        .prepare("EXPLAIN QUERY PLAN SELECT count(*) FROM tickets WHERE account = 'a' AND status = 'open'")
        .all() as { detail: string }[];
      expect(plan.map((step) => step.detail).join('\n')).toMatch(/USING (COVERING )?INDEX tickets_status/);
    } finally {
      db.close();
    }
  });

  test('a file of a version this code does not know is refused, naming both versions, and left as it is', async () => {
    const file = newFile();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteSink(file)).toThrow(
      `the SQLite file ${file} has schema version 99, newer than this code knows (version ${SQLITE_SCHEMA_VERSION})`,
    );
    expect(version(file)).toBe(99);
    expect(contents(file)).toEqual({});
  });
});

describe('file modes: the tickets are readable by their owner only', () => {
  const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
  let emitWarning: jest.SpyInstance;
  const warnings = () => emitWarning.mock.calls.map((args: unknown[]) => String(args[0]));
  beforeEach(() => {
    emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => {
    emitWarning.mockRestore();
  });

  // A umask of 022 (the usual one) would leave a plainly created file at 0644.
  let umask: number;
  beforeAll(() => {
    umask = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(umask);
  });

  test('a new file is 0600, its -wal and -shm too, in a directory created 0700', async () => {
    const parent = path.join(dir, 'modes-new');
    const file = path.join(parent, 'data', 'tickets.db');
    const sink = open(file);
    await sink.persistPage(page([ticket(1, 1)], 1));
    expect(modeOf(file)).toBe(0o600);
    for (const companion of [`${file}-wal`, `${file}-shm`]) {
      expect({ companion, exists: fs.existsSync(companion) }).toEqual({ companion, exists: true });
      expect({ companion, mode: modeOf(companion) }).toEqual({ companion, mode: 0o600 });
    }
    expect(modeOf(parent)).toBe(0o700);
    expect(modeOf(path.dirname(file))).toBe(0o700);
    expect(warnings()).toEqual([]);
  });

  test('an existing file readable by others is tightened to 0600, with a warning', async () => {
    const file = newFile();
    new Database(file).close();
    fs.chmodSync(file, 0o644);
    const sink = open(file);
    await sink.persistPage(page([ticket(1, 1)], 1));
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(`${file}-wal`)).toBe(0o600);
    expect(warnings()).toEqual([expect.stringContaining('mode changed from 0644 to 0600')]);
  });

  test('an existing directory keeps its mode; only the file is ours to set', async () => {
    const parent = path.join(dir, 'modes-existing');
    fs.mkdirSync(parent, { mode: 0o755 });
    fs.chmodSync(parent, 0o755);
    const file = path.join(parent, 'tickets.db');
    open(file);
    expect(modeOf(parent)).toBe(0o755);
    expect(modeOf(file)).toBe(0o600);
  });

  test('the claim-check blob store opens its file (the same one, normally) the same way', async () => {
    const file = path.join(dir, 'modes-blobs', 'tickets.db');
    const store = new SqliteBlobStore(file);
    try {
      await store.put('id', new Uint8Array([1, 2, 3]));
      expect(modeOf(file)).toBe(0o600);
      expect(modeOf(`${file}-wal`)).toBe(0o600);
      expect(modeOf(path.dirname(file))).toBe(0o700);
    } finally {
      await store.close();
    }
  });
});

describe('openSink', () => {
  test('sqlite:<path> opens a SqliteSink at that path', async () => {
    const file = newFile();
    const sink = await openSink(`sqlite:${file}`);
    try {
      expect(sink).toBeInstanceOf(SqliteSink);
      expect((sink as SqliteSink).filename).toBe(file);
      await sink.persistPage(page([ticket(1, 5)], 5));
      expect(await sink.readCheckpoint(ACCOUNT)).toBe(5);
    } finally {
      await sink.close();
    }
    expect(fs.existsSync(file)).toBe(true);
  });

  test('sqlite://<absolute path> is accepted too', async () => {
    const file = newFile();
    const sink = await openSink(`sqlite://${file}`);
    try {
      expect((sink as SqliteSink).filename).toBe(file);
    } finally {
      await sink.close();
    }
  });

  test('sqlite: without a path is a clear error', async () => {
    await expect(openSink('sqlite:')).rejects.toThrow(/SINK_URL: sqlite: needs a file path/);
  });

  test('an unknown scheme is a clear error naming it', async () => {
    await expect(openSink('mysql://db/tickets')).rejects.toThrow(/SINK_URL: unknown scheme in "mysql:"/);
  });

  test.each(['postgres://user:secret@127.0.0.1:1/tickets', 'postgresql://127.0.0.1:1/tickets'])(
    '%s opens the PostgreSQL sink (here: nothing listens, so the connection is refused)',
    async (url) => {
      const error = await openSink(url).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(String(error)).toMatch(/ECONNREFUSED/);
      expect(String(error)).not.toContain('secret');
    },
  );
});
