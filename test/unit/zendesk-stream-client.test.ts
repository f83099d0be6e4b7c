import { ZendeskClient, type StreamOutcome, type StreamPageOutcome } from '../../src/zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../../src/zendesk/errors';
import type { StreamRequest } from '../../src/zendesk/stream-requests';
import { leaksOf } from '../helpers/secret-forms';
import { startZendeskStub, type StubAnswer, type ZendeskStub } from '../helpers/zendesk-stub';

// The streams around the ticket against local servers that answer like Zendesk: no emulator, no Temporal.

const API_TOKEN = 'zd-stream-token-5c1d9e';
const EMAIL = 'admin@acme.test';
const BASIC = Buffer.from(`${EMAIL}/token:${API_TOKEN}`).toString('base64');
const NOW = () => Math.floor(Date.now() / 1000);

let zendesk: ZendeskStub;
let elsewhere: ZendeskStub;

beforeAll(async () => {
  zendesk = await startZendeskStub();
  elsewhere = await startZendeskStub();
});
afterAll(async () => {
  await zendesk?.close();
  await elsewhere?.close();
});

function client(): ZendeskClient {
  return new ZendeskClient({
    baseUrl: zendesk.url,
    auth: { mode: 'api_token', email: EMAIL, apiToken: API_TOKEN },
    timeoutMs: 5_000,
  });
}

async function fetch(request: StreamRequest, ...answers: StubAnswer[]): Promise<StreamOutcome> {
  zendesk.answer(...answers);
  return client().fetchStreamPage(request);
}

async function page(request: StreamRequest, ...answers: StubAnswer[]): Promise<StreamPageOutcome> {
  const outcome = await fetch(request, ...answers);
  if (outcome.kind !== 'page') throw new Error(`expected a page, got ${JSON.stringify(outcome)}`);
  return outcome;
}

async function failure(call: Promise<unknown>): Promise<Error> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: Error) => err,
  );
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** A ticket event as Zendesk sends it with include=comment_events. */
function ticketEvent(id: number, timestamp: number, overrides: Record<string, unknown> = {}) {
  return {
    id,
    ticket_id: 100 + id,
    timestamp,
    created_at: iso(timestamp),
    updater_id: 7,
    via: 'Web form',
    system: { client: 'Mozilla/5.0', location: 'Berlin', latitude: 52.5, longitude: 13.4 },
    metadata: {},
    event_type: 'Audit',
    child_events: [
      { id: id * 10 + 1, event_type: 'Change', via: null, status: 'open', previous_value: 'new' },
      { id: id * 10 + 2, event_type: 'Create', via: 'Web form', tags: ['vip', 'urgent'] },
      {
        id: id * 10 + 3,
        event_type: 'Comment',
        via: { channel: 'web', source: { from: {}, to: {}, rel: null } },
        via_reference_id: null,
        type: 'Comment',
        author_id: 7,
        body: 'Printer on fire',
        html_body: '<p>Printer on fire</p>',
        plain_body: 'Printer on fire',
        public: true,
        attachments: [{ id: 5, file_name: 'fire.png', content_url: `${elsewhere.url}/attachments/fire.png` }],
        audit_id: id,
        created_at: iso(timestamp),
      },
      { id: id * 10 + 4, event_type: 'SlaTargetChange', via: { channel: 'rule' }, sla: { policy: { id: 3 } } },
      { id: id * 10 + 5, event_type: 'Notification', recipients: [7], subject: 'x', body: 'y' },
    ],
    ...overrides,
  };
}

function ticketEventsPage(events: unknown[], extra: Record<string, unknown> = {}) {
  return { ticket_events: events, count: events.length, end_time: NOW() - 120, next_page: null, ...extra };
}

