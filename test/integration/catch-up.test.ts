import { Harness, startHarness, waitFor } from '../helpers/harness';

describe('catch-up against the emulator', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('3,000 tickets with live mutations end equal to the truth, with no call before a Retry-After', async () => {
    h = await startHarness({
      emulator: {
        ticketCount: 3000,
        windowSeconds: 1,
        minStartAgeSeconds: 1,
        mutations: { intervalMs: 100, perTick: 3 },
      },
    });
    await waitFor('several pages', async () => (await h.status()).pages >= 4, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    h.emulator.stopMutations();
    await h.waitForTruth(60_000);

    const stats = h.emulator.stats();
    const status = await h.status();
    expect(stats.callsBeforeRetryAfter).toBe(0);
    expect(status.lastError).toBeNull();
    expect(h.emulator.truth().length).toBeGreaterThan(3000);
    expect(status.ticketsStored).toBeGreaterThanOrEqual(3000);
    expect(await h.sink.readCheckpoint(h.account)).toBeGreaterThan(0);
    // Deleted tickets stay as tombstones.
    const deleted = h.emulator.truth().filter((t) => t.status === 'Deleted').length;
    const stored = await h.sink.readTickets(h.account);
    expect(stored.filter((t) => t.status === 'deleted').length).toBe(deleted);
  });
});

describe('catch-up into PostgreSQL', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test.each(['exports', 'cursor'] as const)('%s: live mutations, ending equal to the truth', async (api) => {
    h = await startHarness({
      sink: 'postgres',
      emulator: {
        ticketCount: 2500,
        windowSeconds: 0,
        minStartAgeSeconds: 1,
        incrementalRequestsPerMinute: 0,
        incrementalMinStartAgeSeconds: 1,
        mutations: { intervalMs: 100, perTick: 2 },
      },
      input: { api, requestsPerMinute: 600 },
    });
    await waitFor('several pages', async () => (await h.status()).pages >= 3, 60_000);
    h.emulator.stopMutations();
    await h.waitForTruth(60_000);
    expect((await h.sink.readFullCheckpoint(h.account))?.cursor).toBe((await h.status()).cursor);
  });
});
