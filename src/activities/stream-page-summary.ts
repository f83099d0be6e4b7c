import type { InlineStreamPage, SetAsideStreamRow, StreamPageSummary, StreamRow } from '../streams/contract';
import type { PagedStream } from '../streams/names';

/** What fetchStreamPage read: the rows kept with their JSON text and time, and the rows set aside. */
export interface ReadStreamPage {
  stream: PagedStream;
  rows: StreamRow[];
  /** Each kept row's JSON, in the order of `rows`. */
  rowTexts: string[];
  /** Each kept row's time (epoch seconds), in the order of `rows`. */
  rowTimes: number[];
  setAside: SetAsideStreamRow[];
}

/** The page as persistStream takes it, as JSON text, built from the rows' own texts (a page is serialised once). */
export function streamPageJson(page: ReadStreamPage): string {
  const parts = [`"rows":[${page.rowTexts.join(',')}]`];
  if (page.setAside.length > 0) parts.push(`"setAside":${JSON.stringify(page.setAside)}`);
  return `{${parts.join(',')}}`;
}

/** The page as an object, for a page small enough to travel through the history. */
export function inlineStreamPage(page: ReadStreamPage): InlineStreamPage {
  return page.setAside.length > 0 ? { rows: page.rows, setAside: page.setAside } : { rows: page.rows };
}

/** What the workflow needs to know of a stream's page (see StreamPageSummary). */
export function summarizeStreamPage(page: ReadStreamPage, bytes: number): StreamPageSummary {
  const summary: StreamPageSummary = {
    rows: page.rows.length + page.setAside.length,
    setAside: page.setAside.length,
    newest: page.rowTimes.reduce((newest, time) => Math.max(newest, time), 0),
    oldest: page.rowTimes.reduce<number | null>(
      (oldest, time) => (oldest === null ? time : Math.min(oldest, time)),
      null,
    ),
    bytes,
  };
  return page.stream === 'ticket_events' ? { ...summary, comments: countComments(page.rows) } : summary;
}

/** The Comment children of ticket events: the rows ticket_comments receives. */
export function countComments(events: readonly StreamRow[]): number {
  let comments = 0;
  for (const event of events) {
    const children = event.child_events;
    if (!Array.isArray(children)) continue;
    for (const child of children) {
      if (typeof child === 'object' && child !== null && (child as StreamRow).event_type === 'Comment') comments++;
    }
  }
  return comments;
}
