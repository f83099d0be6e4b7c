import { DEFAULT_RETRY_AFTER_SECONDS, MAX_RETRY_AFTER_SECONDS, parseRetryAfter } from '../../src/zendesk/retry-after';

// A fixed clock with a whole second, so HTTP dates (second resolution) give exact deltas.
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

describe('parseRetryAfter', () => {
  test('plain seconds', () => {
    expect(parseRetryAfter('30', NOW)).toEqual({ seconds: 30 });
    expect(parseRetryAfter(' 7 ', NOW)).toEqual({ seconds: 7 });
  });

  test('"50, 53" (a header repeated by a proxy) takes the largest value', () => {
    expect(parseRetryAfter('50, 53', NOW)).toEqual({ seconds: 53 });
    expect(parseRetryAfter('53,50', NOW)).toEqual({ seconds: 53 });
  });

  test('an array of header values takes the largest value', () => {
    expect(parseRetryAfter(['50', '53'], NOW)).toEqual({ seconds: 53 });
    expect(parseRetryAfter(['12'], NOW)).toEqual({ seconds: 12 });
  });

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['empty', ''],
    ['blank', '   '],
    ['an empty array', [] as string[]],
  ])('%s → the default wait with a note', (_label, header) => {
    const result = parseRetryAfter(header, NOW);
    expect(result.seconds).toBe(DEFAULT_RETRY_AFTER_SECONDS);
    expect(result.seconds).toBe(60);
    expect(result.note).toMatch(/no Retry-After/);
  });

  test('an HTTP date in the future → the seconds until then', () => {
    const header = new Date(NOW + 90_000).toUTCString();
    expect(header).toMatch(/GMT$/);
    expect(parseRetryAfter(header, NOW)).toEqual({ seconds: 90 });
  });

  test('an HTTP date a fraction of a second ahead rounds up', () => {
    const header = new Date(NOW + 10_000).toUTCString();
    expect(parseRetryAfter(header, NOW - 300)).toEqual({ seconds: 11 });
  });

  test('an HTTP date in the past → the minimum wait of 1 s, no error', () => {
    const header = new Date(NOW - 3_600_000).toUTCString();
    expect(parseRetryAfter(header, NOW)).toEqual({ seconds: 1 });
  });

  test.each(['soon', 'abc', '1e10', '120 seconds', 'NaN'])('garbage %p → the default wait with a note', (header) => {
    const result = parseRetryAfter(header, NOW);
    expect(result.seconds).toBe(60);
    expect(result.note).toMatch(/unreadable Retry-After/);
    expect(result.note).toContain(header);
  });

  test('the note quotes at most 64 characters of a garbage header', () => {
    const header = 'x'.repeat(500);
    const result = parseRetryAfter(header, NOW);
    expect(result.seconds).toBe(60);
    expect(result.note).toContain('x'.repeat(64));
    expect(result.note).not.toContain('x'.repeat(65));
  });

  test('a huge value is capped at one hour with a note', () => {
    const result = parseRetryAfter('999999', NOW);
    expect(result.seconds).toBe(MAX_RETRY_AFTER_SECONDS);
    expect(result.seconds).toBe(3600);
    expect(result.note).toMatch(/999999 s capped at 3600 s/);
  });

  test('a date far in the future is capped too', () => {
    const result = parseRetryAfter(new Date(NOW + 48 * 3_600_000).toUTCString(), NOW);
    expect(result.seconds).toBe(3600);
    expect(result.note).toMatch(/capped/);
  });

  test('exactly the cap is not capped', () => {
    expect(parseRetryAfter('3600', NOW)).toEqual({ seconds: 3600 });
  });

  test('fractional seconds round up, never below 1 s', () => {
    expect(parseRetryAfter('1.5', NOW)).toEqual({ seconds: 2 });
    expect(parseRetryAfter('0.2', NOW)).toEqual({ seconds: 1 });
    expect(parseRetryAfter('2.0, 1.1', NOW)).toEqual({ seconds: 2 });
  });

  test('zero is treated as the minimum of 1 s', () => {
    expect(parseRetryAfter('0', NOW)).toEqual({ seconds: 1 });
  });
});
