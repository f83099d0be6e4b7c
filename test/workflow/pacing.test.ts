import { pauseSignal, pollNowSignal, resumeSignal } from '../../src/workflows/messages';
import { nowSeconds, runLoop, sleepMs, timersBeforeEachFetch, useTestServer } from './loop-env';
import { page, rateLimited, StubActivities, tickets } from './stub-activities';

// When the loop calls fetchPage: the interval, the incremental rate, the start_time's minimum age, a Retry-After.
// "Never early" is read off the calls' times; "no longer than needed" off the timers the workflow started, since the
// dev server fires a timer up to about a second late.

describe('workflow loop: pacing', () => {
  const server = useTestServer();

  test('exports: calls are pollIntervalSeconds apart, each from the cursor the page before led to', async () => {
    const t0 = nowSeconds() - 3600;
    // A full page (pageSize 3): catching up. Then a page that is not full: caught up; empty pages follow.
    const stubs = new StubActivities().onFetch(
      page(
        tickets(3, (i) => t0 + 1 + i),
        { endTime: t0 + 3 },
      ),
      page(tickets(1, t0 + 7, 4), { endTime: t0 + 7 }),
    );
    const input = { startTime: t0, pollIntervalSeconds: 0.4, minStartAgeSeconds: 1, pageSize: 3 };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(3);
      expect(calls.map((c) => c.input.startTime)).toEqual([t0, t0 + 3, t0 + 7]);
      const timers = await timersBeforeEachFetch(loop.handle);
      for (const timer of timers[0]) expect(timer).toBeLessThanOrEqual(1); // an old cursor, no call yet: at once
      for (let i = 1; i < calls.length; i++) {
        expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(400);
        // One timer for the rest of the interval (none when the page took that long to store).
        expect(timers[i].length).toBeLessThanOrEqual(1);
        for (const timer of timers[i]) expect(timer).toBeLessThanOrEqual(400);
      }
      expect(calls[0].input.minGapMs).toBe(400);
    });
  });

  test('incremental: requestsPerMinute paces the catch-up, the poll interval the idle polls; pollNow ends the idle wait', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(
      page(tickets(2, t0 + 10), { endTime: t0 + 10, endOfStream: false }),
      page(tickets(2, t0 + 30, 3), { endTime: t0 + 30, endOfStream: true }),
    );
    const input = {
      api: 'incremental' as const,
      startTime: t0,
      pollIntervalSeconds: 30,
      requestsPerMinute: 150, // 400 ms apart
      minStartAgeSeconds: 1,
    };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(2);
      expect(calls.map((c) => c.input.startTime)).toEqual([t0, t0 + 10]);
      const timers = await timersBeforeEachFetch(loop.handle);
      for (let i = 1; i < calls.length; i++) {
        expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(400);
        expect(timers[i].length).toBeLessThanOrEqual(1);
        for (const timer of timers[i]) expect(timer).toBeLessThanOrEqual(400); // the rate, not the 30 s poll interval
      }
      expect(calls[0].input).toMatchObject({ api: 'incremental', perPage: 1000, minGapMs: 400 });

      const idle = await loop.statusWhen('idle', (s) => s.phase === 'idle');
      expect(idle).toMatchObject({ caughtUp: true, state: 'caught_up', cursor: t0 + 30 });
      await sleepMs(1000);
      expect(stubs.fetches).toHaveLength(2); // the 30 s poll interval holds

      await loop.handle.signal(pollNowSignal);
      const [, second, third] = await stubs.fetched(3, 5000);
      expect(third.input.startTime).toBe(t0 + 30);
      expect(third.at - second.at).toBeGreaterThanOrEqual(400); // pollNow never beats the rate
    });
  });

  test('incremental, caught up: each idle poll follows the idle timer, with no second timer after it', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(page(tickets(1, t0 + 5), { endTime: t0 + 5, endOfStream: true }));
    // The poll interval equals the pacing gap (60 s / 40 = 1.5 s): once the idle wait ran out, so did the pacing's.
    const input = { api: 'incremental' as const, startTime: t0, pollIntervalSeconds: 1.5, requestsPerMinute: 40 };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(4, 15_000);
      const timers = await timersBeforeEachFetch(loop.handle);
      for (let i = 2; i < calls.length; i++) {
        expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(1500);
        // Before idle-wait-counts: the idle timer, then a 1 ms pacing timer fired on the server's next tick (≈ 1 s).
        expect(timers[i]).toHaveLength(1);
      }
    });
  });

  test('a start_time younger than minStartAgeSeconds is never requested: the call waits until it is old enough', async () => {
    const start = nowSeconds();
    const stubs = new StubActivities().onFetch(page(tickets(1, start), { endTime: start + 1 }));
    // 6 s: the worker's creation and the workflow's start under load must not use up the wait this case looks at.
    const input = { startTime: start, pollIntervalSeconds: 0.1, minStartAgeSeconds: 6 };
    await runLoop(server, stubs, input, async (loop) => {
      const waiting = await loop.statusWhen('the start-age wait', (s) => s.phase === 'waiting');
      expect(waiting.nextCallAt).toBe(new Date((start + 6) * 1000).toISOString());
      expect(stubs.fetches).toHaveLength(0);

      const calls = await stubs.fetched(2, 14_000);
      expect(calls.map((c) => c.input.startTime)).toEqual([start, start + 1]);
      for (const call of calls) expect(call.at).toBeGreaterThanOrEqual((call.input.startTime + 6) * 1000);
      // One timer for the age of the first start_time; the second is a second younger: at most a second more
      // (no timer at all when the first call came late enough).
      const timers = await timersBeforeEachFetch(loop.handle);
      expect(timers[0]).toHaveLength(1);
      expect(timers[0][0]).toBeLessThanOrEqual(6000);
      for (const timer of timers[1]) expect(timer).toBeLessThanOrEqual(1000);
    });
  });

  test("a 429's Retry-After is waited in one timer, and the next call is not earlier", async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(rateLimited(2), page(tickets(1, t0 + 5), { endTime: t0 + 5 }));
    const input = { startTime: t0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      await stubs.fetched(1);
      const limited = await loop.statusWhen('rate_limited', (s) => s.phase === 'rate_limited');
      expect(limited).toMatchObject({ state: 'rate_limited', rateLimited: 1, cursor: t0 });

      const [first, second] = await stubs.fetched(2, 5000);
      expect(second.input.startTime).toBe(t0); // the same request again
      expect(second.at - first.at).toBeGreaterThanOrEqual(2000);
      const timers = await timersBeforeEachFetch(loop.handle);
      expect(timers[1]).toHaveLength(1);
      expect(timers[1][0]).toBeGreaterThan(1500);
      expect(timers[1][0]).toBeLessThanOrEqual(2000);
      await stubs.persisted(1);
    });
  });

  test('pause and resume during a Retry-After do not shorten it', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(rateLimited(3));
    const input = { startTime: t0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      const [first] = await stubs.fetched(1);
      await loop.statusWhen('rate_limited', (s) => s.phase === 'rate_limited');
      await loop.handle.signal(pauseSignal);
      await loop.statusWhen('paused', (s) => s.phase === 'paused');
      await loop.handle.signal(resumeSignal);
      const [, second] = await stubs.fetched(2, 6000);
      expect(second.at - first.at).toBeGreaterThanOrEqual(3000);
      // The Retry-After's timer, cut short by the pause; after resume, one timer for what is left of it.
      const timers = await timersBeforeEachFetch(loop.handle);
      expect(timers[1]).toHaveLength(2);
      expect(timers[1][1]).toBeLessThan(timers[1][0]);
      expect(timers[1][1]).toBeGreaterThan(100);
    });
  });
});
