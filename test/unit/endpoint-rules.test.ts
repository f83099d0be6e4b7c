import { fingerprint } from '../../src/activities/page-summary';
import { STORED_TAIL_MAX_TICKETS } from '../../src/activities/types';
import type { TicketRow } from '../../src/storage/sink';
import {
  afterPage,
  checkpointAt,
  FetchedPage,
  nextRequest,
  reachedEnd,
  storedAlready,
  storedTail,
} from '../../src/workflows/endpoint-rules';
import { page as stubPage } from '../workflow/stub-activities';
import { defaultMinStartAgeSeconds, EXPORT_DEFAULTS, resolveSettings } from '../../src/workflows/settings';

const SIZES = { pageSize: 1000, perPage: 100 };
const T0 = 1_700_000_000;

function rows(...timestamps: number[]): TicketRow[] {
  return timestamps.map((generated_timestamp, i) => ({ id: i + 1, generated_timestamp }));
}

function page({ rows, ...fields }: { rows: TicketRow[] } & Parameters<typeof stubPage>[1]): FetchedPage {
  return { ...(stubPage(rows, fields) as Omit<FetchedPage, 'requestedAt'>), requestedAt: 0, completedAt: 0 };
}

describe('nextRequest', () => {
  const input = { account: 'acme' };

  test('exports: start_time is the cursor, nothing else', () => {
    expect(nextRequest('exports', { cursor: T0 }, input, 100)).toEqual({ account: 'acme', startTime: T0 });
  });

  test('incremental: start_time, per_page (a 504 lowered it), sideloads and deleted tickets as asked', () => {
    const state = { cursor: T0, perPage: 50 };
    expect(nextRequest('incremental', state, { ...input, include: ['users'], excludeDeleted: true }, 100)).toEqual({
      account: 'acme',
      api: 'incremental',
      startTime: T0,
      perPage: 50,
      include: ['users'],
      excludeDeleted: true,
    });
  });

  test('incremental inside a crowded second: the cursor endpoint from that second, then its after_cursor', () => {
    const trapped = { cursor: T0, trap: { startTime: T0 + 5, afterCursor: null } };
    expect(nextRequest('incremental', trapped, input, 100)).toMatchObject({ api: 'cursor', startTime: T0 + 5 });
    expect(nextRequest('incremental', trapped, input, 100)).not.toHaveProperty('cursor');
    const paging = { cursor: T0, trap: { startTime: T0 + 5, afterCursor: 'abc' } };
    expect(nextRequest('incremental', paging, input, 100)).toMatchObject({ api: 'cursor', afterCursor: 'abc' });
  });

  test('cursor: the after_cursor once there is one, start_time before', () => {
    expect(nextRequest('cursor', { cursor: T0 }, input, 100)).toEqual({
      account: 'acme',
      api: 'cursor',
      startTime: T0,
      perPage: 100,
    });
    expect(nextRequest('cursor', { cursor: T0, afterCursor: 'xyz' }, input, 100)).toMatchObject({ afterCursor: 'xyz' });
  });
});

