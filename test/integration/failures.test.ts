import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { resumeSignal } from '../../src/workflows/messages';
import { Harness, sleepMs, startHarness, waitFor } from '../helpers/harness';

describe('failures and traps', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('401 blocks the export visibly; fixed credentials plus resume let it finish', async () => {
    h = await startHarness({ emulator: { ticketCount: 800, windowSeconds: 0 }, apiToken: 'wrong-token' });
    const blocked = await waitFor('blocked', async () => {
      const s = await h.status();
      return s.phase === 'blocked' ? s : undefined;
    });
    expect(blocked.blocked).toBe(true);
    expect(blocked.lastError).toMatch(/401/);
    expect(blocked.lastError).not.toContain('wrong-token');
    const callsWhileBlocked = h.emulator.stats().calls;
    await sleepMs(2000);
    expect(h.emulator.stats().calls).toBe(callsWhileBlocked); // blocked means no calls, not a retry loop
    expect((await h.handle.describe()).status.name).toBe('RUNNING');

    await h.stopWorker();
    await h.startWorker({
      auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
    });
    await h.handle.signal(resumeSignal);
    await h.waitForTruth(30_000);
    const status = await h.status();
    expect(status.blocked).toBe(false);
    expect(status.lastError).toBeNull();
  });

  test('5xx, resets and truncated bodies are retried; the cursor never passes unstored rows', async () => {
    h = await startHarness({ emulator: { ticketCount: 2200, windowSeconds: 0 }, zendeskTimeoutMs: 1000 });
    h.emulator.injectFaults([
      { kind: 'status', status: 500 },
      { kind: 'reset' },
      { kind: 'truncated' },
      { kind: 'status', status: 503, retryAfter: '1' },
      { kind: 'slow', delayMs: 1500 },
    ]);
    await h.waitForTruth(90_000);
    const stats = h.emulator.stats();
    expect(stats.callsBeforeRetryAfter).toBe(0);
    expect(stats.byStatus['500']).toBe(1);
    expect((await h.status()).lastError).toBeNull();
  });

  test('a 1,200-ticket burst at one timestamp does not loop: stepped past with a warning', async () => {
    const burstAt = Math.floor(Date.now() / 1000) - 3600;
    h = await startHarness({
      emulator: { ticketCount: 300, windowSeconds: 0, bursts: [{ size: 1200, timestamp: burstAt }] },
      input: { startTime: burstAt },
    });
    const status = await waitFor('the cursor past the burst', async () => {
      const s = await h.status();
      return s.cursor > burstAt && s.phase === 'waiting' && s.lastPageSize < 1000 ? s : undefined;
    });
    await sleepMs(2000);
    const calls = h.emulator.stats().log.filter((e) => e.startTime === burstAt);
    expect(calls.length).toBe(1); // asked once at the burst second, never again
    expect(status.warnings.join('\n')).toMatch(
      new RegExp(`full page of 1000 rows shares generated_timestamp ${burstAt}`),
    );
    expect(await h.sink.countTickets(h.account)).toBeGreaterThanOrEqual(1000);
  });

  test('continue-as-new every 2 pages keeps the cursor and the totals', async () => {
    h = await startHarness({ emulator: { ticketCount: 5500, windowSeconds: 0 }, input: { pagesPerRun: 2 } });
    const firstRun = (await h.handle.describe()).runId;
    await h.waitForTruth(60_000);
    const status = await h.status();
    expect(status.pages).toBeGreaterThanOrEqual(6);
    expect(status.ticketsStored).toBeGreaterThanOrEqual(5500);
    const runs = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${h.workflowId}'` })) runs.push(wf.runId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect((await h.handle.describe()).runId).not.toBe(firstRun);
    expect(status.cursor).toBe(await h.sink.readCheckpoint(h.account));
  });
});
