import { resetCursorUpdate, resumeSignal } from '../../src/workflows/messages';
import { REFERENCE_LISTS } from '../../src/streams/names';
import { nowSeconds, runLoop, useTestServer } from './loop-env';
import { permanentFailure, rateLimited, streamPage, streamRows, StubActivities } from './stub-activities';

// The reference lists in the account's loop: each turn one page of one list, paced on the account bucket's clock; a
// refresh walks the five lists, then the stream idles until refresh start + the interval; 403, 429, reset.

const ACCOUNT_GAP_MS = 200;
const REFRESH_SECONDS = 3;

const input = (t0: number) => ({
  api: 'incremental' as const,
  streams: ['ticket_events' as const, 'reference_lists' as const],
  startTime: t0,
  minStartAgeSeconds: 1,
  requestsPerMinute: 6000,
  accountRequestsPerMinute: 60_000 / ACCOUNT_GAP_MS,
  referenceRefreshSeconds: REFRESH_SECONDS,
  pollIntervalSeconds: 0.5,
});

describe('workflow loop: reference lists', () => {
  const server = useTestServer();

  test('a refresh walks the lists page by page on the account bucket, then repeats after the interval', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities();
    // ticket_fields has two pages; every other list one (the stub's default: an empty last page).
    stubs.onStreamFetch(
      'reference_lists',
      streamPage(streamRows('reference_lists', 2, t0), 'reference_lists', { afterCursor: 'c1' }),
      streamPage(streamRows('reference_lists', 1, t0, 3), 'reference_lists', { endOfStream: true }),
    );
    await runLoop(server, stubs, input(t0), async (loop) => {
      const calls = await stubs.streamFetched('reference_lists', 7, 30_000);
      const lists = calls.map((c) => c.input.list);
      expect(lists.slice(0, 6)).toEqual(['ticket_fields', 'ticket_fields', ...REFERENCE_LISTS.slice(1)]);
      expect(calls[1].input.afterCursor).toBe('c1');
      // One clock for the account bucket: its calls at least the gap apart; ticket events do not wait behind them.
      for (let i = 1; i < 6; i++) expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(ACCOUNT_GAP_MS);
      expect(stubs.streamCalls('ticket_events').length).toBeGreaterThan(1);

      const persists = stubs.streamPersists.filter((p) => p.input.stream === 'reference_lists').slice(0, 6);
      const refreshIds = new Set(persists.map((p) => p.input.refresh?.refreshId));
      expect(refreshIds.size).toBe(1);
      const [refreshId] = [...refreshIds];
      expect(refreshId).toBeLessThanOrEqual(calls[0].at);
      expect(persists.map((p) => [p.input.refresh?.list, p.input.refresh?.lastPage])).toEqual([
        ['ticket_fields', false],
        ['ticket_fields', true],
        ...REFERENCE_LISTS.slice(1).map((list) => [list, true]),
      ]);
      expect(persists[5].input.checkpoint).toEqual({ cursor: Math.floor(refreshId! / 1000), afterCursor: null });

      // The next refresh: from the first list, no sooner than the interval after the last one started.
      expect(calls[6].input).toMatchObject({ list: 'ticket_fields' });
      expect(calls[6].input.afterCursor).toBeUndefined();
      expect(calls[6].at - refreshId!).toBeGreaterThanOrEqual(REFRESH_SECONDS * 1000);
      const row = (await loop.status()).streams?.find((s) => s.stream === 'reference_lists');
      expect(row?.bucket).toBe('account');
    });
  });

  test('idle between refreshes; a 429 holds the account bucket; a 403 blocks it alone; reset refreshes now', async () => {
    const t0 = nowSeconds() - 3600;
    const stubs = new StubActivities();
    stubs.onStreamFetch('reference_lists', rateLimited(1) as never);
    await runLoop(server, stubs, { ...input(t0), referenceRefreshSeconds: 3600 }, async (loop) => {
      const [limited] = await stubs.streamFetched('reference_lists', 2, 20_000);
      const after = stubs.streamCalls('reference_lists')[1];
      expect(after.at - limited.at).toBeGreaterThanOrEqual(1000);
      expect(after.input.list).toBe('ticket_fields');
      const idle = await loop.statusWhen(
        'refreshed and idle',
        (s) => s.streams?.find((r) => r.stream === 'reference_lists')?.phase === 'idle',
      );
      const row = idle.streams!.find((r) => r.stream === 'reference_lists')!;
      expect(row.caughtUp).toBe(true);
      expect(row.rateLimited).toBe(1);
      const done = stubs.streamCalls('reference_lists').length;

      stubs.onStreamFetch('reference_lists', permanentFailure('403 Forbidden: no access'));
      await loop.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: 0, stream: 'reference_lists' }] });
      const blocked = await loop.statusWhen(
        'reference_lists blocked',
        (s) => s.streams?.find((r) => r.stream === 'reference_lists')?.blocked === true,
      );
      expect(stubs.streamCalls('reference_lists')[done].input.list).toBe('ticket_fields');
      expect(blocked.streams?.find((r) => r.stream === 'ticket_events')?.blocked).toBe(false);
      const eventsBefore = stubs.streamCalls('ticket_events').length;
      await stubs.streamFetched('ticket_events', eventsBefore + 1);

      await loop.handle.signal(resumeSignal);
      await stubs.streamFetched('reference_lists', done + 1 + REFERENCE_LISTS.length);
      const refreshed = stubs
        .streamCalls('reference_lists')
        .slice(done + 1)
        .map((c) => c.input.list);
      expect(refreshed).toEqual([...REFERENCE_LISTS]);
    });
  });
});
