import type { StagedPage } from '../activities/types';
import type { PagedStream, ReferenceList, SupportTypeScope } from './names';

/**
 * What the workflow and the activities of the streams around the ticket exchange: fetchStreamPage reads one page of a
 * stream, persistStream stores it with the stream's checkpoint in one transaction, loadStreamCheckpoint reads the
 * checkpoint back. The rows go from the first to the second as they are; the workflow reads only the summary.
 */

export interface FetchStreamInput {
  account: string;
  stream: PagedStream;
  /** reference_lists: the list this call reads. */
  list?: ReferenceList;
  /** Epoch seconds: the start_time of a time-based call, or of the first call of a cursor export. */
  startTime: number;
  /**
   * users: the after_cursor to continue from; ticket_metric_events and reference lists: page[after]. Absent: start from
   * startTime (a reference list: from its first page).
   */
  afterCursor?: string;
  perPage: number;
  /** ticket_events: sent as support_type_scope. */
  supportTypeScope?: SupportTypeScope;
  /** The pacing's minimum gap between two calls of the bucket (ms): a retry of a failed call waits at least this. */
  minGapMs?: number;
}

/** A row as Zendesk sent it; only a few keys are read (see the sinks), the rest is stored untouched. */
export type StreamRow = Record<string, unknown>;

/** A row the export did not trust (no usable id, a time that cannot be true), as received, and why. */
export interface SetAsideStreamRow {
  row: Record<string, unknown>;
  reason: string;
}

export interface InlineStreamPage {
  rows: StreamRow[];
  setAside?: SetAsideStreamRow[];
}

export type StreamContent = InlineStreamPage | StagedPage;

/** What the workflow needs of a stream's page to move its cursor. */
export interface StreamPageSummary {
  /** Rows in the answer, set-aside ones included. */
  rows: number;
  setAside: number;
  /**
   * The newest row time of the rows kept (epoch seconds; 0 when none): ticket_events `timestamp`, users and
   * organizations `updated_at`, ticket_metric_events `time`.
   */
  newest: number;
  /** The oldest such time; null when none. */
  oldest: number | null;
  /** The content's size as JSON (UTF-8 bytes). */
  bytes: number;
  /** ticket_events: the comment children of the page (what ticket_comments receives). */
  comments?: number;
}

interface StreamClock {
  /** Zendesk's clock minus the worker's (ms), from the answer's Date header. */
  zendeskClockOffsetMs?: number;
}

export type FetchStreamResult = StreamClock &
  (
    | {
        kind: 'page';
        requestedAt: number;
        completedAt: number;
        /** The newest time the answer vouches for (epoch seconds, its Date header): no cursor passes it. */
        vouchedUntil: number;
        summary: StreamPageSummary;
        content: StreamContent;
        /** Time-based streams: the answer's end_time. */
        endTime: number | null;
        /** users: after_cursor; ticket_metric_events: meta.after_cursor. Null when the answer had none. */
        afterCursor: string | null;
        /** Time-based and users: end_of_stream; ticket_metric_events: !meta.has_more. */
        endOfStream: boolean;
        /** A next_page, after_url or links.next on another origin than Zendesk's: never followed, shown to operators. */
        foreignNextPage?: string;
      }
    | { kind: 'rate_limited'; requestedAt: number; retryAfterSeconds: number; note?: string }
    | { kind: 'too_recent'; requestedAt: number; message: string }
    | { kind: 'gateway_timeout'; requestedAt: number; message: string }
    | { kind: 'too_large'; requestedAt: number; message: string }
    | { kind: 'cursor_rejected'; requestedAt: number; message: string }
  );

/** Where a stream stands once a page is stored: written in the page's transaction, read back by a new workflow. */
export interface StreamCheckpoint {
  cursor: number;
  afterCursor: string | null;
}

/**
 * A page of a reference list, as a refresh stores it: every row carries the refresh's id; the list's last page also
 * marks deleted the rows of the list the refresh did not see.
 */
export interface ReferenceRefreshPage {
  list: ReferenceList;
  /** The refresh's start (epoch ms), decided by the workflow: the same for every page of one refresh. */
  refreshId: number;
  lastPage: boolean;
}

export interface PersistStreamInput {
  account: string;
  stream: PagedStream;
  /** reference_lists: the list and refresh the page belongs to. */
  refresh?: ReferenceRefreshPage;
  /** The page to store; an operator's reset stores an empty one (a checkpoint only). */
  content: StreamContent;
  checkpoint: StreamCheckpoint;
}

export interface PersistStreamOutput {
  /** Rows inserted or replacing an older (or equally old) version. */
  written: number;
  /** Rows older than the version already stored (users, organizations, comments). */
  ignoredOlder: number;
  /** Rows set aside in rejected_rows (the input's and those the database refuses). */
  rejected: number;
  /** ticket_events: comment rows and field-history rows written with them. */
  comments?: number;
  fieldChanges?: number;
  /** When the page was committed (worker clock, ms). */
  completedAt: number;
}

export interface LoadStreamCheckpointInput {
  account: string;
  stream: PagedStream;
}

/** A stream's page as a sink stores it: rows, set-aside rows and the checkpoint, in one transaction. */
export interface PersistStreamPageInput {
  account: string;
  stream: PagedStream;
  /** reference_lists: the list and refresh the page belongs to (without it the page is refused). */
  refresh?: ReferenceRefreshPage;
  rows: StreamRow[];
  setAside?: SetAsideStreamRow[];
  checkpoint: StreamCheckpoint;
}

export type PersistStreamPageResult = Omit<PersistStreamOutput, 'completedAt'>;

/** What both sinks add for the streams around the ticket (TicketSink extends it). */
export interface StreamSink {
  /**
   * One transaction. ticket_events: upsert each event by (account, id) and derive ticket_comments (Comment children,
   * the copy of the newest event wins) and ticket_field_changes (Create and Change children, one row per child and
   * field). users, organizations: upsert by (account, id) keeping the newest updated_at (ties: this write), in the same
   * tables the tickets stream's sideloads fill. ticket_metric_events: upsert by (account, id). reference_lists: upsert
   * into the list's table by (account, id) with the refresh's id and deleted_at cleared; the list's last page marks
   * deleted (deleted_at set, never dropped) its rows of the account this refresh did not see. Rows with no usable id
   * and rows the database refuses go to rejected_rows. Then the (account, stream) checkpoint.
   */
  persistStreamPage(input: PersistStreamPageInput): Promise<PersistStreamPageResult>;
  readStreamCheckpoint(account: string, stream: PagedStream): Promise<StreamCheckpoint | undefined>;
  /**
   * Every row of a stream table for an account, each as an object of its columns (JSON columns parsed, times as ISO
   * text), ordered by key: what tests and the CLI read.
   */
  readStreamTable(account: string, table: string): Promise<Record<string, unknown>[]>;
  countStreamTable(account: string, table: string): Promise<number>;
}

/** The activities of the streams around the ticket, as the workflow calls them (createActivities provides them). */
export interface StreamActivities {
  fetchStreamPage(input: FetchStreamInput): Promise<FetchStreamResult>;
  persistStream(input: PersistStreamInput): Promise<PersistStreamOutput>;
  loadStreamCheckpoint(input: LoadStreamCheckpointInput): Promise<StreamCheckpoint | null>;
}
