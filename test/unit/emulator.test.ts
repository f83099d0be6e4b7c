import { setTimeout as sleep } from 'node:timers/promises';
import {
  EXPORT_PATH,
  SAMPLE_PATH,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type TicketRow,
} from '../../src/emulator';

const TOKEN_AUTH = basic('admin@example.com/token:emulator-token');
const PASSWORD_AUTH = basic('admin@example.com:emulator-password');
const STATUSES = ['Open', 'Pending', 'Hold', 'Solved', 'Closed', 'Deleted'];

interface Page {
  results: TicketRow[];
  field_headers: Record<string, string>;
  options: Record<string, unknown>;
  end_time: number | null;
  next_page: string | null;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = Page>(): T;
}

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

const started: Emulator[] = [];

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ port: 0, ticketCount: 300, windowSeconds: 0, ...options });
  started.push(emu);
  return emu;
}

afterAll(async () => {
  await Promise.all(started.map((emu) => emu.close()));
});

async function get(emu: Emulator, path: string, init: { auth?: string | null; signal?: AbortSignal } = {}) {
  const auth = init.auth === undefined ? TOKEN_AUTH : init.auth;
  const res = await fetch(`${emu.url}${path}`, {
    headers: auth === null ? {} : { authorization: auth },
    signal: init.signal,
  });
  const text = await res.text();
  const reply: Reply = { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  return reply;
}

async function send(emu: Emulator, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

const exportAt = (startTime: number | string) => `${EXPORT_PATH}?start_time=${startTime}`;
const sampleAt = (startTime: number | string) => `${SAMPLE_PATH}?start_time=${startTime}`;

function byTimeThenId(a: TicketRow, b: TicketRow): number {
  return a.generated_timestamp - b.generated_timestamp || a.id - b.id;
}

function withoutUrl(rows: TicketRow[]): Array<Record<string, unknown>> {
  return rows.map(({ url: _url, ...rest }) => rest);
}

/** Follows end_time until a short page; returns the latest row seen per id. */
async function walk(emu: Emulator, from = 0): Promise<{ rows: Map<number, TicketRow>; calls: number }> {
  const rows = new Map<number, TicketRow>();
  let start = from;
  for (let calls = 1; calls < 1000; calls++) {
    const reply = await get(emu, exportAt(start));
    expect(reply.status).toBe(200);
    const page = reply.json();
    for (const row of page.results) rows.set(row.id, row);
    if (page.results.length < emu.options.pageSize || page.end_time === null) return { rows, calls };
    expect(page.end_time).toBeGreaterThan(start);
    start = page.end_time;
  }
  throw new Error('walk did not finish');
}

describe('emulator export endpoint', () => {
  let emu: Emulator;
  let nowSeconds: number;

  beforeAll(async () => {
    emu = await emulator({ ticketCount: 2500, seed: 7 });
    nowSeconds = Math.floor(Date.now() / 1000);
  });

  test('accepts an API token or a password and rejects anything else with 401', async () => {
    emu.resetStats();
    expect((await get(emu, exportAt(0))).status).toBe(200);
    expect((await get(emu, exportAt(0), { auth: PASSWORD_AUTH })).status).toBe(200);
    for (const auth of [
      basic('admin@example.com/token:wrong'),
      basic('admin@example.com:wrong'),
      basic('other@example.com/token:emulator-token'),
      'Bearer emulator-token',
      null,
    ]) {
      const reply = await get(emu, exportAt(0), { auth });
      expect(reply.status).toBe(401);
      expect(reply.json<unknown>()).toEqual({ error: "Couldn't authenticate you" });
    }
    const stats = emu.stats();
    expect(stats.calls).toBe(7);
    expect(stats.byStatus).toEqual({ '200': 2, '401': 5 });
    expect(stats.byEndpoint).toEqual({ export: 7, sample: 0 });
  });

  test('serves a full page ordered by (generated_timestamp, id) with end_time and next_page', async () => {
    const reply = await get(emu, exportAt(0));
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const page = reply.json();
    expect(page.results).toHaveLength(1000);
    expect([...page.results].sort(byTimeThenId)).toEqual(page.results);
    const last = page.results[999];
    expect(page.end_time).toBe(last.generated_timestamp);
    expect(page.next_page).toBe(`${emu.url}${EXPORT_PATH}?start_time=${last.generated_timestamp}`);
    expect(page.options).toEqual({ timezone: 'UTC', hour_offset: 0 });

    const expectedFirst = [...emu.truth()].sort(byTimeThenId).slice(0, 1000);
    expect(page.results).toEqual(expectedFirst);

    for (const row of page.results) {
      expect(Object.keys(page.field_headers)).toEqual(Object.keys(row));
      expect(row.url).toBe(`${emu.url}/api/v2/tickets/${row.id}.json`);
      expect(row.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Date.parse(row.updated_at) / 1000).toBeLessThanOrEqual(row.generated_timestamp);
      expect(Date.parse(row.created_at as string)).toBeLessThanOrEqual(Date.parse(row.updated_at));
      expect(STATUSES).toContain(row.status);
      expect(typeof row.current_tags).toBe('string');
    }
    expect(page.field_headers).toMatchObject({ id: 'Id', group_name: 'Group', field_360001: 'Customer tier' });
  });

  test('start_time is inclusive (>=)', async () => {
    const sorted = [...emu.truth()].sort(byTimeThenId);
    const pivot = sorted[1234].generated_timestamp;
    const page = (await get(emu, exportAt(pivot))).json();
    const expected = sorted.filter((row) => row.generated_timestamp >= pivot).slice(0, 1000);
    expect(page.results).toEqual(expected);
    expect(page.results[0].generated_timestamp).toBe(pivot);
  });

  test('walking end_time to end_time reaches every ticket of truth()', async () => {
    const { rows, calls } = await walk(emu);
    expect(calls).toBeGreaterThanOrEqual(3);
    const truth = emu.truth();
    expect(truth).toHaveLength(2500);
    expect(truth.map((row) => row.id)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    expect([...rows.values()].sort((a, b) => a.id - b.id)).toEqual(truth);
  });

  test('seeded data includes tombstones and keeps every generated_timestamp old enough to export', () => {
    const truth = emu.truth();
    expect(truth.some((row) => row.status === 'Deleted')).toBe(true);
    expect(new Set(truth.map((row) => row.status)).size).toBe(6);
    const newest = Math.max(...truth.map((row) => row.generated_timestamp));
    expect(newest).toBeLessThanOrEqual(nowSeconds - 2 * 300 - 1);
    expect(Math.min(...truth.map((row) => row.generated_timestamp))).toBeGreaterThanOrEqual(
      nowSeconds - 30 * 86400 - 5,
    );
  });

  test('an empty page has results [], end_time null and next_page null', async () => {
    const reply = await get(emu, exportAt(Math.floor(Date.now() / 1000) - 300));
    expect(reply.status).toBe(200);
    const page = reply.json();
    expect(page).toEqual({
      results: [],
      field_headers: expect.objectContaining({ id: 'Id' }),
      options: { timezone: 'UTC', hour_offset: 0 },
      end_time: null,
      next_page: null,
    });
  });

  test('the sample endpoint serves at most 50 rows', async () => {
    const page = (await get(emu, sampleAt(0))).json();
    expect(page.results).toHaveLength(50);
    expect(page.results).toEqual([...emu.truth()].sort(byTimeThenId).slice(0, 50));
    expect(page.next_page).toBe(`${emu.url}${SAMPLE_PATH}?start_time=${page.end_time}`);
  });

  test('a too recent start_time gets 422 text/plain', async () => {
    const reply = await get(emu, exportAt(Math.floor(Date.now() / 1000) - 10));
    expect(reply.status).toBe(422);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(reply.text).toBe('Too recent start_time. Use a start_time older than 5 minutes');
    const future = await get(emu, exportAt(Math.floor(Date.now() / 1000) + 3600));
    expect(future.status).toBe(422);
  });

  test.each(['', '?start_time=', '?start_time=abc', '?start_time=-5', '?start_time=1.5', '?start_time=1e3'])(
    'a bad start_time (%s) gets 400',
    async (query) => {
      const reply = await get(emu, `${EXPORT_PATH}${query}`);
      expect(reply.status).toBe(400);
      expect(reply.json<unknown>()).toEqual({
        error: 'InvalidValue',
        description: 'start_time is required and must be an integer',
      });
    },
  );

  test('unknown paths get 404 InvalidEndpoint', async () => {
    for (const path of ['/api/v2/tickets.json', '/api/v2/exports/tickets', '/']) {
      const reply = await get(emu, path);
      expect(reply.status).toBe(404);
      expect(reply.json<unknown>()).toEqual({ error: 'InvalidEndpoint' });
    }
    expect((await send(emu, 'POST', exportAt(0))).status).toBe(404);
  });
});

describe('rate limit window', () => {
  test('a second call inside the window gets 429 with Retry-After, then succeeds after waiting', async () => {
    const emu = await emulator({ windowSeconds: 1 });
    expect((await get(emu, exportAt(0))).status).toBe(200);
    const limited = await get(emu, exportAt(0));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.json<unknown>()).toEqual({
      error: 'APIRateLimitExceeded',
      description: 'Number of allowed API requests per minute exceeded',
    });
    // arrives before the Retry-After just issued has expired
    expect((await get(emu, exportAt(0))).status).toBe(429);
    await sleep(1050);
    expect((await get(emu, exportAt(0))).status).toBe(200);

    const stats = emu.stats();
    expect(stats.byStatus).toEqual({ '200': 2, '429': 2 });
    expect(stats.retryAfterIssued).toBe(2);
    expect(stats.callsBeforeRetryAfter).toBe(1);
    expect(stats.log.map((entry) => entry.status)).toEqual([200, 429, 429, 200]);
    expect(stats.log[1]).toMatchObject({ endpoint: 'export', startTime: 0, rows: 0, retryAfter: '1' });
  });

  test('422 consumes the window, 400 and 401 do not; the sample endpoint has its own window', async () => {
    const emu = await emulator({ windowSeconds: 60, sampleWindowSeconds: 60 });
    expect((await get(emu, exportAt('x'))).status).toBe(400);
    expect((await get(emu, exportAt(0), { auth: null })).status).toBe(401);
    expect((await get(emu, exportAt(Math.floor(Date.now() / 1000)))).status).toBe(422);
    const limited = await get(emu, exportAt(0));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(55);
    expect((await get(emu, sampleAt(0))).status).toBe(200);
    expect((await get(emu, sampleAt(0))).status).toBe(429);
  });

  test('configure() changes the window and the minimum start age at run time', async () => {
    const emu = await emulator({ windowSeconds: 60 });
    expect((await get(emu, exportAt(0))).status).toBe(200);
    expect((await get(emu, exportAt(0))).status).toBe(429);
    emu.configure({ windowSeconds: 0, minStartAgeSeconds: 3600 });
    expect((await get(emu, exportAt(0))).status).toBe(200);
    expect((await get(emu, exportAt(Math.floor(Date.now() / 1000) - 1800))).status).toBe(422);
    expect(() => emu.configure({ windowSeconds: -1 })).toThrow(/windowSeconds/);
  });
});

describe('faults', () => {
  let emu: Emulator;

  beforeEach(async () => {
    emu = await emulator({ ticketCount: 120, windowSeconds: 60 });
  });

  afterEach(async () => {
    await emu.close();
  });

  test('status faults: 503 with Retry-After, default and custom bodies; faulted calls leave the window alone', async () => {
    emu.injectFaults([
      { kind: 'status', status: 503, retryAfter: '7' },
      { kind: 'status', status: 500, count: 2 },
      { kind: 'status', status: 403, body: 'Forbidden, go away' },
    ]);
    const unavailable = await get(emu, exportAt(0));
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('7');
    const error = await get(emu, exportAt(0));
    expect(error.status).toBe(500);
    expect(error.json<unknown>()).toEqual({ error: 'Internal Server Error' });
    expect((await get(emu, exportAt(0))).status).toBe(500);
    const forbidden = await get(emu, exportAt(0));
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(forbidden.text).toBe('Forbidden, go away');
    // the queue is empty and no fault consumed the window
    expect((await get(emu, exportAt(0))).status).toBe(200);
    expect((await get(emu, exportAt(0))).status).toBe(429);

    const stats = emu.stats();
    expect(stats.byStatus).toEqual({ '503': 1, '500': 2, '403': 1, '200': 1, '429': 1 });
    expect(stats.retryAfterIssued).toBe(2);
    // every call after the 503's Retry-After: 7 came too early
    expect(stats.callsBeforeRetryAfter).toBe(5);
    expect(stats.log[0]).toMatchObject({ status: 503, fault: 'status', retryAfter: '7' });
  });

  test('rateLimit faults pass the raw Retry-After through, or none at all', async () => {
    const date = new Date(Date.now() + 3000).toUTCString();
    emu.injectFaults([
      { kind: 'rateLimit', retryAfter: '50, 53' },
      { kind: 'rateLimit', retryAfter: date },
      { kind: 'rateLimit', retryAfter: null },
    ]);
    const listed = await get(emu, exportAt(0));
    expect(listed.status).toBe(429);
    expect(listed.headers.get('retry-after')).toBe('50, 53');
    const dated = await get(emu, exportAt(0));
    expect(dated.headers.get('retry-after')).toBe(date);
    const bare = await get(emu, exportAt(0));
    expect(bare.status).toBe(429);
    expect(bare.headers.has('retry-after')).toBe(false);
    const stats = emu.stats();
    expect(stats.retryAfterIssued).toBe(2);
    expect(stats.callsBeforeRetryAfter).toBe(2);
  });

  test('an unauthenticated call does not consume a fault; clearFaults empties the queue', async () => {
    emu.injectFaults([{ kind: 'status', status: 502 }]);
    expect((await get(emu, exportAt(0), { auth: null })).status).toBe(401);
    expect((await get(emu, exportAt(0))).status).toBe(502);
    emu.injectFaults([{ kind: 'status', status: 502, count: 5 }]);
    emu.clearFaults();
    expect((await get(emu, exportAt(0))).status).toBe(200);
  });

  test('truncated: a 200 JSON page cut in half', async () => {
    emu.injectFaults([{ kind: 'truncated' }]);
    const reply = await get(emu, exportAt(0));
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(reply.text.startsWith('{"results":[{')).toBe(true);
    expect(() => reply.json()).toThrow(SyntaxError);
  });

  test('reset: the connection is dropped without an answer', async () => {
    emu.injectFaults([{ kind: 'reset' }]);
    await expect(get(emu, exportAt(0))).rejects.toThrow();
    expect((await get(emu, exportAt(0))).status).toBe(200);
    expect(emu.stats().byStatus).toEqual({ reset: 1, '200': 1 });
  });

  test('slow: answers after the delay, or notes that the client went away', async () => {
    emu.injectFaults([
      { kind: 'slow', delayMs: 300 },
      { kind: 'slow', delayMs: 300 },
    ]);
    const started = Date.now();
    const reply = await get(emu, exportAt(0));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(reply.status).toBe(200);
    expect(reply.json().results).toHaveLength(120);

    await expect(get(emu, exportAt(0), { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await sleep(400);
    expect(emu.stats().byStatus).toEqual({ '200': 1, aborted: 1 });
    // the slow answers did not consume the window
    expect((await get(emu, exportAt(0))).status).toBe(200);
  });

  test('html200 and body: a 200 with something other than the page', async () => {
    emu.injectFaults([
      { kind: 'html200' },
      { kind: 'body', body: '{"results":"not a list","end_time":"soon"}' },
      { kind: 'body', body: 'id,subject\n1,hi\n', contentType: 'text/csv' },
    ]);
    const html = await get(emu, exportAt(0));
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.text).toContain('<html>');
    const drift = await get(emu, exportAt(0));
    expect(drift.status).toBe(200);
    expect(drift.text).toBe('{"results":"not a list","end_time":"soon"}');
    const csv = await get(emu, exportAt(0));
    expect(csv.headers.get('content-type')).toBe('text/csv');
    expect(csv.text).toBe('id,subject\n1,hi\n');
  });

  test('faults are shared by both endpoints in FIFO order, and bad specs are refused', async () => {
    emu.injectFaults([
      { kind: 'status', status: 504 },
      { kind: 'status', status: 502 },
    ]);
    expect((await get(emu, sampleAt(0))).status).toBe(504);
    expect((await get(emu, exportAt(0))).status).toBe(502);
    expect(() => emu.injectFaults([{ kind: 'nope' } as never])).toThrow(/kind/);
    expect(() => emu.injectFaults([{ kind: 'slow' } as never])).toThrow(/delayMs/);
    expect(() => emu.injectFaults([{ kind: 'reset', count: 0 }])).toThrow(/count/);
  });
});

describe('bursts at one timestamp', () => {
  test('1200 tickets at one second fill a page whose end_time equals start_time', async () => {
    const emu = await emulator({ ticketCount: 200, bursts: [{ size: 1200 }] });
    const timestamp = emu.options.bursts[0].timestamp;
    // 610 s before the emulator started; a second may tick between its start and this line on a loaded machine.
    expect(Math.floor(Date.now() / 1000) - 610 - timestamp).toBeGreaterThanOrEqual(0);
    expect(Math.floor(Date.now() / 1000) - 610 - timestamp).toBeLessThanOrEqual(1);
    const page = (await get(emu, exportAt(timestamp))).json();
    expect(page.results).toHaveLength(1000);
    expect(page.end_time).toBe(timestamp);
    expect(page.results.every((row) => row.generated_timestamp === timestamp)).toBe(true);
    // asking again returns the same page: the trap a client must step past
    expect((await get(emu, exportAt(timestamp))).json().results).toEqual(page.results);
    const after = (await get(emu, exportAt(timestamp + 1))).json();
    expect(after.results.every((row) => row.generated_timestamp > timestamp)).toBe(true);
  });

  test('addBurst() inserts into the index at the given timestamp', async () => {
    const emu = await emulator({ ticketCount: 500 });
    const sorted = [...emu.truth()].sort(byTimeThenId);
    const ts = sorted[100].generated_timestamp;
    expect(emu.addBurst(1100, ts)).toBe(ts);
    const page = (await get(emu, exportAt(ts))).json();
    expect(page.end_time).toBe(ts);
    expect(page.results).toEqual(
      [...emu.truth()]
        .sort(byTimeThenId)
        .filter((r) => r.generated_timestamp >= ts)
        .slice(0, 1000),
    );
    expect(emu.truth()).toHaveLength(1600);
    const newest = emu.truth()[1599];
    expect(newest).toMatchObject({
      id: 1600,
      generated_timestamp: ts,
      updated_at: new Date(ts * 1000).toISOString().replace('.000', ''),
    });
  });
});

describe('mutations', () => {
  const base = Date.UTC(2024, 4, 1, 12, 0, 0);
  let clock = base;
  let emu: Emulator;

  beforeEach(async () => {
    clock = base;
    emu = await emulator({ ticketCount: 400, seed: 3, pageSize: 100, now: () => clock });
  });

  afterEach(async () => {
    await emu.close();
  });

  const seconds = () => Math.floor(clock / 1000);
  const find = (id: number) => emu.truth().find((row) => row.id === id) as TicketRow;

  test('a system update moves only generated_timestamp, and the page from the old cursor shows it', async () => {
    const before = emu.truth();
    const cursor = Math.max(...before.map((row) => row.generated_timestamp));
    clock += 60_000;
    const [record] = emu.mutate(1, 'systemUpdate');
    expect(record).toEqual({ kind: 'systemUpdate', id: expect.any(Number), at: seconds() });
    const after = find(record.id);
    expect(after).toEqual({ ...before[record.id - 1], generated_timestamp: seconds() });

    clock += 600_000;
    const page = (await get(emu, exportAt(cursor + 1))).json();
    expect(page.results).toEqual([after]);
  });

  test('a deletion leaves a tombstone', async () => {
    clock += 60_000;
    const [record] = emu.mutate(1, 'delete');
    const row = find(record.id);
    expect(row).toMatchObject({ status: 'Deleted', generated_timestamp: seconds() });
    expect(Date.parse(row.updated_at) / 1000).toBe(seconds());
    clock += 600_000;
    const page = (await get(emu, exportAt(seconds() - 600))).json();
    expect(page.results).toEqual([row]);
    expect(emu.truth()).toHaveLength(400);
  });

  test('an agent update moves updated_at and generated_timestamp; a new ticket takes the next id', async () => {
    clock += 60_000;
    const [update] = emu.mutate(1, 'agentUpdate');
    const before = emu.truth();
    const updated = find(update.id);
    expect(Date.parse(updated.updated_at) / 1000).toBe(seconds());
    expect(updated.generated_timestamp).toBe(seconds());
    expect(updated.status).not.toBe('Deleted');

    const [created] = emu.mutate(1, 'create');
    expect(created.id).toBe(401);
    const row = find(401);
    expect(row.created_at).toBe(row.updated_at);
    expect(Date.parse(row.created_at as string) / 1000).toBe(seconds());
    expect(emu.truth().slice(0, 400)).toEqual(before);
  });

  test('a random mix keeps the invariants and the index consistent', async () => {
    const kinds = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      clock += 1000 * (i % 3); // several mutations share a second
      for (const record of emu.mutate(25)) kinds.set(record.kind, (kinds.get(record.kind) ?? 0) + 1);
    }
    expect([...kinds.keys()].sort()).toEqual(['agentUpdate', 'create', 'delete', 'systemUpdate']);
    expect(kinds.get('agentUpdate')).toBeGreaterThan(kinds.get('delete') as number);
    clock += 600_000;
    const truth = emu.truth();
    expect(truth.map((row) => row.id)).toEqual(Array.from({ length: truth.length }, (_, i) => i + 1));
    for (const row of truth) expect(Date.parse(row.updated_at) / 1000).toBeLessThanOrEqual(row.generated_timestamp);
    const { rows } = await walk(emu);
    expect([...rows.values()].sort((a, b) => a.id - b.id)).toEqual(truth);
  });

  test('rows with a generated_timestamp after now are not served yet', async () => {
    const future = seconds() + 1000;
    emu.addBurst(3, future);
    const cursor = seconds() - 600;
    expect((await get(emu, exportAt(cursor))).json().results).toEqual([]);
    clock += 1_000_000;
    expect((await get(emu, exportAt(cursor))).json().results.map((row) => row.id)).toEqual([401, 402, 403]);
  });

  test('startMutations() applies mutations on a timer until stopMutations()', async () => {
    const live = await emulator({ ticketCount: 50, mutations: { intervalMs: 20, perTick: 3 } });
    expect(live.options.mutations).toEqual({ intervalMs: 20, perTick: 3 });
    const before = JSON.stringify(live.truth());
    await sleep(150);
    live.stopMutations();
    expect(live.options.mutations).toBeNull();
    const stopped = JSON.stringify(live.truth());
    expect(stopped).not.toBe(before);
    await sleep(80);
    expect(JSON.stringify(live.truth())).toBe(stopped);
    live.startMutations({ intervalMs: 10, perTick: 1 });
    await sleep(60);
    expect(JSON.stringify(live.truth())).not.toBe(stopped);
    await live.close();
  });
});

describe('determinism', () => {
  test('the same seed gives the same tickets; another seed does not', async () => {
    const clock = () => Date.UTC(2024, 0, 15);
    const a = await emulator({ seed: 42, ticketCount: 500, now: clock, bursts: [{ size: 20 }] });
    const b = await emulator({ seed: 42, ticketCount: 500, now: clock, bursts: [{ size: 20 }] });
    const c = await emulator({ seed: 43, ticketCount: 500, now: clock, bursts: [{ size: 20 }] });
    expect(withoutUrl(a.truth())).toEqual(withoutUrl(b.truth()));
    expect(withoutUrl(a.truth())).not.toEqual(withoutUrl(c.truth()));
    expect(a.mutate(30)).toEqual(b.mutate(30));
    expect(withoutUrl(a.truth())).toEqual(withoutUrl(b.truth()));
  });

  test('the seeded range is clamped when rangeSeconds is tiny', async () => {
    const now = Date.UTC(2024, 0, 15);
    const emu = await emulator({ ticketCount: 100, rangeSeconds: 10, now: () => now });
    const expected = now / 1000 - 601;
    expect(new Set(emu.truth().map((row) => row.generated_timestamp))).toEqual(new Set([expected]));
  });
});

describe('test endpoints', () => {
  test('stats, truth, faults, mutations, burst and config over HTTP', async () => {
    const emu = await emulator({ ticketCount: 100 });
    await get(emu, exportAt(0));
    const stats = (await send(emu, 'GET', '/__emulator/stats')).json<{ calls: number; rowsServed: number }>();
    expect(stats).toMatchObject({ calls: 1, rowsServed: 100 });
    expect((await send(emu, 'POST', '/__emulator/stats/reset')).status).toBe(200);
    expect(emu.stats().calls).toBe(0);

    const truth = (await send(emu, 'GET', '/__emulator/truth')).json<{ count: number; tickets: TicketRow[] }>();
    expect(truth.count).toBe(100);
    expect(truth.tickets).toEqual(emu.truth());

    expect((await send(emu, 'POST', '/__emulator/faults', { faults: [{ kind: 'status', status: 500 }] })).status).toBe(
      200,
    );
    expect((await get(emu, exportAt(0))).status).toBe(500);
    await send(emu, 'POST', '/__emulator/faults', { faults: [{ kind: 'status', status: 500 }] });
    expect((await send(emu, 'DELETE', '/__emulator/faults')).status).toBe(200);
    expect((await get(emu, exportAt(0))).status).toBe(200);

    const applied = await send(emu, 'POST', '/__emulator/mutations', { action: 'apply', count: 3, kind: 'create' });
    expect(applied.json<{ applied: Array<{ id: number }> }>().applied.map((r) => r.id)).toEqual([101, 102, 103]);
    expect((await send(emu, 'POST', '/__emulator/mutations', { action: 'start', intervalMs: 1000 })).status).toBe(200);
    expect(emu.options.mutations).toEqual({ intervalMs: 1000, perTick: 1 });
    expect((await send(emu, 'POST', '/__emulator/mutations', { action: 'stop' })).status).toBe(200);
    expect(emu.options.mutations).toBeNull();

    const burst = await send(emu, 'POST', '/__emulator/burst', { size: 5, timestamp: 1_600_000_000 });
    expect(burst.json<unknown>()).toEqual({ timestamp: 1_600_000_000 });
    expect(emu.truth()).toHaveLength(108);

    const config = await send(emu, 'POST', '/__emulator/config', { windowSeconds: 2, minStartAgeSeconds: 60 });
    expect(config.json<unknown>()).toEqual({ windowSeconds: 2, sampleWindowSeconds: 0, minStartAgeSeconds: 60 });
    expect(emu.options.windowSeconds).toBe(2);
  });

  test('bad bodies get 400 with a message', async () => {
    const emu = await emulator({ ticketCount: 10 });
    const cases: Array<[string, unknown]> = [
      ['/__emulator/faults', '{not json'],
      ['/__emulator/faults', { faults: 'nope' }],
      ['/__emulator/faults', { faults: [{ kind: 'status', status: 9000 }] }],
      ['/__emulator/mutations', { action: 'dance' }],
      ['/__emulator/mutations', { action: 'apply', kind: 'explode' }],
      ['/__emulator/burst', { size: -1 }],
      ['/__emulator/config', { windowSeconds: 'soon' }],
      ['/__emulator/config', '[1]'],
    ];
    for (const [path, body] of cases) {
      const reply = await send(emu, 'POST', path, body);
      expect(reply.status).toBe(400);
      expect(reply.json<{ error: string; description: string }>()).toEqual({
        error: 'BadRequest',
        description: expect.any(String),
      });
    }
    expect((await send(emu, 'GET', '/__emulator/nothing')).status).toBe(404);
  });

  test('testEndpoints: false hides them', async () => {
    const emu = await emulator({ ticketCount: 10, testEndpoints: false });
    const reply = await send(emu, 'GET', '/__emulator/stats');
    expect(reply.status).toBe(404);
    expect(reply.json<unknown>()).toEqual({ error: 'InvalidEndpoint' });
  });

  test('custom credentials replace the defaults', async () => {
    const emu = await emulator({
      ticketCount: 10,
      credentials: { email: 'ops@acme.test', apiToken: 't0ken', password: 'pw' },
    });
    expect((await get(emu, exportAt(0))).status).toBe(401);
    expect((await get(emu, exportAt(0), { auth: basic('ops@acme.test/token:t0ken') })).status).toBe(200);
    expect((await get(emu, exportAt(0), { auth: basic('ops@acme.test:pw') })).status).toBe(200);
  });
});

describe('scale', () => {
  test('a 1,000,000-ticket emulator starts and serves a page', async () => {
    const started = Date.now();
    const emu = await emulator({ ticketCount: 1_000_000 });
    const startedIn = Date.now() - started;
    const before = Date.now();
    const page = (await get(emu, exportAt(Math.floor(Date.now() / 1000) - 15 * 86400))).json();
    const pageIn = Date.now() - before;
    expect(page.results).toHaveLength(1000);
    const mutateStart = Date.now();
    emu.mutate(1000);
    const mutateIn = Date.now() - mutateStart;
    console.log(`1,000,000 tickets: start ${startedIn} ms, one page ${pageIn} ms, 1000 mutations ${mutateIn} ms`);
    await emu.close();
  }, 60_000);
});
