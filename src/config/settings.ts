import type { TelemetrySettings } from '../telemetry/otlp-env';
import type { StreamName, SupportTypeScope } from '../streams/names';
import { EncryptionSettings } from '../codec/encryption-keys';
import { PostgresTimeouts } from '../storage/postgres-timeouts';
import type { SinkOptions } from '../storage/sink';
import { TemporalConnectionSettings } from './temporal-connection';
import { ExportApi } from '../shared';
import { ZendeskAuth } from '../zendesk/auth';

// The settings the loaders hand out: what the worker, the CLI and the codec endpoint run with.

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

export interface LoggingSettings {
  /** `text`: the SDK's default lines, for a terminal; `json`: one JSON object per line, for a log pipeline. */
  format: 'text' | 'json';
  level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

export interface WorkerConfig {
  temporal: TemporalSettings;
  /** Every account this worker exports, with its credentials: one from ZENDESK_*, or ZENDESK_ACCOUNTS_FILE's list. */
  accounts: ZendeskSettings[];
  /** The Prometheus endpoint (SDK and exporter metrics); undefined: off. */
  metrics?: { host: string; port: number };
  /** LOG_FORMAT and LOG_LEVEL: how the worker's log (the SDK's, the workflows', the activities', Core's) is written. */
  logging: LoggingSettings;
  /** OpenTelemetry from the OTEL_* variables: traces and OTLP metrics, each off unless asked for. */
  telemetry?: TelemetrySettings;
  sinkUrl: string;
  /** How long the PostgreSQL sink and blob store wait on the database (SINK_*_SECONDS); undefined: the defaults. */
  sinkTimeouts?: PostgresTimeouts;
  /** How either sink writes (SINK_TICKET_VERSIONS); undefined: the defaults. */
  sinkOptions?: SinkOptions;
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
  /** The streams `start` reads (EXPORT_STREAMS, the accounts file's `streams`): all five by default. */
  streams: StreamName[];
  usersRequestsPerMinute: number;
  /** The account-wide budget (the reference lists): calls per minute. */
  accountRequestsPerMinute: number;
  /** The reference lists are read again this long after a refresh started (seconds). */
  referenceRefreshSeconds: number;
  supportTypeScope: SupportTypeScope;
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
