import type { Timed } from './stream-model';

/**
 * How a time-based page ends. `wholeSeconds` (Zendesk's reference): a page holds `perPage` rows and then the rest of
 * its last row's second, so it may hold more; when that second is the page's own start_time the next second comes
 * too, so end_time always moves on while rows remain. `cut` (what some peers see): exactly `perPage` rows, so a second
 * with more rows than that gives a full page whose end_time is its start_time, again and again.
 */
export type PageRule = 'wholeSeconds' | 'cut';

/** The rows of a time-based page (`rows` start at startTime), and whether more follow. */
export function timePage<T>(
  rows: Iterable<Timed<T>>,
  startTime: number,
  perPage: number,
  rule: PageRule,
): { page: Array<Timed<T>>; more: boolean } {
  const page: Array<Timed<T>> = [];
  let closesAfter: number | undefined;
  for (const timed of rows) {
    if (page.length >= perPage) {
      if (rule === 'cut') return { page, more: true };
      closesAfter ??= page[page.length - 1].time;
      if (timed.time > closesAfter) {
        if (closesAfter !== startTime) return { page, more: true };
        closesAfter = timed.time;
      }
    }
    page.push(timed);
  }
  return { page, more: false };
}

/** Up to `limit` rows of a cursor page, and whether more follow. */
export function cursorPage<T>(rows: Iterable<T>, limit: number): { page: T[]; more: boolean } {
  const page: T[] = [];
  for (const row of rows) {
    if (page.length === limit) return { page, more: true };
    page.push(row);
  }
  return { page, more: false };
}

/** Rows of an array ordered by (time, id) that come after (time, id) `after`, up to time upTo. */
export function* sortedAfter<T extends { id: number }>(
  sorted: readonly T[],
  timeOf: (row: T) => number,
  after: { gts: number; id: number },
  upTo: number,
): Generator<Timed<T>> {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const time = timeOf(sorted[mid]);
    if (time < after.gts || (time === after.gts && sorted[mid].id <= after.id)) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < sorted.length; i++) {
    const time = timeOf(sorted[i]);
    if (time > upTo) return;
    yield { time, row: sorted[i] };
  }
}
