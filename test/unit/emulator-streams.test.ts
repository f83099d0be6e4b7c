import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator';

const AUTH = `Basic ${Buffer.from('admin@example.com/token:emulator-token').toString('base64')}`;
const BASE_CLOCK = Date.UTC(2024, 4, 1, 12, 0, 0);
const EVENTS = '/api/v2/incremental/ticket_events.json';
const ORGANIZATIONS = '/api/v2/incremental/organizations.json';
const USERS = '/api/v2/incremental/users.json';
const USERS_CURSOR = '/api/v2/incremental/users/cursor.json';
const METRICS = '/api/v2/incremental/ticket_metric_events.json';
const TICKETS = '/api/v2/incremental/tickets.json';
const TOO_RECENT = {
  error: 'StartTimeTooRecent',
  description: 'Too recent start_time. Use a start_time older than 1 minute',
};
const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

type Row = Record<string, unknown> & { id: number };
type Event = Row & { ticket_id: number; timestamp: number; child_events: Row[] };
type MetricEvent = Row & { ticket_id: number; time: string; metric: string; type: string };

interface TimePage<T> {
  count: number;
  end_time: number;
  next_page: string;
  end_of_stream: boolean;
  rows: T[];
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

const started: Emulator[] = [];

afterAll(async () => {
  await Promise.all(started.map((emu) => emu.close()));
});

/** An emulator on a clock the test moves; no limits unless asked. */
async function emulator(options: EmulatorOptions = {}) {
  const clock = { now: BASE_CLOCK };
  const emu = await startEmulator({
    port: 0,
    ticketCount: 200,
    incrementalRequestsPerMinute: 0,
    usersCursorRequestsPerMinute: 0,
    now: () => clock.now,
    ...options,
  });
  started.push(emu);
  return { emu, clock, nowSeconds: () => Math.floor(clock.now / 1000) };
}

async function get(emu: Emulator, pathOrUrl: string): Promise<Reply> {
  const absolute = /^https?:/.test(pathOrUrl);
  if (absolute) expect(pathOrUrl.startsWith(`${emu.url}/`)).toBe(true);
  const res = await fetch(absolute ? pathOrUrl : `${emu.url}${pathOrUrl}`, { headers: { authorization: AUTH } });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a plain-text or cut answer
  }
  return { status: res.status, headers: res.headers, text, body };
}

