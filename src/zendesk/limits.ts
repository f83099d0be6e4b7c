/**
 * The largest answer read from Zendesk (after decompression): a page of 1000 big tickets is a few MiB, so 64 MiB is
 * far beyond a real one. A larger answer is dropped as it arrives, never buffered whole, and is a transient error.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** The size cap as an operator reads it: "64 MiB". */
export function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
