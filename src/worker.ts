import fs from 'node:fs';
import { Client, Connection, ConnectionOptions } from '@temporalio/client';
import { NativeConnection, NativeConnectionOptions, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { BlobStore } from './codec/blob-store';
import { openBlobStore } from './codec/open-blob-store';
import { PageStaging } from './codec/staged-pages';
import { purgeBlobsOfClosedRuns } from './codec/blob-purge';
import { createDataConverter } from './codec/claim-check';
import { describeEncryption, encryptionCodecOf, keyMissingWarnings, letThroughWarnings } from './codec/encryption-keys';
import { PREBUILT_BUNDLE_PATH, WORKFLOW_SOURCES } from './temporal/workflow-bundle';
import { startCodecServer } from './codec/codec-server';
import { apiTokenWarning, ConfigError, loadWorkerConfig, TemporalSettings, WorkerConfig } from './config';
import { errorMessage } from './temporal/error-message';
import { ensureSearchAttributes, mayRegister, reportCheck } from './temporal/search-attributes';
import { openingSink, openSink } from './storage/open';
import { redactUrl } from './common/redact-url';
import { clientConnectionOptions, describeConnection, nativeConnectionOptions } from './config/temporal-connection';
import { TicketSink } from './storage/sink';
import { freePort, MetricsPortServer, startMetricsPort, workerReadiness, WorkerParts } from './health';
import { describeAuth } from './zendesk/auth';
import { describeMetrics, runtimeTelemetry } from './telemetry/runtime-telemetry';
import { startTracing, Tracing } from './telemetry/tracing';
import { ZendeskClient } from './zendesk/client';
import { readServiceArgs } from './cli/service-args';
import { LOG_EVENTS, LogEvent } from './observability/events';
import { writeFatal } from './observability/fatal';
import { configRedaction, LogRedaction } from './observability/redaction';
import { createLogger, forwardedCoreLogging } from './observability/runtime-logging';

export interface ExportWorkerOptions {
  config: WorkerConfig;
  connection: NativeConnection;
  sink: TicketSink;
  /** Where pages too big for the history wait for persist, and any payload still above 256 KiB after gzip goes. */
  blobStore: BlobStore;
  /** A prebuilt bundle; default: WORKFLOW_BUNDLE_PATH if set, else the one `npm run build` made, else bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Told of each Zendesk client, whose credentials and issued tokens the log is then cleaned of. */
  logRedaction?: LogRedaction;
  /** OpenTelemetry tracing (OTEL_TRACES_EXPORTER=otlp): its interceptors; the workflows are then bundled at start. */
  tracing?: Tracing;
}

export async function createExportWorker({
  config,
  connection,
  sink,
  blobStore,
  workflowBundle,
  logRedaction,
  tracing,
}: ExportWorkerOptions) {
  const zendesk = new Map(config.accounts.map((settings) => [settings.account, new ZendeskClient(settings)]));
  for (const client of zendesk.values()) logRedaction?.add((text) => client.redact(text));
  const warnAs = (event: LogEvent) => (message: string, attributes: Record<string, unknown>) =>
    Runtime.instance().logger.warn(message, { ...attributes, event });
  const encryption = encryptionCodecOf(config.encryption, {
    onLetThrough: letThroughWarnings(warnAs(LOG_EVENTS.plaintextPayloadAccepted)),
    onKeyMissing: keyMissingWarnings(warnAs(LOG_EVENTS.encryptionKeyMissing)),
  });
  const staging = new PageStaging(blobStore, encryption);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    // The tracing interceptors run inside the workflow sandbox: a bundle made without them would not trace.
    ...(tracing ? { workflowsPath: WORKFLOW_SOURCES.workflowsPath } : workflowSource(workflowBundle)),
    ...(tracing && { plugins: [tracing.plugin] }),
    activities: createActivities({ zendesk, sink, staging }),
    dataConverter: createDataConverter(blobStore, encryption),
    shutdownGraceTime: '10 seconds',
  });
}

function workflowSource(workflowBundle: ExportWorkerOptions['workflowBundle']) {
  if (workflowBundle) return { workflowBundle };
  if (process.env.WORKFLOW_BUNDLE_PATH) return { workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH } };
  // The installed command's bundle, made by `npm run build` from the same sources; from src/, bundled at start.
  if (fs.existsSync(PREBUILT_BUNDLE_PATH)) return { workflowBundle: { codePath: PREBUILT_BUNDLE_PATH } };
  return { workflowsPath: WORKFLOW_SOURCES.workflowsPath };
}

