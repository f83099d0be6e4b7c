// Where a time-based cursor goes after a page: its end_time, its newest ticket when it came without one, a second on
// past a full page at one timestamp. Pure rules, unit-tested directly.

import { isoSeconds } from '../common/time-text';

export interface CursorAdvance {
  cursor: number;
  warning?: string;
}

/** Where the cursor goes after a page that started at `startTime`. */
export function advanceCursor(page: {
  startTime: number;
  endTime: number | null;
  rowCount: number;
  pageSize: number;
  /** The page's newest generated_timestamp: the end of a non-empty page that came without end_time. */
  newest?: number;
}): CursorAdvance {
  const { startTime, rowCount, pageSize } = page;
  if (rowCount === 0) return { cursor: startTime };
  const { endTime, warning: missing } = pageEnd(page.endTime, page.newest);
  if (endTime === null) return { cursor: startTime };
  const advance = advanceToEnd(startTime, endTime, rowCount, pageSize);
  return missing ? { cursor: advance.cursor, warning: [missing, advance.warning].filter(Boolean).join('; ') } : advance;
}

/**
 * The end of a non-empty page: its end_time, or, when Zendesk left it out, its newest generated_timestamp (asking
 * again from the same start_time would return the same page forever).
 */
export function pageEnd(
  endTime: number | null,
  newest: number | undefined,
): { endTime: number | null; warning?: string } {
  if (endTime !== null || newest === undefined || newest <= 0) return { endTime };
  return {
    endTime: newest,
    warning: `a page of tickets came without end_time: continuing from its newest generated_timestamp ${newest}`,
  };
}

function advanceToEnd(startTime: number, endTime: number, rowCount: number, pageSize: number): CursorAdvance {
  if (endTime < startTime) {
    return {
      cursor: startTime,
      warning: `end_time ${endTime} is before start_time ${startTime}: cursor kept at ${startTime}`,
    };
  }
  if (endTime === startTime && rowCount >= pageSize) {
    return {
      cursor: startTime + 1,
      warning:
        `a full page of ${rowCount} rows shares generated_timestamp ${startTime} (${isoSeconds(startTime)}); ` +
        `stepped past it: tickets beyond these ${rowCount} at that second may be hidden until they change again`,
    };
  }
  return { cursor: endTime };
}
