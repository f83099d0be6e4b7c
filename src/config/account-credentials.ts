import { z } from 'zod';
import { isLoopback } from './temporal-connection';
import { OAUTH_TOKEN_TTL_RANGE, ZendeskAuth } from '../zendesk/auth';
import { AccountEntry, ParsedEntry } from './accounts-file';

// The credentials an account signs in with: the variables an accounts-file entry may name, and their values.

/**
 * Where the worker finds an account's credentials: exactly one way to sign in, its secrets as the names of
 * environment variables (a client id and an email are not secrets and may be written as they are).
 */
export type AuthSource =
  | {
      mode: 'oauth_client_credentials';
      clientId?: string;
      clientIdEnv?: string;
      clientSecretEnv: string;
      scope: string;
      tokenTtlSeconds: number;
    }
  | { mode: 'oauth_access_token'; accessTokenEnv: string }
  | { mode: 'api_token'; email?: string; emailEnv?: string; apiTokenEnv: string };

/** Why passwords are refused, and what to do instead (the accounts file's and the environment's words). */
export function passwordRefusal(variables: { clientId: string; clientSecret: string }): string {
  return (
    'Zendesk removed password access to its API on 2025-12-31; create an OAuth client (Admin Center → Apps and ' +
    `integrations → APIs → OAuth clients, kind confidential) and set ${variables.clientId} and ${variables.clientSecret}`
  );
}

export const FILE_CLIENT_VARIABLES = { clientId: 'oauthClientIdEnv', clientSecret: 'oauthClientSecretEnv' };

/**
 * Variables this process (and the pg driver) reads for other purposes: never a Zendesk credential, or an accounts file
 * could send the Temporal API key or TLS key, the sink's password or the payload key to the host it names. Said first,
 * with a message of its own, before the prefix rule (which refuses them too).
 */
const OWN_SETTINGS = new RegExp(
  '^(TEMPORAL_.*|SINK_.*|PAYLOAD_ENCRYPTION(_.*)?|CODEC_SERVER_.*|METRICS_.*|EXPORT_.*|BLOB_.*|LOG_LEVEL|LOG_FORMAT|' +
    'WORKFLOW_BUNDLE_PATH|OTEL_.*|ZENDESK_(SUBDOMAIN|BASE_URL|OAUTH_.*|EMAIL|API_TOKEN|PASSWORD|HTTPS_PROXY|ACCOUNTS_FILE|' +
    'TIMEOUT_SECONDS|EXPORT_API)|(HTTPS?|NO|ALL)_PROXY|PG(HOST|HOSTADDR|PORT|DATABASE|USER|PASSWORD|PASSFILE|' +
    'SERVICE|SERVICEFILE|OPTIONS|APPNAME|SSL[A-Z]*|GSS[A-Z]*|KRBSRVNAME|REQUIRE[A-Z]*|CHANNELBINDING|' +
    'CONNECT_TIMEOUT|CLIENTENCODING|TARGETSESSIONATTRS|LOADBALANCEHOSTS|TZ|DATESTYLE|SYSCONFDIR|LOCALEDIR))$',
  'i',
);

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable');

/**
 * The start of every variable an account of the file may name: its name in capitals, each character other than a
 * letter or digit as `_`, a leading `_` if it starts with a digit, then `_ZENDESK_` (`acme` → `ACME_ZENDESK_`,
 * `acme-eu` → `ACME_EU_ZENDESK_`, `127.0.0.1:8089` → `_127_0_0_1_8089_ZENDESK_`).
 */
export function accountVariablePrefix(account: string): string {
  const name = account.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return `${/^[0-9]/.test(name) ? '_' : ''}${name}_ZENDESK_`;
}

/** The fields of an entry that name a variable whose value goes to Zendesk (passwordEnv is refused outright). */
export const VARIABLE_FIELDS = [
  'oauthClientIdEnv',
  'oauthClientSecretEnv',
  'oauthAccessTokenEnv',
  'emailEnv',
  'apiTokenEnv',
] as const;

/**
 * Each account names only variables of its own: they start with its prefix (accountVariablePrefix), and not with the
 * longer prefix of another account of the file; no two accounts share a prefix; none is one of this worker's own
 * settings. So no entry, whoever edits it, can send another account's secret, or the database password, to the base
 * URL it names. Problems name the account, the field and the variable, never a value.
 */
