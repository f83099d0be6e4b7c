import { STREAMS } from '../../src/streams/names';
import { compareStreamsWithTruth } from '../helpers/stream-truth';
import { Harness, sleepMs, waitFor, withHarness } from '../helpers/harness';

// All five streams of one account against the emulator with live churn (replies, field changes, user and
// organization updates and deletions): every table ends equal to the emulator's truth, on SQLite and on PostgreSQL,
// and no bucket was ever called over its budget nor answered a 429 the export caused.

const EMULATOR = {
  ticketCount: 120,
  windowSeconds: 0,
  // Zendesk's buckets, scaled up 120×: the export paces itself below them.
  incrementalRequestsPerMinute: 1200,
  usersCursorRequestsPerMinute: 2400,
  incrementalMinStartAgeSeconds: 1,
};
const INPUT = {
  api: 'cursor' as const,
  streams: [...STREAMS],
  perPage: 200,
  pollIntervalSeconds: 1,
  minStartAgeSeconds: 1,
  requestsPerMinute: 600,
  usersRequestsPerMinute: 1200,
};

async function caughtUpEverywhere(h: Harness): Promise<boolean> {
  const status = await h.status();
  return (status.streams ?? []).length === STREAMS.length && (status.streams ?? []).every((s) => s.caughtUp);
}

async function untilEqualToTruth(h: Harness, timeoutMs = 90_000): Promise<void> {
  const shown = (s: Awaited<ReturnType<Harness['status']>>) =>
    JSON.stringify(
      s.streams?.map(({ stream, phase, caughtUp, cursor, rowsStored, calls, lastError }) => ({
        stream,
        phase,
        caughtUp,
        cursor,
        rowsStored,
        calls,
        lastError,
      })),
    );
  await waitFor(
    'every stream equal to the truth',
    async () => {
      if (!(await caughtUpEverywhere(h))) return false;
      const tickets = await h.compareWithTruth();
      const streams = await compareStreamsWithTruth(h.sink, h.emulator, h.account);
      if (tickets || streams) throw new Error(`${tickets}\n${streams}`.trim());
      return true;
    },
    timeoutMs,
    500,
  ).catch(async (err) => {
    const status = await h.status();
    throw new Error(`${err.message}\nstreams: ${shown(status)}\nwarnings: ${status.warnings.join('\n')}`);
  });
}

describe.each(['sqlite', 'postgres'] as const)('streams around the ticket on %s', (sink) => {
  test('a live run with churn ends with every table equal to the truth, within every bucket', async () => {
    await withHarness({ sink, emulator: EMULATOR, input: INPUT }, async (h) => {
      await untilEqualToTruth(h);
      const before = await compareStreamsWithTruth(h.sink, h.emulator, h.account);
      expect(before).toBe('');

      h.emulator.startMutations({ intervalMs: 100, perTick: 2 });
      await sleepMs(6000);
      h.emulator.stopMutations();
      // Churn changed every kind of row: replies, field changes, people.
      const stats = h.emulator.stats();
      await untilEqualToTruth(h);

      const tables = ['ticket_events', 'ticket_comments', 'ticket_field_changes', 'users', 'organizations'];
      for (const table of tables) expect(await h.sink.countStreamTable(h.account, table)).toBeGreaterThan(0);
      expect(await h.sink.countStreamTable(h.account, 'ticket_metric_events')).toBeGreaterThan(0);
      const users = await h.sink.readStreamTable(h.account, 'users');
      expect(users.some((u) => (u.data as { active?: boolean }).active === false)).toBe(true);
      const organizations = await h.sink.readStreamTable(h.account, 'organizations');
      expect(organizations.some((o) => o.deleted_at !== null)).toBe(true);

      const { buckets } = h.emulator.stats();
      expect(buckets.incremental.overBudget).toBe(0);
      expect(buckets.users_cursor.overBudget).toBe(0);
      expect(buckets.incremental.rateLimited).toBe(0);
      expect(buckets.users_cursor.rateLimited).toBe(0);
      expect(stats.byStream.ticket_events).toBeGreaterThan(0);

      const status = await h.status();
      for (const stream of status.streams ?? []) {
        expect(stream).toMatchObject({ blocked: false, lastError: null });
        expect(stream.rowsStored).toBeGreaterThan(0);
      }
      // Each stream's checkpoint is where its cursor stands.
      const checkpoints = await h.sink.readStreamTable(h.account, 'stream_checkpoints');
      for (const row of checkpoints) {
        const shown = status.streams?.find((s) => s.stream === row.stream);
        expect(row.cursor).toBe(shown?.cursor);
      }
      expect(checkpoints.map((c) => c.stream).sort()).toEqual(
        ['organizations', 'reference_lists', 'ticket_events', 'ticket_metric_events', 'users'].sort(),
      );
    });
  }, 300_000);
});
