import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CREDENTIALS, EmulatorLogEntry, FaultSpec, TICKET_EVENTS_PATH } from '../../src/emulator';
import { REFERENCE_LISTS, STREAM_TABLES, STREAMS, type StreamName } from '../../src/streams/names';
import { ExportStatus, resetCursorUpdate, resumeSignal, StreamStatus } from '../../src/workflows/messages';
import { compareStreamsWithTruth } from '../helpers/stream-truth';
import { Harness, HarnessOptions, waitFor, withHarness } from '../helpers/harness';

/*
 * The fault matrix of the streams around the ticket, end to end: the real workflow (an in-process worker) against the
 * emulator's per-stream faults (docs/emulator.md#data-faults-and-test-endpoints). Each case ends with the tables of
 * the streams it reads equal to the emulator's truth (or the outcome docs/reliability.md documents) and the export
 * not blocked. Pacing is scaled: the emulator without limits of its own, the export at 600 (users 1200) calls a
 * minute, 50 rows a page, a poll a second.
 */

const PER_PAGE = 50;
/** One answer as the emulator gives it, as a fault: a stream's fault queued behind it hits its second call. */
const normal = (stream: StreamName): FaultSpec => ({ kind: 'slow', delayMs: 0, stream });
const nowSeconds = () => Math.floor(Date.now() / 1000);

function streamCase(
  streams: readonly StreamName[],
  extra: { emulator?: HarnessOptions['emulator']; input?: HarnessOptions['input'] } = {},
): HarnessOptions {
  return {
    start: false,
    emulator: {
      ticketCount: 60,
      windowSeconds: 0,
      incrementalRequestsPerMinute: 0,
      usersCursorRequestsPerMinute: 0,
      incrementalMinStartAgeSeconds: 1,
      ...extra.emulator,
    },
    input: {
      api: 'cursor',
      streams: [...streams],
      perPage: PER_PAGE,
      pollIntervalSeconds: 1,
      minStartAgeSeconds: 1,
      requestsPerMinute: 600,
      usersRequestsPerMinute: 1200,
      ...extra.input,
    },
  };
}

/** '' once the tables of these streams equal the emulator's truth, else the differences. */
async function differences(h: Harness, streams: readonly StreamName[]): Promise<string> {
  const problems: string[] = [];
  if (streams.includes('tickets')) problems.push(await h.compareWithTruth());
  const tables = streams.filter((s) => s !== 'tickets').flatMap((s) => STREAM_TABLES[s]);
  problems.push(await compareStreamsWithTruth(h.sink, h.emulator, h.account, tables));
  return problems.filter(Boolean).join('\n');
}

function streamRow(status: ExportStatus, stream: StreamName): StreamStatus | undefined {
  return status.streams?.find((s) => s.stream === stream);
}

function shown(status: ExportStatus | undefined): string {
  if (!status) return '(no status)';
  const rows = status.streams?.map(({ stream, phase, caughtUp, blocked, cursor, rowsStored, calls, lastError }) => ({
    stream,
    phase,
    caughtUp,
    blocked,
    cursor,
    rowsStored,
    calls,
    lastError,
  }));
  return `streams: ${JSON.stringify(rows)}\nwarnings: ${status.warnings.join('\n')}`;
}

/** Every one of `streams` caught up, and their tables equal to the truth. */
async function untilTruth(h: Harness, streams: readonly StreamName[], timeoutMs = 60_000): Promise<ExportStatus> {
  let last = '';
  return waitFor(
    `${streams.join(', ')} equal to the truth`,
    async () => {
      const status = await h.status();
      const behind = streams.filter((s) => !streamRow(status, s)?.caughtUp);
      if (behind.length > 0) {
        last = `not caught up: ${behind.join(', ')}`;
        return undefined;
      }
      last = await differences(h, streams);
      return last === '' ? status : undefined;
    },
    timeoutMs,
    500,
  ).catch(async (err: Error) => {
    const status = await h.status().catch(() => undefined);
    throw new Error(`${err.message}\n${last}\n${shown(status)}`);
  });
}

const callsOf = (h: Harness, endpoint: EmulatorLogEntry['endpoint']) =>
  h.emulator.stats().log.filter((entry) => entry.endpoint === endpoint);