async function run() {
  let config: WorkerConfig;
  let nativeOptions: NativeConnectionOptions;
  let clientOptions: ConnectionOptions;
  try {
    config = loadWorkerConfig();
    nativeOptions = nativeConnectionOptions(config.temporal);
    clientOptions = clientConnectionOptions(config.temporal);
  } catch (err) {
    if (err instanceof ConfigError) {
      writeFatal(err.message, LOG_EVENTS.configInvalid);
      process.exit(2);
    }
    throw err;
  }
  const logRedaction = configRedaction(config);
  // Core's exporter owns its HTTP server: it listens on a loopback port of its own, and METRICS_PORT is ours
  // (/metrics relayed from it, /healthz, /readyz).
  const coreMetrics = config.metrics ? { host: '127.0.0.1', port: await freePort('127.0.0.1') } : undefined;
  Runtime.install({
    logger: createLogger(config.logging, logRedaction.redact),
    telemetryOptions: {
      logging: forwardedCoreLogging(config.logging),
      ...runtimeTelemetry(coreMetrics, config.telemetry),
    },
  });
  const logger = Runtime.instance().logger;
  try {
    await runWorker(config, clientOptions, nativeOptions, logRedaction, coreMetrics);
  } catch (err) {
    logger.error(errorMessage(err), { event: LOG_EVENTS.workerFailed });
    exitAfterLogs(1);
  }
}

/** The SDK holds log entries back briefly to order them with Core's: they are written before the process exits. */
function exitAfterLogs(code: number): never {
  Runtime.instance().flushLogs();
  process.exit(code);
}

async function runWorker(
  config: WorkerConfig,
  clientOptions: ConnectionOptions,
  nativeOptions: NativeConnectionOptions,
  logRedaction: LogRedaction,
  coreMetrics: { host: string; port: number } | undefined,
) {
  const logger = Runtime.instance().logger;
  const parts: WorkerParts = {};
  const metricsPort = await startWorkerMetricsPort(config, coreMetrics, parts);
  const traces = config.telemetry?.traces;
  const tracing = traces ? startTracing(traces) : undefined;
  if (tracing && process.env.WORKFLOW_BUNDLE_PATH) {
    logger.warn('Tracing: WORKFLOW_BUNDLE_PATH is not used; the workflows are bundled at start with its interceptors');
  }
  const clientConnection = await Connection.connect(clientOptions);
  if (!(await searchAttributesReady(clientConnection, config.temporal))) {
    await clientConnection.close();
    exitAfterLogs(2);
  }
  const sink = await openingSink(config.sinkUrl, () =>
    openSink(config.sinkUrl, config.sinkTimeouts, config.sinkOptions),
  );
  // Payloads too big for history go next to the tickets: the SQLite file, or PostgreSQL that every worker shares.
  const blobStore = await openingSink(config.sinkUrl, () => openBlobStore(config.sinkUrl, config.sinkTimeouts));
  parts.sink = sink;
  const purge = startBlobPurge(
    blobStore,
    new Client({ connection: clientConnection, namespace: config.temporal.namespace }),
    config.blobRetentionDays,
  );
  const codecServer =
    config.codecServerPort !== undefined
      ? await startCodecServer({
          // A payload under a key this worker lacks shows as a marker naming the key, rather than failing the request.
          codecs:
            createDataConverter(blobStore, encryptionCodecOf(config.encryption).withMarkers()).payloadCodecs ?? [],
          port: config.codecServerPort,
          host: config.codecServerHost,
          token: config.codecServerToken,
          allowUnauthenticated: config.codecServerUnauthenticated,
          allowedOrigins: config.codecServerCorsOrigins,
        })
      : undefined;
  if (codecServer) {
    const auth = config.codecServerToken ? 'bearer token' : 'none (loopback only)';
    logger.info('Codec server for the Web UI', { url: codecServer.url, auth });
    if (!config.codecServerToken && config.codecServerUnauthenticated) {
      logger.warn('The codec endpoint serves decoded tickets without a token (CODEC_SERVER_UNAUTHENTICATED=allow)', {
        host: config.codecServerHost,
        event: LOG_EVENTS.codecServerUnauthenticated,
      });
    }
  }
  const connection = await NativeConnection.connect(nativeOptions);
  parts.connection = connection;
  try {
    const worker = await createExportWorker({ config, connection, sink, blobStore, logRedaction, tracing });
    parts.worker = worker;
    logger.info('Worker ready', {
      accounts: config.accounts.map((a) => `${a.account} (${new URL(a.baseUrl).origin})`).join(', '),
      taskQueue: config.temporal.taskQueue,
      temporal: `${describeConnection(config.temporal)}, namespace ${config.temporal.namespace}`,
      sink: redactUrl(config.sinkUrl),
      payloadEncryption: describeEncryption(config.encryption),
      metrics: metricsPort
        ? `${metricsPort.url}/metrics, /healthz, /readyz`
        : describeMetrics(config.metrics, config.telemetry),
      tracing: traces ? `OTLP/HTTP ${traces.url} as ${traces.serviceName}` : 'off',
    });
    const weakened = { event: LOG_EVENTS.payloadEncryptionWeakened };
    if (config.encryption?.off) logger.warn(`Payload encryption: ${describeEncryption(config.encryption)}`, weakened);
    if (config.encryption?.off === false && config.encryption.current && config.encryption.allowPlaintext) {
      logger.warn(
        'Payload encryption: PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true: plaintext payloads, and encrypted ones bound to ' +
          'no workflow, are accepted: anyone who can write to the namespace can send them (signals, activity ' +
          'completions). Remove it once every run has continued as new since the migration',
        weakened,
      );
    }
    // How each account signs in (never a secret), and a warning for those whose API token Zendesk will turn off.
    for (const account of config.accounts) {
      logger.info(`Zendesk account ${account.account}: ${describeAuth(account.auth)}`, { account: account.account });
      if (account.auth.mode === 'api_token') {
        logger.warn(apiTokenWarning(account.account), {
          account: account.account,
          event: LOG_EVENTS.apiTokenDeprecated,
        });
      }
    }
    await worker.run(); // returns after SIGINT/SIGTERM, once in-flight activities finished
  } finally {
    await metricsPort?.close();
    clearInterval(purge);
    await clientConnection.close();
    await codecServer?.close();
    await connection.close();
    await blobStore.close();
    await sink.close();
    await tracing?.shutdown();
  }
}

