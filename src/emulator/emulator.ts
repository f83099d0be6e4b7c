import type { FullTicket, MutationKind, MutationRecord, TicketRow } from './data';
import type { CommentChild, CommentRow, FieldHistoryRow, TicketEvent } from './event-json';
import type { FaultSpecInput } from './faults';
import type { TicketMetricEvent } from './metric-events';
import type { StreamOrganization, StreamUser } from './people';
import type { ConfigurePatch, MutationSpec, ResolvedEmulatorOptions } from './options';
import type { EmulatorStats } from './stats';
import type { ReferenceList } from '../streams/names';
import type { ReferenceChange, ReferenceRow } from './reference-lists';

/** What a full read of each stream around the ticket returns (comments and field history: derived from the events). */
export interface StreamTruth {
  /** every event as served with include=comment_events, in (timestamp, id) order */
  ticket_events: TicketEvent[];
  /** one per comment id, as the export now serves it (a redaction shows), by id */
  ticket_comments: CommentRow[];
  /** one per Create or Change child, by child id */
  ticket_field_changes: FieldHistoryRow[];
  /** every user's newest version, by id */
  users: StreamUser[];
  /** every organization's newest version, by id */
  organizations: StreamOrganization[];
  /** in (time, id) order */
  ticket_metric_events: TicketMetricEvent[];
  /** the reference lists as served now, each by id */
  ticket_fields: ReferenceRow[];
  groups: ReferenceRow[];
  brands: ReferenceRow[];
  ticket_forms: ReferenceRow[];
  custom_statuses: ReferenceRow[];
}

export type StreamTruthName = keyof StreamTruth;
export const STREAM_TRUTH_NAMES: readonly StreamTruthName[] = [
  'ticket_events',
  'ticket_comments',
  'ticket_field_changes',
  'users',
  'organizations',
  'ticket_metric_events',
  'ticket_fields',
  'groups',
  'brands',
  'ticket_forms',
  'custom_statuses',
];

/** A change a test makes to a user or an organization. */
export type PeopleAction = 'update' | 'delete';

/** A running local Zendesk, as startEmulator() returns it. */
export interface Emulator {
  url: string;
  port: number;
  options: ResolvedEmulatorOptions;
  truth(): TicketRow[];
  /** every ticket's latest version as the full object of the incremental endpoints, sorted by id */
  truthFull(): FullTicket[];
  stats(): EmulatorStats;
  resetStats(): void;
  injectFaults(faults: FaultSpecInput[]): void;
  clearFaults(): void;
  /** faults for the next POST /oauth/tokens calls, a queue of their own */
  injectTokenFaults(faults: FaultSpecInput[]): void;
  clearTokenFaults(): void;
  /** every access token issued so far becomes invalid */
  revokeTokens(): void;
  /** every access token issued so far (a test scans its outputs for each) */
  issuedTokens(): string[];
  /** applies `count` mutations now; `kind` forces one kind instead of the random mix */
  mutate(count: number, kind?: MutationKind): MutationRecord[];
  addBurst(size: number, timestamp?: number): number;
  startMutations(spec?: MutationSpec): void;
  stopMutations(): void;
  configure(patch: ConfigurePatch): void;
  streamTruth<K extends StreamTruthName>(name: K): StreamTruth[K];
  /** updates (another organization, time zone or locale) or deactivates a user now; undefined: no such user */
  changeUser(id: number, action: PeopleAction): StreamUser | undefined;
  /** updates (details, notes or tags) or deletes an organization now; undefined: no such organization */
  changeOrganization(id: number, action: PeopleAction): StreamOrganization | undefined;
  /**
   * adds an item to a reference list, or renames, deletes or restores (a deleted one) the item `id`, now; returns it,
   * undefined when there is none
   */
  changeReferenceList(list: ReferenceList, change: ReferenceChange, id?: number): ReferenceRow | undefined;
  /** redacts `text` in a comment (all of it without `text`); Zendesk emits no event for it */
  redactComment(id: number, text?: string): CommentChild | undefined;
  close(): Promise<void>;
}