describe('request URLs', () => {
  const empty = { body: ticketEventsPage([], { end_of_stream: true }) };

  test('ticket_events: start_time, include=comment_events, per_page, support_type_scope; credentials to Zendesk', async () => {
    await fetch({ stream: 'ticket_events', startTime: 1_700_000_000, perPage: 500, supportTypeScope: 'all' }, empty);
    expect(zendesk.requests).toEqual([
      {
        path: '/api/v2/incremental/ticket_events.json',
        params: [
          ['start_time', '1700000000'],
          ['include', 'comment_events'],
          ['per_page', '500'],
          ['support_type_scope', 'all'],
        ],
        authorization: `Basic ${BASIC}`,
      },
    ]);
    await fetch({ stream: 'ticket_events', startTime: 5, perPage: 5000 }, empty);
    expect(zendesk.requests[0].params).toEqual([
      ['start_time', '5'],
      ['include', 'comment_events'],
      ['per_page', '1000'],
    ]);
  });

  test('the incremental ticket endpoints send support_type_scope when asked', async () => {
    zendesk.answer({ body: { tickets: [], count: 0, end_time: 5, next_page: null, end_of_stream: true } });
    await client().fetchTimeBasedPage({ startTime: 5, perPage: 10, supportTypeScope: 'all' });
    expect(zendesk.requests.map((r) => [r.path, r.params])).toEqual([
      [
        '/api/v2/incremental/tickets.json',
        [
          ['start_time', '5'],
          ['per_page', '10'],
          ['support_type_scope', 'all'],
        ],
      ],
    ]);
    zendesk.answer({ body: { tickets: [], after_cursor: null, after_url: null, end_of_stream: true } });
    await client().fetchCursorPage({ startTime: 5, supportTypeScope: 'ai_agent' });
    expect(zendesk.requests.map((r) => [r.path, r.params])).toEqual([
      [
        '/api/v2/incremental/tickets/cursor.json',
        [
          ['start_time', '5'],
          ['support_type_scope', 'ai_agent'],
        ],
      ],
    ]);
  });

  test('users: the cursor export, start_time first, then cursor; per_page at most 1000', async () => {
    const usersPage = { body: { users: [], after_cursor: 'c2', end_of_stream: true } };
    await fetch({ stream: 'users', startTime: 1_600_000_000, perPage: 2000 }, usersPage);
    expect(zendesk.requests.map((r) => [r.path, r.params])).toEqual([
      [
        '/api/v2/incremental/users/cursor.json',
        [
          ['start_time', '1600000000'],
          ['per_page', '1000'],
        ],
      ],
    ]);
    await fetch(
      { stream: 'users', startTime: 1_600_000_000, afterCursor: 'MTYwMDAwMDAwMC4x', perPage: 100 },
      usersPage,
    );
    expect(zendesk.requests[0].params).toEqual([
      ['cursor', 'MTYwMDAwMDAwMC4x'],
      ['per_page', '100'],
    ]);
  });

  test('organizations: time-based', async () => {
    await fetch(
      { stream: 'organizations', startTime: 42, perPage: 1000 },
      { body: { organizations: [], end_time: 42 } },
    );
    expect(zendesk.requests.map((r) => [r.path, r.params])).toEqual([
      [
        '/api/v2/incremental/organizations.json',
        [
          ['start_time', '42'],
          ['per_page', '1000'],
        ],
      ],
    ]);
  });

  test('ticket_metric_events: start_time and page[size] (at most 100), then page[after]', async () => {
    const metricPage = { body: { ticket_metric_events: [], meta: { has_more: false, after_cursor: null } } };
    await fetch({ stream: 'ticket_metric_events', startTime: 7, perPage: 1000 }, metricPage);
    expect(zendesk.requests.map((r) => [r.path, r.params])).toEqual([
      [
        '/api/v2/incremental/ticket_metric_events.json',
        [
          ['start_time', '7'],
          ['page[size]', '100'],
        ],
      ],
    ]);
    await fetch({ stream: 'ticket_metric_events', startTime: 7, perPage: 50, afterCursor: 'eyJvIjoiMSJ9' }, metricPage);
    expect(zendesk.requests[0].params).toEqual([
      ['start_time', '7'],
      ['page[size]', '50'],
      ['page[after]', 'eyJvIjoiMSJ9'],
    ]);
  });
});

