import {
  CURSOR_PATH,
  DEFAULT_CREDENTIALS,
  DEFAULT_OAUTH_CLIENT,
  EmulatorLogEntry,
  FaultSpec,
} from '../../src/emulator';
import { ExportApi } from '../../src/shared';
import { Checkpoint } from '../../src/storage/sink';
import { ExportStatus, resumeSignal } from '../../src/workflows/messages';
import { fetchRunHistories } from '../helpers/histories';
import { leaksIn, leaksOf } from '../helpers/secret-forms';
import {
  exportCaseOptions,
  Harness,
  HarnessOptions,
  sleepMs,
  timerDurations,
  waitFor,
  withHarness,
} from '../helpers/harness';
import { body, headOfStream, inStreamOrder, pageBody, Row, rowsKey } from '../helpers/fault-pages';

/*
 * The fault matrix, end to end: every case runs the real workflow (an in-process worker) against the emulator and
 * checks what a user of the export cares about:
 *   - while the fault is active, nothing of the bad answer is stored and the cursor (status and checkpoint) stays;
 *   - the visible signal: the failed attempt's error on the pending fetchPage activity (what the Web UI shows while
 *     the activity retries), status.lastError once the retries are exhausted, a warning, or the 429 count;
 *   - the waits: the activity's retry (2 s, or a 503's Retry-After), the workflow's durable Retry-After timer;
 *   - the end: the sink equals the emulator's truth, nothing lost.
 * Most cases put the fault on the second call (behind one normal answer), so page 1 (1,000 of 1,200 tickets) is
 * stored and "unchanged" means something. The cases mostly wait on timers, so they run concurrently (test.concurrent):
 * each one has its own emulator, worker, task queue, workflow and SQLite sink.
 */

const HOUR_MS = 3_600_000;
const TICKETS = 1200;
const options = (api: ExportApi, extra: Partial<HarnessOptions> = {}) => exportCaseOptions(api, TICKETS, extra);
const PAGE = 1000;
/** A normal answer, as a fault: the `slow` kind with no delay. The fault queued behind it hits the second call. */
const NORMAL_ANSWER: FaultSpec = { kind: 'slow', delayMs: 0 };

/**
 * Page 2's first tickets with an end_time near now: accepted, this page would move a time-based cursor past every
 * other ticket of page 2 and lose them. Bad answers carry it so that a client that swallowed them could not pass.
 */
function poisonPage(api: ExportApi, rows: Row[]) {
  return pageBody(api, rows.slice(PAGE, PAGE + 3), Math.floor(Date.now() / 1000) - 5);
}

interface Snapshot {
  status: ExportStatus;
  stored: number;
  checkpoint: Checkpoint | undefined;
}

/** Status, sink and checkpoint at one moment with no call to Zendesk in between. */
async function snapshot(h: Harness): Promise<Snapshot> {
  const callsBefore = h.emulator.stats().calls;
  const [status, stored, checkpoint] = await Promise.all([
    h.status(),
    h.sink.countTickets(h.account),
    h.sink.readFullCheckpoint(h.account),
  ]);
  if (h.emulator.stats().calls !== callsBefore) throw new Error('a call reached Zendesk while the snapshot was taken');
  return { status, stored, checkpoint };
}

/** What page 1 left behind; while a fault is active it must stay exactly this. */
function progress({ status, stored, checkpoint }: Snapshot) {
  return {
    phase: status.phase,
    pages: status.pages,
    ticketsStored: status.ticketsStored,
    stored,
    cursor: status.cursor,
    checkpoint: checkpoint?.cursor,
    afterCursor: status.afterCursor,
    checkpointAfterCursor: checkpoint?.afterCursor ?? null,
    lastError: status.lastError,
  };
}

function firstPageOnly(phase: unknown, firstPageEnd: number, afterCursor: string | null, lastError: unknown = null) {
  return {
    phase,
    pages: 1,
    ticketsStored: PAGE,
    stored: PAGE,
    cursor: firstPageEnd,
    checkpoint: firstPageEnd,
    afterCursor,
    checkpointAfterCursor: afterCursor,
    lastError,
  };
}

/** The fetchPage activity after a failed attempt, waiting for its retry: what the Web UI's pending activity shows. */
async function failedFetchAttempt(h: Harness): Promise<{ attempt: number; message: string }> {
  return waitFor(
    'a failed fetchPage attempt waiting for its retry',
    async () => {
      const { raw } = await h.handle.describe();
      const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'fetchPage');
      const attempt = pending?.attempt ?? 0;
      const message = pending?.lastFailure?.message;
      return attempt >= 2 && message ? { attempt, message } : undefined;
    },
    20_000,
    100,
  );
}

/** The duration of the workflow's first Retry-After timer (pacing timers here are all shorter than 1 s). */
async function firstRetryAfterTimer(h: Harness): Promise<number> {
  return waitFor(
    'a Retry-After timer',
    async () => (await timerDurations(h.handle)).find((t) => t >= 1000),
    30_000,
    100,
  );
}

/** The same request again: same start_time, same cursor. */
function request(entry: EmulatorLogEntry | undefined) {
  return { startTime: entry?.startTime, cursor: entry?.cursor };
}

/** '' once the sink holds exactly these rows, byte for byte as the export received them. */
async function differencesFrom(h: Harness, expected: Row[]): Promise<string> {
  const stored = new Map((await h.sink.readTickets(h.account)).map((t) => [t.id, t.data]));
  const problems: string[] = [];
  for (const row of expected) {
    if (stored.get(row.id) !== JSON.stringify(row))
      problems.push(`ticket ${row.id} ${stored.has(row.id) ? 'differs' : 'missing'}`);
    stored.delete(row.id);
  }
  for (const id of stored.keys()) problems.push(`ticket ${id} not expected`);
  return problems.slice(0, 5).join('; ');
}

// ---------------------------------------------------------------------------------------------------------------

