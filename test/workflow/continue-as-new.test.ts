import type { ExportState } from '../../src/workflows/messages';
import { nowSeconds, runLoop, useTestServer } from './loop-env';
import { page, StubActivities, tickets } from './stub-activities';

// Continue-as-new bounds the history; the next run goes on from the state the last one carried over.

describe('workflow loop: continue-as-new', () => {
  const server = useTestServer();

  test('after pagesPerRun pages the run continues as new, carrying the cursor, the counters and the pacing', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities().onFetch(
      page(
        tickets(3, (i) => t0 + 1 + i),
        { endTime: t0 + 3 },
      ),
      page(
        tickets(3, (i) => t0 + 4 + i, 4),
        { endTime: t0 + 6 },
      ),
      page(tickets(1, t0 + 7, 7), { endTime: t0 + 7 }),
    );
    // No startTime: the first cursor is the sink's checkpoint, read once, by the first run only.
    stubs.checkpoint = { cursor: t0, api: 'exports', afterCursor: null };
    const input = { pollIntervalSeconds: 0.3, minStartAgeSeconds: 1, pageSize: 3, pagesPerRun: 2 };
    await runLoop(server, stubs, input, async (loop) => {
      const calls = await stubs.fetched(3);
      expect(calls.map((c) => c.input.startTime)).toEqual([t0, t0 + 3, t0 + 6]);
      expect(calls[0].runId).toBe(loop.firstRunId);
      expect(calls[1].runId).toBe(loop.firstRunId);
      expect(calls[2].runId).not.toBe(loop.firstRunId);
      expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(300); // the last call's time came along

      const firstRun = loop.handle.client.getHandle(loop.handle.workflowId, loop.firstRunId);
      expect((await firstRun.describe()).status.name).toBe('CONTINUED_AS_NEW');
      const status = await loop.statusWhen('the third page stored', (s) => s.pages === 3);
      expect(status).toMatchObject({ cursor: t0 + 7, ticketsStored: 7 });
      expect(status.calls).toBeGreaterThanOrEqual(3);
      expect(stubs.checkpointReads.map((c) => c.input)).toEqual([loop.account]);
      expect(stubs.persists.map((p) => p.input.cursor)).toEqual([t0 + 3, t0 + 6, t0 + 7]);
    });
  });

  test('a run that continued as new during a failure backoff waits it out', async () => {
    // A pagesPerRun continue-as-new always follows a stored page, which ends any backoff; the server's
    // continueAsNewSuggested can come at any time. The new run's input is then the state carried over.
    const t0 = nowSeconds() - 3600;
    // 6 s: the worker's creation and the workflow's start under load must not use up the backoff this case looks at.
    const notBefore = Date.now() + 6000;
    const state: ExportState = {
      api: 'exports',
      cursor: t0,
      paused: false,
      blocked: false,
      lastCallAt: Date.now() - 500,
      pages: 4,
      ticketsStored: 40,
      calls: 6,
      rateLimited: 0,
      lastPageSize: 10,
      lastError: '503 Service Unavailable',
      consecutiveFailures: 2,
      notBefore,
      warnings: [],
    };
    const stubs = new StubActivities().onFetch(page(tickets(1, t0 + 5), { endTime: t0 + 5 }));
    const input = { startTime: 0, pollIntervalSeconds: 0.2, minStartAgeSeconds: 1, state };
    await runLoop(server, stubs, input, async (loop) => {
      const backoff = await loop.statusWhen('backoff', (s) => s.phase === 'backoff');
      expect(backoff).toMatchObject({ cursor: t0, pages: 4, lastError: '503 Service Unavailable' });
      expect(backoff.nextCallAt).toBe(new Date(notBefore).toISOString());

      const [call] = await stubs.fetched(1, 10_000);
      expect(call.at).toBeGreaterThanOrEqual(notBefore);
      expect(call.input.startTime).toBe(t0); // the carried cursor, not the input's startTime
      expect(stubs.checkpointReads).toHaveLength(0);
      await loop.statusWhen('the page stored', (s) => s.pages === 5 && s.lastError === null);
    });
  });
});
