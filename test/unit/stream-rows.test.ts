import {
  accountRecordEntry,
  CHILD_OWN_KEYS,
  lastPerKey,
  metricEventRecord,
  newestPerKey,
  NO_USABLE_ID,
  rejectedRow,
  sortStreamPage,
  ticketEventRows,
  usableId,
} from '../../src/storage/stream-rows';
import { streamTableRow, streamTableShape } from '../../src/storage/stream-tables';

const event = (extra: Record<string, unknown> = {}) => ({
  id: 100,
  ticket_id: 7,
  timestamp: 1_700_000_000,
  created_at: '2023-11-14T22:13:20Z',
  updater_id: 42,
  via: 'Web form',
  system: { client: 'Mozilla', location: 'Paris' },
  event_type: 'Audit',
  ...extra,
});

describe('usableId', () => {
  test('a positive safe integer, nothing else', () => {
    expect([1, 2 ** 53 - 1].map(usableId)).toEqual([1, 2 ** 53 - 1]);
    for (const bad of [0, -1, 1.5, 2 ** 53, '12', null, undefined, NaN, Infinity, {}, [1], true]) {
      expect(usableId(bad)).toBeUndefined();
    }
  });
});

describe('sortStreamPage', () => {
  test('rows without a usable id and the input set-aside rows go to rejected_rows; the rest keep page order', () => {
    const rows = [{ id: 3 }, { id: 0 }, { name: 'no id' }, { id: 1 }, 'text' as never, { id: '5' }];
    const { kept, rejected } = sortStreamPage({ rows, setAside: [{ row: { id: 9, time: 'never' }, reason: 'odd' }] });
    expect(kept).toEqual([
      { id: 3, row: { id: 3 } },
      { id: 1, row: { id: 1 } },
    ]);
    expect(rejected.map((r) => [r.rowId.replace(/[0-9a-f]{16}$/, 'HASH'), r.data, r.error])).toEqual([
      ['9', '{"id":9,"time":"never"}', 'odd'],
      ['0', '{"id":0}', NO_USABLE_ID],
      ['no-id:HASH', '{"name":"no id"}', NO_USABLE_ID],
      ['no-id:HASH', '"text"', NO_USABLE_ID],
      ['"5"', '{"id":"5"}', NO_USABLE_ID],
    ]);
  });

  test('a row without an id keeps one entry per content: the same row again is the same entry', () => {
    const a = rejectedRow({ name: 'a' }, 'x').rowId;
    expect(rejectedRow({ name: 'a' }, 'y').rowId).toBe(a);
    expect(rejectedRow({ name: 'b' }, 'x').rowId).not.toBe(a);
    expect(rejectedRow({ id: null, name: 'a' }, 'x').rowId).toMatch(/^no-id:[0-9a-f]{16}$/);
  });
});

