import type { SupportTypeScope } from '../streams/names';
import axios, { AxiosInstance } from 'axios';
import http from 'node:http';
import https from 'node:https';
import { ZendeskPermanentError, ZendeskTooLargeError, ZendeskTransientError } from './errors';
import { parseRetryAfter } from './retry-after';
import { z } from 'zod';
import {
  cursorPageSchema,
  describeSchemaError,
  ExportRow,
  exportPageSchema,
  ticketCountSchema,
  timeBasedPageSchema,
} from './schemas';
import type { SetAsideTicket, SideloadRecord } from '../storage/sink';
import { API_TOKEN_END_DATE, AuthState, ZendeskAuth } from './auth';
import { inHttpSpan } from './http-span';
import { AccessToken, OAuthTokenSource, renewsAt } from './oauth';
import { ConnectProxyAgent, PROXY_ERROR } from './connect-proxy';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, describeBytes, MAX_PAGE_ROWS, MAX_RESPONSE_BYTES } from './limits';
import { Redactor, staticSecrets } from './redactor';
import {
  afterCursorProblem,
  countProblem,
  endTimeProblem,
  PlausibilityContext,
  separateImplausible,
} from './plausibility';
import { plausibleClockOffset } from '../common/zendesk-clock';
import { streamCall, type StreamRequest } from './stream-requests';
import { REFERENCE_LIST_SCHEMAS, STREAM_PAGE_SCHEMAS } from './stream-schemas';
import { judgeStreamRows, type JudgedStreamRows } from './stream-rows';

export { MAX_RESPONSE_BYTES };

export interface ZendeskClientOptions {
  baseUrl: string;
  /** The deadline of a whole call (connect, headers and body), not only of an idle socket. */
  timeoutMs?: number;
  auth: ZendeskAuth;
  /** An answer larger than this (after decompression) is refused as a transient error; default MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  /** ZENDESK_HTTPS_PROXY: an http:// proxy that https calls tunnel through (CONNECT); undefined: no proxy at all. */
  httpsProxy?: string;
  /** How far ahead of the answer's Date header a ticket may be dated (s); default DEFAULT_CLOCK_TOLERANCE_SECONDS. */
  clockToleranceSeconds?: number;
}

/** Optional per-call settings: the activity's cancellation aborts the request. */
export interface CallOptions {
  signal?: AbortSignal;
}

export type ExportEndpoint = 'export' | 'sample';

/** Zendesk's clock minus the worker's, in ms, from the answer's Date header (second resolution). */
interface ClockReading {
  zendeskClockOffsetMs?: number;
}

/**
 * Tickets with a value that cannot be true or that cannot be serialised (plausibility.ts): left out of `rows`, to be
 * set aside by the caller. `rowTexts` holds each row's JSON text, in the order of `rows`.
 */
interface SetAsideReading {
  setAside?: SetAsideTicket[];
  rowTexts: string[];
  /**
   * The newest time the answer vouches for (epoch seconds): its Date header on Zendesk's clock when believable, else
   * the worker's clock when it arrived. No cursor passes it.
   */
  vouchedUntil: number;
}

export interface ExportPageOutcome extends ClockReading, SetAsideReading {
  kind: 'page';
  rows: ExportRow[];
  /** The newest time in the page, and so the next start_time; null on an empty page. */
  endTime: number | null;
  fieldHeaders: Record<string, string>;
  options: Record<string, unknown>;
  /** A next_page that points away from the configured origin: reported, never followed. */
  foreignNextPage?: string;
}

export interface RateLimitedOutcome extends ClockReading {
  kind: 'rate_limited';
  retryAfterSeconds: number;
  note?: string;
}

export interface TooRecentOutcome extends ClockReading {
  kind: 'too_recent';
  message: string;
}

export type ExportOutcome = ExportPageOutcome | RateLimitedOutcome | TooRecentOutcome;

const PATHS: Record<ExportEndpoint, string> = {
  export: '/api/v2/exports/tickets.json',
  sample: '/api/v2/exports/tickets/sample.json',
};

const TICKET_COUNT_PATH = '/api/v2/tickets/count.json';

