import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, LogLevel, NativeConnection, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { BlobStore, SqliteBlobStore } from './codec/blob-store';
import { purgeBlobsOfClosedRuns } from './codec/blob-purge';
import { createDataConverter } from './codec/claim-check';
import { startCodecServer } from './codec/codec-server';
import { ConfigError, loadWorkerConfig, WorkerConfig } from './config';
import { openSink, sqliteFilename } from './sinks/open';
import { TicketSink } from './sinks/sink';
import { ZendeskClient } from './zendesk/client';

export interface ExportWorkerOptions {
  config: WorkerConfig;
  connection: NativeConnection;
  sink: TicketSink;
  /** Where payloads still above 256 KiB after gzip go (claim check); without one they stay in history. */
  blobStore?: BlobStore;
  /** A prebuilt bundle; default: WORKFLOW_BUNDLE_PATH if set, else bundle src/workflows at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createExportWorker({ config, connection, sink, blobStore, workflowBundle }: ExportWorkerOptions) {
  const zendesk = new ZendeskClient(config.zendesk);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflowSource(workflowBundle),
    activities: createActivities({ zendesk, account: config.zendesk.account, sink }),
    dataConverter: createDataConverter(blobStore),
    shutdownGraceTime: '10 seconds',
  });
}

function workflowSource(workflowBundle: ExportWorkerOptions['workflowBundle']) {
  if (workflowBundle) return { workflowBundle };
  if (process.env.WORKFLOW_BUNDLE_PATH) return { workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH } };
  return { workflowsPath: require.resolve('./workflows') };
}

async function run() {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL?.toUpperCase() as LogLevel) || 'INFO') });
  const logger = Runtime.instance().logger;
  const sink = await openSink(config.sinkUrl);
  const blobFile = sqliteFilename(config.sinkUrl);
  const blobStore = blobFile ? new SqliteBlobStore(blobFile) : undefined;
  const clientConnection = blobStore ? await Connection.connect({ address: config.temporal.address }) : undefined;
  const purge =
    blobStore && clientConnection
      ? startBlobPurge(
          blobStore,
          new Client({ connection: clientConnection, namespace: config.temporal.namespace }),
          config.blobRetentionDays,
        )
      : undefined;
  const codecServer =
    config.codecServerPort !== undefined
      ? await startCodecServer({
          codecs: createDataConverter(blobStore).payloadCodecs ?? [],
          port: config.codecServerPort,
        })
      : undefined;
  if (codecServer) logger.info('Codec server for the Web UI', { url: codecServer.url });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createExportWorker({ config, connection, sink, blobStore });
    logger.info('Worker ready', {
      account: config.zendesk.account,
      zendesk: new URL(config.zendesk.baseUrl).origin,
      taskQueue: config.temporal.taskQueue,
      temporal: config.temporal.address,
      sink: config.sinkUrl.startsWith('sqlite:') ? config.sinkUrl : config.sinkUrl.replace(/\/\/[^@]*@/, '//***@'),
    });
    await worker.run(); // returns after SIGINT/SIGTERM, once in-flight activities finished
  } finally {
    if (purge) clearInterval(purge);
    await clientConnection?.close();
    await codecServer?.close();
    await connection.close();
    await blobStore?.close();
    await sink.close();
  }
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
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
