import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_BUCKET_PER_MINUTE, isReferenceList, REFERENCE_LISTS } from '../streams/names';
import { TicketAuth } from './auth';
import { Bucket, type LimitedBucket } from './buckets';
import { ControlApi, type ControlTarget } from './control-api';
import { isTicketCountPath, TicketCountEndpoint } from './count-endpoint';
import { TicketStore, type FullTicket, type MutationKind, type MutationRecord, type TicketRow } from './data';
import type { Emulator, PeopleAction, StreamTruth, StreamTruthName } from './emulator';
import type { CommentChild } from './event-json';
import {
  endpointAt,
  isIncremental,
  OAUTH_TOKENS_PATH,
  parseStartTime,
  type Endpoint,
  type EndpointDeps,
  type TicketCall,
} from './endpoints';
import { Exchange, PendingTimers } from './exchange';
import { ExportEndpoint } from './export-endpoint';
import {
  faultFits,
  FaultQueue,
  isGeneralFault,
  isStreamFault,
  planFault,
  type FaultCall,
  type FaultKind,
  type FaultSpec,
  type FaultSpecInput,
  type FaultTarget,
  type GeneralFaultSpec,
} from './faults';
import { jsonReply, originFor, send, type Reply } from './http';
import { IncrementalEndpoints } from './incremental-endpoints';
import { Mutations } from './mutations';
import { TokenAuthority } from './oauth';
import {
  configurePatchSchema,
  parseInput,
  resolveOptions,
  type ConfigurePatch,
  type EmulatorOptions,
  type MutationSpec,
  type ResolvedEmulatorOptions,
} from './options';
import type { StreamOrganization, StreamUser } from './people';
import { StatsRecorder, type EmulatorLogEntry, type EmulatorStats } from './stats';
import { StreamEndpoints, type StreamCall } from './stream-endpoints';
import { ReferenceEndpoints, referenceListAt, type ReferenceCall } from './reference-endpoints';
import { ReferenceLists, type ReferenceChange, type ReferenceRow } from './reference-lists';
import type { ReferenceList } from '../streams/names';
import { StreamModel } from './stream-model';
import { STREAM_ENDPOINT_PATH, streamEndpointAt, streamOfEndpoint } from './stream-paths';
import { TokenEndpoint } from './token-endpoint';

/**
 * Idle keep-alive connections stay open this long, far longer than the client keeps them (4 s). With Node's default
 * (closed after 6 s) a worker in the same process too busy to run its timers for 2 s sends its next call on a
 * connection that closes under it: a reset for a call the emulator never saw.
 */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** The parameter a call's log entry shows as its cursor, per endpoint. */
const CURSOR_PARAMS: ReadonlyMap<string, string> = new Map([
  ['cursor', 'cursor'],
  ['users_cursor', 'cursor'],
  ['ticket_metric_events', 'page[after]'],
  ...REFERENCE_LISTS.map((list) => [list, 'page[after]'] as const),
]);

/** What a call is logged as. */
type LoggedCall = TicketCall | StreamCall | { endpoint: ReferenceList; startTime: null; params: URLSearchParams };

/** The local Zendesk: routes each request to its part, and is what startEmulator() returns. */
class ZendeskEmulator implements ControlTarget {
  url = '';
  port = 0;
  readonly options: ResolvedEmulatorOptions;
  private readonly store: TicketStore;
  private readonly model: StreamModel;
  private readonly buckets: Record<LimitedBucket, Bucket>;
  private readonly streamEndpoints: StreamEndpoints;
  private readonly referenceLists = new ReferenceLists(() => this.url);
  private readonly referenceEndpoints: ReferenceEndpoints;
  private readonly recorder = new StatsRecorder();
  private readonly timers = new PendingTimers();
  private readonly faults = new FaultQueue();
  private readonly tokens: TokenAuthority;
  private readonly auth: TicketAuth;
  private readonly exportEndpoint: ExportEndpoint;
  private readonly incrementalEndpoints: IncrementalEndpoints;
  private readonly tokenEndpoint: TokenEndpoint;
  private readonly ticketCount: TicketCountEndpoint;
  private readonly mutations: Mutations;
  private readonly controlApi = new ControlApi(this);
  private readonly server: http.Server;
  private closed: Promise<void> | undefined;

