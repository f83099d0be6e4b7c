export const DEFAULT_RETRY_AFTER_SECONDS = 60;
export const MAX_RETRY_AFTER_SECONDS = 3600;

export interface RetryAfter {
  seconds: number;
  /** Set when the header was missing, unreadable or capped, with what happened. */
  note?: string;
}

/**
 * Reads a Retry-After header defensively. Seen in the wild: plain seconds, "50, 53" (a header repeated by a
 * proxy: the largest value is the safe one), an HTTP date, or no header at all.
 */
export function parseRetryAfter(header: string | string[] | undefined | null, nowMs: number): RetryAfter {
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (raw === undefined || raw === null || raw.trim() === '') {
    return {
      seconds: DEFAULT_RETRY_AFTER_SECONDS,
      note: `no Retry-After header; waiting ${DEFAULT_RETRY_AFTER_SECONDS} s`,
    };
  }
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const numbers = parts.filter((p) => /^\d+(\.\d+)?$/.test(p)).map(Number);
  let seconds: number | undefined;
  if (numbers.length > 0) {
    seconds = Math.ceil(Math.max(...numbers));
  } else if (/[a-z]/i.test(raw)) {
    // Only something that looks like an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"): V8 reads "-5" as a date too.
    const date = Date.parse(raw);
    if (!Number.isNaN(date)) seconds = Math.max(0, Math.ceil((date - nowMs) / 1000));
  }
  if (seconds === undefined) {
    return {
      seconds: DEFAULT_RETRY_AFTER_SECONDS,
      note: `unreadable Retry-After "${raw.slice(0, 64)}"; waiting ${DEFAULT_RETRY_AFTER_SECONDS} s`,
    };
  }
  if (seconds > MAX_RETRY_AFTER_SECONDS) {
    return {
      seconds: MAX_RETRY_AFTER_SECONDS,
      note: `Retry-After of ${seconds} s capped at ${MAX_RETRY_AFTER_SECONDS} s`,
    };
  }
  return { seconds: Math.max(1, seconds) };
}
