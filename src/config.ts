import { z } from 'zod';
import { AccountEntry, credentialsFor, readAccountsFile } from './accounts-file';
import { ConfigError } from './config-error';
import {
  connectionSettingsFrom,
  flag,
  TemporalConnectionEnv,
  TemporalConnectionSettings,
  temporalConnectionEnv,
  tlsFileProblems,
} from './temporal-connection';
import { accountFor, DEFAULT_TASK_QUEUE, EXPORT_APIS, ExportApi } from './shared';

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

const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().trim().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default(DEFAULT_TASK_QUEUE),
  TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: flag,
});

const accountEnv = z.object({
  ZENDESK_SUBDOMAIN: subdomain.optional(),
  ZENDESK_BASE_URL: httpUrl.optional(),
  ZENDESK_ACCOUNTS_FILE: z.string().trim().optional(),
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

const credentialsEnv = z.object({
  ZENDESK_EMAIL: optionalText,
  ZENDESK_API_TOKEN: optionalText,
  ZENDESK_PASSWORD: optionalText,
});

const exportEnv = z.object({
  EXPORT_START_TIME: epochSeconds.optional(),
  EXPORT_POLL_INTERVAL_SECONDS: seconds(300, { min: 0.1 }),
  EXPORT_MIN_START_AGE_SECONDS: numberOf('seconds', 0).optional(),
  ZENDESK_EXPORT_API: z
    .enum(EXPORT_APIS, { errorMap: () => ({ message: `must be one of ${EXPORT_APIS.join(', ')}` }) })
    .default('exports'),
  EXPORT_REQUESTS_PER_MINUTE: z.string().default('10').pipe(numberOf('requests per minute', 0.1)),
  EXPORT_PER_PAGE: z
    .string()
    .trim()
    .default('1000')
    .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000, 'must be a whole number from 1 to 1000')
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
  BLOB_RETENTION_DAYS: z.string().default('7').pipe(numberOf('days', 1)),
  CODEC_SERVER_PORT: z
    .string()
    .trim()
    .default('8234')
    .refine((v) => v === 'off' || (/^\d+$/.test(v) && Number(v) <= 65535), 'must be a port number or "off"')
    .transform((v) => (v === 'off' ? undefined : Number(v))),
  // Loopback by default: the endpoint hands out decoded tickets without authentication. 0.0.0.0 in a container.
  CODEC_SERVER_HOST: z.string().trim().default('127.0.0.1'),
});

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
  email: string;
  apiToken?: string;
  password?: string;
  timeoutMs: number;
}

export interface WorkerConfig {
  temporal: TemporalSettings;
  /** Every account this worker exports, with its credentials: one from ZENDESK_*, or ZENDESK_ACCOUNTS_FILE's list. */
  accounts: ZendeskSettings[];
  /** The Prometheus endpoint (SDK and exporter metrics); undefined: off. */
  metrics?: { host: string; port: number };
  sinkUrl: string;
  /** Claim-checked payloads are purged this long after they were stored. */
  blobRetentionDays: number;
  /** The Web UI's remote codec endpoint, served by the worker; undefined: off. */
  codecServerPort?: number;
  codecServerHost?: string;
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
  return [
    {
      account: name,
      baseUrl,
      emailEnv: 'ZENDESK_EMAIL',
      apiTokenEnv: 'ZENDESK_API_TOKEN',
      passwordEnv: 'ZENDESK_PASSWORD',
      exportOverrides: {},
    },
  ];
}

function temporalSettings(env: z.infer<typeof temporalEnv>, connection: TemporalConnectionEnv): TemporalSettings {
  return {
    ...connectionSettingsFrom(env.TEMPORAL_ADDRESS, connection),
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    ...(env.TEMPORAL_REGISTER_SEARCH_ATTRIBUTES !== undefined && {
      registerSearchAttributes: env.TEMPORAL_REGISTER_SEARCH_ATTRIBUTES,
    }),
  };
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const { values, problems } = parseAll(env, {
    temporal: temporalEnv,
    connection: temporalConnectionEnv,
    account: accountEnv,
    credentials: credentialsEnv,
    sink: sinkEnv,
    metrics: metricsEnv,
  });
  if (values.connection) problems.push(...tlsFileProblems(values.connection));
  const entries = resolveAccounts(values.account, problems) ?? [];
  const fromFile = Boolean(values.account?.ZENDESK_ACCOUNTS_FILE);
  const single = values.credentials;
  if (!fromFile && single) {
    // The single account's credentials, checked even when the account itself is missing or malformed.
    if (!single.ZENDESK_EMAIL) problems.push('ZENDESK_EMAIL: required (the admin user the worker signs in as)');
    if (!single.ZENDESK_API_TOKEN && !single.ZENDESK_PASSWORD) {
      problems.push('ZENDESK_API_TOKEN or ZENDESK_PASSWORD: one of them is required');
    }
  }
  const accounts: ZendeskSettings[] = [];
  for (const entry of entries) {
    const credentials = credentialsFor(entry, env, fromFile ? problems : []);
    if (!credentials || !values.sink) continue;
    accounts.push({
      account: entry.account,
      baseUrl: entry.baseUrl,
      ...credentials,
      timeoutMs: values.sink.ZENDESK_TIMEOUT_SECONDS * 1000,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    temporal: temporalSettings(values.temporal, values.connection),
    accounts,
    sinkUrl: values.sink.SINK_URL,
    blobRetentionDays: values.sink.BLOB_RETENTION_DAYS,
    codecServerPort: values.sink.CODEC_SERVER_PORT,
    codecServerHost: values.sink.CODEC_SERVER_HOST,
    metrics:
      values.metrics.METRICS_PORT !== undefined
        ? { host: values.metrics.METRICS_HOST, port: values.metrics.METRICS_PORT }
        : undefined,
  };
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const { values, problems } = parseAll(env, {
    temporal: temporalEnv,
    connection: temporalConnectionEnv,
    account: accountEnv,
    export: exportEnv,
  });
  if (values.connection) problems.push(...tlsFileProblems(values.connection));
  const entries = resolveAccounts(values.account, problems);
  if (problems.length > 0 || !entries) throw new ConfigError(problems);
  const defaults = values.export;
  return {
    temporal: temporalSettings(values.temporal, values.connection),
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
            o.minStartAgeSeconds ?? defaults.EXPORT_MIN_START_AGE_SECONDS ?? (api === 'exports' ? 300 : 60),
          requestsPerMinute: o.requestsPerMinute ?? defaults.EXPORT_REQUESTS_PER_MINUTE,
          perPage: o.perPage ?? defaults.EXPORT_PER_PAGE,
        },
      };
    }),
  };
}
