import { z } from 'zod';
import type { AroundStream, ReferenceList } from '../streams/names';
import type { StreamRow } from '../streams/contract';

/**
 * The answers of the streams around the ticket. A page's shape is checked here: its array must hold objects, and the
 * values that move the cursor must have their types, else the whole answer is a bad one (retried, nothing stored).
 * A row's content is judged row by row (stream-rows.ts): a bad row is set aside, never the page.
 */

/** Any JSON object, passed on as the very object parsed from the body (zod would copy it with its keys reordered). */
const row = z.custom<StreamRow>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), {
  message: 'Expected an object',
});

/** The page-level values of a stream's answer that the export reads. */
export interface StreamPageFrame {
  rows: StreamRow[];
  /** Time-based answers: the next start_time. */
  endTime: number | null;
  /** users: after_cursor; ticket_metric_events: meta.after_cursor. */
  afterCursor: string | null;
  /** Undefined when the answer does not say: a time-based page is then the last when it is not full. */
  endOfStream: boolean | undefined;
  /** next_page, after_url or links.next: never followed, only checked for its origin. */
  nextUrl: string | null;
}

const timeBasedKeys = {
  count: z.number().int().nonnegative().nullish(),
  end_time: z.number().int().nonnegative().nullish(),
  next_page: z.string().nullish(),
  end_of_stream: z.boolean().nullish(),
};

/** `GET /api/v2/incremental/ticket_events.json`, `…/organizations.json`: the time-based export. */
function timeBasedPage(key: 'ticket_events' | 'organizations') {
  const shape = { [key]: z.array(row), ...timeBasedKeys } as Record<typeof key, z.ZodArray<typeof row>> &
    typeof timeBasedKeys;
  return z.object(shape).transform((page): StreamPageFrame => ({
    rows: page[key],
    endTime: page.end_time ?? null,
    afterCursor: null,
    endOfStream: page.end_of_stream ?? undefined,
    nextUrl: page.next_page ?? null,
  }));
}

/** `GET /api/v2/incremental/users/cursor.json`. */
const usersCursorPage = z
  .object({
    users: z.array(row),
    after_cursor: z.string().nullish(),
    after_url: z.string().nullish(),
    before_cursor: z.string().nullish(),
    before_url: z.string().nullish(),
    end_of_stream: z.boolean(),
  })
  .transform((page): StreamPageFrame => ({
    rows: page.users,
    endTime: null,
    afterCursor: page.after_cursor ?? null,
    endOfStream: page.end_of_stream,
    nextUrl: page.after_url ?? null,
  }));

/**
 * `GET /api/v2/incremental/ticket_metric_events.json` with `page[size]`: standard cursor pagination. Without `meta` the
 * answer is read as the time-based export the endpoint also serves.
 */
const metricEventsPage = z
  .object({
    ticket_metric_events: z.array(row),
    meta: z
      .object({ has_more: z.boolean(), after_cursor: z.string().nullish(), before_cursor: z.string().nullish() })
      .nullish(),
    links: z.object({ next: z.string().nullish(), prev: z.string().nullish() }).nullish(),
    ...timeBasedKeys,
  })
  .transform((page): StreamPageFrame =>
    page.meta
      ? {
          rows: page.ticket_metric_events,
          endTime: null,
          afterCursor: page.meta.after_cursor ?? null,
          endOfStream: !page.meta.has_more,
          nextUrl: page.links?.next ?? null,
        }
      : {
          rows: page.ticket_metric_events,
          endTime: page.end_time ?? null,
          afterCursor: null,
          endOfStream: page.end_of_stream ?? undefined,
          nextUrl: page.next_page ?? null,
        },
  );

export const STREAM_PAGE_SCHEMAS: Record<AroundStream, z.ZodType<StreamPageFrame, z.ZodTypeDef, unknown>> = {
  ticket_events: timeBasedPage('ticket_events'),
  users: usersCursorPage,
  organizations: timeBasedPage('organizations'),
  ticket_metric_events: metricEventsPage,
};

/**
 * `GET /api/v2/<list>.json?page[size]=N`: a reference list under standard cursor pagination. custom_statuses answers
 * its whole list with no `meta`: that answer is the list's last page.
 */
function referenceListPage(list: ReferenceList) {
  const shape = { [list]: z.array(row), ...cursorPaginationKeys } as Record<typeof list, z.ZodArray<typeof row>> &
    typeof cursorPaginationKeys;
  return z.object(shape).transform((page): StreamPageFrame => ({
    rows: page[list],
    endTime: null,
    afterCursor: page.meta?.has_more ? (page.meta.after_cursor ?? null) : null,
    endOfStream: !page.meta?.has_more,
    nextUrl: page.links?.next ?? null,
  }));
}

const cursorPaginationKeys = {
  meta: z
    .object({ has_more: z.boolean(), after_cursor: z.string().nullish(), before_cursor: z.string().nullish() })
    .nullish(),
  links: z.object({ next: z.string().nullish(), prev: z.string().nullish() }).nullish(),
};

export const REFERENCE_LIST_SCHEMAS: Record<ReferenceList, z.ZodType<StreamPageFrame, z.ZodTypeDef, unknown>> = {
  ticket_fields: referenceListPage('ticket_fields'),
  groups: referenceListPage('groups'),
  brands: referenceListPage('brands'),
  ticket_forms: referenceListPage('ticket_forms'),
  custom_statuses: referenceListPage('custom_statuses'),
};

/** `via` comes as a string ("Web form"), an object ({channel, source}) or null, on events and on their children. */
const via = z.union([z.string(), z.record(z.string(), z.unknown()), z.null()], {
  errorMap: () => ({ message: 'Expected a string, an object or null' }),
});

/**
 * What a ticket event must look like beyond its id and timestamp. Children of any event_type are taken (new types
 * appear without notice), with values of any shape; only `via` and the children's list are checked.
 */
export const ticketEventShape = z.object({
  via: via.optional(),
  child_events: z.array(z.object({ via: via.optional() }).passthrough()).nullish(),
});
