import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FIELD_HEADERS, TicketStore, type MutationKind, type MutationRecord, type TicketRow } from './data';
import {
  EmulatorInputError,
  FaultQueue,
  retryAfterExpiry,
  validateFaultSpecs,
  type FaultKind,
  type FaultSpec,
} from './faults';

export type { TicketRow } from './data';

export type Endpoint = 'export' | 'sample';

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
  /** the running live-mutation schedule, null when stopped */
  mutations: MutationSpec | null;
  credentials: EmulatorCredentials;
  testEndpoints: boolean;
  now: () => number;
}

export interface EmulatorLogEntry {
  at: number;
  endpoint: Endpoint;
  startTime: number | null;
  status: number | string;
  rows: number;
  retryAfter?: string;
  /** the fault that shaped this answer, if any */
  fault?: FaultKind;
}

export interface EmulatorStats {
  /** export calls, both endpoints, all outcomes */
  calls: number;
  byStatus: Record<string, number>;
  byEndpoint: Record<Endpoint, number>;
  /** 429s and 503s that carried a Retry-After header */
  retryAfterIssued: number;
  /** export calls that arrived before the latest Retry-After of that endpoint had expired */
  callsBeforeRetryAfter: number;
  rowsServed: number;
  /** the last LOG_LIMIT calls */
  log: EmulatorLogEntry[];
}

export interface ConfigurePatch {
  windowSeconds?: number;
  sampleWindowSeconds?: number;
  minStartAgeSeconds?: number;
}

export interface Emulator {
  url: string;
  port: number;
  options: ResolvedEmulatorOptions;
  truth(): TicketRow[];
  stats(): EmulatorStats;
  resetStats(): void;
  injectFaults(faults: FaultSpec[]): void;
  clearFaults(): void;
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
export const DEFAULT_CREDENTIALS: Readonly<EmulatorCredentials> = Object.freeze({
  email: 'admin@example.com',
  apiToken: 'emulator-token',
  password: 'emulator-password',
});

const LOG_LIMIT = 1000;
const MAX_BODY_BYTES = 1024 * 1024;
const MUTATION_KINDS: readonly MutationKind[] = ['create', 'agentUpdate', 'systemUpdate', 'delete'];
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const AUTH_ERROR = JSON.stringify({ error: "Couldn't authenticate you" });
const RATE_LIMIT_ERROR = JSON.stringify({
  error: 'APIRateLimitExceeded',
  description: 'Number of allowed API requests per minute exceeded',
});
const INVALID_START_TIME = JSON.stringify({
  error: 'InvalidValue',
  description: 'start_time is required and must be an integer',
});
const TOO_RECENT = 'Too recent start_time. Use a start_time older than 5 minutes';
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

function validateMutationSpec(spec: unknown): MutationSpec {
  if (typeof spec !== 'object' || spec === null) throw new EmulatorInputError('mutations must be an object');
  const { intervalMs, perTick } = spec as Record<string, unknown>;
  return {
    intervalMs: positiveInt('mutations.intervalMs', intervalMs),
    perTick: positiveInt('mutations.perTick', perTick),
  };
}

function parseStartTime(raw: string | null): number | null {
  if (raw === null || !/^\d+$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : null;
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
  };
}

class StatsRecorder {
  private data = emptyStats();
  /** per endpoint, when the latest Retry-After (or implied 60 s of a bare 429) expires, in ms */
  private retryUntil: Partial<Record<Endpoint, number>> = {};

  arrive(endpoint: Endpoint, at: number): void {
    this.data.calls += 1;
    this.data.byEndpoint[endpoint] += 1;
    const until = this.retryUntil[endpoint];
    if (until !== undefined && at < until) this.data.callsBeforeRetryAfter += 1;
  }

