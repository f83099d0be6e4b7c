import { ZENDESK_CURSOR } from '../../src/shared';
import { undecodablePayload } from '../../src/shared';
import type { FetchReply } from './stub-activities';
import { nowSeconds, runLoop, useTestServer } from './loop-env';
import { page, rowsOf, StubActivities, tickets } from './stub-activities';

// What the loop does with answers that used to wedge it or skip data: a failed attempt retried inside the pacing, a
// result it cannot read or believe, a renamed field on a quiet account, a cursor published on a task's own clock.

describe('workflow loop: robustness', () => {
  const server = useTestServer();

  test('a fetchPage attempt that fails outside the activity’s error mapping is retried no sooner than the pacing', async () => {
    const t0 = nowSeconds() - 3600;
    // A plain Error: what the SDK reports when it cannot encode a result. The default retry would come after 2 s.
    const stubs = new StubActivities().onFetch(
      new Error('the result could not be encoded'),
      page(tickets(2, t0 + 10), { endTime: t0 + 10, endOfStream: true }),
    );
    const input = { api: 'incremental' as const, startTime: t0, requestsPerMinute: 15, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async () => {
      const calls = await stubs.fetched(2, 20_000);
      expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(4000); // 15 a minute: 4 s apart, a retry too
    });
  });

  test('a result the workflow cannot read is a failed call with the reason, not a workflow task failing forever', async () => {
    const t0 = nowSeconds() - 3600;
    const unreadable = undecodablePayload('gzip payload refused: it inflates past 33554432 bytes') as unknown;
    const stubs = new StubActivities().onFetch(
      unreadable as FetchReply,
      page(tickets(2, t0 + 10), { endTime: t0 + 10, endOfStream: true }),
    );
    const input = { api: 'incremental' as const, startTime: t0, pollIntervalSeconds: 0.5, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      const status = await loop.statusWhen('the page after it stored', (s) => s.ticketsStored === 2, 20_000);
      expect(status.warnings.join('\n')).toMatch(/fetchPage result could not be decoded \(gzip payload refused/);
      expect(stubs.persists).toHaveLength(1);
      expect(status.cursor).toBe(t0 + 10);
    });
  });

  test('a page whose content does not match its summary is refused: nothing stored, the cursor stays', async () => {
    const t0 = nowSeconds() - 3600;
    const honest = page(tickets(3, t0 + 10), { endTime: t0 + 10, endOfStream: false });
    const forged = { ...honest, content: { rows: tickets(1, t0 + 10), fieldHeaders: {} } } as FetchReply;
    const farAhead = page(tickets(1, nowSeconds() + 5 * 86_400), { endTime: t0 + 20, vouchedUntil: nowSeconds() });
    const stubs = new StubActivities().onFetch(forged, farAhead, honest);
    const input = { api: 'incremental' as const, startTime: t0, pollIntervalSeconds: 0.5, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      const status = await loop.statusWhen('the honest page stored', (s) => s.ticketsStored === 3, 20_000);
      const warnings = status.warnings.join('\n');
      expect(warnings).toMatch(/fetchPage result refused: 1 rows where the summary counts 3/);
      expect(warnings).toMatch(/fetchPage result refused: newest \d+ is not a time before then/);
      expect(stubs.persists.map((p) => rowsOf(p.input).length)).toEqual([3]);
      expect((await stubs.fetched(3)).map((c) => c.input.startTime)).toEqual([t0, t0, t0]);
    });
  });

  test('an end_time ahead of the answer’s own time moves the cursor no further than that time', async () => {
    const now = nowSeconds();
    const t0 = now - 3600;
    const stubs = new StubActivities().onFetch(
      page(tickets(2, t0 + 10), { endTime: now + 3600, vouchedUntil: now - 30, endOfStream: true }),
    );
    const input = { api: 'incremental' as const, startTime: t0, pollIntervalSeconds: 30, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      const status = await loop.statusWhen('the page stored', (s) => s.pages === 1, 20_000);
      expect(status.cursor).toBe(now - 30);
      expect(status.warnings.join('\n')).toMatch(/end_time \d+ .* is 3630 s ahead of the answer's own time/);
    });
  });

  test('renamed field headers on a quiet specified export: the idle poll that repeats the stored second is stored', async () => {
    const t0 = nowSeconds() - 3600;
    const quiet = tickets(1, t0 + 5);
    const stubs = new StubActivities().onFetch(
      page(quiet, { endTime: t0 + 5, fieldHeaders: { field_360001: 'Tier' } }),
      page(quiet, { endTime: t0 + 5, fieldHeaders: { field_360001: 'Tier' } }), // nothing new: not stored again
      page(quiet, { endTime: t0 + 5, fieldHeaders: { field_360001: 'Customer tier' } }), // a renamed field
    );
    const input = { startTime: t0, pollIntervalSeconds: 0.3, minStartAgeSeconds: 1, pageSize: 3 };
    await runLoop(server, stubs, input, async () => {
      await stubs.fetched(4, 20_000);
      const stored = stubs.persists.map(({ input: p }) => ('fieldHeaders' in p.content ? p.content.fieldHeaders : {}));
      expect(stored).toEqual([{ field_360001: 'Tier' }, { field_360001: 'Customer tier' }]);
    });
  });

  test('the cursor search attribute is published by the times the stored pages recorded, not a task’s clock', async () => {
    const t0 = nowSeconds() - 3600;
    const base = Date.now();
    // Five pages stored a few ms apart in real time, but recorded 61 s apart: each cursor is due for publication.
    const stubs = new StubActivities().onFetch(
      ...[1, 2, 3, 4, 5].map((i) => page(tickets(1, t0 + i, i), { endTime: t0 + i, endOfStream: i === 5 })),
    );
    for (let i = 1; i <= 5; i++) stubs.onPersist({ written: 1, ignoredOlder: 0, completedAt: base + i * 61_000 });
    const input = { api: 'incremental' as const, startTime: t0, requestsPerMinute: 600, minStartAgeSeconds: 1 };
    await runLoop(server, stubs, input, async (loop) => {
      await loop.statusWhen('five pages stored', (s) => s.pages === 5, 20_000);
      const history = await loop.handle.fetchHistory();
      const published = (history.events ?? []).filter((event) => {
        const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
        return ZENDESK_CURSOR.name in fields;
      });
      // The first cursor at start, then one per stored page.
      expect(published.length).toBeGreaterThanOrEqual(6);
    });
  });
});
