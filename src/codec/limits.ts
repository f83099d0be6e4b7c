import { MAX_RESPONSE_BYTES } from '../zendesk/limits';

/**
 * The largest payload a decode of the history yields (gzip output, claim-checked blob). Pages of tickets never reach it:
 * a page above INLINE_PAGE_MAX_BYTES is staged out of the history by fetchPage, so history payloads stay far below,
 * while a gzip bomb (1 KB inflates to ~1 MB) is refused.
 */
export const MAX_DECODED_PAYLOAD_BYTES = 32 * 1024 * 1024;

/**
 * A page whose content (tickets, sideloads, field headers, as JSON) is larger travels out of the history: fetchPage
 * stages it in the blob store and persist reads it back, so no workflow task ever needs the blob store, and no payload
 * in the history comes near the claim-check threshold (256 KiB after gzip; gzip never grows data by more than 0.1%).
 */
export const INLINE_PAGE_MAX_BYTES = 128 * 1024;

/**
 * The largest staged page: twice the largest answer taken from Zendesk (parsed JSON written again can grow: `1e9` is
 * `1000000000`), so whatever the client accepts can be staged and read back.
 */
export const MAX_STAGED_PAGE_BYTES = 2 * MAX_RESPONSE_BYTES;

/** A payload that would decode to more than the limit: refused, whatever it holds. */
export class PayloadTooLargeError extends Error {}

export function blobTooLarge(id: string, size: number, maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`claim-check blob ${id} refused: ${size} bytes, above the limit of ${maxBytes}`);
}
