import { z } from 'zod';
import {
  AccountEntry,
  AuthSource,
  credentialsFor,
  oauthScope,
  passwordRefusal,
  plainHttpProblem,
  readAccountsFile,
  TTL_MESSAGE,
  validTokenTtl,
} from './accounts-file';
import { isLoopbackHost } from './loopback';
import { defaultMinStartAgeSeconds, EXPORT_DEFAULTS, OPERATOR_RANGES } from './workflows/settings';
import { EncryptionSettings, encryptionProblems, readEncryptionSettings } from './codec/encryption-keys';
import { DEFAULT_POSTGRES_TIMEOUTS, PostgresTimeouts } from './storage/postgres-timeouts';
import { ConfigError } from './config-error';
import {
  connectionProblems,
  connectionSettingsFrom,
  flag,
  TemporalConnectionEnv,
  TemporalConnectionSettings,
  temporalConnectionEnv,
} from './temporal-connection';
import { loadTemporalProfile } from './temporal-profile';
import { accountFor, DEFAULT_TASK_QUEUE, EXPORT_APIS, ExportApi } from './shared';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from './zendesk/limits';
import {
  API_TOKEN_END_DATE,
  DEFAULT_OAUTH_SCOPE,
  DEFAULT_OAUTH_TOKEN_TTL_SECONDS,
  ZendeskAuth,
  ZendeskAuthMode,
} from './zendesk/auth';

export { ConfigError };

type Env = Record<string, string | undefined>;

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const url = new URL(v);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL such as https://acme.zendesk.com')
  .transform((v) => v.replace(/\/+$/, ''));

const subdomain = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]*$/i, 'must be a Zendesk subdomain such as "acme" (for acme.zendesk.com)');

/** A plain decimal >= min (no `0x10`, `1e1` or empty text), or undefined: the CLI's flags follow the same rule. */
export function readDecimal(text: string, min: number): number | undefined {
  const n = Number(text);
  return /^\d+(\.\d+)?$/.test(text) && n >= min ? n : undefined;
}

function numberOf(unit: string, min: number) {
  return z
    .string()
    .trim()
    .transform((v, ctx) => {
      const n = readDecimal(v, min);
      if (n === undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a number of ${unit} >= ${min}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });
}

function seconds(defaultValue: number, { min }: { min: number }) {
  return z.string().default(String(defaultValue)).pipe(numberOf('seconds', min));
}

const epochSeconds = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be a whole number of epoch seconds >= 0, got "${v}"`,
      });
      return z.NEVER;
    }
    if (n > Date.now() / 1000) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must not be in the future, got ${v}` });
      return z.NEVER;
    }
    return n;
  });

// Unset: the profile's value (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), else 127.0.0.1:7233 and default.
const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().trim().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default(DEFAULT_TASK_QUEUE),
  TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: flag,
});

