import type { ExportApi } from '../shared';
import type { AuthState } from '../zendesk/auth';
import type { SideloadRecord, TicketRow } from '../storage/sink';

export interface FetchPageInput {
  account: string;
  /** Default 'exports' (the specified endpoint). */
  api?: ExportApi;
  /** The start_time of a time-based call, or of the first call of a cursor export. */
  startTime: number;
  /** Cursor-based: continue after this after_cursor (Zendesk's opaque string) instead of from startTime. */
  afterCursor?: string;
  /** The same, as workflows before the rename send it; read until no such run is open. */
  cursor?: string;
  perPage?: number;
  include?: string[];
  excludeDeleted?: boolean;
  /** The pacing's minimum gap between two calls (ms): a retry of a failed call waits at least this long. */
  minGapMs?: number;
}

/** Zendesk's clock minus the worker's (ms), measured from the answer's Date header when it had one. */
interface ZendeskClock {
  zendeskClockOffsetMs?: number;
  /** How the worker signs in to this account (mode, token renewal time): nothing secret. */
  auth?: AuthState;
}

export type FetchPageResult = ZendeskClock &
  (
    | {
        kind: 'page';
        /** When the request was sent (worker clock, ms): pacing counts from here. */
        requestedAt: number;
        /** When the answer was read (worker clock, ms). */
        completedAt?: number;
        /** The tickets, then a placeholder per ticket set aside for a value that cannot be true (set-aside.ts). */
        rows: TicketRow[];
        endTime: number | null;
        fieldHeaders: Record<string, string>;
        afterCursor?: string | null;
        endOfStream?: boolean;
        foreignNextPage?: string;
        /** Records sideloaded by `include` (users, groups, organizations…), by kind. */
        sideloads?: Record<string, SideloadRecord[]>;
      }
    | { kind: 'rate_limited'; requestedAt: number; retryAfterSeconds: number; note?: string }
    | { kind: 'too_recent'; requestedAt: number; message: string }
    | { kind: 'gateway_timeout'; requestedAt: number; message: string }
    | { kind: 'cursor_rejected'; requestedAt: number; message: string }
  );

export interface PersistInput {
  account: string;
  /** A page's rows as fetchPage returned them: placeholders go to rejected_tickets. */
  rows: TicketRow[];
  fieldHeaders: Record<string, string>;
  cursor: number;
  api?: ExportApi;
  afterCursor?: string | null;
  /** The page's sideloaded records by kind (users, groups, organizations…), stored in the same transaction. */
  sideloads?: Record<string, SideloadRecord[]>;
}

export interface PersistOutput {
  written: number;
  ignoredOlder: number;
  /** Tickets the sink can never store, set aside in rejected_tickets (absent in results recorded before). */
  rejected?: number;
  /** Sideload records skipped: no usable id, or refused by the database (absent in results recorded before). */
  rejectedSideloads?: number;
  /** When the page was committed (worker clock, ms). */
  completedAt?: number;
}

export interface StoredCheckpoint {
  cursor: number;
  api: ExportApi | null;
  afterCursor: string | null;
}
