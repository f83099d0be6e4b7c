import { DefaultLogger, LogLevel, NativeConnection, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { dataConverter } from './codec/data-converter';
import { ConfigError, loadWorkerConfig, WorkerConfig } from './config';
import { openSink } from './sinks/open';
import { TicketSink } from './sinks/sink';
import { ZendeskClient } from './zendesk/client';

export interface ExportWorkerOptions {
  config: WorkerConfig;
  connection: NativeConnection;
  sink: TicketSink;
  /** A prebuilt bundle; default: WORKFLOW_BUNDLE_PATH if set, else bundle src/workflows at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createExportWorker({ config, connection, sink, workflowBundle }: ExportWorkerOptions) {
  const zendesk = new ZendeskClient(config.zendesk);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflowSource(workflowBundle),
    activities: createActivities({ zendesk, account: config.zendesk.account, sink }),
    dataConverter,
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
  const sink = await openSink(config.sinkUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createExportWorker({ config, connection, sink });
    Runtime.instance().logger.info('Worker ready', {
      account: config.zendesk.account,
      zendesk: new URL(config.zendesk.baseUrl).origin,
      taskQueue: config.temporal.taskQueue,
      temporal: config.temporal.address,
      sink: config.sinkUrl.startsWith('sqlite:') ? config.sinkUrl : config.sinkUrl.replace(/\/\/[^@]*@/, '//***@'),
    });
    await worker.run(); // returns after SIGINT/SIGTERM, once in-flight activities finished
  } finally {
    await connection.close();
    await sink.close();
  }
}

if (require.main === module) {
  run().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
