import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDataConverter } from '../../src/codec/claim-check';
import { fetchRunHistories, replayHistories } from '../support/histories';
import { bundleWorkflows } from '../../src/temporal/workflow-bundle';
import { PostgresBlobStore } from '../../src/codec/postgres-blob-store';
import { freePort, startDevServer, DevServer } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS, Emulator, startEmulator } from '../../src/emulator';
import { ExportApi, workflowIdFor, ZENDESK_ACCOUNT } from '../../src/shared';
import { PostgresSink } from '../../src/storage/postgres';
import { ExportInput, pauseSignal, resetCursorUpdate, resumeSignal, statusQuery } from '../../src/workflows/messages';
import { compareSinkWithTruth, diffSinkWithTruth, spawnWorkerProcess, WorkerProcess } from '../support/processes';
import { PrivatePostgres, startPrivatePostgres } from './private-postgres';

export interface ChaosOptions {
  tickets: number;
  api: ExportApi;
  /** SIGKILLs of the worker; one of them lands while a page is being persisted. */
  workerKills: number;
  temporalRestarts: number;
  postgresRestarts: number;
  perPage: number;
  pagesPerRun: number;
  mutations: { intervalMs: number; perTick: number };
  seed: number;
  /** A prebuilt workflow bundle; default: bundled at start. */
  bundlePath?: string;
  /** Write every run's history here (the replay fixtures). */
  recordHistoriesTo?: string;
  log?: (line: string) => void;
}

export interface ChaosSummary {
  options: Omit<ChaosOptions, 'log' | 'bundlePath' | 'recordHistoriesTo'>;
  faults: Record<string, number>;
  ticketsInTruth: number;
  ticketsLost: number;
  staleTickets: number;
  callsBeforeRetryAfter: number;
  cursorMoreThanOnePageBehindCheckpoint: number;
  runs: number;
  historyEvents: Record<string, number>;
  secretsInWorkerLogs: number;
  seconds: number;
}

type Event =
  | 'killWorker'
  | 'killWorkerDuringPersist'
  | 'killTemporal'
  | 'restartPostgres'
  | 'rateLimitStorm'
  | 'serverErrors'
  | 'unauthorized'
  | 'pauseResume'
  | 'reset';