/** Zendesk's count of an account's tickets (approximate: see ticketCountSchema). */
export interface TicketCount {
  value: number;
  /** When Zendesk last counted; null while a count above 100,000 is being refreshed (the value then stops there). */
  refreshedAt: string | null;
}

const INCREMENTAL_PATHS = {
  incremental: '/api/v2/incremental/tickets.json',
  cursor: '/api/v2/incremental/tickets/cursor.json',
};

const TOO_RECENT = /too recent|StartTimeTooRecent/i;

/**
 * A pooled connection idle this long is closed (sooner when the server announces a shorter keep-alive): below the 5 s
 * of Node and Apache servers, so that a call is not sent on a connection the server is closing. Without it, Node keeps
 * an idle connection until the server closes it, whatever the server announced.
 */
const IDLE_SOCKET_MS = 4_000;

export interface IncrementalRequest {
  startTime?: number;
  /** Zendesk's opaque after_cursor (sent as `cursor=`). */
  afterCursor?: string;
  perPage?: number;
  include?: string[];
  excludeDeleted?: boolean;
  /** `support_type_scope`: `all` includes tickets only an AI agent handled. */
  supportTypeScope?: SupportTypeScope;
}

export interface IncrementalPageOutcome extends ClockReading, SetAsideReading {
  kind: 'page';
  rows: ExportRow[];
  /** Time-based: the next start_time (null when the body had none). Always null on the cursor endpoint. */
  endTime: number | null;
  /** Cursor-based: where the next call starts, and the checkpoint of the export. */
  afterCursor?: string | null;
  endOfStream: boolean;
  foreignNextPage?: string;
  /** The records `include` asked for (users, groups, organizations…), by kind, as received. */
  sideloads?: Record<string, SideloadRecord[]>;
}

/** 504 on a big page: ask again with a smaller per_page. */
export interface GatewayTimeoutOutcome extends ClockReading {
  kind: 'gateway_timeout';
  message: string;
}

/** An answer over the size cap or with more tickets than a page holds: ask again with a smaller per_page. */
export interface TooLargeOutcome extends ClockReading {
  kind: 'too_large';
  message: string;
}

/** The API no longer accepts a stored after_cursor: restart from the newest generated_timestamp. */
export interface CursorRejectedOutcome extends ClockReading {
  kind: 'cursor_rejected';
  message: string;
}

export type IncrementalOutcome =
  | IncrementalPageOutcome
  | RateLimitedOutcome
  | TooRecentOutcome
  | GatewayTimeoutOutcome
  | TooLargeOutcome
  | CursorRejectedOutcome;

/** The query parameter that carried a cursor back to Zendesk. */
export type CursorParam = 'cursor' | 'page[after]';

/** A request of an endpoint with a page size: a 504 or an answer too large is asked again with fewer rows. */
interface PagedRequest {
  /** The request carried a cursor: a 400 about it means Zendesk no longer accepts it (cursor_rejected). */
  cursorParam?: CursorParam;
}

/** A page of a stream around the ticket: its rows judged one by one, and where the stream goes next. */
export interface StreamPageOutcome extends ClockReading, JudgedStreamRows {
  kind: 'page';
  /** Time-based streams: the next start_time (null when the body had none). */
  endTime: number | null;
  /** users: after_cursor; ticket_metric_events: meta.after_cursor. */
  afterCursor: string | null;
  endOfStream: boolean;
  /** The newest time the answer vouches for (epoch seconds): no cursor passes it. */
  vouchedUntil: number;
  /** A next_page, after_url or links.next that points away from the configured origin: reported, never followed. */
  foreignNextPage?: string;
}

export type StreamOutcome =
  | StreamPageOutcome
  | RateLimitedOutcome
  | TooRecentOutcome
  | GatewayTimeoutOutcome
  | TooLargeOutcome
  | CursorRejectedOutcome;

interface Body extends ClockReading {
  kind: 'body';
  what: string;
  json: unknown;
  /** When the answer came, on Zendesk's clock when its Date header is believable, else on the worker's (ms). */
  answeredAt: number;
}

