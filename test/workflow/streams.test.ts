import { resetCursorUpdate, resumeSignal, setStreamsUpdate } from '../../src/workflows/messages';
import type { AroundStream } from '../../src/streams/names';
import { nowSeconds, runLoop, sleepMs, useTestServer } from './loop-env';
import {
  Call,
  page,
  permanentFailure,
  rateLimited,
  streamPage,
  streamRows,
  StubActivities,
  tickets,
} from './stub-activities';
import type { FetchPageInput } from '../../src/activities/types';
import type { FetchStreamInput } from '../../src/streams/contract';

// One workflow per account reading five streams: turns shared fairly, one pacing clock per Zendesk bucket, a 429 that
// holds the bucket, a stream blocked or reset on its own, streams added while running.

const ALL = ['tickets', 'ticket_events', 'users', 'organizations', 'ticket_metric_events'] as const;
const INCREMENTAL_GAP_MS = 200;

/** Every call through the incremental bucket (tickets and three streams), in time order. */
function incrementalCalls(stubs: StubActivities): { stream: string; at: number }[] {
  const tickets = stubs.fetches.map((c: Call<FetchPageInput>) => ({ stream: 'tickets', at: c.at }));
  const around = stubs
    .streamCalls()
    .filter((c: Call<FetchStreamInput>) => c.input.stream !== 'users')
    .map((c) => ({ stream: c.input.stream, at: c.at }));
  return [...tickets, ...around].sort((a, b) => a.at - b.at);
}

/** A stream with a backlog: every call brings a page of two rows, never the end of the stream. */
function backlog(stubs: StubActivities, stream: AroundStream, t0: number, pages: number): void {
  for (let i = 0; i < pages; i++) {
    const at = t0 + 10 * (i + 1);
    const afterCursor = stream === 'users' || stream === 'ticket_metric_events' ? `c${i + 1}` : null;
    stubs.onStreamFetch(
      stream,
      streamPage(streamRows(stream, 2, at, 100 * i + 1), stream, { endTime: at, afterCursor }),
    );
  }
}

