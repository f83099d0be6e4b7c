import { formatStatus, formatStatusTable, progressOf, StatusView } from '../../src/cli/format';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const NOW_S = NOW / 1000;

function status(overrides: Partial<StatusView> = {}): StatusView {
  return {
    account: 'acme',
    api: 'exports',
    state: 'catching_up',
    // Started 10 minutes ago from a cursor 100 days back; a quarter of the way there.
    progressFrom: { cursor: NOW_S - 100 * 86_400, atMs: NOW - 600_000, tickets: 0 },
    afterCursor: null,
    perPage: 1000,
    caughtUp: false,
    cursor: NOW_S - 75 * 86_400,
    cursorIso: new Date((NOW_S - 75 * 86_400) * 1000).toISOString(),
    phase: 'waiting',
    paused: false,
    blocked: false,
    nextCallAt: new Date(NOW + 37_000).toISOString(),
    pages: 30,
    ticketsStored: 30_000,
    calls: 31,
    rateLimited: 2,
    lastPageSize: 1000,
    ticketsRejected: 0,
    auth: null,
    lastError: null,
    warnings: [],
    lagSeconds: 75 * 86_400,
    completeThrough: NOW_S - 75 * 86_400,
    pollIntervalSeconds: 6,
    minStartAgeSeconds: 300,
    historyLength: 400,
    asOf: new Date(NOW).toISOString(),
    ...overrides,
  };
}

describe('status view', () => {
  test('progress: the share of the span covered, the rate, and the time left at that rate', () => {
    const p = progressOf(status(), NOW);
    expect(p).toMatchObject({ caughtUp: false, ticketsPerMinute: 3000 });
    expect(p!.fraction).toBeCloseTo(0.25, 3);
    // 25 days of cursor in 10 minutes; 75 days to go: 30 minutes.
    expect(p!.etaSeconds).toBe(1800);
  });

  test('a catch-up from 0 counts from its oldest ticket, not from 1970', () => {
    const from = { cursor: 0, atMs: NOW - 600_000, tickets: 0, firstTicketAt: NOW_S - 100 * 86_400 };
    const p = progressOf(status({ progressFrom: from }), NOW);
    expect(p!.fraction).toBeCloseTo(0.25, 3);
    expect(p!.fromCursor).toBe(NOW_S - 100 * 86_400);
  });

  test('a caught-up export is at 100% with no ETA to wait for', () => {
    const p = progressOf(status({ state: 'caught_up', lagSeconds: 4, completeThrough: NOW_S - 4 }), NOW);
    expect(p).toMatchObject({ fraction: 1, etaSeconds: 0, caughtUp: true });
  });

  test('the text view, without colours: bar, figures, next call with its reason', () => {
    const text = formatStatus(status({ phase: 'rate_limited', state: 'rate_limited' }), { nowMs: NOW, color: false });
    const lines = text.split('\n');
    expect(lines[0]).toBe('account     acme · exports endpoint · rate-limited (waiting for Retry-After)');
    expect(lines[1]).toMatch(/^progress {4}█{8}░{22} {2}25% {2}2026-08-19 12:00Z → 2026-09-13 12:00Z$/);
    expect(text).toMatch(/^stored {6}30,000 tickets in 30 pages/m);
    expect(text).toMatch(/^calls {7}31 \(rate-limited: 2\)$/m);
    expect(text).toMatch(/^rate {8}3,000 tickets\/min · caught up in about 30 min$/m);
    expect(text).toMatch(/^next call {3}.* \(in 37 s\) \(Retry-After\)$/m);
    expect(text).not.toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
  });

  test('colours only when asked (a terminal): the state, the bar, errors', () => {
    const text = formatStatus(status({ state: 'blocked', lastError: '401' }), { nowMs: NOW, color: true });
    expect(text).toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
  });

  test('the table: one row per account with its state and progress', () => {
    const table = formatStatusTable(
      [
        { account: 'acme', state: 'running', status: status() },
        { account: 'globex', state: 'not started' },
      ],
      { nowMs: NOW, color: false },
    ).split('\n');
    expect(table[0]).toMatch(/^ACCOUNT\s+STATE\s+PROGRESS\s+CURSOR\s+LAG/);
    expect(table[1]).toMatch(/^acme\s+catching up\s+25%\s+20\d\d-/);
    expect(table[2]).toMatch(/^globex\s+not started(\s+—)+$/);
  });
});

describe('text from Zendesk in status', () => {
  const HOSTILE = 'bad \u001b[2J\u001b]0;owned\u0007title\u009b31m x\r\n\u0008y\u001b[?1049h';

  test('control characters and escape sequences are removed from the last error, retries and warnings', () => {
    const view = status({
      lastError: HOSTILE,
      warnings: [`warn ${HOSTILE}`],
      retrying: { activity: 'fetchPage', attempt: 2, lastFailure: HOSTILE, nextAttemptAt: null },
    });
    const text = formatStatus(view, { nowMs: NOW, color: false });
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('bad title x y');
    expect(text).toContain('warn bad title x y');
    const table = formatStatusTable([{ account: 'acme', state: 'running', status: view }], {
      nowMs: NOW,
      color: false,
    });
    // eslint-disable-next-line no-control-regex
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(table).toContain('bad title x y');
  });
});