/** An incremental tickets request as get() judges its answer: `cursor=` when it carries an after_cursor. */
function pagedTicketRequest(request: IncrementalRequest): PagedRequest {
  return request.afterCursor !== undefined ? { cursorParam: 'cursor' } : {};
}

function incrementalQuery(request: IncrementalRequest): string {
  const query = new URLSearchParams();
  if (request.afterCursor !== undefined) query.set('cursor', request.afterCursor);
  else query.set('start_time', String(request.startTime ?? 0));
  if (request.perPage !== undefined) query.set('per_page', String(request.perPage));
  if (request.include && request.include.length > 0) query.set('include', request.include.join(','));
  if (request.excludeDeleted) query.set('exclude_deleted', 'true');
  if (request.supportTypeScope) query.set('support_type_scope', request.supportTypeScope);
  return query.toString();
}

/**
 * The Zendesk HTTP client. Credentials go only to `baseUrl`: redirects are not followed and the next page is
 * computed from `end_time`, never from a URL in the body. Errors never carry request headers.
 */
export class ZendeskClient {
  readonly origin: string;
  private readonly http: AxiosInstance;
  private readonly secrets: Redactor;
  private readonly tokens?: OAuthTokenSource;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly clockToleranceSeconds: number;

  constructor(private readonly options: ZendeskClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.secrets = new Redactor(staticSecrets(options.auth));
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.clockToleranceSeconds = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    const agentOptions = { keepAlive: true, maxSockets: 4, timeout: IDLE_SOCKET_MS };
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      // An idle socket; the whole call has its own deadline (send()).
      timeout: this.timeoutMs,
      maxRedirects: 0,
      // Read as it arrives and dropped past the cap, never buffered whole.
      maxContentLength: this.maxResponseBytes,
      maxBodyLength: this.maxResponseBytes,
      // Never HTTP_PROXY/HTTPS_PROXY from the environment: a proxy only when ZENDESK_HTTPS_PROXY says so.
      proxy: false,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      httpAgent: idleTimeoutOnly(new http.Agent(agentOptions)),
      httpsAgent: idleTimeoutOnly(
        options.httpsProxy
          ? new ConnectProxyAgent(options.httpsProxy, this.timeoutMs, agentOptions)
          : new https.Agent(agentOptions),
      ),
      headers: { Accept: 'application/json', 'User-Agent': 'zendesk-temporal-export' },
    });
    if (options.auth.mode === 'oauth_client_credentials') {
      this.tokens = new OAuthTokenSource({
        origin: this.origin,
        credentials: options.auth,
        http: this.http,
        timeoutMs: this.timeoutMs,
        maxResponseBytes: this.maxResponseBytes,
        redactor: this.secrets,
      });
    }
  }

  /** Blanks this account's credentials, and the access tokens it was issued lately, in a text (a log line). */
  redact(text: string): string {
    return this.secrets.redact(text);
  }

  /** `check`: how this client signs in; with client credentials, a token obtained now (its scope and lifetime). */
  async describeAuthentication(): Promise<string> {
    const auth = this.options.auth;
    if (auth.mode === 'api_token') {
      return `API token of ${auth.email}: Zendesk turns API tokens off on ${API_TOKEN_END_DATE}; move to OAuth`;
    }
    if (auth.mode === 'oauth_access_token') return 'a pre-issued OAuth access token (the worker cannot renew it)';
    const token = await this.tokens!.token();
    const lifetimeMs = token.expiresAt - token.obtainedAt;
    return (
      `OAuth client ${auth.clientId}: token obtained, scope "${token.scope}", lives ${Math.round(lifetimeMs / 1000)} s, ` +
      `renewed ${Math.round((token.expiresAt - renewsAt(token)) / 1000)} s before it expires`
    );
  }

  /** How this client signs in, for `status`: the mode and, with client credentials, when the token renews. */
  authState(): AuthState {
    const token = this.tokens?.currentToken;
    if (!token) return { mode: this.options.auth.mode };
    return { mode: this.options.auth.mode, tokenExpiresAt: token.expiresAt, tokenRenewsAt: renewsAt(token) };
  }

  /** OAuth token requests since the last call, by outcome (none without client credentials): the worker counts them. */
  takeTokenRenewals(): { ok: number; failed: number } {
    return this.tokens?.takeRenewals() ?? { ok: 0, failed: 0 };
  }

  /** A token renewal that failed while the current token still served, once: the worker logs it. */
  takeRenewalFailure(): string | undefined {
    return this.tokens?.takeRenewalFailure();
  }

  /** The Authorization header for the next call, and the token it carries (client credentials). */
  private async authorization(): Promise<{ header: string; token?: AccessToken }> {
    const auth = this.options.auth;
    switch (auth.mode) {
      case 'api_token':
        return { header: `Basic ${Buffer.from(`${auth.email}/token:${auth.apiToken}`).toString('base64')}` };
      case 'oauth_access_token':
        return { header: `Bearer ${auth.accessToken}` };
      case 'oauth_client_credentials': {
        const token = await this.tokens!.token();
        return { header: `Bearer ${token.value}`, token };
      }
    }
  }

  async fetchExportPage(
    startTime: number,
    endpoint: ExportEndpoint = 'export',
    call: CallOptions = {},
  ): Promise<ExportOutcome> {
    const answer = await this.get(`${PATHS[endpoint]}?start_time=${startTime}`, call);
    // Without a paged request, get() answers no gateway_timeout, too_large or cursor_rejected.
    if (answer.kind !== 'body') return answer as RateLimitedOutcome | TooRecentOutcome;
    const page = this.parse(answer, exportPageSchema);
    const context = this.plausibilityContext(answer, startTime);
    this.refuseImplausible(answer, [
      page.end_time != null ? endTimeProblem(page.end_time, context) : undefined,
      page.results.length > MAX_PAGE_ROWS
        ? `results: ${page.results.length} tickets, more than the ${MAX_PAGE_ROWS} a page holds`
        : undefined,
    ]);
    const outcome: ExportPageOutcome = {
      kind: 'page',
      // The objects as parsed from the body, not zod's copies (which reorder keys): stored as received.
      ...trustedRows((answer.json as { results: ExportRow[] }).results, context),
      endTime: page.end_time ?? null,
      fieldHeaders: page.field_headers ?? {},
      options: page.options ?? {},
      zendeskClockOffsetMs: answer.zendeskClockOffsetMs,
    };
    this.noteForeignUrl(outcome, page.next_page);
    return outcome;
  }

  /** Time-based incremental export: start_time → end_time, end_of_stream. */
  async fetchTimeBasedPage(
    request: IncrementalRequest & { startTime: number },
    call: CallOptions = {},
  ): Promise<IncrementalOutcome> {
    const answer = await this.get(
      `${INCREMENTAL_PATHS.incremental}?${incrementalQuery(request)}`,
      call,
      pagedTicketRequest(request),
    );
    if (answer.kind !== 'body') return answer;
    const page = this.parse(answer, timeBasedPageSchema);
    if (page.tickets.length > MAX_PAGE_ROWS) return tooManyRows(answer, page.tickets.length);
    const context = this.plausibilityContext(answer, request.startTime);
    this.refuseImplausible(answer, [
      page.end_time != null ? endTimeProblem(page.end_time, context) : undefined,
      page.count != null ? countProblem(page.count) : undefined,
    ]);
    const outcome: IncrementalPageOutcome = {
      kind: 'page',
      ...trustedRows((answer.json as { tickets: ExportRow[] }).tickets, context),
      endTime: page.end_time ?? null,
      endOfStream: page.end_of_stream ?? page.tickets.length < (request.perPage ?? 1000),
      zendeskClockOffsetMs: answer.zendeskClockOffsetMs,
      ...sideloadsOf(answer.json, request.include),
    };
    this.noteForeignUrl(outcome, page.next_page);
    return outcome;
  }

  /** Cursor-based incremental export: start_time for the first call, then the after_cursor. */
  async fetchCursorPage(request: IncrementalRequest, call: CallOptions = {}): Promise<IncrementalOutcome> {
    const answer = await this.get(
      `${INCREMENTAL_PATHS.cursor}?${incrementalQuery(request)}`,
      call,
      pagedTicketRequest(request),
    );
    if (answer.kind !== 'body') return answer;
    const page = this.parse(answer, cursorPageSchema);
    if (page.tickets.length > MAX_PAGE_ROWS) return tooManyRows(answer, page.tickets.length);
    const context = this.plausibilityContext(answer);
    this.refuseImplausible(answer, [page.after_cursor != null ? afterCursorProblem(page.after_cursor) : undefined]);
    const outcome: IncrementalPageOutcome = {
      kind: 'page',
      ...trustedRows((answer.json as { tickets: ExportRow[] }).tickets, context),
      endTime: null,
      afterCursor: page.after_cursor ?? null,
      endOfStream: page.end_of_stream,
      zendeskClockOffsetMs: answer.zendeskClockOffsetMs,
      ...sideloadsOf(answer.json, request.include),
    };
    this.noteForeignUrl(outcome, page.after_url);
    return outcome;
  }

  /**
   * One page of a stream around the ticket (ticket_events, users, organizations, ticket_metric_events). The next call
   * is computed from end_time or the cursor, never from a URL in the body.
   */
  async fetchStreamPage(request: StreamRequest, call: CallOptions = {}): Promise<StreamOutcome> {
    const { path, perPage, cursorParam } = streamCall(request);
    const answer = await this.get(path, call, cursorParam ? { cursorParam } : {});
    if (answer.kind !== 'body') return answer;
    const page = this.parse(answer, streamPageSchema(request));
    if (page.rows.length > MAX_PAGE_ROWS) return tooManyRows(answer, page.rows.length, 'rows');
    const context = this.plausibilityContext(answer, request.startTime);
    this.refuseImplausible(answer, [
      page.endTime != null ? endTimeProblem(page.endTime, context) : undefined,
      page.afterCursor != null ? afterCursorProblem(page.afterCursor) : undefined,
    ]);
    const outcome: StreamPageOutcome = {
      kind: 'page',
      ...judgeStreamRows(request.stream, page.rows, context),
      endTime: page.endTime,
      afterCursor: page.afterCursor,
      // Same-second pages may hold more rows than asked for: only a page short of per_page ends the stream.
      endOfStream: page.endOfStream ?? page.rows.length < perPage,
      vouchedUntil: context.nowSeconds,
      zendeskClockOffsetMs: answer.zendeskClockOffsetMs,
    };
    this.noteForeignUrl(outcome, page.nextUrl);
    return outcome;
  }

  /**
   * `GET /api/v2/tickets/count.json`: how many tickets the account holds, for `start`'s back-fill estimate. Signed in
   * and sent as every other call (proxy, deadline, size cap); a 429 or an unexpected answer is an error naming it.
   */
  async countTickets(call: CallOptions = {}): Promise<TicketCount> {
    const answer = await this.get(TICKET_COUNT_PATH, call);
    if (answer.kind === 'rate_limited') {
      throw new ZendeskTransientError(
        `GET ${TICKET_COUNT_PATH}: 429 rate limited (Retry-After ${answer.retryAfterSeconds} s)`,
        429,
        answer.retryAfterSeconds,
      );
    }
    if (answer.kind !== 'body') throw new ZendeskPermanentError(`GET ${TICKET_COUNT_PATH}: ${answer.message}`);
    const { count } = this.parse(answer, ticketCountSchema, 'the ticket count format');
    return { value: count.value, refreshedAt: count.refreshed_at ?? null };
  }

  /**
   * One GET, classified: the outcomes every endpoint shares, or the body of a 200 for the caller to parse.
   * `paged` describes a request of an endpoint with a page size (absent on the specified one).
   */
  private async get(
    path: string,
    call: CallOptions,
    paged?: PagedRequest,
  ): Promise<
    RateLimitedOutcome | TooRecentOutcome | GatewayTimeoutOutcome | TooLargeOutcome | CursorRejectedOutcome | Body
  > {
    const what = `GET ${path}`;
    let sent;
    try {
      sent = await this.send(what, path, call);
    } catch (err) {
      if (!(err instanceof ZendeskTooLargeError)) throw err;
      // A smaller per_page makes a smaller answer; the specified endpoint has none, so retrying cannot help.
      if (paged) return { kind: 'too_large', message: err.message };
      throw new ZendeskPermanentError(
        `${err.message}: the specified endpoint cannot ask for fewer tickets; export with the cursor endpoint ` +
          '(EXPORT_API=cursor), whose per_page the export lowers for such pages',
      );
    }
    const { response, token } = sent;
    if (token) this.judgeToken(what, token, response.status);
    const receivedAt = Date.now();
    const { status } = response;
    const body = typeof response.data === 'string' ? response.data : String(response.data ?? '');
    const contentType = String(response.headers['content-type'] ?? '');
    const zendeskNow = Date.parse(String(response.headers['date'] ?? ''));
    const clock: ClockReading = Number.isFinite(zendeskNow) ? { zendeskClockOffsetMs: zendeskNow - receivedAt } : {};
    // An HTTP-date Retry-After and the bounds of plausibility.ts are times on Zendesk's clock, unless its Date header
    // is not believable.
    const retryAfterNow =
      Number.isFinite(zendeskNow) && plausibleClockOffset(zendeskNow - receivedAt) ? zendeskNow : receivedAt;
    const snippet = (text: string) => shorten(this.secrets.redact(text));

    if (status === 429) {
      const retryAfter = parseRetryAfter(response.headers['retry-after'] as string | undefined, retryAfterNow);
      return { kind: 'rate_limited', retryAfterSeconds: retryAfter.seconds, note: retryAfter.note, ...clock };
    }
    if ((status === 400 || status === 422 || status === 403) && TOO_RECENT.test(body)) {
      return { kind: 'too_recent', message: snippet(body), ...clock };
    }
    // Only a request that sent a cursor can have it rejected; any other 400 is refused for good (blocked).
    if (paged?.cursorParam !== undefined && status === 400 && isCursorError(body, paged.cursorParam)) {
      return { kind: 'cursor_rejected', message: snippet(body), ...clock };
    }
    if (paged && status === 504) return { kind: 'gateway_timeout', message: snippet(body), ...clock };
    if (status === 401)
      throw new ZendeskPermanentError(`${what}: 401 Unauthorized: ${unauthorizedAdvice(this.options.auth)}`, status);
    if (status === 403)
      throw new ZendeskPermanentError(`${what}: 403 Forbidden: the export needs an admin user`, status);
    if (status === 404) {
      throw new ZendeskPermanentError(`${what}: 404 Not Found: check ZENDESK_SUBDOMAIN / ZENDESK_BASE_URL`, status);
    }
    if (status >= 300 && status < 400) {
      throw new ZendeskPermanentError(
        `${what}: ${status} redirect (not followed, to keep credentials at ${this.origin})`,
        status,
      );
    }
    if (status >= 500) {
      const retryAfter = response.headers['retry-after']
        ? parseRetryAfter(response.headers['retry-after'] as string, retryAfterNow)
        : undefined;
      throw new ZendeskTransientError(`${what}: ${status} ${snippet(body)}`, status, retryAfter?.seconds);
    }
    if (status !== 200) throw new ZendeskPermanentError(`${what}: ${status} ${snippet(body)}`, status);

    if (!/json/i.test(contentType)) {
      throw new ZendeskTransientError(
        `${what}: expected JSON, got "${contentType || 'no content type'}": ${snippet(body)}`,
        status,
      );
    }
    try {
      return { kind: 'body', what, json: JSON.parse(body) as unknown, answeredAt: retryAfterNow, ...clock };
    } catch (err) {
      throw new ZendeskTransientError(
        `${what}: unreadable JSON (${jsonErrorWithoutText(err)}) in ${body.length} bytes`,
        status,
      );
    }
  }

  /**
   * What Zendesk's answer says of the access token the call carried. A 401 drops it, and the call is not sent again
   * now: a second call at once would skip the pacing of a rate-limited endpoint. The attempt fails instead, and the
   * activity's retry (no sooner than the pacing allows) gets a new token. A 401 with a token obtained for such a retry
   * is Zendesk refusing the client: permanent.
   */
  private judgeToken(what: string, token: AccessToken, status: number): void {
    if (status >= 200 && status < 300) this.tokens!.accepted(token);
    if (status !== 401) return;
    if (this.tokens!.refused(token)) {
      throw new ZendeskPermanentError(
        `${what}: 401 with a token just issued to OAuth client ${this.tokenClientId()}: check the client's scope ` +
          '(read) and that it is active, then `client resume`',
        401,
      );
    }
    throw new ZendeskTransientError(
      `${what}: 401 Unauthorized: Zendesk refused the token of OAuth client ${this.tokenClientId()} (revoked, or ` +
        'expired on its clock): the next try gets a new one',
      401,
    );
  }

  /** One GET with the current credentials, and the access token it carried (client credentials). */
  private async send(what: string, path: string, call: CallOptions) {
    const authorization = await this.authorization();
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = call.signal ? AbortSignal.any([deadline, call.signal]) : deadline;
    try {
      const response = await inHttpSpan(
        { method: 'GET', origin: this.origin, path },
        () => this.http.get<string>(path, { headers: { Authorization: authorization.header }, signal }),
        (answer) => answer.status,
      );
      return { response, token: authorization.token };
    } catch (err) {
      if (call.signal?.aborted) throw new ZendeskTransientError(`${what}: cancelled`);
      const reason = deadline.aborted
        ? `no complete answer within ${this.timeoutMs} ms (timeout)`
        : describeNetworkError(err, this.timeoutMs, this.maxResponseBytes);
      if (isOverSizeCap(err)) throw new ZendeskTooLargeError(`${what} failed: ${reason}`);
      throw new ZendeskTransientError(`${what} failed: ${reason}`);
    }
  }

  private plausibilityContext(answer: Body, startTime?: number): PlausibilityContext {
    const context = { nowSeconds: Math.floor(answer.answeredAt / 1000), toleranceSeconds: this.clockToleranceSeconds };
    return startTime === undefined ? context : { ...context, startTime };
  }

  private tokenClientId(): string {
    return this.options.auth.mode === 'oauth_client_credentials' ? this.options.auth.clientId : '';
  }

  private parse<T extends z.ZodTypeAny>(answer: Body, schema: T, format = 'the export format'): z.infer<T> {
    const parsed = schema.safeParse(answer.json);
    if (!parsed.success) {
      throw new ZendeskTransientError(
        `${answer.what}: the body does not match ${format}: ${describeSchemaError(parsed.error)}`,
        200,
      );
    }
    return parsed.data;
  }

  /** A page-level value that cannot be true makes the answer a bad one, like a body that does not match the format. */
  private refuseImplausible(answer: Body, problems: (string | undefined)[]): void {
    const found = problems.filter((problem) => problem !== undefined);
    if (found.length === 0) return;
    throw new ZendeskTransientError(`${answer.what}: the body holds an implausible value: ${found.join('; ')}`, 200);
  }

  /** A next-page URL on another origin is reported on the outcome, never followed. */
  private noteForeignUrl(outcome: { foreignNextPage?: string }, url: string | null | undefined): void {
    if (url && !this.isOwnOrigin(url)) outcome.foreignNextPage = url.slice(0, 200);
  }

  private isOwnOrigin(url: string): boolean {
    try {
      return new URL(url).origin === this.origin;
    } catch {
      return false;
    }
  }
}

