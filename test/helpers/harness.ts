import { compareSinkWithTruth, spawnWorkerProcess as spawnProcess, WorkerProcess } from '../../bench/support/processes';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BlobStore, SqliteBlobStore } from '../../src/codec/blob-store';
import { PostgresBlobStore } from '../../src/codec/postgres-blob-store';
import { createDataConverter } from '../../src/codec/claim-check';
import { EncryptionSettings, encryptionCodecOf } from '../../src/codec/encryption-keys';
import { WorkerConfig, ZendeskSettings } from '../../src/config';
import { DEFAULT_CREDENTIALS, Emulator, EmulatorOptions, startEmulator } from '../../src/emulator';
import { ExportApi, workflowIdFor, ZENDESK_ACCOUNT } from '../../src/shared';
import { PostgresSink } from '../../src/storage/postgres';
import { TicketSink } from '../../src/storage/sink';
import { SqliteSink } from '../../src/storage/sqlite';
import { createExportWorker } from '../../src/worker';
import { ExportInput, ExportStatus, statusQuery } from '../../src/workflows/messages';
import { ZendeskAuth } from '../../src/zendesk/auth';
import { testPostgresUrl } from './prerequisites';

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  } catch {
    // already installed in this process
  }
}

export function testEnv() {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
  const tmpDir = process.env.TEST_TMP_DIR;
  if (!address || !bundlePath || !tmpDir) throw new Error('test/global-setup.ts did not run');
  return { address, bundlePath, tmpDir };
}

export async function sleepMs(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleepMs(intervalMs);
  }
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  input?: Partial<ExportInput>;
  zendeskTimeoutMs?: number;
  /** The API token the worker signs in with (default: the emulator's); ignored when `auth` is given. */
  apiToken?: string;
  /** How the worker signs in; default: the emulator's API token. OAuth needs `emulator.oauthClients`. */
  auth?: ZendeskAuth;
  /** Where tickets go: a fresh SQLite file (default) or the machine's PostgreSQL (database `test`). */
  sink?: 'sqlite' | 'postgres';
  /** Start an in-process worker (default true). */
  worker?: boolean;
  /** Start the workflow (default true). */
  start?: boolean;
  /** The sink the worker writes to, around the real one (an outage); `Harness.sink` stays the real one. */
  workerSink?: (sink: TicketSink) => TicketSink;
  /** The blob store the worker uses, around the real one (an outage); `Harness.blobStore` stays the real one. */
  workerBlobStore?: (store: BlobStore) => BlobStore;
  /** Payload encryption keys of the worker and of `Harness.client`; default: none (plaintext, loopback). */
  encryption?: EncryptionSettings;
}

