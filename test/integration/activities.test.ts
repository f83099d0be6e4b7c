import {
  ApplicationFailure,
  CancelledFailure,
  DefaultFailureConverter,
  defaultPayloadConverter,
  type MetricMeter,
} from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import {
  createActivities,
  isStaged,
  type Activities,
  type FetchPageResult,
  type InlinePage,
} from '../../src/activities';
import { SqliteBlobStore } from '../../src/codec/blob-store';
import { PageStaging } from '../../src/codec/staged-pages';
import {
  DEFAULT_CREDENTIALS,
  DEFAULT_OAUTH_CLIENT,
  startEmulator,
  type Emulator,
  type FaultSpec,
} from '../../src/emulator';
import { PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../../src/shared';
import { SqliteSink } from '../../src/storage/sqlite';
import { ZendeskClient } from '../../src/zendesk/client';

const { email, apiToken, password } = DEFAULT_CREDENTIALS;
const WRONG_TOKEN = 'not-the-emulator-token';
const SECRETS = [
  apiToken,
  password,
  WRONG_TOKEN,
  Buffer.from(`${email}/token:${apiToken}`).toString('base64'),
  Buffer.from(`${email}:${password}`).toString('base64'),
  Buffer.from(`${email}/token:${WRONG_TOKEN}`).toString('base64'),
];

let emulator: Emulator;
let sink: SqliteSink;
let dir: string;
let account: string;
let activities: Activities;
let staging: PageStaging;
let blobStore: SqliteBlobStore;
let env: MockActivityEnvironment;
const logs: LogEntry[] = [];
// Every failure any test saw, checked for credentials at the end.
const failures: unknown[] = [];

function activitiesWith(zendesk: ZendeskClient): Activities {
  return createActivities({ zendesk: new Map([[account, zendesk]]), sink, staging });
}

function client(overrides: Partial<ConstructorParameters<typeof ZendeskClient>[0]> = {}): ZendeskClient {
  return new ZendeskClient({
    baseUrl: emulator.url,
    auth: { mode: 'api_token', email, apiToken },
    timeoutMs: 1000,
    ...overrides,
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-activities-'));
  emulator = await startEmulator({ ticketCount: 1200, windowSeconds: 0 });
  account = new URL(emulator.url).host;
  sink = new SqliteSink(path.join(dir, 'tickets.db'));
  blobStore = new SqliteBlobStore(path.join(dir, 'tickets.db'));
  staging = new PageStaging(blobStore);
  activities = activitiesWith(client());
  env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('TRACE', (entry) => logs.push(entry)) });
});

afterAll(async () => {
  await emulator?.close();
  await sink?.close();
  await blobStore?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => emulator.clearFaults());

async function fetchPage(startTime = 0, acts = activities): Promise<FetchPageResult> {
  return env.run(acts.fetchPage, { account, startTime });
}

async function fetchWithFault(fault: FaultSpec, startTime = 0): Promise<FetchPageResult> {
  emulator.injectFaults([fault]);
  return fetchPage(startTime);
}

async function failureOf(run: () => Promise<unknown>): Promise<ApplicationFailure> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  if (caught === undefined) throw new Error('expected the activity to fail');
  failures.push(caught);
  expect(caught).toBeInstanceOf(ApplicationFailure);
  return caught as ApplicationFailure;
}

function expectTransient(failure: ApplicationFailure, message: RegExp): void {
  expect(failure.type).toBe(TRANSIENT_FAILURE);
  expect(failure.nonRetryable).toBe(false);
  expect(failure.message).toMatch(message);
}

function expectPermanent(failure: ApplicationFailure, message: RegExp): void {
  expect(failure.type).toBe(PERMANENT_FAILURE);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(message);
}

/** The retry delay as the server receives it, in seconds. */
function wireRetryDelaySeconds(failure: ApplicationFailure): number | undefined {
  const proto = new DefaultFailureConverter().errorToFailure(failure, defaultPayloadConverter);
  const delay = proto.applicationFailureInfo?.nextRetryDelay;
  return delay ? Number(delay.seconds) + (delay.nanos ?? 0) / 1e9 : undefined;
}

type Page = Extract<FetchPageResult, { kind: 'page' }> & InlinePage;

/** The page with its content at hand: inline as it came, or read back from the blob store where it was staged. */
async function asPage(result: FetchPageResult | Promise<FetchPageResult>): Promise<Page> {
  const page = await result;
  if (page.kind !== 'page') throw new Error(`expected a page, got ${JSON.stringify(page)}`);
  const content = isStaged(page.content) ? ((await staging.load(page.content.staged)) as InlinePage) : page.content;
  return { ...page, ...content };
}

