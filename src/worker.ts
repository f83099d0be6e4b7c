import { Client, Connection, ConnectionOptions } from '@temporalio/client';
import {
  DefaultLogger,
  LogLevel,
  NativeConnection,
  NativeConnectionOptions,
  Runtime,
  Worker,
  WorkerOptions,
} from '@temporalio/worker';
import { createActivities } from './activities';
import { BlobStore } from './codec/blob-store';
import { openBlobStore } from './codec/open-blob-store';
import { PageStaging } from './codec/staged-pages';
import { purgeBlobsOfClosedRuns } from './codec/blob-purge';
import { createDataConverter } from './codec/claim-check';
import { describeEncryption, encryptionCodecOf, letThroughWarnings } from './codec/encryption-keys';
import { WORKFLOW_SOURCES } from './temporal/workflow-bundle';
import { startCodecServer } from './codec/codec-server';
import { apiTokenWarning, ConfigError, loadWorkerConfig, TemporalSettings, WorkerConfig } from './config';
import { errorMessage } from './temporal/error-message';
import { ensureSearchAttributes, mayRegister, reportCheck } from './temporal/search-attributes';
import { openingSink, openSink } from './storage/open';
import { redactUrl } from './common/redact-url';
import { clientConnectionOptions, describeConnection, nativeConnectionOptions } from './config/temporal-connection';
import { TicketSink } from './storage/sink';
import { describeAuth } from './zendesk/auth';
import { describeMetrics, runtimeTelemetry } from './telemetry/runtime-telemetry';
import { startTracing, Tracing } from './telemetry/tracing';
import { ZendeskClient } from './zendesk/client';

export interface ExportWorkerOptions {
  config: WorkerConfig;
  connection: NativeConnection;
  sink: TicketSink;
  /** Where pages too big for the history wait for persist, and any payload still above 256 KiB after gzip goes. */
  blobStore: BlobStore;
  /** A prebuilt bundle; default: WORKFLOW_BUNDLE_PATH if set, else bundle src/workflows at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** OpenTelemetry tracing (OTEL_TRACES_EXPORTER=otlp): its interceptors; the workflows are then bundled at start. */
  tracing?: Tracing;
}

export async function createExportWorker({
  config,
  connection,
  sink,
  blobStore,
  workflowBundle,
  tracing,
}: ExportWorkerOptions) {
  const zendesk = new Map(config.accounts.map((settings) => [settings.account, new ZendeskClient(settings)]));
  const encryption = encryptionCodecOf(config.encryption, {
    onLetThrough: letThroughWarnings((message, attributes) => Runtime.instance().logger.warn(message, attributes)),
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
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  Runtime.install({
    logger: new DefaultLogger((process.env.LOG_LEVEL?.toUpperCase() as LogLevel) || 'INFO'),
    telemetryOptions: runtimeTelemetry(config.metrics, config.telemetry),
  });
  const logger = Runtime.instance().logger;
  const traces = config.telemetry?.traces;
  const tracing = traces ? startTracing(traces) : undefined;
  if (tracing && process.env.WORKFLOW_BUNDLE_PATH) {
    logger.warn('Tracing: WORKFLOW_BUNDLE_PATH is not used; the workflows are bundled at start with its interceptors');
  }
  const clientConnection = await Connection.connect(clientOptions);
  if (!(await searchAttributesReady(clientConnection, config.temporal))) {
    await clientConnection.close();
    process.exit(2);
  }
  const sink = await openingSink(config.sinkUrl, () =>
    openSink(config.sinkUrl, config.sinkTimeouts, config.sinkOptions),
  );
  // Payloads too big for history go next to the tickets: the SQLite file, or PostgreSQL that every worker shares.
  const blobStore = await openingSink(config.sinkUrl, () => openBlobStore(config.sinkUrl, config.sinkTimeouts));
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
      });
    }
  }
  const connection = await NativeConnection.connect(nativeOptions);
  try {
    const worker = await createExportWorker({ config, connection, sink, blobStore, tracing });
    logger.info('Worker ready', {
      accounts: config.accounts.map((a) => `${a.account} (${new URL(a.baseUrl).origin})`).join(', '),
      taskQueue: config.temporal.taskQueue,
      temporal: `${describeConnection(config.temporal)}, namespace ${config.temporal.namespace}`,
      sink: redactUrl(config.sinkUrl),
      payloadEncryption: describeEncryption(config.encryption),
      metrics: describeMetrics(config.metrics, config.telemetry),
      tracing: traces ? `OTLP/HTTP ${traces.url} as ${traces.serviceName}` : 'off',
    });
    if (config.encryption?.off) logger.warn(`Payload encryption: ${describeEncryption(config.encryption)}`);
    if (config.encryption?.off === false && config.encryption.current && config.encryption.allowPlaintext) {
      logger.warn(
        'Payload encryption: PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true: plaintext payloads, and encrypted ones bound to ' +
          'no workflow, are accepted: anyone who can write to the namespace can send them (signals, activity ' +
          'completions). Remove it once every run has continued as new since the migration',
      );
    }
    // How each account signs in (never a secret), and a warning for those whose API token Zendesk will turn off.
    for (const account of config.accounts) {
      logger.info(`Zendesk account ${account.account}: ${describeAuth(account.auth)}`);
      if (account.auth.mode === 'api_token') logger.warn(apiTokenWarning(account.account));
    }
    await worker.run(); // returns after SIGINT/SIGTERM, once in-flight activities finished
  } finally {
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
  if (report.info) logger.info(report.info);
  if (report.warning) logger.warn(report.warning);
  if (report.error) console.error(report.error);
  return report.error === undefined;
}

/** Hourly: blobs of closed runs older than the retention go; those an open run references stay. */
function startBlobPurge(store: BlobStore, client: Client, retentionDays: number): NodeJS.Timeout {
  const run = () =>
    purgeBlobsOfClosedRuns(store, client, retentionDays * 86_400_000).then(
      (deleted) => deleted > 0 && Runtime.instance().logger.info('Purged expired payload blobs', { deleted }),
      (err) => Runtime.instance().logger.warn('Payload blob purge failed', { error: String(err) }),
    );
  void run();
  return setInterval(() => void run(), 3_600_000).unref();
}

if (require.main === module) {
  run().catch((err) => {
    console.error(errorMessage(err));
    process.exit(1);
  });
}
