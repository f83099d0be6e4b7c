import { WorkflowUpdateFailedError } from '@temporalio/client';
import { pauseSignal, resetCursorSignal, resetCursorUpdate, resumeSignal } from '../../src/workflows/messages';
import { nowSeconds, runLoop, sleepMs, useTestServer } from './loop-env';
import { page, StubActivities, tickets } from './stub-activities';

// Operators' messages: resets (signal and update), pause and resume.

describe('workflow loop: operator messages', () => {
  const server = useTestServer();

  test('a reset by signal during a wait is the next request, checkpointed by a persist without rows', async () => {
    const t0 = nowSeconds() - 3600;
    const resetTo = t0 - 500;
    const stubs = new StubActivities().onFetch(page(tickets(2, t0 + 50), { endTime: t0 + 50 }));
    const input = { startTime: t0, pollIntervalSeconds: 2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      await loop.statusWhen('the wait after a page', (s) => s.phase === 'waiting' && s.cursor === t0 + 50);
      await loop.handle.signal(resetCursorSignal, { startTime: resetTo });

      const [stored, checkpoint] = await stubs.persisted(2);
      expect(stored.input.cursor).toBe(t0 + 50);
      expect(checkpoint.input).toEqual({
        account: loop.account,
        content: { rows: [], fieldHeaders: {} },
        cursor: resetTo,
      });
      const status = await loop.status();
      expect(status.cursor).toBe(resetTo);
      expect(status.progressFrom?.cursor).toBe(resetTo);

      const [first, second] = await stubs.fetched(2, 5000);
      expect(second.input.startTime).toBe(resetTo);
      expect(second.at - first.at).toBeGreaterThanOrEqual(2000); // a reset does not skip the pacing
      expect(stubs.persists).toHaveLength(2);
    });
  });

  test('a reset by update during a fetch returns the previous cursor and wins over the page it was fetching', async () => {
    const t0 = nowSeconds() - 3600;
    const resetTo = t0 - 500;
    const stubs = new StubActivities();
    const gate = stubs.gate();
    stubs.onFetch(async () => {
      await gate.opened;
      return page(tickets(2, t0 + 50), { endTime: t0 + 50 });
    });
    const input = { startTime: t0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      await stubs.fetched(1);
      await loop.statusWhen('fetching', (s) => s.phase === 'fetching');

      const future = nowSeconds() + 3600;
      const refused = loop.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: future }] });
      await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      const result = await loop.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: resetTo }] });
      expect(result).toEqual({ previousCursor: t0, cursor: resetTo });
      expect((await loop.status()).cursor).toBe(resetTo); // shown at once, applied once the page is stored

      gate.open();
      const [stored, checkpoint] = await stubs.persisted(2);
      expect(stored.input).toMatchObject({ cursor: t0 + 50, content: { rows: tickets(2, t0 + 50) } });
      expect(checkpoint.input).toEqual({
        account: loop.account,
        content: { rows: [], fieldHeaders: {} },
        cursor: resetTo,
      });
      const [, second] = await stubs.fetched(2);
      expect(second.input.startTime).toBe(resetTo);
      expect((await loop.status()).cursor).toBe(resetTo);
    });
  });

  test('no fetch while paused; resume goes on from the same cursor', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(page(tickets(1, t0 + 9), { endTime: t0 + 9 }));
    const input = { startTime: t0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      await stubs.persisted(1);
      await loop.handle.signal(pauseSignal);
      const paused = await loop.statusWhen('paused', (s) => s.phase === 'paused');
      expect(paused).toMatchObject({ paused: true, state: 'paused', nextCallAt: null, cursor: t0 + 9 });
      const callsWhenPaused = stubs.fetches.length;
      await sleepMs(1200); // six poll intervals
      expect(stubs.fetches).toHaveLength(callsWhenPaused);

      await loop.handle.signal(resumeSignal);
      const calls = await stubs.fetched(callsWhenPaused + 1, 8000);
      expect(calls[callsWhenPaused].input.startTime).toBe(t0 + 9);
      expect((await loop.status()).paused).toBe(false);
    });
  });
});