describe('fetchPage', () => {
  test('returns a page with rows, endTime, field headers and requestedAt', async () => {
    const before = Date.now();
    const page = await asPage(fetchPage(0));
    const after = Date.now();
    expect(page.requestedAt).toBeGreaterThanOrEqual(before);
    expect(page.requestedAt).toBeLessThanOrEqual(after);
    expect(page.rows).toHaveLength(1000);
    expect(page.endTime).toBe(page.rows[999].generated_timestamp);
    expect(page.fieldHeaders).toMatchObject({ id: expect.any(String), generated_timestamp: 'Generated timestamp' });
    expect(page.foreignNextPage).toBeUndefined();
    // Rows are passed through as received: all of their keys, in the emulator's order.
    const truth = new Map(emulator.truth().map((t) => [t.id, t]));
    for (const row of page.rows.slice(0, 50)) expect(JSON.stringify(row)).toBe(JSON.stringify(truth.get(row.id)));
  });

  test('the next page starts at endTime and reaches the last tickets', async () => {
    const first = await asPage(fetchPage(0));
    const second = await asPage(fetchPage(first.endTime!));
    expect(second.rows.length).toBeGreaterThan(200);
    expect(second.rows.length).toBeLessThan(1000);
    const ids = new Set([...first.rows, ...second.rows].map((r) => r.id));
    expect(ids.size).toBe(emulator.truth().length);
  });

  test('an empty page has endTime null', async () => {
    const page = await asPage(fetchPage(Math.floor(Date.now() / 1000) - 301));
    expect(page.rows).toEqual([]);
    expect(page.endTime).toBeNull();
  });

  test('a start_time younger than the API allows → too_recent', async () => {
    const result = await fetchPage(Math.floor(Date.now() / 1000) - 10);
    expect(result).toMatchObject({ kind: 'too_recent', message: expect.stringMatching(/Too recent start_time/) });
    expect(result.requestedAt).toBeGreaterThan(0);
  });

  test('an account this worker has no credentials for → non-retryable ZendeskPermanentError, no call made', async () => {
    const calls = emulator.stats().calls;
    const failure = await failureOf(() => env.run(activities.fetchPage, { account: 'acme', startTime: 0 }));
    expectPermanent(failure, /holds no credentials for "acme" \(it has ".*"\)/);
    expect(emulator.stats().calls).toBe(calls);
  });

  test('wrong credentials → non-retryable 401', async () => {
    const acts = activitiesWith(client({ auth: { mode: 'api_token', email, apiToken: WRONG_TOKEN } }));
    const failure = await failureOf(() => fetchPage(0, acts));
    expectPermanent(failure, /401 Unauthorized/);
  });

  describe('status faults', () => {
    test.each([500, 502, 503, 504])(
      '%i → retryable ZendeskTransientError, retried after the policy’s first backoff (2 s)',
      async (status) => {
        const failure = await failureOf(() => fetchWithFault({ kind: 'status', status }));
        expectTransient(failure, new RegExp(`: ${status} `));
        expect(failure.nonRetryable).toBe(false);
        expect(failure.nextRetryDelay).toBe(2000);
        expect(wireRetryDelaySeconds(failure)).toBe(2);
      },
    );

    test('503 with Retry-After 7 → nextRetryDelay of 7 s', async () => {
      const failure = await failureOf(() => fetchWithFault({ kind: 'status', status: 503, retryAfter: '7' }));
      expectTransient(failure, /: 503 /);
      expect(failure.nextRetryDelay).toBe(7000);
      expect(wireRetryDelaySeconds(failure)).toBe(7);
    });

    test('a retry is a call: never sooner than the pacing allows (minGapMs), and past 30 s the workflow waits', async () => {
      emulator.injectFaults([{ kind: 'status', status: 500 }]);
      const paced = await failureOf(() => env.run(activities.fetchPage, { account, startTime: 0, minGapMs: 6000 }));
      expect(paced.nonRetryable).toBe(false);
      expect(Number(paced.nextRetryDelay)).toBeGreaterThan(5000);
      expect(Number(paced.nextRetryDelay)).toBeLessThanOrEqual(6000);

      emulator.injectFaults([{ kind: 'status', status: 500 }]);
      const long = await failureOf(() => env.run(activities.fetchPage, { account, startTime: 0, minGapMs: 300_000 }));
      // The type stays transient: the workflow backs off (durably, interruptibly) instead of blocking.
      expect({ type: long.type, nonRetryable: long.nonRetryable }).toEqual({
        type: TRANSIENT_FAILURE,
        nonRetryable: true,
      });
      expect(long.message).toMatch(/: 500 /);
      expect(long.details?.[0]).toEqual({ retryNotBefore: expect.any(Number) });
    });

    test('503 with an HTML body: the message quotes a short, flattened snippet', async () => {
      const body = `<html>\n<body>${'Down for maintenance. '.repeat(30)}</body>\n</html>`;
      const failure = await failureOf(() => fetchWithFault({ kind: 'status', status: 503, body }));
      expectTransient(failure, /503 <html> <body>Down for maintenance/);
      expect(failure.message).not.toContain('\n');
      expect(failure.message.length).toBeLessThan(400);
    });

    test.each([
      [401, /401 Unauthorized/],
      [403, /403 Forbidden/],
      [404, /404 Not Found/],
    ])('%i → non-retryable ZendeskPermanentError', async (status, message) => {
      const failure = await failureOf(() => fetchWithFault({ kind: 'status', status }));
      expectPermanent(failure, message);
    });

    test('a redirect is not followed and is permanent', async () => {
      const failure = await failureOf(() => fetchWithFault({ kind: 'status', status: 302, body: '' }));
      expectPermanent(failure, /302 redirect \(not followed/);
    });

    test('422 with the too-recent text → too_recent', async () => {
      const result = await fetchWithFault({
        kind: 'status',
        status: 422,
        body: 'Too recent start_time. Use a start_time older than 5 minutes',
      });
      expect(result.kind).toBe('too_recent');
    });
  });

  describe('rate limits', () => {
    test('Retry-After "50, 53" → rate_limited for 53 s', async () => {
      const result = await fetchWithFault({ kind: 'rateLimit', retryAfter: '50, 53' });
      expect(result).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 53 });
    });

    test('Retry-After as an HTTP date → the seconds until then', async () => {
      const retryAfter = new Date(Date.now() + 120_000).toUTCString();
      const result = await fetchWithFault({ kind: 'rateLimit', retryAfter });
      if (result.kind !== 'rate_limited') throw new Error(`expected rate_limited, got ${result.kind}`);
      expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(118);
      expect(result.retryAfterSeconds).toBeLessThanOrEqual(121);
    });

    test('no Retry-After → rate_limited for 60 s with a note', async () => {
      const result = await fetchWithFault({ kind: 'rateLimit', retryAfter: null });
      expect(result).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 60, note: expect.stringMatching(/no/) });
    });

    test('the emulator window itself → rate_limited with its Retry-After', async () => {
      emulator.configure({ windowSeconds: 30 });
      try {
        // The first call may already fall in the window of an earlier test's call; the second always does.
        await fetchPage(0);
        const result = await fetchPage(0);
        expect(result).toMatchObject({ kind: 'rate_limited' });
        if (result.kind === 'rate_limited') {
          expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(29);
          expect(result.retryAfterSeconds).toBeLessThanOrEqual(30);
        }
      } finally {
        emulator.configure({ windowSeconds: 0 });
      }
    });
  });

  describe('broken answers', () => {
    test('truncated JSON → retryable, unreadable JSON', async () => {
      const failure = await failureOf(() => fetchWithFault({ kind: 'truncated' }));
      expectTransient(failure, /unreadable JSON/);
    });

    test('connection reset → retryable', async () => {
      const failure = await failureOf(() => fetchWithFault({ kind: 'reset' }));
      expectTransient(failure, /connection reset/);
    });

    test('an answer slower than the 1 s timeout → retryable, mentioning the timeout', async () => {
      const started = Date.now();
      const failure = await failureOf(() => fetchWithFault({ kind: 'slow', delayMs: 2500 }));
      expectTransient(failure, /timeout/);
      expect(failure.message).toContain('1000 ms');
      expect(Date.now() - started).toBeLessThan(2400);
    });

    test("the activity's cancellation aborts a slow request at once", async () => {
      emulator.injectFaults([{ kind: 'slow', delayMs: 20_000 }]);
      // Its own environment: once cancelled, an environment cancels every later run too.
      const cancellable = new MockActivityEnvironment(undefined, {
        logger: new DefaultLogger('TRACE', (entry) => logs.push(entry)),
      });
      const slow = activitiesWith(client({ timeoutMs: 60_000 }));
      const started = Date.now();
      const run = cancellable.run(slow.fetchPage, { account, startTime: 0 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      setTimeout(() => cancellable.cancel(), 300);
      const error = await run;
      expect(error).toBeInstanceOf(CancelledFailure);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    test('a slow answer within the timeout is fine', async () => {
      expect((await asPage(fetchWithFault({ kind: 'slow', delayMs: 200 }))).rows).toHaveLength(1000);
    });

    test('an HTML page with status 200 → retryable, expected JSON', async () => {
      const failure = await failureOf(() => fetchWithFault({ kind: 'html200' }));
      expectTransient(failure, /expected JSON, got "text\/html/);
    });

    test('a JSON page served with a wrong content type → retryable, expected JSON', async () => {
      const body = JSON.stringify({ results: [], end_time: null, next_page: null });
      const failure = await failureOf(() => fetchWithFault({ kind: 'body', body, contentType: 'text/plain' }));
      expectTransient(failure, /expected JSON, got "text\/plain/);
    });

    test.each([
      ['missing results', { end_time: 5, next_page: null }, /results: Required/],
      ['results not an array', { results: { id: 1 }, end_time: 5 }, /results: Expected array/],
      ['a row id as a string', { results: [{ id: '1', generated_timestamp: 5 }] }, /results\[0\]\.id: /],
    ])('a body with %s → retryable, naming the field', async (_label, body, message) => {
      const failure = await failureOf(() => fetchWithFault({ kind: 'body', body: JSON.stringify(body) }));
      expectTransient(failure, /does not match the export format/);
      expect(failure.message).toMatch(message);
    });

    test('a next_page on another origin is reported, not followed', async () => {
      const foreign = 'https://attacker.example/api/v2/exports/tickets.json?start_time=1700000100';
      const body = JSON.stringify({
        results: [{ id: 42, generated_timestamp: 1_700_000_100, status: 'Open', extra: 'kept' }],
        end_time: 1_700_000_100,
        next_page: foreign,
        field_headers: { id: 'Id' },
      });
      const calls = emulator.stats().calls;
      const page = await asPage(fetchWithFault({ kind: 'body', body }));
      expect(page.foreignNextPage).toBe(foreign);
      expect(page.rows).toEqual([{ id: 42, generated_timestamp: 1_700_000_100, status: 'Open', extra: 'kept' }]);
      expect(page.endTime).toBe(1_700_000_100);
      expect(page.fieldHeaders).toEqual({ id: 'Id' });
      expect(emulator.stats().calls).toBe(calls + 1);
    });

    test('a next_page on our own origin is not reported', async () => {
      const body = JSON.stringify({
        results: [{ id: 1, generated_timestamp: 10 }],
        end_time: 10,
        next_page: `${emulator.url}/api/v2/exports/tickets.json?start_time=10`,
      });
      expect((await asPage(fetchWithFault({ kind: 'body', body }))).foreignNextPage).toBeUndefined();
    });

    test('each fault is used once: the next call is normal again', async () => {
      await failureOf(() => fetchWithFault({ kind: 'status', status: 500 }));
      expect((await asPage(fetchPage(0))).rows).toHaveLength(1000);
    });
  });
});

describe('fetchPage with OAuth client credentials', () => {
  test('a token renewal that fails while the token still serves: the page is fetched, the failure logged', async () => {
    const oauth = await startEmulator({
      ticketCount: 50,
      windowSeconds: 0,
      oauthClients: [DEFAULT_OAUTH_CLIENT],
      oauthTokenTtlSeconds: 5,
    });
    try {
      const auth = {
        mode: 'oauth_client_credentials' as const,
        ...DEFAULT_OAUTH_CLIENT,
        scope: 'read',
        tokenTtlSeconds: 3600,
      };
      const acts = activitiesWith(client({ baseUrl: oauth.url, auth }));
      expect((await asPage(fetchPage(0, acts))).rows).toHaveLength(50);
      const obtained = Date.now();
      // A 5 s token is renewed 1 s before it expires; when that fails, it serves on until 0.25 s before.
      await new Promise((resolve) => setTimeout(resolve, obtained + 4150 - Date.now()));
      oauth.injectTokenFaults([{ kind: 'status', status: 503 }]);
      const logged = logs.length;
      expect((await asPage(fetchPage(0, acts))).rows).toHaveLength(50);
      expect(oauth.stats()).toMatchObject({ tokenGrants: 1, tokenErrors: 1, calls: 2, unauthenticatedCalls: 0 });
      expect(logs.slice(logged)).toContainEqual(
        expect.objectContaining({
          level: 'WARN',
          message: 'OAuth token renewal failed; the current token serves until it expires',
          meta: expect.objectContaining({ account, failure: expect.stringMatching(/oauth\/tokens .*: 503/) }),
        }),
      );
    } finally {
      await oauth.close();
    }
  });
});

describe('persist and loadCheckpoint', () => {
  test('loadCheckpoint is null before anything was persisted', async () => {
    expect(await env.run(activities.loadCheckpoint, 'never-persisted.example:1')).toBeNull();
  });

  test('persist stores the rows and the checkpoint; loadCheckpoint returns it', async () => {
    const persistAccount = `${account}-persist`;
    const page = await asPage(fetchPage(0));
    const result = await env.run(activities.persist, {
      account: persistAccount,
      content: page.content,
      cursor: page.endTime!,
    });
    expect(result).toEqual({
      written: 1000,
      ignoredOlder: 0,
      rejected: 0,
      rejectedSideloads: 0,
      completedAt: expect.any(Number),
    });
    expect(Math.abs((result as { completedAt: number }).completedAt - Date.now())).toBeLessThan(5000);
    expect(await sink.countTickets(persistAccount)).toBe(1000);
    expect(await sink.readFieldHeaders(persistAccount)).toEqual(page.fieldHeaders);
    expect(await env.run(activities.loadCheckpoint, persistAccount)).toEqual({
      cursor: page.endTime,
      api: null,
      afterCursor: null,
    });

    const stored = await sink.readTickets(persistAccount);
    const byId = new Map(page.rows.map((r) => [r.id, r]));
    for (const ticket of stored) expect(ticket.data).toBe(JSON.stringify(byId.get(ticket.id)));

    // Replaying the same page (at-least-once delivery) changes nothing but is not counted as older.
    const again = await env.run(activities.persist, {
      account: persistAccount,
      content: page.content,
      cursor: page.endTime!,
    });
    expect(again).toEqual({
      written: 1000,
      ignoredOlder: 0,
      rejected: 0,
      rejectedSideloads: 0,
      completedAt: expect.any(Number),
    });
    expect(await sink.countTickets(persistAccount)).toBe(1000);
  });

  test('persist stores the sideloads, passes set-aside tickets through and counts them in a metric', async () => {
    const counted: { name: string; value: number; tags: Record<string, unknown> }[] = [];
    const metricMeter = {
      createCounter: (name: string) => ({ add: (value: number, tags = {}) => counted.push({ name, value, tags }) }),
    } as unknown as MetricMeter;
    const persistAccount = `${account}-rejected`;
    const result = await new MockActivityEnvironment(undefined, { metricMeter }).run(activities.persist, {
      account: persistAccount,
      content: {
        rows: [
          { id: 1, generated_timestamp: 1 },
          { id: 2 ** 63, generated_timestamp: 1 },
        ],
        fieldHeaders: {},
        sideloads: { users: [{ id: 5, updated_at: '2024-01-01T00:00:00Z' }], groups: [{ id: 'not a number' }] },
      },
      cursor: 1,
    });
    expect(result).toEqual({
      written: 1,
      ignoredOlder: 0,
      rejected: 1,
      rejectedSideloads: 1,
      completedAt: expect.any(Number),
    });
    expect(counted).toContainEqual({
      name: 'zendesk_export_rows_rejected_total',
      value: 1,
      tags: expect.objectContaining({ account: persistAccount, stream: 'tickets' }),
    });
    expect((await sink.readRejected(persistAccount)).map((r) => r.ticketId)).toEqual([String(2 ** 63)]);
    expect((await sink.readSideloads(persistAccount, 'users')).map((u) => u.id)).toEqual(['5']);
  });
});

describe('credentials', () => {
  test('no failure or log line carries the API token, the password or the Basic header value', () => {
    expect(failures.length).toBeGreaterThanOrEqual(20);
    const everything = [
      ...failures.map((f) => inspect(f, { depth: 6 })),
      ...failures.map((f) => JSON.stringify(new DefaultFailureConverter().errorToFailure(f, defaultPayloadConverter))),
      ...logs.map((entry) => inspect(entry, { depth: 6 })),
    ].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });
});
