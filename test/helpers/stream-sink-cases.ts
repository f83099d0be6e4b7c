import { randomUUID } from 'node:crypto';
import type { TicketSink } from '../../src/storage/sink';
import type { PersistStreamPageInput, StreamRow, StreamSink } from '../../src/streams/contract';
import type { AroundStream } from '../../src/streams/names';

/**
 * The cases every sink passes for the streams around the ticket: test/unit/sqlite-sink.test.ts runs them on SQLite,
 * test/integration/storage.test.ts on PostgreSQL.
 */

const T = 1_700_000_000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

export function ticketEvent(id: number, timestamp: number, children: unknown[], extra: StreamRow = {}): StreamRow {
  return {
    id,
    ticket_id: 7,
    timestamp,
    created_at: iso(timestamp),
    updater_id: 42,
    via: 'Web form',
    system: { client: 'Mozilla/5.0', location: 'Paris, France', latitude: 48.8, longitude: 2.3 },
    metadata: { custom: {} },
    event_type: 'Audit',
    child_events: children,
    ...extra,
  };
}

export function commentChild(id: number, body: string, extra: StreamRow = {}): StreamRow {
  return {
    id,
    event_type: 'Comment',
    type: 'Comment',
    author_id: 42,
    body,
    html_body: `<p>${body}</p>`,
    plain_body: body,
    public: true,
    attachments: [],
    audit_id: 1,
    created_at: iso(T),
    via: { channel: 'web', source: { from: {}, to: {}, rel: null } },
    via_reference_id: null,
    ...extra,
  };
}

const withoutStoredAt = (rows: Record<string, unknown>[]) => rows.map(({ stored_at: _, ...rest }) => rest);

