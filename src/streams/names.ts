/**
 * The streams an account's export reads, the API budgets (buckets) they share, and the rows' keys. Plain values only:
 * the workflow bundles this module, and the CLI, the settings, the sinks and the emulator take their names from it.
 */

export const STREAMS = [
  'tickets',
  'ticket_events',
  'users',
  'organizations',
  'ticket_metric_events',
  'reference_lists',
] as const;
export type StreamName = (typeof STREAMS)[number];

/** The streams around the ticket: read by fetchStreamPage / persistStream (tickets keep fetchPage / persist). */
export const AROUND_TICKET_STREAMS = ['ticket_events', 'users', 'organizations', 'ticket_metric_events'] as const;
export type AroundStream = (typeof AROUND_TICKET_STREAMS)[number];

/**
 * The streams a StreamRun reads through fetchStreamPage / persistStream: the streams around the ticket and the
 * reference lists (tickets keep fetchPage / persist).
 */
export const PAGED_STREAMS = [...AROUND_TICKET_STREAMS, 'reference_lists'] as const;
export type PagedStream = (typeof PAGED_STREAMS)[number];

/**
 * The account's reference lists, in the order a refresh walks them: small lists that name what tickets carry by id
 * (custom fields, groups, brands, forms, custom statuses). Each is stored in the table of the same name.
 */
export const REFERENCE_LISTS = ['ticket_fields', 'groups', 'brands', 'ticket_forms', 'custom_statuses'] as const;
export type ReferenceList = (typeof REFERENCE_LISTS)[number];

/** The path of each reference list (under /api/v2); custom_statuses answers its whole list at once. */
export const REFERENCE_LIST_PATHS: Record<ReferenceList, string> = {
  ticket_fields: '/api/v2/ticket_fields.json',
  groups: '/api/v2/groups.json',
  brands: '/api/v2/brands.json',
  ticket_forms: '/api/v2/ticket_forms.json',
  custom_statuses: '/api/v2/custom_statuses.json',
};

/** The reference lists that page (standard cursor pagination, page[size] at most 100). */
export const REFERENCE_LIST_MAX_PER_PAGE = 100;

export function isReferenceList(value: unknown): value is ReferenceList {
  return typeof value === 'string' && (REFERENCE_LISTS as readonly string[]).includes(value);
}

export function isPagedStream(value: unknown): value is PagedStream {
  return typeof value === 'string' && (PAGED_STREAMS as readonly string[]).includes(value);
}

export function isStreamName(value: unknown): value is StreamName {
  return typeof value === 'string' && (STREAMS as readonly string[]).includes(value);
}

export function isAroundStream(value: unknown): value is AroundStream {
  return typeof value === 'string' && (AROUND_TICKET_STREAMS as readonly string[]).includes(value);
}

/**
 * Zendesk's rate-limit buckets an export calls through. `incremental`: tickets (time and cursor), ticket events,
 * organizations, ticket metric events (10 a minute, 30 with High Volume). `users_cursor`: the users cursor export
 * (20, 60 with High Volume). `exports`: the specified legacy endpoint, paced on its own (one call per 5 minutes).
 * `account`: the account-wide budget of every other endpoint (200-2500 a minute by plan), the reference lists'.
 */
export const BUCKETS = ['incremental', 'users_cursor', 'exports', 'account'] as const;
export type BucketName = (typeof BUCKETS)[number];

/** Calls a minute per bucket, by default (accounts with the High Volume add-on raise them). */
export const DEFAULT_BUCKET_PER_MINUTE: Record<Exclude<BucketName, 'exports'>, number> = {
  incremental: 10,
  users_cursor: 20,
  // A small share of the smallest plan's 200: the account's own integrations and agents use the same budget.
  account: 30,
};

/** The bucket a stream's calls count against. `ticketsApi` is the tickets stream's endpoint. */
export function bucketOf(stream: StreamName, ticketsApi: 'exports' | 'incremental' | 'cursor'): BucketName {
  if (stream === 'tickets') return ticketsApi === 'exports' ? 'exports' : 'incremental';
  if (stream === 'reference_lists') return 'account';
  return stream === 'users' ? 'users_cursor' : 'incremental';
}

/** The path each stream around the ticket reads (under /api/v2). */
export const STREAM_PATHS: Record<AroundStream, string> = {
  ticket_events: '/api/v2/incremental/ticket_events.json',
  users: '/api/v2/incremental/users/cursor.json',
  organizations: '/api/v2/incremental/organizations.json',
  ticket_metric_events: '/api/v2/incremental/ticket_metric_events.json',
};

/** The largest page each stream asks for (ticket metric events document 100). */
export const STREAM_MAX_PER_PAGE: Record<AroundStream, number> = {
  ticket_events: 1000,
  users: 1000,
  organizations: 1000,
  ticket_metric_events: 100,
};

/** `support_type_scope` on tickets and ticket events: `all` includes tickets only an AI agent handled. */
export const SUPPORT_TYPE_SCOPES = ['agent', 'ai_agent', 'all'] as const;
export type SupportTypeScope = (typeof SUPPORT_TYPE_SCOPES)[number];

/** The tables each stream writes (both sinks); names and keys are a contract (docs/data.md and docs/operations.md#stored-tables list them). */
export const STREAM_TABLES: Record<StreamName, readonly string[]> = {
  tickets: ['tickets'],
  ticket_events: ['ticket_events', 'ticket_comments', 'ticket_field_changes'],
  users: ['users'],
  organizations: ['organizations'],
  ticket_metric_events: ['ticket_metric_events'],
  reference_lists: REFERENCE_LISTS,
};

/**
 * A list of streams as an operator writes it (`tickets,users`, or `all`): the streams in their canonical order, or
 * the problem with the text.
 */
export function readStreamList(text: string): { streams: StreamName[] } | { problem: string } {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'all') return { streams: [...STREAMS] };
  if (names.length === 0) return { problem: `must name at least one stream of ${STREAMS.join(', ')} (or "all")` };
  const unknown = names.filter((name) => !isStreamName(name));
  if (unknown.length > 0) {
    return { problem: `unknown stream ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${STREAMS.join(', ')})` };
  }
  return { streams: STREAMS.filter((name) => names.includes(name)) };
}

/** `users=1700000000,organizations=0` → a first start_time per stream around the ticket, or the problem. */
export function readStreamStartTimes(
  text: string,
  nowSeconds: number,
): { startTimes: Partial<Record<AroundStream, number>> } | { problem: string } {
  const startTimes: Partial<Record<AroundStream, number>> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z_]+)=(\d+)$/.exec(part);
    if (!match) return { problem: `"${part}" is not stream=epoch-seconds` };
    const [, stream, value] = match;
    if (!isAroundStream(stream)) {
      return { problem: `"${stream}" is not a stream around the ticket (${AROUND_TICKET_STREAMS.join(', ')})` };
    }
    const startTime = Number(value);
    if (!Number.isSafeInteger(startTime) || startTime > nowSeconds) {
      return { problem: `${stream}=${value} is not an epoch second that has passed` };
    }
    startTimes[stream] = startTime;
  }
  return { startTimes };
}
