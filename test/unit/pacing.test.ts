import { nextCallAt, type PacingInput } from '../../src/workflows/pacing';
import { MAX_ACTIVITY_RETRY_DELAY_MS, undecodablePayload } from '../../src/shared';
import { advanceCursor, pageEnd } from '../../src/workflows/cursor-advance';
import { failureBackoffMs, perPageAfterGoodPage, sinkBackoffMs } from '../../src/workflows/backoff';
import { fetchRetryDelayMs } from '../../src/activities/retry-delay';
import { isoSeconds } from '../../src/common/time-text';
import { resetCursorProblem } from '../../src/workflows/reset-request';
import { usableClockOffset } from '../../src/common/zendesk-clock';

const NOW = 1_700_000_000_000;
const NOW_S = NOW / 1000;

function pacing(overrides: Partial<PacingInput> = {}): PacingInput {
  return {
    nowMs: NOW,
    lastCallAt: null,
    pollIntervalMs: 300_000,
    startTime: NOW_S - 86_400,
    minStartAgeMs: 300_000,
    ...overrides,
  };
}

describe('nextCallAt', () => {
  test('the first call with an old cursor goes now', () => {
    expect(nextCallAt(pacing())).toBe(NOW);
  });

  test('waits for the poll interval after the last call', () => {
    expect(nextCallAt(pacing({ lastCallAt: NOW - 100_000 }))).toBe(NOW + 200_000);
    expect(nextCallAt(pacing({ lastCallAt: NOW - 300_000 }))).toBe(NOW);
    expect(nextCallAt(pacing({ lastCallAt: NOW - 900_000 }))).toBe(NOW);
  });

  test('waits until the cursor is older than the minimum start age', () => {
    expect(nextCallAt(pacing({ startTime: NOW_S - 60 }))).toBe(NOW + 240_000);
    expect(nextCallAt(pacing({ startTime: NOW_S - 300 }))).toBe(NOW);
  });

  test('a cursor in the future still waits for its age', () => {
    expect(nextCallAt(pacing({ startTime: NOW_S + 10, minStartAgeMs: 0 }))).toBe(NOW + 10_000);
  });

  test('waits for notBefore', () => {
    expect(nextCallAt(pacing({ notBefore: NOW + 7_000 }))).toBe(NOW + 7_000);
    expect(nextCallAt(pacing({ notBefore: 0 }))).toBe(NOW);
    expect(nextCallAt(pacing({ notBefore: NOW - 7_000 }))).toBe(NOW);
  });

  test('takes the latest of every rule', () => {
    const base = { lastCallAt: NOW - 250_000, startTime: NOW_S - 200 }; // interval: +50 s, age: +100 s
    expect(nextCallAt(pacing(base))).toBe(NOW + 100_000);
    expect(nextCallAt(pacing({ ...base, notBefore: NOW + 150_000 }))).toBe(NOW + 150_000);
    expect(nextCallAt(pacing({ ...base, pollIntervalMs: 600_000 }))).toBe(NOW + 350_000);
  });

  test("the start_time's age is judged on Zendesk's clock", () => {
    const young = { startTime: NOW_S - 60 }; // 240 s short of the minimum age on the worker's clock
    expect(nextCallAt(pacing({ ...young, zendeskClockOffsetMs: 0 }))).toBe(NOW + 240_000);
    // Zendesk an hour ahead: the start_time is already old there, so no wait (not an hour of idling).
    expect(nextCallAt(pacing({ ...young, zendeskClockOffsetMs: 3_600_000 }))).toBe(NOW);
    expect(nextCallAt(pacing({ ...young, zendeskClockOffsetMs: 100_000 }))).toBe(NOW + 140_000);
    // Zendesk behind: wait longer, so that Zendesk does not answer "too recent".
    expect(nextCallAt(pacing({ ...young, zendeskClockOffsetMs: -60_000 }))).toBe(NOW + 300_000);
    // The offset moves only the age rule, not the poll interval (counted on the worker's clock).
    expect(nextCallAt(pacing({ lastCallAt: NOW - 100_000, zendeskClockOffsetMs: 3_600_000 }))).toBe(NOW + 200_000);
  });

  test('never returns a time in the past', () => {
    expect(nextCallAt(pacing({ lastCallAt: 0, startTime: 0, minStartAgeMs: 0, pollIntervalMs: 0 }))).toBe(NOW);
  });
});

