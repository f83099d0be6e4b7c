import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  FIELD_HEADERS,
  sideloadsFor,
  TicketStore,
  type FullTicket,
  type MutationKind,
  type MutationRecord,
  type SideloadName,
  type Sideloads,
  type StreamPosition,
  type TicketRow,
} from './data';
import {
  EmulatorInputError,
  FaultQueue,
  retryAfterExpiry,
  validateFaultSpecs,
  type FaultKind,
  type FaultSpec,
} from './faults';
import { canReadTickets, TokenAuthority, type EmulatorOAuthClient } from './oauth';

export type { FullTicket, TicketRow } from './data';
export type { EmulatorOAuthClient } from './oauth';

export type Endpoint = 'export' | 'sample' | 'incremental' | 'cursor';
/** Endpoints that share a rate limit (and a Retry-After in the stats) */
export type EndpointFamily = 'export' | 'sample' | 'incremental';

/** GET /api/v2/incremental/tickets.json */
export type IncrementalTicketsPage = {
  tickets: FullTicket[];
  count: number;
  end_time: number;
  next_page: string;
  end_of_stream: boolean;
} & Sideloads;

/** GET /api/v2/incremental/tickets/cursor.json */
export type CursorTicketsPage = {
  tickets: FullTicket[];
  after_cursor: string;
  after_url: string;
  before_cursor: string | null;
  before_url: string | null;
  end_of_stream: boolean;
} & Sideloads;

export interface MutationSpec {
  intervalMs: number;
  perTick: number;
}

export interface EmulatorCredentials {
  email: string;
  apiToken: string;
  password: string;
}

export interface EmulatorOptions {
  host?: string;
  /** 0 = a free port */
  port?: number;
  seed?: number;
  ticketCount?: number;
  /** seeded generated_timestamps spread over [now - rangeSeconds, now - 2 * minStartAgeSeconds - 1] */
  rangeSeconds?: number;
  /** a start_time younger than this is "too recent" */
  minStartAgeSeconds?: number;
  /** one accepted export call per window; 0 = unlimited */
  windowSeconds?: number;
  /** the sample endpoint's own window */
  sampleWindowSeconds?: number;
  pageSize?: number;
  samplePageSize?: number;
  /** extra seeded tickets sharing one generated_timestamp each (default: now - 2 * minStartAgeSeconds - 10) */
  bursts?: Array<{ size: number; timestamp?: number }>;
  mutations?: MutationSpec;
  credentials?: Partial<EmulatorCredentials>;
  /** serve /__emulator/* */
  testEndpoints?: boolean;
  /** incremental endpoints (time-based and cursor together): accepted calls per sliding minute; 0 = unlimited */
  incrementalRequestsPerMinute?: number;
  /** incremental endpoints: a start_time younger than this is "too recent" */
  incrementalMinStartAgeSeconds?: number;
  /** incremental endpoints: a page whose JSON body is larger gets 504; 0 = unlimited */
  maxPageBytes?: number;
  /** [min, max] bytes of a full ticket's description */
  descriptionBytes?: [number, number];
  /**
   * OAuth mode when non-empty: POST /oauth/tokens grants these clients tokens (client credentials), and the export
   * endpoints accept only `Authorization: Bearer <token>`
   */
  oauthClients?: EmulatorOAuthClient[];
  /** caps every token's lifetime, in seconds (default: the requested expires_in, or 1800) */
  oauthTokenTtlSeconds?: number;
  /** clock in ms */
  now?: () => number;
}

export interface ResolvedEmulatorOptions {
  host: string;
  /** the port actually bound */
  port: number;
  seed: number;
  ticketCount: number;
  rangeSeconds: number;
  minStartAgeSeconds: number;
  windowSeconds: number;
  sampleWindowSeconds: number;
  pageSize: number;
  samplePageSize: number;
  bursts: Array<{ size: number; timestamp: number }>;
  incrementalRequestsPerMinute: number;
  incrementalMinStartAgeSeconds: number;
  maxPageBytes: number;
  descriptionBytes: [number, number];
  /** the running live-mutation schedule, null when stopped */
  mutations: MutationSpec | null;
  credentials: EmulatorCredentials;
  /** empty: Basic auth */
  oauthClients: EmulatorOAuthClient[];
  oauthTokenTtlSeconds: number | null;
  testEndpoints: boolean;
  now: () => number;
}

export interface EmulatorLogEntry {
  at: number;
  endpoint: Endpoint;
  startTime: number | null;
  /** the cursor parameter of a cursor-based call */
  cursor?: string;
  status: number | string;
  rows: number;
  retryAfter?: string;
  /** the fault that shaped this answer, if any */
  fault?: FaultKind;
}

export interface TokenLogEntry {
  at: number;
  status: number | string;
  fault?: FaultKind;
}

export interface EmulatorStats {
  /** calls to the four export endpoints, all outcomes */
  calls: number;
  byStatus: Record<string, number>;
  /** the incremental endpoints' keys appear with their first call */
  byEndpoint: Record<'export' | 'sample', number> & Partial<Record<'incremental' | 'cursor', number>>;
  /** 429s and 503s that carried a Retry-After header */
  retryAfterIssued: number;
  /** calls that arrived before the latest Retry-After of their endpoint family had expired */
  callsBeforeRetryAfter: number;
  rowsServed: number;
  /** the last LOG_LIMIT calls */
  log: EmulatorLogEntry[];
  /** POST /oauth/tokens answered 200 with a whole grant (a token delivered) */
  tokenGrants: number;
  /** POST /oauth/tokens answered anything else: a refusal, a fault, a reset */
  tokenErrors: number;
  /** export calls that carried an access token which had expired */
  expiredTokenCalls: number;
  /** export calls answered 401, for whatever reason */
  unauthenticatedCalls: number;
  /** the last LOG_LIMIT calls to POST /oauth/tokens (not in calls or log) */
  tokenLog: TokenLogEntry[];
}