  constructor(input: EmulatorOptions) {
    const { options, mutations, seeding, streams } = resolveOptions(input);
    this.options = options;
    this.store = new TicketStore(seeding);
    this.model = new StreamModel(this.store, streams);
    this.buckets = {
      incremental: new Bucket(
        'incremental',
        () => options.incrementalRequestsPerMinute,
        DEFAULT_BUCKET_PER_MINUTE.incremental,
      ),
      users_cursor: new Bucket(
        'users_cursor',
        () => options.usersCursorRequestsPerMinute,
        DEFAULT_BUCKET_PER_MINUTE.users_cursor,
      ),
      account: new Bucket('account', () => options.accountRequestsPerMinute, DEFAULT_BUCKET_PER_MINUTE.account),
    };
    this.referenceEndpoints = new ReferenceEndpoints(this.referenceLists, this.buckets.account, () => this.url);
    this.tokens = new TokenAuthority(options.oauthClients, options.oauthTokenTtlSeconds);
    this.auth = new TicketAuth(options, this.tokens);
    const nowMs = () => this.options.now();
    const deps: EndpointDeps = { store: this.store, options, url: () => this.url, nowMs };
    this.exportEndpoint = new ExportEndpoint(deps);
    this.incrementalEndpoints = new IncrementalEndpoints(deps, this.buckets.incremental);
    this.streamEndpoints = new StreamEndpoints({
      model: this.model,
      options,
      buckets: this.buckets,
      url: () => this.url,
      nowMs,
    });
    this.ticketCount = new TicketCountEndpoint(this.store, this.buckets.account);
    this.tokenEndpoint = new TokenEndpoint({
      tokens: this.tokens,
      recorder: this.recorder,
      timers: this.timers,
      nowMs,
    });
    this.mutations = new Mutations(this.store, options, mutations, this.model.people);
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => internalError(res, err));
    });
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
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
    return this.recorder.snapshot({
      incremental: this.buckets.incremental.counters(),
      users_cursor: this.buckets.users_cursor.counters(),
      account: this.buckets.account.counters(),
    });
  }

  resetStats(): void {
    this.recorder.reset();
    for (const bucket of Object.values(this.buckets)) bucket.resetCounters();
  }

  streamTruth<K extends StreamTruthName>(name: K): StreamTruth[K] {
    const { model } = this;
    const truth: { [N in StreamTruthName]: () => StreamTruth[N] } = {
      ticket_events: () => model.truthTicketEvents(),
      ticket_comments: () => model.truthComments(),
      ticket_field_changes: () => model.truthFieldHistory(),
      users: () => model.truthUsers(this.url),
      organizations: () => model.truthOrganizations(this.url),
      ticket_metric_events: () => model.truthMetricEvents(),
      ticket_fields: () => this.referenceLists.rows('ticket_fields'),
      groups: () => this.referenceLists.rows('groups'),
      brands: () => this.referenceLists.rows('brands'),
      ticket_forms: () => this.referenceLists.rows('ticket_forms'),
      custom_statuses: () => this.referenceLists.rows('custom_statuses'),
    };
    return truth[name]();
  }

  changeUser(id: number, action: PeopleAction): StreamUser | undefined {
    const { people } = this.model;
    const now = Math.floor(this.nowMs / 1000);
    const user = action === 'delete' ? people.deleteUser(id, now) : people.updateUser(id, now);
    return user && people.userJson(user, this.url);
  }

  changeOrganization(id: number, action: PeopleAction): StreamOrganization | undefined {
    const { people } = this.model;
    const now = Math.floor(this.nowMs / 1000);
    const org = action === 'delete' ? people.deleteOrganization(id, now) : people.updateOrganization(id, now);
    return org && people.organizationJson(org, this.url);
  }

  changeReferenceList(list: ReferenceList, change: ReferenceChange, id?: number): ReferenceRow | undefined {
    const row = this.referenceLists.change(list, change, Math.floor(this.nowMs / 1000), id);
    return row && { ...row, url: `${this.url}/api/v2/${list}/${row.id}.json` };
  }

  redactComment(id: number, text?: string): CommentChild | undefined {
    return this.model.events.redact(id, text);
  }

  injectFaults(faults: FaultSpecInput[]): void {
    this.faults.push(faults);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  get pendingFaults(): number {
    return this.faults.pending;
  }

  injectTokenFaults(faults: FaultSpecInput[]): void {
    this.tokenEndpoint.faults.push(faults);
  }

  clearTokenFaults(): void {
    this.tokenEndpoint.faults.clear();
  }

  get pendingTokenFaults(): number {
    return this.tokenEndpoint.faults.pending;
  }

  revokeTokens(): void {
    this.tokens.revokeAll();
  }

  issuedTokens(): string[] {
    return this.tokens.issued();
  }

  mutate(count: number, kind?: MutationKind): MutationRecord[] {
    return this.mutations.apply(count, kind);
  }

  addBurst(size: number, timestamp?: number): number {
    return this.mutations.addBurst(size, timestamp);
  }

  startMutations(spec?: MutationSpec): void {
    this.mutations.start(spec);
  }

  stopMutations(): void {
    this.mutations.stop();
  }

  get lastMutationSpec(): MutationSpec {
    return this.mutations.lastSpec;
  }

  configure(patch: ConfigurePatch): void {
    const changes = parseInput(configurePatchSchema, patch);
    for (const key of Object.keys(changes) as Array<keyof typeof changes>) {
      const value = changes[key];
      if (value !== undefined) this.options[key] = value;
    }
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve, reject) => {
      this.stopMutations();
      this.timers.clear();
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = requestUrl.pathname;
    // Like Zendesk, every answer carries the server's clock: the export measures its skew from this header.
    res.setHeader('Date', new Date(this.nowMs).toUTCString());
    const endpoint = req.method === 'GET' ? endpointAt(path) : undefined;
    const streamEndpoint = req.method === 'GET' ? streamEndpointAt(path) : undefined;
    const referenceList = req.method === 'GET' ? referenceListAt(path) : undefined;
    if (referenceList) {
      this.serveReferenceCall(req, res, { list: referenceList, params: requestUrl.searchParams });
    } else if (endpoint) {
      this.serveTicketCall(req, res, endpoint, requestUrl.searchParams);
    } else if (streamEndpoint) {
      const params = requestUrl.searchParams;
      this.serveStreamCall(req, res, {
        endpoint: streamEndpoint,
        startTime: parseStartTime(params.get('start_time')),
        params,
      });
    } else if (req.method === 'GET' && isTicketCountPath(path)) {
      this.serveTicketCount(req, res);
    } else if (req.method === 'POST' && path === OAUTH_TOKENS_PATH) {
      await this.tokenEndpoint.handle(req, res);
    } else if (this.options.testEndpoints && path.startsWith('/__emulator/')) {
      await this.controlApi.handle(req, res, path, requestUrl.searchParams);
    } else {
      send(res, jsonReply(404, JSON.stringify({ error: 'InvalidEndpoint' })));
    }
  }

  /** A ticket endpoint's call: authentication, then a fault if one is queued, else the rate limit and the answer. */
  private serveTicketCall(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    endpoint: Endpoint,
    params: URLSearchParams,
  ): void {
    const call: TicketCall = { endpoint, startTime: parseStartTime(params.get('start_time')), params };
    const endpoints = isIncremental(endpoint) ? this.incrementalEndpoints : this.exportEndpoint;
    const bucket = isIncremental(endpoint) ? this.buckets.incremental : undefined;
    const exchange = this.openExchange(req, res, call, bucket);
    if (!exchange) return;
    const fits = (spec: FaultSpec): spec is GeneralFaultSpec =>
      isGeneralFault(spec) && faultFits(spec, { stream: 'tickets' });
    const fault = this.faults.take(fits);
    if (fault) {
      this.serveGeneralFault(req, exchange, fault, endpoints.rateLimit, {
        whole: () => endpoints.whole(call),
        answer: () => endpoints.answer(call, false),
      });
      return;
    }
    exchange.reply(endpoints.limited(call, exchange.arrivedAt) ?? endpoints.answer(call, true));
  }

  /** A call of a stream around the ticket: the same steps, and the stream faults that need its data. */
  private serveStreamCall(req: http.IncomingMessage, res: http.ServerResponse, call: StreamCall): void {
    const endpoints = this.streamEndpoints;
    const exchange = this.openExchange(req, res, call, endpoints.bucketOf(call));
    if (!exchange) return;
    const query = endpoints.query(call);
    const target: FaultCall = {
      stream: streamOfEndpoint(call.endpoint),
      perPage: query?.perPage,
      withComments: query?.withComments,
    };
    const fault = this.faults.take((spec) => faultFits(spec, target));
    if (fault && isStreamFault(fault)) {
      exchange.fault = fault.kind;
      exchange.reply(endpoints.answer(call, false, fault));
      return;
    }
    if (fault) {
      this.serveGeneralFault(req, exchange, fault, endpoints.rateLimit, {
        whole: () => endpoints.whole(call),
        answer: () => endpoints.answer(call, false),
      });
      return;
    }
    exchange.reply(endpoints.limited(call, exchange.arrivedAt) ?? endpoints.answer(call, true));
  }

  /** A reference list's call: the general faults targeted at reference_lists, else the account-wide limit. */
  private serveReferenceCall(req: http.IncomingMessage, res: http.ServerResponse, call: ReferenceCall): void {
    const endpoints = this.referenceEndpoints;
    const logged = { endpoint: call.list, startTime: null, params: call.params };
    const exchange = this.openExchange(req, res, logged, endpoints.bucket);
    if (!exchange) return;
    const fits = (spec: FaultSpec): spec is GeneralFaultSpec =>
      isGeneralFault(spec) && faultFits(spec, { stream: 'reference_lists' });
    const fault = this.faults.take(fits);
    if (fault) {
      this.serveGeneralFault(req, exchange, fault, endpoints.rateLimit, {
        whole: () => endpoints.whole(call),
        answer: () => endpoints.answer(call, false, this.nowMs),
      });
      return;
    }
    exchange.reply(endpoints.limited(exchange.arrivedAt) ?? endpoints.answer(call, true, exchange.arrivedAt));
  }

  /**
   * The ticket count: signed in to as the exports are, then the account-wide bucket (its header on every answer). It
   * takes no faults, and counts in `ticketCountCalls` only, so the exports' statistics stay as they were.
   */
  private serveTicketCount(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.recorder.ticketCount();
    const nowMs = this.nowMs;
    const reply = this.auth.refuse(req.headers.authorization, nowMs)?.reply ?? this.ticketCount.answer(nowMs);
    const { bucket } = this.ticketCount;
    const header = bucket.header(nowMs);
    send(res, header === undefined ? reply : { ...reply, headers: { ...reply.headers, [bucket.headerName]: header } });
  }

  /**
   * Counts the call's arrival and authenticates it; undefined when it was refused (and answered). Every answer of a
   * bucket's endpoint carries the bucket's rate-limit header, and a fault's 429 counts as injected in it.
   */
  private openExchange(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    call: LoggedCall,
    bucket: Bucket | undefined,
  ): (Exchange & { arrivedAt: number }) | undefined {
    const arrivedAt = this.nowMs;
    this.recorder.arrive(call.endpoint, arrivedAt);
    const record = (status: number | string, reply?: Reply, fault?: FaultKind) => {
      if (fault && status === 429) bucket?.injected();
      this.record(call, status, reply, fault);
    };
    const exchange = Object.assign(new Exchange(req, res, record, this.timers), { arrivedAt });
    if (bucket) {
      exchange.extraHeaders = () => {
        const header = bucket.header(this.nowMs);
        return header === undefined ? {} : { [bucket.headerName]: header };
      };
    }
    const refusal = this.auth.refuse(req.headers.authorization, this.nowMs);
    if (refusal) {
      if (refusal.expiredToken) this.recorder.expiredToken();
      exchange.reply(refusal.reply);
      return undefined;
    }
    return exchange;
  }

  /** A general fault (rate limit, error, timeout, truncation…) served in place of the answer; the log names it. */
  private serveGeneralFault(
    req: http.IncomingMessage,
    exchange: Exchange,
    fault: Parameters<typeof planFault>[0],
    rateLimit: FaultTarget['rateLimit'],
    page: { whole: () => Reply; answer: () => Reply },
  ): void {
    exchange.fault = fault.kind;
    const plan = planFault(fault, this.faultTarget(req, rateLimit, page.whole));
    exchange.serveFault(plan, () => exchange.reply(page.answer()));
  }

  private faultTarget(req: http.IncomingMessage, rateLimit: FaultTarget['rateLimit'], whole: () => Reply): FaultTarget {
    return {
      unauthorized: this.auth.unauthorized,
      rateLimit,
      whole,
      request: `${req.method} ${req.url} Authorization: ${req.headers.authorization ?? ''}`,
    };
  }

  private record(call: LoggedCall, status: number | string, reply?: Reply, fault?: FaultKind): void {
    const entry: EmulatorLogEntry = {
      at: this.nowMs,
      endpoint: call.endpoint,
      startTime: call.startTime,
      status,
      rows: reply?.delivered ?? 0,
    };
    const cursorParam = CURSOR_PARAMS.get(call.endpoint);
    const cursor = cursorParam === undefined ? null : call.params.get(cursorParam);
    if (cursor !== null) entry.cursor = cursor;
    if (Object.hasOwn(STREAM_ENDPOINT_PATH, call.endpoint) || isReferenceList(call.endpoint)) {
      const perPage = Number(call.params.get('per_page') ?? call.params.get('page[size]') ?? NaN);
      if (Number.isSafeInteger(perPage)) entry.perPage = perPage;
    }
    const retryAfter = reply?.headers['Retry-After'];
    if (retryAfter !== undefined) entry.retryAfter = retryAfter;
    if (fault) entry.fault = fault;
    this.recorder.finish(entry);
  }
}

function internalError(res: http.ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const description = err instanceof Error ? err.message : String(err);
  send(res, jsonReply(500, JSON.stringify({ error: 'InternalError', description })));
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = new ZendeskEmulator(options);
  await emulator.listen();
  if (options.mutations) emulator.startMutations(options.mutations);
  return emulator;
}