describe('advanceCursor', () => {
  const startTime = 1_700_000_000;

  test('an empty page keeps the cursor', () => {
    expect(advanceCursor({ startTime, endTime: null, rowCount: 0, pageSize: 1000 })).toEqual({ cursor: startTime });
    expect(advanceCursor({ startTime, endTime: startTime + 50, rowCount: 0, pageSize: 1000 })).toEqual({
      cursor: startTime,
    });
  });

  test('a page without end_time keeps the cursor', () => {
    expect(advanceCursor({ startTime, endTime: null, rowCount: 10, pageSize: 1000 })).toEqual({ cursor: startTime });
  });

  test('a normal page moves the cursor to end_time', () => {
    expect(advanceCursor({ startTime, endTime: startTime + 500, rowCount: 1000, pageSize: 1000 })).toEqual({
      cursor: startTime + 500,
    });
    expect(advanceCursor({ startTime, endTime: startTime + 1, rowCount: 3, pageSize: 1000 })).toEqual({
      cursor: startTime + 1,
    });
  });

  test('a partial page with end_time == start_time keeps the cursor, without a warning', () => {
    expect(advanceCursor({ startTime, endTime: startTime, rowCount: 999, pageSize: 1000 })).toEqual({
      cursor: startTime,
    });
  });

  test('a full page with end_time == start_time steps one second on, with a warning naming the second', () => {
    const result = advanceCursor({ startTime, endTime: startTime, rowCount: 1000, pageSize: 1000 });
    expect(result.cursor).toBe(startTime + 1);
    expect(result.warning).toContain(String(startTime));
    expect(result.warning).toContain(isoSeconds(startTime));
    expect(result.warning).toContain('2023-11-14T22:13:20Z');
    expect(result.warning).toContain('1000 rows');
  });

  test('a page larger than the page size at one second also steps on', () => {
    const result = advanceCursor({ startTime, endTime: startTime, rowCount: 1001, pageSize: 1000 });
    expect(result.cursor).toBe(startTime + 1);
    expect(result.warning).toBeDefined();
  });

  test('end_time before start_time keeps the cursor with a warning', () => {
    const result = advanceCursor({ startTime, endTime: startTime - 10, rowCount: 5, pageSize: 1000 });
    expect(result.cursor).toBe(startTime);
    expect(result.warning).toContain(String(startTime - 10));
    expect(result.warning).toMatch(/before start_time/);
  });
});

