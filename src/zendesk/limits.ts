import { MAX_AHEAD_OF_ZENDESK_SECONDS, MAX_PAGE_ROWS } from '../shared';

export { MAX_AHEAD_OF_ZENDESK_SECONDS, MAX_PAGE_ROWS };

/**
 * The largest answer read from Zendesk (after decompression): a page of 1000 big tickets is a few MiB, so 64 MiB is
 * far beyond a real one. A larger answer is dropped as it arrives, never buffered whole: on the incremental endpoints
 * the export asks again with a smaller per_page; the specified endpoint, which has no per_page, blocks with the reason.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * How deep a ticket's JSON may nest. Zendesk's objects nest about six levels (via.source.from…); a value nested
 * thousands deep parses but cannot be serialised again, so such a ticket is set aside instead of wedging the page.
 * "Cannot": on Node 22 JSON.stringify recurses and overflows the stack (RangeError), as structuredClone and a
 * stringify with a replacer do on every Node; Node 26's V8 writes plain data iteratively, but PostgreSQL's jsonb
 * still refuses it (`stack depth limit exceeded` past about 10,000 levels at the default max_stack_depth).
 */
export const MAX_TICKET_DEPTH = 64;

/** The largest ticket taken, as JSON: far above a real one (a description is at most 64 KB of text). */
export const MAX_TICKET_BYTES = 8 * 1024 * 1024;

/**
 * How far past the answer's own clock (its Date header) a time may lie and still be taken (ZENDESK_CLOCK_TOLERANCE_SECONDS):
 * Zendesk dates tickets with the clock that writes the header, so only its one-second resolution and a little
 * eventual consistency separate them. A ticket dated further ahead is set aside (stored, it would pin that ticket
 * against its real updates), and no cursor passes the answer's own time.
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 120;

/** The size cap as an operator reads it: "64 MiB". */
export function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
