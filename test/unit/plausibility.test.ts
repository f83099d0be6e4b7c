import http from 'node:http';
import net from 'node:net';
import { inlinePage, pageJson, summarizePage } from '../../src/activities/page-summary';
import { formatStatus, StatusView } from '../../src/cli/format';
import { SqliteSink } from '../../src/storage/sqlite';
import type { TicketRow } from '../../src/storage/sink';
import { currentDetails } from '../../src/workflows/details';
import { ZendeskClient } from '../../src/zendesk/client';
import { ZendeskTransientError } from '../../src/zendesk/errors';
import {
  afterCursorProblem,
  countProblem,
  endTimeProblem,
  MAX_AHEAD_OF_ZENDESK_SECONDS,
  MAX_CURSOR_LENGTH,
  MAX_PAGE_COUNT,
  nestingDepth,
  separateImplausible,
  structureProblem,
  ticketProblem,
  ZENDESK_FOUNDED_SECONDS,
} from '../../src/zendesk/plausibility';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, MAX_TICKET_BYTES, MAX_TICKET_DEPTH } from '../../src/zendesk/limits';
import { isoMillis, isoSeconds } from '../../src/common/time-text';

const NOW = 1_750_000_000;
const context = { nowSeconds: NOW, startTime: 1_700_000_000 };
const DECADES = 30 * 365 * 86_400;

describe('bounds', () => {
  test('2007-01-01, a day ahead of Zendesk, 1000 tickets a page, 1024 characters a cursor', () => {
    expect(new Date(ZENDESK_FOUNDED_SECONDS * 1000).toISOString()).toBe('2007-01-01T00:00:00.000Z');
    expect(MAX_AHEAD_OF_ZENDESK_SECONDS).toBe(86_400);
    expect(MAX_PAGE_COUNT).toBe(1000);
    expect(MAX_CURSOR_LENGTH).toBe(1024);
  });
});

describe('endTimeProblem', () => {
  test.each([
    ['the start_time', 1_700_000_000],
    ['now on Zendesk', NOW],
    ['a day ahead of Zendesk', NOW + 86_400],
    ['before the start_time (the workflow keeps its cursor)', 1_600_000_000],
    ['2007-01-01', ZENDESK_FOUNDED_SECONDS],
  ])('accepts %s', (_label, endTime) => {
    expect(endTimeProblem(endTime, context)).toBeUndefined();
  });

  test('a first export from start_time 0 may get an end_time before 2007 (an empty account, a test)', () => {
    expect(endTimeProblem(0, { nowSeconds: NOW, startTime: 0 })).toBeUndefined();
    expect(endTimeProblem(10, { nowSeconds: NOW, startTime: 0 })).toBeUndefined();
  });

  test.each([
    [
      'decades ahead',
      NOW + DECADES,
      /^end_time: 2696\d+ \(2055-.*\) is more than 24 h ahead of Zendesk's clock \(1750000000 \(2025-/,
    ],
    ['a day and a second ahead', NOW + 86_401, /^end_time: 1750086401 .* more than 24 h ahead/],
    [
      'in milliseconds',
      NOW * 1000,
      /^end_time: 1750000000000 is in milliseconds \(1750000000 \(2025-06-15T.*\) in seconds\)/,
    ],
    ['beyond Number.MAX_SAFE_INTEGER', 2 ** 53 + 2, /^end_time: 9007199254740994 is beyond Number.MAX_SAFE_INTEGER/],
    ['before 2007', ZENDESK_FOUNDED_SECONDS - 1, /^end_time: 1167609599 \(2006-12-31T23:59:59Z\) is before 1167609600/],
    ['0 after a start_time in 2023', 0, /^end_time: 0 \(1970-01-01T00:00:00Z\) is before 1167609600/],
    ['negative from start_time 0', -5, /^end_time: -5 is negative/],
  ])('refuses an end_time %s, naming the field and the value', (_label, endTime, message) => {
    const startTime = endTime === -5 ? 0 : context.startTime;
    expect(endTimeProblem(endTime, { ...context, startTime })).toMatch(message);
  });

  test('is judged on the clock it is given (Zendesk ahead by an hour: an hour more)', () => {
    expect(endTimeProblem(NOW + 86_400 + 3600, { nowSeconds: NOW + 3600 })).toBeUndefined();
  });
});

describe('countProblem', () => {
  test.each([0, 1, 1000])('accepts %s', (count) => expect(countProblem(count)).toBeUndefined());
  test.each([1001, 1_000_000_000, 2 ** 60, -1])('refuses %s, naming count', (count) => {
    expect(countProblem(count)).toMatch(new RegExp(`^count: ${count} is not a page's ticket count \\(0-1000\\)`));
  });
});