describe('workflow loop: streams around the ticket', () => {
  const server = useTestServer();

  test('five streams share turns fairly; the incremental bucket is paced as one, users by its own', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities();
    for (let i = 0; i < 6; i++) {
      stubs.onFetch(
        page(tickets(2, t0 + 10 * (i + 1), 10 * i + 1), { endTime: t0 + 10 * (i + 1), endOfStream: false }),
      );
    }
    for (const stream of ['ticket_events', 'users', 'organizations', 'ticket_metric_events'] as const) {
      backlog(stubs, stream, t0, 6);
    }
    const input = {
      api: 'incremental' as const,
      streams: [...ALL],
      startTime: t0,
      minStartAgeSeconds: 1,
      requestsPerMinute: 60_000 / INCREMENTAL_GAP_MS,
      usersRequestsPerMinute: 600,
      pollIntervalSeconds: 30,
    };
    await runLoop(server, stubs, input, async (loop) => {
      await stubs.streamFetched('ticket_metric_events', 3, 20_000);
      const calls = incrementalCalls(stubs);
      for (let i = 1; i < calls.length; i++) {
        expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(INCREMENTAL_GAP_MS);
      }
      // Fair: in any run of 4 consecutive incremental calls, each of the 4 incremental streams at most twice.
      const first8 = calls.slice(0, 8).map((c) => c.stream);
      for (const stream of ['tickets', 'ticket_events', 'organizations', 'ticket_metric_events']) {
        expect(first8.filter((s) => s === stream).length).toBe(2);
      }
      // Users has its own bucket: it does not wait behind the other four.
      const users = stubs.streamCalls('users');
      expect(users.length).toBeGreaterThanOrEqual(3);
      // Each stream moved from its own pages: the cursors and after cursors of the requests.
      const events = stubs.streamCalls('ticket_events').map((c) => c.input.startTime);
      expect(events.slice(0, 3)).toEqual([t0, t0 + 10, t0 + 20]);
      expect(stubs.streamCalls('users')[1].input.afterCursor).toBe('c1');
      expect(stubs.streamCalls('ticket_metric_events')[1].input).toMatchObject({ afterCursor: 'c1', perPage: 100 });
      expect(stubs.streamCalls('ticket_events')[0].input.supportTypeScope).toBe('all');
      // Each page was stored with its stream's checkpoint before the stream's next call.
      const persisted = stubs.streamPersists.filter((p) => p.input.stream === 'ticket_events');
      expect(persisted[0].input.checkpoint).toEqual({ cursor: t0 + 10, afterCursor: null });
      const status = await loop.status();
      expect(status.streams?.map((s) => s.stream)).toEqual([...ALL]);
      expect(status.streams?.find((s) => s.stream === 'users')?.bucket).toBe('users_cursor');
    });
  });

  test('a 429 on one stream holds its bucket-mates, not the users bucket', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities();
    stubs.onStreamFetch('organizations', rateLimited(2) as never);
    backlog(stubs, 'ticket_events', t0, 4);
    backlog(stubs, 'users', t0, 20);
    const input = {
      api: 'incremental' as const,
      streams: ['ticket_events', 'users', 'organizations'] as AroundStream[],
      startTime: t0,
      minStartAgeSeconds: 1,
      requestsPerMinute: 600,
      usersRequestsPerMinute: 600,
      pollIntervalSeconds: 30,
    };
    await runLoop(server, stubs, input, async () => {
      await stubs.streamFetched('organizations', 2, 20_000);
      const limited = stubs.streamCalls('organizations')[0].at;
      const afterLimit = incrementalCalls(stubs).filter((c) => c.at > limited);
      expect(afterLimit.length).toBeGreaterThan(0);
      expect(afterLimit[0].at - limited).toBeGreaterThanOrEqual(2000);
      const usersDuring = stubs.streamCalls('users').filter((c) => c.at > limited && c.at < limited + 2000);
      expect(usersDuring.length).toBeGreaterThan(0);
    });
  });

  test('a stream blocked by a 403 waits alone; resume frees it; a reset moves one stream only', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities();
    stubs.onStreamFetch('users', permanentFailure('403 Forbidden: no access to users'));
    backlog(stubs, 'organizations', t0, 3);
    stubs.streamCheckpoints.ticket_events = { cursor: t0 + 500, afterCursor: null };
    const input = {
      api: 'incremental' as const,
      streams: ['tickets', 'ticket_events', 'users', 'organizations'] as (typeof ALL)[number][],
      defaultStartTime: t0,
      minStartAgeSeconds: 1,
      requestsPerMinute: 600,
      usersRequestsPerMinute: 600,
      pollIntervalSeconds: 30,
    };
    await runLoop(server, stubs, input, async (loop) => {
      const blocked = await loop.statusWhen(
        'users blocked',
        (s) => s.streams?.find((r) => r.stream === 'users')?.blocked === true,
      );
      expect(blocked.streams?.find((r) => r.stream === 'users')?.lastError).toMatch(/403/);
      // A blocked stream needs an operator: the export's coarse state (and ZendeskState) says blocked.
      expect(blocked.state).toBe('blocked');
      await stubs.streamFetched('organizations', 3);
      // The checkpoint of ticket_events is its first cursor; the others start from the export's.
      expect(stubs.streamCalls('ticket_events')[0].input.startTime).toBe(t0 + 500);
      expect(stubs.streamCalls('organizations')[0].input.startTime).toBe(t0);
      expect(stubs.streamCalls('users')).toHaveLength(1);

      await loop.handle.signal(resumeSignal);
      await stubs.streamFetched('users', 2);
      expect((await loop.status()).state).not.toBe('blocked');

      const before = await loop.status();
      const ticketsCursor = before.streams?.find((r) => r.stream === 'tickets')?.cursor;
      const result = await loop.handle.executeUpdate(resetCursorUpdate, {
        args: [{ startTime: t0 - 100, stream: 'organizations' }],
      });
      expect(result.cursor).toBe(t0 - 100);
      await stubs.streamFetched('organizations', stubs.streamCalls('organizations').length + 1);
      const last = stubs.streamCalls('organizations').at(-1)!;
      expect(last.input.startTime).toBe(t0 - 100);
      const checkpointWrite = stubs.streamPersists.find(
        (p) => p.input.stream === 'organizations' && p.input.checkpoint.cursor === t0 - 100,
      );
      expect(checkpointWrite?.input.content).toEqual({ rows: [] });
      const after = await loop.status();
      expect(after.streams?.find((r) => r.stream === 'tickets')?.cursor).toBe(ticketsCursor);
      const refused = loop.handle.executeUpdate(resetCursorUpdate, {
        args: [{ startTime: t0, stream: 'ticket_metric_events' }],
      });
      await expect(refused.catch((err) => String(err.cause?.message))).resolves.toMatch(
        /does not read ticket_metric_events/,
      );
    });
  });

  test('setStreams adds a stream while running and every other stream keeps its cursor', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities();
    backlog(stubs, 'organizations', t0, 2);
    const input = {
      api: 'incremental' as const,
      streams: ['organizations'] as AroundStream[],
      startTime: t0,
      minStartAgeSeconds: 1,
      requestsPerMinute: 600,
      pollIntervalSeconds: 30,
    };
    await runLoop(server, stubs, input, async (loop) => {
      await loop.statusWhen('organizations caught up', (s) => s.streams?.[0]?.caughtUp === true);
      const organizationsCursor = (await loop.status()).streams?.[0]?.cursor;
      expect(organizationsCursor).toBe(t0 + 20);
      const streams = await loop.handle.executeUpdate(setStreamsUpdate, {
        args: [{ streams: ['organizations', 'ticket_events'] }],
      });
      expect(streams).toEqual(['ticket_events', 'organizations']);
      await stubs.streamFetched('ticket_events', 1);
      await sleepMs(300);
      const status = await loop.status();
      expect(status.streams?.find((s) => s.stream === 'organizations')?.cursor).toBe(organizationsCursor);
      const refused = loop.handle.executeUpdate(setStreamsUpdate, {
        args: [{ streams: ['tickets', 'comments' as never] }],
      });
      await expect(refused.catch((err) => String(err.cause?.message))).resolves.toMatch(/unknown streams/);
    });
  });
});
