import { z } from 'zod';
import { credentialsFor, passwordRefusal } from './account-credentials';
import { defaultMinStartAgeSeconds } from '../workflows/settings';
import { encryptionProblems, readEncryptionSettings } from '../codec/encryption-keys';
import { ConfigError } from './config-error';
import { defaultExportApi } from './export-api';
import { temporalConnectionEnv } from './temporal-connection';
import {
  codecServerProblems,
  exportEnv,
  loggingEnv,
  metricsEnv,
  sinkEnv,
  sinkOptionsOf,
  sinkTimeoutsOf,
  temporalEnv,
  temporalSettings,
} from './service-env';
import type { AccountEntry } from './accounts-file';
import { ClientConfig, CodecServerConfig, WorkerConfig, ZendeskSettings } from './settings';
import { Env, parseAll } from './values';
import { readTelemetrySettings } from '../telemetry/otlp-env';
import {
  ENV_CLIENT_VARIABLES,
  accountEnv,
  credentialsEnv,
  oauthEnv,
  resolveAccounts,
  singleAccountAuth,
  zendeskHttpEnv,
} from './zendesk-env';

// The loaders: the environment (and the files it names) read once at start, every problem named in one error.

/**
 * What the worker and the CLI both read: Temporal (variables over the profile), the payload keys (required off
 * loopback) and the accounts, with the schemas each adds. Every problem lands in `problems`.
 */
function readShared<T extends Record<string, z.ZodTypeAny>>(env: Env, extra: T) {
  const { values, problems } = parseAll(env, {
    temporal: temporalEnv,
    connection: temporalConnectionEnv,
    account: accountEnv,
    ...extra,
  });
  const temporal = temporalSettings(env, values.temporal, values.connection, problems);
  const encryption = readEncryptionSettings(env, problems);
  if (temporal) problems.push(...encryptionProblems(encryption, temporal.address));
  const entries = resolveAccounts(values.account, problems);
  return { values, problems, temporal, encryption, entries };
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const {
    values,
    problems,
    temporal,
    encryption,
    entries = [],
  } = readShared(env, {
    credentials: credentialsEnv,
    oauth: oauthEnv,
    sink: sinkEnv,
    metrics: metricsEnv,
    logging: loggingEnv,
    zendeskHttp: zendeskHttpEnv,
  });
  if (values.sink) problems.push(...codecServerProblems(values.sink));
  const telemetry = readTelemetrySettings(env, values.metrics?.METRICS_PORT !== undefined);
  problems.push(...telemetry.problems);
  const accounts = zendeskSettingsOf({ ...values, calls: values.sink }, entries, env, problems);
  if (problems.length > 0 || !temporal) throw new ConfigError(problems);
  return {
    temporal,
    accounts,
    sinkUrl: values.sink.SINK_URL,
    sinkTimeouts: sinkTimeoutsOf(values.sink),
    sinkOptions: sinkOptionsOf(values.sink),
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
    logging: { format: values.logging.LOG_FORMAT, level: values.logging.LOG_LEVEL },
    ...((telemetry.settings.traces || telemetry.settings.metrics) && { telemetry: telemetry.settings }),
  };
}

/** The variables a call to Zendesk reads, as parsed (a schema that failed leaves its part undefined). */
interface ZendeskValues {
  account?: z.infer<typeof accountEnv>;
  credentials?: z.infer<typeof credentialsEnv>;
  oauth?: z.infer<typeof oauthEnv>;
  calls?: Pick<z.infer<typeof sinkEnv>, 'ZENDESK_TIMEOUT_SECONDS' | 'ZENDESK_CLOCK_TOLERANCE_SECONDS'>;
  zendeskHttp?: z.infer<typeof zendeskHttpEnv>;
}

/** Each account's way to Zendesk: its credentials (from the environment), timeouts and proxy; every problem named. */
function zendeskSettingsOf(values: ZendeskValues, entries: AccountEntry[], env: Env, problems: string[]) {
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
    if (!auth || !values.calls) continue;
    accounts.push({
      account: entry.account,
      baseUrl: entry.baseUrl,
      auth,
      timeoutMs: values.calls.ZENDESK_TIMEOUT_SECONDS * 1000,
      clockToleranceSeconds: values.calls.ZENDESK_CLOCK_TOLERANCE_SECONDS,
      ...(values.zendeskHttp?.ZENDESK_HTTPS_PROXY !== undefined && {
        httpsProxy: values.zendeskHttp.ZENDESK_HTTPS_PROXY,
      }),
    });
  }
  return accounts;
}

/**
 * Only what a call to each account's Zendesk needs, read as the worker and `check` read it (credentials,
 * ZENDESK_TIMEOUT_SECONDS, ZENDESK_CLOCK_TOLERANCE_SECONDS, ZENDESK_HTTPS_PROXY), without the rest of the worker's
 * settings: `start` asks Zendesk for an account's ticket count with it. Every problem is named in one ConfigError.
 */
export function loadZendeskSettings(env: Env = process.env): ZendeskSettings[] {
  const { values, problems } = parseAll(env, {
    account: accountEnv,
    credentials: credentialsEnv,
    oauth: oauthEnv,
    calls: sinkEnv.pick({ ZENDESK_TIMEOUT_SECONDS: true, ZENDESK_CLOCK_TOLERANCE_SECONDS: true }),
    zendeskHttp: zendeskHttpEnv,
  });
  const accounts = zendeskSettingsOf(values, resolveAccounts(values.account, problems) ?? [], env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return accounts;
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

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const { values, problems, temporal, encryption, entries } = readShared(env, { export: exportEnv });
  if (problems.length > 0 || !entries || !temporal) throw new ConfigError(problems);
  const defaults = values.export;
  return {
    temporal,
    encryption,
    accountsFile: values.account.ZENDESK_ACCOUNTS_FILE,
    accounts: entries.map((entry) => {
      const o = entry.exportOverrides;
      // The accounts file's `api`, else ZENDESK_EXPORT_API, else the account's host decides.
      const api = o.api ?? defaults.ZENDESK_EXPORT_API ?? defaultExportApi(entry.baseUrl);
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
          streams: o.streams ?? defaults.EXPORT_STREAMS,
          usersRequestsPerMinute: o.usersRequestsPerMinute ?? defaults.EXPORT_USERS_REQUESTS_PER_MINUTE,
          accountRequestsPerMinute: o.accountRequestsPerMinute ?? defaults.EXPORT_ACCOUNT_REQUESTS_PER_MINUTE,
          referenceRefreshSeconds: o.referenceRefreshSeconds ?? defaults.EXPORT_REFERENCE_REFRESH,
          supportTypeScope: o.supportTypeScope ?? defaults.EXPORT_SUPPORT_TYPE_SCOPE,
        },
      };
    }),
  };
}
