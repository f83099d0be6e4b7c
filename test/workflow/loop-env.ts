import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { createDataConverter } from '../../src/codec/claim-check';
import { ZENDESK_ACCOUNT } from '../../src/shared';
import type { ticketExportWorkflow } from '../../src/workflows';
import { ExportInput, ExportStatus, statusQuery } from '../../src/workflows/messages';
import type { StubActivities } from './stub-activities';

// The workflow loop on the test dev server (test/global-setup.ts) with stub activities: a real Worker running the
// prebuilt workflow bundle, one task queue and one workflow per test. The dev server keeps real time: no time skipping.

export interface TestServer {
  client(): Client;
  connection(): NativeConnection;
}

/** The dev server's connections for the tests of one file (opened before them, closed after). */
export function useTestServer(): TestServer {
  let client: Client | undefined;
  let connection: NativeConnection | undefined;
  beforeAll(async () => {
    quietRuntime();
    const address = serverAddress();
    connection = await NativeConnection.connect({ address });
    client = new Client({ connection: await Connection.connect({ address }), dataConverter: createDataConverter() });
  });
  afterAll(async () => {
    await client?.connection.close();
    await connection?.close();
  });
  return {
    client: () => client ?? fail('no client: beforeAll did not run'),
    connection: () => connection ?? fail('no connection: beforeAll did not run'),
  };
}

export interface Loop {
  handle: WorkflowHandle<typeof ticketExportWorkflow>;
  account: string;
  /** The first run's id (a continue-as-new starts another). */
  firstRunId: string;
  status(): Promise<ExportStatus>;
  /** Polls the status query until `probe` holds; resolves with that status. */
  statusWhen(what: string, probe: (status: ExportStatus) => boolean, timeoutMs?: number): Promise<ExportStatus>;
}

/**
 * Starts ticketExportWorkflow with `input` on a fresh task queue whose worker runs `stubs`, runs `body`, then
 * terminates the workflow and stops the worker.
 */
export async function runLoop(
  server: TestServer,
  stubs: StubActivities,
  input: Partial<ExportInput>,
  body: (loop: Loop) => Promise<void>,
): Promise<void> {
  const taskQueue = `loop-${randomUUID()}`;
  const account = `acct-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection: server.connection(),
    taskQueue,
    workflowBundle: { codePath: bundlePath() },
    activities: stubs.activities,
    dataConverter: createDataConverter(),
    shutdownGraceTime: '1 second',
  });
  await worker.runUntil(async () => {
    const handle = await server.client().workflow.start<typeof ticketExportWorkflow>('ticketExportWorkflow', {
      taskQueue,
      workflowId: `loop-test-${account}`,
      args: [{ account, ...input }],
      typedSearchAttributes: [{ key: ZENDESK_ACCOUNT, value: account }],
    });
    const status = () => handle.query(statusQuery);
    const loop: Loop = {
      handle,
      account,
      firstRunId: handle.firstExecutionRunId,
      status,
      async statusWhen(what, probe, timeoutMs = 10_000) {
        let last: ExportStatus | undefined;
        await untilAsync(what, async () => probe((last = await status())), timeoutMs);
        return last!;
      },
    };
    try {
      await body(loop);
    } finally {
      stubs.openGates();
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}

async function untilAsync(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleepMs(50);
  }
}

/** Timer durations (ms) the workflow started before each fetchPage call, in order, across one run. */
export async function timersBeforeEachFetch(handle: WorkflowHandle, runId?: string): Promise<number[][]> {
  const history = await handle.client.getHandle(handle.workflowId, runId).fetchHistory();
  const gaps: number[][] = [[]];
  for (const event of history.events ?? []) {
    const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
    if (timeout)
      gaps[gaps.length - 1].push(Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6));
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchPage') gaps.push([]);
  }
  return gaps;
}

export async function sleepMs(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Epoch seconds now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function serverAddress(): string {
  return process.env.TEST_TEMPORAL_ADDRESS ?? fail('TEST_TEMPORAL_ADDRESS is unset: test/global-setup.ts did not run');
}

function bundlePath(): string {
  return process.env.TEST_WORKFLOW_BUNDLE ?? fail('TEST_WORKFLOW_BUNDLE is unset: test/global-setup.ts did not run');
}

function fail(message: string): never {
  throw new Error(message);
}

/** Errors the workflow logs on purpose in these tests (a permanent failure blocks the export). */
const EXPECTED_ERRORS = ['Export blocked: waiting for resume'];
let runtimeInstalled = false;
/** Core's and the SDK's logs at ERROR only: a terminated workflow and a worker shutdown are expected here. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR', ({ level, message, meta }) => {
        if (!EXPECTED_ERRORS.includes(message)) console.error(`[${level}] ${message}`, meta ?? '');
      }),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  } catch {
    // installed already in this process (another test file)
  }
}
