import { Harness, startHarness, timerDurations, waitFor } from '../helpers/harness';

describe('pacing against the emulator', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('a client interval shorter than the window gets 429s, sleeps exactly Retry-After, and never calls early', async () => {
    h = await startHarness({
      emulator: { ticketCount: 4000, windowSeconds: 3, minStartAgeSeconds: 1 },
      input: { pollIntervalSeconds: 1, minStartAgeSeconds: 1 },
    });
    await h.waitForTruth(90_000);
    const stats = h.emulator.stats();
    const status = await h.status();
    expect(stats.byStatus['429']).toBeGreaterThan(0);
    expect(status.rateLimited).toBe(stats.byStatus['429']);
    expect(stats.callsBeforeRetryAfter).toBe(0);

    // Every 429 is followed by a timer of exactly its Retry-After.
    const issued = stats.log.filter((e) => e.status === 429).map((e) => Number(e.retryAfter) * 1000);
    const timers = await timerDurations(h.handle);
    for (const retryAfterMs of issued) expect(timers).toContain(retryAfterMs);
  });

  test('calls are spaced by the poll interval and no start_time is younger than the minimum age', async () => {
    h = await startHarness({
      emulator: { ticketCount: 2500, windowSeconds: 0, minStartAgeSeconds: 2 },
      input: { pollIntervalSeconds: 1.5, minStartAgeSeconds: 2 },
    });
    await h.waitForTruth(60_000);
    await waitFor('an idle poll', async () => (await h.status()).calls >= 5, 30_000);
    const log = h.emulator.stats().log.filter((e) => e.endpoint === 'export');
    // Never early. (Never later than needed is the timers' part below: how late a call arrives after its timer fires
    // is the machine's speed, and a page stored in more than 1.5 s on a loaded machine needs no timer at all.)
    for (let i = 1; i < log.length; i++) expect(log[i].at - log[i - 1].at).toBeGreaterThanOrEqual(1500 - 5);
    for (const entry of log) {
      if (entry.startTime !== null) expect(Math.floor(entry.at / 1000) - entry.startTime).toBeGreaterThanOrEqual(2);
    }
    expect(h.emulator.stats().byStatus['422'] ?? 0).toBe(0);
    // The timer is the wait, nothing else: none longer than the interval or the minimum age asks; none of zero length.
    const timers = await timerDurations(h.handle);
    expect(timers.length).toBeGreaterThan(0);
    for (const t of timers) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThanOrEqual(2000);
    }
  });
});