describe('afterCursorProblem', () => {
  test.each([
    ['a Zendesk cursor', 'MTU3NjYxMzUzOS4wfHw0Njd8'],
    ['a base64url cursor', 'eyJ0IjoxNzAwMDAwMDAwLCJpIjo0Mn0'],
    ['the longest one taken', 'a'.repeat(MAX_CURSOR_LENGTH)],
  ])('accepts %s', (_label, cursor) => expect(afterCursorProblem(cursor)).toBeUndefined());

  test.each([
    ['too long', 'a'.repeat(MAX_CURSOR_LENGTH + 1), /^after_cursor: 1025 characters, more than the 1024/],
    ['empty', '', /^after_cursor: "" is not a cursor/],
    ['with a space', 'abc def', /^after_cursor: "abc def" is not a cursor/],
    ['with a line break', 'abc\ndef', /^after_cursor: "abc\\ndef" is not a cursor/],
    ['not ASCII', 'curseur-é', /^after_cursor: "curseur-é" is not a cursor/],
  ])('refuses one %s', (_label, cursor, message) => expect(afterCursorProblem(cursor)).toMatch(message));
});

describe('ticketProblem', () => {
  test.each([
    ['an ordinary ticket', { id: 42, generated_timestamp: 1_700_000_000 }],
    ['generated_timestamp 0', { id: 1, generated_timestamp: 0 }],
    [
      'the largest safe id',
      { id: Number.MAX_SAFE_INTEGER, generated_timestamp: NOW + DEFAULT_CLOCK_TOLERANCE_SECONDS },
    ],
  ])('accepts %s', (_label, row) => expect(ticketProblem(row, context)).toBeUndefined());

  test.each([
    ['a negative id', { id: -5, generated_timestamp: NOW }, /^id: -5 is not a positive ticket id$/],
    ['id 0', { id: 0, generated_timestamp: NOW }, /^id: 0 is not a positive ticket id$/],
    [
      'an id beyond Number.MAX_SAFE_INTEGER',
      { id: 2 ** 63, generated_timestamp: NOW },
      /^id: 9223372036854776000 is beyond Number.MAX_SAFE_INTEGER/,
    ],
    ['a negative generated_timestamp', { id: 1, generated_timestamp: -1 }, /^generated_timestamp: -1 is negative$/],
    [
      'a generated_timestamp beyond Number.MAX_SAFE_INTEGER',
      { id: 1, generated_timestamp: 2 ** 53 + 2 },
      /^generated_timestamp: 9007199254740994 is beyond Number.MAX_SAFE_INTEGER/,
    ],
    [
      'a generated_timestamp in milliseconds',
      { id: 1, generated_timestamp: 1_700_000_000_123 },
      /^generated_timestamp: 1700000000123 is in milliseconds \(1700000000 \(2023-11-14T22:13:20Z\) in seconds\), not epoch seconds$/,
    ],
    [
      'a generated_timestamp decades ahead',
      { id: 1, generated_timestamp: NOW + DECADES },
      /^generated_timestamp: \d+ \(2055-.*\) is more than 2 min ahead of Zendesk's clock/,
    ],
  ])('refuses %s, naming the field and the value', (_label, row, message) => {
    expect(ticketProblem(row, context)).toMatch(message);
  });

  test('separateImplausible keeps the order of the rest and gives each set-aside row its reason', () => {
    const rows = [
      { id: 1, generated_timestamp: 1_700_000_001 },
      { id: -2, generated_timestamp: 1_700_000_002 },
      { id: 3, generated_timestamp: 1_700_000_003 },
      { id: 4, generated_timestamp: 1_700_000_004_000 },
    ];
    const { rows: kept, setAside } = separateImplausible(rows, context);
    expect(kept.map((r) => r.row.id)).toEqual([1, 3]);
    expect(setAside).toEqual([
      { row: rows[1], reason: expect.stringMatching(/^id: -2/) },
      { row: rows[3], reason: expect.stringMatching(/^generated_timestamp: 1700000004000 is in milliseconds/) },
    ]);
    expect(setAside[0].row).toBe(rows[1]); // the object as received, stored as is
  });
});

