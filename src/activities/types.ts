import type { SupportTypeScope } from '../streams/names';
import { STAGED_PAGE_GONE, STORED_TAIL_MAX_TICKETS, type ExportApi } from '../shared';
import type { AuthState } from '../zendesk/auth';
import type { Checkpoint, PageCheckpoint, PageRows } from '../storage/sink';

export type { Checkpoint };

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
  /** Incremental endpoints: `support_type_scope` (`all`: tickets only an AI agent handled included). */
  supportTypeScope?: SupportTypeScope;
  /** The pacing's minimum gap between two calls (ms): a retry of a failed call waits at least this long. */
  minGapMs?: number;
}

/** Zendesk's clock minus the worker's (ms), measured from the answer's Date header when it had one. */
interface ZendeskClock {
  zendeskClockOffsetMs?: number;
  /** How the worker signs in to this account (mode, token renewal time): nothing secret. */
  auth?: AuthState;
}

/** A ticket of a page's tail: its id, generated_timestamp and a 128-bit fingerprint of its JSON (hex). */
export type TailTicket = [id: number, generatedTimestamp: number, fingerprint: string];

/**
 * What the workflow needs to know of a page to move its cursor, computed by fetchPage: the tickets themselves go
 * straight to persist (PageContent) and the workflow never reads them.
 */
export interface PageSummary {
  /** Tickets in the answer, set-aside ones included: a full page is judged by them. */
  tickets: number;
  /** Of those, tickets set aside (a value that cannot be true, or one that cannot be serialised). */
  setAside: number;
  /** The newest generated_timestamp of the tickets kept; 0 when none. */
  newest: number;
  /** The oldest generated_timestamp of the tickets kept; null when none. */
  oldest: number | null;
  /**
   * The tickets kept whose generated_timestamp is at or after the earliest second the next start_time can be (the
   * page's end, capped at the answer's own time), to tell an idle poll that only repeats them; null when more than
   * STORED_TAIL_MAX_TICKETS.
   */
  tail: TailTicket[] | null;
  /** A fingerprint of the page's field headers (the specified endpoint names custom fields there). */
  fieldHeaders: string;
  /** Whether the page carried sideloaded records. */
  sideloads: boolean;
  /** The content's size as JSON (UTF-8 bytes). */
  bytes: number;
}

export { STORED_TAIL_MAX_TICKETS };

/** A page's tickets and what came with them, as persist stores them. */
export type InlinePage = PageRows;

/** A page too big for the history, staged in the blob store by fetchPage and read back by persist. */
export interface StagedPage {
  /** The blob's id (the sha256 of its bytes). */
  staged: string;
  /** The blob's size. */
  bytes: number;
}

export type PageContent = InlinePage | StagedPage;

export function isStaged<Inline extends object>(content: Inline | StagedPage): content is StagedPage {
  return typeof (content as Partial<StagedPage>).staged === 'string';
}

export type FetchPageResult = ZendeskClock &
  (
    | {
        kind: 'page';
        /** When the request was sent (worker clock, ms): pacing counts from here. */
        requestedAt: number;
        /** When the answer was read (worker clock, ms). */
        completedAt?: number;
        /** The newest time the answer vouches for (epoch seconds, its Date header): no cursor passes it. */
        vouchedUntil: number;
        summary: PageSummary;
        content: PageContent;
        endTime: number | null;
        afterCursor?: string | null;
        endOfStream?: boolean;
        foreignNextPage?: string;
      }
    | { kind: 'rate_limited'; requestedAt: number; retryAfterSeconds: number; note?: string }
    | { kind: 'too_recent'; requestedAt: number; message: string }
    | { kind: 'gateway_timeout'; requestedAt: number; message: string }
    | { kind: 'too_large'; requestedAt: number; message: string }
    | { kind: 'cursor_rejected'; requestedAt: number; message: string }
  );

export type PersistInput = PageCheckpoint & {
  /** The page to store; an operator's reset stores an empty one (a checkpoint only). */
  content: PageContent;
};

export { STAGED_PAGE_GONE };

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