  finish(entry: EmulatorLogEntry): void {
    const key = String(entry.status);
    this.data.byStatus[key] = (this.data.byStatus[key] ?? 0) + 1;
    if (entry.status === 200) this.data.rowsServed += entry.rows;
    if (entry.status === 429 || entry.status === 503) {
      if (entry.retryAfter !== undefined) {
        this.data.retryAfterIssued += 1;
        this.retryUntil[entry.endpoint] = retryAfterExpiry(entry.retryAfter, entry.at) ?? entry.at + 60_000;
      } else if (entry.status === 429) {
        this.retryUntil[entry.endpoint] = entry.at + 60_000;
      }
    }
    this.data.log.push(entry);
    if (this.data.log.length > LOG_LIMIT) this.data.log.shift();
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
  private readonly recorder = new StatsRecorder();
  private readonly server: http.Server;
  private readonly lastAccepted: Partial<Record<Endpoint, number>> = {};
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
      mutations: null,
      credentials: {
        email: input.credentials?.email ?? DEFAULT_CREDENTIALS.email,
        apiToken: input.credentials?.apiToken ?? DEFAULT_CREDENTIALS.apiToken,
        password: input.credentials?.password ?? DEFAULT_CREDENTIALS.password,
      },
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
    });
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
    if (next.windowSeconds !== undefined) this.options.windowSeconds = next.windowSeconds;
    if (next.sampleWindowSeconds !== undefined) this.options.sampleWindowSeconds = next.sampleWindowSeconds;
    if (next.minStartAgeSeconds !== undefined) this.options.minStartAgeSeconds = next.minStartAgeSeconds;
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
    if (req.method === 'GET' && (path === EXPORT_PATH || path === SAMPLE_PATH)) {
      this.handleExport(req, res, path === EXPORT_PATH ? 'export' : 'sample', requestUrl.searchParams);
      return;
    }
    if (this.options.testEndpoints && path.startsWith('/__emulator/')) {
      await this.handleTestEndpoint(req, res, path);
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
    const call: Call = { endpoint, startTime: parseStartTime(params.get('start_time')), req, res };

    if (!this.authorized(req.headers.authorization)) {
      this.respond(call, 401, AUTH_ERROR, {
        'Content-Type': JSON_TYPE,
        'WWW-Authenticate': 'Basic realm="Web Password"',
      });
      return;
    }

    const fault = this.faults.take();
    if (fault) {
      call.fault = fault.kind;
      this.applyFault(call, fault);
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
        const headers: Record<string, string> = {};
        let body = fault.body;
        if (body === undefined) {
          body = defaultErrorBody(fault.status);
          headers['Content-Type'] = JSON_TYPE;
        } else {
          headers['Content-Type'] = looksLikeJson(body) ? JSON_TYPE : TEXT_TYPE;
        }
        if (fault.status === 401) headers['WWW-Authenticate'] = 'Basic realm="Web Password"';
        if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
        this.respond(call, fault.status, body, headers);
        return;
      }
      case 'rateLimit': {
        const headers: Record<string, string> = { 'Content-Type': JSON_TYPE };
        if (fault.retryAfter !== null) {
          headers['Retry-After'] = fault.retryAfter ?? String(Math.max(1, Math.ceil(this.options.windowSeconds)));
        }
        this.respond(call, 429, RATE_LIMIT_ERROR, headers);
        return;
      }
      case 'truncated': {
        const body = JSON.stringify(this.page(call.endpoint, call.startTime ?? 0, Math.floor(this.nowMs / 1000)));
        this.respond(call, 200, body.slice(0, Math.floor(body.length / 2)), { 'Content-Type': JSON_TYPE });
        return;
      }
      case 'reset':
        call.req.socket.resetAndDestroy();
        this.record(call, 'reset');
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          this.pendingTimers.delete(timer);
          if (call.res.destroyed || call.req.socket.destroyed) {
            this.record(call, 'aborted');
            return;
          }
          this.answer(call, false);
        }, fault.delayMs);
        this.pendingTimers.add(timer);
        return;
      }
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
    if (retryAfter !== undefined) entry.retryAfter = retryAfter;
    if (call.fault) entry.fault = call.fault;
    this.recorder.finish(entry);
  }

  private authorized(header: string | undefined): boolean {
    const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const { email, apiToken, password } = this.options.credentials;
    return decoded === `${email}/token:${apiToken}` || decoded === `${email}:${password}`;
  }

  private async handleTestEndpoint(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
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
          const tickets = this.truth();
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
        case 'POST /__emulator/mutations':
          return json(200, this.mutationsCommand(await readJsonObject(req)));
        case 'POST /__emulator/burst': {
          const body = await readJsonObject(req);
          const timestamp = body.timestamp === undefined ? undefined : nonNegativeInt('timestamp', body.timestamp);
          return json(200, { timestamp: this.addBurst(positiveInt('size', body.size), timestamp) });
        }
        case 'POST /__emulator/config': {
          this.configure((await readJsonObject(req)) as ConfigurePatch);
          const { windowSeconds, sampleWindowSeconds, minStartAgeSeconds } = this.options;
          return json(200, { windowSeconds, sampleWindowSeconds, minStartAgeSeconds });
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

async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new EmulatorInputError(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
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