export interface Harness {
  emulator: Emulator;
  sink: TicketSink;
  dbFile: string;
  /** Next to the sink, as a worker opens it: the SQLite file, or the PostgreSQL database. */
  blobStore: BlobStore;
  client: Client;
  account: string;
  taskQueue: string;
  workflowId: string;
  handle: WorkflowHandle;
  config: WorkerConfig;
  status(): Promise<ExportStatus>;
  startWorker(overrides?: Partial<ZendeskSettings>): Promise<void>;
  stopWorker(): Promise<void>;
  startWorkflow(input?: Partial<ExportInput>): Promise<void>;
  /** Resolves with a description of the differences, or '' once the sink equals the emulator's truth. */
  compareWithTruth(): Promise<string>;
  waitForTruth(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { address, bundlePath, tmpDir } = testEnv();
  const emulator = await startEmulator({
    windowSeconds: 1,
    minStartAgeSeconds: 1,
    ticketCount: 500,
    ...options.emulator,
  });
  const account = new URL(emulator.url).host;
  const taskQueue = `test-${randomUUID()}`;
  const dbFile = path.join(tmpDir, `${randomUUID()}.db`);
  const postgresUrl = testPostgresUrl();
  const sink: TicketSink = options.sink === 'postgres' ? await PostgresSink.open(postgresUrl) : new SqliteSink(dbFile);
  const config: WorkerConfig = {
    temporal: { address, namespace: 'default', taskQueue },
    accounts: [
      {
        account,
        baseUrl: emulator.url,
        auth: options.auth ?? {
          mode: 'api_token',
          email: DEFAULT_CREDENTIALS.email,
          apiToken: options.apiToken ?? DEFAULT_CREDENTIALS.apiToken,
        },
        timeoutMs: options.zendeskTimeoutMs ?? 3000,
      },
    ],
    sinkUrl: options.sink === 'postgres' ? postgresUrl : `sqlite:${dbFile}`,
    blobRetentionDays: 7,
    encryption: options.encryption,
    logging: { format: 'text', level: 'ERROR' },
  };
  const blobStore: BlobStore =
    options.sink === 'postgres' ? await PostgresBlobStore.open(postgresUrl) : new SqliteBlobStore(dbFile);
  const clientConnection = await Connection.connect({ address });
  const dataConverter = createDataConverter(blobStore, encryptionCodecOf(options.encryption));
  const client = new Client({ connection: clientConnection, dataConverter });
  const workflowId = workflowIdFor(account);
  const handle = client.workflow.getHandle(workflowId);
  let nativeConnection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  const harness: Harness = {
    emulator,
    sink,
    dbFile,
    blobStore,
    client,
    account,
    taskQueue,
    workflowId,
    handle,
    config,
    status: () => handle.query(statusQuery),
    async startWorker(overrides = {}) {
      // Installed only when a native connection follows: a runtime that never had one keeps jest from exiting.
      quietRuntime();
      nativeConnection ??= await NativeConnection.connect({ address });
      worker = await createExportWorker({
        config: { ...config, accounts: [{ ...config.accounts[0], ...overrides }] },
        connection: nativeConnection,
        sink: options.workerSink ? options.workerSink(sink) : sink,
        blobStore: options.workerBlobStore ? options.workerBlobStore(blobStore) : blobStore,
        workflowBundle: { codePath: bundlePath },
      });
      running = worker.run();
    },
    async stopWorker() {
      if (!worker) return;
      worker.shutdown();
      await running;
      worker = undefined;
    },
    async startWorkflow(input = {}) {
      await client.workflow.start('ticketExportWorkflow', {
        taskQueue,
        workflowId,
        args: [{ account, startTime: 0, pollIntervalSeconds: 1, minStartAgeSeconds: 1, ...options.input, ...input }],
        typedSearchAttributes: [{ key: ZENDESK_ACCOUNT, value: account }],
      });
    },
    compareWithTruth: () =>
      compareSinkWithTruth(sink, account, options.input?.api ?? 'exports', emulator, options.sink ?? 'sqlite'),
    async waitForTruth(timeoutMs = 60_000) {
      // A comparison reads the whole sink and the truth on this process's thread, which the worker and the emulator
      // share: after each, twice its time passes before the next, so it never takes more than a third of the thread.
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        const started = Date.now();
        last = await harness.compareWithTruth().catch((err: unknown) => `the comparison failed: ${err}`);
        if (last === '') return;
        if (Date.now() > deadline) throw new Error(`the sink never equalled the emulator's truth: ${last}`);
        await sleepMs(Math.max(250, 2 * (Date.now() - started)));
      }
    },
    async close() {
      emulator.stopMutations();
      await handle.terminate('test finished').catch(() => undefined);
      await harness.stopWorker();
      await nativeConnection?.close();
      await clientConnection.close();
      await emulator.close();
      await blobStore.close();
      await sink.close();
    },
  };
  if (options.worker !== false) await harness.startWorker();
  if (options.start !== false) await harness.startWorkflow();
  return harness;
}