describe('failureBackoffMs', () => {
  test('doubles from the poll interval', () => {
    expect([1, 2, 3, 4].map((n) => failureBackoffMs(n, 1_000))).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  test('zero failures count as one', () => {
    expect(failureBackoffMs(0, 5_000)).toBe(5_000);
  });

  test('is capped at one hour', () => {
    expect(failureBackoffMs(5, 300_000)).toBe(3_600_000);
    expect(failureBackoffMs(1, 7_200_000)).toBe(3_600_000);
    expect(failureBackoffMs(1_000, 1)).toBe(65_536);
    expect(failureBackoffMs(1_000, 1_000)).toBe(3_600_000);
    expect(Number.isFinite(failureBackoffMs(Number.MAX_SAFE_INTEGER, 1_000))).toBe(true);
  });
});

describe('resetCursorProblem', () => {
  test('accepts a valid start time, including 0 and now', () => {
    expect(resetCursorProblem({ startTime: NOW_S - 3600 }, NOW)).toBeUndefined();
    expect(resetCursorProblem({ startTime: 0 }, NOW)).toBeUndefined();
    expect(resetCursorProblem({ startTime: NOW_S }, NOW)).toBeUndefined();
  });

  test.each([
    ['a fractional number', { startTime: 1.5 }, /whole number.*1\.5/],
    ['a string', { startTime: '1700000000' }, /whole number.*"1700000000"/],
    ['NaN', { startTime: NaN }, /whole number/],
    ['a negative number', { startTime: -1 }, />= 0, got -1/],
    ['a future time', { startTime: NOW_S + 1 }, /in the future/],
    ['a missing startTime', {}, /expected \{ startTime/],
    ['null', null, /expected \{ startTime/],
    ['a bare number', 5, /expected \{ startTime/],
    ['an undefined startTime', { startTime: undefined }, /whole number/],
  ])('rejects %s', (_label, request, message) => {
    expect(resetCursorProblem(request, NOW)).toMatch(message);
  });
});

describe('usableClockOffset', () => {
  test("within 2 s it is the Date header's one-second resolution and the network: ignored", () => {
    for (const measured of [0, -1, -999, -1999, 1999, 500]) expect(usableClockOffset(measured)).toBe(0);
  });

  test('beyond that it is skew, used as measured, in both directions', () => {
    for (const measured of [2000, -2000, 3_600_000, -3_599_400]) expect(usableClockOffset(measured)).toBe(measured);
  });
});

describe('resetCursorProblem on a payload that could not be decoded', () => {
  test('names the decoding problem instead of the expected shape', () => {
    expect(resetCursorProblem(undecodablePayload('Unexpected end of JSON input'), NOW)).toBe(
      'its payload could not be decoded (Unexpected end of JSON input)',
    );
  });
});

describe('usableClockOffset with an implausible Date header', () => {
  test('an offset beyond a day keeps the previous one: a 1970 Date parks nothing', () => {
    const from1970 = 0 - NOW;
    expect(usableClockOffset(from1970, 0)).toBe(0);
    expect(usableClockOffset(from1970, 5000)).toBe(5000);
    expect(usableClockOffset(86_400_001, 0)).toBe(0);
    expect(usableClockOffset(Number.NaN, 3000)).toBe(3000);
  });

  test('up to a day is believed', () => {
    expect(usableClockOffset(86_400_000)).toBe(86_400_000);
    expect(usableClockOffset(-86_400_000)).toBe(-86_400_000);
  });
});

describe('a page without end_time', () => {
  test('advanceCursor moves to the newest generated_timestamp of a non-empty page, with a warning', () => {
    const advance = advanceCursor({ startTime: 100, endTime: null, rowCount: 3, pageSize: 1000, newest: 160 });
    expect(advance).toEqual({ cursor: 160, warning: expect.stringMatching(/without end_time.* 160/) });
  });

  test('a full page without end_time at one second is stepped past like any other', () => {
    const advance = advanceCursor({ startTime: 100, endTime: null, rowCount: 1000, pageSize: 1000, newest: 100 });
    expect(advance.cursor).toBe(101);
    expect(advance.warning).toMatch(/without end_time.*; a full page of 1000 rows shares/);
  });

  test('an empty page keeps the cursor, an end_time wins over the rows', () => {
    expect(advanceCursor({ startTime: 100, endTime: null, rowCount: 0, pageSize: 1000, newest: 0 })).toEqual({
      cursor: 100,
    });
    expect(pageEnd(150, 160)).toEqual({ endTime: 150 });
    expect(pageEnd(null, undefined)).toEqual({ endTime: null });
  });
});

describe('fetchRetryDelayMs', () => {
  test('the retry policy’s backoff when the pacing is short', () => {
    expect([1, 2, 3, 4].map((attempt) => fetchRetryDelayMs({ attempt, minGapMs: 100, sinceCallMs: 50 }))).toEqual([
      2000, 4000, 8000, 16000,
    ]);
  });

  test('never sooner than the pacing allows after the failed call', () => {
    expect(fetchRetryDelayMs({ attempt: 1, minGapMs: 6000, sinceCallMs: 500 })).toBe(5500);
    expect(fetchRetryDelayMs({ attempt: 1, minGapMs: 300_000, sinceCallMs: 1000 })).toBeGreaterThan(
      MAX_ACTIVITY_RETRY_DELAY_MS,
    );
  });

  test('a 503’s Retry-After replaces the backoff, the pacing still holds', () => {
    expect(fetchRetryDelayMs({ attempt: 1, minGapMs: 0, sinceCallMs: 0, retryAfterMs: 7000 })).toBe(7000);
    expect(fetchRetryDelayMs({ attempt: 3, minGapMs: 0, sinceCallMs: 0, retryAfterMs: 1000 })).toBe(1000);
    expect(fetchRetryDelayMs({ attempt: 3, minGapMs: 6000, sinceCallMs: 1000, retryAfterMs: 1000 })).toBe(5000);
  });
});

describe('perPageAfterGoodPage', () => {
  test('doubles after three good pages in a row, up to the configured size', () => {
    let state = { perPage: 250, goodPages: 0 };
    const sizes: number[] = [];
    for (let page = 0; page < 9; page++) {
      state = perPageAfterGoodPage(state.perPage, 1000, state.goodPages);
      sizes.push(state.perPage);
    }
    expect(sizes).toEqual([250, 250, 500, 500, 500, 1000, 1000, 1000, 1000]);
  });

  test('a configured size below 1000 is the ceiling', () => {
    expect(perPageAfterGoodPage(200, 300, 2)).toEqual({ perPage: 300, goodPages: 0 });
  });
});

describe('sinkBackoffMs', () => {
  test('2 s, doubling, at most a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(sinkBackoffMs)).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });
});
