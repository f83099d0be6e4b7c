import type { Bucket } from './buckets';
import type { TicketStore } from './data';
import { jsonReply, type Reply } from './http';
import { RATE_LIMIT_ERROR, tooManyRequests } from './rate-limits';

export const TICKET_COUNT_PATH = '/api/v2/tickets/count.json';

/** Zendesk answers the path without `.json` too. */
export function isTicketCountPath(path: string): boolean {
  return path === TICKET_COUNT_PATH || path === TICKET_COUNT_PATH.replace(/\.json$/, '');
}

/**
 * `GET /api/v2/tickets/count.json` (Zendesk's "Count Tickets"): `{"count": {"value": N, "refreshed_at": "…"}}`, N every
 * ticket the emulator holds (the deleted ones too, which the exports return as well), counted at the call, so
 * `refreshed_at` is its time. Like any call outside the exports, it counts against the account-wide bucket.
 */
export class TicketCountEndpoint {
  constructor(
    private readonly store: TicketStore,
    readonly bucket: Bucket,
  ) {}

  answer(nowMs: number): Reply {
    const retryAfter = this.bucket.refuse(nowMs);
    if (retryAfter !== undefined) return tooManyRequests(RATE_LIMIT_ERROR, retryAfter);
    this.bucket.accept(nowMs);
    const refreshedAt = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return jsonReply(200, JSON.stringify({ count: { value: this.store.size, refreshed_at: refreshedAt } }));
  }
}
