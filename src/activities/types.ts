import type { TicketRow } from '../sinks/sink';

export interface FetchPageInput {
  account: string;
  startTime: number;
}

export type FetchPageResult =
  | {
      kind: 'page';
      /** When the request was sent (worker clock, ms): pacing counts from here. */
      requestedAt: number;
      rows: TicketRow[];
      endTime: number | null;
      fieldHeaders: Record<string, string>;
      foreignNextPage?: string;
    }
  | { kind: 'rate_limited'; requestedAt: number; retryAfterSeconds: number; note?: string }
  | { kind: 'too_recent'; requestedAt: number; message: string };

export interface PersistInput {
  account: string;
  rows: TicketRow[];
  fieldHeaders: Record<string, string>;
  cursor: number;
}

export interface PersistOutput {
  written: number;
  ignoredOlder: number;
}