async function control(emu: Emulator, method: string, path: string, body?: unknown) {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function timePage<T>(emu: Emulator, pathOrUrl: string, key: string): Promise<TimePage<T>> {
  const reply = await get(emu, pathOrUrl);
  expect(reply.status).toBe(200);
  const { count, end_time, next_page, end_of_stream } = reply.body as unknown as TimePage<T>;
  return { count, end_time, next_page, end_of_stream, rows: reply.body[key] as T[] };
}

/** Follows next_page until end_of_stream; every row as served, and the pages. */
async function walkTime<T>(emu: Emulator, path: string, key: string, extra = '') {
  const rows: T[] = [];
  const pages: Array<TimePage<T>> = [];
  let url = `${path}?start_time=0${extra}`;
  for (let n = 0; n < 2000; n++) {
    const page = await timePage<T>(emu, url, key);
    rows.push(...page.rows);
    pages.push(page);
    if (page.end_of_stream) return { rows, pages };
    expect(page.end_time).toBeGreaterThan(Number(new URL(url, emu.url).searchParams.get('start_time')));
    url = page.next_page;
  }
  throw new Error(`${path}: the walk did not end`);
}

/** Follows after_url until end_of_stream. */
async function walkUsersCursor(emu: Emulator, first: string) {
  const rows: Row[] = [];
  let url = first;
  for (let n = 0; n < 2000; n++) {
    const reply = await get(emu, url);
    expect(reply.status).toBe(200);
    rows.push(...(reply.body.users as Row[]));
    if (reply.body.end_of_stream === true) return { rows, last: reply.body };
    url = reply.body.after_url as string;
  }
  throw new Error('users cursor walk did not end');
}

async function walkMetricCursor(emu: Emulator, first: string) {
  const rows: MetricEvent[] = [];
  let url = first;
  for (let n = 0; n < 5000; n++) {
    const reply = await get(emu, url);
    expect(reply.status).toBe(200);
    const page = reply.body as {
      ticket_metric_events: MetricEvent[];
      meta: { has_more: boolean };
      links: { next: string };
    };
    rows.push(...page.ticket_metric_events);
    if (!page.meta.has_more) return { rows, last: reply.body };
    url = page.links.next;
  }
  throw new Error('metric events walk did not end');
}

const newestById = <T extends Row>(rows: T[]) =>
  [...new Map(rows.map((row) => [row.id, row])).values()].sort((a, b) => a.id - b.id);
const byTimeThenId = (a: Event, b: Event) => a.timestamp - b.timestamp || a.id - b.id;

describe('ticket events', () => {
  test('pages of per_page events with count, end_time, next_page; the boundary second comes back', async () => {
    const { emu } = await emulator({ seed: 3 });
    const first = await timePage<Event>(emu, `${EVENTS}?start_time=0&per_page=50`, 'ticket_events');
    expect(first.count).toBe(first.rows.length);
    expect(first.rows.length).toBeGreaterThanOrEqual(50);
    const lastSecond = first.rows.filter((e) => e.timestamp === first.end_time);
    expect(first.rows.slice(0, 50).every((e) => e.timestamp <= first.end_time)).toBe(true);
    expect(first.end_time).toBe(first.rows[first.rows.length - 1].timestamp);
    expect(first.next_page).toBe(`${emu.url}${EVENTS}?start_time=${first.end_time}&per_page=50`);
    expect(first.end_of_stream).toBe(false);
    expect([...first.rows].sort(byTimeThenId)).toEqual(first.rows);
    const second = await timePage<Event>(emu, first.next_page, 'ticket_events');
    // start_time is inclusive: the boundary second's events are served again
    expect(second.rows.slice(0, lastSecond.length)).toEqual(lastSecond);

    for (const event of first.rows) {
      expect(Object.keys(event)).toEqual([
        'id', 'ticket_id', 'timestamp', 'created_at', 'updater_id', 'via', 'system', 'metadata', 'event_type',
        'child_events', 'comment_present', 'comment_public',
      ]); // prettier-ignore
      expect(event.event_type).toBe('Audit');
      expect(typeof event.via).toBe('string');
      expect(event.created_at).toBe(new Date(event.timestamp * 1000).toISOString().replace('.000', ''));
      expect(event.system).toEqual({
        client: expect.any(String),
        location: expect.any(String),
        latitude: expect.any(Number),
        longitude: expect.any(Number),
      });
      expect(event.child_events.some((c) => c.event_type === 'Comment')).toBe(false);
      for (const child of event.child_events) {
        expect(child.id).toBeGreaterThan(event.id);
        expect(child.id - event.id).toBeLessThan(32);
        expect(child.via === null || typeof child.via === 'string' || typeof child.via === 'object').toBe(true);
      }
    }
  });

  test('include=comment_events adds Comment children in place of the comment_present flags', async () => {
    const { emu } = await emulator({ seed: 4 });
    const plain = await timePage<Event>(emu, `${EVENTS}?start_time=0&per_page=200`, 'ticket_events');
    const full = await timePage<Event>(
      emu,
      `${EVENTS}?start_time=0&per_page=200&include=comment_events`,
      'ticket_events',
    );
    expect(full.next_page).toMatch(/&per_page=200&include=comment_events$/);
    expect(full.rows.map((e) => e.id)).toEqual(plain.rows.map((e) => e.id));
    full.rows.forEach((event, i) => {
      const comments = event.child_events.filter((c) => c.event_type === 'Comment');
      expect(comments.length).toBeLessThanOrEqual(1);
      expect(plain.rows[i].comment_present).toBe(comments.length === 1);
      expect(plain.rows[i].comment_public).toBe(comments.length === 1 && comments[0].public === true);
      expect(event).not.toHaveProperty('comment_present');
      for (const comment of comments) {
        expect(comment).toMatchObject({
          type: 'Comment',
          author_id: expect.any(Number),
          body: expect.any(String),
          plain_body: comment.body,
          html_body: expect.stringContaining('<p>'),
          public: expect.any(Boolean),
          attachments: [],
          audit_id: event.id,
          created_at: event.created_at,
        });
      }
      const withoutComment = event.child_events.filter((c) => c.event_type !== 'Comment');
      expect(plain.rows[i].child_events).toEqual(withoutComment);
    });
    const creates = full.rows.filter((e) => e.child_events.some((c) => c.event_type === 'Create'));
    expect(creates.length).toBeGreaterThan(0);
    // the creation's comment is the ticket's description
    const tickets = new Map(emu.truthFull().map((t) => [t.id, t]));
    for (const event of creates) {
      const comment = event.child_events.find((c) => c.event_type === 'Comment');
      expect(comment?.body).toBe(tickets.get(event.ticket_id)?.description);
      const fields = event.child_events.filter((c) => c.event_type === 'Create').map((c) => Object.keys(c)[4]);
      expect(fields).toEqual(expect.arrayContaining(['subject', 'status', 'priority', 'requester_id', 'tags']));
    }
  });

  test('a second with more events than per_page comes whole: the page is oversize and end_time moves on', async () => {
    const { emu, nowSeconds } = await emulator({ ticketCount: 100 });
    const second = nowSeconds() - 3600;
    emu.addBurst(150, second);
    emu.addBurst(2, second + 5);
    const page = await timePage<Event>(emu, `${EVENTS}?start_time=${second}&per_page=100`, 'ticket_events');
    const atSecond = page.rows.filter((e) => e.timestamp === second);
    expect(atSecond).toHaveLength(150);
    // a page that would end at its own start second takes the next second too
    expect(page.end_time).toBe(second + 5);
    expect(page.rows.filter((e) => e.timestamp === page.end_time)).toHaveLength(2);
    const before = await timePage<Event>(emu, `${EVENTS}?start_time=${second - 1}&per_page=100`, 'ticket_events');
    expect(before.rows.length).toBeGreaterThanOrEqual(150);
    expect(before.end_time).toBe(second);
  });

  test('the last minute is never served; a younger start_time is too recent; bad parameters get 400', async () => {
    const { emu, clock, nowSeconds } = await emulator({ ticketCount: 50 });
    const [created] = emu.mutate(1, 'create');
    const from = nowSeconds() - 60;
    expect((await get(emu, `${EVENTS}?start_time=${nowSeconds() - 59}`)).body).toEqual(TOO_RECENT);
    const early = await timePage<Event>(emu, `${EVENTS}?start_time=${from}`, 'ticket_events');
    expect(early.rows).toEqual([]);
    expect(early).toMatchObject({ count: 0, end_time: from, end_of_stream: true });
    clock.now += 60_000;
    const later = await timePage<Event>(emu, `${EVENTS}?start_time=${from}`, 'ticket_events');
    expect(later.rows.map((e) => e.ticket_id)).toEqual([created.id]);

    for (const bad of ['', '?start_time=x', '?start_time=0&per_page=1001', '?start_time=0&support_type_scope=bot']) {
      const reply = await get(emu, `${EVENTS}${bad}`);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('InvalidValue');
    }
    const scoped = await timePage<Event>(emu, `${EVENTS}?start_time=0&support_type_scope=all`, 'ticket_events');
    expect(scoped.next_page).toMatch(/&support_type_scope=all$/);
    // the tickets endpoint takes the parameter too, and checks it the same way
    expect((await get(emu, `${TICKETS}?start_time=0&support_type_scope=all`)).status).toBe(200);
    expect((await get(emu, `${TICKETS}?start_time=0&support_type_scope=nobody`)).status).toBe(400);
  });

  test('a full read equals the truth, and the history ends in each ticket’s current fields', async () => {
    const { emu, clock } = await emulator({ ticketCount: 300, seed: 9 });
    emu.mutate(200);
    clock.now += 120_000;
    const { rows } = await walkTime<Event>(emu, EVENTS, 'ticket_events', '&include=comment_events&per_page=97');
    const served = newestById(rows).sort(byTimeThenId);
    const truth = emu.streamTruth('ticket_events') as unknown as Event[];
    expect(served).toEqual(truth);
    const route = await control(emu, 'GET', '/__emulator/truth/ticket_events');
    expect(route.body).toEqual({ count: truth.length, ticket_events: truth });

    // ids increase with time
    const ids = truth.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    // the newest value of each field in the field history is the ticket's
    const history = emu.streamTruth('ticket_field_changes');
    const current = new Map<string, unknown>();
    for (const row of history) current.set(`${row.ticket_id}:${row.field_name}`, row.value);
    for (const ticket of emu.truthFull()) {
      const value = (field: string) => current.get(`${ticket.id}:${field}`);
      expect(value('status')).toBe(ticket.status);
      expect(value('priority')).toBe(ticket.priority);
      expect(value('assignee_id')).toBe(ticket.assignee_id);
      expect(value('group_id')).toBe(ticket.group_id);
      expect(value('subject')).toBe(ticket.subject);
      expect(value('tags')).toEqual(ticket.tags);
      expect(value('requester_id')).toBe(ticket.requester_id);
    }
  });
});

describe('without the seeded history', () => {
  test('the events start with the live changes, and still show what changed', async () => {
    const { emu, clock } = await emulator({ ticketCount: 50, seedEvents: false });
    expect(emu.streamTruth('ticket_events')).toEqual([]);
    expect(emu.streamTruth('ticket_metric_events')).toEqual([]);
    const before = new Map(emu.truthFull().map((t) => [t.id, t]));
    const changes = emu.mutate(20, 'agentUpdate');
    clock.now += 61_000;
    const { rows } = await walkTime<Event>(emu, EVENTS, 'ticket_events');
    expect(rows.map((e) => e.ticket_id)).toEqual(changes.map((c) => c.id));
    expect(rows).toEqual(emu.streamTruth('ticket_events').map(({ child_events, ...event }) => ({
      ...event,
      child_events: child_events.filter((c) => c.event_type !== 'Comment'),
      comment_present: child_events.some((c) => c.event_type === 'Comment'),
      comment_public: child_events.some((c) => c.event_type === 'Comment' && c.public === true),
    }))); // prettier-ignore
    const first = rows[0];
    const ticket = before.get(first.ticket_id);
    const changed = first.child_events.filter((c) => c.event_type === 'Change');
    expect(changed.length).toBeGreaterThan(0);
    for (const child of changed) {
      if ('status' in child) expect(child.previous_value).toBe(ticket?.status);
      if ('tags' in child) expect(child.previous_value).toEqual(ticket?.tags);
    }
  });
});

describe('comments and field history', () => {
  test('truth of comments and field history is what the events served carry', async () => {
    const { emu } = await emulator({ ticketCount: 120, seed: 5 });
    const { rows } = await walkTime<Event>(emu, EVENTS, 'ticket_events', '&include=comment_events');
    const events = newestById(rows);
    const comments = events
      .flatMap((e) =>
        e.child_events.filter((c) => c.event_type === 'Comment').map((c) => ({ ...c, ticket_id: e.ticket_id })),
      )
      .sort((a, b) => a.id - b.id);
    expect(emu.streamTruth('ticket_comments')).toEqual(comments);
    expect((await control(emu, 'GET', '/__emulator/truth/ticket_comments')).body.count).toBe(comments.length);

    const history = emu.streamTruth('ticket_field_changes');
    const changes = events.flatMap((e) =>
      e.child_events.filter((c) => ['Create', 'Change'].includes(c.event_type as string)),
    );
    expect(history).toHaveLength(changes.length);
    const byChild = new Map(changes.map((c) => [c.id, c]));
    for (const row of history) {
      const child = byChild.get(row.child_id) as Row;
      expect(child[row.field_name]).toEqual(row.value);
      expect(row.previous_value).toEqual(child.event_type === 'Change' ? child.previous_value : null);
      expect(row.updated_at).toMatch(ISO_SECONDS);
      const event = events.find((e) => e.id === row.event_id) as Event;
      expect(row).toMatchObject({
        ticket_id: event.ticket_id,
        updated_at: event.created_at,
        updater_id: event.updater_id,
      });
    }
    const fields = new Set(history.map((row) => row.field_name));
    for (const field of ['status', 'priority', 'assignee_id', 'group_id', 'tags', '360001'])
      expect(fields).toContain(field);
    const tagChanges = history.filter((row) => row.field_name === 'tags' && row.previous_value !== null);
    expect(tagChanges.every((row) => Array.isArray(row.value) && Array.isArray(row.previous_value))).toBe(true);
  });

  test('a custom field whose value is an object, and via as object, string and null', async () => {
    const { emu } = await emulator({ ticketCount: 1500, seed: 6 });
    const history = emu.streamTruth('ticket_field_changes');
    const escalations = history.filter((row) => row.field_name === '360005');
    expect(escalations.some((row) => typeof row.value === 'object' && row.value !== null)).toBe(true);
    const vias = emu.streamTruth('ticket_events').flatMap((e) => e.child_events.map((c) => c.via));
    expect(vias.some((via) => typeof via === 'string')).toBe(true);
    expect(vias.some((via) => via === null)).toBe(true);
    expect(vias.filter((via) => typeof via === 'object' && via !== null).length).toBeGreaterThan(vias.length / 2);
  });

  test('a redaction changes the comment without an event; a reader that passed it keeps its copy', async () => {
    const { emu } = await emulator({ ticketCount: 60 });
    const before = emu.streamTruth('ticket_events').length;
    const comment = emu.streamTruth('ticket_comments')[3];
    const word = comment.body.split(' ')[1];
    const reply = await control(emu, 'POST', `/__emulator/comments/${comment.id}/redact`, { text: word });
    expect(reply.status).toBe(200);
    const redacted = (reply.body.comment as { body: string }).body;
    expect(redacted).toContain('▇'.repeat(word.length));
    expect(redacted).not.toContain(` ${word} `);
    expect(emu.streamTruth('ticket_events')).toHaveLength(before);
    const truth = emu.streamTruth('ticket_comments').find((c) => c.id === comment.id);
    expect(truth).toMatchObject({ body: redacted, plain_body: redacted, audit_id: comment.audit_id });
    const whole = await control(emu, 'POST', `/__emulator/comments/${comment.id}/redact`, {});
    expect((whole.body.comment as { body: string }).body).toMatch(/^▇+$/);
    expect((await control(emu, 'POST', `/__emulator/comments/${comment.audit_id}/redact`)).status).toBe(404);
  });
});

describe('users and organizations', () => {
  test('every id the tickets refer to is a user or an organization', async () => {
    const { emu } = await emulator({ ticketCount: 400 });
    const users = new Map(emu.streamTruth('users').map((u) => [u.id, u]));
    const orgs = new Set(emu.streamTruth('organizations').map((o) => o.id));
    for (const ticket of emu.truthFull()) {
      expect(users.get(ticket.requester_id)?.role).toBe('end-user');
      if (ticket.assignee_id !== null) expect(users.get(ticket.assignee_id)?.role).toBe('agent');
      if (ticket.organization_id !== null) expect(orgs.has(ticket.organization_id)).toBe(true);
    }
    for (const user of users.values()) {
      if (user.organization_id !== null) expect(orgs.has(user.organization_id)).toBe(true);
    }
  });

  test('organizations: time-based pages by updated_at; a deletion sets deleted_at and moves updated_at', async () => {
    const { emu, clock, nowSeconds } = await emulator();
    const { rows, pages } = await walkTime<Row>(emu, ORGANIZATIONS, 'organizations', '&per_page=4');
    expect(pages.length).toBeGreaterThan(2);
    expect(newestById(rows)).toEqual(emu.streamTruth('organizations'));
    expect(pages[0].next_page).toBe(`${emu.url}${ORGANIZATIONS}?start_time=${pages[0].end_time}&per_page=4`);
    expect(pages[0].end_time).toBe(Date.parse(pages[0].rows[3].updated_at as string) / 1000);

    const [org] = emu.streamTruth('organizations');
    const deleted = await control(emu, 'POST', `/__emulator/organizations/${org.id}/delete`);
    expect(deleted.body.organization).toMatchObject({ id: org.id, deleted_at: expect.stringMatching(ISO_SECONDS) });
    const updated = await control(emu, 'POST', `/__emulator/organizations/${org.id + 1}/update`);
    expect(updated.status).toBe(200);
    expect((await control(emu, 'POST', '/__emulator/organizations/1/update')).status).toBe(404);
    clock.now += 61_000;
    const page = await timePage<Row>(emu, `${ORGANIZATIONS}?start_time=${nowSeconds() - 61}`, 'organizations');
    expect(page.rows.map((o) => o.id).sort()).toEqual([org.id, org.id + 1]);
    expect(page.rows.find((o) => o.id === org.id)?.deleted_at).toBe(page.rows[0].updated_at);
  });

  test('users cursor: pages by (updated_at, id); a caught-up cursor later returns the changes made since', async () => {
    const { emu, clock } = await emulator();
    const { rows, last } = await walkUsersCursor(emu, `${USERS_CURSOR}?start_time=0&per_page=100`);
    expect(rows).toHaveLength(emu.streamTruth('users').length);
    expect(newestById(rows)).toEqual(emu.streamTruth('users'));
    const keys = rows.map((u) => [Date.parse(u.updated_at as string), u.id]);
    expect(keys).toEqual([...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    expect(Object.keys(last)).toEqual([
      'users',
      'after_cursor',
      'before_cursor',
      'after_url',
      'before_url',
      'end_of_stream',
    ]);

    const again = await get(emu, last.after_url as string);
    expect(again.body).toMatchObject({ users: [], after_cursor: last.after_cursor, end_of_stream: true });
    const user = rows[5];
    const changed = await control(emu, 'POST', `/__emulator/users/${user.id}/delete`);
    expect(changed.body.user).toMatchObject({ id: user.id, active: false });
    await control(emu, 'POST', `/__emulator/users/${rows[6].id}/update`);
    clock.now += 1000;
    const later = await get(emu, last.after_url as string);
    expect((later.body.users as Row[]).map((u) => u.id).sort()).toEqual([user.id, rows[6].id].sort());
    expect((later.body.users as Row[]).find((u) => u.id === user.id)?.active).toBe(false);

    expect((await get(emu, `${USERS_CURSOR}?cursor=junk`)).body.error).toBe('InvalidCursor');
    expect((await get(emu, `${USERS_CURSOR}?start_time=0&per_page=1001`)).status).toBe(400);
    expect((await get(emu, `${USERS_CURSOR}?start_time=0&cursor=${last.after_cursor as string}`)).status).toBe(400);
    expect((await control(emu, 'POST', '/__emulator/users/42/delete')).status).toBe(404);
  });

  test('users.json: the time-based export of the same table', async () => {
    const { emu } = await emulator();
    const { rows, pages } = await walkTime<Row>(emu, USERS, 'users', '&per_page=300');
    expect(pages.length).toBeGreaterThan(2);
    expect(newestById(rows)).toEqual(emu.streamTruth('users'));
  });
});

describe('ticket metric events', () => {
  test('cursor pages of page[size], chronological; page[size] above 100 gets 400', async () => {
    const { emu, clock } = await emulator({ ticketCount: 150, seed: 8 });
    emu.mutate(100);
    clock.now += 2000;
    const { rows, last } = await walkMetricCursor(emu, `${METRICS}?start_time=0&page[size]=100`);
    expect(rows).toEqual(emu.streamTruth('ticket_metric_events'));
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    const keys = rows.map((r) => [Date.parse(r.time), r.id]);
    expect(keys).toEqual([...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    expect(last).toMatchObject({ meta: { has_more: false, after_cursor: expect.any(String) }, links: { prev: null } });

    for (const bad of ['?start_time=0&page[size]=101', '?start_time=0&page[size]=0', '?page[after]=junk']) {
      expect((await get(emu, `${METRICS}${bad}`)).status).toBe(400);
    }
    // without page parameters: the time-based shape, which never serves the last minute
    clock.now += 60_000;
    const timeBased = await timePage<MetricEvent>(emu, `${METRICS}?start_time=0&per_page=50`, 'ticket_metric_events');
    expect(timeBased.next_page).toBe(`${emu.url}${METRICS}?start_time=${timeBased.end_time}&per_page=50`);
    const walked = await walkTime<MetricEvent>(emu, METRICS, 'ticket_metric_events', '&per_page=200');
    expect(newestById(walked.rows)).toEqual([...rows].sort((a, b) => a.id - b.id));
  });

  test('follow the tickets: SLA and clocks on creation, reply, pause and resolution', async () => {
    const { emu } = await emulator({ ticketCount: 300, seed: 2 });
    const rows = emu.streamTruth('ticket_metric_events');
    const tickets = emu.truthFull();
    const of = (id: number, metric: string, type: string) =>
      rows.filter((r) => r.ticket_id === id && r.metric === metric && r.type === type);
    for (const ticket of tickets) {
      const sla = of(ticket.id, 'reply_time', 'apply_sla');
      expect(sla).toHaveLength(1);
      expect(sla[0].sla).toEqual({
        target: expect.any(Number),
        business_hours: expect.any(Boolean),
        policy: { id: expect.any(Number), title: expect.any(String) },
      });
      for (const metric of ['reply_time', 'requester_wait_time', 'agent_work_time', 'resolution_time']) {
        expect(of(ticket.id, metric, 'activate').length).toBeGreaterThanOrEqual(1);
      }
      expect(of(ticket.id, 'reply_time', 'fulfill').length).toBeLessThanOrEqual(1);
      if (ticket.status === 'solved' || ticket.status === 'closed') {
        expect(of(ticket.id, 'resolution_time', 'fulfill').length).toBeGreaterThanOrEqual(1);
        const [status] = of(ticket.id, 'resolution_time', 'update_status');
        expect(status.status).toEqual({ calendar: expect.any(Number), business: expect.any(Number) });
      }
    }
    expect(rows.every((r) => r.deleted === false && r.instance_id === 1 && ISO_SECONDS.test(r.time))).toBe(true);
    expect(rows.some((r) => r.type === 'pause')).toBe(true);
    expect(rows.some((r) => r.metric === 'reply_time' && r.type === 'fulfill')).toBe(true);
  });
});

describe('buckets', () => {
  test('the incremental bucket is shared; the users cursor bucket serves on; headers and counters', async () => {
    const { emu, clock } = await emulator({ incrementalRequestsPerMinute: 3, usersCursorRequestsPerMinute: 2 });
    const first = await get(emu, `${TICKETS}?start_time=0&per_page=5`);
    expect(first.headers.get('zendesk-ratelimit-incremental-exports')).toBe('total=3; remaining=2; resets=60');
    clock.now += 10_000;
    expect((await get(emu, `${EVENTS}?start_time=0&per_page=5`)).status).toBe(200);
    const third = await get(emu, `${ORGANIZATIONS}?start_time=0&per_page=5`);
    expect(third.headers.get('zendesk-ratelimit-incremental-exports')).toBe('total=3; remaining=0; resets=50');
    const limited = await get(emu, `${METRICS}?start_time=0&page[size]=5`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('50');
    expect(limited.headers.get('zendesk-ratelimit-incremental-exports')).toBe('total=3; remaining=0; resets=50');
    expect((await get(emu, `${USERS}?start_time=0`)).status).toBe(429);

    const users = await get(emu, `${USERS_CURSOR}?start_time=0&per_page=5`);
    expect(users.status).toBe(200);
    expect(users.headers.get('zendesk-ratelimit-incremental-exports-cursor')).toBe('total=2; remaining=1; resets=60');
    expect(users.headers.get('zendesk-ratelimit-incremental-exports')).toBeNull();
    expect((await get(emu, users.body.after_url as string)).status).toBe(200);
    expect((await get(emu, users.body.after_url as string)).status).toBe(429);

    emu.injectFaults([{ kind: 'rateLimit', stream: 'users' }]);
    clock.now += 60_000;
    // the injected 429 waits for the users stream: the ticket events call is served
    expect((await get(emu, `${EVENTS}?start_time=0&per_page=5`)).status).toBe(200);
    const injected = await get(emu, `${USERS_CURSOR}?start_time=0`);
    expect(injected.status).toBe(429);
    expect(injected.headers.get('retry-after')).toBe('60');

    const stats = emu.stats();
    expect(stats.buckets).toEqual({
      incremental: { accepted: 4, rateLimited: 2, injected: 0, overBudget: 0 },
      users_cursor: { accepted: 2, rateLimited: 1, injected: 1, overBudget: 0 },
      account: { accepted: 0, rateLimited: 0, injected: 0, overBudget: 0 },
    });
    expect(stats.byStream).toEqual({
      ticket_events: 2,
      users: 5,
      organizations: 1,
      ticket_metric_events: 1,
      reference_lists: 0,
    });
    expect(stats.byEndpoint).toEqual({ export: 0, sample: 0, incremental: 1 });
    expect(stats.log.map((e) => e.endpoint)).toContain('users_cursor');
    // A stream call's log entry names the page size it asked for, when it named one.
    const sized = stats.log.filter((e) => e.endpoint === 'ticket_events');
    expect(sized.map((e) => e.perPage)).toContain(5);
    expect(stats.log.filter((e) => e.endpoint === 'users_cursor').map((e) => e.perPage)).toContain(undefined);

    const config = await control(emu, 'POST', '/__emulator/config', { usersCursorRequestsPerMinute: 60 });
    expect(config.body.usersCursorRequestsPerMinute).toBe(60);
    expect((await control(emu, 'POST', '/__emulator/config', { usersCursorRequestsPerMinute: -1 })).status).toBe(400);
    await control(emu, 'POST', '/__emulator/stats/reset');
    expect(emu.stats().buckets.users_cursor).toEqual({ accepted: 0, rateLimited: 0, injected: 0, overBudget: 0 });
  });

  test('with the limit off, overBudget counts the calls beyond the default budget in a sliding minute', async () => {
    const { emu, clock } = await emulator();
    expect(emu.options.usersCursorRequestsPerMinute).toBe(0);
    for (let i = 0; i < 10; i++) {
      expect((await get(emu, `${EVENTS}?start_time=0&per_page=1`)).status).toBe(200);
      clock.now += 6_000;
    }
    // ten calls, each 6 s apart: never more than 10 in a minute
    expect(emu.stats().buckets.incremental.overBudget).toBe(0);
    for (let i = 0; i < 3; i++) await get(emu, `${TICKETS}?start_time=0&per_page=1`);
    expect(emu.stats().buckets.incremental).toMatchObject({ accepted: 13, overBudget: 2 });
    for (let i = 0; i < 21; i++) await get(emu, `${USERS_CURSOR}?start_time=0&per_page=1`);
    expect(emu.stats().buckets.users_cursor).toMatchObject({ accepted: 21, overBudget: 1 });
  });
});

describe('stream faults', () => {
  test('faults are checked: a stream must be one of the kind’s', async () => {
    const { emu } = await emulator({ ticketCount: 10 });
    for (const bad of [
      { kind: 'straddle', stream: 'users' },
      { kind: 'sameSecondBurst', stream: 'organizations' },
      { kind: 'fullPageRepeats' },
      { kind: 'commentEventsTimeout' },
      { kind: 'status', status: 503, stream: 'comments' },
    ]) {
      const reply = await control(emu, 'POST', '/__emulator/faults', { faults: [bad] });
      expect(reply.status).toBe(400);
    }
    const ok = await control(emu, 'POST', '/__emulator/faults', {
      faults: [{ kind: 'unusualEvents' }, { kind: 'status', status: 503, stream: 'organizations', count: 2 }],
    });
    expect(ok.body).toEqual({ ok: true, queued: 3 });
  });

  test('sameSecondBurst: more organizations at one second than per_page; fullPageRepeats then repeats a full page', async () => {
    const { emu, nowSeconds } = await emulator({ ticketCount: 10 });
    // before every seeded organization's updated_at
    const second = nowSeconds() - 40 * 86400;
    emu.injectFaults([
      { kind: 'sameSecondBurst', stream: 'organizations', size: 30 },
      { kind: 'fullPageRepeats', stream: 'organizations', count: 3 },
    ]);
    const url = `${ORGANIZATIONS}?start_time=${second}&per_page=10`;
    const oversize = await timePage<Row>(emu, url, 'organizations');
    expect(oversize.rows.filter((o) => o.updated_at === new Date(second * 1000).toISOString().replace('.000', '')))
      .toHaveLength(30); // prettier-ignore
    for (let i = 0; i < 3; i++) {
      const repeated = await timePage<Row>(emu, url, 'organizations');
      expect(repeated.rows).toHaveLength(10);
      expect(repeated.end_time).toBe(second);
      expect(repeated.next_page).toBe(`${emu.url}${url}`);
    }
    expect((await timePage<Row>(emu, url, 'organizations')).end_time).toBeGreaterThan(second);
    expect(emu.stats().log.map((e) => e.fault)).toEqual([
      'sameSecondBurst',
      'fullPageRepeats',
      'fullPageRepeats',
      'fullPageRepeats',
      undefined,
    ]);
    expect(emu.streamTruth('organizations')).toHaveLength(41);
  });

  test('sameSecondBurst on ticket events: new tickets created in the call’s start second', async () => {
    const { emu, nowSeconds } = await emulator({ ticketCount: 10 });
    const second = nowSeconds() - 300;
    emu.injectFaults([{ kind: 'sameSecondBurst', stream: 'ticket_events', size: 40 }]);
    const page = await timePage<Event>(emu, `${EVENTS}?start_time=${second}&per_page=25`, 'ticket_events');
    expect(page.rows.filter((e) => e.timestamp === second)).toHaveLength(40);
    expect(emu.truthFull()).toHaveLength(50);
  });

  test('commentEventsTimeout: 504 for comment events above the per_page threshold only', async () => {
    const { emu } = await emulator({ ticketCount: 30 });
    emu.injectFaults([{ kind: 'commentEventsTimeout', perPageAbove: 500, count: 2 }]);
    expect((await get(emu, `${EVENTS}?start_time=0&per_page=1000`)).status).toBe(200);
    expect((await get(emu, `${EVENTS}?start_time=0&per_page=500&include=comment_events`)).status).toBe(200);
    const timedOut = await get(emu, `${EVENTS}?start_time=0&include=comment_events`);
    expect(timedOut.status).toBe(504);
    expect(timedOut.text).toBe('upstream request timeout');
    expect((await get(emu, `${EVENTS}?start_time=0&per_page=501&include=comment_events`)).status).toBe(504);
    expect((await get(emu, `${EVENTS}?start_time=0&per_page=501&include=comment_events`)).status).toBe(200);
  });

  test('unusualEvents: an unknown child type and every via shape, in the truth too', async () => {
    const { emu, nowSeconds } = await emulator({ ticketCount: 30 });
    const second = nowSeconds() - 100;
    emu.injectFaults([{ kind: 'unusualEvents', size: 2 }]);
    const url = `${EVENTS}?start_time=${second}&include=comment_events`;
    const page = await timePage<Event>(emu, url, 'ticket_events');
    expect(page.rows).toHaveLength(2);
    for (const event of page.rows) {
      const types = event.child_events.map((c) => c.event_type);
      expect(types).toEqual(['AgentMacroReference', 'Notification', 'TicketSharingEvent']);
      expect(event.child_events.map((c) => (c.via === null ? 'null' : typeof c.via))).toEqual([
        'string',
        'null',
        'object',
      ]);
      expect(event.child_events[0]).toMatchObject({ macro_id: expect.any(Number) });
    }
    const truth = emu.streamTruth('ticket_events').filter((e) => e.timestamp === second);
    expect(truth).toEqual(page.rows);
  });

  test('straddle: metric events from before the start at the front of the page', async () => {
    const { emu } = await emulator({ ticketCount: 60 });
    const all = emu.streamTruth('ticket_metric_events');
    const start = Date.parse(all[40].time) / 1000;
    const before = all.filter((r) => Date.parse(r.time) / 1000 < start);
    emu.injectFaults([{ kind: 'straddle', rows: 4 }, { kind: 'straddle' }]);
    const reply = await get(emu, `${METRICS}?start_time=${start}&page[size]=10`);
    const rows = reply.body.ticket_metric_events as MetricEvent[];
    expect(rows.slice(0, 4)).toEqual(before.slice(-4));
    expect(rows.slice(4)).toEqual(all.filter((r) => Date.parse(r.time) / 1000 >= start).slice(0, 10));
    const after = (reply.body.meta as { after_cursor: string }).after_cursor;
    const next = await get(emu, `${METRICS}?page[after]=${after}&page[size]=10`);
    const nextRows = next.body.ticket_metric_events as MetricEvent[];
    expect(nextRows.slice(0, 3)).toEqual(rows.slice(-3));
    expect(nextRows).toHaveLength(13);
  });

  test('a general fault can target one stream; untargeted ones apply to any export call', async () => {
    const { emu } = await emulator({ ticketCount: 20 });
    emu.injectFaults([
      { kind: 'status', status: 503, retryAfter: '5', stream: 'ticket_metric_events' },
      { kind: 'truncated' },
    ]);
    const truncated = await get(emu, `${ORGANIZATIONS}?start_time=0`);
    expect(truncated.status).toBe(200);
    expect(truncated.text.startsWith('{"organizations":[')).toBe(true);
    expect(() => JSON.parse(truncated.text) as unknown).toThrow(SyntaxError);
    expect((await get(emu, `${TICKETS}?start_time=0`)).status).toBe(200);
    const unavailable = await get(emu, `${METRICS}?start_time=0`);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('5');
  });
});

describe('live changes', () => {
  test('the ticker makes replies, field changes, user and organization updates and deletions', async () => {
    const { emu } = await emulator({ ticketCount: 100, seed: 12 });
    const startEvents = emu.streamTruth('ticket_events').length;
    const usersBefore = new Map(emu.streamTruth('users').map((u) => [u.id, u.updated_at]));
    const orgsBefore = new Map(emu.streamTruth('organizations').map((o) => [o.id, o.updated_at]));
    emu.startMutations({ intervalMs: 5, perTick: 100 });
    const seen = () => {
      const events = emu.streamTruth('ticket_events').slice(startEvents);
      const children = events.flatMap((e) => e.child_events.map((c) => c.event_type));
      const users = emu.streamTruth('users');
      const orgs = emu.streamTruth('organizations');
      return {
        replies: children.includes('Comment'),
        changes: children.includes('Change'),
        creates: children.includes('Create'),
        notifications: children.includes('Notification'),
        userUpdates: users.some((u) => u.active && u.updated_at !== usersBefore.get(u.id)),
        userDeletions: users.some((u) => !u.active),
        orgUpdates: orgs.some((o) => o.deleted_at === null && o.updated_at !== orgsBefore.get(o.id)),
        orgDeletions: orgs.some((o) => o.deleted_at !== null),
      };
    };
    const deadline = Date.now() + 10_000;
    while (Object.values(seen()).includes(false) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    emu.stopMutations();
    expect(seen()).toEqual({
      replies: true,
      changes: true,
      creates: true,
      notifications: true,
      userUpdates: true,
      userDeletions: true,
      orgUpdates: true,
      orgDeletions: true,
    });
  });
});