export { openingSink };

/** The namespace's search attributes, the missing ones registered where the server allows it; false: do not start. */
async function searchAttributesReady(connection: Connection, temporal: TemporalSettings): Promise<boolean> {
  const check = await ensureSearchAttributes(connection, {
    namespace: temporal.namespace,
    register: mayRegister(temporal),
  });
  const report = reportCheck(check);
  const logger = Runtime.instance().logger;
  const event = LOG_EVENTS.searchAttributesMissing;
  if (report.info) logger.info(report.info);
  if (report.warning) logger.warn(report.warning, { event });
  if (report.error) logger.error(report.error, { event });
  return report.error === undefined;
}

/** METRICS_PORT, when set: Core's metrics relayed from `coreMetrics`, and the probes over `parts`. */
async function startWorkerMetricsPort(
  config: WorkerConfig,
  coreMetrics: { host: string; port: number } | undefined,
  parts: WorkerParts,
): Promise<MetricsPortServer | undefined> {
  if (!config.metrics || !coreMetrics) return undefined;
  return startMetricsPort({
    ...config.metrics,
    metricsUpstream: coreMetrics,
    readiness: workerReadiness(parts, config.sinkUrl),
    onProxyError: (err) => Runtime.instance().logger.warn('Metrics exporter unreachable', { error: err.message }),
  });
}

/** Hourly: blobs of closed runs older than the retention go; those an open run references stay. */
function startBlobPurge(store: BlobStore, client: Client, retentionDays: number): NodeJS.Timeout {
  const run = () =>
    purgeBlobsOfClosedRuns(store, client, retentionDays * 86_400_000).then(
      (deleted) => deleted > 0 && Runtime.instance().logger.info('Purged expired payload blobs', { deleted }),
      (err) =>
        Runtime.instance().logger.warn('Payload blob purge failed', {
          error: String(err),
          event: LOG_EVENTS.blobPurgeFailed,
        }),
    );
  void run();
  return setInterval(() => void run(), 3_600_000).unref();
}

const WORKER_USAGE = `Usage: zendesk-export worker [--json]

Runs the worker: it polls Zendesk for the export workflows on its task queue and stores what it reads. It is
configured by the environment (ZENDESK_*, TEMPORAL_*, SINK_URL...; see docs/configuration.md), and runs until
SIGINT or SIGTERM, finishing the activities in flight.

  --json    log JSON lines (the same as LOG_FORMAT=json)
`;

/** `zendesk-export worker`: the worker in the foreground until SIGINT or SIGTERM. */
export async function main(args: string[]): Promise<void> {
  const options = readServiceArgs(args, WORKER_USAGE);
  if (!options) return;
  if (options.json) process.env.LOG_FORMAT = 'json';
  await run().catch((err) => {
    writeFatal(errorMessage(err), LOG_EVENTS.workerFailed);
    process.exit(1);
  });
}

if (require.main === module) void main(process.argv.slice(2));
