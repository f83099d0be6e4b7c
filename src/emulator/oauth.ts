import { randomBytes } from 'node:crypto';

/** A confidential OAuth client registered in the emulated account. */
export interface EmulatorOAuthClient {
  clientId: string;
  clientSecret: string;
}

/** The demo's confidential client (a public test fixture that only the emulator accepts, not a secret). */
export const DEFAULT_OAUTH_CLIENT: Readonly<EmulatorOAuthClient> = Object.freeze({
  clientId: 'zte-demo-client',
  clientSecret: 'zte-demo-secret-7c1e9a4f2b8d6e3a5c0f9b1d4e7a2c6f',
});

/** Zendesk's bounds for a requested expires_in, in seconds; both are exclusive. */
export const EXPIRES_IN_MIN = 300;
export const EXPIRES_IN_MAX = 172_800;
/** The lifetime of a token when the request names none (new global clients: 30 minutes). */
export const DEFAULT_TOKEN_SECONDS = 1800;

const SCOPE_RESOURCES = [
  'tickets',
  'users',
  'organizations',
  'auditlogs',
  'hc',
  'apps',
  'triggers',
  'automations',
  'targets',
  'webhooks',
  'macros',
  'zis',
];

export interface GrantAnswer {
  status: number;
  body: Record<string, string | number>;
}

export type TokenState = { state: 'live'; scopes: readonly string[] } | { state: 'expired' } | { state: 'unknown' };

interface IssuedToken {
  scopes: string[];
  expiresAt: number;
}

function oauthError(status: number, error: string, description: string): GrantAnswer {
  return { status, body: { error, error_description: description } };
}

function invalidRequest(description: string): GrantAnswer {
  return oauthError(400, 'invalid_request', description);
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isScope(scope: string): boolean {
  if (scope === 'read' || scope === 'write' || scope === 'impersonate') return true;
  const [resource, access, ...rest] = scope.split(':');
  return rest.length === 0 && SCOPE_RESOURCES.includes(resource) && (access === 'read' || access === 'write');
}

/** The ticket exports need `read` or `tickets:read`. */
export function canReadTickets(scopes: readonly string[]): boolean {
  return scopes.includes('read') || scopes.includes('tickets:read');
}

/** The client credentials grant of the emulated account and the access tokens it has issued. */
export class TokenAuthority {
  private readonly secrets: Map<string, string>;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly revoked: string[] = [];

  /** `maxTtlSeconds` caps every token's lifetime (null: the requested expires_in, or the default). */
  constructor(
    clients: readonly EmulatorOAuthClient[],
    private readonly maxTtlSeconds: number | null,
  ) {
    this.secrets = new Map(clients.map((client) => [client.clientId, client.clientSecret]));
  }

  /** The answer to POST /oauth/tokens with this body (undefined: too large to read); a 200 issues a token. */
  grant(text: string | undefined, nowMs: number): GrantAnswer {
    const body = parseJsonObject(text);
    if (!body) return invalidRequest('The request body must be a JSON object.');
    if (typeof body.grant_type !== 'string' || body.grant_type === '') {
      return invalidRequest('Missing required parameter: grant_type.');
    }
    if (body.grant_type !== 'client_credentials') {
      return oauthError(
        400,
        'unsupported_grant_type',
        'The authorization grant type is not supported by the authorization server.',
      );
    }
    for (const key of ['client_id', 'client_secret', 'scope']) {
      const value = body[key];
      if (typeof value !== 'string' || value.trim() === '')
        return invalidRequest(`Missing required parameter: ${key}.`);
    }
    const expiresIn = body.expires_in;
    if (
      expiresIn !== undefined &&
      !(
        typeof expiresIn === 'number' &&
        Number.isInteger(expiresIn) &&
        expiresIn > EXPIRES_IN_MIN &&
        expiresIn < EXPIRES_IN_MAX
      )
    ) {
      return invalidRequest(
        `expires_in must be an integer greater than ${EXPIRES_IN_MIN} and less than ${EXPIRES_IN_MAX} (seconds).`,
      );
    }
    if (this.secrets.get(body.client_id as string) !== body.client_secret) {
      return oauthError(
        401,
        'invalid_client',
        'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
      );
    }
    const scopes = (body.scope as string).trim().split(/\s+/);
    if (!scopes.every(isScope)) {
      return oauthError(400, 'invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
    }
    return this.issue(scopes, (expiresIn as number | undefined) ?? DEFAULT_TOKEN_SECONDS, nowMs);
  }

  private issue(scopes: string[], requestedSeconds: number, nowMs: number): GrantAnswer {
    const seconds = this.maxTtlSeconds === null ? requestedSeconds : Math.min(requestedSeconds, this.maxTtlSeconds);
    const token = randomBytes(32).toString('hex');
    this.tokens.set(token, { scopes, expiresAt: nowMs + seconds * 1000 });
    return {
      status: 200,
      body: { access_token: token, token_type: 'bearer', scope: scopes.join(' '), expires_in: seconds },
    };
  }

  check(token: string, nowMs: number): TokenState {
    const issued = this.tokens.get(token);
    if (!issued) return { state: 'unknown' };
    return nowMs < issued.expiresAt ? { state: 'live', scopes: issued.scopes } : { state: 'expired' };
  }

  /** Every token issued so far becomes unknown. */
  revokeAll(): void {
    this.revoked.push(...this.tokens.keys());
    this.tokens.clear();
  }

  /** Every token issued so far, revoked ones included (a secrets scan looks for each). */
  issued(): string[] {
    return [...this.revoked, ...this.tokens.keys()];
  }
}
