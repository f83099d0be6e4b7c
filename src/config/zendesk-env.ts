import { z } from 'zod';
import { AccountEntry, readAccountsFile } from './accounts-file';
import { AuthSource, oauthScope, plainHttpProblem, TTL_MESSAGE, validTokenTtl } from './account-credentials';
import { ConfigError } from './config-error';
import { accountFor } from '../shared';
import {
  API_TOKEN_END_DATE,
  DEFAULT_OAUTH_SCOPE,
  DEFAULT_OAUTH_TOKEN_TTL_SECONDS,
  ZendeskAuthMode,
} from '../zendesk/auth';
import { Env, httpUrl, optionalText, readDecimal, subdomain } from './values';

// Which Zendesk accounts to export and how the worker signs in to each: ZENDESK_* and the accounts file.

export const accountEnv = z.object({
  ZENDESK_SUBDOMAIN: subdomain.optional(),
  ZENDESK_BASE_URL: httpUrl
    .superRefine((v, ctx) => {
      const problem = plainHttpProblem(v);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .optional(),
  ZENDESK_ACCOUNTS_FILE: z.string().trim().optional(),
});

/** The worker's way out to Zendesk: direct, or through an explicit proxy (never HTTP_PROXY/HTTPS_PROXY). */
export const zendeskHttpEnv = z.object({
  ZENDESK_HTTPS_PROXY: z
    .string()
    .trim()
    .refine((v) => {
      try {
        const url = new URL(v);
        return url.protocol === 'http:' && url.hostname !== '' && (url.pathname === '/' || url.pathname === '');
      } catch {
        return false;
      }
    }, 'must be an http:// proxy URL such as http://proxy.internal:3128 (calls to Zendesk tunnel through it with CONNECT)')
    .optional(),
});

/** The single account's credentials (worker only): exactly one way to sign in, see singleAccountAuth. */
export const credentialsEnv = z.object({
  ZENDESK_OAUTH_CLIENT_ID: optionalText,
  ZENDESK_OAUTH_CLIENT_SECRET: optionalText,
  ZENDESK_OAUTH_ACCESS_TOKEN: optionalText,
  ZENDESK_EMAIL: optionalText,
  ZENDESK_API_TOKEN: optionalText,
  ZENDESK_PASSWORD: optionalText,
});

/** The client credentials grant's settings; parsed apart so that a bad value does not hide a missing credential. */
export const oauthEnv = z.object({
  ZENDESK_OAUTH_SCOPE: oauthScope.optional(),
  ZENDESK_OAUTH_TOKEN_TTL_SECONDS: z
    .string()
    .trim()
    .transform((v, ctx) => {
      const n = readDecimal(v, 0);
      if (n === undefined || !validTokenTtl(n)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${TTL_MESSAGE}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    })
    .optional(),
});

export const ENV_CLIENT_VARIABLES = {
  clientId: 'ZENDESK_OAUTH_CLIENT_ID',
  clientSecret: 'ZENDESK_OAUTH_CLIENT_SECRET',
};

/** The single account's ways to sign in: the variables of each, and what it is called in messages. */
const ENV_MODES = {
  oauth_client_credentials: {
    what: 'OAuth client credentials',
    note: ' (recommended)',
    variables: ['ZENDESK_OAUTH_CLIENT_ID', 'ZENDESK_OAUTH_CLIENT_SECRET'],
  },
  oauth_access_token: { what: 'a pre-issued OAuth access token', note: '', variables: ['ZENDESK_OAUTH_ACCESS_TOKEN'] },
  api_token: {
    what: 'an API token',
    note: ` (accepted until ${API_TOKEN_END_DATE})`,
    variables: ['ZENDESK_EMAIL', 'ZENDESK_API_TOKEN'],
  },
} as const satisfies Record<ZendeskAuthMode, { what: string; note: string; variables: readonly string[] }>;

/** What the worker logs, and `check` prints, for an account that still signs in with an API token. */
export function apiTokenWarning(account: string): string {
  return (
    `${account} signs in with an API token, which Zendesk turns off on ${API_TOKEN_END_DATE}: create an OAuth ` +
    'client (kind confidential) and set ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET instead of ' +
    'ZENDESK_EMAIL and ZENDESK_API_TOKEN (in an accounts file: oauthClientIdEnv and oauthClientSecretEnv instead ' +
    'of email and apiTokenEnv); the export keeps its cursor'
  );
}

/** The accounts to export: ZENDESK_ACCOUNTS_FILE's list, or the one account of ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL. */
export function resolveAccounts(
  account: z.infer<typeof accountEnv> | undefined,
  problems: string[],
): AccountEntry[] | undefined {
  if (!account) return undefined;
  if (account.ZENDESK_ACCOUNTS_FILE) {
    if (account.ZENDESK_SUBDOMAIN || account.ZENDESK_BASE_URL) {
      problems.push('ZENDESK_ACCOUNTS_FILE and ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL: set one or the other, not both');
      return undefined;
    }
    try {
      return readAccountsFile(account.ZENDESK_ACCOUNTS_FILE);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  }
  if (!account.ZENDESK_SUBDOMAIN && !account.ZENDESK_BASE_URL) {
    problems.push('ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL (or ZENDESK_ACCOUNTS_FILE): one of them is required');
    return undefined;
  }
  const baseUrl = account.ZENDESK_BASE_URL ?? `https://${account.ZENDESK_SUBDOMAIN}.zendesk.com`;
  const name = accountFor({ subdomain: account.ZENDESK_SUBDOMAIN, baseUrl: account.ZENDESK_BASE_URL });
  // Its credentials are the worker's business (singleAccountAuth): the CLI needs none.
  return [{ account: name, baseUrl, exportOverrides: {} }];
}

/**
 * The single account's way to sign in, chosen by which variables are set: exactly one of OAuth client credentials,
 * a pre-issued OAuth access token or an API token. Every problem is named; no value is ever repeated.
 */
export function singleAccountAuth(
  credentials: z.infer<typeof credentialsEnv>,
  oauth: z.infer<typeof oauthEnv> | undefined,
  env: Env,
  problems: string[],
): AuthSource | undefined {
  type Variable = keyof typeof credentials;
  const password = credentials.ZENDESK_PASSWORD !== undefined;
  // With ZENDESK_PASSWORD, a lone ZENDESK_EMAIL is the rest of the old password setup, not half an API token.
  const isSet = (name: Variable) =>
    credentials[name] !== undefined &&
    !(password && name === 'ZENDESK_EMAIL' && credentials.ZENDESK_API_TOKEN === undefined);
  const modes = Object.entries(ENV_MODES) as [ZendeskAuthMode, (typeof ENV_MODES)[ZendeskAuthMode]][];
  const given = modes
    .map(([mode, { what, variables }]) => ({ mode, what, set: variables.filter(isSet) }))
    .filter((m) => m.set.length > 0);
  const before = problems.length;
  // ZENDESK_PASSWORD alone: its own message (loadWorkerConfig) already says what to set instead.
  if (given.length === 0 && !password) {
    problems.push(
      `${modes.map(([, m]) => m.variables.join(' and ')).join(', or ')}: one way for the worker to sign in is ` +
        `required: ${modes.map(([, m]) => m.what + m.note).join(', or ')}`,
    );
  }
  if (given.length > 1) {
    problems.push(
      `${given.map((m) => m.set.join('/')).join(' and ')}: ${given.length} ways to sign in are set ` +
        `(${given.map((m) => m.what).join(', ')}); set exactly one`,
    );
  }
  // Read as set or not from env: a malformed value is its own problem, and this one is reported with it.
  const tuning = ['ZENDESK_OAUTH_SCOPE', 'ZENDESK_OAUTH_TOKEN_TTL_SECONDS'].filter((name) => env[name]?.trim());
  if (tuning.length > 0 && !given.some((m) => m.mode === 'oauth_client_credentials')) {
    problems.push(
      `${tuning.join(' and ')}: only for OAuth client credentials (ZENDESK_OAUTH_CLIENT_ID and ` +
        'ZENDESK_OAUTH_CLIENT_SECRET), which are not set',
    );
  }
  if (problems.length > before || given.length !== 1) return undefined;
  /** Both variables of a pair, or the missing one named. */
  const both = (a: Variable, b: Variable, what: string): boolean => {
    if (!isSet(a)) problems.push(`${a}: required with ${b} (${what})`);
    if (!isSet(b)) problems.push(`${b}: required with ${a} (${what})`);
    return problems.length === before;
  };
  switch (given[0].mode) {
    case 'oauth_client_credentials':
      if (!both('ZENDESK_OAUTH_CLIENT_ID', 'ZENDESK_OAUTH_CLIENT_SECRET', 'OAuth client credentials')) return undefined;
      return {
        mode: 'oauth_client_credentials',
        clientIdEnv: 'ZENDESK_OAUTH_CLIENT_ID',
        clientSecretEnv: 'ZENDESK_OAUTH_CLIENT_SECRET',
        scope: oauth?.ZENDESK_OAUTH_SCOPE ?? DEFAULT_OAUTH_SCOPE,
        tokenTtlSeconds: oauth?.ZENDESK_OAUTH_TOKEN_TTL_SECONDS ?? DEFAULT_OAUTH_TOKEN_TTL_SECONDS,
      };
    case 'oauth_access_token':
      return { mode: 'oauth_access_token', accessTokenEnv: 'ZENDESK_OAUTH_ACCESS_TOKEN' };
    case 'api_token':
      if (!both('ZENDESK_EMAIL', 'ZENDESK_API_TOKEN', 'the admin user and its API token')) return undefined;
      return { mode: 'api_token', emailEnv: 'ZENDESK_EMAIL', apiTokenEnv: 'ZENDESK_API_TOKEN' };
  }
}