describe.each(['exports', 'cursor'] as const)('429 storm (%s endpoint)', (api) => {
  test.concurrent('10 consecutive 429s with Retry-After 1, every one obeyed, then the export completes', () =>
    withHarness(options(api), async (h) => {
      const rows = inStreamOrder(h, api);
      const firstPageEnd = rows[PAGE - 1].generated_timestamp;
      h.emulator.injectFaults([NORMAL_ANSWER, { kind: 'rateLimit', retryAfter: '1', count: 10 }]);
      await h.startWorkflow();

      const during = await waitFor('the middle of the storm', async () => {
        const s = await snapshot(h).catch(() => undefined);
        return s && s.status.rateLimited >= 5 ? s : undefined;
      });
      expect(progress(during)).toEqual(
        firstPageOnly(expect.any(String), firstPageEnd, h.emulator.stats().log[1].cursor ?? null),
      );

      await h.waitForTruth(45_000);
      const { log, byStatus, callsBeforeRetryAfter } = h.emulator.stats();
      expect(byStatus['429']).toBe(10);
      expect(callsBeforeRetryAfter).toBe(0);
      const storm = log.slice(1, 12);
      expect(storm.map((e) => e.status)).toEqual([...Array(10).fill(429), 200]);
      for (let i = 1; i < storm.length; i++) {
        expect(storm[i].at - storm[i - 1].at).toBeGreaterThanOrEqual(1000);
        expect(request(storm[i])).toEqual(request(storm[0]));
      }
      // Ten 1 s sleeps, nothing else of 1 s or more piled up, and no pacing timer after each: one timer covers both
      // waits (a second timer would add the dev server's timer tick, about a second, to every 429).
      const timers = await timerDurations(h.handle);
      expect(timers.filter((t) => t >= 1000)).toEqual(Array(10).fill(1000));
      expect(storm.at(-1)!.at - storm[0].at).toBeLessThan(10 * 1900);
      const status = await h.status();
      expect({ rateLimited: status.rateLimited, lastError: status.lastError, warnings: status.warnings }).toEqual({
        rateLimited: 10,
        lastError: null,
        warnings: [],
      });
    }),
  );
});

interface RetryAfterCase {
  name: string;
  header: () => string | null;
  /** The timer the workflow sleeps; undefined for an HTTP date (checked against the date). */
  sleepMs?: number;
  warning?: RegExp;
  /** Short enough to wait for the end of the export. */
  completes: boolean;
}

const RETRY_AFTER_CASES: RetryAfterCase[] = [
  {
    name: 'missing → 60 s, with a warning',
    header: () => null,
    sleepMs: 60_000,
    warning: /no Retry-After header; waiting 60 s/,
    completes: false,
  },
  { name: '"50, 53" → the longest, 53 s', header: () => '50, 53', sleepMs: 53_000, completes: false },
  {
    name: '"2, 5" → the longest, 5 s, then the export completes',
    header: () => '2, 5',
    sleepMs: 5000,
    completes: true,
  },
  {
    name: 'an HTTP date → until that date, then the export completes',
    // Far enough ahead to still be ahead when page 1 is done, on a busy machine.
    header: () => new Date(Date.now() + 8000).toUTCString(),
    completes: true,
  },
  {
    name: 'huge (999999) → capped at 1 h with a warning',
    header: () => '999999',
    sleepMs: HOUR_MS,
    warning: /Retry-After of 999999 s capped at 3600 s/,
    completes: false,
  },
];

describe.each(['exports', 'cursor'] as const)('429 with Retry-After (%s endpoint)', (api) => {
  test.concurrent.each(RETRY_AFTER_CASES)('$name', (c) =>
    withHarness(options(api), async (h) => {
      const rows = inStreamOrder(h, api);
      const firstPageEnd = rows[PAGE - 1].generated_timestamp;
      const header = c.header();
      h.emulator.injectFaults([NORMAL_ANSWER, { kind: 'rateLimit', retryAfter: header }]);
      await h.startWorkflow();

      const slept = await firstRetryAfterTimer(h);
      const during = await snapshot(h);
      const limited = h.emulator.stats().log[1];
      expect({ status: limited.status, retryAfter: limited.retryAfter }).toEqual({
        status: 429,
        retryAfter: header ?? undefined,
      });
      if (c.sleepMs !== undefined) expect(slept).toBe(c.sleepMs);
      else {
        expect(slept % 1000).toBe(0);
        expect(Math.abs(limited.at + slept - Date.parse(header!))).toBeLessThanOrEqual(1000);
      }
      // Sleeping in a durable timer: nothing stored, cursor kept, the 429 counted, the next call shown.
      expect({ ...progress(during), rateLimited: during.status.rateLimited }).toEqual({
        ...firstPageOnly('rate_limited', firstPageEnd, limited.cursor ?? null),
        rateLimited: 1,
      });
      const nextCallIn = Date.parse(during.status.nextCallAt!) - Date.parse(during.status.asOf);
      expect(nextCallIn).toBeLessThanOrEqual(slept);
      expect(nextCallIn).toBeGreaterThan(slept - 3000);
      expect(during.status.warnings).toEqual(c.warning ? [expect.stringMatching(c.warning)] : []);

      if (c.completes) await h.waitForTruth(30_000);
      else {
        const calls = h.emulator.stats().calls;
        await sleepMs(1500);
        expect(h.emulator.stats().calls).toBe(calls);
      }
      expect(h.emulator.stats().callsBeforeRetryAfter).toBe(0);
      expect((await timerDurations(h.handle)).filter((t) => t >= 1000)).toEqual([slept]);
      const end = await h.status();
      expect({ rateLimited: end.rateLimited, lastError: end.lastError }).toEqual({ rateLimited: 1, lastError: null });
    }),
  );
});

// ---------------------------------------------------------------------------------------------------------------

interface BadAnswer {
  name: string;
  fault: (rows: Row[]) => FaultSpec;
  /** The failed attempt's error, as the pending activity shows it. */
  failure: RegExp;
  /** When the activity retries: 2 s after a first failure, or a 503's Retry-After. */
  retryMs?: number;
  zendeskTimeoutMs?: number;
}

