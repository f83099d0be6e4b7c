import type { CatchUpPacing } from '../workflows/settings';

// How long the first back-fill of an account's tickets takes on the legacy `exports` endpoint, and on the cursor
// endpoint instead: what `start` prints when `exports` is chosen for an account at Zendesk. Pure: the caller brings
// the ticket count (Zendesk's) and each endpoint's pace (catchUpPacing, the loop's own).

export interface BackfillEstimate {
  account: string;
  /** Zendesk's count of the account's tickets. */
  tickets: number;
  /** The count is a floor: Zendesk was still refreshing a count above 100,000 (refreshed_at null). */
  ticketsAtLeast: boolean;
  /** The `exports` endpoint's pace, and the seconds its back-fill takes. */
  exports: CatchUpPacing;
  exportsSeconds: number;
  /** The cursor endpoint's pace, and the seconds its back-fill takes. */
  cursor: CatchUpPacing;
  cursorSeconds: number;
}

export interface BackfillInput {
  account: string;
  tickets: number;
  ticketsAtLeast?: boolean;
  exports: CatchUpPacing;
  cursor: CatchUpPacing;
}

/**
 * A back-fill reads every ticket once, a full page per call at the endpoint's pace: `ceil(tickets / rowsPerCall)`
 * calls, each costing one pacing interval (no tickets: no call, no time).
 */
export function backfillSeconds(tickets: number, pacing: CatchUpPacing): number {
  if (!(tickets >= 0) || !(pacing.rowsPerCall >= 1) || !(pacing.intervalMs >= 0)) {
    throw new RangeError(
      `backfillSeconds: ${tickets} tickets at ${pacing.rowsPerCall} rows per ${pacing.intervalMs} ms is not a pace`,
    );
  }
  return (Math.ceil(tickets / pacing.rowsPerCall) * pacing.intervalMs) / 1000;
}

export function backfillEstimate(input: BackfillInput): BackfillEstimate {
  return {
    account: input.account,
    tickets: input.tickets,
    ticketsAtLeast: input.ticketsAtLeast ?? false,
    exports: input.exports,
    exportsSeconds: backfillSeconds(input.tickets, input.exports),
    cursor: input.cursor,
    cursorSeconds: backfillSeconds(input.tickets, input.cursor),
  };
}

const count = (n: number) => n.toLocaleString('en-US');

/** "1 decimal, no trailing .0": 4.29 → "4.3", 2.0 → "2". */
const tenths = (n: number) => String(Math.round(n * 10) / 10);

const UNITS: [seconds: number, name: string][] = [
  [86_400, 'day'],
  [3_600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** A pacing interval: "5 minutes", "minute" (per minute), "6 seconds", "1.5 seconds". */
function interval(seconds: number): string {
  const [size, name] = UNITS.find(([size]) => seconds >= size && seconds % size === 0) ?? [1, 'second'];
  const n = seconds / size;
  return n === 1 ? name : `${tenths(n)} ${name}s`;
}

/** A duration, rounded for reading: "45 seconds", "12 minutes", "2.1 hours", "4.3 days". */
export function aboutDuration(seconds: number): string {
  const plural = (n: string, name: string) => `${n} ${name}${n === '1' ? '' : 's'}`;
  if (seconds < 90) return plural(String(Math.round(seconds)), 'second');
  if (seconds < 90 * 60) return plural(String(Math.round(seconds / 60)), 'minute');
  if (seconds < 36 * 3600) return plural(tenths(seconds / 3600), 'hour');
  return plural(tenths(seconds / 86_400), 'day');
}

/** "1,000 tickets per 5 minutes". */
export function paceText(pacing: CatchUpPacing): string {
  return `${count(pacing.rowsPerCall)} tickets per ${interval(pacing.intervalMs / 1000)}`;
}

/**
 * One line: "acme: exports reads 1,000 tickets per 5 minutes: 1,234,567 tickets take about 4.3 days to back-fill; the
 * cursor endpoint (--api cursor) would take about 2.1 hours."
 */
export function formatBackfillEstimate(estimate: BackfillEstimate): string {
  const head = `${estimate.account}: exports reads ${paceText(estimate.exports)}`;
  const cursor = 'the cursor endpoint (--api cursor)';
  if (estimate.tickets === 0) {
    const nothing = 'Zendesk counts no tickets, so there is nothing to back-fill';
    return `${head}: ${nothing}; ${cursor} reads ${paceText(estimate.cursor)}.`;
  }
  // Zendesk still counting past 100,000: the count, and so each time, is a floor.
  const about = estimate.ticketsAtLeast ? 'at least' : 'about';
  const floor = estimate.ticketsAtLeast ? 'at least ' : '';
  const tickets = `${floor}${count(estimate.tickets)} ticket${estimate.tickets === 1 ? ' takes' : 's take'}`;
  return (
    `${head}: ${tickets} ${about} ${aboutDuration(estimate.exportsSeconds)} to back-fill; ` +
    `${cursor} would take ${about} ${aboutDuration(estimate.cursorSeconds)}.`
  );
}

/** The one-line warning when Zendesk's count could not be had: the reason, and the two paces to compare anyway. */
export function formatCountFailure(account: string, reason: string, pace: Pick<BackfillInput, 'exports' | 'cursor'>) {
  return (
    `Warning: ${account}: no back-fill estimate, the ticket count failed (${reason}); exports reads ` +
    `${paceText(pace.exports)}, the cursor endpoint (--api cursor) ${paceText(pace.cursor)}.`
  );
}