export function variableProblems(parsed: ParsedEntry[], where: string): string[] {
  const problems: string[] = [];
  const named = parsed.filter((p): p is ParsedEntry & { account: string } => p.account !== undefined);
  const owners = new Map<string, string>();
  const shared = new Set<string>();
  for (const { account } of named) {
    const prefix = accountVariablePrefix(account);
    const other = owners.get(prefix);
    if (other === undefined) owners.set(prefix, account);
    else if (other !== account) {
      shared.add(prefix);
      problems.push(
        `${where}: accounts "${other}" and "${account}" would both name variables starting with ${prefix}, so each ` +
          "could read the other's: rename one",
      );
    }
  }
  /** The account whose prefix is the longest that `name` starts with. */
  const ownerOf = (name: string) => {
    let best: [string, string] | undefined;
    for (const [prefix, account] of owners) {
      if (name.startsWith(prefix) && (!best || prefix.length > best[0].length)) best = [prefix, account];
    }
    return best?.[1];
  };
  for (const { where: at, account, variables } of named) {
    const prefix = accountVariablePrefix(account);
    // Whose variable is whose cannot be told until one of them is renamed.
    if (shared.has(prefix)) continue;
    const rule = `the variables an account names start with its name in capitals and _ZENDESK_ (${prefix}…)`;
    for (const { field, name } of variables) {
      const says = `${at}.${field}: account "${account}" names ${name}`;
      if (OWN_SETTINGS.test(name)) {
        problems.push(
          `${says}, one of this worker's own settings, not a Zendesk credential: name a variable of its own (${prefix}…)`,
        );
        continue;
      }
      const owner = ownerOf(name);
      if (owner === account) continue;
      problems.push(`${says}, ${owner ? `a variable of account "${owner}"` : 'not a variable of its own'}: ${rule}`);
    }
  }
  return problems;
}

/**
 * Credentials never travel in plaintext: an http:// base URL is for this machine only (the emulator). The problem,
 * naming the host, or undefined.
 */
export function plainHttpProblem(baseUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || isLoopback(url.host)) return undefined;
  return (
    `http:// would send credentials in plaintext to ${url.hostname}: use https://, or http:// only for a loopback ` +
    'host (127.0.0.1, ::1, localhost)'
  );
}

/** Zendesk's `expires_in` bounds (both exclusive), in whole seconds. */
export function validTokenTtl(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds > OAUTH_TOKEN_TTL_RANGE.above && seconds < OAUTH_TOKEN_TTL_RANGE.below;
}

export const TTL_MESSAGE =
  `must be a whole number of seconds above ${OAUTH_TOKEN_TTL_RANGE.above} and below ` +
  `${OAUTH_TOKEN_TTL_RANGE.below} (the expires_in Zendesk accepts)`;

/** Space-separated OAuth scopes (`read`, `tickets:read users:read`), runs of spaces collapsed. */
export const oauthScope = z
  .string()
  .trim()
  .refine(
    (v) => /^[A-Za-z0-9_.:-]+( +[A-Za-z0-9_.:-]+)*$/.test(v),
    'must be OAuth scopes separated by spaces, such as "read" or "tickets:read users:read"',
  )
  .transform((v) => v.split(/ +/).join(' '));

/** The worker's side: the credentials an entry names, taken from the worker's environment. */
export function credentialsFor(
  entry: AccountEntry,
  env: Record<string, string | undefined>,
  problems: string[],
): ZendeskAuth | undefined {
  const source = entry.auth;
  if (!source) {
    problems.push(`account "${entry.account}": no way to sign in is configured`);
    return undefined;
  }
  const before = problems.length;
  /** A variable's value; a missing one is named, never a value (these hold secrets). */
  const read = (name: string, missing: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`account "${entry.account}": ${missing}`);
    return value ?? '';
  };
  const secret = (name: string) => read(name, `the credential variable ${name} is not set in this environment`);
  const named = (field: string, name: string) => read(name, `${field} names ${name}, which is not set here`);
  switch (source.mode) {
    case 'oauth_client_credentials': {
      const clientId = source.clientId ?? named('oauthClientIdEnv', source.clientIdEnv!);
      const clientSecret = secret(source.clientSecretEnv);
      if (problems.length > before) return undefined;
      return {
        mode: 'oauth_client_credentials',
        clientId,
        clientSecret,
        scope: source.scope,
        tokenTtlSeconds: source.tokenTtlSeconds,
      };
    }
    case 'oauth_access_token': {
      const accessToken = secret(source.accessTokenEnv);
      if (problems.length > before) return undefined;
      return { mode: 'oauth_access_token', accessToken };
    }
    case 'api_token': {
      const email = source.email ?? named('emailEnv', source.emailEnv!);
      const apiToken = secret(source.apiTokenEnv);
      if (problems.length > before) return undefined;
      return { mode: 'api_token', email, apiToken };
    }
  }
}
