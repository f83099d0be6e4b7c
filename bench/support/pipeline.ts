import { Client, Connection } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dataConverter } from '../../src/codec/data-converter';
import { DevServer, DevServerOptions, freePort, ROOT, startDevServer } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { workflowIdFor, WORKFLOW_TYPE } from '../../src/shared';
import { openSink } from '../../src/storage/open';
import { TicketSink } from '../../src/storage/sink';
import { bundleWorkflows } from '../../src/temporal/workflow-bundle';
import type { ExportInput } from '../../src/workflows/messages';

/** One Temporal dev server, one workflow bundle and one client for a whole bench run. */
export interface BenchEnv {
  dir: string;
  server: DevServer;
  bundlePath: string;
  client: Client;
  close(): Promise<void>;
}

export async function startBenchEnv(serverOptions: Pick<DevServerOptions, 'dynamicConfig'> = {}): Promise<BenchEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-bench-'));
  // The server's metrics: its `action` counter checks the billable actions counted from histories (temporal-cost).
  const server = await startDevServer({
    ...serverOptions,
    dbFilename: path.join(dir, 'temporal.db'),
    stderr: 'ignore',
    metricsPort: await freePort(),
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, await bundleWorkflows());
  // A history page can hold dozens of 50 KB ticket pages: more than gRPC's default 4 MB per message.
  const connection = await Connection.connect({
    address: server.address,
    channelArgs: { 'grpc.max_receive_message_length': 128 * 1024 * 1024 },
  });
  const client = new Client({ connection, dataConverter });
  return {
    dir,
    server,
    bundlePath,
    client,
    async close() {
      await connection.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The compiled worker (`npm run build`: src/ to lib/): what production runs, without ts-node in its memory. */
export const COMPILED_WORKER = path.join(ROOT, 'lib/worker.js');

export interface BenchWorker {
  child: ChildProcess;
  pid: number;
  taskQueue: string;
  metricsUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** The compiled worker as a child process, for one account of the emulator (or extraEnv's), with Prometheus metrics on. */
export async function startBenchWorker(
  env: BenchEnv,
  // Without baseUrl, extraEnv names the accounts (ZENDESK_ACCOUNTS_FILE and its credential variables).
  { baseUrl, sinkUrl, extraEnv = {} }: { baseUrl?: string; sinkUrl: string; extraEnv?: Record<string, string> },
): Promise<BenchWorker> {
  if (!fs.existsSync(COMPILED_WORKER)) throw new Error(`${COMPILED_WORKER} is missing: run \`npm run build\` first`);
  const taskQueue = `bench-${randomUUID()}`;
  const metricsPort = await freePort();
  let output = '';
  // BENCH_WORKER_NODE_ARGS: extra node flags for the worker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, COMPILED_WORKER], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: env.server.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE_PATH: env.bundlePath,
      ...(baseUrl
        ? {
            ZENDESK_BASE_URL: baseUrl,
            ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
            ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
          }
        : {}),
      SINK_URL: sinkUrl,
      CODEC_SERVER_PORT: 'off',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      LOG_LEVEL: 'WARN',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  await waitUntil(
    'the worker to serve metrics',
    async () => (await fetch(metricsUrl).catch(() => null))?.ok,
    60_000,
    () => output,
  );
  return {
    child,
    pid: child.pid!,
    taskQueue,
    metricsUrl,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts the export workflow of `account` on the worker's task queue; resolves with its workflow id. */
export async function startExport(
  env: BenchEnv,
  worker: BenchWorker,
  input: ExportInput,
): Promise<{ workflowId: string; startedAt: number }> {
  const workflowId = workflowIdFor(input.account);
  const startedAt = Date.now();
  await env.client.workflow.start(WORKFLOW_TYPE, { taskQueue: worker.taskQueue, workflowId, args: [input] });
  return { workflowId, startedAt };
}

/** A catch-up from the beginning with no pacing at all: what the durability and memory scenarios measure. */
export function unpacedCatchUp(account: string): ExportInput {
  return { account, api: 'exports', startTime: 0, pollIntervalSeconds: 0, minStartAgeSeconds: 0 };
}

export async function stopExport(env: BenchEnv, workflowId: string): Promise<void> {
  await env.client.workflow
    .getHandle(workflowId)
    .terminate('bench finished')
    .catch(() => undefined);
}

export async function waitUntil(
  what: string,
  probe: () => Promise<unknown> | unknown,
  timeoutMs: number,
  context: () => string = () => '',
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves when the sink holds `count` tickets of the account, with the time it happened (polled every 50 ms). */
export async function waitForTickets(sink: TicketSink, account: string, count: number, timeoutMs: number) {
  await waitUntil(
    `${count} tickets of ${account} in the sink`,
    async () => (await sink.countTickets(account)) >= count,
    timeoutMs,
    () => '',
    50,
  );
  return Date.now();
}

export { openSink };

/** The compiled emulator as its own process, so that its CPU and memory are not the exporter's. */
export interface EmulatorProcess {
  url: string;
  pid: number;
  stats(): Promise<{
    calls: number;
    byStatus: Record<string, number>;
    callsBeforeRetryAfter: number;
    rowsServed: number;
  }>;
  stop(): Promise<void>;
}

export async function startEmulatorProcess(args: string[]): Promise<EmulatorProcess> {
  const script = path.join(ROOT, 'lib/emulator/main.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, ['--max-old-space-size=8192', script, '--port', '0', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
      const match = / at (http:\/\/\S+);/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening: ${output}`)));
  });
  return {
    url,
    pid: child.pid!,
    async stats() {
      const response = await fetch(`${url}/__emulator/stats`);
      return (await response.json()) as Awaited<ReturnType<EmulatorProcess['stats']>>;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident memory of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}
