import { pauseSignal, resumeSignal } from '../../src/workflows/messages';
import { nowSeconds, runLoop, sleepMs, useTestServer } from './loop-env';
import {
  page,
  permanentFailure,
  rowsOf,
  sinkFailure,
  StubActivities,
  tickets,
  transientFailure,
} from './stub-activities';

// What the loop does when an activity fails: a backoff, a block until resume, a page held until it is stored.

describe('workflow loop: failures', () => {
  const server = useTestServer();

  test('a failed fetch backs off; resume ends the backoff', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(transientFailure('503 Service Unavailable'));
    // The backoff after a first failure is the poll interval: 60 s. The incremental rate (600 a minute) is 100 ms.
    const input = {
      api: 'incremental' as const,
      startTime: t0,
      pollIntervalSeconds: 60,
      requestsPerMinute: 600,
      minStartAgeSeconds: 1,
    };
    await runLoop(server, stubs, input, async (loop) => {
      const [first] = await stubs.fetched(1);
      const backoff = await loop.statusWhen('backoff', (s) => s.phase === 'backoff');
      expect(backoff).toMatchObject({ state: 'backoff', lastError: '503 Service Unavailable', cursor: t0 });
      expect(Date.parse(backoff.nextCallAt!)).toBeGreaterThanOrEqual(first.at + 59_000);
      await sleepMs(1000);
      expect(stubs.fetches).toHaveLength(1);

      await loop.handle.signal(resumeSignal);
      const [, second] = await stubs.fetched(2, 8000);
      expect(second.input).toMatchObject({ api: 'incremental', startTime: t0 });
      expect(second.at - first.at).toBeLessThan(10_000); // not the 60 s backoff: a resume, a 1 ms timer, a call
    });
  });

  // Found by this suite: resume() set notBefore to 0, and notBefore also held the Retry-After of a 503 (fetchPage's
  // failure carries it as retryNotBefore), so a resume sent the next call 2.7 s before Zendesk's Retry-After had
  // passed (design invariants 3 and 8). Fixed: resume keeps what the failure asked for.
  test("resume during a 503's Retry-After does not shorten it", async () => {
    const t0 = nowSeconds() - 3600;
    let retryNotBefore = 0;
    const stubs = new StubActivities().onFetch(() =>
      transientFailure('503 Service Unavailable', (retryNotBefore = Date.now() + 4000)),
    );
    const input = { startTime: t0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      const backoff = await loop.statusWhen('backoff', (s) => s.phase === 'backoff');
      expect(backoff.nextCallAt).toBe(new Date(retryNotBefore).toISOString()); // held until the Retry-After

      await loop.handle.signal(resumeSignal);
      const [, second] = await stubs.fetched(2, 8000);
      expect(second.at).toBeGreaterThanOrEqual(retryNotBefore);
    });
  });

  test('a permanent fetch error blocks the export until resume', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(permanentFailure('401 Unauthorized: check the credentials'));
    const input = { startTime: t0, pollIntervalSeconds: 0.1, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      const blocked = await loop.statusWhen('blocked', (s) => s.phase === 'blocked');
      expect(blocked).toMatchObject({ blocked: true, state: 'blocked', cursor: t0 });
      expect(blocked.lastError).toMatch(/401 Unauthorized/);
      await sleepMs(1500);
      expect(stubs.fetches).toHaveLength(1); // not every 0.1 s: blocked for an hour unless resumed

      await loop.handle.signal(resumeSignal);
      const [, second] = await stubs.fetched(2, 8000);
      expect(second.input.startTime).toBe(t0);
      const after = await loop.statusWhen('unblocked', (s) => !s.blocked);
      expect(after.state).not.toBe('blocked');
      expect(stubs.persists).toHaveLength(0);
    });
  });

  test('a failed persist is retried with the same page after the backoff; no fetch, no cursor move meanwhile', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities()
      .onFetch(page(tickets(2, t0 + 50), { endTime: t0 + 50 }))
      .onPersist(sinkFailure('database is locked'));
    const input = { startTime: t0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      await stubs.persisted(1);
      const backoff = await loop.statusWhen('persist backoff', (s) => s.phase === 'backoff');
      expect(backoff.lastError).toMatch(/^persist failed: database is locked/);
      expect(backoff.cursor).toBe(t0); // the cursor moves only once the page is stored

      const [failed, stored] = await stubs.persisted(2, 5000);
      expect(stored.input).toEqual(failed.input);
      expect(stored.input.cursor).toBe(t0 + 50);
      expect(stored.at - failed.at).toBeGreaterThanOrEqual(2000); // the sink's backoff: 2 s after a first failure
      expect(stubs.fetches.filter((call) => call.at <= stored.at)).toHaveLength(1); // no fetch while it failed

      const [, next] = await stubs.fetched(2);
      expect(next.input.startTime).toBe(t0 + 50);
      expect(await loop.status()).toMatchObject({ cursor: t0 + 50, pages: 1, ticketsStored: 2, lastError: null });
    });
  });

  test('a persist that keeps failing gives way to pause; after resume the page is fetched again', async () => {
    const t0 = nowSeconds() - 3600;
    let sinkDown = true;
    const stubs = new StubActivities().onFetch(
      page(tickets(2, t0 + 50), { endTime: t0 + 50 }),
      page(tickets(2, t0 + 50), { endTime: t0 + 50 }),
    );
    stubs.persistWhenDone = (write) =>
      sinkDown ? sinkFailure('connection refused') : { written: rowsOf(write).length, ignoredOlder: 0 };
    const input = { startTime: t0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      await loop.statusWhen('persist backoff', (s) => s.phase === 'backoff');
      await loop.handle.signal(pauseSignal);
      const paused = await loop.statusWhen('paused', (s) => s.phase === 'paused');
      expect(paused).toMatchObject({ cursor: t0, pages: 0, ticketsStored: 0 });
      await sleepMs(2200); // past the sink's backoff: the page was given up, not retried while paused
      expect(stubs.persists).toHaveLength(1);
      expect(stubs.fetches).toHaveLength(1);

      sinkDown = false;
      await loop.handle.signal(resumeSignal);
      const [, again] = await stubs.fetched(2, 8000);
      expect(again.input.startTime).toBe(t0);
      const [, stored] = await stubs.persisted(2);
      expect(stored.input.cursor).toBe(t0 + 50);
      await loop.statusWhen('the page stored', (s) => s.cursor === t0 + 50 && s.pages === 1);
    });
  });
});