/** Node also applies an agent's `timeout` to a connection being opened: only idle ones get it, a call has its own. */
function idleTimeoutOnly<T extends http.Agent>(agent: T): T {
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => connect({ ...options, timeout: undefined }, callback);
  return agent;
}

/** An answer with more rows than a page holds: a page-size problem, like one over the size cap. */
function tooManyRows(answer: Body, count: number, noun = 'tickets'): TooLargeOutcome {
  return {
    kind: 'too_large',
    message: `${answer.what}: ${count} ${noun} in one answer, more than the ${MAX_PAGE_ROWS} a page holds`,
    zendeskClockOffsetMs: answer.zendeskClockOffsetMs,
  };
}

function isOverSizeCap(err: unknown): boolean {
  return axios.isAxiosError(err) && /maxContentLength/.test(err.message);
}

/** The tickets that can be true and serialise, with their JSON; the others apart, with the reason. */
function trustedRows(rows: ExportRow[], context: PlausibilityContext): SetAsideReading & { rows: ExportRow[] } {
  const separated = separateImplausible(rows, context);
  const reading = {
    rows: separated.rows.map((trusted) => trusted.row),
    rowTexts: separated.rows.map((trusted) => trusted.json),
    vouchedUntil: context.nowSeconds,
  };
  return separated.setAside.length > 0 ? { ...reading, setAside: separated.setAside } : reading;
}