/** GET on the emulator as the worker signs in: a real page to alter. */
async function emulatorGet(h: Harness, path: string): Promise<Record<string, unknown>> {
  const auth = Buffer.from(`${DEFAULT_CREDENTIALS.email}/token:${DEFAULT_CREDENTIALS.apiToken}`).toString('base64');
  const response = await fetch(`${h.emulator.url}${path}`, { headers: { Authorization: `Basic ${auth}` } });
  return (await response.json()) as Record<string, unknown>;
}

const body = (value: unknown, stream: StreamName): FaultSpec => ({
  kind: 'body',
  body: typeof value === 'string' ? value : JSON.stringify(value),
  stream,
});

// ---------------------------------------------------------------------------------------------------------------

describe('the same second on time-based streams', () => {
  test.concurrent(
    'an oversize same-second page (ticket_events, organizations) is taken whole; a full page inside one second ' +
      'is asked again once with the largest page, with a warning',
    () =>
      withHarness(streamCase(['ticket_events', 'organizations']), async (h) => {
        const streams = ['ticket_events', 'organizations'] as const;
        const BURST = 3 * PER_PAGE;
        h.emulator.injectFaults([
          normal('ticket_events'),
          { kind: 'sameSecondBurst', stream: 'ticket_events', size: BURST },
          normal('organizations'),
          { kind: 'sameSecondBurst', stream: 'organizations', size: BURST },
        ]);
        await h.startWorkflow();
        // Each burst is served by its stream's second call: the stream can be caught up and equal to the truth after
        // its first, before the burst exists.
        await waitFor('both bursts served', () =>
          streams.every((endpoint) => callsOf(h, endpoint).some((e) => e.fault === 'sameSecondBurst')),
        );
        const first = await untilTruth(h, streams);

        // Each burst came in one answer of more than per_page rows, and nothing of it was asked for again.
        for (const endpoint of streams) {
          const calls = callsOf(h, endpoint);
          const burst = calls.find((e) => e.fault === 'sameSecondBurst');
          expect(burst).toMatchObject({ status: 200, perPage: PER_PAGE });
          expect(burst!.rows).toBeGreaterThan(BURST);
          // Not asked for again to get the rest of the second: later calls at that second are the caught-up
          // stream's polls, a poll interval apart (a time-based export re-reads its boundary second).
          const again = calls.filter((e) => e.startTime === burst!.startTime);
          for (let i = 1; i < again.length; i++) expect(again[i].at - again[i - 1].at).toBeGreaterThanOrEqual(900);
        }
        expect(first.warnings).toEqual([]);
        for (const s of streams) expect(streamRow(first, s)).toMatchObject({ blocked: false, lastError: null });

        // Then the organizations again from 0, while Zendesk cuts every page at per_page: the burst's second gives a
        // full page with end_time == start_time, again and again.
        const second = callsOf(h, 'organizations').find((e) => e.fault === 'sameSecondBurst')!.startTime!;
        const logBefore = h.emulator.stats().log.length;
        h.emulator.injectFaults([{ kind: 'fullPageRepeats', stream: 'organizations', count: 20 }]);
        await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: 0, stream: 'organizations' }] });
        const after = await waitFor(
          'the organizations caught up after the crowded second',
          async () => {
            const status = await h.status();
            const asked = h.emulator
              .stats()
              .log.slice(logBefore)
              .filter((e) => e.endpoint === 'organizations' && e.startTime === second);
            return streamRow(status, 'organizations')?.caughtUp && asked.length >= 2 ? status : undefined;
          },
          30_000,
          250,
        );
        // The full page at per_page, then the same second once with the largest page, which holds all of it.
        const repeated = h.emulator
          .stats()
          .log.slice(logBefore)
          .filter((e) => e.endpoint === 'organizations' && e.startTime === second);
        expect(repeated.slice(0, 2).map((e) => [e.perPage, e.rows])).toEqual([
          [PER_PAGE, PER_PAGE],
          [1000, expect.any(Number)],
        ]);
        expect(repeated[1].rows).toBeGreaterThan(BURST);
        const named = `organizations: a full page of ${PER_PAGE} rows shares the second ${second}`;
        expect(after.warnings.filter((w) => w.includes(named))).toEqual([
          expect.stringContaining('asking that second again with per_page=1000'),
        ]);
        await untilTruth(h, streams);
      }),
  );

  test.concurrent(
    'ticket_events: a seeded second of more than per_page events served as a full page: asked again once with ' +
      'the largest page, which holds it all; nothing lost',
    async () => {
      const second = nowSeconds() - 86_400;
      const BURST = 3 * PER_PAGE;
      await withHarness(
        streamCase(['ticket_events'], { emulator: { bursts: [{ size: BURST, timestamp: second }] } }),
        async (h) => {
          h.emulator.injectFaults([{ kind: 'fullPageRepeats', stream: 'ticket_events', count: 40 }]);
          await h.startWorkflow();
          const status = await waitFor(
            'ticket_events caught up past the crowded second',
            async () => {
              const s = await h.status();
              const row = streamRow(s, 'ticket_events');
              return row && row.caughtUp && row.cursor > second ? s : undefined;
            },
            60_000,
            250,
          ).catch(async (err: Error) => {
            throw new Error(`${err.message}\n${shown(await h.status())}`);
          });
          const calls = callsOf(h, 'ticket_events');
          const atSecond = calls.filter((e) => e.startTime === second);
          expect(atSecond.length).toBeGreaterThanOrEqual(1);
          expect(atSecond.length).toBeLessThanOrEqual(2);
          expect(calls.every((e) => e.status === 200)).toBe(true);
          expect(status.warnings).toEqual([
            expect.stringContaining(`ticket_events: a full page of ${PER_PAGE} rows shares the second ${second}`),
          ]);
          expect(streamRow(status, 'ticket_events')).toMatchObject({ blocked: false, lastError: null });

          // The crowded second was asked again with the largest page, which held all of it: nothing lost.
          expect(atSecond.map((e) => e.perPage)).toEqual([PER_PAGE, 1000]);
          const truth = h.emulator.streamTruth('ticket_events');
          const inSecond = truth.filter((e) => e.timestamp === second);
          expect(inSecond.length).toBeGreaterThanOrEqual(BURST);
          await untilTruth(h, ['ticket_events']);
        },
      );
    },
  );
});

