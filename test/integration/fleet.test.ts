import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { runCliCaptured } from '../helpers/cli';
import { accountVariablePrefix } from '../../src/config/account-credentials';
import { createDataConverter } from '../../src/codec/claim-check';
import { PostgresBlobStore } from '../../src/codec/postgres-blob-store';
import type { StatusRow } from '../../src/cli/format';
import { freePort } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS, Emulator, startEmulator } from '../../src/emulator';
import { workflowIdFor } from '../../src/shared';
import { PostgresSink } from '../../src/storage/postgres';
import { fetchRunHistories, replayAll } from '../helpers/histories';
import {
  compareSinkWithTruth,
  Harness,
  secretsOf,
  sleepMs,
  spawnWorker,
  spawnWorkerProcess,
  startHarness,
  testEnv,
  waitFor,
  WorkerProcess,
} from '../helpers/harness';
import { testPostgresUrl } from '../helpers/prerequisites';

const POSTGRES_URL = testPostgresUrl();

function cli(env: Record<string, string>, ...argv: string[]) {
  return runCliCaptured(argv, env);
}

async function withWorkerOutput<T>(workers: WorkerProcess[], work: Promise<T>): Promise<T> {
  return work.catch((err: Error) => {
    throw new Error(`${err.message}\n${workers.map((w, i) => `--- worker ${i + 1}:\n${w.output()}`).join('\n')}`);
  });
}

