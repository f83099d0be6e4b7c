import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { PostgresSink } from '../../src/storage/postgres';
import { SqliteSink } from '../../src/storage/sqlite';
import type { StreamRow, StreamSink } from '../../src/streams/contract';
import type { ReferenceList } from '../../src/streams/names';
import { testPostgresUrl } from '../helpers/prerequisites';

// A refresh of the reference lists on both sinks: rows carry the refresh, a row the next refresh does not see is
// marked deleted (kept), one that comes back is live again; the typed views read them.

const POSTGRES_URL = testPostgresUrl();
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

const field = (id: number, title: string, options?: string[]): StreamRow => ({
  id,
  type: options ? 'tagger' : 'text',
  title,
  raw_title: title,
  active: true,
  required: false,
  description: '',
  position: id % 100,
  created_at: iso(1_700_000_000),
  updated_at: iso(1_700_000_000),
  ...(options && {
    custom_field_options: options.map((name, i) => ({
      id: id * 10 + i,
      name,
      value: name.toLowerCase(),
      default: false,
    })),
  }),
});

type ViewQuery = (sql: string, account: string) => Promise<Record<string, unknown>[]>;

interface Subject {
  sink: StreamSink & { close(): Promise<void> };
  views: ViewQuery;
  close(): Promise<void>;
}

const subjects: [string, () => Promise<Subject>][] = [
  [
    'sqlite',
    async () => {
      const file = path.join(os.tmpdir(), `zte-ref-${randomUUID()}.db`);
      const sink = new SqliteSink(file);
      const db = new Database(file, { readonly: true });
      return {
        sink,
        views: async (sql, account) => db.prepare(sql.replace(/\$1/g, '?')).all(account) as Record<string, unknown>[],
        close: async () => {
          db.close();
          await sink.close();
        },
      };
    },
  ],
  [
    'postgres',
    async () => {
      const sink = await PostgresSink.open(POSTGRES_URL);
      const pool = new Pool({ connectionString: POSTGRES_URL, max: 1 });
      return {
        sink,
        views: async (sql, account) => (await pool.query(sql.replace(/FROM /g, 'FROM zendesk.'), [account])).rows,
        close: async () => {
          await pool.end();
          await sink.close();
        },
      };
    },
  ],
];

