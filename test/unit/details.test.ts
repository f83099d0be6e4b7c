import { currentDetails, DetailsInput } from '../../src/workflows/details';
import { explainNextCall } from '../../src/workflows/pacing';
import { duration } from '../../src/common/time-text';

const NOW = Date.UTC(2026, 10, 27, 10, 5, 30);

function input(overrides: Partial<DetailsInput> = {}): DetailsInput {
  return {
    account: 'acme',
    api: 'exports',
    pollIntervalSeconds: 300,
    minStartAgeSeconds: 300,
    cursor: Math.floor(NOW / 1000) - 600,
    ticketsStored: 12345,
    pages: 13,
    lagSeconds: 600,
    phase: 'waiting',
    nextCallAt: NOW + 37_000,
    lastError: null,
    warnings: 0,
    ...overrides,
  };
}

describe("the Web UI's current details", () => {
  test('which export, where it stands, what it does now: three paragraphs (Markdown)', () => {
    expect(currentDetails(input({ phase: 'rate_limited', waitingFor: 'Retry-After 37 s' })).split('\n\n')).toEqual([
      '**acme** · specified export endpoint · every 300 s, start_time at least 300 s old',
      'cursor 2026-11-27 09:55Z · 12,345 tickets stored in 13 pages · lag 10 min',
      'rate limited: next call 2026-11-27 10:06Z (Retry-After 37 s)',
    ]);
  });

  test('the last error and the warnings are named; no next call when there is none', () => {
    const text = currentDetails(
      input({ api: 'cursor', phase: 'blocked', nextCallAt: null, lastError: '401 Unauthorized', warnings: 2 }),
    );
    expect(text.split('\n\n')[0]).toContain('cursor-based incremental export');
    expect(text.split('\n\n')[2]).toBe('blocked · last error: 401 Unauthorized · 2 warnings in status');
  });

  test('durations read as an operator says them', () => {
    expect([5, 119, 120, 7199, 7200, 172_800].map(duration)).toEqual([
      '5 s',
      '119 s',
      '2 min',
      '120 min',
      '2 h',
      '2 days',
    ]);
  });
});

describe('explainNextCall: which pacing rule a wait is for', () => {
  const base = { nowMs: NOW, lastCallAt: NOW - 100_000, pollIntervalMs: 300_000, startTime: 0, minStartAgeMs: 300_000 };
  test('each rule, and "now" when every wait is over', () => {
    expect(explainNextCall(base)).toEqual({ at: NOW + 200_000, rule: 'interval' });
    expect(explainNextCall({ ...base, startTime: Math.floor(NOW / 1000) })).toEqual({
      at: NOW + 300_000,
      rule: 'start_age',
    });
    expect(explainNextCall({ ...base, notBefore: NOW + 900_000 })).toEqual({ at: NOW + 900_000, rule: 'not_before' });
    expect(explainNextCall({ ...base, lastCallAt: null })).toEqual({ at: NOW, rule: 'now' });
  });
});

describe('text from Zendesk in the Web UI', () => {
  const HOSTILE =
    '500 \u001b[2J\u001b[31mred\u001b[0m \u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007 \u009b1;1H' +
    'bell\u0007 nul\u0000 line\r\nbreak \u202eright-to-left\u202c \u001bP+q\u001b\\ \u001bc end';

  test('control characters and terminal escape sequences are removed from the last error', () => {
    const now = currentDetails(input({ lastError: HOSTILE })).split('\n\n')[2];
    expect(now).toBe(
      'waiting: next call 2026-11-27 10:06Z · last error: 500 red click bell nul line break right-to-left   end',
    );
    // eslint-disable-next-line no-control-regex
    expect(now).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
  });
});
