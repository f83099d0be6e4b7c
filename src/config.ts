import { z } from 'zod';
import { ConfigError } from './config-error';
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

function numberOf(unit: string, min: number) {
  return z
    .string()
    .trim()
    .transform((v, ctx) => {
      const n = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v) || n < min) {
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
});

const accountEnv = z.object({
  ZENDESK_SUBDOMAIN: subdomain.optional(),
  ZENDESK_BASE_URL: httpUrl.optional(),
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
});

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
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
  zendesk: ZendeskSettings;
  sinkUrl: string;
  /** Claim-checked payloads are purged this long after they were stored. */
  blobRetentionDays: number;
  /** The Web UI's remote codec endpoint, served by the worker; undefined: off. */
  codecServerPort?: number;
}

export interface ExportDefaults {
  api: ExportApi;
  requestsPerMinute: number;
  perPage: number;
  startTime?: number;
  pollIntervalSeconds: number;
  minStartAgeSeconds: number;
}

export interface ClientConfig {
  temporal: TemporalSettings;
  account: string;
  baseUrl: string;
  exportDefaults: ExportDefaults;
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

function resolveAccount(
  account: z.infer<typeof accountEnv> | undefined,
  problems: string[],
): { account: string; baseUrl: string } | undefined {
  if (!account) return undefined;
  if (!account.ZENDESK_SUBDOMAIN && !account.ZENDESK_BASE_URL) {
    problems.push('ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL: one of them is required');
    return undefined;
  }
  const baseUrl = account.ZENDESK_BASE_URL ?? `https://${account.ZENDESK_SUBDOMAIN}.zendesk.com`;
  return { baseUrl, account: accountFor({ subdomain: account.ZENDESK_SUBDOMAIN, baseUrl: account.ZENDESK_BASE_URL }) };
}

function temporalSettings(env: z.infer<typeof temporalEnv>): TemporalSettings {
  return { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE };
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const { values, problems } = parseAll(env, {
    temporal: temporalEnv,
    account: accountEnv,
    credentials: credentialsEnv,
    sink: sinkEnv,
  });
  const target = resolveAccount(values.account, problems);
  const credentials = values.credentials;
  if (credentials) {
    if (!credentials.ZENDESK_EMAIL) problems.push('ZENDESK_EMAIL: required (the admin user the worker signs in as)');
    if (!credentials.ZENDESK_API_TOKEN && !credentials.ZENDESK_PASSWORD) {
      problems.push('ZENDESK_API_TOKEN or ZENDESK_PASSWORD: one of them is required');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    temporal: temporalSettings(values.temporal),
    zendesk: {
      account: target!.account,
      baseUrl: target!.baseUrl,
      email: credentials.ZENDESK_EMAIL!,
      apiToken: credentials.ZENDESK_API_TOKEN,
      password: credentials.ZENDESK_API_TOKEN ? undefined : credentials.ZENDESK_PASSWORD,
      timeoutMs: values.sink.ZENDESK_TIMEOUT_SECONDS * 1000,
    },
    sinkUrl: values.sink.SINK_URL,
    blobRetentionDays: values.sink.BLOB_RETENTION_DAYS,
    codecServerPort: values.sink.CODEC_SERVER_PORT,
  };
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const { values, problems } = parseAll(env, { temporal: temporalEnv, account: accountEnv, export: exportEnv });
  const target = resolveAccount(values.account, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    temporal: temporalSettings(values.temporal),
    account: target!.account,
    baseUrl: target!.baseUrl,
    exportDefaults: {
      startTime: values.export.EXPORT_START_TIME,
      pollIntervalSeconds: values.export.EXPORT_POLL_INTERVAL_SECONDS,
      // The incremental endpoints accept a start_time one minute old; the specified one, five.
      minStartAgeSeconds:
        values.export.EXPORT_MIN_START_AGE_SECONDS ?? (values.export.ZENDESK_EXPORT_API === 'exports' ? 300 : 60),
      api: values.export.ZENDESK_EXPORT_API,
      requestsPerMinute: values.export.EXPORT_REQUESTS_PER_MINUTE,
      perPage: values.export.EXPORT_PER_PAGE,
    },
  };
}
