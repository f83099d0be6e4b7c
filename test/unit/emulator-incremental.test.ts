import {
  CURSOR_PATH,
  EXPORT_PATH,
  INCREMENTAL_PATH,
  startEmulator,
  type CursorTicketsPage,
  type Emulator,
  type EmulatorOptions,
  type FullTicket,
  type IncrementalTicketsPage,
  type TicketRow,
  type ZendeskGroup,
  type ZendeskOrganization,
  type ZendeskUser,
} from '../../src/emulator';

const AUTH = basic('admin@example.com/token:emulator-token');
const BASE_CLOCK = Date.UTC(2024, 4, 1, 12, 0, 0);
const FULL_TICKET_KEYS = [
  'url', 'id', 'external_id', 'created_at', 'updated_at', 'generated_timestamp', 'type', 'subject', 'raw_subject',
  'description', 'priority', 'status', 'recipient', 'requester_id', 'submitter_id', 'assignee_id', 'organization_id',
  'group_id', 'collaborator_ids', 'follower_ids', 'email_cc_ids', 'forum_topic_id', 'problem_id', 'has_incidents',
  'is_public', 'due_at', 'tags', 'custom_fields', 'satisfaction_rating', 'sharing_agreement_ids', 'fields',
  'followup_ids', 'brand_id', 'allow_channelback', 'allow_attachments', 'from_messaging_channel', 'via',
]; // prettier-ignore
const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const TOO_RECENT = {
  error: 'StartTimeTooRecent',
  description: 'Too recent start_time. Use a start_time older than 1 minute',
};
const RATE_LIMITED = {
  error: 'APIRateLimitExceeded',
  description: 'Number of allowed incremental export API requests per minute exceeded',
};

type Sideloaded = { users?: ZendeskUser[]; groups?: ZendeskGroup[]; organizations?: ZendeskOrganization[] };

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T>(): T;
}

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

const started: Emulator[] = [];

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ port: 0, ticketCount: 300, incrementalRequestsPerMinute: 0, ...options });
  started.push(emu);
  return emu;
}

afterAll(async () => {
  await Promise.all(started.map((emu) => emu.close()));
});