describe('ticketEventRows', () => {
  test('the event row: ids, times and JSON as received; odd values are null, not a refusal', () => {
    const row = event({ via: { channel: 'web', source: { rel: null } }, child_events: [] });
    expect(ticketEventRows(row, 100).event).toEqual({
      id: 100,
      ticketId: 7,
      timestamp: 1_700_000_000,
      createdAt: '2023-11-14T22:13:20.000Z',
      updaterId: 42,
      via: '{"channel":"web","source":{"rel":null}}',
      eventType: 'Audit',
      childEvents: '[]',
      data: JSON.stringify(row),
    });
    const odd = { id: 101, ticket_id: '7', timestamp: 1.5, created_at: 'yesterday', via: null, child_events: 'none' };
    expect(ticketEventRows(odd, 101)).toEqual({
      event: {
        id: 101,
        ticketId: null,
        timestamp: null,
        createdAt: null,
        updaterId: null,
        via: 'null',
        eventType: null,
        childEvents: '"none"',
        data: JSON.stringify(odd),
      },
      comments: [],
      fieldChanges: [],
    });
    expect(ticketEventRows({ id: 102 }, 102).event).toMatchObject({ via: null, childEvents: null });
  });

  test('a Comment child is a comment of the event', () => {
    const comment = {
      id: 500,
      event_type: 'Comment',
      type: 'Comment',
      author_id: 42,
      body: 'Thanks!',
      html_body: '<p>Thanks!</p>',
      plain_body: 'Thanks!',
      public: false,
      attachments: [{ id: 1, content_url: 'https://cdn.example/x.png' }],
      audit_id: 100,
      created_at: '2023-11-14T22:13:20Z',
      via: { channel: 'email', source: { from: { address: 'a@example.com' } } },
    };
    expect(ticketEventRows(event({ child_events: [comment] }), 100).comments).toEqual([
      {
        id: 500,
        ticketId: 7,
        eventId: 100,
        eventTimestamp: 1_700_000_000,
        authorId: 42,
        public: false,
        createdAt: '2023-11-14T22:13:20.000Z',
        body: 'Thanks!',
        htmlBody: '<p>Thanks!</p>',
        plainBody: 'Thanks!',
        attachments: JSON.stringify(comment.attachments),
        via: JSON.stringify(comment.via),
        data: JSON.stringify(comment),
      },
    ]);
    const bare = { id: 501, event_type: 'Comment', body: 7, public: 'yes' };
    expect(ticketEventRows(event({ child_events: [bare] }), 100).comments[0]).toMatchObject({
      body: null,
      public: null,
      attachments: null,
      via: null,
      createdAt: null,
      data: JSON.stringify(bare),
    });
  });

  test('Create and Change children: one field-history row per field key, as received', () => {
    const children = [
      { id: 1, event_type: 'Create', via: 'Web form', via_reference_id: null, subject: 'Help', tags: ['a', 'b'] },
      { id: 2, event_type: 'Change', status: 'open', previous_value: 'new' },
      { id: 3, event_type: 'Change', custom_field_9: null, previous_value: null },
      { id: 4, event_type: 'Change', sla: { policy: { id: 1 } }, count: 3 },
      { id: 5, event_type: 'Notification', subject: 'not a field', recipients: [1] },
      { id: 6, event_type: 'SomethingNew', status: 'not a field either' },
      { id: 7, type: 'Change', field_name: 'priority', value: 'high', previous_value: 'low' },
      { id: 8, event_type: 'Create' },
    ];
    const changes = ticketEventRows(event({ child_events: children }), 100).fieldChanges;
    const common = { ticketId: 7, eventId: 100, updatedAt: '2023-11-14T22:13:20.000Z', updaterId: 42 };
    expect(changes).toEqual([
      { childId: 1, fieldName: 'subject', value: '"Help"', previousValue: null, eventType: 'Create', ...common },
      { childId: 1, fieldName: 'tags', value: '["a","b"]', previousValue: null, eventType: 'Create', ...common },
      { childId: 2, fieldName: 'status', value: '"open"', previousValue: '"new"', eventType: 'Change', ...common },
      { childId: 3, fieldName: 'custom_field_9', value: 'null', previousValue: 'null', eventType: 'Change', ...common },
      {
        childId: 4,
        fieldName: 'sla',
        value: '{"policy":{"id":1}}',
        previousValue: null,
        eventType: 'Change',
        ...common,
      },
      { childId: 4, fieldName: 'count', value: '3', previousValue: null, eventType: 'Change', ...common },
      { childId: 7, fieldName: 'priority', value: '"high"', previousValue: '"low"', eventType: 'Change', ...common },
    ]);
    for (const key of ['id', 'event_type', 'via', 'via_reference_id', 'previous_value']) {
      expect(CHILD_OWN_KEYS.has(key)).toBe(true);
    }
  });

  test("`type` is the ticket's type field; added_tags and removed_tags detail the change of tags", () => {
    const children = [
      { id: 1, event_type: 'Create', type: 'question' },
      { id: 2, event_type: 'Change', tags: ['a', 'b'], added_tags: ['b'], removed_tags: [], previous_value: ['a'] },
    ];
    const changes = ticketEventRows(event({ child_events: children }), 100).fieldChanges;
    expect(changes.map((c) => [c.childId, c.fieldName, c.value])).toEqual([
      [1, 'type', '"question"'],
      [2, 'tags', '["a","b"]'],
    ]);
  });

  test('children without a usable id or not objects write no rows; the event keeps them in child_events', () => {
    const children = [null, 'x', [1], { event_type: 'Comment', body: 'no id' }, { id: -1, event_type: 'Change' }];
    const rows = ticketEventRows(event({ child_events: children }), 100);
    expect(rows.comments).toEqual([]);
    expect(rows.fieldChanges).toEqual([]);
    expect(JSON.parse(rows.event.childEvents!)).toEqual(children);
  });

  test("a field change's time is the event's timestamp, else its created_at", () => {
    const child = { id: 1, event_type: 'Change', status: 'open' };
    const at = (extra: Record<string, unknown>) =>
      ticketEventRows(event({ child_events: [child], ...extra }), 100).fieldChanges[0].updatedAt;
    expect(at({ timestamp: 0, created_at: '2024-01-01T00:00:00Z' })).toBe('1970-01-01T00:00:00.000Z');
    expect(at({ timestamp: undefined, created_at: '2024-01-01T00:00:00Z' })).toBe('2024-01-01T00:00:00.000Z');
    expect(at({ timestamp: 1e15, created_at: undefined })).toBeNull();
  });
});