export interface ConfigurePatch {
  windowSeconds?: number;
  sampleWindowSeconds?: number;
  minStartAgeSeconds?: number;
  incrementalRequestsPerMinute?: number;
  incrementalMinStartAgeSeconds?: number;
  maxPageBytes?: number;
}

export interface Emulator {
  url: string;
  port: number;
  options: ResolvedEmulatorOptions;
  truth(): TicketRow[];
  /** every ticket's latest version as the full object of the incremental endpoints, sorted by id */
  truthFull(): FullTicket[];
  stats(): EmulatorStats;
  resetStats(): void;
  injectFaults(faults: FaultSpec[]): void;
  clearFaults(): void;
  /** faults for the next POST /oauth/tokens calls, a queue of their own */
  injectTokenFaults(faults: FaultSpec[]): void;
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
  close(): Promise<void>;
}

export const EXPORT_PATH = '/api/v2/exports/tickets.json';
export const SAMPLE_PATH = '/api/v2/exports/tickets/sample.json';
export const INCREMENTAL_PATH = '/api/v2/incremental/tickets.json';
export const CURSOR_PATH = '/api/v2/incremental/tickets/cursor.json';
export const OAUTH_TOKENS_PATH = '/oauth/tokens';
export const DEFAULT_CREDENTIALS: Readonly<EmulatorCredentials> = Object.freeze({
  email: 'admin@example.com',
  apiToken: 'emulator-token',
  password: 'emulator-password',
});
export const DEFAULT_OAUTH_CLIENT: Readonly<EmulatorOAuthClient> = Object.freeze({
  clientId: 'zte-demo-client',
  clientSecret: 'zte-demo-secret-7c1e9a4f2b8d6e3a5c0f9b1d4e7a2c6f',
});

