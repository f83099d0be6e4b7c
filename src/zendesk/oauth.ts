import axios, { AxiosInstance } from 'axios';
import { ZendeskPermanentError, ZendeskTransientError } from './errors';
import { parseRetryAfter } from './retry-after';
import { describeBytes, MAX_RESPONSE_BYTES } from './limits';
import type { Redactor } from './redactor';

export interface AccessToken {
  value: string;
  scope: string;
  /** When it was obtained and when it expires (worker clock, ms). */
  obtainedAt: number;
  expiresAt: number;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  scope: string;
  tokenTtlSeconds: number;
}

export interface TokenSourceOptions {
  origin: string;
  credentials: ClientCredentials;
  /** The client's axios instance: no proxy unless configured, and its cap on the answer's size. */
  http: AxiosInstance;
  /** The deadline of the whole token request. */
  timeoutMs: number;
  /** The cap on the answer's size, for the message when it is exceeded. */
  maxResponseBytes?: number;
  /**
   * Blanks the client secret and every token obtained in failure text (a proxy or firewall may quote the request):
   * the same instance as the client's Zendesk calls use.
   */
  redactor: Redactor;
  now?: () => number;
}

/** A token is renewed when this much of its life is left: 20% of it, at most a minute. */
export function renewalMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs * 0.2);
}

/** When a token is renewed: once the margin of its lifetime is all that is left (worker clock, ms). */
export function renewsAt(token: AccessToken): number {
  return token.expiresAt - renewalMarginMs(token.expiresAt - token.obtainedAt);
}

/** Without a Retry-After, a failed token request is not repeated sooner than this. */
const TOKEN_RETRY_GAP_MS = 5_000;

/** A token whose renewal failed serves on until this much of its life is left: 5% of it, at most 10 s. */
export function expirySafetyMs(lifetimeMs: number): number {
  return Math.min(10_000, lifetimeMs * 0.05);
}

/** Until when a token serves when its renewal fails (worker clock, ms): a call sent then still arrives in time. */
export function usableUntil(token: AccessToken): number {
  return token.expiresAt - expirySafetyMs(token.expiresAt - token.obtainedAt);
}

/** No token request was made: the last one failed too recently (or Zendesk asked to wait). */
class TokenRequestDeferred extends ZendeskTransientError {}

/**
 * Access tokens of one OAuth client (the client credentials grant), for one account in this worker process: obtained
 * on first use, renewed before they expire and when Zendesk refuses one, one request at a time however many fetches
 * ask. Nothing of it leaves the process: the workflow never sees a token.
 */
export class OAuthTokenSource {
  private current?: AccessToken;
  private inFlight?: Promise<AccessToken>;
  /** No token request before this (a 429's Retry-After, or a short gap after a failure). */
  private notBefore = 0;
  /** Zendesk refused a token: the next one obtained replaces it, and is on probation. */
  private replacingRefused = false;
  /** A token obtained to replace a refused one, until Zendesk accepts a call with it. */
  private onProbation?: string;
  /** A renewal failed while the current token still served: not reported yet. */
  private renewalFailure?: string;
  /** Token requests answered (ok) or failed since the last takeRenewals(); deferred ones were not sent. */
  private renewals = { ok: 0, failed: 0 };
  private readonly now: () => number;

  constructor(private readonly options: TokenSourceOptions) {
    this.now = options.now ?? Date.now;
    options.redactor.addFixed(options.credentials.clientSecret);
  }

  /**
   * A token that is good for a while yet. When its renewal fails for now (a 5xx, a 429, a timeout), the current token
   * serves on while it is safely valid, and the token endpoint is not asked again before the gap after the failure.
   */
  async token(): Promise<AccessToken> {
    const token = this.current;
    if (token && this.now() < renewsAt(token)) return token;
    try {
      return await this.renew();
    } catch (err) {
      // Still the current one: a token Zendesk refused meanwhile is not (refused() dropped it).
      const current = this.current;
      if (!(err instanceof ZendeskTransientError) || !current || this.now() >= usableUntil(current)) throw err;
      if (!(err instanceof TokenRequestDeferred)) this.renewalFailure = err.message;
      return current;
    }
  }

  /** The failure of a renewal that the current token covered, once (for the worker's log; nothing secret in it). */
  takeRenewalFailure(): string | undefined {
    const failure = this.renewalFailure;
    this.renewalFailure = undefined;
    return failure;
  }

  /** The token requests (the first and each renewal) since the last call, by outcome: for the worker's metrics. */
  takeRenewals(): { ok: number; failed: number } {
    const renewals = this.renewals;
    this.renewals = { ok: 0, failed: 0 };
    return renewals;
  }

  /** The token in use, if any (for `status`: when it expires). */
  get currentToken(): AccessToken | undefined {
    return this.current;
  }

  /**
   * Zendesk refused this token (401): the next `token()` obtains a new one, unless another call already did. Returns
   * true when it was a token obtained to replace a refused one and no call had succeeded with it: then Zendesk refuses
   * the client itself (its scope, or it is inactive), and a new token would not help.
   */
  refused(token: AccessToken): boolean {
    if (this.current?.value === token.value) this.current = undefined;
    this.replacingRefused = true;
    return this.onProbation === token.value;
  }

