import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { REFERENCE_LISTS, STREAMS, type ReferenceList } from '../../src/streams/names';
import { Harness, waitFor, withHarness } from '../helpers/harness';
import { testPostgresUrl } from '../helpers/prerequisites';

// An export of every stream against the emulator: the five reference lists end equal to the emulator's truth on SQLite
// and PostgreSQL, a list changed between refreshes is read again (a deleted item marked deleted, not dropped), the
// account bucket is never called over its budget, and the typed views read the stored lists.

const EMULATOR = {
  ticketCount: 60,
  windowSeconds: 0,
  incrementalRequestsPerMinute: 1200,
  usersCursorRequestsPerMinute: 2400,
  accountRequestsPerMinute: 1200,
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
  accountRequestsPerMinute: 600,
  referenceRefreshSeconds: 2,
};

/** What differs between the stored lists (live rows) and the emulator's, or '' when they are equal. */
async function referenceDiff(h: Harness): Promise<string> {
  const problems: string[] = [];
  for (const list of REFERENCE_LISTS) {
    const stored = await h.sink.readStreamTable(h.account, list);
    const live = stored.filter((row) => row.deleted_at === null).map((row) => row.data);
    const truth = h.emulator.streamTruth(list);
    // PostgreSQL's jsonb orders an object's keys its own way: compared as values.
    if (canonical(live) !== canonical(truth)) {
      problems.push(`${list}: ${live.length} live rows stored, ${truth.length} in the truth`);
    }
  }
  return problems.join('; ');
}

/** JSON with every object's keys sorted. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

async function untilListsEqualTruth(h: Harness, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'the reference lists equal to the truth',
    async () => (await referenceDiff(h)) === '',
    timeoutMs,
    300,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${await referenceDiff(h)}`);
  });
}

async function viewRows(h: Harness, sink: 'sqlite' | 'postgres', sql: string): Promise<Record<string, unknown>[]> {
  if (sink === 'sqlite') {
    const db = new Database(h.dbFile, { readonly: true });
    try {
      return db.prepare(sql.replace('$1', '?')).all(h.account) as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const pool = new Pool({ connectionString: testPostgresUrl(), max: 1 });
  try {
    return (await pool.query(sql.replace(/FROM /g, 'FROM zendesk.'), [h.account])).rows;
  } finally {
    await pool.end();
  }
}

describe.each(['sqlite', 'postgres'] as const)('reference lists on %s', (sink) => {
  test('an export of all streams stores the lists as the emulator has them, and follows a change', async () => {
    await withHarness({ sink, emulator: EMULATOR, input: INPUT }, async (h) => {
      await untilListsEqualTruth(h);

      const group = h.emulator.streamTruth('groups')[1];
      const brand = h.emulator.streamTruth('brands')[0];
      h.emulator.changeReferenceList('groups', 'delete', group.id);
      h.emulator.changeReferenceList('brands', 'rename', brand.id);
      const added = h.emulator.changeReferenceList('ticket_fields', 'add')!;
      await untilListsEqualTruth(h);
      const groups = await h.sink.readStreamTable(h.account, 'groups');
      const deleted = groups.find((row) => row.id === group.id);
      expect(deleted?.deleted_at).not.toBeNull();
      expect((await h.sink.readStreamTable(h.account, 'ticket_fields')).map((r) => r.id)).toContain(added.id);

      const { buckets, byStream } = h.emulator.stats();
      expect(buckets.account.overBudget).toBe(0);
      expect(buckets.account.rateLimited).toBe(0);
      // A whole refresh, then at least the three lists changed.
      expect(byStream.reference_lists).toBeGreaterThanOrEqual(REFERENCE_LISTS.length + 3);
      const row = (await h.status()).streams?.find((s) => s.stream === 'reference_lists');
      expect(row).toMatchObject({ bucket: 'account', blocked: false, lastError: null });

      const count = async (view: string) =>
        Number((await viewRows(h, sink, `SELECT COUNT(*) AS n FROM ${view} WHERE account = $1`))[0].n);
      const truthCount = (list: ReferenceList) => h.emulator.streamTruth(list).length;
      expect(await count('ticket_field')).toBe(truthCount('ticket_fields'));
      expect(await count('brand')).toBe(truthCount('brands'));
      expect(await count('ticket_form')).toBe(truthCount('ticket_forms'));
      expect(await count('ticket_form_history')).toBe(truthCount('ticket_forms'));
      expect(await count('custom_status')).toBe(truthCount('custom_statuses'));
      expect(await count('"group"')).toBe(truthCount('groups') + 1);
      const options = await viewRows(
        h,
        sink,
        'SELECT value FROM ticket_field_option WHERE account = $1 AND ticket_field_id = 360001 ORDER BY position',
      );
      expect(options.map((o) => o.value)).toEqual(['enterprise', 'business', 'starter']);
      const [gone] = await viewRows(h, sink, `SELECT is_deleted FROM "group" WHERE account = $1 AND id = ${group.id}`);
      expect(Boolean(gone.is_deleted)).toBe(true);
    });
  }, 240_000);
});