describe('heavy comment pages', () => {
  test.concurrent(
    '504 on include=comment_events: per_page halves for ticket_events only, the stream goes on and grows back',
    () =>
      withHarness(streamCase(STREAMS, { emulator: { ticketCount: 120 } }), async (h) => {
        h.emulator.injectFaults([
          normal('ticket_events'),
          { kind: 'commentEventsTimeout', stream: 'ticket_events', perPageAbove: PER_PAGE / 2 },
        ]);
        await h.startWorkflow();
        const status = await untilTruth(h, STREAMS, 90_000);
        const events = callsOf(h, 'ticket_events');
        const timedOut = events.findIndex((e) => e.status === 504);
        expect(events[timedOut]).toMatchObject({ fault: 'commentEventsTimeout', perPage: PER_PAGE });
        expect(events.filter((e) => e.status === 504)).toHaveLength(1);
        // The same start_time again at half the size, then back to the configured size after good pages.
        expect(events[timedOut + 1]).toMatchObject({
          status: 200,
          perPage: PER_PAGE / 2,
          startTime: events[timedOut].startTime,
        });
        const grown = events.findIndex((e, i) => i > timedOut + 1 && e.perPage === PER_PAGE);
        expect(grown).toBeGreaterThan(timedOut + 1);
        expect(events.slice(timedOut + 1, grown).every((e) => e.perPage === PER_PAGE / 2)).toBe(true);
        expect(events.slice(grown).every((e) => e.perPage === PER_PAGE)).toBe(true);
        // Every other stream kept its page size throughout.
        for (const endpoint of ['users_cursor', 'organizations', 'ticket_metric_events'] as const) {
          const sizes = new Set(callsOf(h, endpoint).map((e) => e.perPage));
          expect({ endpoint, sizes: [...sizes] }).toEqual({ endpoint, sizes: [PER_PAGE] });
        }
        expect(status.warnings).toEqual([
          expect.stringMatching(
            new RegExp(`Z ticket_events: 504 from Zendesk at per_page=${PER_PAGE}: asking for ${PER_PAGE / 2} next$`),
          ),
        ]);
        for (const row of status.streams ?? []) expect(row).toMatchObject({ blocked: false, lastError: null });
      }),
  );
});