/** One bad answer on the second call: retried by the activity, nothing of it stored, the cursor kept. */
async function badAnswerAfterFirstPage(api: ExportApi, c: BadAnswer): Promise<void> {
  // Not the harness's 3 s: a loaded machine can take that long over page 1 (1,000 tickets), whose timeout would then be
  // the failed attempt seen instead of the bad answer's.
  const timeoutMs = c.zendeskTimeoutMs ?? 10_000;
  await withHarness(options(api, { zendeskTimeoutMs: timeoutMs }), async (h) => {
    const rows = inStreamOrder(h, api);
    const firstPageEnd = rows[PAGE - 1].generated_timestamp;
    const fault = c.fault(rows);
    h.emulator.injectFaults([NORMAL_ANSWER, fault]);
    await h.startWorkflow();

    const failed = await failedFetchAttempt(h);
    const during = await snapshot(h);
    expect(failed).toEqual({ attempt: 2, message: expect.stringMatching(c.failure) });

    await h.waitForTruth(30_000);
    const { log, callsBeforeRetryAfter } = h.emulator.stats();
    const [bad, retry] = [log[1], log[2]];
    expect(bad.fault).toBe(fault.kind);
    // The cursor was unchanged while the fault was active, and the retry asked for the same page again.
    expect(progress(during)).toEqual(firstPageOnly('fetching', firstPageEnd, bad.cursor ?? null));
    expect(request(retry)).toEqual(request(bad));
    const failedAt = fault.kind === 'slow' ? bad.at - fault.delayMs + timeoutMs : bad.at;
    const retryMs = c.retryMs ?? 2000;
    expect(retry.at - failedAt).toBeGreaterThanOrEqual(retryMs - 50);
    expect(retry.at - failedAt).toBeLessThan(retryMs + 3000);
    expect(callsBeforeRetryAfter).toBe(0);
    const end = await h.status();
    expect({ lastError: end.lastError, warnings: end.warnings, rateLimited: end.rateLimited }).toEqual({
      lastError: null,
      warnings: [],
      rateLimited: 0,
    });
  });
}

const BAD_ANSWERS: BadAnswer[] = [
  { name: '500 Internal Server Error', fault: () => ({ kind: 'status', status: 500 }), failure: /: 500 / },
  {
    name: '502 Bad Gateway with an HTML body',
    fault: () => ({ kind: 'status', status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }),
    failure: /: 502 <html>.*502 Bad Gateway/,
  },
  {
    name: '503 Service Unavailable with Retry-After: 3 (the retry waits 3 s)',
    fault: () => ({ kind: 'status', status: 503, retryAfter: '3' }),
    failure: /: 503 /,
    retryMs: 3000,
  },
  {
    name: '504 Gateway Timeout',
    fault: () => ({ kind: 'status', status: 504, body: 'upstream request timeout' }),
    failure: /: 504 upstream request timeout/,
  },
  {
    name: 'timeout: no answer within the client timeout',
    fault: () => ({ kind: 'slow', delayMs: 2000 }),
    failure: /no complete answer within 800 ms \(timeout\)/,
    zendeskTimeoutMs: 800,
  },
  { name: 'connection reset', fault: () => ({ kind: 'reset' }), failure: /connection reset by the server/ },
  { name: 'truncated JSON', fault: () => ({ kind: 'truncated' }), failure: /unreadable JSON .* in \d+ bytes/ },
  {
    name: 'malformed JSON (a trailing comma)',
    fault: (rows) => body(`${JSON.stringify(poisonPage('exports', rows)).slice(0, -1)},}`),
    failure: /unreadable JSON/,
  },
  {
    name: 'an HTML error page with status 200',
    fault: () => ({ kind: 'html200' }),
    failure: /expected JSON, got "text\/html; charset=utf-8": <!DOCTYPE html>/,
  },
  {
    name: 'an HTML page labelled application/json',
    fault: () => body('<!DOCTYPE html><html><body>Maintenance</body></html>'),
    failure: /unreadable JSON/,
  },
  {
    name: 'a valid JSON page with a wrong content type (text/plain)',
    fault: (rows) => body(poisonPage('exports', rows), 'text/plain; charset=utf-8'),
    failure: /expected JSON, got "text\/plain; charset=utf-8"/,
  },
];

describe('one bad answer (exports endpoint): retried, nothing stored from it, cursor kept, export complete', () => {
  test.concurrent.each(BAD_ANSWERS)('$name', (c) => badAnswerAfterFirstPage('exports', c));
});

describe('one bad answer (cursor endpoint)', () => {
  test.concurrent('504 Gateway Timeout: per_page halved for the same cursor, nothing stored, back to 1000 later', () =>
    withHarness(options('cursor'), async (h) => {
      const rows = inStreamOrder(h, 'cursor');
      h.emulator.injectFaults([NORMAL_ANSWER, { kind: 'status', status: 504, body: 'upstream request timeout' }]);
      await h.startWorkflow();
      await h.waitForTruth(30_000);
      const { log } = h.emulator.stats();
      expect(log.slice(0, 3).map((e) => e.status)).toEqual([200, 504, 200]);
      expect(request(log[2])).toEqual(request(log[1])); // same position: the 504 moved nothing
      const status = await h.status();
      expect(status.warnings).toEqual([
        expect.stringMatching(/504 from Zendesk at per_page=1000: asking for 500 next/),
      ]);
      // Doubled again after three good pages (the idle polls once caught up count), not after the first.
      await waitFor('per_page back to 1000', async () => (await h.status()).perPage === 1000, 20_000);
      expect(status.lastError).toBeNull();
      expect(status.cursor).toBe(rows[rows.length - 1].generated_timestamp);
    }),
  );
});

// ---------------------------------------------------------------------------------------------------------------

interface SchemaDrift {
  name: string;
  body: (api: ExportApi, rows: Row[]) => Record<string, unknown>;
  /** The path the error names, for each endpoint's key. */
  failure: (key: string) => RegExp;
}

const SCHEMA_DRIFTS: SchemaDrift[] = [
  {
    name: 'the ticket array missing',
    body: (api, rows) => {
      const page: Record<string, unknown> = poisonPage(api, rows);
      delete page[rowsKey(api)];
      return page;
    },
    failure: (key) => new RegExp(`does not match the export format: ${key}: Required`),
  },
  {
    name: 'the ticket array of a wrong type (an object)',
    body: (api, rows) => ({ ...poisonPage(api, rows), [rowsKey(api)]: rows[PAGE] }),
    failure: (key) => new RegExp(`does not match the export format: ${key}: Expected array, received object`),
  },
  {
    name: 'a ticket id of a wrong type (a string)',
    body: (api, rows) => ({
      ...poisonPage(api, rows),
      [rowsKey(api)]: rows.slice(PAGE, PAGE + 3).map((row) => ({ ...row, id: String(row.id) })),
    }),
    failure: (key) =>
      new RegExp(`does not match the export format: ${key}\\[0\\]\\.id: Expected number, received string`),
  },
];

