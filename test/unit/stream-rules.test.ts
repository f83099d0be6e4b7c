import {
  afterStreamPage,
  FetchedStreamPage,
  nextStreamRequest,
  streamPageProblem,
} from '../../src/workflows/stream-rules';
import { pickTurn } from '../../src/workflows/stream-schedule';
import type { FetchStreamInput, StreamRow } from '../../src/streams/contract';
import type { AroundStream } from '../../src/streams/names';

// The cursor rules of the streams around the ticket, and which stream's turn comes next.

const NOW = 1_760_000_000;

function page(rows: number, fields: Partial<FetchedStreamPage> & { newest?: number } = {}): FetchedStreamPage {
  const { newest = NOW - 100, ...rest } = fields;
  const list: StreamRow[] = Array.from({ length: rows }, (_, i) => ({ id: i + 1 }));
  return {
    kind: 'page',
    requestedAt: 0,
    completedAt: 0,
    vouchedUntil: NOW,
    summary: { rows, setAside: 0, newest: rows ? newest : 0, oldest: rows ? newest - 10 : null, bytes: 10 },
    content: { rows: list },
    endTime: null,
    afterCursor: null,
    endOfStream: false,
    ...rest,
  };
}

const request = (stream: AroundStream, startTime: number, perPage = 1000): FetchStreamInput => ({
  account: 'acme',
  stream,
  startTime,
  perPage,
});

describe('nextStreamRequest', () => {
  test('time-based streams send start_time; users and metric events their cursor once they have one', () => {
    const context = { account: 'acme', perPage: 1000, supportTypeScope: 'all' as const };
    expect(nextStreamRequest('ticket_events', { cursor: 5, afterCursor: null }, context)).toEqual({
      account: 'acme',
      stream: 'ticket_events',
      startTime: 5,
      perPage: 1000,
      supportTypeScope: 'all',
    });
    expect(nextStreamRequest('organizations', { cursor: 5, afterCursor: 'x' }, context).afterCursor).toBeUndefined();
    expect(nextStreamRequest('users', { cursor: 5, afterCursor: 'u1' }, context).afterCursor).toBe('u1');
    const metric = nextStreamRequest('ticket_metric_events', { cursor: 5, afterCursor: 'm1' }, context);
    expect(metric).toMatchObject({ afterCursor: 'm1', perPage: 100 });
    expect(nextStreamRequest('users', { cursor: 5, afterCursor: null, perPage: 250 }, context).perPage).toBe(250);
  });
});