/**
 * Zendesk's error code for a cursor it no longer accepts, or a plain-text answer that says so. Standard pagination
 * (`page[after]`) names a bad cursor an invalid pagination parameter.
 */
function isCursorError(body: string, param: CursorParam): boolean {
  const pagination = param === 'page[after]';
  const code = pagination ? /cursor|pagination/i : /cursor/i;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed?.error === 'string') return code.test(parsed.error);
  } catch {
    // not JSON: judge the text
  }
  return /invalid\s*cursor/i.test(body) || (pagination && /InvalidPaginationParameter/i.test(body));
}

/** The arrays `include` asked for, as received (records that are not objects are left out). */
function sideloadsOf(json: unknown, include: string[] | undefined): { sideloads?: Record<string, SideloadRecord[]> } {
  if (!include?.length || typeof json !== 'object' || json === null) return {};
  const sideloads: Record<string, SideloadRecord[]> = {};
  for (const kind of include) {
    const value = (json as Record<string, unknown>)[kind];
    if (!Array.isArray(value)) continue;
    sideloads[kind] = value.filter(
      (record): record is SideloadRecord => typeof record === 'object' && record !== null && !Array.isArray(record),
    );
  }
  return Object.keys(sideloads).length > 0 ? { sideloads } : {};
}