describe('unusual events', () => {
  test.concurrent('odd via shapes and unknown child types: stored as received, no page refused, nothing rejected', () =>
    withHarness(streamCase(['ticket_events']), async (h) => {
      h.emulator.injectFaults([normal('ticket_events'), { kind: 'unusualEvents', stream: 'ticket_events', size: 4 }]);
      await h.startWorkflow();
      const status = await untilTruth(h, ['ticket_events']);
      expect(callsOf(h, 'ticket_events').find((e) => e.fault === 'unusualEvents')).toMatchObject({ status: 200 });

      const stored = await h.sink.readStreamTable(h.account, 'ticket_events');
      type Child = { event_type: string; via?: unknown };
      const children = stored.flatMap((row) => row.child_events as Child[]);
      const unusual = stored.filter((row) =>
        (row.child_events as Child[]).some((c) => c.event_type === 'AgentMacroReference'),
      );
      expect(unusual).toHaveLength(4);
      // As received: each unusual event byte for byte as the truth has it, unknown children and all.
      const truth = new Map(h.emulator.streamTruth('ticket_events').map((e) => [e.id, e]));
      for (const row of unusual) expect(row.child_events).toEqual(truth.get(Number(row.id))!.child_events);
      const kinds = new Set(children.map((c) => c.event_type));
      expect([...kinds]).toEqual(expect.arrayContaining(['AgentMacroReference', 'TicketSharingEvent']));
      const viaShapes = new Set(
        children.map((c) => (c.via === null ? 'null' : Array.isArray(c.via) ? 'array' : typeof c.via)),
      );
      expect([...viaShapes]).toEqual(expect.arrayContaining(['string', 'null', 'object']));

      expect(await h.sink.countStreamTable(h.account, 'rejected_rows')).toBe(0);
      expect(streamRow(status, 'ticket_events')).toMatchObject({ rejected: 0, lastError: null, blocked: false });
      expect(status.warnings).toEqual([]);
      expect(callsOf(h, 'ticket_events').every((e) => e.status === 200)).toBe(true);
    }),
  );
});

describe('metric events straddling the checkpoint', () => {
  test.concurrent('pages that begin before their start: every row stored, the cursor never moves back', () =>
    withHarness(streamCase(['ticket_metric_events']), async (h) => {
      // Enough straddled pages for the catch-up (page[after]) and for the polls once caught up (start_time).
      const STRADDLED = 14;
      h.emulator.injectFaults([
        normal('ticket_metric_events'),
        { kind: 'straddle', stream: 'ticket_metric_events', rows: 5, count: STRADDLED },
      ]);
      await h.startWorkflow();
      // The cursor and the checkpoint, sampled all along: never lower than before.
      const seen: { cursor: number; checkpoint: number }[] = [];
      let done = false;
      const watching = (async () => {
        while (!done) {
          const [status, checkpoints] = await Promise.all([
            h.status(),
            h.sink.readStreamTable(h.account, 'stream_checkpoints'),
          ]);
          const row = streamRow(status, 'ticket_metric_events');
          const checkpoint = checkpoints.find((c) => c.stream === 'ticket_metric_events');
          if (row) seen.push({ cursor: row.cursor, checkpoint: Number(checkpoint?.cursor ?? 0) });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      let status: ExportStatus;
      try {
        await waitFor(
          'every straddled page served',
          () => callsOf(h, 'ticket_metric_events').filter((e) => e.fault === 'straddle').length === STRADDLED,
          60_000,
          250,
        );
        status = await untilTruth(h, ['ticket_metric_events']);
      } finally {
        done = true;
        await watching;
      }
      const calls = callsOf(h, 'ticket_metric_events');
      const straddled = calls.filter((e) => e.fault === 'straddle');
      expect(straddled.every((e) => e.status === 200)).toBe(true);
      // Both kinds of call were straddled: by page[after] while catching up, by start_time once caught up.
      expect(straddled.some((e) => e.cursor !== undefined)).toBe(true);
      expect(straddled.some((e) => e.cursor === undefined && e.startTime! > 0)).toBe(true);
      expect(seen.length).toBeGreaterThan(3);
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i].cursor).toBeGreaterThanOrEqual(seen[i - 1].cursor);
        expect(seen[i].checkpoint).toBeGreaterThanOrEqual(seen[i - 1].checkpoint);
      }
      // Row by row: the stored rows are the truth's, each as received.
      const truth = new Map(h.emulator.streamTruth('ticket_metric_events').map((m) => [m.id, m]));
      const stored = await h.sink.readStreamTable(h.account, 'ticket_metric_events');
      expect(stored).toHaveLength(truth.size);
      for (const row of stored) expect(row.data).toEqual(truth.get(Number(row.id)));
      expect(streamRow(status, 'ticket_metric_events')).toMatchObject({ rejected: 0, lastError: null });
      expect(await h.sink.countStreamTable(h.account, 'rejected_rows')).toBe(0);
    }),
  );
});

