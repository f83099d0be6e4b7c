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
import { isStreamName, STREAMS, type StreamName } from '../../src/streams/names';
import {
  ExportInput,
  ExportStatus,
  pauseSignal,
  resetCursorUpdate,
  resumeSignal,
  statusQuery,
} from '../../src/workflows/messages';
import { compareSinkWithTruth, diffSinkWithTruth, spawnWorkerProcess, WorkerProcess } from '../support/processes';
import { describeStreamDifferences, diffStreamsWithTruth, STREAM_TABLES } from '../support/stream-truth';
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
  /** The streams read (the workflow input's `streams`); default all five. */
  streams?: StreamName[];
  /**
   * The export's pacing of the incremental bucket (tickets, ticket events, organizations, metric events) and of the
   * users cursor bucket, calls a minute: Zendesk's 10 and 20 scaled up. The emulator enforces twice as many.
   */
  requestsPerMinute: number;
  usersRequestsPerMinute: number;
  mutations: { intervalMs: number; perTick: number };
  seed: number;
  /** A prebuilt workflow bundle; default: bundled at start. */
  bundlePath?: string;
  /** Write every run's history here (the replay fixtures). */
  recordHistoriesTo?: string;
  log?: (line: string) => void;
}

/** One table of the sink against the emulator's truth at the end. */
export interface TableComparison {
  inTruth: number;
  stored: number;
  missing: number;
  extra: number;
  differing: number;
}

