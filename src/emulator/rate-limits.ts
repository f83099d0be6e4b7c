import { JSON_TYPE, type Reply } from './http';

/** The 429 body of the specified export endpoints (and of POST /oauth/tokens). */
export const RATE_LIMIT_ERROR = JSON.stringify({
  error: 'APIRateLimitExceeded',
  description: 'Number of allowed API requests per minute exceeded',
});
export const INCREMENTAL_RATE_LIMIT_ERROR = JSON.stringify({
  error: 'APIRateLimitExceeded',
  description: 'Number of allowed incremental export API requests per minute exceeded',
});

/** The incremental endpoints count their calls over a sliding minute. */
export const RATE_WINDOW_SECONDS = 60;
const RATE_WINDOW_MS = RATE_WINDOW_SECONDS * 1000;

/** A limit on accepted calls; the settings are read at each call, so configure() takes effect at once. */
export interface RateLimit {
  /** The Retry-After (whole seconds) for a call arriving at `nowMs`, or undefined when the limit lets it through. */
  retryAfter(nowMs: number): string | undefined;
  /** Counts a call accepted at `nowMs`. */
  accept(nowMs: number): void;
}

/** A 429 with this body; without a Retry-After header when `retryAfter` is null. */
export function tooManyRequests(body: string, retryAfter: string | null): Reply {
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE };
  if (retryAfter !== null) headers['Retry-After'] = retryAfter;
  return { status: 429, body, headers };
}

function secondsUntil(untilMs: number, nowMs: number): string {
  return String(Math.max(1, Math.ceil((untilMs - nowMs) / 1000)));
}

/** One accepted call per window (0 = unlimited): the specified export endpoint, and its sample. */
export class WindowLimit implements RateLimit {
  private lastAccepted: number | undefined;

  constructor(private readonly windowSeconds: () => number) {}

  retryAfter(nowMs: number): string | undefined {
    const windowMs = this.windowSeconds() * 1000;
    const last = this.lastAccepted;
    if (windowMs <= 0 || last === undefined || nowMs - last >= windowMs) return undefined;
    return secondsUntil(last + windowMs, nowMs);
  }

  accept(nowMs: number): void {
    this.lastAccepted = nowMs;
  }
}

/** At most N accepted calls in any minute (0 = unlimited): the incremental endpoints, time-based and cursor together. */
export class SlidingMinuteLimit implements RateLimit {
  /** when the accepted calls of the last minute were accepted, oldest first */
  private accepted: number[] = [];

  constructor(private readonly perMinute: () => number) {}

  /** When the calls accepted in the minute before `nowMs` were accepted, oldest first. */
  protected window(nowMs: number): readonly number[] {
    const firstInWindow = this.accepted.findIndex((at) => nowMs - at < RATE_WINDOW_MS);
    this.accepted = firstInWindow === -1 ? [] : this.accepted.slice(firstInWindow);
    return this.accepted;
  }

  retryAfter(nowMs: number): string | undefined {
    this.window(nowMs);
    const limit = this.perMinute();
    if (limit === 0 || this.accepted.length < limit) return undefined;
    // Once this call leaves the window, fewer than `limit` remain (normally it is the oldest one).
    const leaving = this.accepted[this.accepted.length - limit];
    return secondsUntil(leaving + RATE_WINDOW_MS, nowMs);
  }

  accept(nowMs: number): void {
    this.accepted.push(nowMs);
  }
}