/** GET a path of the emulator, or an absolute URL (next_page, after_url) that must point at it. */
async function get(emu: Emulator, pathOrUrl: string, auth: string | null = AUTH): Promise<Reply> {
  if (/^https?:/.test(pathOrUrl)) expect(pathOrUrl.startsWith(`${emu.url}/`)).toBe(true);
  const res = await fetch(/^https?:/.test(pathOrUrl) ? pathOrUrl : `${emu.url}${pathOrUrl}`, {
    headers: auth === null ? {} : { authorization: auth },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

async function timePage(emu: Emulator, pathOrUrl: string): Promise<IncrementalTicketsPage> {
  const reply = await get(emu, pathOrUrl);
  expect(reply.status).toBe(200);
  return reply.json<IncrementalTicketsPage>();
}

async function cursorPage(emu: Emulator, pathOrUrl: string): Promise<CursorTicketsPage> {
  const reply = await get(emu, pathOrUrl);
  expect(reply.status).toBe(200);
  return reply.json<CursorTicketsPage>();
}

const incrementalAt = (startTime: number | string, extra = '') => `${INCREMENTAL_PATH}?start_time=${startTime}${extra}`;
const cursorAt = (startTime: number | string, extra = '') => `${CURSOR_PATH}?start_time=${startTime}${extra}`;
const cursorFrom = (cursor: string, extra = '') => `${CURSOR_PATH}?cursor=${cursor}${extra}`;
const byTimeThenId = (a: FullTicket, b: FullTicket) => a.generated_timestamp - b.generated_timestamp || a.id - b.id;
const latestById = (tickets: FullTicket[]) => [...new Map(tickets.map((t) => [t.id, t])).values()];
const sortedById = (tickets: FullTicket[]) => [...tickets].sort((a, b) => a.id - b.id);
const epoch = (iso: string) => Date.parse(iso) / 1000;

/** Follows next_page until end_of_stream; every ticket as served, in order. */
async function walkTime(emu: Emulator, from: number, extra = '') {
  const tickets: FullTicket[] = [];
  let url = incrementalAt(from, extra);
  for (let pages = 1; pages < 1000; pages++) {
    const page = await timePage(emu, url);
    tickets.push(...page.tickets);
    if (page.end_of_stream) return { tickets, pages };
    expect(page.end_time).toBeGreaterThan(Number(new URL(url, emu.url).searchParams.get('start_time')));
    url = page.next_page;
  }
  throw new Error('time-based walk did not finish');
}

/** Follows after_url until end_of_stream; every ticket as served, in order, and the last page. */
async function walkCursor(emu: Emulator, from: number, extra = '') {
  const tickets: FullTicket[] = [];
  const sideloads: Sideloaded[] = [];
  let url = cursorAt(from, extra);
  for (let pages = 1; pages < 1000; pages++) {
    const page = await cursorPage(emu, url);
    tickets.push(...page.tickets);
    sideloads.push(page);
    if (page.end_of_stream) return { tickets, pages, last: page, sideloads };
    url = page.after_url;
  }
  throw new Error('cursor walk did not finish');
}

function expectFullTicket(ticket: FullTicket, url: string): void {
  expect(Object.keys(ticket)).toEqual(FULL_TICKET_KEYS);
  expect(ticket.url).toBe(`${url}/api/v2/tickets/${ticket.id}.json`);
  for (const iso of [ticket.created_at, ticket.updated_at]) expect(iso).toMatch(ISO_SECONDS);
  expect(epoch(ticket.created_at)).toBeLessThanOrEqual(epoch(ticket.updated_at));
  expect(epoch(ticket.updated_at)).toBeLessThanOrEqual(ticket.generated_timestamp);
  expect([null, 'question', 'incident', 'problem', 'task']).toContain(ticket.type);
  expect([null, 'low', 'normal', 'high', 'urgent']).toContain(ticket.priority);
  expect(['new', 'open', 'pending', 'hold', 'solved', 'closed', 'deleted']).toContain(ticket.status);
  expect(ticket.raw_subject).toBe(ticket.subject);
  expect(ticket.description.split('. ').length).toBeGreaterThan(1);
  expect(ticket.fields).toEqual(ticket.custom_fields);
  expect(ticket.collaborator_ids).toEqual(expect.arrayContaining([...ticket.follower_ids, ...ticket.email_cc_ids]));
  expect(['web', 'email', 'api']).toContain(ticket.via.channel);
  expect(ticket.via.source.rel).toBeNull();
  expect(ticket.recipient === null).toBe(ticket.via.channel !== 'email');
  expect(ticket.due_at === null).toBe(ticket.type !== 'task');
  expect(ticket.satisfaction_rating === null).toBe(!['solved', 'closed'].includes(ticket.status));
  expect(typeof ticket.external_id === 'string' || ticket.external_id === null).toBe(true);
  for (const tag of ticket.tags) expect(tag).toMatch(/^[a-z_]+$/);
}

describe('incremental endpoints', () => {
  let emu: Emulator;

  beforeAll(async () => {
    emu = await emulator({ ticketCount: 2500, seed: 11 });
  });

  test('time-based: a full page of full tickets with count, end_time, next_page and end_of_stream', async () => {
    const reply = await get(emu, incrementalAt(0));
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const page = reply.json<IncrementalTicketsPage>();
    expect(Object.keys(page)).toEqual(['tickets', 'count', 'end_time', 'next_page', 'end_of_stream']);
    expect(page.count).toBe(1000);
    expect(page.tickets).toEqual([...emu.truthFull()].sort(byTimeThenId).slice(0, 1000));
    const last = page.tickets[999];
    expect(page.end_time).toBe(last.generated_timestamp);
    expect(page.next_page).toBe(`${emu.url}${INCREMENTAL_PATH}?start_time=${last.generated_timestamp}&per_page=1000`);
    expect(page.end_of_stream).toBe(false);
    for (const ticket of page.tickets) expectFullTicket(ticket, emu.url);
  });

  test('cursor: a full page with after/before cursors and URLs; before_url re-reads the page', async () => {
    const page = await cursorPage(emu, cursorAt(0));
    expect(Object.keys(page)).toEqual([
      'tickets',
      'after_cursor',
      'after_url',
      'before_cursor',
      'before_url',
      'end_of_stream',
    ]);
    expect(page.tickets).toEqual([...emu.truthFull()].sort(byTimeThenId).slice(0, 1000));
    expect(page.after_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(page.after_url).toBe(`${emu.url}${CURSOR_PATH}?cursor=${page.after_cursor}&per_page=1000`);
    expect(page.before_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(page.before_url).toBe(`${emu.url}${CURSOR_PATH}?cursor=${page.before_cursor}&per_page=1000`);
    expect(page.end_of_stream).toBe(false);
    expect((await cursorPage(emu, page.before_url as string)).tickets).toEqual(page.tickets);
    // the cursor endpoint starts at start_time inclusive
    const pivot = page.tickets[500].generated_timestamp;
    const fromPivot = await cursorPage(emu, cursorAt(pivot, '&per_page=5'));
    expect(fromPivot.tickets).toEqual(page.tickets.filter((t) => t.generated_timestamp >= pivot).slice(0, 5));
  });

  test('time-based: walking next_page until end_of_stream reaches exactly truthFull()', async () => {
    const { tickets, pages } = await walkTime(emu, 0);
    expect(pages).toBe(3);
    const truth = emu.truthFull();
    expect(truth).toHaveLength(2500);
    expect(truth.map((t) => t.id)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    expect(sortedById(latestById(tickets))).toEqual(truth);
  });

  test('cursor: walking after_url until end_of_stream serves every ticket exactly once, in order', async () => {
    const { tickets, pages, last } = await walkCursor(emu, 0);
    expect(pages).toBe(3);
    expect(tickets).toEqual([...emu.truthFull()].sort(byTimeThenId));
    expect(last.tickets).toHaveLength(500);

    // the last after_cursor is the checkpoint: nothing new, then the next change
    const again = await cursorPage(emu, last.after_url);
    expect(again).toEqual({
      tickets: [],
      after_cursor: last.after_cursor,
      after_url: last.after_url,
      before_cursor: null,
      before_url: null,
      end_of_stream: true,
    });
  });

  test('per_page sizes both pages and is carried into next_page / after_url; bad values get 400', async () => {
    const time = await timePage(emu, incrementalAt(0, '&per_page=7'));
    expect(time.count).toBe(7);
    expect(time.next_page).toBe(`${emu.url}${INCREMENTAL_PATH}?start_time=${time.end_time}&per_page=7`);
    const cursor = await cursorPage(emu, cursorAt(0, '&per_page=7'));
    expect(cursor.tickets).toEqual(time.tickets);
    expect(cursor.after_url).toBe(`${emu.url}${CURSOR_PATH}?cursor=${cursor.after_cursor}&per_page=7`);
    const { tickets, pages } = await walkCursor(emu, 0, '&per_page=333');
    expect(pages).toBe(8);
    expect(tickets).toEqual([...emu.truthFull()].sort(byTimeThenId));

    for (const bad of ['0', '1001', '-1', 'abc', '1.5', '', '1e3', '00000']) {
      for (const path of [incrementalAt(0, `&per_page=${bad}`), cursorAt(0, `&per_page=${bad}`)]) {
        const reply = await get(emu, path);
        expect(reply.status).toBe(400);
        expect(reply.json()).toEqual({ error: 'InvalidValue', description: expect.stringContaining('per_page') });
      }
    }
    expect((await timePage(emu, incrementalAt(0, '&per_page=1000'))).count).toBe(1000);
    expect((await timePage(emu, incrementalAt(0, '&per_page=1'))).count).toBe(1);
  });

  test('include sideloads exactly the users, groups and organizations the page refers to', async () => {
    const extra = '&per_page=200&include=users,groups,organizations,metric_sets';
    const page = await cursorPage(emu, cursorAt(0, extra));
    expect(Object.keys(page)).toEqual([
      'tickets',
      'after_cursor',
      'after_url',
      'before_cursor',
      'before_url',
      'end_of_stream',
      'users',
      'groups',
      'organizations',
    ]);
    expect(page.after_url).toBe(
      `${emu.url}${CURSOR_PATH}?cursor=${page.after_cursor}&per_page=200&include=users,groups,organizations`,
    );
    const userIds = new Set(
      page.tickets.flatMap((t) => [t.requester_id, t.submitter_id, t.assignee_id, ...t.collaborator_ids]),
    );
    userIds.delete(null);
    expect(new Set(page.users?.map((u) => u.id))).toEqual(userIds);
    expect(page.users).toHaveLength(userIds.size);
    expect(new Set(page.groups?.map((g) => g.id))).toEqual(new Set(page.tickets.map((t) => t.group_id)));
    const orgIds = new Set(page.tickets.map((t) => t.organization_id).filter((id) => id !== null));
    expect(new Set(page.organizations?.map((o) => o.id))).toEqual(orgIds);
    for (const user of page.users ?? []) {
      expect(user).toMatchObject({ url: `${emu.url}/api/v2/users/${user.id}.json`, active: true });
      expect(user.email).toMatch(/^[a-z]+\.[a-z]+@[a-z-]+\.test$/);
    }
    const assigneeIds = new Set(page.tickets.map((t) => t.assignee_id));
    for (const user of page.users ?? []) expect(user.role === 'agent' || !assigneeIds.has(user.id)).toBe(true);

    // the sideloaded names are the flattened row's names
    const rows = new Map(emu.truth().map((row) => [row.id, row]));
    const users = new Map(page.users?.map((u) => [u.id, u]));
    const groups = new Map(page.groups?.map((g) => [g.id, g]));
    const orgs = new Map(page.organizations?.map((o) => [o.id, o]));
    for (const ticket of page.tickets) {
      const row = rows.get(ticket.id) as TicketRow;
      expect(users.get(ticket.requester_id)?.name).toBe(row.req_name);
      expect(ticket.assignee_id === null ? null : users.get(ticket.assignee_id)?.name).toBe(row.assignee_name);
      expect(groups.get(ticket.group_id as number)?.name).toBe(row.group_name);
      expect(ticket.organization_id === null ? null : orgs.get(ticket.organization_id)?.name).toBe(
        row.organization_name,
      );
    }

    const onlyGroups = await timePage(emu, incrementalAt(0, '&per_page=50&include=groups'));
    expect(Object.keys(onlyGroups)).toEqual(['tickets', 'count', 'end_time', 'next_page', 'end_of_stream', 'groups']);
    expect(onlyGroups.next_page).toMatch(/&per_page=50&include=groups$/);
    const unknownOnly = await timePage(emu, incrementalAt(0, '&per_page=5&include=metric_sets,nope'));
    expect(Object.keys(unknownOnly)).toEqual(['tickets', 'count', 'end_time', 'next_page', 'end_of_stream']);
  });

  test('user, group and organization ids are stable per name across every ticket', () => {
    const rows = emu.truth();
    const full = emu.truthFull();
    const idsByName = (names: Array<unknown>, ids: Array<number | null>) => {
      const map = new Map<unknown, Set<number | null>>();
      names.forEach((name, i) => map.set(name, (map.get(name) ?? new Set()).add(ids[i])));
      return map;
    };
    for (const [names, ids] of [
      [rows.map((r) => r.assignee_name), full.map((t) => t.assignee_id)],
      [rows.map((r) => r.group_name), full.map((t) => t.group_id)],
      [rows.map((r) => r.organization_name), full.map((t) => t.organization_id)],
      [rows.map((r) => r.req_name), full.map((t) => t.requester_id)],
    ] as const) {
      const map = idsByName([...names], [...ids]);
      for (const set of map.values()) expect(set.size).toBe(1);
      const allIds = [...map.values()].map((set) => [...set][0]);
      expect(new Set(allIds).size).toBe(allIds.length);
      expect(map.has(null)).toBe(allIds.includes(null));
    }
  });

  test('exclude_deleted=true leaves out deleted tickets; otherwise they come with status "deleted"', async () => {
    const truth = emu.truthFull();
    const deleted = truth.filter((t) => t.status === 'deleted');
    expect(deleted.length).toBeGreaterThan(5);
    const all = await walkCursor(emu, 0);
    expect(all.tickets.filter((t) => t.status === 'deleted')).toHaveLength(deleted.length);

    const live = await walkCursor(emu, 0, '&exclude_deleted=true');
    expect(sortedById(live.tickets)).toEqual(truth.filter((t) => t.status !== 'deleted'));
    const first = await cursorPage(emu, cursorAt(0, '&exclude_deleted=true'));
    expect(first.tickets).toHaveLength(1000);
    expect(first.after_url).toMatch(/&per_page=1000&exclude_deleted=true$/);
    const time = await walkTime(emu, 0, '&exclude_deleted=true');
    expect(sortedById(latestById(time.tickets))).toEqual(truth.filter((t) => t.status !== 'deleted'));
    const notTrue = await timePage(emu, incrementalAt(0, '&exclude_deleted=false'));
    expect(notTrue.tickets).toEqual([...truth].sort(byTimeThenId).slice(0, 1000));
  });

  test('an empty time-based page keeps end_time at start_time and ends the stream', async () => {
    const start = Math.floor(Date.now() / 1000) - 120;
    const page = await timePage(emu, incrementalAt(start));
    expect(page).toEqual({
      tickets: [],
      count: 0,
      end_time: start,
      next_page: `${emu.url}${INCREMENTAL_PATH}?start_time=${start}&per_page=1000`,
      end_of_stream: true,
    });
  });

  test('an exactly full last page already ends the stream', async () => {
    const sorted = [...emu.truthFull()].sort(byTimeThenId);
    const pivot = sorted[2000].generated_timestamp;
    const remaining = sorted.filter((t) => t.generated_timestamp >= pivot).length;
    const time = await timePage(emu, incrementalAt(pivot, `&per_page=${remaining}`));
    expect(time.count).toBe(remaining);
    expect(time.end_of_stream).toBe(true);
    expect((await timePage(emu, incrementalAt(pivot, `&per_page=${remaining - 1}`))).end_of_stream).toBe(false);
    const cursor = await cursorPage(emu, cursorAt(pivot, `&per_page=${remaining}`));
    expect(cursor.end_of_stream).toBe(true);
  });

  test('invalid cursors get 400 InvalidCursor; start_time and cursor together or neither get 400 InvalidValue', async () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const bad = [
      'not-a-cursor',
      'abc',
      '',
      '%21%21',
      b64('{"t":"x","i":1}'),
      b64('[1,2]'),
      b64('{"t":1}'),
      b64('{"t":-1,"i":0}'),
      b64('{"t":1.5,"i":0}'),
      b64('{"t":1,"i":0,"x":2}'),
      b64('null'),
    ];
    for (const cursor of bad) {
      const reply = await get(emu, cursorFrom(cursor));
      expect(reply.status).toBe(400);
      expect(reply.json()).toEqual({ error: 'InvalidCursor', description: expect.any(String) });
    }
    const valid = (await cursorPage(emu, cursorAt(0, '&per_page=1'))).after_cursor;
    for (const path of [`${CURSOR_PATH}?start_time=0&cursor=${valid}`, CURSOR_PATH, `${CURSOR_PATH}?per_page=5`]) {
      const reply = await get(emu, path);
      expect(reply.status).toBe(400);
      expect(reply.json()).toEqual({ error: 'InvalidValue', description: expect.stringContaining('start_time') });
    }
    for (const path of [cursorAt('abc'), cursorAt(-5), INCREMENTAL_PATH, incrementalAt(''), incrementalAt('1.5')]) {
      const reply = await get(emu, path);
      expect(reply.status).toBe(400);
      expect(reply.json()).toEqual({
        error: 'InvalidValue',
        description: 'start_time is required and must be an integer',
      });
    }
  });

  test('Basic auth as on the export endpoint', async () => {
    for (const path of [incrementalAt(0), cursorAt(0)]) {
      expect((await get(emu, path, null)).status).toBe(401);
      const wrong = await get(emu, path, basic('admin@example.com/token:nope'));
      expect(wrong.status).toBe(401);
      expect(wrong.json()).toEqual({ error: "Couldn't authenticate you" });
      expect((await get(emu, path, basic('admin@example.com:emulator-password'))).status).toBe(200);
    }
  });
});

describe('too recent start_time', () => {
  test('younger than incrementalMinStartAgeSeconds gets 400 StartTimeTooRecent; a cursor call never does', async () => {
    let clock = BASE_CLOCK;
    const emu = await emulator({ ticketCount: 200, now: () => clock });
    const now = () => Math.floor(clock / 1000);
    for (const at of [incrementalAt, cursorAt]) {
      for (const start of [now() - 59, now() - 1, now(), now() + 3600]) {
        const reply = await get(emu, at(start));
        expect(reply.status).toBe(400);
        expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(reply.json()).toEqual(TOO_RECENT);
      }
      expect((await get(emu, at(now() - 60))).status).toBe(200);
    }

    // the cursor endpoint serves completed seconds only: a change in the current second waits for the next one
    clock += 5_000;
    const [created] = emu.mutate(1, 'create');
    const createdAt = now();
    const early = await walkCursor(emu, 0);
    expect(early.last.tickets.map((t) => t.id)).not.toContain(created.id);
    clock += 1_000;
    const { last } = await walkCursor(emu, 0);
    expect(last.tickets.at(-1)).toMatchObject({ id: created.id, generated_timestamp: createdAt });
    const same = await cursorPage(emu, last.after_url);
    expect(same).toMatchObject({ tickets: [], after_cursor: last.after_cursor, end_of_stream: true });
    const [update] = emu.mutate(1, 'systemUpdate');
    const updatedAt = now();
    clock += 1_000;
    const next = await cursorPage(emu, last.after_url);
    expect(next.tickets.map((t) => [t.id, t.generated_timestamp])).toEqual([[update.id, updatedAt]]);

    emu.configure({ incrementalMinStartAgeSeconds: 3600 });
    expect((await get(emu, incrementalAt(now() - 1800))).json()).toEqual(TOO_RECENT);
    expect((await get(emu, incrementalAt(now() - 3600))).status).toBe(200);
  });
});

describe('incremental rate limit', () => {
  test('a sliding minute of accepted calls shared by both endpoints; Retry-After is honest', async () => {
    let clock = BASE_CLOCK;
    const emu = await emulator({
      ticketCount: 200,
      incrementalRequestsPerMinute: 3,
      windowSeconds: 300,
      now: () => clock,
    });
    const now = () => Math.floor(clock / 1000);
    const t0 = clock;

    // 400 InvalidValue and 401 are not accepted calls
    expect((await get(emu, incrementalAt(0, '&per_page=0'))).status).toBe(400);
    expect((await get(emu, cursorFrom('junk'))).status).toBe(400);
    expect((await get(emu, cursorAt(0), null)).status).toBe(401);
    expect((await get(emu, incrementalAt(0))).status).toBe(200);
    clock = t0 + 10_000;
    expect((await get(emu, cursorAt(0))).status).toBe(200);
    clock = t0 + 20_000;
    // too recent counts
    expect((await get(emu, cursorAt(now()))).status).toBe(400);

    clock = t0 + 30_000;
    for (const path of [incrementalAt(0), cursorAt(0), cursorFrom('junk')]) {
      const limited = await get(emu, path);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('30');
      expect(limited.json()).toEqual(RATE_LIMITED);
    }
    // the export endpoint has its own window
    expect((await get(emu, `${EXPORT_PATH}?start_time=0`)).status).toBe(200);

    clock = t0 + 59_999;
    const almost = await get(emu, incrementalAt(0));
    expect(almost.status).toBe(429);
    expect(almost.headers.get('retry-after')).toBe('1');
    clock += Number(almost.headers.get('retry-after')) * 1000;
    expect((await get(emu, incrementalAt(0))).status).toBe(200);

    // now the oldest call in the window is the one at t0 + 10 s: it leaves at t0 + 70 s
    const issuedAt = clock;
    const next = await get(emu, cursorAt(0));
    expect(next.status).toBe(429);
    expect(next.headers.get('retry-after')).toBe('10');
    clock = t0 + 69_999;
    expect((await get(emu, cursorAt(0))).status).toBe(429);
    clock = issuedAt + 10_000;
    expect((await get(emu, cursorAt(0))).status).toBe(200);

    const stats = emu.stats();
    expect(stats.byEndpoint).toEqual({ export: 1, sample: 0, incremental: 5, cursor: 9 });
    expect(stats.byStatus).toEqual({ '200': 5, '400': 3, '401': 1, '429': 6 });
    // calls that came before an issued Retry-After expired, counted per family (the export call is not one)
    expect(stats.callsBeforeRetryAfter).toBe(4);
    expect(stats.log.filter((e) => e.status === 429).every((e) => e.endpoint !== 'export')).toBe(true);

    emu.configure({ incrementalRequestsPerMinute: 0 });
    for (let i = 0; i < 20; i++) expect((await get(emu, cursorAt(0, '&per_page=1'))).status).toBe(200);
  });

  test('the default is 10 calls a minute', async () => {
    const emu = await startEmulator({ port: 0, ticketCount: 50 });
    started.push(emu);
    expect(emu.options.incrementalRequestsPerMinute).toBe(10);
    for (let i = 0; i < 10; i++) expect((await get(emu, i % 2 ? cursorAt(0) : incrementalAt(0))).status).toBe(200);
    const limited = await get(emu, incrementalAt(0));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
  });
});

describe('page size limit', () => {
  test('a page above maxPageBytes gets 504 text/plain; a smaller per_page succeeds; 504 costs no call', async () => {
    let clock = BASE_CLOCK;
    const emu = await emulator({
      ticketCount: 1500,
      maxPageBytes: 500_000,
      incrementalRequestsPerMinute: 2,
      now: () => clock,
    });
    for (const path of [incrementalAt(0), cursorAt(0), cursorAt(0, '&per_page=500')]) {
      const reply = await get(emu, path);
      expect(reply.status).toBe(504);
      expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(reply.text).toBe('upstream request timeout');
    }
    // halving per_page until the page fits, as a client would
    let perPage = 1000;
    let reply = await get(emu, cursorAt(0, `&per_page=${perPage}`));
    while (reply.status === 504) {
      perPage = Math.floor(perPage / 2);
      reply = await get(emu, cursorAt(0, `&per_page=${perPage}`));
    }
    expect(reply.status).toBe(200);
    expect(perPage).toBe(125);
    expect(Buffer.byteLength(reply.text)).toBeLessThanOrEqual(500_000);
    expect(reply.json<CursorTicketsPage>().tickets).toHaveLength(125);
    expect((await get(emu, incrementalAt(0, '&per_page=100'))).status).toBe(200);
    // two accepted calls: the third one is over the limit, after six 504s
    expect((await get(emu, incrementalAt(0, '&per_page=100'))).status).toBe(429);

    clock += 60_000;
    emu.configure({ maxPageBytes: 0 });
    expect((await timePage(emu, incrementalAt(0))).count).toBe(1000);
    expect(emu.stats().byStatus).toEqual({ '504': 6, '200': 3, '429': 1 });
  });
});

describe('bursts at one timestamp', () => {
  test('1200 tickets at one second: time-based is stuck on a full page; cursor pages through all of them', async () => {
    const emu = await emulator({ ticketCount: 200, bursts: [{ size: 1200 }] });
    const ts = emu.options.bursts[0].timestamp;
    const atTs = emu.truthFull().filter((t) => t.generated_timestamp === ts);
    expect(atTs).toHaveLength(1200);

    const page = await timePage(emu, incrementalAt(ts));
    expect(page.count).toBe(1000);
    expect(page.end_time).toBe(ts);
    expect(page.end_of_stream).toBe(false);
    expect(page.next_page).toBe(`${emu.url}${INCREMENTAL_PATH}?start_time=${ts}&per_page=1000`);
    expect(page.tickets.every((t) => t.generated_timestamp === ts)).toBe(true);
    expect((await timePage(emu, page.next_page)).tickets).toEqual(page.tickets);

    const first = await cursorPage(emu, cursorAt(ts));
    expect(first.tickets).toEqual(page.tickets);
    const { tickets, pages } = await walkCursor(emu, ts);
    expect(pages).toBe(2);
    expect(new Set(tickets.map((t) => t.id)).size).toBe(tickets.length);
    expect(tickets.filter((t) => t.generated_timestamp === ts)).toEqual(atTs);
    expect(tickets).toEqual([...emu.truthFull()].sort(byTimeThenId).filter((t) => t.generated_timestamp >= ts));

    const small = await walkCursor(emu, ts, '&per_page=100');
    expect(small.tickets).toEqual(tickets);
    expect(small.pages).toBe(Math.ceil(tickets.length / 100));
  });
});

describe('full ticket object', () => {
  test('is 1-4 KB: every ticket at least 1 KB, the mean about 3 KB; with a shorter description all under 4 KB', async () => {
    const emu = await emulator({ ticketCount: 3000 });
    const full = emu.truthFull();
    const sizes = full.map((t) => Buffer.byteLength(JSON.stringify(t)));
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const over4k = sizes.filter((s) => s > 4096).length;
    console.log(
      `full ticket JSON: min ${Math.min(...sizes)} B, mean ${Math.round(mean)} B, max ${Math.max(...sizes)} B, ` +
        `${((100 * over4k) / sizes.length).toFixed(1)}% above 4096 B (descriptionBytes [600, 3000])`,
    );
    expect(emu.options.descriptionBytes).toEqual([600, 3000]);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1024);
    expect(mean).toBeGreaterThan(2500);
    expect(mean).toBeLessThan(3500);
    // the other fields add 1.0-1.5 KB to the description
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3000 + 1536);
    expect(over4k / sizes.length).toBeLessThan(0.1);
    for (const ticket of full) {
      expect(ticket.description.length).toBeGreaterThanOrEqual(600);
      expect(ticket.description.length).toBeLessThanOrEqual(3000);
      expect(Buffer.byteLength(ticket.description)).toBe(ticket.description.length);
    }
    for (const ticket of full.slice(0, 300)) expectFullTicket(ticket, emu.url);

    const shorter = await emulator({ ticketCount: 3000, descriptionBytes: [600, 2600] });
    const shorterSizes = shorter.truthFull().map((t) => Buffer.byteLength(JSON.stringify(t)));
    expect(Math.min(...shorterSizes)).toBeGreaterThanOrEqual(1024);
    expect(Math.max(...shorterSizes)).toBeLessThanOrEqual(4096);

    const tiny = await emulator({ ticketCount: 100, descriptionBytes: [40, 40] });
    expect(new Set(tiny.truthFull().map((t) => t.description.length))).toEqual(new Set([40]));
    await expect(emulator({ descriptionBytes: [10, 5] })).rejects.toThrow(/descriptionBytes/);
  });

  test('flattened and full representations agree for every ticket after mutations', async () => {
    let clock = BASE_CLOCK;
    const emu = await emulator({ ticketCount: 400, seed: 5, now: () => clock });
    const before = new Map(emu.truthFull().map((t) => [t.id, t]));
    const kinds = new Set<string>();
    for (let i = 0; i < 20; i++) {
      clock += 1000 * (i % 3);
      for (const record of emu.mutate(25)) kinds.add(record.kind);
    }
    expect([...kinds].sort()).toEqual(['agentUpdate', 'create', 'delete', 'systemUpdate']);
    clock += 120_000;

    const rows = emu.truth();
    const full = emu.truthFull();
    expect(full.map((t) => t.id)).toEqual(rows.map((r) => r.id));
    let changed = 0;
    for (const [i, row] of rows.entries()) {
      const ticket = full[i];
      expect(ticket.status).toBe(row.status.toLowerCase());
      expect(ticket.updated_at).toBe(row.updated_at);
      expect(ticket.created_at).toBe(row.created_at);
      expect(ticket.generated_timestamp).toBe(row.generated_timestamp);
      expect(ticket.priority).toBe(row.priority === null ? null : String(row.priority).toLowerCase());
      expect(ticket.type).toBe(row.ticket_type === null ? null : String(row.ticket_type).toLowerCase());
      expect(ticket.subject).toBe(row.subject);
      expect(ticket.tags.join(' ')).toBe(row.current_tags);
      expect(ticket.assignee_id === null).toBe(row.assignee_name === null);
      expect(ticket.custom_fields[2].value).toBe(row.field_360003);
      // what no mutation touches stays as it was
      const old = before.get(ticket.id);
      if (old) {
        expect([ticket.description, ticket.external_id, ticket.requester_id, ticket.via]).toEqual([
          old.description,
          old.external_id,
          old.requester_id,
          old.via,
        ]);
        if (old.generated_timestamp !== ticket.generated_timestamp) changed += 1;
      }
    }
    expect(changed).toBeGreaterThan(100);
    expect(full.filter((t) => t.status === 'deleted').length).toBeGreaterThan(10);

    // both endpoints serve the same latest state
    const { tickets } = await walkCursor(emu, 0);
    expect(sortedById(tickets)).toEqual(full);
    const time = await walkTime(emu, 0);
    expect(sortedById(latestById(time.tickets))).toEqual(full);
  });

  test('the same seed gives the same full tickets; another seed does not', async () => {
    const clock = () => BASE_CLOCK;
    const withoutUrl = (tickets: FullTicket[]) => tickets.map(({ url: _url, ...rest }) => rest);
    const a = await emulator({ seed: 42, ticketCount: 300, now: clock });
    const b = await emulator({ seed: 42, ticketCount: 300, now: clock });
    const c = await emulator({ seed: 43, ticketCount: 300, now: clock });
    expect(withoutUrl(a.truthFull())).toEqual(withoutUrl(b.truthFull()));
    expect(withoutUrl(a.truthFull())).not.toEqual(withoutUrl(c.truthFull()));
  });
});

describe('faults, stats and test endpoints', () => {
  test('faults from the queue apply to the incremental endpoints and cost no call of the limit', async () => {
    const emu = await emulator({ ticketCount: 120, incrementalRequestsPerMinute: 1 });
    emu.injectFaults([
      { kind: 'status', status: 503, retryAfter: '7' },
      { kind: 'rateLimit' },
      { kind: 'truncated' },
      { kind: 'slow', delayMs: 200 },
    ]);
    // auth comes first: a 401 leaves the queue alone
    expect((await get(emu, cursorAt(0), null)).status).toBe(401);
    const unavailable = await get(emu, incrementalAt(0));
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('7');
    const limited = await get(emu, cursorAt(0));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.json()).toEqual(RATE_LIMITED);
    const truncated = await get(emu, cursorAt(0, '&per_page=10'));
    expect(truncated.status).toBe(200);
    expect(truncated.text.startsWith('{"tickets":[{')).toBe(true);
    expect(() => JSON.parse(truncated.text)).toThrow(SyntaxError);
    const startedAt = Date.now();
    const slow = await get(emu, incrementalAt(0));
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190);
    expect(slow.json<IncrementalTicketsPage>().count).toBe(120);
    // the one call a minute is still there
    expect((await get(emu, incrementalAt(0))).status).toBe(200);
    expect((await get(emu, incrementalAt(0))).status).toBe(429);

    const stats = emu.stats();
    expect(stats.log.map((e) => [e.endpoint, e.status, e.fault])).toEqual([
      ['cursor', 401, undefined],
      ['incremental', 503, 'status'],
      ['cursor', 429, 'rateLimit'],
      ['cursor', 200, 'truncated'],
      ['incremental', 200, 'slow'],
      ['incremental', 200, undefined],
      ['incremental', 429, undefined],
    ]);
  });

  test('the log names the endpoint, the start_time or the cursor, and the tickets served', async () => {
    const emu = await emulator({ ticketCount: 120 });
    const first = await cursorPage(emu, cursorAt(0, '&per_page=100'));
    await cursorPage(emu, first.after_url);
    await timePage(emu, incrementalAt(5));
    const stats = emu.stats();
    expect(stats.byEndpoint).toEqual({ export: 0, sample: 0, cursor: 2, incremental: 1 });
    expect(stats.rowsServed).toBe(240);
    expect(stats.log).toEqual([
      { at: expect.any(Number), endpoint: 'cursor', startTime: 0, status: 200, rows: 100 },
      {
        at: expect.any(Number),
        endpoint: 'cursor',
        startTime: null,
        cursor: first.after_cursor,
        status: 200,
        rows: 20,
      },
      { at: expect.any(Number), endpoint: 'incremental', startTime: 5, status: 200, rows: 120 },
    ]);
  });

  test('GET /__emulator/truth?format=full and POST /__emulator/config with the incremental options', async () => {
    const emu = await emulator({ ticketCount: 60 });
    const send = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${emu.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect((await send('GET', '/__emulator/truth?format=full')).body).toEqual({
      count: 60,
      tickets: emu.truthFull(),
    });
    expect((await send('GET', '/__emulator/truth?format=flat')).body).toEqual({ count: 60, tickets: emu.truth() });
    expect((await send('GET', '/__emulator/truth?format=xml')).status).toBe(400);

    const config = await send('POST', '/__emulator/config', {
      incrementalRequestsPerMinute: 30,
      incrementalMinStartAgeSeconds: 120,
      maxPageBytes: 1_000_000,
    });
    expect(config.body).toEqual({
      windowSeconds: 300,
      sampleWindowSeconds: 0,
      minStartAgeSeconds: 300,
      incrementalRequestsPerMinute: 30,
      incrementalMinStartAgeSeconds: 120,
      maxPageBytes: 1_000_000,
    });
    expect(emu.options).toMatchObject({
      incrementalRequestsPerMinute: 30,
      incrementalMinStartAgeSeconds: 120,
      maxPageBytes: 1_000_000,
    });
    for (const bad of [
      { maxPageBytes: -1 },
      { incrementalRequestsPerMinute: 1.5 },
      { incrementalMinStartAgeSeconds: 'x' },
    ]) {
      const reply = await send('POST', '/__emulator/config', bad);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: 'BadRequest', description: expect.any(String) });
    }
    expect(emu.options.maxPageBytes).toBe(1_000_000);
  });
});