describe('afterStreamPage', () => {
  test('a time-based page moves the cursor to its end_time, capped at the answer’s own time', () => {
    const next = afterStreamPage(
      'ticket_events',
      { cursor: 100, afterCursor: null },
      request('ticket_events', 100),
      page(5, { endTime: 200 }),
    );
    expect(next).toMatchObject({ cursor: 200, caughtUp: false });
    const ahead = afterStreamPage(
      'organizations',
      { cursor: 100, afterCursor: null },
      request('organizations', 100),
      page(5, { endTime: NOW + 50 }),
    );
    expect(ahead.cursor).toBe(NOW);
  });

  test('an oversize page of one second is accepted; a full page that repeats its second is stepped past once', () => {
    const oversize = page(1500, { endTime: 300, newest: 300 });
    expect(
      afterStreamPage('ticket_events', { cursor: 100, afterCursor: null }, request('ticket_events', 100), oversize)
        .cursor,
    ).toBe(300);
    const repeat = page(1000, { endTime: 300, newest: 300 });
    const next = afterStreamPage(
      'organizations',
      { cursor: 300, afterCursor: null },
      request('organizations', 300),
      repeat,
    );
    expect(next.cursor).toBe(301);
    expect(next.warnings.join()).toMatch(/stepped to the next second/);
    // Below the largest page, the crowded second is asked again once with it before any stepping.
    const small = afterStreamPage(
      'ticket_events',
      { cursor: 300, afterCursor: null },
      request('ticket_events', 300, 50),
      page(50, { endTime: 300, newest: 300 }),
    );
    expect(small).toMatchObject({ cursor: 300, perPage: 1000, crowdedSecond: 300 });
    expect(small.warnings.join()).toMatch(/asking that second again with per_page=1000/);
    const again = afterStreamPage(
      'ticket_events',
      { cursor: 300, afterCursor: null, crowdedSecond: 300 },
      request('ticket_events', 300, 500),
      page(500, { endTime: 300, newest: 300 }),
    );
    expect(again.cursor).toBe(301);
    expect(again.crowdedSecond).toBeUndefined();
    const notFull = page(10, { endTime: 300, newest: 300, endOfStream: true });
    expect(
      afterStreamPage('organizations', { cursor: 300, afterCursor: null }, request('organizations', 300), notFull),
    ).toMatchObject({ cursor: 300, caughtUp: true });
  });

  test('an empty page keeps the cursor; an end_time before start_time keeps it with a warning', () => {
    expect(
      afterStreamPage(
        'ticket_events',
        { cursor: 100, afterCursor: null },
        request('ticket_events', 100),
        page(0, { endOfStream: true }),
      ),
    ).toMatchObject({ cursor: 100, caughtUp: true });
    const back = afterStreamPage(
      'ticket_events',
      { cursor: 100, afterCursor: null },
      request('ticket_events', 100),
      page(3, { endTime: 50 }),
    );
    expect(back.cursor).toBe(100);
    expect(back.warnings).toHaveLength(1);
  });

  test('users carry on by after_cursor, also after the end of the stream', () => {
    const next = afterStreamPage(
      'users',
      { cursor: 0, afterCursor: null },
      request('users', 0),
      page(3, { afterCursor: 'u2', endOfStream: true, newest: 900 }),
    );
    expect(next).toEqual({ cursor: 900, afterCursor: 'u2', caughtUp: true, warnings: [] });
    const stuck = afterStreamPage(
      'users',
      { cursor: 900, afterCursor: 'u2' },
      request('users', 900),
      page(3, { afterCursor: 'u2', newest: 900 }),
    );
    expect(stuck.caughtUp).toBe(true);
    expect(stuck.warnings.join()).toMatch(/did not advance/);
  });

  test('metric events page by page[after] while there is more, then start again from the newest stored time', () => {
    const more = afterStreamPage(
      'ticket_metric_events',
      { cursor: 0, afterCursor: null },
      request('ticket_metric_events', 0, 100),
      page(100, { afterCursor: 'm1', newest: 500 }),
    );
    expect(more).toMatchObject({ cursor: 500, afterCursor: 'm1', caughtUp: false });
    const done = afterStreamPage(
      'ticket_metric_events',
      { cursor: 500, afterCursor: 'm1' },
      request('ticket_metric_events', 500, 100),
      page(7, { afterCursor: 'm2', endOfStream: true, newest: 640 }),
    );
    expect(done).toMatchObject({ cursor: 640, afterCursor: null, caughtUp: true });
    // A page whose first rows are older than the cursor (it straddles the checkpoint) never moves it back.
    const straddles = afterStreamPage(
      'ticket_metric_events',
      { cursor: 700, afterCursor: null },
      request('ticket_metric_events', 700, 100),
      page(5, { newest: 650, endOfStream: true }),
    );
    expect(straddles.cursor).toBe(700);
  });
});

describe('streamPageProblem', () => {
  test('a page whose content does not match its summary, or with a time from far ahead, is refused', () => {
    expect(streamPageProblem(page(3))).toBeUndefined();
    const short = page(3);
    short.content = { rows: [{ id: 1 }] };
    expect(streamPageProblem(short)).toMatch(/1 rows where the summary counts 3/);
    expect(streamPageProblem(page(3, { newest: NOW + 10 * 86_400 }))).toMatch(/newest/);
    expect(streamPageProblem({ ...page(1), content: { staged: 'nope', bytes: 1 } })).toMatch(/blob id/);
    expect(streamPageProblem({ ...page(1), afterCursor: 7 as never })).toMatch(/cursor/);
  });
});

describe('pickTurn', () => {
  test('the stream due first; among those due at once, the one that called longest ago', () => {
    expect(pickTurn([])).toBeUndefined();
    const turn = pickTurn([
      { stream: 'tickets', at: 100, lastCallAt: 50 },
      { stream: 'users', at: 90, lastCallAt: 80 },
    ]);
    expect(turn?.stream).toBe('users');
    const fair = pickTurn([
      { stream: 'tickets', at: 100, lastCallAt: 90 },
      { stream: 'ticket_events', at: 100, lastCallAt: 60 },
      { stream: 'organizations', at: 100, lastCallAt: 70 },
    ]);
    expect(fair?.stream).toBe('ticket_events');
    expect(
      pickTurn([
        { stream: 'a', at: 1, lastCallAt: 5 },
        { stream: 'b', at: 1, lastCallAt: null },
      ])?.stream,
    ).toBe('b');
  });
});