describe('newestPerKey', () => {
  const c = (id: number, stamp: number | null, tag: string) => ({ id, stamp, tag });
  const newest = (items: ReturnType<typeof c>[]) =>
    newestPerKey(
      items,
      (i) => i.id,
      (i) => i.stamp,
    );

  test('the newest stamp wins; ties and a missing stamp over a missing one go to the later', () => {
    const result = newest([
      c(1, 5, 'old'),
      c(1, 9, 'new'),
      c(1, 7, 'between'),
      c(2, 5, 'first'),
      c(2, 5, 'tie'),
      c(3, null, 'none'),
      c(3, null, 'none again'),
      c(4, 5, 'dated'),
      c(4, null, 'undated'),
    ]);
    expect(result.kept.map((i) => i.tag)).toEqual(['new', 'tie', 'none again', 'dated']);
    expect(result).toMatchObject({ superseded: 3, older: 2 });
  });

  test('lastPerKey keeps the last of each key in first-seen order', () => {
    expect(lastPerKey([c(1, 1, 'a'), c(2, 1, 'b'), c(1, 1, 'c')], (i) => i.id).map((i) => i.tag)).toEqual(['c', 'b']);
  });
});

describe('metric events, users and organizations', () => {
  test('a metric event row', () => {
    const row = {
      id: 9,
      ticket_id: 7,
      metric: 'reply_time',
      instance_id: 1,
      type: 'breach',
      time: '2024-01-01T00:00:00Z',
    };
    expect(metricEventRecord({ ...row, deleted: true }, 9)).toEqual({
      id: 9,
      ticketId: 7,
      metric: 'reply_time',
      instanceId: 1,
      type: 'breach',
      time: '2024-01-01T00:00:00.000Z',
      deleted: true,
      data: JSON.stringify({ ...row, deleted: true }),
    });
    expect(metricEventRecord({ id: 9, time: 'soon', deleted: 'no', sla: { target: 60 } }, 9)).toMatchObject({
      ticketId: null,
      time: null,
      deleted: null,
    });
  });

  test('users and organizations become entries of their sideload tables', () => {
    const org = { id: 3, updated_at: '2024-01-01T00:00:00Z', deleted_at: '2024-01-02T00:00:00Z' };
    expect(accountRecordEntry('organizations', org, 3)).toEqual({
      kind: 'organizations',
      id: '3',
      updatedAt: '2024-01-01T00:00:00.000Z',
      deletedAt: '2024-01-02T00:00:00.000Z',
      data: JSON.stringify(org),
    });
    expect(accountRecordEntry('users', { id: 4, active: false }, 4)).toMatchObject({
      updatedAt: null,
      deletedAt: null,
    });
  });
});

describe('stream tables', () => {
  test('only the tables of the streams around the ticket can be read', () => {
    expect(streamTableShape('ticket_field_changes').key).toEqual(['child_id', 'field_name']);
    for (const name of ['tickets', 'export_checkpoints', 'field_headers', 'users; DROP TABLE users', 'toString', '']) {
      expect(() => streamTableShape(name)).toThrow(/not a table of the streams around the ticket/);
    }
  });

  test('a stored row reads the same from either driver', () => {
    const shape = streamTableShape('ticket_comments');
    const sqlite = { id: 5, event_timestamp: 10, public: 1, created_at: '2024-01-01T00:00:00.000Z', via: '"Web"' };
    const postgres = { id: '5', event_timestamp: '10', public: true, created_at: new Date('2024-01-01'), via: '"Web"' };
    const expected = { id: 5, event_timestamp: 10, public: true, created_at: '2024-01-01T00:00:00Z', via: 'Web' };
    expect(streamTableRow(shape, sqlite)).toMatchObject({ ...expected, body: null, data: null });
    expect(streamTableRow(shape, postgres)).toEqual(streamTableRow(shape, sqlite));
  });
});