describe('afterPage', () => {
  test('exports: the cursor moves to end_time; flags untouched', () => {
    const next = afterPage(
      'exports',
      { cursor: T0 },
      { account: 'a', startTime: T0 },
      page({ rows: rows(T0 + 1), endTime: T0 + 9 }),
      SIZES,
    );
    expect(next).toEqual({ cursor: T0 + 9, afterCursor: null, flags: {}, warnings: [] });
  });

  test('exports: a full page at one timestamp is stepped past, with a warning', () => {
    const full = page({ rows: rows(...Array(1000).fill(T0)), endTime: T0 });
    const next = afterPage('exports', { cursor: T0 }, { account: 'a', startTime: T0 }, full, SIZES);
    expect(next.cursor).toBe(T0 + 1);
    expect(next.warnings).toHaveLength(1);
  });

  test('incremental: end_time and end_of_stream', () => {
    const request = { account: 'a', api: 'incremental' as const, startTime: T0, perPage: 100 };
    const next = afterPage(
      'incremental',
      { cursor: T0 },
      request,
      page({ rows: rows(T0 + 1, T0 + 2), endTime: T0 + 2, endOfStream: true }),
      SIZES,
    );
    expect(next).toEqual({ cursor: T0 + 2, afterCursor: null, flags: { caughtUp: true }, warnings: [] });
  });

  test('incremental: a full page sharing its start second enters the crowded-second path', () => {
    const request = { account: 'a', api: 'incremental' as const, startTime: T0, perPage: 3 };
    const next = afterPage(
      'incremental',
      { cursor: T0 },
      request,
      page({ rows: rows(T0, T0, T0), endTime: T0 }),
      SIZES,
    );
    expect(next.cursor).toBe(T0);
    expect(next.flags).toEqual({ caughtUp: false, trap: { startTime: T0, afterCursor: null } });
    expect(next.warnings[0]).toMatch(/reading that second through the cursor endpoint/);
  });

  test('incremental in a crowded second: stays until a later second shows up, then leaves the trap', () => {
    const trap = { startTime: T0, afterCursor: null };
    const request = { account: 'a', api: 'cursor' as const, startTime: T0, perPage: 3 };
    const inside = afterPage(
      'incremental',
      { cursor: T0, trap },
      request,
      page({ rows: rows(T0, T0, T0), afterCursor: 'c1' }),
      SIZES,
    );
    expect(inside).toMatchObject({ cursor: T0, flags: { trap: { startTime: T0, afterCursor: 'c1' } } });
    expect(trap.afterCursor).toBeNull(); // the state is not changed in place
    const out = afterPage(
      'incremental',
      { cursor: T0, trap: { startTime: T0, afterCursor: 'c1' } },
      request,
      page({ rows: rows(T0, T0 + 4), afterCursor: 'c2' }),
      SIZES,
    );
    expect(out).toMatchObject({ cursor: T0 + 4, flags: { trap: null } });
  });

  test('incremental: an end_time before the start_time keeps the cursor, with a warning', () => {
    const request = { account: 'a', api: 'incremental' as const, startTime: T0, perPage: 100 };
    const next = afterPage('incremental', { cursor: T0 }, request, page({ rows: rows(T0), endTime: T0 - 50 }), SIZES);
    expect(next.cursor).toBe(T0);
    expect(next.warnings).toEqual([`end_time ${T0 - 50} is before start_time ${T0}: cursor kept`]);
  });

  test('cursor: after_cursor continues; the cursor is the newest stored generated_timestamp', () => {
    const request = { account: 'a', api: 'cursor' as const, startTime: T0, perPage: 100 };
    const next = afterPage(
      'cursor',
      { cursor: T0, afterCursor: 'a1' },
      request,
      page({ rows: rows(T0 + 3, T0 + 7), afterCursor: 'a2', endOfStream: false }),
      SIZES,
    );
    expect(next).toEqual({ cursor: T0 + 7, afterCursor: 'a2', flags: { caughtUp: false }, warnings: [] });
  });

  test('cursor: an after_cursor that does not advance with tickets still coming waits the poll interval', () => {
    const request = { account: 'a', api: 'cursor' as const, startTime: T0, perPage: 100, cursor: 'a1' };
    const next = afterPage(
      'cursor',
      { cursor: T0, afterCursor: 'a1' },
      request,
      page({ rows: rows(T0 + 1), afterCursor: 'a1', endOfStream: false }),
      SIZES,
    );
    expect(next.flags).toEqual({ caughtUp: true });
    expect(next.warnings[0]).toMatch(/after_cursor did not advance/);
  });
});

test('checkpointAt and reachedEnd', () => {
  expect(checkpointAt('exports', { cursor: T0, afterCursor: 'x' })).toEqual({ cursor: T0 });
  expect(checkpointAt('cursor', { cursor: T0, afterCursor: 'x' })).toEqual({
    cursor: T0,
    afterCursor: 'x',
    api: 'cursor',
  });
  expect(reachedEnd('exports', page({ rows: rows(T0) }), 1000)).toBe(true);
  expect(reachedEnd('cursor', page({ rows: rows(T0), endOfStream: false }), 1000)).toBe(false);
});

