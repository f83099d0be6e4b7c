import { z } from 'zod';

/**
 * One flattened row of the specified export endpoint. Unknown keys are kept as received. A wrong type fails the whole
 * page (the format changed); a whole number that cannot be true (a negative id, a timestamp in milliseconds) is one
 * ticket's problem, judged by plausibility.ts, which sets that ticket aside.
 */
export const exportRowSchema = z
  .object({
    id: z.number().int(),
    generated_timestamp: z.number().int(),
    updated_at: z.string().nullish(),
    status: z.string().nullish(),
  })
  .passthrough();

/** `GET /api/v2/exports/tickets.json`: every key is optional, extra keys are allowed. */
export const exportPageSchema = z
  .object({
    results: z.array(exportRowSchema),
    end_time: z.number().int().nonnegative().nullish(),
    next_page: z.string().nullish(),
    field_headers: z.record(z.string(), z.string()).nullish(),
    options: z.record(z.string(), z.unknown()).nullish(),
  })
  .passthrough();

export type ExportRow = z.infer<typeof exportRowSchema>;
export type ExportPage = z.infer<typeof exportPageSchema>;

/** "results[3].id: Expected number, received string" — short enough to read in a status line. */
export function describeSchemaError(error: z.ZodError, maxIssues = 3): string {
  const issues = error.issues.slice(0, maxIssues).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
    return `${path.replace(/^\./, '') || 'body'}: ${issue.message}`;
  });
  const more = error.issues.length > maxIssues ? ` (+${error.issues.length - maxIssues} more)` : '';
  return issues.join('; ') + more;
}

/** A full ticket object of the incremental endpoints. Unknown keys are kept as received. */
export const incrementalTicketSchema = exportRowSchema;

/** `GET /api/v2/incremental/tickets.json` (time-based). */
export const timeBasedPageSchema = z
  .object({
    tickets: z.array(incrementalTicketSchema),
    count: z.number().int().nonnegative().nullish(),
    end_time: z.number().int().nonnegative().nullish(),
    next_page: z.string().nullish(),
    end_of_stream: z.boolean().nullish(),
  })
  .passthrough();

/** `GET /api/v2/incremental/tickets/cursor.json` (cursor-based). */
export const cursorPageSchema = z
  .object({
    tickets: z.array(incrementalTicketSchema),
    after_cursor: z.string().nullish(),
    after_url: z.string().nullish(),
    before_cursor: z.string().nullish(),
    before_url: z.string().nullish(),
    end_of_stream: z.boolean(),
  })
  .passthrough();

/**
 * `GET /api/v2/tickets/count.json` ("Count Tickets"): `{"count": {"value": N, "refreshed_at": "…"}}`. Zendesk's count is
 * approximate; above 100,000 it is refreshed daily, and while a refresh runs `refreshed_at` is null and `value` stops at
 * 100,000.
 */
export const ticketCountSchema = z
  .object({
    count: z
      .object({
        value: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
        refreshed_at: z.string().nullish(),
      })
      .passthrough(),
  })
  .passthrough();