const accountEnv = z.object({
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
const zendeskHttpEnv = z.object({
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

const port = z
  .string()
  .trim()
  .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535, 'must be a port number (1-65535)')
  .transform(Number);

const metricsEnv = z.object({
  METRICS_PORT: port.optional(),
  METRICS_HOST: z.string().trim().default('0.0.0.0'),
});

/** The single account's credentials (worker only): exactly one way to sign in, see singleAccountAuth. */
const credentialsEnv = z.object({
  ZENDESK_OAUTH_CLIENT_ID: optionalText,
  ZENDESK_OAUTH_CLIENT_SECRET: optionalText,
  ZENDESK_OAUTH_ACCESS_TOKEN: optionalText,
  ZENDESK_EMAIL: optionalText,
  ZENDESK_API_TOKEN: optionalText,
  ZENDESK_PASSWORD: optionalText,
});

/** The client credentials grant's settings; parsed apart so that a bad value does not hide a missing credential. */
const oauthEnv = z.object({
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

const ENV_CLIENT_VARIABLES = { clientId: 'ZENDESK_OAUTH_CLIENT_ID', clientSecret: 'ZENDESK_OAUTH_CLIENT_SECRET' };

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

const exportEnv = z.object({
  EXPORT_START_TIME: epochSeconds.optional(),
  EXPORT_POLL_INTERVAL_SECONDS: seconds(EXPORT_DEFAULTS.pollIntervalSeconds, OPERATOR_RANGES.pollIntervalSeconds),
  EXPORT_MIN_START_AGE_SECONDS: numberOf('seconds', OPERATOR_RANGES.minStartAgeSeconds.min).optional(),
  ZENDESK_EXPORT_API: z
    .enum(EXPORT_APIS, { errorMap: () => ({ message: `must be one of ${EXPORT_APIS.join(', ')}` }) })
    .default('exports'),
  EXPORT_REQUESTS_PER_MINUTE: z
    .string()
    .default(String(EXPORT_DEFAULTS.requestsPerMinute))
    .pipe(numberOf('requests per minute', OPERATOR_RANGES.requestsPerMinute.min)),
  EXPORT_PER_PAGE: z
    .string()
    .trim()
    .default(String(EXPORT_DEFAULTS.perPage))
    .refine(
      (v) => /^\d+$/.test(v) && Number(v) >= OPERATOR_RANGES.perPage.min && Number(v) <= OPERATOR_RANGES.perPage.max,
      `must be a whole number from ${OPERATOR_RANGES.perPage.min} to ${OPERATOR_RANGES.perPage.max}`,
    )
    .transform(Number),
});

const sinkEnv = z.object({
  SINK_URL: z
    .string()
    .trim()
    .default('sqlite:.data/tickets.db')
    .refine((v) => /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(v), {
      message: 'must start with sqlite: (e.g. sqlite:.data/tickets.db) or postgres://',
    }),
  ZENDESK_TIMEOUT_SECONDS: seconds(60, { min: 1 }),
  // A ticket dated further past the answer's Date header is set aside; no cursor passes the answer's time anyway.
  ZENDESK_CLOCK_TOLERANCE_SECONDS: seconds(DEFAULT_CLOCK_TOLERANCE_SECONDS, { min: 0 }),
  // PostgreSQL only (src/storage/postgres.ts, PostgresTimeouts); 0: no limit.
  SINK_CONNECT_TIMEOUT_SECONDS: seconds(DEFAULT_POSTGRES_TIMEOUTS.connectSeconds, { min: 0 }),
  SINK_STATEMENT_TIMEOUT_SECONDS: seconds(DEFAULT_POSTGRES_TIMEOUTS.statementSeconds, { min: 0 }),
  SINK_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: seconds(DEFAULT_POSTGRES_TIMEOUTS.idleInTransactionSeconds, { min: 0 }),
  SINK_KEEPALIVE_SECONDS: seconds(DEFAULT_POSTGRES_TIMEOUTS.keepAliveSeconds, { min: 0 }),
  BLOB_RETENTION_DAYS: z.string().default('7').pipe(numberOf('days', 1)),
  CODEC_SERVER_PORT: z
    .string()
    .trim()
    .default('8234')
    .refine((v) => v === 'off' || (/^\d+$/.test(v) && Number(v) <= 65535), 'must be a port number or "off"')
    .transform((v) => (v === 'off' ? undefined : Number(v))),
  // Loopback by default: the endpoint hands out decoded tickets. Anywhere else (0.0.0.0 in a container) needs a token.
  CODEC_SERVER_HOST: z.string().trim().default('127.0.0.1'),
  CODEC_SERVER_TOKEN: z
    .string()
    .trim()
    .min(16, 'must be at least 16 characters (e.g. the output of openssl rand -hex 32)')
    .regex(/^\S+$/, 'must not contain spaces')
    .optional(),
  CODEC_SERVER_UNAUTHENTICATED: z
    .enum(['allow'], { errorMap: () => ({ message: 'must be "allow" when set' }) })
    .optional(),
  CODEC_SERVER_CORS_ORIGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine((origins) => origins.length > 0 && origins.every(isOrigin), {
      message: 'must be a comma-separated list of origins such as https://temporal.example.com (no path, no *)',
    })
    .optional(),
});

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/** The codec endpoint serves decoded tickets: off loopback, only to callers with the token. */
function codecServerProblems(sink: z.infer<typeof sinkEnv>): string[] {
  if (sink.CODEC_SERVER_PORT === undefined || sink.CODEC_SERVER_TOKEN || isLoopbackHost(sink.CODEC_SERVER_HOST)) {
    return [];
  }
  // A container's interface behind a port published on the host's loopback (compose): said on purpose, and logged.
  if (sink.CODEC_SERVER_UNAUTHENTICATED === 'allow') return [];
  return [
    `CODEC_SERVER_TOKEN: required when CODEC_SERVER_HOST (${sink.CODEC_SERVER_HOST}) is not a loopback address, ` +
      'since the codec endpoint serves decoded tickets (or set CODEC_SERVER_PORT=off, or ' +
      'CODEC_SERVER_UNAUTHENTICATED=allow where only a loopback-published port reaches it)',
  ];
}

/** Where Temporal is and how to reach it (TLS, API key): the same for the worker and the client. */
export interface TemporalSettings extends TemporalConnectionSettings {
  namespace: string;
  taskQueue: string;
  /** Add missing search attributes to the namespace; undefined: only on a loopback server (a dev server). */
  registerSearchAttributes?: boolean;
}

export interface ZendeskSettings {
  account: string;
  baseUrl: string;
  /** How the worker signs in: OAuth client credentials, a pre-issued OAuth token, or an API token. */
  auth: ZendeskAuth;
  timeoutMs: number;
  /** ZENDESK_CLOCK_TOLERANCE_SECONDS: how far past the answer's Date header a ticket may be dated. */
  clockToleranceSeconds?: number;
  /** ZENDESK_HTTPS_PROXY: https calls tunnel through this proxy (CONNECT); undefined: direct, whatever HTTP(S)_PROXY say. */
  httpsProxy?: string;
}

export interface WorkerConfig {
  temporal: TemporalSettings;
  /** Every account this worker exports, with its credentials: one from ZENDESK_*, or ZENDESK_ACCOUNTS_FILE's list. */
  accounts: ZendeskSettings[];
  /** The Prometheus endpoint (SDK and exporter metrics); undefined: off. */
  metrics?: { host: string; port: number };
  sinkUrl: string;
  /** How long the PostgreSQL sink and blob store wait on the database (SINK_*_SECONDS); undefined: the defaults. */
  sinkTimeouts?: PostgresTimeouts;
  /** The payload encryption keys; undefined: none (a worker built by tests, on a loopback server). */
  encryption?: EncryptionSettings;
  /** Claim-checked payloads are purged this long after they were stored. */
  blobRetentionDays: number;
  /** The Web UI's remote codec endpoint, served by the worker; undefined: off. */
  codecServerPort?: number;
  codecServerHost?: string;
  /** Bearer token the codec endpoint requires; required when its host is not loopback. */
  codecServerToken?: string;
  /** CODEC_SERVER_UNAUTHENTICATED=allow: off loopback without a token, said on purpose (a container, a local port). */
  codecServerUnauthenticated?: boolean;
  /** Browser origins allowed to call it; undefined: http://localhost:* and http://127.0.0.1:*. */
  codecServerCorsOrigins?: string[];
}

/** The Web UI's codec endpoint run on its own (npm run codec-server; compose's `codec` service), without a worker. */
export interface CodecServerConfig {
  /** Its claim-check blobs live next to the sink: the same SINK_URL as the workers'. */
  sinkUrl: string;
  sinkTimeouts: PostgresTimeouts;
  /** The workers' keys: it decodes what they encrypted. */
  encryption: EncryptionSettings;
  port: number;
  host: string;
  token?: string;
  allowUnauthenticated?: boolean;
  allowedOrigins?: string[];
}

export interface ExportDefaults {
  api: ExportApi;
  requestsPerMinute: number;
  perPage: number;
  startTime?: number;
  pollIntervalSeconds: number;
  minStartAgeSeconds: number;
}

export interface ClientAccount {
  account: string;
  baseUrl: string;
  exportDefaults: ExportDefaults;
}

export interface ClientConfig {
  temporal: TemporalSettings;
  /** The same keys as the worker's: the CLI encodes what it sends and decodes what it reads with them. */
  encryption: EncryptionSettings;
  accounts: ClientAccount[];
  /** Whether the accounts come from ZENDESK_ACCOUNTS_FILE (a list) or from ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL. */
  accountsFile?: string;
}

function describe(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
}

/** Parses every schema against env and collects all problems before throwing. */
function parseAll<T extends Record<string, z.ZodTypeAny>>(
  env: Env,
  schemas: T,
): { values: { [K in keyof T]: z.infer<T[K]> }; problems: string[] } {
  const problems: string[] = [];
  const values = {} as { [K in keyof T]: z.infer<T[K]> };
  // An empty variable (VAR= or compose's ${VAR:-}) means "not set".
  env = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  for (const key of Object.keys(schemas) as (keyof T)[]) {
    const result = schemas[key].safeParse(env);
    if (result.success) values[key] = result.data;
    else problems.push(...describe(result.error));
  }
  return { values, problems };
}

/** The accounts to export: ZENDESK_ACCOUNTS_FILE's list, or the one account of ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL. */
function resolveAccounts(
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
function singleAccountAuth(
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

/**
 * Where Temporal is and how to reach it: each TEMPORAL_* variable over the config-file profile's value, with every
 * problem of them. Undefined: a problem leaves even the address unknown. Used only if `problems` stays empty.
 */
function temporalSettings(
  env: Env,
  temporal: z.infer<typeof temporalEnv> | undefined,
  connection: TemporalConnectionEnv | undefined,
  problems: string[],
): TemporalSettings | undefined {
  const loaded = loadTemporalProfile(env);
  problems.push(...loaded.problems);
  if (!temporal || loaded.problems.length > 0) return undefined;
  const { profile } = loaded;
  const settings: TemporalSettings = {
    // With a bad TLS variable (already a problem), still the address, for the checks that depend on it.
    ...connectionSettingsFrom(temporal.TEMPORAL_ADDRESS, connection ?? {}, profile),
    namespace: temporal.TEMPORAL_NAMESPACE ?? profile?.values.namespace ?? 'default',
    taskQueue: temporal.TEMPORAL_TASK_QUEUE,
    ...(temporal.TEMPORAL_REGISTER_SEARCH_ATTRIBUTES !== undefined && {
      registerSearchAttributes: temporal.TEMPORAL_REGISTER_SEARCH_ATTRIBUTES,
    }),
  };
  if (connection) problems.push(...connectionProblems(settings));
  return settings;
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const { values, problems } = parseAll(env, {
    temporal: temporalEnv,
    connection: temporalConnectionEnv,
    account: accountEnv,
    credentials: credentialsEnv,
    oauth: oauthEnv,
    sink: sinkEnv,
    metrics: metricsEnv,
    zendeskHttp: zendeskHttpEnv,
  });
  const temporal = temporalSettings(env, values.temporal, values.connection, problems);
  if (values.sink) problems.push(...codecServerProblems(values.sink));
  const encryption = readEncryptionSettings(env, problems);
  if (temporal) problems.push(...encryptionProblems(encryption, temporal.address));
  const entries = resolveAccounts(values.account, problems) ?? [];
  const fromFile = Boolean(values.account?.ZENDESK_ACCOUNTS_FILE);
  const credentials = values.credentials;
  // Refused with or without an accounts file: it is what a setup from before 2026 still sets.
  if (credentials?.ZENDESK_PASSWORD) problems.push(`ZENDESK_PASSWORD: ${passwordRefusal(ENV_CLIENT_VARIABLES)}`);
  // The single account's credentials, checked even when the account itself is missing or malformed.
  const single = !fromFile && credentials ? singleAccountAuth(credentials, values.oauth, env, problems) : undefined;
  const accounts: ZendeskSettings[] = [];
  for (const entry of entries) {
    const auth = fromFile
      ? credentialsFor(entry, env, problems)
      : single && credentialsFor({ ...entry, auth: single }, env, []);
    if (!auth || !values.sink) continue;
    accounts.push({
      account: entry.account,
      baseUrl: entry.baseUrl,
      auth,
      timeoutMs: values.sink.ZENDESK_TIMEOUT_SECONDS * 1000,
      clockToleranceSeconds: values.sink.ZENDESK_CLOCK_TOLERANCE_SECONDS,
      ...(values.zendeskHttp?.ZENDESK_HTTPS_PROXY !== undefined && {
        httpsProxy: values.zendeskHttp.ZENDESK_HTTPS_PROXY,
      }),
    });
  }
  if (problems.length > 0 || !temporal) throw new ConfigError(problems);
  return {
    temporal,
    accounts,
    sinkUrl: values.sink.SINK_URL,
    sinkTimeouts: sinkTimeoutsOf(values.sink),
    encryption,
    blobRetentionDays: values.sink.BLOB_RETENTION_DAYS,
    codecServerPort: values.sink.CODEC_SERVER_PORT,
    codecServerHost: values.sink.CODEC_SERVER_HOST,
    codecServerToken: values.sink.CODEC_SERVER_TOKEN,
    codecServerUnauthenticated: values.sink.CODEC_SERVER_UNAUTHENTICATED === 'allow' ? true : undefined,
    codecServerCorsOrigins: values.sink.CODEC_SERVER_CORS_ORIGINS,
    metrics:
      values.metrics.METRICS_PORT !== undefined
        ? { host: values.metrics.METRICS_HOST, port: values.metrics.METRICS_PORT }
        : undefined,
  };
}

/** SINK_URL, PAYLOAD_ENCRYPTION_* and CODEC_SERVER_*: what the codec endpoint needs on its own, every problem named. */
export function loadCodecServerConfig(env: Env = process.env): CodecServerConfig {
  const { values, problems } = parseAll(env, { sink: sinkEnv });
  if (values.sink) {
    problems.push(...codecServerProblems(values.sink));
    if (values.sink.CODEC_SERVER_PORT === undefined) {
      problems.push('CODEC_SERVER_PORT: "off" leaves the codec server nothing to do; give it a port (default 8234)');
    }
  }
  const encryption = readEncryptionSettings(env, problems);
  const sink = values.sink;
  if (problems.length > 0 || sink?.CODEC_SERVER_PORT === undefined) throw new ConfigError(problems);
  return {
    sinkUrl: sink.SINK_URL,
    sinkTimeouts: sinkTimeoutsOf(sink),
    encryption,
    port: sink.CODEC_SERVER_PORT,
    host: sink.CODEC_SERVER_HOST,
    token: sink.CODEC_SERVER_TOKEN,
    allowUnauthenticated: sink.CODEC_SERVER_UNAUTHENTICATED === 'allow' ? true : undefined,
    allowedOrigins: sink.CODEC_SERVER_CORS_ORIGINS,
  };
}

function sinkTimeoutsOf(sink: z.infer<typeof sinkEnv>): PostgresTimeouts {
  return {
    connectSeconds: sink.SINK_CONNECT_TIMEOUT_SECONDS,
    statementSeconds: sink.SINK_STATEMENT_TIMEOUT_SECONDS,
    idleInTransactionSeconds: sink.SINK_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS,
    keepAliveSeconds: sink.SINK_KEEPALIVE_SECONDS,
  };
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const { values, problems } = parseAll(env, {
    temporal: temporalEnv,
    connection: temporalConnectionEnv,
    account: accountEnv,
    export: exportEnv,
  });
  const temporal = temporalSettings(env, values.temporal, values.connection, problems);
  const encryption = readEncryptionSettings(env, problems);
  if (temporal) problems.push(...encryptionProblems(encryption, temporal.address));
  const entries = resolveAccounts(values.account, problems);
  if (problems.length > 0 || !entries || !temporal) throw new ConfigError(problems);
  const defaults = values.export;
  return {
    temporal,
    encryption,
    accountsFile: values.account.ZENDESK_ACCOUNTS_FILE,
    accounts: entries.map((entry) => {
      const o = entry.exportOverrides;
      const api = o.api ?? defaults.ZENDESK_EXPORT_API;
      return {
        account: entry.account,
        baseUrl: entry.baseUrl,
        exportDefaults: {
          api,
          startTime: o.startTime ?? defaults.EXPORT_START_TIME,
          pollIntervalSeconds: o.pollIntervalSeconds ?? defaults.EXPORT_POLL_INTERVAL_SECONDS,
          // The incremental endpoints accept a start_time one minute old; the specified one, five.
          minStartAgeSeconds:
            o.minStartAgeSeconds ?? defaults.EXPORT_MIN_START_AGE_SECONDS ?? defaultMinStartAgeSeconds(api),
          requestsPerMinute: o.requestsPerMinute ?? defaults.EXPORT_REQUESTS_PER_MINUTE,
          perPage: o.perPage ?? defaults.EXPORT_PER_PAGE,
        },
      };
    }),
  };
}
