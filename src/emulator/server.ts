import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TicketAuth } from './auth';
import { ControlApi, type ControlTarget } from './control-api';
import { TicketStore, type FullTicket, type MutationKind, type MutationRecord, type TicketRow } from './data';
import type { Emulator } from './emulator';
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
import { FaultQueue, planFault, type FaultKind, type FaultSpec } from './faults';
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
import { StatsRecorder, type EmulatorLogEntry, type EmulatorStats } from './stats';
import { TokenEndpoint } from './token-endpoint';

/**
 * Idle keep-alive connections stay open this long, far longer than the client keeps them (4 s). With Node's default
 * (closed after 6 s) a worker in the same process too busy to run its timers for 2 s sends its next call on a
 * connection that closes under it: a reset for a call the emulator never saw.
 */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** The local Zendesk: routes each request to its part, and is what startEmulator() returns. */
class ZendeskEmulator implements ControlTarget {
  url = '';
  port = 0;
  readonly options: ResolvedEmulatorOptions;
  private readonly store: TicketStore;
  private readonly recorder = new StatsRecorder();
  private readonly timers = new PendingTimers();
  private readonly faults = new FaultQueue();
  private readonly tokens: TokenAuthority;
  private readonly auth: TicketAuth;
  private readonly exportEndpoint: ExportEndpoint;
  private readonly incrementalEndpoints: IncrementalEndpoints;
  private readonly tokenEndpoint: TokenEndpoint;
  private readonly mutations: Mutations;
  private readonly controlApi = new ControlApi(this);
  private readonly server: http.Server;
  private closed: Promise<void> | undefined;

  constructor(input: EmulatorOptions) {
    const { options, mutations, seeding } = resolveOptions(input);
    this.options = options;
    this.store = new TicketStore(seeding);
    this.tokens = new TokenAuthority(options.oauthClients, options.oauthTokenTtlSeconds);
    this.auth = new TicketAuth(options, this.tokens);
    const nowMs = () => this.options.now();
    const deps: EndpointDeps = { store: this.store, options, url: () => this.url, nowMs };
    this.exportEndpoint = new ExportEndpoint(deps);
    this.incrementalEndpoints = new IncrementalEndpoints(deps);
    this.tokenEndpoint = new TokenEndpoint({
      tokens: this.tokens,
      recorder: this.recorder,
      timers: this.timers,
      nowMs,
    });
    this.mutations = new Mutations(this.store, options, mutations);
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

  get pendingFaults(): number {
    return this.faults.pending;
  }

  injectTokenFaults(faults: FaultSpec[]): void {
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
    if (endpoint) {
      this.serveTicketCall(req, res, endpoint, requestUrl.searchParams);
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
    const arrivedAt = this.nowMs;
    this.recorder.arrive(endpoint, arrivedAt);
    const call: TicketCall = { endpoint, startTime: parseStartTime(params.get('start_time')), params };
    const record = (status: number | string, reply?: Reply, fault?: FaultKind) =>
      this.record(call, status, reply, fault);
    const exchange = new Exchange(req, res, record, this.timers);
    const endpoints = isIncremental(endpoint) ? this.incrementalEndpoints : this.exportEndpoint;

    const refusal = this.auth.refuse(req.headers.authorization, this.nowMs);
    if (refusal) {
      if (refusal.expiredToken) this.recorder.expiredToken();
      exchange.reply(refusal.reply);
      return;
    }
    const fault = this.faults.take();
    if (fault) {
      exchange.fault = fault.kind;
      const plan = planFault(fault, {
        unauthorized: this.auth.unauthorized,
        rateLimit: endpoints.rateLimit,
        whole: () => endpoints.whole(call),
        request: `${req.method} ${req.url} Authorization: ${req.headers.authorization ?? ''}`,
      });
      exchange.serveFault(plan, () => exchange.reply(endpoints.answer(call, false)));
      return;
    }
    exchange.reply(endpoints.limited(call, arrivedAt) ?? endpoints.answer(call, true));
  }

  private record(call: TicketCall, status: number | string, reply?: Reply, fault?: FaultKind): void {
    const entry: EmulatorLogEntry = {
      at: this.nowMs,
      endpoint: call.endpoint,
      startTime: call.startTime,
      status,
      rows: reply?.delivered ?? 0,
    };
    const cursor = call.endpoint === 'cursor' ? call.params.get('cursor') : null;
    if (cursor !== null) entry.cursor = cursor;
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