describe('a 429 on one stream', () => {
  test.concurrent('holds its bucket-mates for the Retry-After; the users bucket goes on', () =>
    withHarness(streamCase(STREAMS), async (h) => {
      // Long enough for the users export to poll at least twice while six streams share the turns on a busy machine.
      const RETRY_AFTER = 5;
      h.emulator.injectFaults([
        normal('organizations'),
        { kind: 'rateLimit', stream: 'organizations', retryAfter: String(RETRY_AFTER) },
      ]);
      await h.startWorkflow();
      const status = await untilTruth(h, STREAMS, 90_000);
      const { log, callsBeforeRetryAfter, buckets } = h.emulator.stats();
      const limited = log.find((e) => e.status === 429)!;
      expect(limited).toMatchObject({ endpoint: 'organizations', fault: 'rateLimit', retryAfter: String(RETRY_AFTER) });
      const until = limited.at + RETRY_AFTER * 1000;
      const during = log.filter((e) => e.at > limited.at && e.at < until);
      // Nothing of the incremental bucket (tickets, ticket events, organizations, metric events) in the window...
      const otherBuckets: readonly string[] = ['users_cursor', ...REFERENCE_LISTS];
      expect(during.filter((e) => !otherBuckets.includes(e.endpoint))).toEqual([]);
      // ...while the users cursor export, in its own bucket, kept polling (a poll a second).
      expect(during.filter((e) => e.endpoint === 'users_cursor').length).toBeGreaterThanOrEqual(2);
      // And the incremental bucket came back once the Retry-After was over.
      expect(log.some((e) => e.at >= until && e.endpoint === 'organizations' && e.status === 200)).toBe(true);
      expect(callsBeforeRetryAfter).toBe(0);
      expect(buckets.incremental.injected).toBe(1);
      expect(streamRow(status, 'organizations')).toMatchObject({ rateLimited: 1, blocked: false, lastError: null });
      for (const s of ['tickets', 'ticket_events', 'users', 'ticket_metric_events'] as const) {
        expect(streamRow(status, s)).toMatchObject({ rateLimited: 0 });
      }
    }),
  );
});

describe('a permanent error on one stream', () => {
  test.concurrent('a 403 on users blocks users only; the others reach the truth; resume clears it', () =>
    withHarness(streamCase(STREAMS), async (h) => {
      h.emulator.injectFaults([{ kind: 'status', status: 403, stream: 'users' }]);
      await h.startWorkflow();
      const others = STREAMS.filter((s) => s !== 'users');
      const blocked = await untilTruth(h, others, 90_000);
      const users = streamRow(blocked, 'users')!;
      expect(users).toMatchObject({ blocked: true, phase: 'blocked', rowsStored: 0 });
      expect(users.lastError).toMatch(/403/);
      for (const s of others) expect(streamRow(blocked, s)).toMatchObject({ blocked: false, lastError: null });
      expect(blocked.blocked).toBe(false);
      expect(blocked.warnings).toEqual([expect.stringMatching(/Z users blocked until resumed .*: 403 Forbidden/)]);
      // Blocked means not asked again: one call, the 403.
      expect(callsOf(h, 'users_cursor').map((e) => e.status)).toEqual([403]);
      expect(await h.sink.countStreamTable(h.account, 'users')).toBe(0);

      await h.handle.signal(resumeSignal);
      const resumed = await untilTruth(h, STREAMS, 60_000);
      expect(streamRow(resumed, 'users')).toMatchObject({ blocked: false, lastError: null });
      expect(
        callsOf(h, 'users_cursor')
          .slice(1)
          .every((e) => e.status === 200),
      ).toBe(true);
    }),
  );
});

