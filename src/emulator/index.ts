export { startEmulator } from './server';
export {
  STREAM_TRUTH_NAMES,
  type Emulator,
  type PeopleAction,
  type StreamTruth,
  type StreamTruthName,
} from './emulator';
export {
  ORGANIZATIONS_PATH,
  TICKET_EVENTS_PATH,
  TICKET_METRIC_EVENTS_PATH,
  USERS_CURSOR_PATH,
  USERS_PATH,
  type StreamEndpoint,
} from './stream-paths';
export type { BucketCounters, LimitedBucket } from './buckets';
export type { ChildEvent, ChildVia, CommentChild, CommentRow, FieldHistoryRow, TicketEvent } from './event-json';
export type { TicketMetricEvent } from './metric-events';
export type { PeopleChange, StreamOrganization, StreamUser } from './people';
export {
  DEFAULT_CREDENTIALS,
  EmulatorInputError,
  type ConfigurePatch,
  type EmulatorCredentials,
  type EmulatorOptions,
  type MutationSpec,
  type ResolvedEmulatorOptions,
} from './options';
export {
  CURSOR_PATH,
  EXPORT_PATH,
  INCREMENTAL_PATH,
  OAUTH_TOKENS_PATH,
  SAMPLE_PATH,
  type Endpoint,
  type EndpointFamily,
} from './endpoints';
export type { CursorTicketsPage, IncrementalTicketsPage } from './incremental-endpoints';
export { TICKET_COUNT_PATH } from './count-endpoint';
export type { EmulatorLogEntry, EmulatorStats, LoggedEndpoint, TokenLogEntry } from './stats';
export {
  canReadTickets,
  DEFAULT_OAUTH_CLIENT,
  DEFAULT_TOKEN_SECONDS,
  EXPIRES_IN_MAX,
  EXPIRES_IN_MIN,
  TokenAuthority,
  type EmulatorOAuthClient,
} from './oauth';
export {
  FIELD_HEADERS,
  mulberry32,
  TicketStore,
  type CustomFieldValue,
  type FullTicket,
  type FullTicketStatus,
  type MutationKind,
  type MutationRecord,
  type SideloadName,
  type Sideloads,
  type TicketRow,
  type ViaChannel,
  type ZendeskGroup,
  type ZendeskOrganization,
  type ZendeskUser,
} from './data';
export {
  FaultQueue,
  retryAfterExpiry,
  validateFaultSpec,
  validateFaultSpecs,
  type FaultKind,
  type FaultSpec,
  type FaultSpecInput,
  type GeneralFaultSpec,
  type StreamFaultSpec,
} from './faults';