const LOG_LIMIT = 1000;
const MAX_BODY_BYTES = 1024 * 1024;
const MUTATION_KINDS: readonly MutationKind[] = ['create', 'agentUpdate', 'systemUpdate', 'delete'];
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const AUTH_ERROR = JSON.stringify({ error: "Couldn't authenticate you" });
const BASIC_CHALLENGE = 'Basic realm="Web Password"';
const INVALID_TOKEN = JSON.stringify({
  error: 'invalid_token',
  error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.',
});
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';
const INSUFFICIENT_SCOPE = JSON.stringify({
  error: 'insufficient_scope',
  error_description: 'The request requires higher privileges than provided by the access token.',
});
const INVALID_CLIENT = JSON.stringify({
  error: 'invalid_client',
  error_description: 'Client authentication failed.',
});
/** RFC 6749 5.1: token answers are not cached */
const TOKEN_HEADERS = { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const RATE_LIMIT_ERROR = JSON.stringify({
  error: 'APIRateLimitExceeded',
  description: 'Number of allowed API requests per minute exceeded',
});
const INVALID_START_TIME = JSON.stringify({
  error: 'InvalidValue',
  description: 'start_time is required and must be an integer',
});
const TOO_RECENT = 'Too recent start_time. Use a start_time older than 5 minutes';
const INCREMENTAL_RATE_LIMIT_ERROR = JSON.stringify({
  error: 'APIRateLimitExceeded',
  description: 'Number of allowed incremental export API requests per minute exceeded',
});
const INCREMENTAL_TOO_RECENT = JSON.stringify({
  error: 'StartTimeTooRecent',
  description: 'Too recent start_time. Use a start_time older than 1 minute',
});
const PAGE_TOO_LARGE = 'upstream request timeout';
const MAX_PER_PAGE = 1000;
const RATE_WINDOW_MS = 60_000;
const SIDELOAD_NAMES: readonly SideloadName[] = ['users', 'groups', 'organizations'];
const HTML_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>' +
  '<body><h1>We are experiencing technical difficulties</h1><p>Please try again in a few minutes.</p></body></html>\n';

function nonNegativeInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new EmulatorInputError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveInt(name: string, value: unknown): number {
  const n = nonNegativeInt(name, value);
  if (n === 0) throw new EmulatorInputError(`${name} must be a positive integer, got 0`);
  return n;
}

function nonNegativeNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new EmulatorInputError(`${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  }
  return value;
}

const INCREMENTAL_CONFIG_KEYS = [
  'incrementalRequestsPerMinute',
  'incrementalMinStartAgeSeconds',
  'maxPageBytes',
] as const;

function validateDescriptionBytes(value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new EmulatorInputError(`descriptionBytes must be [min, max], got ${JSON.stringify(value)}`);
  }
  const min = nonNegativeInt('descriptionBytes[0]', value[0]);
  const max = nonNegativeInt('descriptionBytes[1]', value[1]);
  if (min > max) throw new EmulatorInputError(`descriptionBytes: min ${min} is larger than max ${max}`);
  return [min, max];
}

function validateMutationSpec(spec: unknown): MutationSpec {
  if (typeof spec !== 'object' || spec === null) throw new EmulatorInputError('mutations must be an object');
  const { intervalMs, perTick } = spec as Record<string, unknown>;
  return {
    intervalMs: positiveInt('mutations.intervalMs', intervalMs),
    perTick: positiveInt('mutations.perTick', perTick),
  };
}

function validateOAuthClients(value: unknown): EmulatorOAuthClient[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new EmulatorInputError('oauthClients must be an array');
  const ids = new Set<string>();
  return value.map((client: unknown, i) => {
    const { clientId, clientSecret } = (typeof client === 'object' && client !== null ? client : {}) as Record<
      string,
      unknown
    >;
    if (typeof clientId !== 'string' || clientId === '' || typeof clientSecret !== 'string' || clientSecret === '') {
      throw new EmulatorInputError(`oauthClients[${i}] must have a non-empty clientId and clientSecret`);
    }
    if (ids.has(clientId)) throw new EmulatorInputError(`oauthClients: client ${clientId} appears twice`);
    ids.add(clientId);
    return { clientId, clientSecret };
  });
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header || !/^Bearer(\s|$)/i.test(header)) return undefined;
  // a malformed Bearer header still names a (bad) token: it gets invalid_token like an unknown one
  return /^Bearer\s+([\x21-\x7e]+)\s*$/i.exec(header)?.[1] ?? '';
}

function parseStartTime(raw: string | null): number | null {
  if (raw === null || !/^\d+$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : null;
}

function familyOf(endpoint: Endpoint): EndpointFamily {
  return endpoint === 'cursor' ? 'incremental' : endpoint;
}

function isIncremental(endpoint: Endpoint): endpoint is 'incremental' | 'cursor' {
  return endpoint === 'incremental' || endpoint === 'cursor';
}

function encodeCursor(position: StreamPosition): string {
  return Buffer.from(JSON.stringify({ t: position.gts, i: position.id })).toString('base64url');
}

function decodeCursor(cursor: string): StreamPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return undefined;
  const { t, i, ...rest } = decoded as Record<string, unknown>;
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!valid(t) || !valid(i) || Object.keys(rest).length > 0) return undefined;
  return { gts: t, id: i };
}

interface IncrementalQuery {
  /** the start_time parameter; null on a cursor call */
  startTime: number | null;
  /** the page starts strictly after this position */
  from: StreamPosition;
  perPage: number;
  include: ReadonlySet<SideloadName>;
  excludeDeleted: boolean;
}

function invalidValue(description: string): { error: string } {
  return { error: JSON.stringify({ error: 'InvalidValue', description }) };
}

/** The parameters of an incremental call, or the body of its 400 answer. */
function parseIncrementalQuery(
  endpoint: 'incremental' | 'cursor',
  params: URLSearchParams,
): IncrementalQuery | { error: string } {
  const rawPerPage = params.get('per_page');
  let perPage = MAX_PER_PAGE;
  if (rawPerPage !== null) {
    perPage = /^\d{1,4}$/.test(rawPerPage) ? Number(rawPerPage) : NaN;
    if (!(perPage >= 1 && perPage <= MAX_PER_PAGE)) {
      return invalidValue(`per_page must be an integer from 1 to ${MAX_PER_PAGE}, got '${rawPerPage}'`);
    }
  }
  const requested = (params.get('include') ?? '').split(',').map((name) => name.trim());
  const include = new Set(SIDELOAD_NAMES.filter((name) => requested.includes(name)));
  const excludeDeleted = params.get('exclude_deleted') === 'true';

  const hasCursor = endpoint === 'cursor' && params.has('cursor');
  if (endpoint === 'cursor' && hasCursor === params.has('start_time')) {
    return invalidValue('exactly one of start_time and cursor is required');
  }
  if (hasCursor) {
    const from = decodeCursor(params.get('cursor') ?? '');
    if (!from) return { error: JSON.stringify({ error: 'InvalidCursor', description: 'cursor is not valid' }) };
    return { startTime: null, from, perPage, include, excludeDeleted };
  }
  const startTime = parseStartTime(params.get('start_time'));
  if (startTime === null) return invalidValue('start_time is required and must be an integer');
  return { startTime, from: { gts: startTime, id: 0 }, perPage, include, excludeDeleted };
}

/** The parameters after the position, as next_page and after_url repeat them. */
function carriedParams(query: IncrementalQuery): string {
  let carried = `&per_page=${query.perPage}`;
  if (query.include.size > 0) carried += `&include=${[...query.include].join(',')}`;
  if (query.excludeDeleted) carried += '&exclude_deleted=true';
  return carried;
}

function originFor(host: string, port: number): string {
  let shown = host;
  if (host === '0.0.0.0' || host === '') shown = '127.0.0.1';
  else if (host === '::') shown = '[::1]';
  else if (host.includes(':')) shown = `[${host}]`;
  return `http://${shown}:${port}`;
}

function emptyStats(): EmulatorStats {
  return {
    calls: 0,
    byStatus: {},
    byEndpoint: { export: 0, sample: 0 },
    retryAfterIssued: 0,
    callsBeforeRetryAfter: 0,
    rowsServed: 0,
    log: [],
    tokenGrants: 0,
    tokenErrors: 0,
    expiredTokenCalls: 0,
    unauthenticatedCalls: 0,
    tokenLog: [],
  };
}

function pushLimited<T>(log: T[], entry: T): void {
  log.push(entry);
  if (log.length > LOG_LIMIT) log.shift();
}

class StatsRecorder {
  private data = emptyStats();
  /** per endpoint family, when the latest Retry-After (or implied 60 s of a bare 429) expires, in ms */
  private retryUntil: Partial<Record<EndpointFamily, number>> = {};

  arrive(endpoint: Endpoint, at: number): void {
    this.data.calls += 1;
    this.data.byEndpoint[endpoint] = (this.data.byEndpoint[endpoint] ?? 0) + 1;
    const until = this.retryUntil[familyOf(endpoint)];
    if (until !== undefined && at < until) this.data.callsBeforeRetryAfter += 1;
  }

  finish(entry: EmulatorLogEntry): void {
    const key = String(entry.status);
    this.data.byStatus[key] = (this.data.byStatus[key] ?? 0) + 1;
    if (entry.status === 200) this.data.rowsServed += entry.rows;
    if (entry.status === 401) this.data.unauthenticatedCalls += 1;
    if (entry.status === 429 || entry.status === 503) {
      if (entry.retryAfter !== undefined) {
        this.data.retryAfterIssued += 1;
        this.retryUntil[familyOf(entry.endpoint)] = retryAfterExpiry(entry.retryAfter, entry.at) ?? entry.at + 60_000;
      } else if (entry.status === 429) {
        this.retryUntil[familyOf(entry.endpoint)] = entry.at + 60_000;
      }
    }
    pushLimited(this.data.log, entry);
  }

  expiredToken(): void {
    this.data.expiredTokenCalls += 1;
  }

  token(entry: TokenLogEntry, granted: boolean): void {
    if (granted) this.data.tokenGrants += 1;
    else this.data.tokenErrors += 1;
    pushLimited(this.data.tokenLog, entry);
  }

  snapshot(): EmulatorStats {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = emptyStats();
    this.retryUntil = {};
  }
}

interface Call {
  endpoint: Endpoint;
  startTime: number | null;
  params: URLSearchParams;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  fault?: FaultKind;
}

interface TokenCall {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  fault?: FaultKind;
}

class ZendeskEmulator implements Emulator {
  url = '';
  port = 0;
  readonly options: ResolvedEmulatorOptions;
  private readonly store: TicketStore;
  private readonly faults = new FaultQueue();
  private readonly tokenFaults = new FaultQueue();
  private readonly tokens: TokenAuthority;
  private readonly recorder = new StatsRecorder();
  private readonly server: http.Server;
  private readonly lastAccepted: Partial<Record<Endpoint, number>> = {};
  /** when the incremental calls of the last minute that count against the limit were accepted, in ms */
  private incrementalAccepted: number[] = [];
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private mutationTimer: NodeJS.Timeout | undefined;
  private lastMutationSpec: MutationSpec = { intervalMs: 1000, perTick: 1 };
  private closed: Promise<void> | undefined;

  constructor(input: EmulatorOptions) {
    const now = input.now ?? Date.now;
    const minStartAgeSeconds = nonNegativeInt('minStartAgeSeconds', input.minStartAgeSeconds ?? 300);
    const nowSeconds = Math.floor(now() / 1000);
    const defaultBurstTimestamp = nowSeconds - 2 * minStartAgeSeconds - 10;
    this.options = {
      host: input.host ?? '127.0.0.1',
      port: nonNegativeInt('port', input.port ?? 0),
      seed: nonNegativeInt('seed', input.seed ?? 1),
      ticketCount: nonNegativeInt('ticketCount', input.ticketCount ?? 3000),
      rangeSeconds: nonNegativeInt('rangeSeconds', input.rangeSeconds ?? 30 * 24 * 3600),
      minStartAgeSeconds,
      windowSeconds: nonNegativeNumber('windowSeconds', input.windowSeconds ?? 300),
      sampleWindowSeconds: nonNegativeNumber('sampleWindowSeconds', input.sampleWindowSeconds ?? 0),
      pageSize: positiveInt('pageSize', input.pageSize ?? 1000),
      samplePageSize: positiveInt('samplePageSize', input.samplePageSize ?? 50),
      bursts: (input.bursts ?? []).map((burst, i) => ({
        size: positiveInt(`bursts[${i}].size`, burst.size),
        timestamp: nonNegativeInt(`bursts[${i}].timestamp`, burst.timestamp ?? defaultBurstTimestamp),
      })),
      incrementalRequestsPerMinute: nonNegativeInt(
        'incrementalRequestsPerMinute',
        input.incrementalRequestsPerMinute ?? 10,
      ),
      incrementalMinStartAgeSeconds: nonNegativeInt(
        'incrementalMinStartAgeSeconds',
        input.incrementalMinStartAgeSeconds ?? 60,
      ),
      maxPageBytes: nonNegativeInt('maxPageBytes', input.maxPageBytes ?? 0),
      descriptionBytes: validateDescriptionBytes(input.descriptionBytes ?? [600, 3000]),
      mutations: null,
      credentials: {
        email: input.credentials?.email ?? DEFAULT_CREDENTIALS.email,
        apiToken: input.credentials?.apiToken ?? DEFAULT_CREDENTIALS.apiToken,
        password: input.credentials?.password ?? DEFAULT_CREDENTIALS.password,
      },
      oauthClients: validateOAuthClients(input.oauthClients),
      oauthTokenTtlSeconds:
        input.oauthTokenTtlSeconds === undefined
          ? null
          : positiveInt('oauthTokenTtlSeconds', input.oauthTokenTtlSeconds),
      testEndpoints: input.testEndpoints ?? true,
      now,
    };
    const rangeEnd = nowSeconds - 2 * minStartAgeSeconds - 1;
    this.store = new TicketStore({
      seed: this.options.seed,
      ticketCount: this.options.ticketCount,
      rangeStart: Math.min(nowSeconds - this.options.rangeSeconds, rangeEnd),
      rangeEnd,
      bursts: this.options.bursts,
      descriptionBytes: this.options.descriptionBytes,
    });
    this.tokens = new TokenAuthority(this.options.oauthClients, this.options.oauthTokenTtlSeconds);
    if (input.mutations) this.lastMutationSpec = validateMutationSpec(input.mutations);
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => this.internalError(res, err));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.options.port = this.port;
    this.url = originFor(this.options.host, this.port);
  }

  private get nowMs(): number {
    return this.options.now();
  }

  truth(): TicketRow[] {
    return this.store.truth(this.url);
  }

  truthFull(): FullTicket[] {
    return this.store.truthFull(this.url);
  }

  stats(): EmulatorStats {
    return this.recorder.snapshot();
  }

  resetStats(): void {
    this.recorder.reset();
  }

  injectFaults(faults: FaultSpec[]): void {
    this.faults.push(faults);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  injectTokenFaults(faults: FaultSpec[]): void {
    this.tokenFaults.push(faults);
  }

  clearTokenFaults(): void {
    this.tokenFaults.clear();
  }

  revokeTokens(): void {
    this.tokens.revokeAll();
  }

  issuedTokens(): string[] {
    return this.tokens.issued();
  }

  private get oauthMode(): boolean {
    return this.options.oauthClients.length > 0;
  }

  mutate(count: number, kind?: MutationKind): MutationRecord[] {
    nonNegativeInt('count', count);
    if (kind !== undefined && !MUTATION_KINDS.includes(kind)) {
      throw new EmulatorInputError(`kind must be one of ${MUTATION_KINDS.join(', ')}`);
    }
    return this.store.mutate(count, Math.floor(this.nowMs / 1000), kind);
  }

  addBurst(size: number, timestamp?: number): number {
    positiveInt('size', size);
    const ts = timestamp ?? Math.floor(this.nowMs / 1000) - 2 * this.options.minStartAgeSeconds - 10;
    return this.store.addBurst(size, nonNegativeInt('timestamp', ts));
  }

  startMutations(spec?: MutationSpec): void {
    const resolved = spec ? validateMutationSpec(spec) : this.lastMutationSpec;
    this.stopMutations();
    this.lastMutationSpec = resolved;
    this.options.mutations = { ...resolved };
    this.mutationTimer = setInterval(() => {
      this.store.mutate(resolved.perTick, Math.floor(this.nowMs / 1000));
    }, resolved.intervalMs);
    this.mutationTimer.unref();
  }

  stopMutations(): void {
    if (this.mutationTimer) clearInterval(this.mutationTimer);
    this.mutationTimer = undefined;
    this.options.mutations = null;
  }

  configure(patch: ConfigurePatch): void {
    if (typeof patch !== 'object' || patch === null) throw new EmulatorInputError('config must be an object');
    const next = { ...patch };
    if (next.windowSeconds !== undefined) nonNegativeNumber('windowSeconds', next.windowSeconds);
    if (next.sampleWindowSeconds !== undefined) nonNegativeNumber('sampleWindowSeconds', next.sampleWindowSeconds);
    if (next.minStartAgeSeconds !== undefined) nonNegativeInt('minStartAgeSeconds', next.minStartAgeSeconds);
    for (const key of INCREMENTAL_CONFIG_KEYS) if (next[key] !== undefined) nonNegativeInt(key, next[key]);
    if (next.windowSeconds !== undefined) this.options.windowSeconds = next.windowSeconds;
    if (next.sampleWindowSeconds !== undefined) this.options.sampleWindowSeconds = next.sampleWindowSeconds;
    if (next.minStartAgeSeconds !== undefined) this.options.minStartAgeSeconds = next.minStartAgeSeconds;
    for (const key of INCREMENTAL_CONFIG_KEYS) {
      const value = next[key];
      if (value !== undefined) this.options[key] = value;
    }
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve, reject) => {
      this.stopMutations();
      for (const timer of this.pendingTimers) clearTimeout(timer);
      this.pendingTimers.clear();
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  // ---- HTTP ----

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = requestUrl.pathname;
    // Like Zendesk, every answer carries the server's clock: the export measures its skew from this header.
    res.setHeader('Date', new Date(this.nowMs).toUTCString());
    if (req.method === 'GET' && (path === EXPORT_PATH || path === SAMPLE_PATH)) {
      this.handleExport(req, res, path === EXPORT_PATH ? 'export' : 'sample', requestUrl.searchParams);
      return;
    }
    if (req.method === 'GET' && (path === INCREMENTAL_PATH || path === CURSOR_PATH)) {
      this.handleExport(req, res, path === INCREMENTAL_PATH ? 'incremental' : 'cursor', requestUrl.searchParams);
      return;
    }
    if (req.method === 'POST' && path === OAUTH_TOKENS_PATH) {
      await this.handleTokenRequest(req, res);
      return;
    }
    if (this.options.testEndpoints && path.startsWith('/__emulator/')) {
      await this.handleTestEndpoint(req, res, path, requestUrl.searchParams);
      return;
    }
    sendRaw(res, 404, JSON.stringify({ error: 'InvalidEndpoint' }), { 'Content-Type': JSON_TYPE });
  }

  private handleExport(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    endpoint: Endpoint,
    params: URLSearchParams,
  ): void {
    const arrivedAt = this.nowMs;
    this.recorder.arrive(endpoint, arrivedAt);
    const call: Call = { endpoint, startTime: parseStartTime(params.get('start_time')), params, req, res };

    if (!this.admitted(call)) return;

    const fault = this.faults.take();
    if (fault) {
      call.fault = fault.kind;
      this.applyFault(call, fault);
      return;
    }

    if (isIncremental(endpoint)) {
      const retryAfter = this.incrementalRetryAfter(arrivedAt);
      if (retryAfter !== undefined) {
        this.respond(call, 429, INCREMENTAL_RATE_LIMIT_ERROR, { 'Content-Type': JSON_TYPE, 'Retry-After': retryAfter });
        return;
      }
      this.answerIncremental(call, true);
      return;
    }

    const windowMs = (endpoint === 'sample' ? this.options.sampleWindowSeconds : this.options.windowSeconds) * 1000;
    const last = this.lastAccepted[endpoint];
    if (windowMs > 0 && last !== undefined && arrivedAt - last < windowMs) {
      const retryAfter = String(Math.max(1, Math.ceil((last + windowMs - arrivedAt) / 1000)));
      this.respond(call, 429, RATE_LIMIT_ERROR, { 'Content-Type': JSON_TYPE, 'Retry-After': retryAfter });
      return;
    }

    this.answer(call, true);
  }

  /** The Retry-After for an incremental call arriving now, or undefined when the limit lets it through. */
  private incrementalRetryAfter(now: number): string | undefined {
    const accepted = this.incrementalAccepted;
    const firstInWindow = accepted.findIndex((at) => now - at < RATE_WINDOW_MS);
    if (firstInWindow !== 0) accepted.splice(0, firstInWindow === -1 ? accepted.length : firstInWindow);
    const limit = this.options.incrementalRequestsPerMinute;
    if (limit === 0 || accepted.length < limit) return undefined;
    // Once this call leaves the window, fewer than `limit` remain (normally it is the oldest one).
    const leaving = accepted[accepted.length - limit];
    return String(Math.max(1, Math.ceil((leaving + RATE_WINDOW_MS - now) / 1000)));
  }

  /** Steps d-f for the incremental endpoints: parameter check, too-recent check, the page itself. */
  private answerIncremental(call: Call, consumeLimit: boolean): void {
    const endpoint = call.endpoint as 'incremental' | 'cursor';
    const query = parseIncrementalQuery(endpoint, call.params);
    if ('error' in query) {
      this.respond(call, 400, query.error, { 'Content-Type': JSON_TYPE });
      return;
    }
    const now = this.nowMs;
    const nowSeconds = Math.floor(now / 1000);
    if (query.startTime !== null && nowSeconds - query.startTime < this.options.incrementalMinStartAgeSeconds) {
      if (consumeLimit) this.incrementalAccepted.push(now);
      this.respond(call, 400, INCREMENTAL_TOO_RECENT, { 'Content-Type': JSON_TYPE });
      return;
    }
    const page = this.incrementalPage(endpoint, query, nowSeconds);
    const body = JSON.stringify(page);
    if (this.options.maxPageBytes > 0 && Buffer.byteLength(body) > this.options.maxPageBytes) {
      this.respond(call, 504, PAGE_TOO_LARGE, { 'Content-Type': TEXT_TYPE });
      return;
    }
    if (consumeLimit) this.incrementalAccepted.push(now);
    this.respond(call, 200, body, { 'Content-Type': JSON_TYPE }, page.tickets.length);
  }

  private incrementalPage(
    endpoint: 'incremental' | 'cursor',
    query: IncrementalQuery,
    nowSeconds: number,
  ): IncrementalTicketsPage | CursorTicketsPage {
    // The cursor endpoint serves only completed seconds: its position is (generated_timestamp, id), so a ticket
    // changed later in the current second with a lower id would otherwise land behind a cursor already handed out.
    // (Zendesk's cursor follows its change stream and never skips a late change; this keeps the emulator as safe.)
    const upTo = endpoint === 'cursor' ? nowSeconds - 1 : nowSeconds;
    const { tickets: found, more } = this.store.scan(query.from, upTo, query.perPage, query.excludeDeleted);
    const tickets = this.store.fullTickets(found, this.url);
    const sideloads = sideloadsFor(tickets, query.include, this.url);
    const first = found[0];
    const last = found[found.length - 1];
    if (endpoint === 'incremental') {
      const endTime = last ? last.gts : query.from.gts;
      return {
        tickets,
        count: tickets.length,
        end_time: endTime,
        next_page: `${this.url}${INCREMENTAL_PATH}?start_time=${endTime}${carriedParams(query)}`,
        end_of_stream: !more,
        ...sideloads,
      };
    }
    const afterCursor = encodeCursor(last ? { gts: last.gts, id: last.id } : query.from);
    // Under the "strictly after" reading, the position just before the first ticket re-reads this page.
    const beforeCursor = first ? encodeCursor({ gts: first.gts, id: first.id - 1 }) : null;
    const cursorUrl = (cursor: string) => `${this.url}${CURSOR_PATH}?cursor=${cursor}${carriedParams(query)}`;
    return {
      tickets,
      after_cursor: afterCursor,
      after_url: cursorUrl(afterCursor),
      before_cursor: beforeCursor,
      before_url: beforeCursor === null ? null : cursorUrl(beforeCursor),
      end_of_stream: !more,
      ...sideloads,
    };
  }

  /** The page a call would get, for the truncated fault; calls with bad parameters get the first page. */
  private pageBody(call: Call): string {
    const nowSeconds = Math.floor(this.nowMs / 1000);
    if (!isIncremental(call.endpoint)) return JSON.stringify(this.page(call.endpoint, call.startTime ?? 0, nowSeconds));
    const parsed = parseIncrementalQuery(call.endpoint, call.params);
    const query: IncrementalQuery =
      'error' in parsed
        ? { startTime: 0, from: { gts: 0, id: 0 }, perPage: MAX_PER_PAGE, include: new Set(), excludeDeleted: false }
        : parsed;
    return JSON.stringify(this.incrementalPage(call.endpoint, query, nowSeconds));
  }

  /** Steps d-f: parameter check, too-recent check, the page itself. */
  private answer(call: Call, consumeWindow: boolean): void {
    if (call.startTime === null) {
      this.respond(call, 400, INVALID_START_TIME, { 'Content-Type': JSON_TYPE });
      return;
    }
    const now = this.nowMs;
    const nowSeconds = Math.floor(now / 1000);
    if (consumeWindow) this.lastAccepted[call.endpoint] = now;
    if (nowSeconds - call.startTime < this.options.minStartAgeSeconds) {
      this.respond(call, 422, TOO_RECENT, { 'Content-Type': TEXT_TYPE });
      return;
    }
    const page = this.page(call.endpoint, call.startTime, nowSeconds);
    this.respond(call, 200, JSON.stringify(page), { 'Content-Type': JSON_TYPE }, page.results.length);
  }

  private page(endpoint: Endpoint, startTime: number, nowSeconds: number) {
    const limit = endpoint === 'sample' ? this.options.samplePageSize : this.options.pageSize;
    const results = this.store.rows(this.store.page(startTime, nowSeconds, limit), this.url);
    const endTime = results.length > 0 ? results[results.length - 1].generated_timestamp : null;
    const path = endpoint === 'sample' ? SAMPLE_PATH : EXPORT_PATH;
    return {
      results,
      field_headers: FIELD_HEADERS,
      options: { timezone: 'UTC', hour_offset: 0 },
      end_time: endTime,
      next_page: endTime === null ? null : `${this.url}${path}?start_time=${endTime}`,
    };
  }

  private applyFault(call: Call, fault: FaultSpec): void {
    switch (fault.kind) {
      case 'status': {
        const oauth = this.oauthMode && fault.status === 401;
        const { body, headers } = statusFaultAnswer(fault, oauth ? INVALID_TOKEN : undefined);
        if (fault.status === 401) headers['WWW-Authenticate'] = oauth ? INVALID_TOKEN_CHALLENGE : BASIC_CHALLENGE;
        this.respond(call, fault.status, body, headers);
        return;
      }
      case 'rateLimit': {
        const incremental = isIncremental(call.endpoint);
        const headers: Record<string, string> = { 'Content-Type': JSON_TYPE };
        if (fault.retryAfter !== null) {
          const window = incremental ? RATE_WINDOW_MS / 1000 : this.options.windowSeconds;
          headers['Retry-After'] = fault.retryAfter ?? String(Math.max(1, Math.ceil(window)));
        }
        this.respond(call, 429, incremental ? INCREMENTAL_RATE_LIMIT_ERROR : RATE_LIMIT_ERROR, headers);
        return;
      }
      case 'truncated': {
        const body = this.pageBody(call);
        this.respond(call, 200, body.slice(0, Math.floor(body.length / 2)), { 'Content-Type': JSON_TYPE });
        return;
      }
      case 'reset':
        call.req.socket.resetAndDestroy();
        this.record(call, 'reset');
        return;
      case 'date':
        call.res.setHeader('Date', fault.date);
        if (isIncremental(call.endpoint)) this.answerIncremental(call, false);
        else this.answer(call, false);
        return;
      case 'slow':
        this.later(fault.delayMs, call, () => {
          if (isIncremental(call.endpoint)) this.answerIncremental(call, false);
          else this.answer(call, false);
        });
        return;
      case 'html200':
        this.respond(call, 200, HTML_ERROR_PAGE, { 'Content-Type': 'text/html; charset=utf-8' });
        return;
      case 'body':
        this.respond(call, 200, fault.body, { 'Content-Type': fault.contentType ?? JSON_TYPE });
        return;
    }
  }

  private respond(call: Call, status: number, body: string, headers: Record<string, string>, rows = 0): void {
    sendRaw(call.res, status, body, headers);
    this.record(call, status, rows, headers['Retry-After']);
  }

  private record(call: Call, status: number | string, rows = 0, retryAfter?: string): void {
    const entry: EmulatorLogEntry = {
      at: this.nowMs,
      endpoint: call.endpoint,
      startTime: call.startTime,
      status,
      rows,
    };
    const cursor = call.endpoint === 'cursor' ? call.params.get('cursor') : null;
    if (cursor !== null) entry.cursor = cursor;
    if (retryAfter !== undefined) entry.retryAfter = retryAfter;
    if (call.fault) entry.fault = call.fault;
    this.recorder.finish(entry);
  }

  /** Answers 401 or 403 and returns false unless the call's credentials let it through. */
  private admitted(call: Call): boolean {
    const header = call.req.headers.authorization;
    if (!this.oauthMode) {
      if (this.basicAuthorized(header)) return true;
      this.respond(call, 401, AUTH_ERROR, { 'Content-Type': JSON_TYPE, 'WWW-Authenticate': BASIC_CHALLENGE });
      return false;
    }
    const token = bearerToken(header);
    if (token === undefined) {
      this.respond(call, 401, AUTH_ERROR, { 'Content-Type': JSON_TYPE, 'WWW-Authenticate': 'Bearer' });
      return false;
    }
    const checked = this.tokens.check(token, this.nowMs);
    if (checked.state !== 'live') {
      if (checked.state === 'expired') this.recorder.expiredToken();
      this.respond(call, 401, INVALID_TOKEN, {
        'Content-Type': JSON_TYPE,
        'WWW-Authenticate': INVALID_TOKEN_CHALLENGE,
      });
      return false;
    }
    if (canReadTickets(checked.scopes)) return true;
    this.respond(call, 403, INSUFFICIENT_SCOPE, {
      'Content-Type': JSON_TYPE,
      'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="read"',
    });
    return false;
  }

  private basicAuthorized(header: string | undefined): boolean {
    const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const { email, apiToken, password } = this.options.credentials;
    return decoded === `${email}/token:${apiToken}` || decoded === `${email}:${password}`;
  }

  // ---- POST /oauth/tokens ----

  private async handleTokenRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const call: TokenCall = { req, res };
    // taken on arrival, so that concurrent requests meet the faults in the order they came
    const fault = this.tokenFaults.take();
    if (fault?.kind === 'reset') {
      call.fault = fault.kind;
      req.socket.resetAndDestroy();
      this.recordToken(call, 'reset');
      return;
    }
    const text = await readText(req);
    if (!fault) {
      this.answerGrant(call, text);
      return;
    }
    call.fault = fault.kind;
    this.applyTokenFault(call, fault, text);
  }

  private answerGrant(call: TokenCall, text: string | undefined, cut = false): void {
    const answer = this.tokens.grant(text, this.nowMs);
    const body = JSON.stringify(answer.body);
    if (cut) this.respondToken(call, answer.status, body.slice(0, Math.floor(body.length / 2)), TOKEN_HEADERS);
    else this.respondToken(call, answer.status, body, TOKEN_HEADERS, answer.status === 200);
  }

  private applyTokenFault(call: TokenCall, fault: FaultSpec, text: string | undefined): void {
    switch (fault.kind) {
      case 'status': {
        const { body, headers } = statusFaultAnswer(fault, fault.status === 401 ? INVALID_CLIENT : undefined);
        this.respondToken(call, fault.status, body, headers);
        return;
      }
      case 'rateLimit': {
        const headers: Record<string, string> = { 'Content-Type': JSON_TYPE };
        if (fault.retryAfter !== null) headers['Retry-After'] = fault.retryAfter ?? String(RATE_WINDOW_MS / 1000);
        this.respondToken(call, 429, RATE_LIMIT_ERROR, headers);
        return;
      }
      case 'truncated':
        this.answerGrant(call, text, true);
        return;
      case 'date':
        call.res.setHeader('Date', fault.date);
        this.answerGrant(call, text);
        return;
      case 'slow':
        this.later(fault.delayMs, call, () => this.answerGrant(call, text));
        return;
      case 'html200':
        this.respondToken(call, 200, HTML_ERROR_PAGE, { 'Content-Type': 'text/html; charset=utf-8' });
        return;
      case 'body':
        this.respondToken(call, 200, fault.body, { 'Content-Type': fault.contentType ?? JSON_TYPE });
        return;
      case 'reset': // handled on arrival
        return;
    }
  }

  private respondToken(
    call: TokenCall,
    status: number,
    body: string,
    headers: Record<string, string>,
    granted = false,
  ): void {
    sendRaw(call.res, status, body, headers);
    this.recordToken(call, status, granted);
  }

  private recordToken(call: TokenCall, status: number | string, granted = false): void {
    const entry: TokenLogEntry = { at: this.nowMs, status };
    if (call.fault) entry.fault = call.fault;
    this.recorder.token(entry, granted);
  }

  /** Runs `answer` after the delay, unless the client has gone away by then (recorded as 'aborted'). */
  private later(delayMs: number, call: Call | TokenCall, answer: () => void): void {
    const timer = setTimeout(() => {
      this.pendingTimers.delete(timer);
      if (!call.res.destroyed && !call.req.socket.destroyed) answer();
      else if ('endpoint' in call) this.record(call, 'aborted');
      else this.recordToken(call, 'aborted');
    }, delayMs);
    this.pendingTimers.add(timer);
  }

  private async handleTestEndpoint(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    params: URLSearchParams,
  ): Promise<void> {
    const json = (status: number, value: unknown) =>
      sendRaw(res, status, JSON.stringify(value), { 'Content-Type': JSON_TYPE });
    try {
      switch (`${req.method} ${path}`) {
        case 'GET /__emulator/stats':
          return json(200, this.stats());
        case 'POST /__emulator/stats/reset':
          this.resetStats();
          return json(200, { ok: true });
        case 'GET /__emulator/truth': {
          const format = params.get('format') ?? 'flat';
          if (format !== 'flat' && format !== 'full') throw new EmulatorInputError('format must be "flat" or "full"');
          const tickets = format === 'full' ? this.truthFull() : this.truth();
          return json(200, { count: tickets.length, tickets });
        }
        case 'POST /__emulator/faults': {
          const body = await readJsonObject(req);
          const faults = validateFaultSpecs(body.faults);
          this.injectFaults(faults);
          return json(200, { ok: true, queued: this.faults.pending });
        }
        case 'DELETE /__emulator/faults':
          this.clearFaults();
          return json(200, { ok: true });
        case 'POST /__emulator/token-faults': {
          const body = await readJsonObject(req);
          this.injectTokenFaults(validateFaultSpecs(body.faults));
          return json(200, { ok: true, queued: this.tokenFaults.pending });
        }
        case 'DELETE /__emulator/token-faults':
          this.clearTokenFaults();
          return json(200, { ok: true });
        case 'POST /__emulator/tokens/revoke':
          this.revokeTokens();
          return json(200, { ok: true });
        case 'POST /__emulator/mutations':
          return json(200, this.mutationsCommand(await readJsonObject(req)));
        case 'POST /__emulator/burst': {
          const body = await readJsonObject(req);
          const timestamp = body.timestamp === undefined ? undefined : nonNegativeInt('timestamp', body.timestamp);
          return json(200, { timestamp: this.addBurst(positiveInt('size', body.size), timestamp) });
        }
        case 'POST /__emulator/config': {
          const patch = (await readJsonObject(req)) as ConfigurePatch;
          this.configure(patch);
          const { windowSeconds, sampleWindowSeconds, minStartAgeSeconds } = this.options;
          const answer: Record<string, number> = { windowSeconds, sampleWindowSeconds, minStartAgeSeconds };
          // The incremental options are echoed only when set, so the answer stays as it was for older callers.
          for (const key of INCREMENTAL_CONFIG_KEYS) if (patch[key] !== undefined) answer[key] = this.options[key];
          return json(200, answer);
        }
        default:
          return json(404, { error: 'InvalidEndpoint' });
      }
    } catch (err) {
      if (err instanceof EmulatorInputError) return json(400, { error: 'BadRequest', description: err.message });
      throw err;
    }
  }

  private mutationsCommand(body: Record<string, unknown>): unknown {
    switch (body.action) {
      case 'start': {
        const spec = {
          intervalMs: body.intervalMs ?? this.lastMutationSpec.intervalMs,
          perTick: body.perTick ?? this.lastMutationSpec.perTick,
        };
        this.startMutations(validateMutationSpec(spec));
        return { ok: true, mutations: this.options.mutations };
      }
      case 'stop':
        this.stopMutations();
        return { ok: true, mutations: null };
      case 'apply': {
        const count = body.count === undefined ? 1 : nonNegativeInt('count', body.count);
        if (body.kind !== undefined && !MUTATION_KINDS.includes(body.kind as MutationKind)) {
          throw new EmulatorInputError(`kind must be one of ${MUTATION_KINDS.join(', ')}`);
        }
        return { ok: true, applied: this.mutate(count, body.kind as MutationKind | undefined) };
      }
      default:
        throw new EmulatorInputError('action must be "start", "stop" or "apply"');
    }
  }

  private internalError(res: http.ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const description = err instanceof Error ? err.message : String(err);
    sendRaw(res, 500, JSON.stringify({ error: 'InternalError', description }), { 'Content-Type': JSON_TYPE });
  }
}