export function streamSinkCases(open: () => Promise<TicketSink & StreamSink>): void {
  let sink: TicketSink & StreamSink;
  let account: string;
  beforeEach(async () => {
    sink = await open();
    account = `acct-${randomUUID()}`;
  });
  afterEach(async () => sink.close());

  const persist = (
    stream: AroundStream,
    rows: StreamRow[],
    cursor: number,
    extra: Partial<PersistStreamPageInput> = {},
  ) => sink.persistStreamPage({ account, stream, rows, checkpoint: { cursor, afterCursor: null }, ...extra });
  const table = async (name: string) => withoutStoredAt(await sink.readStreamTable(account, name));
  const nothingElse = { ignoredOlder: 0, rejected: 0 };

  test('a ticket event is stored with its comments and one field-history row per changed field', async () => {
    const comment = commentChild(500, 'Hello');
    const children = [
      comment,
      { id: 601, event_type: 'Change', via: 'Web form', via_reference_id: null, status: 'open', previous_value: 'new' },
      { id: 602, event_type: 'Create', tags: ['vip', 'billing'], custom_field_9: { value: 3 }, priority: null },
      { id: 603, event_type: 'Notification', subject: 'We got it', body: 'x', recipients: [42] },
    ];
    const event = ticketEvent(1001, T, children);
    expect(await persist('ticket_events', [event], T)).toEqual({
      written: 1,
      ...nothingElse,
      comments: 1,
      fieldChanges: 4,
    });
    expect(await table('ticket_events')).toEqual([
      {
        id: 1001,
        ticket_id: 7,
        timestamp: T,
        created_at: iso(T),
        updater_id: 42,
        via: 'Web form',
        event_type: 'Audit',
        child_events: children,
        data: event,
      },
    ]);
    expect(await table('ticket_comments')).toEqual([
      {
        id: 500,
        ticket_id: 7,
        event_id: 1001,
        event_timestamp: T,
        author_id: 42,
        public: true,
        created_at: iso(T),
        body: 'Hello',
        html_body: '<p>Hello</p>',
        plain_body: 'Hello',
        attachments: [],
        via: comment.via,
        data: comment,
      },
    ]);
    const change = { ticket_id: 7, event_id: 1001, updated_at: iso(T), updater_id: 42 };
    expect(await table('ticket_field_changes')).toEqual([
      { child_id: 601, field_name: 'status', value: 'open', previous_value: 'new', event_type: 'Change', ...change },
      {
        child_id: 602,
        field_name: 'custom_field_9',
        value: { value: 3 },
        previous_value: null,
        event_type: 'Create',
        ...change,
      },
      { child_id: 602, field_name: 'priority', value: null, previous_value: null, event_type: 'Create', ...change },
      {
        child_id: 602,
        field_name: 'tags',
        value: ['vip', 'billing'],
        previous_value: null,
        event_type: 'Create',
        ...change,
      },
    ]);
    expect(await sink.readStreamCheckpoint(account, 'ticket_events')).toEqual({ cursor: T, afterCursor: null });
    expect(await sink.countStreamTable(account, 'ticket_field_changes')).toBe(4);

    // The boundary second again: harmless upserts.
    expect(await persist('ticket_events', [event], T)).toEqual({
      written: 1,
      ...nothingElse,
      comments: 1,
      fieldChanges: 4,
    });
    for (const [name, count] of [
      ['ticket_events', 1],
      ['ticket_comments', 1],
      ['ticket_field_changes', 4],
    ] as const) {
      expect(await sink.countStreamTable(account, name)).toBe(count);
    }
  });

  test('a comment keeps the copy of its newest event: a redaction lands, an older copy does not', async () => {
    await persist('ticket_events', [ticketEvent(1, T, [commentChild(500, 'card 4111 1111 1111 1111')])], T);
    const redacted = ticketEvent(2, T + 60, [commentChild(500, 'card ▇▇▇▇')]);
    expect(await persist('ticket_events', [redacted], T + 60)).toMatchObject({
      written: 1,
      ignoredOlder: 0,
      comments: 1,
    });
    const older = ticketEvent(3, T + 30, [commentChild(500, 'an older copy', { public: false })]);
    expect(await persist('ticket_events', [older], T + 60)).toMatchObject({ written: 1, ignoredOlder: 1, comments: 0 });
    expect((await table('ticket_comments')).map((c) => [c.id, c.event_id, c.body, c.public])).toEqual([
      [500, 2, 'card ▇▇▇▇', true],
    ]);
    // The same event again (a tie) is written again; within one page the newest event wins whatever its place.
    expect(await persist('ticket_events', [redacted], T + 60)).toMatchObject({ ignoredOlder: 0, comments: 1 });
    const page = [
      ticketEvent(5, T + 300, [commentChild(501, 'made private', { public: false })]),
      ticketEvent(4, T + 200, [commentChild(501, 'public')]),
    ];
    expect(await persist('ticket_events', page, T + 300)).toMatchObject({ written: 2, ignoredOlder: 1, comments: 1 });
    expect((await table('ticket_comments')).map((c) => [c.id, c.event_id, c.public])).toEqual([
      [500, 2, true],
      [501, 5, false],
    ]);
    expect(await sink.countStreamTable(account, 'ticket_events')).toBe(5);
  });

  test('odd via shapes, unknown child types and missing fields are stored, not refused', async () => {
    const children = [
      { id: 701, event_type: 'SomethingNew', via: 'API', anything: { nested: [1, 'two', null] } },
      { id: 702, event_type: 'Change', via: null, subject: 'with a null via' },
      {
        id: 703,
        event_type: 'Change',
        via: { channel: 'rule', source: { rel: 'trigger', from: { id: 9 } } },
        group_id: 3,
      },
      { id: 704, event_type: 'Comment', via: 'Mail', body: 'a string via' },
      { event_type: 'Change', status: 'solved' },
      'not an object',
    ];
    const rows = [
      ticketEvent(11, T, children, { via: { channel: 'web', source: { from: {}, to: {} } } }),
      ticketEvent(12, T, [], { via: null }),
      { id: 13, child_events: null },
      { id: 14, ticket_id: 'seven', timestamp: 'soon', created_at: 'yesterday', via: 12, child_events: { id: 1 } },
    ];
    expect(await persist('ticket_events', rows, T)).toEqual({
      written: 4,
      ...nothingElse,
      comments: 1,
      fieldChanges: 2,
    });
    const stored = await table('ticket_events');
    expect(stored.map((e) => [e.id, e.via, e.child_events])).toEqual([
      [11, rows[0].via, children],
      [12, null, []],
      [13, null, null],
      [14, 12, { id: 1 }],
    ]);
    expect(stored.map((e) => e.data)).toEqual(rows);
    expect(stored[3]).toMatchObject({ ticket_id: null, timestamp: null, created_at: null, event_type: null });
    expect((await table('ticket_comments')).map((c) => [c.id, c.via])).toEqual([[704, 'Mail']]);
    expect((await table('ticket_field_changes')).map((f) => [f.child_id, f.field_name, f.value])).toEqual([
      [702, 'subject', 'with a null via'],
      [703, 'group_id', 3],
    ]);
  });

  test('users: the newest updated_at wins across the users stream and the tickets stream sideloads, either order', async () => {
    const [t1, t2] = ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'];
    const user = (id: number, updated_at: string, from: string) => ({ id, updated_at, name: `user ${id}`, from });
    const sideloads = (users: StreamRow[]) =>
      sink.persistPage({ account, rows: [], fieldHeaders: {}, cursor: 1, sideloads: { users: users as never } });

    // The stream first, then the sideloads.
    await persist('users', [user(10, t2, 'stream'), user(11, t1, 'stream')], 1);
    await sideloads([user(10, t1, 'sideload'), user(11, t2, 'sideload')]);
    // The sideloads first, then the stream.
    await sideloads([user(12, t2, 'sideload'), user(13, t1, 'sideload')]);
    expect(await persist('users', [user(12, t1, 'stream'), user(13, t2, 'stream')], 2)).toEqual({
      written: 1,
      ignoredOlder: 1,
      rejected: 0,
    });

    const winners = [
      user(10, t2, 'stream'),
      user(11, t2, 'sideload'),
      user(12, t2, 'sideload'),
      user(13, t2, 'stream'),
    ];
    expect(await sink.readSideloads(account, 'users')).toEqual(
      winners.map((u) => ({ id: String(u.id), updatedAt: t2, data: JSON.stringify(u) })),
    );
    expect(await table('users')).toEqual(winners.map((u) => ({ id: u.id, updated_at: t2, data: u })));

    // Within one page too: an older copy later in the page does not win.
    expect(await persist('users', [user(14, t2, 'newer'), user(14, t1, 'older')], 3)).toEqual({
      written: 1,
      ignoredOlder: 1,
      rejected: 0,
    });
    expect((await table('users')).find((u) => u.id === 14)?.data).toEqual(user(14, t2, 'newer'));
  });

  test('deleted users and organizations are stored as received', async () => {
    const [t1, t2] = ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'];
    await persist('users', [{ id: 1, active: true, updated_at: t1, email: 'a@example.com' }], 1);
    const deletedUser = { id: 1, active: false, updated_at: t2, email: null, name: 'Permanently Deleted User' };
    expect(await persist('users', [deletedUser], 2)).toEqual({ written: 1, ...nothingElse });
    expect(await sink.readSideloads(account, 'users')).toEqual([
      { id: '1', updatedAt: t2, data: JSON.stringify(deletedUser) },
    ]);

    const org = { id: 5, name: 'Acme', updated_at: t1, deleted_at: null };
    const deletedOrg = { id: 6, name: 'Gone', updated_at: t2, deleted_at: t2 };
    expect(await persist('organizations', [org, deletedOrg], 2)).toEqual({ written: 2, ...nothingElse });
    expect(await table('organizations')).toEqual([
      { id: 5, updated_at: t1, deleted_at: null, data: org },
      { id: 6, updated_at: t2, deleted_at: t2, data: deletedOrg },
    ]);
    expect((await sink.readSideloads(account, 'organizations')).map((o) => o.data)).toEqual([
      JSON.stringify(org),
      JSON.stringify(deletedOrg),
    ]);
  });

  test('ticket metric events are stored once per id; a later copy replaces the row', async () => {
    const metric = (id: number, extra: StreamRow = {}) => ({
      id,
      ticket_id: 7,
      metric: 'reply_time',
      instance_id: 1,
      type: 'apply_sla',
      time: '2024-01-01T00:00:00Z',
      sla: { target: 60, business_hours: false, policy: { id: 3, title: 'Gold' } },
      deleted: false,
      ...extra,
    });
    const page = [metric(1), metric(2, { type: 'breach', sla: undefined }), metric(2, { type: 'breach' })];
    expect(await persist('ticket_metric_events', page, 1)).toEqual({ written: 3, ...nothingElse });
    expect(await persist('ticket_metric_events', page, 1)).toEqual({ written: 3, ...nothingElse });
    await persist('ticket_metric_events', [metric(1, { deleted: true })], 2);
    expect(await table('ticket_metric_events')).toEqual([
      {
        id: 1,
        ticket_id: 7,
        metric: 'reply_time',
        instance_id: 1,
        type: 'apply_sla',
        time: '2024-01-01T00:00:00Z',
        deleted: true,
        data: metric(1, { deleted: true }),
      },
      {
        id: 2,
        ticket_id: 7,
        metric: 'reply_time',
        instance_id: 1,
        type: 'breach',
        time: '2024-01-01T00:00:00Z',
        deleted: false,
        data: metric(2, { type: 'breach' }),
      },
    ]);
  });

  test('rows without a usable id are set aside with the input set-aside rows; the rest and the checkpoint are stored', async () => {
    const bad = [{ id: 0 }, { id: '12' }, { id: 2 ** 63 }, { id: 1.5 }, { name: 'no id' }];
    const rows = [ticketEvent(1, T, [commentChild(500, 'kept')]), ...bad, ticketEvent(2, T + 1, [])];
    const setAside = [{ row: { id: 77, timestamp: 1e12 }, reason: 'a timestamp in milliseconds' }];
    const result = await persist('ticket_events', rows, T + 1, { setAside });
    expect(result).toEqual({ written: 2, ignoredOlder: 0, rejected: 6, comments: 1, fieldChanges: 0 });
    expect((await table('ticket_events')).map((e) => e.id)).toEqual([1, 2]);
    expect(await sink.readStreamCheckpoint(account, 'ticket_events')).toEqual({ cursor: T + 1, afterCursor: null });
    const rejected = await table('rejected_rows');
    expect(rejected.map((r) => [r.stream, String(r.row_id).replace(/^no-id:.*/, 'no-id'), r.data])).toEqual([
      ['ticket_events', '"12"', bad[1]],
      ['ticket_events', '0', bad[0]],
      ['ticket_events', '1.5', bad[3]],
      ['ticket_events', '77', setAside[0].row],
      ['ticket_events', String(2 ** 63), bad[2]],
      ['ticket_events', 'no-id', bad[4]],
    ]);
    expect(rejected.find((r) => r.row_id === '77')?.error).toBe('a timestamp in milliseconds');

    // The same page again (at-least-once delivery): still one entry per rejected row.
    expect(await persist('ticket_events', rows, T + 1, { setAside })).toMatchObject({ written: 2, rejected: 6 });
    expect(await sink.countStreamTable(account, 'rejected_rows')).toBe(6);
    expect(await persist('users', [{ id: -1 }, { id: 3, updated_at: null }], 1)).toEqual({
      written: 1,
      ...nothingElse,
      rejected: 1,
    });
    expect((await table('rejected_rows')).filter((r) => r.stream === 'users').map((r) => r.row_id)).toEqual(['-1']);
  });

  test('one page is one transaction: a failure stores no row, no set-aside row and no checkpoint', async () => {
    await persist('ticket_events', [ticketEvent(1, T, [commentChild(500, 'kept')])], T);
    const failing = sink.persistStreamPage({
      account,
      stream: 'ticket_events',
      rows: [
        ticketEvent(2, T + 60, [commentChild(500, 'rolled back'), { id: 9, event_type: 'Change', status: 'x' }]),
        { id: 0 },
      ],
      checkpoint: { cursor: null as unknown as number, afterCursor: null },
    });
    await expect(failing).rejects.toBeDefined();
    expect((await table('ticket_events')).map((e) => e.id)).toEqual([1]);
    expect((await table('ticket_comments')).map((c) => c.body)).toEqual(['kept']);
    expect(await sink.countStreamTable(account, 'ticket_field_changes')).toBe(0);
    expect(await sink.countStreamTable(account, 'rejected_rows')).toBe(0);
    expect(await sink.readStreamCheckpoint(account, 'ticket_events')).toEqual({ cursor: T, afterCursor: null });
  });

  test('a checkpoint per account and stream, apart from the tickets checkpoint', async () => {
    const other = `${account}-other`;
    expect(await sink.readStreamCheckpoint(account, 'users')).toBeUndefined();
    await persist('users', [], 5, { checkpoint: { cursor: 5, afterCursor: 'cursor-abc' } });
    await persist('ticket_events', [], 7);
    await sink.persistStreamPage({
      account: other,
      stream: 'users',
      rows: [],
      checkpoint: { cursor: 9, afterCursor: null },
    });
    await sink.persistPage({ account, rows: [], fieldHeaders: {}, cursor: 11, api: 'cursor', afterCursor: 'tickets' });
    await persist('users', [], 6, { checkpoint: { cursor: 6, afterCursor: 'cursor-def' } });
    // A checkpoint without an after_cursor (a time-based stream's, from a caller that leaves it out) reads as null.
    await persist('organizations', [], 3, { checkpoint: { cursor: 3 } as PersistStreamPageInput['checkpoint'] });

    expect(await sink.readStreamCheckpoint(account, 'users')).toEqual({ cursor: 6, afterCursor: 'cursor-def' });
    expect(await sink.readStreamCheckpoint(account, 'ticket_events')).toEqual({ cursor: 7, afterCursor: null });
    expect(await sink.readStreamCheckpoint(account, 'organizations')).toEqual({ cursor: 3, afterCursor: null });
    expect(await sink.readStreamCheckpoint(account, 'ticket_metric_events')).toBeUndefined();
    expect(await sink.readStreamCheckpoint(other, 'users')).toEqual({ cursor: 9, afterCursor: null });
    expect(await sink.readFullCheckpoint(account)).toEqual({ cursor: 11, api: 'cursor', afterCursor: 'tickets' });
    expect(await sink.readFullCheckpoint(other)).toBeUndefined();
    expect((await table('stream_checkpoints')).map((c) => [c.stream, c.cursor, c.after_cursor])).toEqual([
      ['organizations', 3, null],
      ['ticket_events', 7, null],
      ['users', 6, 'cursor-def'],
    ]);
  });

  test('only the stream tables can be read', async () => {
    for (const name of ['tickets', 'export_checkpoints', 'other_sideloads', 'users; DROP TABLE users']) {
      await expect(sink.readStreamTable(account, name)).rejects.toThrow(/not a table of the streams/);
      await expect(sink.countStreamTable(account, name)).rejects.toThrow(/not a table of the streams/);
    }
    expect(await sink.readStreamTable(account, 'ticket_events')).toEqual([]);
  });
}
