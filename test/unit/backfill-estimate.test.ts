import {
  aboutDuration,
  backfillEstimate,
  backfillSeconds,
  formatBackfillEstimate,
  formatCountFailure,
  paceText,
} from '../../src/cli/backfill-estimate';
import { catchUpPacing, EXPORT_DEFAULTS, resolveSettings } from '../../src/workflows/settings';

// The paces the loop keeps with default settings, taken from the loop's own rule: 1,000 tickets every 300 s on the
// specified endpoint, 1,000 every 6 s (10 calls a minute) on the cursor endpoint.
const EXPORTS = catchUpPacing('exports', resolveSettings({}, 'exports').settings);
const CURSOR = catchUpPacing('cursor', resolveSettings({}, 'cursor').settings);

test('the default paces are the settings the workflow resolves', () => {
  expect(EXPORTS).toEqual({
    rowsPerCall: EXPORT_DEFAULTS.pageSize,
    intervalMs: EXPORT_DEFAULTS.pollIntervalSeconds * 1000,
  });
  expect(CURSOR).toEqual({
    rowsPerCall: EXPORT_DEFAULTS.perPage,
    intervalMs: 60_000 / EXPORT_DEFAULTS.requestsPerMinute,
  });
  expect([EXPORTS, CURSOR]).toEqual([
    { rowsPerCall: 1000, intervalMs: 300_000 },
    { rowsPerCall: 1000, intervalMs: 6_000 },
  ]);
});

describe('backfillEstimate: a full page per call, each call one pacing interval', () => {
  test.each([
    ['no tickets: no call, no time', 0, 0, 0],
    ['one ticket: one call', 1, 300, 6],
    ['a page less one', 999, 300, 6],
    ['exactly one page', 1000, 300, 6],
    ['one past a page: two calls', 1001, 600, 12],
    ['exactly two pages', 2000, 600, 12],
    ['a million tickets: about 3.5 days against under 2 hours', 1_000_000, 300_000, 6_000],
    ['the issue example', 1_234_567, 370_500, 7_410],
  ])('%s (%i tickets)', (_, tickets, exportsSeconds, cursorSeconds) => {
    expect(backfillEstimate({ account: 'acme', tickets, exports: EXPORTS, cursor: CURSOR })).toEqual({
      account: 'acme',
      tickets,
      ticketsAtLeast: false,
      exports: EXPORTS,
      exportsSeconds,
      cursor: CURSOR,
      cursorSeconds,
    });
  });

  test.each([
    ['--poll-interval 60', { pollIntervalSeconds: 60 }, 'exports', 1_234_567, 74_100],
    ['--per-page 500', { perPage: 500 }, 'cursor', 1_234_567, 14_820],
    ['30 calls a minute (High Volume)', { requestsPerMinute: 30 }, 'cursor', 1_234_567, 2_470],
    ['7 calls a minute', { requestsPerMinute: 7 }, 'cursor', 7000, 60],
  ] as const)("the start's own settings: %s", (_, input, api, tickets, seconds) => {
    const pacing = catchUpPacing(api, resolveSettings(input, api).settings);
    expect(backfillSeconds(tickets, pacing)).toBeCloseTo(seconds, 6);
  });

  test('a count that is no count, or a pace that is none, is refused by name', () => {
    expect(() => backfillSeconds(-1, EXPORTS)).toThrow(/-1 tickets at 1000 rows per 300000 ms is not a pace/);
    expect(() => backfillSeconds(Number.NaN, EXPORTS)).toThrow(RangeError);
    expect(() => backfillSeconds(10, { rowsPerCall: 0, intervalMs: 1000 })).toThrow(RangeError);
  });
});

describe('formatBackfillEstimate', () => {
  const line = (tickets: number, ticketsAtLeast = false) =>
    formatBackfillEstimate(
      backfillEstimate({ account: 'acme', tickets, ticketsAtLeast, exports: EXPORTS, cursor: CURSOR }),
    );

  test.each([
    [
      1_234_567,
      false,
      'acme: exports reads 1,000 tickets per 5 minutes: 1,234,567 tickets take about 4.3 days to back-fill; the cursor ' +
        'endpoint (--api cursor) would take about 2.1 hours.',
    ],
    [
      1_000_000,
      false,
      'acme: exports reads 1,000 tickets per 5 minutes: 1,000,000 tickets take about 3.5 days to back-fill; the cursor ' +
        'endpoint (--api cursor) would take about 1.7 hours.',
    ],
    [
      1000,
      false,
      'acme: exports reads 1,000 tickets per 5 minutes: 1,000 tickets take about 5 minutes to back-fill; the cursor ' +
        'endpoint (--api cursor) would take about 6 seconds.',
    ],
    [
      1,
      false,
      'acme: exports reads 1,000 tickets per 5 minutes: 1 ticket takes about 5 minutes to back-fill; the cursor ' +
        'endpoint (--api cursor) would take about 6 seconds.',
    ],
    [
      0,
      false,
      'acme: exports reads 1,000 tickets per 5 minutes: Zendesk counts no tickets, so there is nothing to back-fill; ' +
        'the cursor endpoint (--api cursor) reads 1,000 tickets per 6 seconds.',
    ],
    [
      100_000,
      true,
      'acme: exports reads 1,000 tickets per 5 minutes: at least 100,000 tickets take at least 8.3 hours to back-fill; ' +
        'the cursor endpoint (--api cursor) would take at least 10 minutes.',
    ],
  ])('%i tickets (a floor: %s)', (tickets, atLeast, expected) => {
    expect(line(tickets, atLeast)).toBe(expected);
  });

  test('aboutDuration rounds for reading', () => {
    const cases: [number, string][] = [
      [0, '0 seconds'],
      [1, '1 second'],
      [89, '89 seconds'],
      [90, '2 minutes'],
      [300, '5 minutes'],
      [5399, '90 minutes'],
      [5400, '1.5 hours'],
      [3600 * 24, '24 hours'],
      [3600 * 36, '1.5 days'],
      [86_400 * 10, '10 days'],
    ];
    expect(cases.map(([seconds]) => aboutDuration(seconds))).toEqual(cases.map(([, text]) => text));
  });

  test('paceText names the interval in its largest whole unit', () => {
    const cases: [number, number, string][] = [
      [1000, 300_000, '1,000 tickets per 5 minutes'],
      [1000, 60_000, '1,000 tickets per minute'],
      [1000, 3_600_000, '1,000 tickets per hour'],
      [500, 6_000, '500 tickets per 6 seconds'],
      [1000, 1_000, '1,000 tickets per second'],
      [1000, 1_500, '1,000 tickets per 1.5 seconds'],
      [1000, 90_000, '1,000 tickets per 90 seconds'],
    ];
    expect(cases.map(([rowsPerCall, intervalMs]) => paceText({ rowsPerCall, intervalMs }))).toEqual(
      cases.map(([, , text]) => text),
    );
  });

  test('the warning when there is no count names the reason and both paces', () => {
    expect(
      formatCountFailure('acme', 'GET /api/v2/tickets/count.json: 403 Forbidden', { exports: EXPORTS, cursor: CURSOR }),
    ).toBe(
      'Warning: acme: no back-fill estimate, the ticket count failed (GET /api/v2/tickets/count.json: 403 Forbidden); ' +
        'exports reads 1,000 tickets per 5 minutes, the cursor endpoint (--api cursor) 1,000 tickets per 6 seconds.',
    );
  });
});
