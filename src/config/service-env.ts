import { z } from 'zod';
import { isLoopbackHost } from '../common/loopback';
import { EXPORT_DEFAULTS, OPERATOR_RANGES } from '../workflows/settings';
import { DEFAULT_POSTGRES_TIMEOUTS, PostgresTimeouts } from '../storage/postgres-timeouts';
import type { SinkOptions } from '../storage/sink';
import { connectionProblems, connectionSettingsFrom, flag, TemporalConnectionEnv } from './temporal-connection';
import { loadTemporalProfile } from './temporal-profile';
import { DEFAULT_TASK_QUEUE, EXPORT_APIS } from '../shared';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from '../zendesk/limits';
import { STREAMS } from '../streams/names';
import { TemporalSettings } from './settings';
import {
  durationSeconds,
  Env,
  epochSeconds,
  isOrigin,
  numberOf,
  port,
  seconds,
  streamList,
  supportTypeScope,
} from './values';

// The services around the export: Temporal, the sink and its codec endpoint, metrics, and the CLI's export defaults.

// Unset: the profile's value (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), else 127.0.0.1:7233 and default.
export const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().trim().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default(DEFAULT_TASK_QUEUE),
  TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: flag,
});

export const metricsEnv = z.object({
  METRICS_PORT: port.optional(),
  METRICS_HOST: z.string().trim().default('0.0.0.0'),
});

export const LOG_FORMATS = ['text', 'json'] as const;
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export const loggingEnv = z.object({
  LOG_FORMAT: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_FORMATS, { errorMap: () => ({ message: `must be one of ${LOG_FORMATS.join(', ')}` }) }))
    .default('text'),
  LOG_LEVEL: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.enum(LOG_LEVELS, { errorMap: () => ({ message: `must be one of ${LOG_LEVELS.join(', ')}` }) }))
    .default('INFO'),
});

export const exportEnv = z.object({
  EXPORT_START_TIME: epochSeconds.optional(),
  EXPORT_POLL_INTERVAL_SECONDS: seconds(EXPORT_DEFAULTS.pollIntervalSeconds, OPERATOR_RANGES.pollIntervalSeconds),
  EXPORT_MIN_START_AGE_SECONDS: numberOf('seconds', OPERATOR_RANGES.minStartAgeSeconds.min).optional(),
  // Unset: each account's default (defaultExportApi: cursor at https://<subdomain>.zendesk.com, else exports).
  ZENDESK_EXPORT_API: z
    .enum(EXPORT_APIS, { errorMap: () => ({ message: `must be one of ${EXPORT_APIS.join(', ')}` }) })
    .optional(),
  EXPORT_REQUESTS_PER_MINUTE: z
    .string()
    .default(String(EXPORT_DEFAULTS.requestsPerMinute))
    .pipe(numberOf('requests per minute', OPERATOR_RANGES.requestsPerMinute.min)),
  EXPORT_STREAMS: z.string().default(STREAMS.join(',')).transform(streamList),
  EXPORT_USERS_REQUESTS_PER_MINUTE: z
    .string()
    .default(String(EXPORT_DEFAULTS.usersRequestsPerMinute))
    .pipe(numberOf('requests per minute', OPERATOR_RANGES.usersRequestsPerMinute.min)),
  EXPORT_ACCOUNT_REQUESTS_PER_MINUTE: z
    .string()
    .default(String(EXPORT_DEFAULTS.accountRequestsPerMinute))
    .pipe(numberOf('requests per minute', OPERATOR_RANGES.accountRequestsPerMinute.min)),
  EXPORT_REFERENCE_REFRESH: z
    .string()
    .default('1 hour')
    .pipe(durationSeconds(OPERATOR_RANGES.referenceRefreshSeconds.min)),
  EXPORT_SUPPORT_TYPE_SCOPE: supportTypeScope.default('all'),
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

export const sinkEnv = z.object({
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
  // Both sinks: every version of a ticket in ticket_version (src/storage/sink.ts, SinkOptions).
  SINK_TICKET_VERSIONS: z.enum(['on', 'off'], { errorMap: () => ({ message: 'must be "on" or "off"' }) }).default('on'),
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

/** The codec endpoint serves decoded tickets: off loopback, only to callers with the token. */
export function codecServerProblems(sink: z.infer<typeof sinkEnv>): string[] {
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

/**
 * Where Temporal is and how to reach it: each TEMPORAL_* variable over the config-file profile's value, with every
 * problem of them. Undefined: a problem leaves even the address unknown. Used only if `problems` stays empty.
 */
export function temporalSettings(
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

export function sinkOptionsOf(sink: z.infer<typeof sinkEnv>): SinkOptions {
  return { ticketVersions: sink.SINK_TICKET_VERSIONS === 'on' };
}

export function sinkTimeoutsOf(sink: z.infer<typeof sinkEnv>): PostgresTimeouts {
  return {
    connectSeconds: sink.SINK_CONNECT_TIMEOUT_SECONDS,
    statementSeconds: sink.SINK_STATEMENT_TIMEOUT_SECONDS,
    idleInTransactionSeconds: sink.SINK_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS,
    keepAliveSeconds: sink.SINK_KEEPALIVE_SECONDS,
  };
}