describe('set-aside tickets on their way from fetchPage to persist', () => {
  const trusted: TicketRow[] = [
    { id: 7, generated_timestamp: 1_700_000_050 },
    { id: 8, generated_timestamp: 1_700_000_090 },
  ];
  const bad = {
    row: { id: 9, generated_timestamp: 1_700_000_000_000, subject: 'x' },
    reason: 'generated_timestamp: …',
  };
  const read = (rows: TicketRow[], setAside: (typeof bad)[]) => ({
    rows,
    rowTexts: rows.map((row) => JSON.stringify(row)),
    setAside,
    fieldHeaders: {},
    endTime: null,
    vouchedUntil: 1_700_000_100,
  });

  test('the summary counts set-aside tickets in the page size but takes neither its newest nor its oldest time', () => {
    const summary = summarizePage(read(trusted, [bad, bad]), 0);
    expect(summary).toMatchObject({ tickets: 4, setAside: 2, newest: 1_700_000_090, oldest: 1_700_000_050 });
  });

  test('a page of set-aside tickets only: no time at all, which moves no cursor', () => {
    expect(summarizePage(read([], [bad]), 0)).toMatchObject({ tickets: 1, setAside: 1, newest: 0, oldest: null });
  });

  test('persist gets them apart from the tickets, after a trip through the history (JSON)', () => {
    const travelled = JSON.parse(pageJson(read(trusted, [bad]))) as unknown;
    expect(travelled).toEqual({ rows: trusted, fieldHeaders: {}, setAside: [bad] });
    expect(inlinePage(read(trusted, [bad]))).toEqual(travelled);
  });
});