describe.each(subjects)('reference lists on the %s sink', (name, open) => {
  let subject: Subject;
  let account: string;
  beforeEach(async () => {
    subject = await open();
    account = `acct-${randomUUID()}`;
  });
  afterEach(async () => subject.close());

  const refresh = (list: ReferenceList, refreshId: number, rows: StreamRow[], lastPage = true) =>
    subject.sink.persistStreamPage({
      account,
      stream: 'reference_lists',
      rows,
      refresh: { list, refreshId, lastPage },
      checkpoint: { cursor: Math.floor(refreshId / 1000), afterCursor: lastPage ? null : list },
    });
  const table = (list: ReferenceList) => subject.sink.readStreamTable(account, list);

  test('a refresh stores its rows; one not seen again is marked deleted, not dropped; back, it is live again', async () => {
    const tier = field(360001, 'Customer tier', ['Enterprise', 'Business']);
    const order = field(360003, 'Order number');
    await refresh('ticket_fields', 1000, [tier], false);
    await refresh('ticket_fields', 1000, [order]);
    let rows = await table('ticket_fields');
    expect(rows.map((r) => [r.id, r.last_refresh, r.deleted_at])).toEqual([
      [360001, 1000, null],
      [360003, 1000, null],
    ]);
    expect(rows[0].data).toEqual(tier);

    await refresh('ticket_fields', 2000, [tier]);
    rows = await table('ticket_fields');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ id: 360003, last_refresh: 1000 });
    expect(typeof rows[1].deleted_at).toBe('string');
    expect(rows[0]).toMatchObject({ id: 360001, last_refresh: 2000, deleted_at: null });

    await refresh('ticket_fields', 3000, [tier, { ...order, title: 'Order no.' }]);
    rows = await table('ticket_fields');
    expect(rows.map((r) => [r.id, r.last_refresh, r.deleted_at])).toEqual([
      [360001, 3000, null],
      [360003, 3000, null],
    ]);
    expect((rows[1].data as StreamRow).title).toBe('Order no.');
    expect(await subject.sink.readStreamCheckpoint(account, 'reference_lists')).toEqual({
      cursor: 3,
      afterCursor: null,
    });
  });

  test('a list marks only its own table and account; an empty last page marks every row deleted', async () => {
    const group = { id: 5, name: 'Support', description: 'Support team', default: true, deleted: false, url: 'u' };
    await refresh('groups', 1000, [{ ...group, created_at: iso(1), updated_at: iso(2) }]);
    await refresh('brands', 1000, [{ id: 9, name: 'Example', subdomain: 'example', updated_at: iso(2) }]);
    await refresh('brands', 2000, []);
    expect((await table('brands'))[0].deleted_at).not.toBeNull();
    expect((await table('groups'))[0].deleted_at).toBeNull();
  });

  test('the typed views read the rows as Fivetran names them', async () => {
    const created = iso(1_700_000_000);
    await refresh('ticket_fields', 1000, [field(360001, 'Customer tier', ['Enterprise', 'Business'])]);
    await refresh('groups', 1000, [
      {
        id: 7,
        name: 'Billing',
        description: 'Billing team',
        is_public: true,
        url: 'g',
        deleted: false,
        created_at: created,
        updated_at: created,
      },
    ]);
    await refresh('brands', 1000, [
      {
        id: 9,
        name: 'Example',
        subdomain: 'example',
        brand_url: 'https://example.zendesk.com',
        active: true,
        default: true,
        has_help_center: false,
        created_at: created,
        updated_at: created,
      },
    ]);
    await refresh('ticket_forms', 1000, [
      {
        id: 11,
        name: 'Default',
        display_name: 'Default form',
        active: true,
        ticket_field_ids: [360001],
        created_at: created,
        updated_at: created,
      },
    ]);
    await refresh('custom_statuses', 1000, [
      {
        id: 13,
        status_category: 'pending',
        agent_label: 'Waiting',
        end_user_label: 'Pending',
        active: true,
        default: false,
        created_at: created,
        updated_at: created,
      },
    ]);
    const time = (value: unknown) =>
      value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
    const bool = (value: unknown) => (name === 'sqlite' ? (value ? 1 : 0) : value);

    const [fieldRow] = await subject.views('SELECT * FROM ticket_field WHERE account = $1', account);
    expect({ ...fieldRow, created_at: time(fieldRow.created_at), updated_at: time(fieldRow.updated_at) }).toEqual({
      id: name === 'sqlite' ? 360001 : '360001',
      title: 'Customer tier',
      raw_title: 'Customer tier',
      type: 'tagger',
      active: bool(true),
      required: bool(false),
      description: '',
      created_at: new Date(created).toISOString(),
      updated_at: new Date(created).toISOString(),
      position: name === 'sqlite' ? 1 : '1',
      is_deleted: bool(false),
      account,
    });
    const options = await subject.views(
      'SELECT ticket_field_id, id, name, value, position FROM ticket_field_option WHERE account = $1 ORDER BY position',
      account,
    );
    expect(options.map((o) => [Number(o.ticket_field_id), Number(o.id), o.name, o.value, Number(o.position)])).toEqual([
      [360001, 3600010, 'Enterprise', 'enterprise', 0],
      [360001, 3600011, 'Business', 'business', 1],
    ]);
    const [group] = await subject.views(
      'SELECT name, is_public, is_deleted, deleted_at FROM "group" WHERE account = $1',
      account,
    );
    expect(group).toEqual({ name: 'Billing', is_public: bool(true), is_deleted: bool(false), deleted_at: null });
    const [brand] = await subject.views('SELECT subdomain, "default", active FROM brand WHERE account = $1', account);
    expect(brand).toEqual({ subdomain: 'example', default: bool(true), active: bool(true) });
    for (const view of ['ticket_form', 'ticket_form_history']) {
      const [form] = await subject.views(
        `SELECT name, display_name, is_deleted FROM ${view} WHERE account = $1`,
        account,
      );
      expect(form).toEqual({ name: 'Default', display_name: 'Default form', is_deleted: bool(false) });
    }
    const [status] = await subject.views(
      'SELECT status_category, agent_label, end_user_label, "default" FROM custom_status WHERE account = $1',
      account,
    );
    expect(status).toEqual({
      status_category: 'pending',
      agent_label: 'Waiting',
      end_user_label: 'Pending',
      default: bool(false),
    });

    await refresh('custom_statuses', 2000, []);
    const [gone] = await subject.views('SELECT is_deleted FROM custom_status WHERE account = $1', account);
    expect(gone.is_deleted).toBe(bool(true));
  });
});
