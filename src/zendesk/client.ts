import axios, { AxiosInstance } from 'axios';
import http from 'node:http';
import https from 'node:https';
import { ZendeskPermanentError, ZendeskTransientError } from './errors';
import { parseRetryAfter } from './retry-after';
import { describeSchemaError, ExportRow, exportPageSchema } from './schemas';

export interface ZendeskCredentials {
  email: string;
  apiToken?: string;
  password?: string;
}

export interface ZendeskClientOptions extends ZendeskCredentials {
  baseUrl: string;
  timeoutMs?: number;
}

export type ExportEndpoint = 'export' | 'sample';

export interface ExportPageOutcome {
  kind: 'page';
  rows: ExportRow[];
  /** The newest time in the page, and so the next start_time; null on an empty page. */
  endTime: number | null;
  fieldHeaders: Record<string, string>;
  options: Record<string, unknown>;
  /** A next_page that points away from the configured origin: reported, never followed. */
  foreignNextPage?: string;
}

export interface RateLimitedOutcome {
  kind: 'rate_limited';
  retryAfterSeconds: number;
  note?: string;
}

export interface TooRecentOutcome {
  kind: 'too_recent';
  message: string;
}

export type ExportOutcome = ExportPageOutcome | RateLimitedOutcome | TooRecentOutcome;

const PATHS: Record<ExportEndpoint, string> = {
  export: '/api/v2/exports/tickets.json',
  sample: '/api/v2/exports/tickets/sample.json',
};

const TOO_RECENT = /too recent|StartTimeTooRecent/i;

/**
 * The Zendesk HTTP client. Credentials go only to `baseUrl`: redirects are not followed and the next page is
 * computed from `end_time`, never from a URL in the body. Errors never carry request headers.
 */
export class ZendeskClient {
  readonly origin: string;
  private readonly http: AxiosInstance;

  constructor(private readonly options: ZendeskClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    const user = options.apiToken ? `${options.email}/token` : options.email;
    const secret = options.apiToken ?? options.password ?? '';
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs ?? 60_000,
      maxRedirects: 0,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 4 }),
      headers: {
        Accept: 'application/json',
        'User-Agent': 'zendesk-temporal-export',
        Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`,
      },
    });
  }

  async fetchExportPage(startTime: number, endpoint: ExportEndpoint = 'export'): Promise<ExportOutcome> {
    const path = `${PATHS[endpoint]}?start_time=${startTime}`;
    const what = `GET ${path}`;
    let response;
    try {
      response = await this.http.get<string>(path);
    } catch (err) {
      throw new ZendeskTransientError(`${what} failed: ${describeNetworkError(err, this.options.timeoutMs ?? 60_000)}`);
    }
    const { status } = response;
    const body = typeof response.data === 'string' ? response.data : String(response.data ?? '');
    const contentType = String(response.headers['content-type'] ?? '');

    if (status === 429) {
      const retryAfter = parseRetryAfter(response.headers['retry-after'] as string | undefined, Date.now());
      return { kind: 'rate_limited', retryAfterSeconds: retryAfter.seconds, note: retryAfter.note };
    }
    if ((status === 400 || status === 422 || status === 403) && TOO_RECENT.test(body)) {
      return { kind: 'too_recent', message: snippet(body) };
    }
    if (status === 401)
      throw new ZendeskPermanentError(
        `${what}: 401 Unauthorized: check ZENDESK_EMAIL and the token or password`,
        status,
      );
    if (status === 403)
      throw new ZendeskPermanentError(`${what}: 403 Forbidden: the export needs an admin user`, status);
    if (status === 404)
      throw new ZendeskPermanentError(`${what}: 404 Not Found: check ZENDESK_SUBDOMAIN / ZENDESK_BASE_URL`, status);
    if (status >= 300 && status < 400) {
      throw new ZendeskPermanentError(
        `${what}: ${status} redirect (not followed, to keep credentials at ${this.origin})`,
        status,
      );
    }
    if (status >= 500) {
      const retryAfter = response.headers['retry-after']
        ? parseRetryAfter(response.headers['retry-after'] as string, Date.now())
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
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      throw new ZendeskTransientError(
        `${what}: unreadable JSON (${(err as Error).message}) in ${body.length} bytes`,
        status,
      );
    }
    const parsed = exportPageSchema.safeParse(json);
    if (!parsed.success) {
      throw new ZendeskTransientError(
        `${what}: the body does not match the export format: ${describeSchemaError(parsed.error)}`,
        status,
      );
    }
    const page = parsed.data;
    const outcome: ExportPageOutcome = {
      kind: 'page',
      // The objects as parsed from the body, not zod's copies (which reorder keys): stored as received.
      rows: (json as { results: ExportRow[] }).results,
      endTime: page.end_time ?? null,
      fieldHeaders: page.field_headers ?? {},
      options: page.options ?? {},
    };
    if (page.next_page && !this.isOwnOrigin(page.next_page)) outcome.foreignNextPage = page.next_page.slice(0, 200);
    return outcome;
  }

  private isOwnOrigin(url: string): boolean {
    try {
      return new URL(url).origin === this.origin;
    } catch {
      return false;
    }
  }
}

function snippet(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (axios.isAxiosError(err)) {
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT') return `no answer within ${timeoutMs} ms (timeout)`;
    if (err.code === 'ECONNRESET' || /socket hang up/i.test(err.message)) return 'connection reset by the server';
    if (err.code === 'ECONNREFUSED') return 'connection refused';
    if (err.code === 'ENOTFOUND') return 'host not found';
    return err.code ? `network error ${err.code}` : 'network error';
  }
  return 'unexpected client error';
}