  /** Zendesk accepted a call with this token. */
  accepted(token: AccessToken): void {
    if (this.onProbation === token.value) this.onProbation = undefined;
  }

  private renew(): Promise<AccessToken> {
    this.inFlight ??= this.request()
      .then(
        (token) => {
          this.renewals.ok++;
          return token;
        },
        (err: unknown) => {
          if (!(err instanceof TokenRequestDeferred)) this.renewals.failed++;
          throw err;
        },
      )
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async request(): Promise<AccessToken> {
    const { origin, credentials, http, timeoutMs } = this.options;
    const what = `POST ${origin}/oauth/tokens (OAuth client ${credentials.clientId})`;
    const waitMs = this.notBefore - this.now();
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      const message = `${what}: not asked again for ${seconds} s after its last failure`;
      throw new TokenRequestDeferred(this.options.redactor.redact(message), undefined, seconds);
    }
    let response;
    // One request serves every fetch that waits for it: a deadline of its own, no caller's cancellation.
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      response = await http.post<string>(
        '/oauth/tokens',
        {
          grant_type: 'client_credentials',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
          scope: credentials.scope,
          expires_in: credentials.tokenTtlSeconds,
        },
        { signal: deadline },
      );
    } catch (err) {
      this.notBefore = this.now() + TOKEN_RETRY_GAP_MS;
      const timedOut =
        deadline.aborted || (axios.isAxiosError(err) && (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT'));
      const tooLarge = axios.isAxiosError(err) && /maxContentLength/.test(err.message);
      const reason = timedOut
        ? `no answer within ${timeoutMs} ms (timeout)`
        : tooLarge
          ? `the answer is larger than the ${describeBytes(this.options.maxResponseBytes ?? MAX_RESPONSE_BYTES)} cap`
          : axios.isAxiosError(err) && err.code
            ? `network error ${err.code}`
            : 'network error';
      throw this.transient(`${what} failed: ${reason}`);
    }
    return this.accept(what, response.status, String(response.data ?? ''), response.headers['retry-after']);
  }

  private accept(what: string, status: number, body: string, retryAfterHeader: unknown): AccessToken {
    const answer = parseJson(body);
    const oauthError = typeof answer?.error === 'string' ? answer.error : undefined;
    // What the server said, blanked before it is cut short: a proxy or firewall may quote the request, secret and all.
    const reason = this.options.redactor
      .redact(
        [oauthError, typeof answer?.error_description === 'string' ? answer.error_description : undefined]
          .filter(Boolean)
          .join(': '),
      )
      .slice(0, 200);
    const said = reason ? ` (${reason})` : '';
    if (status === 200) {
      const value = answer?.access_token;
      if (typeof value !== 'string' || value === '') {
        this.notBefore = this.now() + TOKEN_RETRY_GAP_MS;
        throw this.transient(`${what}: 200 without an access_token in the answer`, status);
      }
      this.options.redactor.addTransient(value);
      if (this.replacingRefused) {
        this.onProbation = value;
        this.replacingRefused = false;
      }
      const obtainedAt = this.now();
      const expiresIn = typeof answer?.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : undefined;
      const lifetimeSeconds = expiresIn ?? this.options.credentials.tokenTtlSeconds;
      const scope = typeof answer?.scope === 'string' ? answer.scope : this.options.credentials.scope;
      this.current = { value, scope, obtainedAt, expiresAt: obtainedAt + lifetimeSeconds * 1000 };
      return this.current;
    }
    if (status === 429 || status >= 500) {
      const retryAfter =
        typeof retryAfterHeader === 'string' ? parseRetryAfter(retryAfterHeader, this.now()) : undefined;
      const waitSeconds = retryAfter?.seconds ?? (status === 429 ? 60 : TOKEN_RETRY_GAP_MS / 1000);
      this.notBefore = this.now() + waitSeconds * 1000;
      throw this.transient(`${what}: ${status}${said}`, status, waitSeconds);
    }
    if (status === 400 || status === 401 || oauthError === 'invalid_client') {
      throw this.permanent(
        `${what}: ${status}${said}: Zendesk refused the client; check ZENDESK_OAUTH_CLIENT_ID and ` +
          'ZENDESK_OAUTH_CLIENT_SECRET (a confidential client, client credentials grant), then `client resume`',
        status,
      );
    }
    throw this.permanent(`${what}: ${status}${said}`, status);
  }

  /** Every failure of the token source goes through these two: its text never holds the secret or a token. */
  private transient(message: string, status?: number, retryAfterSeconds?: number): ZendeskTransientError {
    return new ZendeskTransientError(this.options.redactor.redact(message), status, retryAfterSeconds);
  }

  private permanent(message: string, status: number): ZendeskPermanentError {
    return new ZendeskPermanentError(this.options.redactor.redact(message), status);
  }
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
