import { nowSeconds, runLoop, timersBeforeEachFetch, useTestServer } from './loop-env';
import { page, StubActivities, tickets } from './stub-activities';

// The cursor rules of the three endpoint families, read off the requests the loop sends and the checkpoints it
// persists.

describe('workflow loop: endpoint rules', () => {
  const server = useTestServer();

  test('exports: the cursor is end_time; a full page at one timestamp is stepped past; no end_time: the newest row', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(
      page(tickets(2, t0 + 5), { endTime: t0 + 5 }),
      page(tickets(3, t0 + 5, 10), { endTime: t0 + 5 }), // pageSize rows, all at the start_time
      page(tickets(1, t0 + 9, 20), { endTime: null }),
    );
    const input = { startTime: t0, pollIntervalSeconds: 0.1, minStartAgeSeconds: 1, pageSize: 3 };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(4);
      expect(calls[0].input).toEqual({ account: loop.account, startTime: t0, minGapMs: 100 });
      expect(calls.map((c) => c.input.startTime)).toEqual([t0, t0 + 5, t0 + 6, t0 + 9]);
      const stored = stubs.persists.map((p) => p.input);
      expect(stored).toEqual([
        { account: loop.account, content: { rows: tickets(2, t0 + 5), fieldHeaders: {} }, cursor: t0 + 5 },
        { account: loop.account, content: { rows: tickets(3, t0 + 5, 10), fieldHeaders: {} }, cursor: t0 + 6 },
        { account: loop.account, content: { rows: tickets(1, t0 + 9, 20), fieldHeaders: {} }, cursor: t0 + 9 },
      ]); // empty pages are not persisted
      const status = await loop.status();
      expect(status).toMatchObject({ cursor: t0 + 9, pages: 3, ticketsStored: 6, state: 'caught_up' });
      expect(status.warnings.join('\n')).toMatch(/full page of 3 rows shares generated_timestamp .*stepped past it/);
      expect(status.warnings.join('\n')).toMatch(/came without end_time: continuing from its newest/);
    });
  });

  test('incremental: the cursor is end_time until end_of_stream, then the poll interval', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(
      page(
        tickets(3, (i) => t0 + 1 + i),
        { endTime: t0 + 3, endOfStream: false },
      ),
      page(tickets(1, t0 + 8, 4), { endTime: t0 + 8, endOfStream: true }),
    );
    const input = {
      api: 'incremental' as const,
      startTime: t0,
      pollIntervalSeconds: 1,
      requestsPerMinute: 600,
      minStartAgeSeconds: 1,
      perPage: 3,
      include: ['users'],
      excludeDeleted: true,
    };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(3, 5000);
      expect(calls[0].input).toEqual({
        account: loop.account,
        api: 'incremental',
        startTime: t0,
        perPage: 3,
        include: ['users'],
        excludeDeleted: true,
        minGapMs: 100,
      });
      expect(calls.map((c) => c.input.startTime)).toEqual([t0, t0 + 3, t0 + 8]);
      // Catching up: the rate (100 ms), not the poll interval; caught up: the poll interval.
      const timers = await timersBeforeEachFetch(loop.handle);
      for (const timer of timers[1]) expect(timer).toBeLessThanOrEqual(100);
      expect(Math.max(...timers[2])).toBeGreaterThan(100);
      expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(1000);
      expect(stubs.persists.map((p) => p.input)).toEqual([
        expect.objectContaining({ cursor: t0 + 3, afterCursor: null, api: 'incremental' }),
        expect.objectContaining({ cursor: t0 + 8, afterCursor: null, api: 'incremental' }),
      ]);
      expect(await loop.status()).toMatchObject({ caughtUp: true, cursor: t0 + 8, pages: 2 });
    });
  });

  test('incremental: a full page in one second is read through the cursor endpoint, then back to start_time', async () => {
    const s = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(
      page(tickets(3, s), { endTime: s, endOfStream: false }), // per_page rows at the start_time: crowded
      page(tickets(3, s, 4), { afterCursor: 'c1', endOfStream: false }), // still that second
      page([...tickets(1, s, 7), ...tickets(2, s + 4, 8)], { afterCursor: 'c2', endOfStream: false }),
    );
    const input = {
      api: 'incremental' as const,
      startTime: s,
      pollIntervalSeconds: 1,
      requestsPerMinute: 600,
      minStartAgeSeconds: 1,
      perPage: 3,
    };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(4);
      const requests = calls.map(({ input: { api, startTime, afterCursor } }) => ({ api, startTime, afterCursor }));
      expect(requests).toEqual([
        { api: 'incremental', startTime: s, afterCursor: undefined },
        { api: 'cursor', startTime: s, afterCursor: undefined },
        { api: 'cursor', startTime: s, afterCursor: 'c1' },
        { api: 'incremental', startTime: s + 4, afterCursor: undefined },
      ]);
      expect(stubs.persists.map((p) => [p.input.cursor, p.input.afterCursor, p.input.api])).toEqual([
        [s, null, 'incremental'],
        [s, null, 'incremental'],
        [s + 4, null, 'incremental'],
      ]);
      const status = await loop.status();
      expect(status.warnings.join('\n')).toMatch(
        /full page of 3 tickets shares generated_timestamp .* cursor endpoint/,
      );
    });
  });

  test('cursor-based: starts from the checkpoint, continues by after_cursor past empty pages, idles at end_of_stream', async () => {
    // A young cursor on purpose: a call by after_cursor has no start_time, so no minimum age holds it back.
    const c = nowSeconds() - 5;
    const stubs = new StubActivities().onFetch(
      page(tickets(2, c + 1), { afterCursor: 'a1', endOfStream: false }),
      page([], { afterCursor: 'a2', endOfStream: false }), // empty, yet not the end
      page(tickets(1, c + 2, 3), { afterCursor: 'a3', endOfStream: true }),
    );
    stubs.checkpoint = { cursor: c, api: 'cursor', afterCursor: 'saved' };
    const input = {
      api: 'cursor' as const,
      pollIntervalSeconds: 1.5,
      requestsPerMinute: 600,
      minStartAgeSeconds: 30,
    };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(4, 6000);
      expect(stubs.checkpointReads.map((r) => r.input)).toEqual([loop.account]);
      expect(calls.map(({ input: { startTime, afterCursor } }) => [startTime, afterCursor])).toEqual([
        [c, 'saved'],
        [c + 1, 'a1'],
        [c + 1, 'a2'],
        [c + 2, 'a3'],
      ]);
      expect(calls[0].input).toMatchObject({ api: 'cursor', perPage: 1000 });
      expect(calls[0].at).toBeLessThan((c + 30) * 1000);
      // An empty page is not the end of the stream: the rate (100 ms); end_of_stream is: the poll interval.
      const timers = await timersBeforeEachFetch(loop.handle);
      for (const timer of [...timers[1], ...timers[2]]) expect(timer).toBeLessThanOrEqual(100);
      expect(Math.max(...timers[3])).toBeGreaterThan(100);
      expect(calls[3].at - calls[2].at).toBeGreaterThanOrEqual(1500);
      expect(stubs.persists.map((p) => [p.input.cursor, p.input.afterCursor, p.input.api])).toEqual([
        [c + 1, 'a1', 'cursor'],
        [c + 2, 'a3', 'cursor'],
      ]);
      expect(await loop.status()).toMatchObject({ caughtUp: true, afterCursor: 'a3', cursor: c + 2 });
    });
  });
});
