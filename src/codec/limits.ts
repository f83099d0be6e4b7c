/**
 * The largest payload any decode in this process yields (gzip output, claim-checked blob): a page of tickets is at
 * most ~4 MB of JSON, so 32 MiB leaves room for big pages while a gzip bomb (1 KB inflates to ~1 MB) is refused.
 */
export const MAX_DECODED_PAYLOAD_BYTES = 32 * 1024 * 1024;

/** A payload that would decode to more than the limit: refused, whatever it holds. */
export class PayloadTooLargeError extends Error {}

export function blobTooLarge(id: string, size: number, maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`claim-check blob ${id} refused: ${size} bytes, above the limit of ${maxBytes}`);
}