function shorten(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** What to do about a 401, by how the client signs in. */
function unauthorizedAdvice(auth: ZendeskAuth): string {
  switch (auth.mode) {
    case 'api_token':
      return (
        `check ZENDESK_EMAIL and ZENDESK_API_TOKEN (an unused token is deactivated after 30 days, and every API token ` +
        `on ${API_TOKEN_END_DATE}: move to OAuth client credentials, ZENDESK_OAUTH_CLIENT_ID and _SECRET)`
      );
    case 'oauth_access_token':
      return (
        'the OAuth access token (ZENDESK_OAUTH_ACCESS_TOKEN) has expired or was revoked: issue a new one, or set ' +
        'ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET so that the worker renews tokens itself; then ' +
        '`client resume`'
      );
    case 'oauth_client_credentials':
      return `OAuth client ${auth.clientId} was refused`;
  }
}

/**
 * What JSON.parse said, without the text it quotes: V8 puts a snippet of the body in the message, and a body may hold
 * anything (an echoed credential, a ticket).
 */
export function jsonErrorWithoutText(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const position = /position (\d+)/.exec(message);
  if (/end of JSON input|Unterminated/i.test(message)) return 'the body ends mid-value';
  return position ? `invalid JSON at position ${position[1]}` : 'invalid JSON';
}

export function describeNetworkError(err: unknown, timeoutMs: number, maxResponseBytes = MAX_RESPONSE_BYTES): string {
  if (axios.isAxiosError(err)) {
    if (isOverSizeCap(err)) {
      return `the answer is larger than the ${describeBytes(maxResponseBytes)} cap on a response (not read further)`;
    }
    if (err.code === PROXY_ERROR) return err.message;
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT')
      return `no complete answer within ${timeoutMs} ms (timeout)`;
    if (err.code === 'ECONNRESET' || /socket hang up/i.test(err.message)) return 'connection reset by the server';
    if (err.code === 'ECONNREFUSED') return 'connection refused';
    if (err.code === 'ENOTFOUND') return 'host not found';
    return err.code ? `network error ${err.code}` : 'network error';
  }
  return 'unexpected client error';
}

/** The schema of a stream's answer: a reference list's by its list. */
function streamPageSchema(request: StreamRequest) {
  if (request.stream !== 'reference_lists') return STREAM_PAGE_SCHEMAS[request.stream];
  if (request.list === undefined) throw new Error('a reference_lists request names no list');
  return REFERENCE_LIST_SCHEMAS[request.list];
}