/**
 * A case of the fault suites: the emulator without rate limits or start-age rules of its own, the export paced at
 * 0.5 s and 600 calls a minute, not started yet (the case queues its faults first).
 */
export function exportCaseOptions(
  api: ExportApi,
  tickets: number,
  extra: Partial<HarnessOptions> = {},
): HarnessOptions {
  return {
    start: false,
    ...extra,
    emulator: {
      ticketCount: tickets,
      windowSeconds: 0,
      incrementalRequestsPerMinute: 0,
      incrementalMinStartAgeSeconds: 1,
      ...extra.emulator,
    },
    input: { api, pollIntervalSeconds: 0.5, minStartAgeSeconds: 1, requestsPerMinute: 600, ...extra.input },
  };
}

/** A harness for the length of `body`, closed whatever happens. */
export async function withHarness(options: HarnessOptions, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness(options);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** Timer durations (ms) in the order the workflow started them, across the current run. */
export async function timerDurations(handle: WorkflowHandle): Promise<number[]> {
  const history = await handle.fetchHistory();
  const durations: number[] = [];
  for (const event of history.events ?? []) {
    const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
    if (timeout) durations.push(Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6));
  }
  return durations;
}

export { compareSinkWithTruth, type WorkerProcess } from '../../bench/support/processes';

/** `src/worker.ts` as a child process against the test server, with only this environment. */
export function spawnWorkerProcess(env: Record<string, string>): WorkerProcess {
  const { address, bundlePath } = testEnv();
  return spawnProcess(env, { address, bundlePath });
}

/** The secrets of a way to sign in: what no log, history or message may contain. */
export function secretsOf(auth: ZendeskAuth): string[] {
  switch (auth.mode) {
    case 'oauth_client_credentials':
      return [auth.clientSecret];
    case 'oauth_access_token':
      return [auth.accessToken];
    case 'api_token':
      return [auth.apiToken];
  }
}

/** The variables that give the worker this way to sign in, as a user would set them. */
export function authEnv(auth: ZendeskAuth): Record<string, string> {
  switch (auth.mode) {
    case 'oauth_client_credentials':
      return {
        ZENDESK_OAUTH_CLIENT_ID: auth.clientId,
        ZENDESK_OAUTH_CLIENT_SECRET: auth.clientSecret,
        ZENDESK_OAUTH_SCOPE: auth.scope,
        ZENDESK_OAUTH_TOKEN_TTL_SECONDS: String(auth.tokenTtlSeconds),
      };
    case 'oauth_access_token':
      return { ZENDESK_OAUTH_ACCESS_TOKEN: auth.accessToken };
    case 'api_token':
      return { ZENDESK_EMAIL: auth.email, ZENDESK_API_TOKEN: auth.apiToken };
  }
}

/** The real worker entry point (`src/worker.ts`) as a child process, configured like a user would. */
export function spawnWorker(h: Harness, extraEnv: Record<string, string> = {}): WorkerProcess {
  return spawnWorkerProcess({
    ZENDESK_BASE_URL: h.config.accounts[0].baseUrl,
    ...authEnv(h.config.accounts[0].auth),
    TEMPORAL_TASK_QUEUE: h.taskQueue,
    SINK_URL: h.config.sinkUrl,
    ...encryptionEnv(h.config.encryption),
    ...extraEnv,
  });
}

/** The variables that give a process these payload encryption keys. */
export function encryptionEnv(settings: EncryptionSettings | undefined): Record<string, string> {
  if (!settings) return {};
  if (settings.off) return { PAYLOAD_ENCRYPTION: 'off' };
  return {
    ...(settings.current && { PAYLOAD_ENCRYPTION_KEY: settings.current.key.toString('base64') }),
    ...(settings.previous.length > 0 && {
      PAYLOAD_ENCRYPTION_OLD_KEYS: settings.previous.map((k) => k.key.toString('base64')).join(','),
    }),
    ...(settings.allowPlaintext && { PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: 'true' }),
  };
}
