import type { BucketName } from '../streams/names';
import { RATE_WINDOW_SECONDS, SlidingMinuteLimit } from './rate-limits';

/** The buckets the emulator enforces (the specified export endpoint has its own window). */
export type LimitedBucket = Exclude<BucketName, 'exports'>;

export interface BucketCounters {
  /** calls the limit let through and counted */
  accepted: number;
  /** 429s the limit gave ("self-caused") */
  rateLimited: number;
  /** 429s from injected faults */
  injected: number;
  /** accepted calls beyond the budget in a sliding minute: 0 unless the limit is off */
  overBudget: number;
}

const WINDOW_MS = RATE_WINDOW_SECONDS * 1000;

const HEADER_NAMES: Readonly<Record<LimitedBucket, string>> = {
  incremental: 'zendesk-ratelimit-incremental-exports',
  users_cursor: 'Zendesk-RateLimit-incremental-exports-cursor',
  account: 'x-rate-limit-remaining',
};

function zeroCounters(): BucketCounters {
  return { accepted: 0, rateLimited: 0, injected: 0, overBudget: 0 };
}

/**
 * One of Zendesk's per-account buckets: a sliding-minute limit (0 = off), its rate-limit header, and counters. With
 * the limit off, the budget that overBudget measures against is `budgetWhenOff` (Zendesk's default for the bucket).
 */
export class Bucket extends SlidingMinuteLimit {
  private counts = zeroCounters();
  readonly headerName: string;

  constructor(
    readonly name: LimitedBucket,
    private readonly limitPerMinute: () => number,
    private readonly budgetWhenOff: number,
  ) {
    super(limitPerMinute);
    this.headerName = HEADER_NAMES[name];
  }

  /** The Retry-After of a call the limit refuses (counted as rateLimited), or undefined. */
  refuse(nowMs: number): string | undefined {
    const retryAfter = this.retryAfter(nowMs);
    if (retryAfter !== undefined) this.counts.rateLimited += 1;
    return retryAfter;
  }

  override accept(nowMs: number): void {
    const inWindow = this.window(nowMs).length;
    const limit = this.limitPerMinute();
    if (inWindow >= (limit > 0 ? limit : this.budgetWhenOff)) this.counts.overBudget += 1;
    this.counts.accepted += 1;
    super.accept(nowMs);
  }

  injected(): void {
    this.counts.injected += 1;
  }

  /** `total=10; remaining=9; resets=2` (the account-wide bucket: the calls remaining); undefined while the limit is off. */
  header(nowMs: number): string | undefined {
    const total = this.limitPerMinute();
    if (total === 0) return undefined;
    const window = this.window(nowMs);
    if (this.name === 'account') return String(Math.max(0, total - window.length));
    const resets = window.length === 0 ? 0 : Math.max(1, Math.ceil((window[0] + WINDOW_MS - nowMs) / 1000));
    return `total=${total}; remaining=${Math.max(0, total - window.length)}; resets=${resets}`;
  }

  counters(): BucketCounters {
    return { ...this.counts };
  }

  resetCounters(): void {
    this.counts = zeroCounters();
  }
}