export interface ChaosSummary {
  options: Omit<ChaosOptions, 'log' | 'bundlePath' | 'recordHistoriesTo'> & { streams: StreamName[] };
  faults: Record<string, number>;
  ticketsInTruth: number;
  ticketsLost: number;
  staleTickets: number;
  /** Every table (tickets and the stream tables) against the truth; `rowsCompared` adds up their truths. */
  tables: Record<string, TableComparison>;
  rowsCompared: number;
  /** Tables that differ from the truth, described ('' when none). */
  tableDifferences: string;
  /** The emulator's per-bucket counters: calls over the budget and 429s the export caused must both be 0. */
  buckets: Record<
    string,
    { limitPerMinute: number; accepted: number; rateLimited: number; injected: number; overBudget: number }
  >;
  /** Seconds from each fault until the next page was stored, by fault; and the longest. */
  recoverySeconds: Record<string, number[]>;
  longestRecoverySeconds: number;
  callsBeforeRetryAfter: number;
  /** Samples in which a stream's cursor stood more than one stored page behind its checkpoint in the sink. */
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

/** The tables each stream fills (besides its checkpoint). */
function tablesOf(streams: readonly StreamName[]): string[] {
  return STREAM_TABLES.filter((table) =>
    streams.some((stream) => (stream === 'ticket_events' ? table.startsWith('ticket_') : table === stream)),
  );
}

/** Pages stored by every stream (status.pages counts the tickets stream's only). */
function pagesOf(status: ExportStatus): number {
  return status.streams ? status.streams.reduce((sum, row) => sum + row.pages, 0) : status.pages;
}

/** Each stream's cursor as status shows it (workers before streams: the tickets stream's only). */
function cursorsOf(status: ExportStatus): { stream: StreamName; cursor: number }[] {
  return status.streams ?? [{ stream: 'tickets', cursor: status.cursor }];
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
  const started = Date.now();
  const log = (line: string) => options.log?.(`+${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
  const streams = options.streams ?? [...STREAMS];
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
      // Zendesk's buckets, scaled up: the export paces itself at half of them, so any 429 of the limit's is its fault.
      incrementalRequestsPerMinute: 2 * options.requestsPerMinute,
      usersCursorRequestsPerMinute: 2 * options.usersRequestsPerMinute,
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
    // The worker's codecs: a status with a row per stream is big enough to travel gzipped.
    const client = new Client({ connection, dataConverter: createDataConverter() });
    const workflowId = workflowIdFor(account);
    const handle = client.workflow.getHandle(workflowId);
    const input: ExportInput = {
      account,
      api: options.api,
      startTime: 0,
      // Five streams poll once caught up, and each poll stores its boundary second again: five seconds apart, they
      // leave most turns to the streams still catching up (ticket metric events, 100 a page).
      pollIntervalSeconds: 5,
      minStartAgeSeconds: 1,
      pagesPerRun: options.pagesPerRun,
      streams,
      requestsPerMinute: options.requestsPerMinute,
      usersRequestsPerMinute: options.usersRequestsPerMinute,
      ...(options.api === 'exports' ? {} : { perPage: options.perPage }),
    };
    await client.workflow.start('ticketExportWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [{ key: ZENDESK_ACCOUNT, value: account }],
    });
    sink = await PostgresSink.open(postgres.url);

    // The invariant, sampled throughout: every stream's cursor in the workflow is at most one stored page behind that
    // stream's checkpoint in the sink (tickets: export_checkpoints; the others: stream_checkpoints).
    let sampling = true;
    interface Watch {
      seen: Set<number>;
      last?: number;
      /** The cursor before a reset moved it back; cleared once the re-export reaches it again. */
      resetFrom?: number;
    }
    const watches = new Map<StreamName, Watch>();
    const storedCheckpoints = async (): Promise<Map<StreamName, number>> => {
      const stored = new Map<StreamName, number>();
      const tickets = await sink!.readFullCheckpoint(account);
      if (tickets) stored.set('tickets', tickets.cursor);
      for (const row of await sink!.readStreamTable(account, 'stream_checkpoints')) {
        if (isStreamName(row.stream) && row.cursor !== null) stored.set(row.stream, Number(row.cursor));
      }
      return stored;
    };
    let violations = 0;
    const sampler = (async () => {
      while (sampling) {
        try {
          // The checkpoints first, then the cursors: a cursor only moves forward (resets aside), so a page stored
          // between the two reads cannot look like a violation.
          const stored = await storedCheckpoints();
          const status = await handle.query(statusQuery);
          for (const { stream, cursor } of cursorsOf(status)) {
            const watch = watches.get(stream) ?? { seen: new Set<number>() };
            watches.set(stream, watch);
            // A reset moves the cursor back on purpose: the checkpoints from before it say nothing about the export
            // after it, and the page in flight at the reset still stores its pre-reset checkpoint, beyond `resetFrom`.
            if (watch.last !== undefined && cursor < watch.last) {
              watch.seen = new Set();
              watch.resetFrom = watch.last;
            }
            if (watch.resetFrom !== undefined && cursor >= watch.resetFrom) watch.resetFrom = undefined;
            watch.last = cursor;
            const checkpoint = stored.get(stream);
            const preReset = watch.resetFrom !== undefined && checkpoint !== undefined && checkpoint > watch.resetFrom;
            if (checkpoint !== undefined && !preReset) watch.seen.add(checkpoint);
            const ahead = [...watch.seen].filter((c) => c > cursor).length;
            if (ahead > 1) {
              violations++;
              log(`invariant: ${stream} cursor ${cursor} is ${ahead} checkpoints behind the sink`);
            }
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
        async () => (pagesOf(await status()) > pagesOf(before) ? true : undefined),
        90_000,
      );
    };
    const recoverySeconds: Record<string, number[]> = {};

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
      if (event === 'killWorker') await sleep(Math.floor(rng() * 400));
      const faultAt = Date.now();
      switch (event) {
        case 'killWorker': {
          worker.child.kill('SIGKILL');
          count('worker SIGKILLed');
          break;
        }
        case 'killWorkerDuringPersist': {
          const persisting = await until(
            'a page being persisted',
            async () => {
              const s = await status();
              return s.phase === 'persisting' || s.streams?.some((row) => row.phase === 'persisting')
                ? true
                : undefined;
            },
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
          // The 401 goes to whichever stream calls first: that stream blocks, the others go on.
          await until(
            'blocked',
            async () => {
              const s = await status();
              return s.blocked || s.streams?.some((row) => row.blocked) ? true : undefined;
            },
            60_000,
          );
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
      (recoverySeconds[event] ??= []).push(Math.round((Date.now() - faultAt) / 100) / 10);
    }

    emulator.stopMutations();
    log('chaos: mutations stopped; waiting for every table to equal the truth');
    // Caught up when every stream says so and every table equals the truth; if that never comes, the summary says
    // what differs. The stream tables are read whole, so they are compared only once the tickets agree.
    const tables = tablesOf(streams);
    const equalDeadline = Date.now() + 600_000;
    let shownAt = 0;
    for (let equal = false; !equal;) {
      try {
        const s = await status();
        const caughtUp = (s.streams ?? [s]).every((row) => row.caughtUp && !row.blocked);
        if (Date.now() - shownAt > 10_000) {
          shownAt = Date.now();
          const rows = (s.streams ?? []).map(
            (r) => `${r.stream} ${r.phase}${r.caughtUp ? ' (caught up)' : ''} ${r.pages}p`,
          );
          log(`chaos: ${rows.join(', ')}`);
        }
        if (caughtUp && (await compareSinkWithTruth(sink, account, options.api, emulator, 'postgres')) === '') {
          equal = describeStreamDifferences(await diffStreamsWithTruth(sink, emulator, account, tables)) === '';
        }
      } catch {
        // a query while the worker restarts
      }
      if (equal) break;
      if (Date.now() > equalDeadline) {
        log('chaos: the sink did not come to equal the truth within 600 s');
        break;
      }
      await sleep(1000);
    }
    log('chaos: compared');
    sampling = false;
    await sampler;
    const differences = await diffSinkWithTruth(sink, account, options.api, emulator, 'postgres');
    const streamDifferences = await diffStreamsWithTruth(sink, emulator, account, tables);
    const ticketsTruth = options.api === 'exports' ? emulator.truth() : emulator.truthFull();
    const storedTickets = ticketsTruth.length - differences.missing.length + differences.extra.length;
    const tableComparisons: Record<string, TableComparison> = {
      tickets: {
        inTruth: ticketsTruth.length,
        stored: storedTickets,
        missing: differences.missing.length,
        extra: differences.extra.length,
        differing: differences.stale.length,
      },
    };
    for (const d of streamDifferences) {
      tableComparisons[d.table] = {
        inTruth: d.inTruth,
        stored: d.stored,
        missing: d.missing.length,
        extra: d.extra.length,
        differing: d.differing.length,
      };
    }
    const ticketProblems = await compareSinkWithTruth(sink, account, options.api, emulator, 'postgres');
    const tableDifferences = [
      ticketProblems && `tickets: ${ticketProblems}`,
      describeStreamDifferences(streamDifferences),
    ]
      .filter(Boolean)
      .join('\n');
    const emulatorStats = emulator.stats();
    const limits = { incremental: 2 * options.requestsPerMinute, users_cursor: 2 * options.usersRequestsPerMinute };
    const buckets: ChaosSummary['buckets'] = {};
    for (const [name, counters] of Object.entries(emulatorStats.buckets)) {
      buckets[name] = { limitPerMinute: limits[name as keyof typeof limits], ...counters };
    }

    const historyEvents: Record<string, number> = {};
    // A recording replaces the earlier one whole: a run that continued as new fewer times leaves no stale file behind.
    if (options.recordHistoriesTo) {
      for (const file of fs.readdirSync(options.recordHistoriesTo)) {
        if (file.startsWith(`chaos-${options.api}-run-`)) fs.rmSync(path.join(options.recordHistoriesTo, file));
      }
    }
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
    log(`chaos: replaying ${histories.length} runs`);
    // Every run replays with today's workflow code, claim-checked payloads read back from PostgreSQL.
    const blobStore = await PostgresBlobStore.open(postgres.url);
    try {
      await replayHistories(histories, { bundlePath, dataConverter: createDataConverter(blobStore) });
    } finally {
      await blobStore.close();
    }

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
        streams,
        requestsPerMinute: options.requestsPerMinute,
        usersRequestsPerMinute: options.usersRequestsPerMinute,
        mutations: options.mutations,
        seed: options.seed,
      },
      faults,
      ticketsInTruth: ticketsTruth.length,
      ticketsLost: differences.missing.length,
      staleTickets: differences.stale.length,
      tables: tableComparisons,
      rowsCompared: Object.values(tableComparisons).reduce((sum, t) => sum + t.inTruth, 0),
      tableDifferences,
      buckets,
      recoverySeconds,
      longestRecoverySeconds: Math.max(0, ...Object.values(recoverySeconds).flat()),
      callsBeforeRetryAfter: emulatorStats.callsBeforeRetryAfter,
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