describe('a fleet: many accounts, many workers, one task queue', () => {
  const emulators: Emulator[] = [];
  const workers: WorkerProcess[] = [];
  let sink: PostgresSink;
  let connection: Connection;
  let client: Client;
  let env: Record<string, string>;

  afterAll(async () => {
    emulators.forEach((e) => e.stopMutations());
    if (env) await cli(env, 'stop', '--all').catch(() => undefined);
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await Promise.all(emulators.map((e) => e.close()));
    await connection?.close();
    await sink?.close();
  });

  test('two accounts, two worker processes, one SIGKILLed mid-export: both sinks equal their truth', async () => {
    const { address, tmpDir } = testEnv();
    const taskQueue = `fleet-${randomUUID()}`;
    const names = [`fleet-a-${randomUUID().slice(0, 8)}`, `fleet-b-${randomUUID().slice(0, 8)}`];
    // Account A on the specified endpoint; account B on the cursor endpoint with tickets so big that its pages are
    // claim-checked into PostgreSQL, where the other worker must find them.
    const apis = ['exports', 'cursor'] as const;
    const testStart = new Date();
    emulators.push(
      await startEmulator({
        ticketCount: 6000,
        seed: 11,
        windowSeconds: 0,
        minStartAgeSeconds: 1,
        mutations: { intervalMs: 250, perTick: 2 },
      }),
      await startEmulator({
        ticketCount: 3000,
        seed: 12,
        descriptionBytes: [9000, 12000],
        incrementalRequestsPerMinute: 0,
        incrementalMinStartAgeSeconds: 1,
        mutations: { intervalMs: 250, perTick: 2 },
      }),
    );
    // Each account names a variable of its own (FLEET_A_…_ZENDESK_API_TOKEN), even with the same token.
    const tokenVariables = names.map((name) => `${accountVariablePrefix(name)}API_TOKEN`);
    const accountsFile = path.join(tmpDir, `${taskQueue}.yaml`);
    fs.writeFileSync(
      accountsFile,
      'accounts:\n' +
        names
          .map(
            (name, i) =>
              `  - name: ${name}\n    baseUrl: ${emulators[i].url}\n    email: ${DEFAULT_CREDENTIALS.email}\n` +
              `    apiTokenEnv: ${tokenVariables[i]}\n    api: ${apis[i]}\n    requestsPerMinute: 600\n`,
          )
          .join(''),
    );
    const workerEnv = {
      ZENDESK_ACCOUNTS_FILE: accountsFile,
      [tokenVariables[0]]: DEFAULT_CREDENTIALS.apiToken,
      [tokenVariables[1]]: DEFAULT_CREDENTIALS.apiToken,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SINK_URL: POSTGRES_URL,
    };
    workers.push(spawnWorkerProcess(workerEnv), spawnWorkerProcess(workerEnv));
    await withWorkerOutput(
      workers,
      waitFor('both workers ready', () => workers.every((w) => w.output().includes('Worker ready'))),
    );

    connection = await Connection.connect({ address });
    client = new Client({ connection });
    // Both workers poll the one task queue, for workflow and for activity tasks.
    for (const type of [
      temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    ]) {
      await waitFor(`two pollers (task queue type ${type})`, async () => {
        const { pollers } = await client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: type,
        });
        return (pollers ?? []).length === 2;
      });
    }

    env = {
      ZENDESK_ACCOUNTS_FILE: accountsFile,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      EXPORT_START_TIME: '0',
      EXPORT_POLL_INTERVAL_SECONDS: '0.5',
      EXPORT_MIN_START_AGE_SECONDS: '1',
    };
    const noAccount = await cli(env, 'status');
    expect(noAccount).toMatchObject({
      code: 2,
      err: expect.stringMatching(/lists 2 accounts .*--account NAME or --all/),
    });
    const started = await cli(env, 'start', '--all');
    expect(started).toMatchObject({ code: 0 });
    for (const name of names) expect(started.out).toContain(`Started ${workflowIdFor(name)}`);

    const statusAll = async () => JSON.parse((await cli(env, 'status', '--all', '--json')).out) as StatusRow[];
    await withWorkerOutput(
      workers,
      waitFor('two pages stored for each account', async () =>
        (await statusAll()).every((row) => (row.status?.pages ?? 0) >= 2),
      ),
    );
    await sleepMs(Math.floor(Math.random() * 400));
    const victim = workers[Math.floor(Math.random() * 2)];
    victim.child.kill('SIGKILL');
    await victim.exited;

    sink = await PostgresSink.open(POSTGRES_URL);
    emulators.forEach((e) => e.stopMutations());
    const differences = () =>
      Promise.all(names.map((name, i) => compareSinkWithTruth(sink, name, apis[i], emulators[i], 'postgres')));
    let last: string[] = [];
    await withWorkerOutput(
      workers,
      waitFor(
        'both sinks to equal their truth',
        async () => (last = await differences()).every((d) => d === ''),
        120_000,
        500,
      ),
    ).catch(async (err: Error) => {
      const states = (await statusAll()).map((r) => JSON.stringify(r));
      throw new Error(`${err.message}\n${last.map((d, i) => `${names[i]}: ${d}`).join('\n')}\n${states.join('\n')}`);
    });
    for (const e of emulators) expect(e.stats().callsBeforeRetryAfter).toBe(0);

    const table = await cli(env, 'status', '--all');
    expect(table.code).toBe(0);
    const lines = table.out.split('\n');
    expect(lines[0]).toMatch(
      /^ACCOUNT\s+STATE\s+PROGRESS\s+CURSOR\s+LAG\s+TICKETS\s+PAGES\s+CALLS\s+429S\s+NEXT CALL\s+LAST ERROR$/,
    );
    for (const name of names)
      expect(lines.find((l) => l.startsWith(name))).toMatch(/\s(caught up|catching up)\s+\d+%\s/);

    // Account B's pages went to the shared blob store, and each history, written by two workers and a kill,
    // replays cleanly with the payloads read back from PostgreSQL.
    const db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    const blobs = await db
      .query<{ n: string }>('SELECT count(*) AS n FROM payload_blobs WHERE created_at >= $1', [testStart])
      .finally(() => db.end());
    expect(Number(blobs.rows[0].n)).toBeGreaterThan(0);
    const blobStore = await PostgresBlobStore.open(POSTGRES_URL);
    try {
      for (const name of names) {
        const histories = await fetchRunHistories(client, workflowIdFor(name));
        await replayAll(
          histories.map((x) => ({ name: x.runId, json: x.json })),
          createDataConverter(blobStore),
        );
      }
    } finally {
      await blobStore.close();
    }
    const stopped = await cli(env, 'stop', '--all');
    expect(stopped.code).toBe(0);
    const after = await waitFor('both exports cancelled', async () => {
      const rows = await statusAll();
      return rows.every((r) => r.state !== 'running') ? rows : undefined;
    });
    expect(after.map((r) => r.state)).toEqual(['cancelled', 'cancelled']);
  }, 240_000);
});

