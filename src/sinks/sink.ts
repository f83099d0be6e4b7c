/** A ticket row as the API sent it; only these keys are read, the rest is stored untouched. */
export type TicketRow = Record<string, unknown> & { id: number; generated_timestamp: number };

export interface PersistPageInput {
  account: string;
  rows: TicketRow[];
  fieldHeaders: Record<string, string>;
  /** The cursor that follows this page: written in the same transaction as the tickets. */
  cursor: number;
  /** Which export wrote the checkpoint: a cursor of one endpoint means nothing to another. */
  api?: string;
  /** Cursor-based export: the after_cursor that follows this page. */
  afterCursor?: string | null;
}

export interface Checkpoint {
  cursor: number;
  api: string | null;
  afterCursor: string | null;
}

export interface PersistResult {
  /** Rows inserted or replacing an older (or equally old) version. */
  written: number;
  /** Rows older than the version already stored. */
  ignoredOlder: number;
}

export interface StoredTicket {
  id: number;
  generatedTimestamp: number;
  updatedAt: string | null;
  status: string | null;
  /** The ticket JSON exactly as received. */
  data: string;
}

export interface TicketSink {
  /**
   * One transaction: upsert every row by (account, id) keeping the newest generated_timestamp (ties: this write
   * wins), store the field headers, write the checkpoint.
   */
  persistPage(input: PersistPageInput): Promise<PersistResult>;
  readCheckpoint(account: string): Promise<number | undefined>;
  readFullCheckpoint(account: string): Promise<Checkpoint | undefined>;
  readTickets(account: string): Promise<StoredTicket[]>;
  countTickets(account: string): Promise<number>;
  close(): Promise<void>;
}

export function normalizedStatus(row: TicketRow): string | null {
  return typeof row.status === 'string' ? row.status.toLowerCase() : null;
}

export function updatedAt(row: TicketRow): string | null {
  return typeof row.updated_at === 'string' ? row.updated_at : null;
}