function sendRaw(res: http.ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A status fault's body (or the default one) and its headers, without the WWW-Authenticate of a 401. */
function statusFaultAnswer(
  fault: Extract<FaultSpec, { kind: 'status' }>,
  defaultBody = defaultErrorBody(fault.status),
): { body: string; headers: Record<string, string> } {
  const body = fault.body ?? defaultBody;
  const headers: Record<string, string> = {
    'Content-Type': fault.body === undefined || looksLikeJson(body) ? JSON_TYPE : TEXT_TYPE,
  };
  if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
  return { body, headers };
}

function looksLikeJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function defaultErrorBody(status: number): string {
  switch (status) {
    case 401:
      return AUTH_ERROR;
    case 403:
      return JSON.stringify({
        error: 'Forbidden',
        description: 'You do not have access to this page. Please contact the account owner of this help desk.',
      });
    case 404:
      return JSON.stringify({ error: 'InvalidEndpoint', description: 'Not found' });
    case 429:
      return RATE_LIMIT_ERROR;
    default:
      return JSON.stringify({ error: http.STATUS_CODES[status] ?? 'Error' });
  }
}

/** The request body as text; undefined when it is larger than MAX_BODY_BYTES (the rest is drained). */
async function readText(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readText(req);
  if (raw === undefined) throw new EmulatorInputError(`request body larger than ${MAX_BODY_BYTES} bytes`);
  const text = raw.trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EmulatorInputError(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EmulatorInputError('body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = new ZendeskEmulator(options);
  await emulator.listen();
  if (options.mutations) emulator.startMutations(options.mutations);
  return emulator;
}