describe('worker metrics (METRICS_PORT)', () => {
  let h: Harness;
  let worker: WorkerProcess | undefined;
  afterEach(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await h?.close();
  });

  test('the exporter counters agree with the workflow status, next to the SDK metrics', async () => {
    h = await startHarness({
      worker: false,
      start: false,
      emulator: { ticketCount: 2500, windowSeconds: 0 },
      input: { pollIntervalSeconds: 0.5 },
    });
    h.emulator.injectFaults([{ kind: 'rateLimit', retryAfter: '2' }]);
    const port = await freePort();
    worker = spawnWorker(h, { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' });
    await h.startWorkflow();
    await h.waitForTruth(60_000);
    const stored = await waitFor('the last page counted', async () => {
      const s = await h.status();
      return s.ticketsStored >= 2500 && s.rateLimited === 1 ? s : undefined;
    });

    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (text: string, name: string, tags: Record<string, string> = {}) => {
      const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
      const matching = lines.filter((l) => Object.entries(tags).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return matching.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    };
    const account = { account: h.account };
    const tickets = { ...account, stream: 'tickets' };
    // Metrics are exported periodically: wait until the last page shows up. Idle polls go on meanwhile, so the status
    // read next to the scrape is the one it is compared with: both agree once the metrics have caught up.
    const { text, status } = await waitFor('metrics to catch up', async () => {
      const s = await h.status();
      const t = await scrape();
      const caughtUp =
        value(t, 'zendesk_export_rows_stored_total', tickets) === s.ticketsStored &&
        value(t, 'zendesk_export_api_calls_total', { ...tickets, endpoint: 'exports' }) === s.calls;
      return caughtUp ? { text: t, status: s } : undefined;
    });
    expect(status.ticketsStored).toBe(stored.ticketsStored);
    expect(value(text, 'zendesk_export_pages_stored_total', tickets)).toBe(status.pages);
    expect(value(text, 'zendesk_export_rate_limited_total', tickets)).toBe(1);
    expect(value(text, 'zendesk_export_retry_after_requested_seconds_total', tickets)).toBe(2);
    expect(value(text, 'zendesk_export_retry_after_waited_seconds_total', account)).toBe(2);
    expect(value(text, 'zendesk_export_api_calls_total', { ...tickets, endpoint: 'exports' })).toBe(status.calls);
    expect(value(text, 'zendesk_export_api_calls_total', { ...tickets, outcome: 'rate_limited' })).toBe(1);
    expect(value(text, 'zendesk_export_api_calls_total', { ...tickets, outcome: 'page' })).toBe(status.calls - 1);
    expect(value(text, 'zendesk_export_blocked', tickets)).toBe(0);
    const lastSuccess = value(text, 'zendesk_export_last_success_timestamp_seconds', tickets);
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(120);
    const lag = value(text, 'zendesk_export_lag_seconds', tickets);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(120);
    // The SDK's own series are on the same endpoint.
    expect(text).toMatch(
      /^temporal_workflow_completed|^temporal_activity_execution_latency|^temporal_worker_task_slots/m,
    );
    expect(text).toContain('temporal_activity_execution_latency');
    for (const secret of secretsOf(h.config.accounts[0].auth)) expect(text).not.toContain(secret);
  });
});