describe('wire formats', () => {
  test('ticket_events: events with their children as received, odd via shapes and unknown child types kept', async () => {
    const start = NOW() - 3600;
    const events = [
      ticketEvent(1, start),
      ticketEvent(2, start + 10, { via: { channel: 'api' } }),
      ticketEvent(3, start + 20, { via: null }),
    ];
    const body = ticketEventsPage(events, { end_time: start + 20, end_of_stream: false });
    const outcome = await page({ stream: 'ticket_events', startTime: start, perPage: 1000 }, { body });
    expect(outcome).toMatchObject({ endTime: start + 20, endOfStream: false, afterCursor: null, setAside: [] });
    expect(outcome.rows).toEqual(events);
    expect(outcome.rowTimes).toEqual([start, start + 10, start + 20]);
    expect(outcome.rowTexts.map((text) => JSON.parse(text) as unknown)).toEqual(events);
    expect(outcome.vouchedUntil).toBeGreaterThanOrEqual(NOW() - 5);
    expect(outcome.foreignNextPage).toBeUndefined();
    // An attachment's content_url is data: nothing fetched it.
    expect(elsewhere.requests).toEqual([]);
  });

  test('a time-based page says end_of_stream, or is the last when short of per_page; an oversize page is taken', async () => {
    const start = NOW() - 3600;
    const three = [1, 2, 3].map((id) => ticketEvent(id, start));
    const request = { stream: 'ticket_events', startTime: start, perPage: 2 } as const;
    const noFlag = (events: unknown[]) => ({ body: { ticket_events: events, end_time: start } });
    await expect(page(request, noFlag(three.slice(0, 1)))).resolves.toMatchObject({ endOfStream: true });
    // Same-second events may outnumber per_page: all are kept.
    const oversize = await page(request, noFlag(three));
    expect(oversize).toMatchObject({ endOfStream: false, endTime: start });
    expect(oversize.rows).toHaveLength(3);
  });

  test('users: after_cursor and end_of_stream of the cursor export', async () => {
    const users = [
      { id: 11, name: 'Ann', active: true, updated_at: '2023-11-14T22:13:20Z' },
      { id: 12, name: 'Bob', active: false, updated_at: '2023-11-14T22:13:25.500+02:00' },
    ];
    const body = {
      users,
      after_cursor: 'MTcwMC4x',
      before_cursor: null,
      after_url: `${zendesk.url}/next`,
      end_of_stream: false,
    };
    const outcome = await page({ stream: 'users', startTime: 0, perPage: 1000 }, { body });
    expect(outcome).toMatchObject({ rows: users, afterCursor: 'MTcwMC4x', endOfStream: false, endTime: null });
    expect(outcome.rowTimes).toEqual([1_700_000_000, 1_699_992_805]);
    expect(outcome.foreignNextPage).toBeUndefined();
  });

  test('organizations: end_time and end_of_stream; a deleted one is a row like another', async () => {
    const organizations = [
      { id: 21, name: 'Acme', updated_at: '2023-11-14T22:13:20Z', deleted_at: null },
      { id: 22, name: 'Gone', updated_at: '2023-11-14T22:14:00Z', deleted_at: '2023-11-14T22:14:00Z' },
    ];
    const body = { organizations, count: 2, end_time: 1_700_000_040, next_page: null, end_of_stream: true };
    const outcome = await page({ stream: 'organizations', startTime: 0, perPage: 1000 }, { body });
    expect(outcome).toMatchObject({ rows: organizations, endTime: 1_700_000_040, endOfStream: true });
    expect(outcome.rowTimes).toEqual([1_700_000_000, 1_700_000_040]);
  });

  test('ticket_metric_events: meta.has_more and meta.after_cursor page the cursor; has_more false ends the stream', async () => {
    const row = (id: number, time: string, extra: Record<string, unknown> = {}) => ({
      id,
      ticket_id: 9,
      metric: 'reply_time',
      instance_id: 1,
      type: 'activate',
      time,
      ...extra,
    });
    const first = [
      row(31, '2023-11-14T22:13:20Z'),
      row(32, '2023-11-14T22:13:21Z', { type: 'apply_sla', sla: { target: 60 } }),
    ];
    const second = [
      row(33, '2023-11-14T22:13:22Z', { type: 'update_status', status: { calendar: 5 }, deleted: false }),
    ];
    const request = { stream: 'ticket_metric_events', startTime: 1_700_000_000, perPage: 100 } as const;
    zendesk.answer(
      {
        body: {
          ticket_metric_events: first,
          meta: { has_more: true, after_cursor: 'eyJhIjoxfQ', before_cursor: null },
          links: {
            next: `${zendesk.url}/api/v2/incremental/ticket_metric_events.json?page[after]=eyJhIjoxfQ`,
            prev: null,
          },
        },
      },
      {
        body: {
          ticket_metric_events: second,
          meta: { has_more: false, after_cursor: 'eyJhIjoyfQ' },
          links: { next: null },
        },
      },
    );
    const one = await client().fetchStreamPage(request);
    expect(one).toMatchObject({
      kind: 'page',
      rows: first,
      afterCursor: 'eyJhIjoxfQ',
      endOfStream: false,
      endTime: null,
    });
    const two = await client().fetchStreamPage({ ...request, afterCursor: 'eyJhIjoxfQ' });
    expect(two).toMatchObject({ kind: 'page', rows: second, afterCursor: 'eyJhIjoyfQ', endOfStream: true });
    expect(zendesk.requests.map((r) => r.params)).toEqual([
      [
        ['start_time', '1700000000'],
        ['page[size]', '100'],
      ],
      [
        ['start_time', '1700000000'],
        ['page[size]', '100'],
        ['page[after]', 'eyJhIjoxfQ'],
      ],
    ]);
  });

  test('a page whose array holds something else than objects, or a cursor value of the wrong type, is a bad answer', async () => {
    const err = await failure(
      page({ stream: 'ticket_events', startTime: 0, perPage: 10 }, { body: { ticket_events: [ticketEvent(1, 5), 3] } }),
    );
    expect(err).toBeInstanceOf(ZendeskTransientError);
    expect(err.message).toMatch(/does not match the export format: ticket_events\[1\]: Expected an object/);
    const noFlag = await failure(page({ stream: 'users', startTime: 0, perPage: 10 }, { body: { users: [] } }));
    expect(noFlag.message).toMatch(/end_of_stream: Required/);
    const badMeta = await failure(
      page(
        { stream: 'ticket_metric_events', startTime: 0, perPage: 10 },
        { body: { ticket_metric_events: [], meta: { has_more: 'yes' } } },
      ),
    );
    expect(badMeta.message).toMatch(/meta\.has_more: Expected boolean/);
  });

  test('an implausible end_time or after_cursor makes the answer a bad one', async () => {
    const far = await failure(
      page(
        { stream: 'organizations', startTime: 0, perPage: 10 },
        { body: { organizations: [], end_time: NOW() + 10 * 86_400 } },
      ),
    );
    expect(far).toBeInstanceOf(ZendeskTransientError);
    expect(far.message).toMatch(/implausible value: end_time: .* ahead of Zendesk's clock/);
    const spaced = await failure(
      page(
        { stream: 'users', startTime: 0, perPage: 10 },
        { body: { users: [], after_cursor: 'a b', end_of_stream: true } },
      ),
    );
    expect(spaced.message).toMatch(/implausible value: after_cursor: "a b" is not a cursor/);
  });
});

describe('rows that cannot be true are set aside, the rest of the page stays', () => {
  test('ticket_events: bad ids, times and shapes, each with its reason', async () => {
    const now = NOW();
    const good = [ticketEvent(1, now - 600), ticketEvent(2, now - 500)];
    const bad = [
      ticketEvent(-3, now - 500),
      ticketEvent(4, now - 500, { id: '4' }),
      ticketEvent(5, now - 500, { timestamp: undefined }),
      ticketEvent(6, (now - 500) * 1000),
      ticketEvent(7, now + 3600),
      ticketEvent(8, now - 500, { timestamp: '2023-11-14' }),
      ticketEvent(9, now - 500, { via: 42 }),
      ticketEvent(10, now - 500, { child_events: [{ id: 1, event_type: 'Change', via: 7 }] }),
    ];
    const outcome = await page(
      { stream: 'ticket_events', startTime: now - 600, perPage: 1000 },
      { body: ticketEventsPage([good[0], ...bad, good[1]]) },
    );
    expect(outcome.rows.map((row) => row.id)).toEqual([1, 2]);
    expect(outcome.rowTimes).toEqual([now - 600, now - 500]);
    expect(outcome.setAside.map(({ reason }) => reason)).toEqual([
      'id: -3 is not a positive id',
      'id: "4" is not a whole number',
      'timestamp: missing',
      expect.stringMatching(/^timestamp: \d+ is in milliseconds/),
      expect.stringMatching(/^timestamp: .* is more than 2 min ahead of Zendesk's clock/),
      'timestamp: "2023-11-14" is not a time in epoch seconds',
      'via: Expected a string, an object or null',
      'child_events[0].via: Expected a string, an object or null',
    ]);
    // Set aside as received, for rejected_rows.
    expect(outcome.setAside[0].row).toEqual(JSON.parse(JSON.stringify(bad[0])));
  });

  test('an id beyond the safe integers is set aside, not rounded', async () => {
    const now = NOW();
    const body = `{"users":[{"id":9007199254740993,"updated_at":"${iso(now - 60)}"},{"id":1,"updated_at":"${iso(now - 60)}"}],"end_of_stream":true}`;
    const outcome = await page(
      { stream: 'users', startTime: 0, perPage: 10 },
      { body, headers: { 'Content-Type': 'application/json' } },
    );
    expect(outcome.rows.map((row) => row.id)).toEqual([1]);
    expect(outcome.setAside.map(({ reason }) => reason)).toEqual([
      expect.stringMatching(/^id: .* beyond Number\.MAX_SAFE_INTEGER/),
    ]);
  });

  test('users, organizations, metric events: a missing, unparseable or future time', async () => {
    const now = NOW();
    const users = [
      { id: 1, updated_at: iso(now - 60) },
      { id: 2 },
      { id: 3, updated_at: 'yesterday' },
      { id: 4, updated_at: iso(now + 3600) },
      { id: 5, updated_at: iso(now + 60) },
    ];
    const outcome = await page(
      { stream: 'users', startTime: 0, perPage: 10 },
      { body: { users, end_of_stream: true } },
    );
    // Within the clock tolerance (120 s) of the answer's Date: kept.
    expect(outcome.rows.map((row) => row.id)).toEqual([1, 5]);
    expect(outcome.setAside.map(({ reason }) => reason)).toEqual([
      'updated_at: missing',
      'updated_at: "yesterday" is not an ISO 8601 date and time',
      expect.stringMatching(/^updated_at: .* is more than 2 min ahead of Zendesk's clock/),
    ]);

    const organizations = [
      { id: 0, updated_at: iso(now) },
      { id: 1, updated_at: 1_700_000_000 },
      { id: 2, updated_at: iso(now) },
    ];
    const orgs = await page(
      { stream: 'organizations', startTime: 0, perPage: 10 },
      { body: { organizations, end_time: now - 120 } },
    );
    expect(orgs.rows.map((row) => row.id)).toEqual([2]);
    expect(orgs.setAside.map(({ reason }) => reason)).toEqual([
      'id: 0 is not a positive id',
      'updated_at: 1700000000 is not an ISO 8601 date and time',
    ]);

    const metricEvents = [
      { id: 1, time: iso(now) },
      { id: 2, type: 'fulfill' },
      { id: 3, time: '2023-02-30T99:00:00Z' },
    ];
    const metrics = await page(
      { stream: 'ticket_metric_events', startTime: 0, perPage: 10 },
      { body: { ticket_metric_events: metricEvents, meta: { has_more: false } } },
    );
    expect(metrics.rows.map((row) => row.id)).toEqual([1]);
    expect(metrics.setAside.map(({ reason }) => reason)).toEqual([
      'time: missing',
      'time: "2023-02-30T99:00:00Z" is not an ISO 8601 date and time',
    ]);
  });
});

describe('next pages and attachments on another origin', () => {
  test('a foreign next_page, after_url or links.next is reported, never followed', async () => {
    const foreign = `${elsewhere.url}/api/v2/incremental/next?token=stolen`;
    const answers: [StreamRequest, unknown][] = [
      [
        { stream: 'ticket_events', startTime: 0, perPage: 10 },
        { ticket_events: [], next_page: foreign, end_of_stream: false },
      ],
      [
        { stream: 'organizations', startTime: 0, perPage: 10 },
        { organizations: [], next_page: foreign },
      ],
      [
        { stream: 'users', startTime: 0, perPage: 10 },
        { users: [], after_url: foreign, after_cursor: 'c', end_of_stream: false },
      ],
      [
        { stream: 'ticket_metric_events', startTime: 0, perPage: 10 },
        { ticket_metric_events: [], meta: { has_more: true, after_cursor: 'c' }, links: { next: foreign } },
      ],
    ];
    for (const [request, body] of answers) {
      const outcome = await page(request, { body });
      expect(outcome.foreignNextPage).toBe(foreign);
      expect(zendesk.requests).toHaveLength(1);
    }
    expect(elsewhere.requests).toEqual([]);
  });
});

describe('answers every endpoint shares', () => {
  const request: StreamRequest = { stream: 'ticket_events', startTime: 0, perPage: 1000 };

  test('429 with Retry-After: rate_limited for that long', async () => {
    await expect(
      fetch(request, { status: 429, headers: { 'Retry-After': '37' }, body: 'slow down' }),
    ).resolves.toMatchObject({
      kind: 'rate_limited',
      retryAfterSeconds: 37,
    });
    await expect(
      fetch({ stream: 'users', startTime: 0, perPage: 10 }, { status: 429, body: '' }),
    ).resolves.toMatchObject({
      kind: 'rate_limited',
      retryAfterSeconds: 60,
    });
  });

  test('a start_time too recent: too_recent', async () => {
    const body = {
      error: 'StartTimeTooRecent',
      description: 'Too recent start_time. Use a start_time older than 1 minute',
    };
    await expect(fetch(request, { status: 400, body })).resolves.toMatchObject({
      kind: 'too_recent',
      message: expect.stringMatching(/StartTimeTooRecent/),
    });
  });

  test('504 on a heavy page: gateway_timeout; an answer over the row cap: too_large', async () => {
    await expect(fetch(request, { status: 504, body: 'upstream timed out' })).resolves.toMatchObject({
      kind: 'gateway_timeout',
    });
    const many = Array.from({ length: 10_001 }, (_, i) => ({ id: i + 1, updated_at: '2023-11-14T22:13:20Z' }));
    await expect(
      fetch({ stream: 'organizations', startTime: 0, perPage: 1000 }, { body: { organizations: many } }),
    ).resolves.toMatchObject({
      kind: 'too_large',
      message: expect.stringMatching(/10001 rows in one answer/),
    });
  });

  test('an invalid cursor: cursor_rejected for users and metric events; the same 400 without a cursor blocks', async () => {
    const users = { stream: 'users', startTime: 0, perPage: 10 } as const;
    await expect(
      fetch(
        { ...users, afterCursor: 'stale' },
        { status: 400, body: { error: 'InvalidCursor', description: 'cursor is not valid' } },
      ),
    ).resolves.toMatchObject({ kind: 'cursor_rejected' });
    const metrics = { stream: 'ticket_metric_events', startTime: 0, perPage: 10 } as const;
    const pagination = { error: 'InvalidPaginationParameter', description: 'page[after] is not valid' };
    await expect(fetch({ ...metrics, afterCursor: 'stale' }, { status: 400, body: pagination })).resolves.toMatchObject(
      {
        kind: 'cursor_rejected',
      },
    );
    const err = await failure(fetch(metrics, { status: 400, body: pagination }));
    expect(err).toBeInstanceOf(ZendeskPermanentError);
  });

  test('401, 403, 404 are permanent; 5xx and unreadable bodies transient', async () => {
    for (const [status, kind] of [
      [401, ZendeskPermanentError],
      [403, ZendeskPermanentError],
      [404, ZendeskPermanentError],
      [500, ZendeskTransientError],
      [503, ZendeskTransientError],
    ] as const) {
      const err = await failure(fetch(request, { status, body: 'no' }));
      expect({ status, name: err.name }).toEqual({ status, name: kind.name });
    }
    const unreadable = await failure(
      fetch(request, { body: '{"ticket_events": [', headers: { 'Content-Type': 'application/json' } }),
    );
    expect(unreadable).toBeInstanceOf(ZendeskTransientError);
  });

  test('no credential in any error or outcome text, even when Zendesk quotes the request', async () => {
    const echo =
      (status: number, extra: Record<string, string> = {}) =>
      () => ({
        status,
        headers: extra,
        body: `${status} for ${BASIC} / ${EMAIL}/token:${API_TOKEN} (${encodeURIComponent(API_TOKEN)})`,
      });
    const texts: string[] = [];
    for (const status of [400, 401, 403, 404, 422, 500, 502, 504]) {
      zendesk.answer(echo(status));
      const outcome = await client()
        .fetchStreamPage({ stream: 'users', startTime: 0, perPage: 10, afterCursor: 'c' })
        .then(
          (result) => JSON.stringify(result),
          (err: Error) => err.message,
        );
      texts.push(outcome);
    }
    zendesk.answer(() => ({ status: 400, body: `Too recent start_time; you sent ${API_TOKEN}` }));
    texts.push(JSON.stringify(await client().fetchStreamPage(request)));
    expect(texts.join('\n')).toMatch(/504/);
    expect(leaksOf(API_TOKEN, texts.join('\n'))).toEqual([]);
  });
});

describe('the ticket endpoints share the path and judge as before', () => {
  test('cursor_rejected only for a cursor sent as cursor=, and by its own error code; 504 on the incremental ones', async () => {
    zendesk.answer({ status: 400, body: { error: 'InvalidCursor', description: 'cursor is not valid' } });
    await expect(client().fetchCursorPage({ afterCursor: 'stale' })).resolves.toMatchObject({
      kind: 'cursor_rejected',
    });
    expect(await failure(client().fetchCursorPage({ startTime: 0 }))).toBeInstanceOf(ZendeskPermanentError);
    zendesk.answer({ status: 400, body: { error: 'InvalidPaginationParameter', description: 'bad' } });
    expect(await failure(client().fetchCursorPage({ afterCursor: 'stale' }))).toBeInstanceOf(ZendeskPermanentError);
    zendesk.answer({ status: 504, body: 'timeout' });
    await expect(client().fetchTimeBasedPage({ startTime: 0 })).resolves.toMatchObject({ kind: 'gateway_timeout' });
    expect(await failure(client().fetchExportPage(0))).toBeInstanceOf(ZendeskTransientError);
  });
});
