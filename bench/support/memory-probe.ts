/**
 * One configuration of the memory breakdown (bench/scenarios/memory-breakdown.ts), as its own process: it builds the
 * worker up to `stage`, says `ready` over IPC, and answers each `sample` message with `process.memoryUsage()`.
 * Run compiled (lib/bench/support/memory-probe.js) so that ts-node is not part of what is measured.
 *
 * Stages, each one including the previous:
 * - `bare`: a node process that loaded nothing;
 * - `sdk`: `@temporalio/worker` and `@temporalio/client` loaded (the native core-bridge addon with them), nothing else;
 * - `modules`: the worker's modules loaded (src/worker.ts and through it the SDK, the sinks, the Zendesk client) and
 *   the sink opened, no Temporal runtime;
 * - `core`: plus Temporal's Rust core: `Runtime.install` (with Prometheus metrics, as the bench's worker) and a
 *   `NativeConnection`, and the worker's other connection, the client's (search attributes, blob purge);
 * - `worker`: plus a running `Worker` with the workflow bundle (the sandbox's worker thread and its V8 context), the
 *   worker's own activities and data converter, `maxCachedWorkflows` and `reuseV8Context` as configured.
 */
import v8 from 'node:v8';
import type { WorkerOptions } from '@temporalio/worker';
import { PageStaging } from '../../src/codec/staged-pages';

export type ProbeStage = 'bare' | 'sdk' | 'modules' | 'core' | 'worker';

export interface ProbeConfig {
  stage: ProbeStage;
  temporalAddress: string;
  taskQueue: string;
  bundlePath: string;
  sinkUrl: string;
  /** The emulator's base URL: the account the worker serves. */
  baseUrl: string;
  email: string;
  apiToken: string;
  maxCachedWorkflows?: number;
  reuseV8Context?: boolean;
}

export interface ProbeSample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** The cache size and V8 mode the worker resolved (its defaults when unset), for the `worker` stage. */
  resolved?: { maxCachedWorkflows: number; reuseV8Context: boolean; heapSizeLimitMb: number };
}

export type ProbeMessage =
  { type: 'ready' } | { type: 'sample'; sample: ProbeSample } | { type: 'error'; error: string };

async function main(config: ProbeConfig): Promise<() => Promise<void>> {
  if (config.stage === 'bare') return async () => undefined;
  /* eslint-disable @typescript-eslint/no-require-imports */
  // Loaded only past `bare`, so that the bare process carries none of them.
  const worker = require('@temporalio/worker') as typeof import('@temporalio/worker');
  const client = require('@temporalio/client') as typeof import('@temporalio/client');
  if (config.stage === 'sdk') return async () => undefined;
  const { createActivities } = require('../../src/activities') as typeof import('../../src/activities');
  const { createDataConverter } =
    require('../../src/codec/claim-check') as typeof import('../../src/codec/claim-check');
  const { openSink } = require('../../src/storage/open') as typeof import('../../src/storage/open');
  const { openBlobStore } =
    require('../../src/codec/open-blob-store') as typeof import('../../src/codec/open-blob-store');
  const { ZendeskClient } = require('../../src/zendesk/client') as typeof import('../../src/zendesk/client');
  const { loadWorkerConfig } = require('../../src/config') as typeof import('../../src/config');
  // What the worker process loads at start (its module graph), without running it.
  require('../../src/worker');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sink = await openSink(config.sinkUrl);
  const blobStore = await openBlobStore(config.sinkUrl);
  const closeSink = async () => {
    await blobStore.close();
    await sink.close();
  };
  if (config.stage === 'modules') return closeSink;

  worker.Runtime.install({
    logger: new worker.DefaultLogger('WARN'),
    telemetryOptions: { metrics: { prometheus: { bindAddress: '127.0.0.1:0' } } },
  });
  const connection = await worker.NativeConnection.connect({ address: config.temporalAddress });
  const clientConnection = await client.Connection.connect({ address: config.temporalAddress });
  const closeCore = async () => {
    await clientConnection.close();
    await connection.close();
    await closeSink();
  };
  if (config.stage === 'core') return closeCore;

  // The worker's own account settings, from the environment it would read.
  const workerConfig = loadWorkerConfig({
    TEMPORAL_ADDRESS: config.temporalAddress,
    TEMPORAL_TASK_QUEUE: config.taskQueue,
    ZENDESK_BASE_URL: config.baseUrl,
    ZENDESK_EMAIL: config.email,
    ZENDESK_API_TOKEN: config.apiToken,
    SINK_URL: config.sinkUrl,
    CODEC_SERVER_PORT: 'off',
  });
  const zendesk = new Map(workerConfig.accounts.map((s) => [s.account, new ZendeskClient(s)]));
  // The options of createExportWorker (src/worker.ts), plus the two under study.
  const options: WorkerOptions = {
    connection,
    namespace: workerConfig.temporal.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: { codePath: config.bundlePath },
    activities: createActivities({ zendesk, sink, staging: new PageStaging(blobStore) }),
    dataConverter: createDataConverter(blobStore),
    shutdownGraceTime: '10 seconds',
    ...(config.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: config.maxCachedWorkflows } : {}),
    ...(config.reuseV8Context !== undefined ? { reuseV8Context: config.reuseV8Context } : {}),
  };
  const running = await worker.Worker.create(options);
  resolved = {
    maxCachedWorkflows: running.options.maxCachedWorkflows,
    reuseV8Context: running.options.reuseV8Context,
    heapSizeLimitMb: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20),
  };
  const run = running.run();
  return async () => {
    running.shutdown();
    await run;
    await closeCore();
  };
}

let resolved: ProbeSample['resolved'];

function send(message: ProbeMessage): void {
  process.send?.(message);
}

if (require.main === module) {
  const config = JSON.parse(process.argv[2] ?? '{}') as ProbeConfig;
  main(config).then(
    (close) => {
      process.on('message', (message: { type: string }) => {
        if (message.type === 'sample') {
          const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
          send({ type: 'sample', sample: { rss, heapTotal, heapUsed, external, arrayBuffers, resolved } });
        } else if (message.type === 'stop') {
          void close().finally(() => process.exit(0));
        }
      });
      send({ type: 'ready' });
    },
    (err: unknown) => {
      send({ type: 'error', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    },
  );
}