/** A seeded generator (mulberry32) so a failing run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}${last ? ` (${last})` : ''}`);
    await sleep(100);
  }
}

/**
 * Catch-up of a Zendesk account with live changes while the worker, the Temporal server and PostgreSQL are killed
 * and the API misbehaves; then the sink must equal the emulator's truth.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const rng = random(options.seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-chaos-'));
  const faults: Record<string, number> = {};
  const count = (fault: string, n = 1) => (faults[fault] = (faults[fault] ?? 0) + n);
  let postgres: PrivatePostgres | undefined;
  let server: DevServer | undefined;
  let emulator: Emulator | undefined;
  let connection: Connection | undefined;
  let sink: PostgresSink | undefined;
  let worker: WorkerProcess | undefined;
  let supervising = true;
  const workerLogs: string[] = [];
  try {
    // Its own temp directory: the server runs as the postgres user, who cannot enter the root-owned chaos directory.
    postgres = await startPrivatePostgres(fs.mkdtempSync(path.join(os.tmpdir(), 'zte-chaos-pg-')));
    const temporalPort = await freePort();
    const dbFilename = path.join(dir, 'temporal.db');
    const startServer = () => startDevServer({ dbFilename, port: temporalPort, stderr: 'ignore' });
    server = await startServer();
    let bundlePath = options.bundlePath;
    if (!bundlePath) {
      bundlePath = path.join(dir, 'workflow-bundle.js');
      fs.writeFileSync(bundlePath, await bundleWorkflows());
    }
    emulator = await startEmulator({
      ticketCount: options.tickets,
      seed: options.seed,
      windowSeconds: 0,
      minStartAgeSeconds: 1,
      incrementalRequestsPerMinute: 0,
      incrementalMinStartAgeSeconds: 1,
      mutations: options.mutations,
    });
    const account = new URL(emulator.url).host;
    const taskQueue = `chaos-${randomUUID()}`;
    const workerEnv = {
      ZENDESK_BASE_URL: emulator.url,
      ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
      ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SINK_URL: postgres.url,
      LOG_LEVEL: 'DEBUG',
    };
    const spawn = () => {
      const w = spawnWorkerProcess(workerEnv, { address: server!.address, bundlePath: bundlePath! });
      void w.exited.then(() => workerLogs.push(w.output()));
      return w;
    };
    worker = spawn();
    // A process manager's restart: whenever the worker dies, a new one starts a moment later.
    const supervisor = (async () => {
      while (supervising) {
        const exited = worker!.exited;
        await Promise.race([exited, sleep(500)]);
        if (supervising && worker!.child.exitCode !== null) worker = spawn();
        else if (supervising && worker!.child.signalCode !== null) worker = spawn();
      }
    })();

    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const workflowId = workflowIdFor(account);
    const handle = client.workflow.getHandle(workflowId);
    const input: ExportInput = {
      account,
      api: options.api,
      startTime: 0,
      pollIntervalSeconds: 0.3,
      minStartAgeSeconds: 1,
      pagesPerRun: options.pagesPerRun,
      ...(options.api === 'exports' ? {} : { requestsPerMinute: 600, perPage: options.perPage }),
    };
    await client.workflow.start('ticketExportWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [{ key: ZENDESK_ACCOUNT, value: account }],
    });
    sink = await PostgresSink.open(postgres.url);

    // The invariant, sampled throughout: the workflow's cursor is at most one stored page behind the sink's checkpoint.
    let sampling = true;
    let seenCheckpoints = new Set<number>();
    let lastCursor: number | undefined;
    // The cursor before a reset moved it back; cleared once the re-export reaches it again.
    let resetFrom: number | undefined;
    let violations = 0;
    const sampler = (async () => {
      while (sampling) {
        try {
          // The checkpoint first, then the cursor: the cursor only moves forward (resets aside), so a page stored
          // between the two reads cannot look like a violation.
          const checkpoint = await sink!.readFullCheckpoint(account);
          const status = await handle.query(statusQuery);
          // A reset moves the cursor back on purpose: the checkpoints from before it say nothing about the export
          // after it, and the page in flight at the reset still stores its pre-reset checkpoint, beyond `resetFrom`.
          if (lastCursor !== undefined && status.cursor < lastCursor) {
            seenCheckpoints = new Set();
            resetFrom = lastCursor;
          }
          if (resetFrom !== undefined && status.cursor >= resetFrom) resetFrom = undefined;
          lastCursor = status.cursor;
          const preReset = resetFrom !== undefined && checkpoint !== undefined && checkpoint.cursor > resetFrom;
          if (checkpoint && !preReset) seenCheckpoints.add(checkpoint.cursor);
          const ahead = [...seenCheckpoints].filter((c) => c > status.cursor).length;
          if (ahead > 1) {
            violations++;
            log(`invariant: cursor ${status.cursor} is ${ahead} checkpoints behind the sink`);
          }
        } catch {
          // Temporal or the worker is down right now: nothing to sample.
        }
        await sleep(150);
      }
    })();

    const status = () => handle.query(statusQuery);
    const progressAfter = async (what: string) => {
      const before = await until('a status', () => status(), 60_000);
      await until(
        `progress after ${what}`,
        async () => ((await status()).pages > before.pages ? true : undefined),
        90_000,
      );
    };

    const plan: Event[] = [
      ...Array<Event>(Math.max(0, options.workerKills - 1)).fill('killWorker'),
      'killWorkerDuringPersist',
      ...Array<Event>(options.temporalRestarts).fill('killTemporal'),
      ...Array<Event>(options.postgresRestarts).fill('restartPostgres'),
      'rateLimitStorm',
      'serverErrors',
      'unauthorized',
      'pauseResume',
      'reset',
    ];
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [plan[i], plan[j]] = [plan[j], plan[i]];
    }
    await progressAfter('the start');
    for (const event of plan) {
      log(`chaos: ${event}`);
      switch (event) {
        case 'killWorker': {
          await sleep(Math.floor(rng() * 400));
          worker.child.kill('SIGKILL');
          count('worker SIGKILLed');
          break;
        }
        case 'killWorkerDuringPersist': {
          const persisting = await until(
            'a page being persisted',
            async () => ((await status()).phase === 'persisting' ? true : undefined),
            60_000,
          ).catch(() => false);
          worker.child.kill('SIGKILL');
          count(persisting ? 'worker SIGKILLed during persist' : 'worker SIGKILLed');
          break;
        }
        case 'killTemporal': {
          server.process.kill('SIGKILL');
          await new Promise((resolve) => server!.process.once('exit', resolve));
          await sleep(1000);
          server = await startServer();
          count('Temporal server SIGKILLed and restarted');
          break;
        }
        case 'restartPostgres': {
          await postgres.crashRestart();
          count('PostgreSQL crashed and restarted');
          break;
        }
        case 'rateLimitStorm': {
          emulator.injectFaults([{ kind: 'rateLimit', retryAfter: '1', count: 5 }]);
          count('429 (Retry-After 1)', 5);
          break;
        }
        case 'serverErrors': {
          emulator.injectFaults([
            { kind: 'status', status: 500 },
            { kind: 'status', status: 502 },
            { kind: 'status', status: 503, retryAfter: '1' },
            { kind: 'reset' },
            { kind: 'truncated' },
            { kind: 'html200' },
          ]);
          count('5xx, reset, truncated or HTML answers', 6);
          break;
        }
        case 'unauthorized': {
          emulator.injectFaults([{ kind: 'status', status: 401 }]);
          await until('blocked', async () => ((await status()).blocked ? true : undefined), 60_000);
          await handle.signal(resumeSignal);
          count('401 (blocked, then resumed)');
          break;
        }
        case 'pauseResume': {
          await handle.signal(pauseSignal);
          await until('paused', async () => ((await status()).paused ? true : undefined), 30_000);
          await sleep(500);
          await handle.signal(resumeSignal);
          count('paused and resumed');
          break;
        }
        case 'reset': {
          const current = await status();
          const back = Math.max(0, current.cursor - 3600);
          await handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: back }] });
          count('cursor reset one hour back');
          break;
        }
      }
      await progressAfter(event);
    }

    emulator.stopMutations();
    // Caught up when the sink equals the truth; if it never does, the summary says how many tickets were lost.
    await until(
      'the sink to equal the truth',
      async () =>
        (await compareSinkWithTruth(sink!, account, options.api, emulator!, 'postgres')) === '' ? true : undefined,
      180_000,
    ).catch((err: Error) => log(err.message));
    const differences = await diffSinkWithTruth(sink, account, options.api, emulator, 'postgres');
    sampling = false;
    await sampler;

    const historyEvents: Record<string, number> = {};
    const histories: { name: string; json: string }[] = [];
    for (const [i, run] of (await fetchRunHistories(client, workflowId)).entries()) {
      for (const event of run.history.events ?? []) {
        const type = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
        historyEvents[type] = (historyEvents[type] ?? 0) + 1;
      }
      const name = `chaos-${options.api}-run-${String(i + 1).padStart(2, '0')}`;
      histories.push({ name, json: run.json });
      if (options.recordHistoriesTo) fs.writeFileSync(path.join(options.recordHistoriesTo, `${name}.json`), run.json);
    }
    // Every run replays with today's workflow code, claim-checked payloads read back from PostgreSQL.
    const blobStore = await PostgresBlobStore.open(postgres.url);
    try {
      await replayHistories(histories, { bundlePath, dataConverter: createDataConverter(blobStore) });
    } finally {
      await blobStore.close();
    }

    const truth = options.api === 'exports' ? emulator.truth() : emulator.truthFull();
    supervising = false;
    worker.child.kill('SIGTERM');
    await worker.exited;
    await supervisor;
    const logs = [...workerLogs, worker.output()].join('\n');
    return {
      options: {
        tickets: options.tickets,
        api: options.api,
        workerKills: options.workerKills,
        temporalRestarts: options.temporalRestarts,
        postgresRestarts: options.postgresRestarts,
        perPage: options.perPage,
        pagesPerRun: options.pagesPerRun,
        mutations: options.mutations,
        seed: options.seed,
      },
      faults,
      ticketsInTruth: truth.length,
      ticketsLost: differences.missing.length,
      staleTickets: differences.stale.length,
      callsBeforeRetryAfter: emulator.stats().callsBeforeRetryAfter,
      cursorMoreThanOnePageBehindCheckpoint: violations,
      runs: histories.length,
      historyEvents,
      secretsInWorkerLogs: [DEFAULT_CREDENTIALS.apiToken, DEFAULT_CREDENTIALS.password].filter((s) => logs.includes(s))
        .length,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    supervising = false;
    worker?.child.kill('SIGKILL');
    await connection?.close().catch(() => undefined);
    await sink?.close().catch(() => undefined);
    emulator?.stopMutations();
    await emulator?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
