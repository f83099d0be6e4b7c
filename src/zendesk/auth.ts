/** How the worker signs in to one Zendesk account: exactly one mode per account. */
export type ZendeskAuth =
  /** A confidential OAuth client's client credentials grant: tokens obtained and renewed by the worker. */
  | {
      mode: 'oauth_client_credentials';
      clientId: string;
      clientSecret: string;
      /** Space-separated scopes; default `read`. */
      scope: string;
      /** The `expires_in` asked for (Zendesk accepts 300 < n < 172800). */
      tokenTtlSeconds: number;
    }
  /** An OAuth access token issued elsewhere: used as is until Zendesk refuses it. */
  | { mode: 'oauth_access_token'; accessToken: string }
  /** `{email}/token:{api_token}` Basic auth: Zendesk deactivates every API token on 2027-04-30. */
  | { mode: 'api_token'; email: string; apiToken: string };

export type ZendeskAuthMode = ZendeskAuth['mode'];

export const DEFAULT_OAUTH_SCOPE = 'read';
export const DEFAULT_OAUTH_TOKEN_TTL_SECONDS = 3600;
/** Zendesk's bounds for `expires_in`, both exclusive. */
export const OAUTH_TOKEN_TTL_RANGE = { above: 300, below: 172_800 } as const;
/** The day Zendesk turns every remaining API token off. */
export const API_TOKEN_END_DATE = '2027-04-30';

/** One line for logs, `check` and `status`: the mode and whose credentials, never a secret. */
export function describeAuth(auth: ZendeskAuth): string {
  switch (auth.mode) {
    case 'oauth_client_credentials':
      return `OAuth client credentials (client ${auth.clientId}, scope "${auth.scope}", tokens of ${auth.tokenTtlSeconds} s)`;
    case 'oauth_access_token':
      return 'OAuth access token (pre-issued; not renewed by the worker)';
    case 'api_token':
      return `API token of ${auth.email} (Zendesk turns API tokens off on ${API_TOKEN_END_DATE}: move to OAuth)`;
  }
}

/** What `status` may show of a client's sign-in: the mode and when its token renews, nothing secret. */
export interface AuthState {
  mode: ZendeskAuthMode;
  /** Client credentials: when the current token expires and when it is renewed (worker clock, ms). */
  tokenExpiresAt?: number;
  tokenRenewsAt?: number;
}