describe.each(['exports', 'cursor'] as const)('schema drift (%s endpoint)', (api) => {
  const key = rowsKey(api);

  test.concurrent('unknown fields on the tickets and on the page: accepted, stored as received', () =>
    withHarness(options(api), async (h) => {
      const rows = inStreamOrder(h, api);
      const unknown = { custom_status_id: 4242, x_new_field: { nested: [1, 'two', null] } };
      let page: Record<string, unknown>;
      let drifted: Row[];
      if (api === 'cursor') {
        // The emulator's own first page of 5 (with its after_cursor), before the fault queue is set.
        const auth = Buffer.from(`${DEFAULT_CREDENTIALS.email}/token:${DEFAULT_CREDENTIALS.apiToken}`).toString(
          'base64',
        );
        const response = await fetch(`${h.emulator.url}${CURSOR_PATH}?start_time=0&per_page=5`, {
          headers: { Authorization: `Basic ${auth}` },
        });
        const real = (await response.json()) as Record<string, unknown>;
        drifted = (real.tickets as Row[]).map((t) => ({ ...t, ...unknown }));
        page = { ...real, tickets: drifted, x_new_page_field: { anything: true } };
        h.emulator.resetStats();
      } else {
        // At least 5 rows, then the first row of a later second: the next call starts at that second, so the drifted
        // rows are not fetched again (and overwritten) by the normal pages that follow.
        let k = 5;
        while (rows[k].generated_timestamp === rows[k - 1].generated_timestamp) k++;
        drifted = rows.slice(0, k).map((row) => ({ ...row, ...unknown }));
        page = pageBody(api, [...drifted, rows[k]], rows[k].generated_timestamp, { x_new_page_field: { anything: 1 } });
      }
      h.emulator.injectFaults([body(page)]);
      await h.startWorkflow();

      const byId = new Map(drifted.map((row) => [row.id, row]));
      const expected = rows.map((row) => byId.get(row.id) ?? row);
      let last = '';
      await waitFor('the sink to hold the truth, the drifted tickets as received', async () => {
        last = await differencesFrom(h, expected);
        return last === '';
      }).catch(() => {
        throw new Error(`the sink never matched: ${last}`);
      });
      const stored = (await h.sink.readTickets(h.account)).find((t) => t.id === drifted[0].id);
      expect(JSON.parse(stored!.data)).toMatchObject(unknown);
      const { log } = h.emulator.stats();
      // Accepted at once: the next call continues after the drifted page, no retry of it.
      expect(log[0].fault).toBe('body');
      if (api === 'cursor') expect(log[1].cursor).toBe(page.after_cursor);
      else expect(log[1].startTime).toBe(page.end_time);
      const status = await h.status();
      expect({ lastError: status.lastError, warnings: status.warnings }).toEqual({ lastError: null, warnings: [] });
    }),
  );

  test.concurrent.each(SCHEMA_DRIFTS)('$name: a clear error naming the path, nothing stored, cursor kept', (c) =>
    badAnswerAfterFirstPage(api, { name: c.name, fault: (rows) => body(c.body(api, rows)), failure: c.failure(key) }),
  );

  test.concurrent(
    `the ${key} array missing on every attempt (after four 503s): status.lastError names it, backoff, cursor kept`,
    () =>
      // The backoff after the failure is the poll interval: 8 s holds the failed state long enough for a quiet snapshot
      // on a loaded machine (2 s did not: the next page cleared lastError first).
      withHarness(options(api, { input: { pollIntervalSeconds: 8 } }), async (h) => {
        const rows = inStreamOrder(h, api);
        const firstPageEnd = rows[PAGE - 1].generated_timestamp;
        // The 503s' Retry-After: 1 makes the activity's five attempts take 4 s by cursor; on the specified endpoint
        // retries keep its pacing, 8 s apart, and the failure comes about 40 s in. The last attempt decides.
        h.emulator.injectFaults([
          NORMAL_ANSWER,
          { kind: 'status', status: 503, retryAfter: '1', count: 4 },
          body(SCHEMA_DRIFTS[0].body(api, rows)),
        ]);
        await h.startWorkflow();
        const failing = await waitFor(
          'status.lastError',
          async () => {
            const s = await snapshot(h);
            return s.status.lastError !== null ? s : undefined;
          },
          60_000,
          100,
        );
        const afterCursor = h.emulator.stats().log[1].cursor ?? null;
        expect(progress(failing)).toEqual(
          firstPageOnly('backoff', firstPageEnd, afterCursor, expect.stringMatching(SCHEMA_DRIFTS[0].failure(key))),
        );
        expect(Date.parse(failing.status.nextCallAt!) - Date.parse(failing.status.asOf)).toBeLessThanOrEqual(8000);

        await h.waitForTruth(30_000);
        const { log, callsBeforeRetryAfter } = h.emulator.stats();
        expect(log.slice(1, 7).map((e) => e.fault ?? e.status)).toEqual([
          'status',
          'status',
          'status',
          'status',
          'body',
          200,
        ]);
        expect(callsBeforeRetryAfter).toBe(0);
        expect((await h.status()).lastError).toBeNull();
      }),
  );
});

// ---------------------------------------------------------------------------------------------------------------

describe.each(['exports', 'incremental'] as const)('end_time moving backwards (%s endpoint)', (api) => {
  test.concurrent('a page whose end_time is before its start_time: stored, cursor kept with a warning, complete', () =>
    withHarness(options(api), async (h) => {
      const rows = inStreamOrder(h, api);
      const firstPageEnd = rows[PAGE - 1].generated_timestamp;
      const backwards = firstPageEnd - 86_400;
      // Real tickets of page 2 (stored harmlessly), but an end_time a day before the start_time.
      h.emulator.injectFaults([NORMAL_ANSWER, body(pageBody(api, rows.slice(PAGE, PAGE + 5), backwards))]);
      await h.startWorkflow();
      await h.waitForTruth(30_000);

      const { log } = h.emulator.stats();
      expect(log[1]).toMatchObject({ fault: 'body', startTime: firstPageEnd });
      expect(log[2].startTime).toBe(firstPageEnd); // the cursor did not move back (nor forward)
      const status = await h.status();
      expect(status.warnings).toEqual([
        expect.stringMatching(new RegExp(`end_time ${backwards} is before start_time ${firstPageEnd}: cursor kept`)),
      ]);
      expect(status.lastError).toBeNull();
      expect(status.cursor).toBe(rows[rows.length - 1].generated_timestamp);
    }),
  );
});