describe('garbage on a stream page', () => {
  test.concurrent(
    'bad rows (id "abc", id -1, a time decades ahead) set aside in rejected_rows, the rest stored; a page whose ' +
      'array is not one is a failed call, retried',
    () =>
      withHarness(streamCase(['ticket_events', 'organizations']), async (h) => {
        const real = await emulatorGet(h, `${TICKET_EVENTS_PATH}?start_time=0&per_page=20&include=comment_events`);
        h.emulator.resetStats();
        const events = real.ticket_events as Record<string, unknown>[];
        const future = nowSeconds() + 20 * 365 * 86_400;
        const bad = [
          { ...events[0], id: 'abc' },
          { ...events[1], id: -1 },
          { ...events[2], id: 9_000_001, timestamp: future, created_at: new Date(future * 1000).toISOString() },
        ];
        const page = { ...real, ticket_events: [...events, ...bad], count: events.length + bad.length };
        h.emulator.injectFaults([
          body(page, 'ticket_events'),
          body({ ticket_events: { id: 1 }, count: 1, end_time: 0, end_of_stream: false }, 'ticket_events'),
          body({ organizations: [], count: 'many', end_time: 'soon' }, 'organizations'),
        ]);
        await h.startWorkflow();
        const status = await untilTruth(h, ['ticket_events', 'organizations']);

        const rejected = await h.sink.readStreamTable(h.account, 'rejected_rows');
        expect(rejected.map(({ stream, row_id, error }) => ({ stream, row_id, error }))).toEqual([
          { stream: 'ticket_events', row_id: '"abc"', error: 'id: "abc" is not a whole number' },
          { stream: 'ticket_events', row_id: '-1', error: 'id: -1 is not a positive id' },
          {
            stream: 'ticket_events',
            row_id: '9000001',
            error: expect.stringMatching(/^timestamp: \d+ \(20\d\d-.*\) is more than 2 min ahead of Zendesk's clock/),
          },
        ]);
        expect(streamRow(status, 'ticket_events')).toMatchObject({ rejected: 3, blocked: false, lastError: null });
        expect(status.warnings).toEqual([
          expect.stringMatching(/Z ticket_events: 3 rows of a page set aside in rejected_rows$/),
        ]);
        // Each wrong shape was a failed attempt of its call, retried by the activity: the same start_time again.
        const eventCalls = callsOf(h, 'ticket_events');
        expect(eventCalls.slice(0, 3).map((e) => e.fault ?? e.status)).toEqual(['body', 'body', 200]);
        expect(eventCalls[2].startTime).toBe(eventCalls[1].startTime);
        expect(eventCalls[1].startTime).toBe(real.end_time);
        const orgCalls = callsOf(h, 'organizations');
        expect(orgCalls.slice(0, 2).map((e) => e.fault ?? e.status)).toEqual(['body', 200]);
        expect(orgCalls[1].startTime).toBe(orgCalls[0].startTime);
        // No crash loop: the workflow's tasks never failed.
        const history = await h.handle.fetchHistory();
        expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      }),
  );
});

describe('links to another origin', () => {
  test.concurrent('a foreign next_page on a stream page is never followed, and the warning names it', async () => {
    const foreign = http.createServer((_req, res) => res.end('{}'));
    const asked: string[] = [];
    foreign.on('request', (req) => asked.push(req.url ?? ''));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const port = (foreign.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}/api/v2/incremental/organizations.json?start_time=1`;
    try {
      await withHarness(streamCase(['organizations']), async (h) => {
        const body = { organizations: [], count: 0, end_time: null, next_page: url, end_of_stream: false };
        h.emulator.injectFaults([{ kind: 'body', stream: 'organizations', body: JSON.stringify(body) }]);
        await h.startWorkflow();
        const status = await untilTruth(h, ['organizations']);
        expect(status.warnings.join('\n')).toContain(
          `organizations: next page URL points to another origin and was ignored: ${url}`,
        );
        expect(asked).toEqual([]);
      });
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });
});
