import { randomUUID } from 'node:crypto';
import type { SinkOptions, TicketRow, TicketSink } from '../../src/storage/sink';

/**
 * The cases every sink passes for ticket_version: test/unit/sqlite-sink.test.ts runs them on SQLite,
 * test/integration/storage.test.ts on PostgreSQL.
 */

const row = (id: number, gts: number, extra: Record<string, unknown> = {}): TicketRow => ({
  id,
  generated_timestamp: gts,
  updated_at: new Date(gts * 1000).toISOString().replace('.000Z', 'Z'),
  status: 'Open',
  subject: `ticket ${id} at ${gts}`,
  ...extra,
});

/** A small deterministic generator (mulberry32): the same pages on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ticketVersionCases(open: (options?: SinkOptions) => Promise<TicketSink>): void {
  let sink: TicketSink;
  let account: string;
  beforeEach(() => {
    account = `acct-${randomUUID()}`;
  });
  afterEach(async () => sink.close());

  const versionsOf = async () =>
    (await sink.readTicketVersions(account)).map((v) => [v.id, v.generatedTimestamp, JSON.parse(v.data).subject]);
  const persist = (rows: TicketRow[], cursor: number) => sink.persistPage({ account, rows, fieldHeaders: {}, cursor });

  test('versions accumulate across pages; a boundary repeat, a replay and an older copy add nothing twice', async () => {
    sink = await open();
    const first = [row(1, 100), row(2, 100)];
    const second = [row(1, 100), row(1, 110), row(3, 110)];
    await persist(first, 100);
    await persist(second, 110);
    // An older version than the stored ticket, first seen now: tickets ignores it, ticket_version keeps it.
    expect(await persist([row(1, 105)], 110)).toEqual({
      written: 0,
      ignoredOlder: 1,
      rejected: 0,
      rejectedSideloads: 0,
    });
    // A replay of every page (at-least-once delivery, a reset cursor).
    await persist(first, 100);
    await persist(second, 110);
    expect(await versionsOf()).toEqual([
      [1, 100, 'ticket 1 at 100'],
      [1, 105, 'ticket 1 at 105'],
      [1, 110, 'ticket 1 at 110'],
      [2, 100, 'ticket 2 at 100'],
      [3, 110, 'ticket 3 at 110'],
    ]);
    // The versions are the rows as received, like tickets'.
    const [newest] = (await sink.readTicketVersions(account)).filter((v) => v.id === 1 && v.generatedTimestamp === 110);
    expect(newest).toMatchObject({
      status: 'open',
      updatedAt: row(1, 110).updated_at,
      data: JSON.stringify(row(1, 110)),
    });
    expect(await sink.readTicketVersions(`${account}-other`)).toEqual([]);
  });

  test('two versions with the same generated_timestamp and other content: the later write is kept', async () => {
    sink = await open();
    await persist([row(1, 100, { subject: 'a' }), row(1, 100, { subject: 'b, later in the page' })], 100);
    await persist([row(2, 100, { subject: 'c' })], 100);
    await persist([row(2, 100, { subject: 'd, a later page' })], 100);
    expect(await versionsOf()).toEqual([
      [1, 100, 'b, later in the page'],
      [2, 100, 'd, a later page'],
    ]);
  });

  test('rows set aside and pages rolled back leave no version', async () => {
    sink = await open();
    await persist([row(1, 100), row(2 ** 63, 100), { ...row(4, 100), generated_timestamp: 1.5 }], 100);
    await expect(persist([row(1, 120), row(5, 120)], null as unknown as number)).rejects.toBeDefined();
    expect(await versionsOf()).toEqual([[1, 100, 'ticket 1 at 100']]);
  });

  test('SINK_TICKET_VERSIONS=off: tickets are stored, no version is', async () => {
    sink = await open({ ticketVersions: false });
    await persist([row(1, 100), row(1, 110), row(2, 100)], 110);
    expect(await sink.countTickets(account)).toBe(2);
    expect(await sink.readTicketVersions(account)).toEqual([]);
  });

  test('the count of versions per ticket is the number of distinct generated_timestamps the export saw', async () => {
    sink = await open();
    const next = random(24);
    const seen = new Map<number, Set<number>>();
    const pages: TicketRow[][] = [];
    for (let p = 0; p < 30; p++) {
      const rows = Array.from({ length: 1 + Math.floor(next() * 40) }, () =>
        row(1 + Math.floor(next() * 25), 1000 + Math.floor(next() * 12) * 10),
      );
      pages.push(rows);
      // Every fifth page comes again (a boundary repeat, a retried activity).
      if (p % 5 === 4) pages.push(pages[p - 2]);
    }
    for (const [i, rows] of pages.entries()) {
      for (const r of rows) seen.set(r.id, (seen.get(r.id) ?? new Set()).add(r.generated_timestamp));
      await persist(rows, 1000 + i);
    }
    const perTicket = new Map<number, number>();
    for (const v of await sink.readTicketVersions(account)) perTicket.set(v.id, (perTicket.get(v.id) ?? 0) + 1);
    expect(Object.fromEntries(perTicket)).toEqual(
      Object.fromEntries([...seen].map(([id, timestamps]) => [id, timestamps.size])),
    );
    // The stored ticket is the newest of its versions.
    for (const ticket of await sink.readTickets(account)) {
      expect(ticket.generatedTimestamp).toBe(Math.max(...seen.get(ticket.id)!));
    }
  });
}