// ---------------------------------------------------------------------------------------------------------------

describe("Zendesk's clock against the worker's", () => {
  // Five tickets changed 12 s ago on Zendesk's clock: with Zendesk ahead, the newest one is in the worker's future.
  const recentBurst = [{ size: 5 }];
  const live = { intervalMs: 200, perTick: 1 };

  /** Caught up once: page 1 full, a later page short. */
  async function caughtUp(h: Harness): Promise<ExportStatus> {
    return waitFor('caught up', async () => {
      const s = await h.status();
      return s.pages >= 2 && s.lastPageSize < PAGE ? s : undefined;
    });
  }

  test.concurrent(
    "ahead by 1 h (exports), live changes: the start_time's age is judged on Zendesk's clock, so no hour of idling",
    () =>
      withHarness(
        options('exports', { emulator: { now: () => Date.now() + HOUR_MS, bursts: recentBurst, mutations: live } }),
        async (h) => {
          await h.startWorkflow();
          const first = await caughtUp(h);
          // Every cursor is an hour in the worker's future; on Zendesk's clock it is seconds old. The export goes on
          // polling at its pace (0.5 s here) instead of sleeping until the worker's clock reaches the cursor.
          expect(first.cursor * 1000).toBeGreaterThan(Date.now() + HOUR_MS - 60_000);
          const calls = h.emulator.stats().calls;
          await waitFor(
            'two more calls, seconds apart, not an hour',
            () => h.emulator.stats().calls >= calls + 2,
            15_000,
          );
          const status = await h.status();
          expect(Date.parse(status.nextCallAt ?? status.asOf)).toBeLessThan(Date.now() + 5000);
          h.emulator.stopMutations();
          await h.waitForTruth(30_000);
          expect(Object.keys(h.emulator.stats().byStatus)).toEqual(['200']);
          const end = await h.status();
          expect({ lastError: end.lastError, warnings: end.warnings }).toEqual({
            lastError: null,
            warnings: [expect.stringMatching(/Zendesk's clock is 3[56]\d\d s ahead of the worker's/)],
          });
          // Lag on Zendesk's clock too: seconds, not "0 because the cursor is in the future".
          expect(end.lagSeconds).toBeLessThanOrEqual(10);
        },
      ),
  );

  test.concurrent('ahead by 1 h (cursor): complete with live changes, no stall, nothing rejected', () =>
    withHarness(
      options('cursor', { emulator: { now: () => Date.now() + HOUR_MS, bursts: recentBurst, mutations: live } }),
      async (h) => {
        await h.startWorkflow();
        await waitFor('caught up', async () => (await h.status()).caughtUp, 30_000);
        const calls = h.emulator.stats().calls;
        await waitFor('two idle polls', () => h.emulator.stats().calls >= calls + 2, 10_000, 100);
        h.emulator.stopMutations();
        await h.waitForTruth(30_000);
        expect(Object.keys(h.emulator.stats().byStatus)).toEqual(['200']);
        const status = await h.status();
        expect(status.cursor * 1000).toBeGreaterThan(Date.now() + HOUR_MS - 60_000);
        expect({ lastError: status.lastError, warnings: status.warnings }).toEqual({
          lastError: null,
          warnings: [expect.stringMatching(/Zendesk's clock is 3[56]\d\d s ahead of the worker's/)],
        });
      },
    ),
  );

  test.concurrent(
    'behind by 1 h (exports), live changes: complete, paced, no "too recent" answer, lag on Zendesk\'s clock',
    () =>
      withHarness(
        options('exports', {
          emulator: { now: () => Date.now() - HOUR_MS, minStartAgeSeconds: 5, mutations: live },
          input: { minStartAgeSeconds: 5 },
        }),
        async (h) => {
          await h.startWorkflow();
          await caughtUp(h);
          await sleepMs(4000);
          h.emulator.stopMutations();
          await h.waitForTruth(30_000);
          const { log, byStatus } = h.emulator.stats();
          // On the worker's clock every cursor is an hour old; on Zendesk's it is seconds old. Judged on Zendesk's
          // clock (measured from the Date header), no start_time is sent before it is 5 s old there.
          expect(Object.keys(byStatus)).toEqual(['200']);
          for (let i = 1; i < log.length; i++) expect(log[i].at - log[i - 1].at).toBeGreaterThanOrEqual(500 - 5);
          const status = await h.status();
          expect(status.lastError).toBeNull();
          expect(status.warnings).toEqual([
            expect.stringMatching(/Zendesk's clock is 3[56]\d\d s behind the worker's/),
          ]);
          expect(status.cursor * 1000).toBeLessThan(Date.now() - HOUR_MS + 60_000);
          expect(status.lagSeconds).toBeLessThanOrEqual(10);
        },
      ),
  );

  test.concurrent(
    "ahead by 1 h: an HTTP-date Retry-After is a time on Zendesk's clock (seconds, not an hour more)",
    () =>
      withHarness(options('exports', { emulator: { now: () => Date.now() + HOUR_MS } }), async (h) => {
        // Far enough ahead to still be ahead when page 1 is done on a busy machine.
        const header = new Date(Date.now() + HOUR_MS + 15_000).toUTCString();
        h.emulator.injectFaults([NORMAL_ANSWER, { kind: 'rateLimit', retryAfter: header }]);
        await h.startWorkflow();
        const slept = await firstRetryAfterTimer(h);
        expect(slept).toBeGreaterThanOrEqual(1000);
        expect(slept).toBeLessThanOrEqual(16_000);
        await h.waitForTruth(30_000);
        expect(h.emulator.stats().byStatus['429']).toBe(1);
      }),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// What a close read found (issue 12): tickets a database refuses, a broken Date header, a 400 that is not about a
// cursor, a page without end_time, a page size that keeps timing out.

const UNSTORABLE_TEXT = [
  { name: 'a NUL character', text: 'before\u0000after' },
  { name: 'a lone high surrogate (text cut inside an emoji)', text: 'smile \ud83d' },
  { name: 'a lone low surrogate', text: '\ude00 trailing half' },
];

describe.each(['sqlite', 'postgres'] as const)('text jsonb refuses (%s sink)', (sink) => {
  test.concurrent.each(UNSTORABLE_TEXT)('a ticket with $name: stored as received, nothing rejected', (c) =>
    withHarness(options('exports', { sink }), async (h) => {
      const rows = inStreamOrder(h, 'exports');
      const { head, next } = headOfStream(rows);
      const odd = head.map((row, i) =>
        i === 1 ? { ...row, subject: `${String(row.subject)} ${c.text}`, updated_at: '2024-02-30T25:61:00Z' } : row,
      );
      h.emulator.injectFaults([body(pageBody('exports', [...odd, next], next.generated_timestamp))]);
      await h.startWorkflow();

      const expected = rows.map((row) => (row.id === odd[1].id ? odd[1] : row));
      let last = '';
      await waitFor('the sink to hold the truth, the odd ticket as received', async () => {
        last = await differencesFrom(h, expected);
        return last === '';
      }).catch(() => {
        throw new Error(`the sink never matched: ${last}`);
      });
      const status = await h.status();
      expect({ rejected: status.ticketsRejected, lastError: status.lastError }).toEqual({
        rejected: 0,
        lastError: null,
      });
      expect(await h.sink.countRejected(h.account)).toBe(0);
    }),
  );
});

describe('a ticket that cannot be stored (postgres sink)', () => {
  test.concurrent.each([
    {
      // Since issue 14 it never reaches the database: fetchPage sets aside an id that cannot be read exactly.
      name: 'an id beyond BIGINT (and Number.MAX_SAFE_INTEGER)',
      odd: (row: Row): Row => ({ ...row, id: 2 ** 63 }),
      error: /^id: 9223372036854776000 is beyond Number.MAX_SAFE_INTEGER/,
    },
    {
      // A plausible ticket PostgreSQL itself refuses: a text column holds no NUL (a ticket of its own: not in the truth).
      name: 'a status with a NUL character',
      odd: (row: Row): Row => ({ ...row, id: 9_000_000, status: 'open\u0000' }),
      error: /invalid byte sequence|0x00/,
    },
  ])('$name: set aside in rejected_tickets, the rest stored, the cursor advances', (c) =>
    withHarness(options('exports', { sink: 'postgres' }), async (h) => {
      const rows = inStreamOrder(h, 'exports');
      const { head, next } = headOfStream(rows);
      const odd = c.odd(head[0]);
      h.emulator.injectFaults([body(pageBody('exports', [...head, odd, next], next.generated_timestamp))]);
      await h.startWorkflow();
      await h.waitForTruth(30_000);
      const rejected = await h.sink.readRejected(h.account);
      expect(rejected).toEqual([
        expect.objectContaining({
          ticketId: String(odd.id),
          data: JSON.stringify(odd),
          error: expect.stringMatching(c.error),
        }),
      ]);
      const status = await h.status();
      expect(status.ticketsRejected).toBe(1);
      expect(status.warnings).toEqual([expect.stringMatching(/1 ticket of the page .* set aside in rejected_tickets/)]);
      expect(h.emulator.stats().log[1].startTime).toBe(next.generated_timestamp);
    }),
  );
});

describe('a Date header from 1970', () => {
  test.concurrent.each(['exports', 'cursor'] as const)(
    '%s: the offset is ignored with a warning, the export goes on at its pace',
    (api) =>
      withHarness(options(api), async (h) => {
        h.emulator.injectFaults([{ kind: 'date', date: 'Thu, 01 Jan 1970 00:00:00 GMT' }]);
        await h.startWorkflow();
        await h.waitForTruth(30_000);
        const status = await h.status();
        expect(status.warnings).toEqual([expect.stringMatching(/Date header is \d+ days off .* ignored/)]);
        expect(Date.parse(status.nextCallAt ?? status.asOf)).toBeLessThan(Date.now() + 60_000);
      }),
  );
});

describe('a 400 that is not about a cursor (cursor endpoint, first call by start_time)', () => {
  test.concurrent('blocked with the answer in status, not repeated as a "rejected cursor"', () =>
    withHarness(options('cursor'), async (h) => {
      const answer = JSON.stringify({ error: 'InvalidValue', description: 'start_time or cursor is invalid' });
      h.emulator.injectFaults([{ kind: 'status', status: 400, body: answer }]);
      await h.startWorkflow();
      const blocked = await waitFor('blocked', async () => {
        const s = await h.status();
        return s.blocked ? s : undefined;
      });
      expect(blocked.lastError).toMatch(/: 400 .*InvalidValue/);
      expect(blocked.warnings).toEqual([]);
      await sleepMs(3000);
      expect(h.emulator.stats().calls).toBe(1);
    }),
  );
});

describe('a page of tickets without end_time (exports endpoint)', () => {
  test.concurrent('the cursor moves to the newest generated_timestamp of the page, with a warning', () =>
    withHarness(options('exports'), async (h) => {
      const rows = inStreamOrder(h, 'exports');
      const { head } = headOfStream(rows);
      const page: Record<string, unknown> = pageBody('exports', head, 0);
      delete page.end_time;
      h.emulator.injectFaults([body({ ...page, next_page: null }, undefined)]);
      await h.startWorkflow();
      await h.waitForTruth(30_000);
      const newest = head[head.length - 1].generated_timestamp;
      expect(h.emulator.stats().log[1].startTime).toBe(newest);
      expect((await h.status()).warnings).toEqual([
        expect.stringMatching(new RegExp(`without end_time: continuing from its newest generated_timestamp ${newest}`)),
      ]);
    }),
  );
});

describe('a page size that keeps timing out (cursor endpoint, pages over the size Zendesk serves give 504)', () => {
  test.concurrent('per_page is halved and grows back only after good pages: no 504 on every other call', () =>
    withHarness(
      options('cursor', {
        emulator: { ticketCount: 3000, descriptionBytes: [1000, 1000], maxPageBytes: 1_800_000 },
      }),
      async (h) => {
        await h.startWorkflow();
        await h.waitForTruth(60_000);
        const { log } = h.emulator.stats();
        const answers = log.filter((e) => e.status === 200 || e.status === 504);
        const timeouts = answers.filter((e) => e.status === 504).length;
        // 1000 tickets do not fit, 500 do: a 504, three pages of 500, a try at 1000 (504), and so on.
        expect(timeouts).toBeGreaterThanOrEqual(1);
        expect(timeouts).toBeLessThanOrEqual(Math.ceil(answers.length / 4));
        const status = await h.status();
        expect(status.warnings.every((w) => /504 from Zendesk at per_page=1000: asking for 500 next/.test(w))).toBe(
          true,
        );
      },
    ),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Bounds on what Zendesk sends (issue 14): a page-level value that drives the cursor and cannot be true is a bad answer;
// a ticket whose id or generated_timestamp cannot be true is set aside in rejected_tickets and the export goes on.

const DECADES_S = 30 * 365 * 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface ImplausiblePage {
  name: string;
  apis: ExportApi[];
  body: (api: ExportApi, rows: Row[]) => Record<string, unknown>;
  failure: RegExp;
}

// Each one, taken at its word, would lose tickets or stall: a cursor decades (or, in milliseconds, millennia) ahead, a
// cursor no request can carry.
const IMPLAUSIBLE_PAGES: ImplausiblePage[] = [
  {
    name: 'an end_time decades ahead',
    apis: ['exports', 'incremental'],
    body: (api, rows) => ({ ...poisonPage(api, rows), end_time: nowSeconds() + DECADES_S }),
    failure: /implausible value: end_time: \d+ \(20[5-9]\d-.*\) is more than 24 h ahead of Zendesk's clock/,
  },
  {
    name: 'an end_time in milliseconds',
    apis: ['exports'],
    body: (api, rows) => ({ ...poisonPage(api, rows), end_time: (nowSeconds() - 5) * 1000 }),
    failure: /implausible value: end_time: \d+ is in milliseconds \(\d+ \(20\d\d-.*\) in seconds\)/,
  },
  {
    name: 'a count of a billion',
    apis: ['incremental'],
    body: (api, rows) => ({ ...poisonPage(api, rows), count: 1_000_000_000 }),
    failure: /implausible value: count: 1000000000 is not a page's ticket count \(0-1000\)/,
  },
  {
    name: 'an after_cursor of 5000 characters',
    apis: ['cursor'],
    body: (api, rows) => ({ ...poisonPage(api, rows), after_cursor: 'c'.repeat(5000) }),
    failure: /implausible value: after_cursor: 5000 characters, more than the 1024 a cursor takes/,
  },
];

describe('an implausible page: a clear error naming the field, nothing stored, cursor kept, then complete', () => {
  test.concurrent.each(IMPLAUSIBLE_PAGES.flatMap((c) => c.apis.map((api) => ({ ...c, api }))))(
    '$name ($api endpoint)',
    (c) =>
      badAnswerAfterFirstPage(c.api, { name: c.name, fault: (rows) => body(c.body(c.api, rows)), failure: c.failure }),
  );
});

interface ImplausibleTicket {
  name: string;
  /** The ticket as Zendesk would send it broken (a copy of a real one). */
  broken: (row: Row) => Row;
  /** The reason rejected_tickets keeps, naming the field and the value. */
  reason: RegExp;
}

const IMPLAUSIBLE_TICKETS: ImplausibleTicket[] = [
  {
    name: 'a negative ticket id',
    broken: (row) => ({ ...row, id: -row.id }),
    reason: /^id: -\d+ is not a positive ticket id$/,
  },
  {
    name: 'a generated_timestamp beyond Number.MAX_SAFE_INTEGER',
    broken: (row) => ({ ...row, generated_timestamp: 2 ** 53 + 2 }),
    reason: /^generated_timestamp: 9007199254740994 is beyond Number.MAX_SAFE_INTEGER/,
  },
  {
    name: 'a generated_timestamp in milliseconds',
    broken: (row) => ({ ...row, generated_timestamp: row.generated_timestamp * 1000 }),
    reason: /^generated_timestamp: \d+ is in milliseconds \(\d+ \(20\d\d-.*\) in seconds\), not epoch seconds$/,
  },
];

/** The emulator's own first page of the cursor endpoint (with its after_cursor), before any fault is queued. */
async function firstCursorPage(h: Harness, perPage: number): Promise<Record<string, unknown> & { tickets: Row[] }> {
  const auth = Buffer.from(`${DEFAULT_CREDENTIALS.email}/token:${DEFAULT_CREDENTIALS.apiToken}`).toString('base64');
  const response = await fetch(`${h.emulator.url}${CURSOR_PATH}?start_time=0&per_page=${perPage}`, {
    headers: { Authorization: `Basic ${auth}` },
  });
  const page = (await response.json()) as Record<string, unknown> & { tickets: Row[] };
  h.emulator.resetStats();
  return page;
}

describe.each(['exports', 'cursor'] as const)('an implausible ticket (%s endpoint)', (api) => {
  test.concurrent.each(IMPLAUSIBLE_TICKETS)(
    '$name: set aside in rejected_tickets with the reason, the rest stored, the cursor unmoved by it',
    (c) =>
      withHarness(options(api), async (h) => {
        const rows = inStreamOrder(h, api);
        let broken: Row;
        let next: Row | undefined;
        if (api === 'cursor') {
          const page = await firstCursorPage(h, 5);
          broken = c.broken(page.tickets[1]);
          h.emulator.injectFaults([body({ ...page, tickets: [...page.tickets, broken] })]);
        } else {
          // No end_time: the page's end is its newest generated_timestamp, which the broken ticket must not be.
          const head = headOfStream(rows);
          broken = c.broken(head.head[1]);
          next = head.next;
          const page: Record<string, unknown> = pageBody(api, [...head.head, broken, next], 0);
          delete page.end_time;
          h.emulator.injectFaults([body(page)]);
        }
        await h.startWorkflow();
        await h.waitForTruth(30_000);

        const rejected = await h.sink.readRejected(h.account);
        expect(rejected).toEqual([
          {
            ticketId: String(broken.id),
            generatedTimestamp: Number.isSafeInteger(broken.generated_timestamp) ? broken.generated_timestamp : null,
            data: JSON.stringify(broken),
            error: expect.stringMatching(c.reason),
          },
        ]);
        const { log } = h.emulator.stats();
        expect(log[0].fault).toBe('body');
        const status = await h.status();
        expect({ rejected: status.ticketsRejected, lastError: status.lastError }).toEqual({
          rejected: 1,
          lastError: null,
        });
        expect(status.warnings).toContainEqual(
          expect.stringMatching(/^\S+ 1 ticket of the page before cursor .* set aside in rejected_tickets/),
        );
        if (next) {
          // The next call starts at the newest trusted ticket of the page.
          expect(log[1].startTime).toBe(next.generated_timestamp);
          expect(status.warnings).toHaveLength(2); // and the one about the missing end_time
        } else {
          expect(status.warnings).toHaveLength(1);
        }
        expect(status.cursor).toBe(rows[rows.length - 1].generated_timestamp);
      }),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// The OAuth token endpoint's faults (client credentials): each one met by the workflow's fetchPage.

const OAUTH_CLIENT = {
  mode: 'oauth_client_credentials' as const,
  clientId: DEFAULT_OAUTH_CLIENT.clientId,
  clientSecret: DEFAULT_OAUTH_CLIENT.clientSecret,
  scope: 'read',
  tokenTtlSeconds: 3600,
};

function oauthOptions(api: ExportApi): HarnessOptions {
  return options(api, { emulator: { oauthClients: [DEFAULT_OAUTH_CLIENT] }, auth: OAUTH_CLIENT });
}

/** A client whose secret changes when URL-encoded or JSON-escaped, so that every form of it is looked for. */
const QUOTED_CLIENT = { clientId: 'zte-quoted-client', clientSecret: 'zte"q\\9/+Kf=2 x!7#Lm' };

describe.each(['exports', 'cursor'] as const)('the token endpoint fails (%s endpoint)', (api) => {
  test.concurrent.each([
    { name: '500', fault: { kind: 'status', status: 500 } as FaultSpec, retryMs: 5000 },
    { name: '429 with Retry-After 3', fault: { kind: 'rateLimit', retryAfter: '3' } as FaultSpec, retryMs: 3000 },
    { name: 'a connection reset', fault: { kind: 'reset' } as FaultSpec, retryMs: 5000 },
  ])('$name: no call without a token, the token asked again after the wait, then the export completes', (c) =>
    withHarness(oauthOptions(api), async (h) => {
      h.emulator.injectTokenFaults([c.fault]);
      await h.startWorkflow();
      await h.waitForTruth(45_000);
      const { tokenLog, unauthenticatedCalls } = h.emulator.stats();
      expect(tokenLog.slice(0, 2).map((e) => e.status)).toEqual([
        c.fault.kind === 'reset' ? 'reset' : expect.any(Number),
        200,
      ]);
      expect(tokenLog[1].at - tokenLog[0].at).toBeGreaterThanOrEqual(c.retryMs - 100);
      expect(unauthenticatedCalls).toBe(0);
      expect((await h.status()).lastError).toBeNull();
    }),
  );

  test.concurrent(
    'a token endpoint quoting the secret: backs off, then blocks, redacted; cleared and resumed, complete',
    () =>
      withHarness(
        options(api, { emulator: { oauthClients: [QUOTED_CLIENT] }, auth: { ...OAUTH_CLIENT, ...QUOTED_CLIENT } }),
        async (h) => {
          const secret = QUOTED_CLIENT.clientSecret;
          // A firewall that explains its refusals by quoting the request body: once a 500, then a 401 until cleared.
          h.emulator.injectTokenFaults([
            { kind: 'echo', status: 500 },
            { kind: 'echo', status: 401, count: 1000 },
          ]);
          await h.startWorkflow();
          const quoted = /\((request_rejected: Blocked: POST \/oauth\/tokens \{.*"client_secret":"\[redacted\]".*)\)/;
          // The 500: the fetchPage activity backs off (its pending attempt shows the error), the secret blanked.
          const failed = await failedFetchAttempt(h);
          expect(failed).toEqual({ attempt: 2, message: expect.stringMatching(/: 500 \(request_rejected/) });
          expect(failed.message).toMatch(quoted);
          expect(leaksOf(secret, failed.message)).toEqual([]);
          // The 401: blocked, visibly, the secret blanked; nothing asked of the ticket endpoints.
          const blocked = await waitFor('blocked', async () => {
            const s = await h.status();
            return s.blocked ? s : undefined;
          });
          expect(blocked.lastError).toMatch(/OAuth client zte-quoted-client\): 401 \(request_rejected/);
          expect(blocked.lastError).toMatch(quoted);
          expect(leaksIn(secret, blocked)).toEqual([]);
          expect(h.emulator.stats().calls).toBe(0);

          h.emulator.clearTokenFaults();
          await h.handle.signal(resumeSignal);
          await h.waitForTruth(45_000);
          const end = await h.status();
          expect({ blocked: end.blocked, lastError: end.lastError }).toEqual({ blocked: false, lastError: null });
          expect(h.emulator.stats().tokenLog.map((e) => e.status)).toEqual([500, 401, 200]);
          // Both refusals are in the history (the retried attempt's and the blocking one), each without the secret.
          const runs = await fetchRunHistories(h.client, h.workflowId);
          const history = runs.map((run) => run.json).join('\n');
          expect(history).toMatch(
            /"lastFailure": \{\s*"message": "POST [^"]+ \(OAuth client zte-quoted-client\): 500 /,
          );
          expect(history).toMatch(/"message": "POST [^"]+ \(OAuth client zte-quoted-client\): 401 /);
          expect(leaksOf(secret, history)).toEqual([]);
          expect(
            leaksIn(
              secret,
              runs.map((run) => JSON.parse(run.json) as unknown),
            ),
          ).toEqual([]);
          expect(leaksIn(secret, end)).toEqual([]);
        },
      ),
  );

  test.concurrent('invalid_client: blocked, the message names the client id and never the secret', () =>
    withHarness(
      { ...oauthOptions(api), auth: { ...OAUTH_CLIENT, clientSecret: 'zte-wrong-secret-9f8e7d6c5b4a' } },
      async (h) => {
        await h.startWorkflow();
        const blocked = await waitFor('blocked', async () => {
          const s = await h.status();
          return s.blocked ? s : undefined;
        });
        expect(blocked.lastError).toMatch(/OAuth client zte-demo-client\): 401 \(invalid_client/);
        expect(blocked.lastError).not.toContain('zte-wrong-secret-9f8e7d6c5b4a');
        expect(h.emulator.stats().calls).toBe(0);
      },
    ),
  );
});
