import { WorkflowUpdateFailedError } from '@temporalio/client';
import { pauseSignal, resetCursorSignal, resetCursorUpdate, resumeSignal } from '../../src/workflows/messages';
import { ZENDESK_CURSOR, ZENDESK_PAUSED } from '../../src/shared';
import { Harness, sleepMs, startHarness, waitFor } from '../helpers/harness';

describe('operator messages', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('pause stops calls, resume continues, reset moves the cursor and returns the previous one', async () => {
    h = await startHarness({ emulator: { ticketCount: 1500, windowSeconds: 0 } });
    await h.waitForTruth(30_000);

    await h.handle.signal(pauseSignal);
    await waitFor('paused', async () => (await h.status()).phase === 'paused', 10_000);
    const callsWhenPaused = h.emulator.stats().calls;
    await sleepMs(3000);
    expect(h.emulator.stats().calls).toBe(callsWhenPaused);
    const described = await h.handle.describe();
    expect(described.typedSearchAttributes.get(ZENDESK_PAUSED)).toBe(true);

    // Reset while paused: takes effect at once; calls resume only after resume.
    const result = await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: 0 }] });
    expect(result.cursor).toBe(0);
    expect(result.previousCursor).toBeGreaterThan(0);
    expect((await h.status()).cursor).toBe(0);
    const ticketsBefore = (await h.status()).ticketsStored;

    await h.handle.signal(resumeSignal);
    await waitFor(
      'a re-export after the reset',
      async () => (await h.status()).ticketsStored >= ticketsBefore + 1500,
      30_000,
    );
    const status = await h.status();
    expect(status.paused).toBe(false);
    const after = await h.handle.describe();
    expect(after.typedSearchAttributes.get(ZENDESK_PAUSED)).toBe(false);
    expect(after.typedSearchAttributes.get(ZENDESK_CURSOR)?.getTime()).toBe(status.cursor * 1000);
  });

  test('bad reset requests: the update is rejected with a reason, the signal is ignored with a warning', async () => {
    h = await startHarness({ emulator: { ticketCount: 200, windowSeconds: 0 } });
    await h.waitForTruth(30_000);
    const before = (await h.status()).cursor;
    const future = Math.floor(Date.now() / 1000) + 3600;
    for (const bad of [{ startTime: -5 }, { startTime: 1.5 }, { startTime: future }, { startTime: 'yesterday' }, {}]) {
      const attempt = h.handle.executeUpdate(resetCursorUpdate, { args: [bad as never] });
      await expect(attempt).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    }
    const rejection = await h.handle
      .executeUpdate(resetCursorUpdate, { args: [{ startTime: future }] })
      .catch((e) => e);
    expect((rejection as WorkflowUpdateFailedError).cause?.message).toMatch(/startTime \d+ is in the future/);
    await h.handle.signal(resetCursorSignal, { startTime: -1 });
    await h.handle.signal(resetCursorSignal, { startTime: 'soon' } as never);
    await waitFor('two warnings', async () => (await h.status()).warnings.length >= 2, 10_000);
    const status = await h.status();
    expect(status.warnings.join('\n')).toMatch(/resetCursor signal ignored: startTime must be >= 0/);
    expect(status.warnings.join('\n')).toMatch(/resetCursor signal ignored: startTime must be a whole number/);
    expect(status.cursor).toBeGreaterThanOrEqual(before);
    expect((await h.handle.describe()).status.name).toBe('RUNNING');

    // A good signal works: the next call asks from 0. (The cursor itself is back at `before` as soon as that page is
    // stored, sooner than a status poll can be sure to see it lower.)
    const calls = h.emulator.stats().calls;
    await h.handle.signal(resetCursorSignal, { startTime: 0 });
    await waitFor(
      'a call from the reset cursor',
      () =>
        h.emulator
          .stats()
          .log.slice(calls)
          .some((entry) => entry.startTime === 0),
      10_000,
    );
  });
});