describe("storedTail and storedAlready: an idle poll that only repeats the cursor's second", () => {
  const stay = (cursor: number) => ({ cursor, afterCursor: null, flags: {}, warnings: [] });
  const stored = page({ rows: rows(T0 - 5, T0, T0), endTime: T0 });
  const tail = storedTail(stored, T0);

  test('remembers the tickets at or past the cursor, by id and fingerprint', () => {
    expect(tail).toEqual({
      cursor: T0,
      tickets: [2, 3].map((id) => [id, expect.stringMatching(/^[0-9a-f]{32}$/)]),
      fieldHeaders: fingerprint('{}'),
    });
  });

  test('the same tickets again, cursor kept: nothing to store', () => {
    expect(storedAlready(tail, page({ rows: rows(T0 - 5, T0, T0).slice(1), endTime: T0 }), stay(T0))).toBe(true);
  });

  test('anything new is stored: another ticket, a change within the same second, a moved cursor, sideloads', () => {
    const again = rows(T0 - 5, T0, T0).slice(1);
    expect(storedAlready(tail, page({ rows: [...again, { id: 9, generated_timestamp: T0 }] }), stay(T0))).toBe(false);
    const changed = [again[0], { ...again[1], status: 'solved' } as TicketRow];
    expect(storedAlready(tail, page({ rows: changed }), stay(T0))).toBe(false);
    expect(storedAlready(tail, page({ rows: again }), stay(T0 + 1))).toBe(false);
    expect(storedAlready(tail, page({ rows: again, sideloads: { users: [] } }), stay(T0))).toBe(false);
    expect(storedAlready(tail, page({ rows: [] }), stay(T0))).toBe(false);
    expect(storedAlready(undefined, page({ rows: again }), stay(T0))).toBe(false);
  });

  test('a burst second is not remembered, nor a page with a set-aside ticket', () => {
    const burst = page({ rows: rows(...Array(STORED_TAIL_MAX_TICKETS + 1).fill(T0)) });
    expect(storedTail(burst, T0)).toBeUndefined();
    const setAside = [{ row: { id: -1, generated_timestamp: T0 }, reason: 'id: -1 is not a positive ticket id' }];
    expect(storedTail(page({ rows: rows(T0), setAside }), T0)).toBeUndefined();
  });

  test('fingerprint: equal rows print equal, a one-character change prints differently', () => {
    expect(fingerprint('{"id":1,"subject":"a"}')).toBe(fingerprint('{"id":1,"subject":"a"}'));
    expect(fingerprint('{"id":1,"subject":"a"}')).not.toBe(fingerprint('{"id":1,"subject":"b"}'));
  });
});

describe('resolveSettings', () => {
  test('defaults: 300 s pacing, the minimum start age of the endpoint', () => {
    expect(resolveSettings({}, 'exports')).toEqual({
      settings: {
        pollIntervalMs: 300_000,
        idleGapMs: 300_000,
        minStartAgeMs: 300_000,
        pagesPerRun: EXPORT_DEFAULTS.pagesPerRun,
        pageSize: 1000,
        requestsPerMinute: 10,
        usersRequestsPerMinute: 20,
        accountRequestsPerMinute: 30,
        referenceRefreshMs: 3_600_000,
        perPage: 1000,
      },
      warnings: [],
    });
    expect(resolveSettings({}, 'cursor').settings.minStartAgeMs).toBe(defaultMinStartAgeSeconds('cursor') * 1000);
    expect(defaultMinStartAgeSeconds('incremental')).toBe(60);
  });

  test('a value out of range falls back to its default with a warning naming it', () => {
    const { settings, warnings } = resolveSettings(
      { perPage: 5000, requestsPerMinute: 'fast', pollIntervalSeconds: 0 },
      'cursor',
    );
    expect(settings.perPage).toBe(1000);
    expect(settings.requestsPerMinute).toBe(10);
    expect(settings.idleGapMs).toBe(100); // at least 100 ms between calls once caught up, whatever the interval
    expect(warnings).toEqual([
      'input requestsPerMinute="fast" is invalid; using 10',
      'input perPage=5000 is invalid; using 1000',
    ]);
  });
});
