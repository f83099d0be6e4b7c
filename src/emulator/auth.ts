import { JSON_TYPE, type Reply } from './http';
import { canReadTickets, type TokenAuthority } from './oauth';
import type { ResolvedEmulatorOptions } from './options';

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

export interface Refusal {
  reply: Reply;
  /** the call carried an access token that had expired */
  expiredToken: boolean;
}

function refusal(status: number, body: string, challenge: string, expiredToken = false): Refusal {
  return {
    reply: { status, body, headers: { 'Content-Type': JSON_TYPE, 'WWW-Authenticate': challenge } },
    expiredToken,
  };
}

/**
 * Who may call the ticket endpoints: with no OAuth client registered, HTTP Basic with the account's API token or
 * password; with one, only `Authorization: Bearer` with a live token of `read` or `tickets:read` scope.
 */
export class TicketAuth {
  constructor(
    private readonly options: Pick<ResolvedEmulatorOptions, 'credentials' | 'oauthClients'>,
    private readonly tokens: TokenAuthority,
  ) {}

  private get oauthMode(): boolean {
    return this.options.oauthClients.length > 0;
  }

  /** The 401 or 403 for a call with this Authorization header, or undefined when it may go on. */
  refuse(authorization: string | undefined, nowMs: number): Refusal | undefined {
    if (!this.oauthMode) {
      return this.basicAuthorized(authorization) ? undefined : refusal(401, AUTH_ERROR, BASIC_CHALLENGE);
    }
    const token = bearerToken(authorization);
    if (token === undefined) return refusal(401, AUTH_ERROR, 'Bearer');
    const checked = this.tokens.check(token, nowMs);
    if (checked.state !== 'live') {
      return refusal(401, INVALID_TOKEN, INVALID_TOKEN_CHALLENGE, checked.state === 'expired');
    }
    if (canReadTickets(checked.scopes)) return undefined;
    return refusal(403, INSUFFICIENT_SCOPE, 'Bearer error="insufficient_scope", scope="read"');
  }

  /** What a 401 looks like in this mode (a status fault without a body of its own answers with it). */
  get unauthorized(): { body: string; challenge: string } {
    return this.oauthMode
      ? { body: INVALID_TOKEN, challenge: INVALID_TOKEN_CHALLENGE }
      : { body: AUTH_ERROR, challenge: BASIC_CHALLENGE };
  }

  private basicAuthorized(header: string | undefined): boolean {
    const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const { email, apiToken, password } = this.options.credentials;
    return decoded === `${email}/token:${apiToken}` || decoded === `${email}:${password}`;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header || !/^Bearer(\s|$)/i.test(header)) return undefined;
  // a malformed Bearer header still names a (bad) token: it gets invalid_token like an unknown one
  return /^Bearer\s+([\x21-\x7e]+)\s*$/i.exec(header)?.[1] ?? '';
}