describe('a ticket that cannot be serialised (nested too deep, too large)', () => {
  function nested(depth: number): Record<string, unknown> {
    let value: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < depth; i++) value = { child: value };
    return value;
  }

  test('nestingDepth counts without recursion, and gives up past the limit', () => {
    expect(nestingDepth(1)).toBe(0);
    expect(nestingDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(nestingDepth(nested(200_000))).toBe(MAX_TICKET_DEPTH + 1);
  });

  test('a ticket nested 200,000 deep (JSON.parse takes it, JSON.stringify cannot) is set aside with a stand-in', () => {
    const text = `{"id":5,"generated_timestamp":1700000000,"custom":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const deep = JSON.parse(text) as TicketRow;
    // With a replacer, JSON.stringify recurses on every Node; without one it does on Node 22 but not on Node 26 (V8 14
    // writes plain data iteratively): MAX_TICKET_DEPTH says why the ticket is set aside on both.
    expect(() => JSON.stringify(deep, (_key, value: unknown) => value)).toThrow(RangeError);
    const { rows: kept, setAside } = separateImplausible(
      [deep, { id: 6, generated_timestamp: 1_700_000_000 }],
      context,
    );
    expect(kept.map((r) => r.row.id)).toEqual([6]);
    expect(setAside).toEqual([
      {
        row: {
          id: 5,
          generated_timestamp: 1_700_000_000,
          not_stored: `the ticket nested more than ${MAX_TICKET_DEPTH} levels deep`,
        },
        reason: `the ticket nested more than ${MAX_TICKET_DEPTH} levels deep`,
      },
    ]);
    expect(() => JSON.stringify(setAside)).not.toThrow();
  });

  test('a ticket of more than MAX_TICKET_BYTES of JSON is set aside; one just under is kept', () => {
    const big = { id: 1, generated_timestamp: 1_700_000_000, description: 'x'.repeat(MAX_TICKET_BYTES) };
    expect(structureProblem(big)).toEqual({ problem: expect.stringMatching(/more than the 8 MiB a ticket takes/) });
    const fits = { id: 1, generated_timestamp: 1_700_000_000, description: 'x'.repeat(MAX_TICKET_BYTES - 100) };
    expect(structureProblem(fits)).toEqual({ json: JSON.stringify(fits) });
  });
});

describe('times ahead of the answer’s own clock', () => {
  const now = { nowSeconds: NOW };

  test('a ticket dated within the tolerance is taken; one further ahead is set aside, naming the Date header', () => {
    expect(ticketProblem({ id: 1, generated_timestamp: NOW + DEFAULT_CLOCK_TOLERANCE_SECONDS }, now)).toBeUndefined();
    expect(ticketProblem({ id: 1, generated_timestamp: NOW + DEFAULT_CLOCK_TOLERANCE_SECONDS + 1 }, now)).toMatch(
      /^generated_timestamp: .* is more than 2 min ahead of Zendesk's clock .*the answer's Date header/,
    );
    // An hour ahead: taken before (the bound was a day), now set aside; the tolerance is a setting.
    expect(ticketProblem({ id: 1, generated_timestamp: NOW + 3600 }, now)).toBeDefined();
    expect(
      ticketProblem({ id: 1, generated_timestamp: NOW + 3600 }, { ...now, toleranceSeconds: 3600 }),
    ).toBeUndefined();
  });

  test('an end_time up to a day ahead is no broken answer (the cursor stops at the answer’s time instead)', () => {
    expect(endTimeProblem(NOW + 3600, context)).toBeUndefined();
    expect(endTimeProblem(NOW + MAX_AHEAD_OF_ZENDESK_SECONDS + 1, context)).toBeDefined();
  });
});

describe('the SQLite sink and set-aside tickets', () => {
  test('set aside in rejected_tickets with the reason, in the page transaction, counted as rejected', async () => {
    const sink = new SqliteSink(':memory:');
    try {
      const negative = { id: -5, generated_timestamp: 1_700_000_000, subject: 'odd' };
      const millis = { id: 11, generated_timestamp: 1_700_000_000_000 };
      const result = await sink.persistPage({
        account: 'acme',
        rows: [{ id: 10, generated_timestamp: 1_700_000_000 }],
        fieldHeaders: {},
        cursor: 1_700_000_000,
        setAside: [
          { row: negative, reason: 'id: -5 is not a positive ticket id' },
          { row: millis, reason: 'generated_timestamp: 1700000000000 is in milliseconds' },
        ],
      });
      expect(result).toEqual({ written: 1, ignoredOlder: 0, rejected: 2, rejectedSideloads: 0 });
      expect(await sink.readRejected('acme')).toEqual([
        {
          ticketId: '-5',
          generatedTimestamp: 1_700_000_000,
          data: JSON.stringify(negative),
          error: 'id: -5 is not a positive ticket id',
        },
        {
          ticketId: '11',
          generatedTimestamp: 1_700_000_000_000,
          data: JSON.stringify(millis),
          error: 'generated_timestamp: 1700000000000 is in milliseconds',
        },
      ]);
      expect(await sink.countTickets('acme')).toBe(1);
      expect(await sink.readCheckpoint('acme')).toBe(1_700_000_000);
    } finally {
      await sink.close();
    }
  });
});

describe('the Zendesk client checks what it parses', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A server answering every call with `body` (and this Date header, else the real time). */
  async function clientFor(body: unknown, date?: string): Promise<ZendeskClient> {
    const server = http.createServer((_req, res) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (date) headers.Date = date;
      res.writeHead(200, headers).end(JSON.stringify(body));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ZendeskClient({
      baseUrl: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
      auth: { mode: 'api_token', email: 'a@b.test', apiToken: 'zd-token-plausible' },
    });
  }

  const nowS = () => Math.floor(Date.now() / 1000);

  async function failure(call: Promise<unknown>): Promise<Error> {
    return call.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: Error) => err,
    );
  }

  test('an end_time decades ahead: a transient error naming end_time, like a body that does not match', async () => {
    const endTime = nowS() + DECADES;
    const zendesk = await clientFor({ results: [{ id: 1, generated_timestamp: nowS() - 60 }], end_time: endTime });
    const err = await failure(zendesk.fetchExportPage(nowS() - 3600));
    expect(err).toBeInstanceOf(ZendeskTransientError);
    expect(err.message).toMatch(
      new RegExp(`: the body holds an implausible value: end_time: ${endTime} \\(.*\\) is more than 24 h ahead`),
    );
  });

  test('time-based: an absurd count and end_time are both named', async () => {
    const zendesk = await clientFor({ tickets: [], count: 10 ** 9, end_time: nowS() * 1000, end_of_stream: true });
    const err = await failure(zendesk.fetchTimeBasedPage({ startTime: nowS() - 3600 }));
    expect(err.message).toMatch(/implausible value: end_time: \d+ is in milliseconds .*; count: 1000000000 is not/);
  });

  test('cursor-based: an after_cursor of 5000 characters', async () => {
    const zendesk = await clientFor({ tickets: [], after_cursor: 'c'.repeat(5000), end_of_stream: false });
    const err = await failure(zendesk.fetchCursorPage({ startTime: nowS() - 3600 }));
    expect(err.message).toMatch(/implausible value: after_cursor: 5000 characters/);
  });

  test('implausible tickets come apart from the page with their reasons; the rest is the page', async () => {
    const good = { id: 1, generated_timestamp: nowS() - 60, subject: 'fine' };
    const negative = { id: -1, generated_timestamp: nowS() - 60 };
    const millis = { id: 2, generated_timestamp: (nowS() - 60) * 1000 };
    const zendesk = await clientFor({ tickets: [negative, good, millis], end_of_stream: true });
    const outcome = await zendesk.fetchCursorPage({ startTime: nowS() - 3600 });
    expect(outcome).toMatchObject({
      kind: 'page',
      rows: [good],
      setAside: [
        { row: negative, reason: 'id: -1 is not a positive ticket id' },
        { row: millis, reason: expect.stringMatching(/^generated_timestamp: \d+ is in milliseconds/) },
      ],
    });
  });

  test("Zendesk's clock from its Date header: a ticket an hour ahead of the worker is no problem", async () => {
    const zendeskNow = Date.now() + 3_600_000;
    const ahead = { id: 1, generated_timestamp: Math.floor(zendeskNow / 1000) + 60 };
    const zendesk = await clientFor({ results: [ahead] }, new Date(zendeskNow).toUTCString());
    const outcome = await zendesk.fetchExportPage(nowS() - 3600);
    expect(outcome).toMatchObject({ kind: 'page', rows: [ahead], vouchedUntil: Math.floor(zendeskNow / 1000) });
    expect(outcome).not.toHaveProperty('setAside');
  });

  test("a ticket dated ten minutes past the answer's own Date header is set aside; the rest of the page is kept", async () => {
    const zendeskNow = Date.now();
    const dated = (ahead: number) => Math.floor(zendeskNow / 1000) + ahead;
    const pinning = { id: 7, generated_timestamp: dated(600), subject: 'from the future' };
    const fine = { id: 8, generated_timestamp: dated(-120) };
    const zendesk = await clientFor({ results: [pinning, fine] }, new Date(zendeskNow).toUTCString());
    const outcome = await zendesk.fetchExportPage(nowS() - 3600);
    expect(outcome).toMatchObject({
      kind: 'page',
      rows: [fine],
      setAside: [{ row: pinning, reason: expect.stringMatching(/is more than 2 min ahead of Zendesk's clock/) }],
    });
  });

  test("a Date header from 1970 is not believed: the worker's clock judges", async () => {
    const zendesk = await clientFor({ results: [], end_time: nowS() - 60 }, 'Thu, 01 Jan 1970 00:00:00 GMT');
    await expect(zendesk.fetchExportPage(nowS() - 3600)).resolves.toMatchObject({ kind: 'page' });
  });
});

describe('text of times in workflow code and status never throws', () => {
  test.each([Number.MAX_SAFE_INTEGER, 2 ** 63, Infinity, -Infinity, NaN, 8.64e12 + 1])('isoSeconds(%s)', (value) => {
    expect(isoSeconds(value)).toBe(`${value} s (not a date)`);
    expect(isoMillis(value * 1000)).toBeUndefined();
  });

  test('ordinary values are unchanged', () => {
    expect(isoSeconds(1_700_000_000)).toBe('2023-11-14T22:13:20Z');
    expect(isoSeconds(1_700_000_000_000)).toBe('+055840-11-08T22:13:20Z');
    expect(isoMillis(1_700_000_000_123)).toBe('2023-11-14T22:13:20.123Z');
  });

  test('the Web UI details with a cursor and a next call no Date holds', () => {
    const details = currentDetails({
      account: 'acme',
      api: 'exports',
      pollIntervalSeconds: 300,
      minStartAgeSeconds: 300,
      cursor: 2 ** 60,
      ticketsStored: 0,
      pages: 0,
      lagSeconds: 0,
      phase: 'waiting',
      nextCallAt: 2 ** 62,
      lastError: null,
      warnings: 0,
    });
    expect(details).toContain(`cursor ${2 ** 60} s (not a date)`);
  });

  test('status with absurd numbers: a cursor, a token renewal time', () => {
    const status = {
      account: 'acme',
      api: 'exports',
      state: 'catching_up',
      progressFrom: { cursor: 2 ** 60, atMs: 0, tickets: 0 },
      afterCursor: null,
      perPage: 1000,
      caughtUp: false,
      cursor: 2 ** 60,
      cursorIso: isoSeconds(2 ** 60),
      phase: 'waiting',
      paused: false,
      blocked: false,
      nextCallAt: null,
      pages: 0,
      ticketsStored: 0,
      calls: 0,
      rateLimited: 0,
      lastPageSize: 0,
      ticketsRejected: 0,
      auth: { mode: 'oauth_client_credentials', tokenExpiresAt: 2 ** 62, tokenRenewsAt: 2 ** 62 },
      lastError: null,
      warnings: [],
      lagSeconds: 0,
      completeThrough: 2 ** 60,
      pollIntervalSeconds: 300,
      minStartAgeSeconds: 300,
      historyLength: 10,
      asOf: new Date().toISOString(),
    } as StatusView;
    const text = formatStatus(status, { color: false });
    expect(text).toMatch(/token renews in \d+ days\n/);
  });
});
