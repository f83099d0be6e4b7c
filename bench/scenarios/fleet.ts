import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { accountVariablePrefix } from '../../src/config/account-credentials';
import { DEFAULT_CREDENTIALS, Emulator, startEmulator } from '../../src/emulator';
import type { EmulatorLogEntry } from '../../src/emulator/stats';
import { STREAMS } from '../../src/streams/names';
import { statusQuery, type ExportInput } from '../../src/workflows/messages';
import type { TicketRow } from '../../src/storage/sink';
import { ZendeskClient } from '../../src/zendesk/client';
import {
  BenchEnv,
  BenchWorker,
  openSink,
  startBenchWorker,
  startExport,
  stopExport,
  waitUntil,
} from '../support/pipeline';
import { bucketQuantile, quantile, round } from '../support/stats';

export interface FleetOptions {
  /** Accounts on the one worker process, one emulator (one account) each. */
  accounts: number;
  /** Tickets behind, per account, at the start: not a multiple of perPage, so that the last catch-up page is short. */
  ticketsPerAccount: number;
  /** Catch-up pacing per account: the API ceiling, scaled (Zendesk: 10, or 30 with High Volume). */
  requestsPerMinute: number;
  /** Rows per page on the cursor endpoint (Zendesk: up to 1000). */
  perPage: number;
  /** Caught up: seconds between two calls of an account (Zendesk: 300 by default), scaled. */
  pollIntervalSeconds: number;
  /** Live changes per account during the steady window. */
  mutations: { intervalMs: number; perTick: number };
  /** How long the steady state is measured. */
  steadySeconds: number;
  /** The worker's sink: a SQLite file or a PostgreSQL database, every account in it (SINK_URL). Empty at the start. */
  sinkUrl: string;
  /** Also K plain loops (no Temporal) on fresh emulators, same pacing, into this sink (another file or database). */
  plainSinkUrl?: string;
  /**
   * All five streams per account (tickets, ticket events, users, organizations, metric events), not tickets alone:
   * the catch-up is then waited out (every stream caught up) but not measured against the ceiling, and no plain loops.
   */
  streams?: boolean;
  /** With streams: the users cursor bucket's pacing (and the emulator's limit); default 2 × requestsPerMinute. */
  usersRequestsPerMinute?: number;
}

/**
 * K accounts on one worker process, the cursor endpoint, one sink (SQLite or PostgreSQL): K accounts behind by N
 * tickets catch up at the scaled API ceiling, then every account polls at a scaled interval while the emulators change
 * tickets.
 * The emulators (one per account, each on its own port: the account name is host:port) run in the bench process;
 * the worker is the compiled worker in its own process, so its CPU and RSS are its own.
 */
export async function measureFleet(env: BenchEnv, options: FleetOptions) {
  const k = options.accounts;
  const emulators: Emulator[] = [];
  let worker: BenchWorker | undefined;
  const workflowIds: string[] = [];
  try {
    for (let i = 0; i < k; i++) {
      emulators.push(await startAccountEmulator(options, i));
    }
    const accounts = emulators.map((e) => new URL(e.url).host);
    // Each account names a variable of its own (the accounts file's rule), all holding the emulator's token.
    const tokenVariable = (account: string) => `${accountVariablePrefix(account)}API_TOKEN`;
    const accountsFile = path.join(env.dir, `fleet-${k}-accounts.yaml`);
    fs.writeFileSync(
      accountsFile,
      'accounts:\n' +
        emulators
          .map(
            (e, i) =>
              `  - name: "${accounts[i]}"\n    baseUrl: ${e.url}\n    email: ${DEFAULT_CREDENTIALS.email}\n` +
              `    apiTokenEnv: ${tokenVariable(accounts[i])}\n    api: cursor\n`,
          )
          .join(''),
    );
    worker = await startBenchWorker(env, {
      sinkUrl: options.sinkUrl,
      extraEnv: {
        ZENDESK_ACCOUNTS_FILE: accountsFile,
        ...Object.fromEntries(accounts.map((account) => [tokenVariable(account), DEFAULT_CREDENTIALS.apiToken])),
      },
    });
    const sink = await openSink(options.sinkUrl);
    try {
      // ---- catch-up: every account behind by N tickets, paced at the (scaled) ceiling ----
      const startedAt = Date.now();
      for (const account of accounts) {
        const input: ExportInput = {
          account,
          api: 'cursor',
          startTime: 0,
          pollIntervalSeconds: options.pollIntervalSeconds,
          minStartAgeSeconds: 1,
          requestsPerMinute: options.requestsPerMinute,
          perPage: options.perPage,
          ...(options.streams && { streams: [...STREAMS], usersRequestsPerMinute: usersPerMinute(options) }),
        };
        workflowIds.push((await startExport(env, worker, input)).workflowId);
      }
      const expectedPages = Math.ceil(options.ticketsPerAccount / options.perPage);
      const catchUpMs = (expectedPages * 60_000) / options.requestsPerMinute;
      await waitUntil(
        `${k} accounts caught up`,
        async () => {
          for (const account of accounts)
            if ((await sink.countTickets(account)) < options.ticketsPerAccount) return false;
          return true;
        },
        Math.max(120_000, catchUpMs * 4),
        () => worker!.output(),
        250,
      );
      if (options.streams) await allStreamsCaughtUp(env, workflowIds, () => worker!.output());
      const allStoredAt = Date.now();
      // With streams the tickets stream shares its bucket: only the wall clock of the whole catch-up is given.
      const catchUp = options.streams ? null : catchUpFigures(emulators, options, startedAt, allStoredAt);
      const catchUpWallSeconds = round((allStoredAt - startedAt) / 1000, 2);

      // ---- steady state: caught up, polling every interval, tickets changing ----
      // Two polls of every account first, so that the window holds only idle pacing.
      await sleep(2 * options.pollIntervalSeconds * 1000 + 500);
      emulators.forEach((e) => e.startMutations(options.mutations));
      const steady = await steadyWindow(worker, emulators, options, env.server.process.pid);
      emulators.forEach((e) => e.stopMutations());
      const plainLoops =
        options.plainSinkUrl && !options.streams ? await plainCatchUp(options, options.plainSinkUrl) : undefined;
      return {
        accounts: k,
        emulators: `${k} emulator instances (one account each, own port) inside the bench process`,
        sink: describeSink(options.sinkUrl),
        api: 'cursor',
        streams: options.streams ? [...STREAMS] : ['tickets'],
        catchUp,
        catchUpWallSeconds,
        plainLoops,
        steady,
        workerPeakRssMbSinceStart: round(peakRssMb(worker.pid) ?? NaN, 1),
        rateLimited: emulators.reduce((n, e) => n + (e.stats().byStatus['429'] ?? 0), 0),
        callsBeforeRetryAfter: emulators.reduce((n, e) => n + e.stats().callsBeforeRetryAfter, 0),
      };
    } finally {
      await sink.close();
    }
  } finally {
    await Promise.all(workflowIds.map((id) => stopExport(env, id)));
    await worker?.stop();
    emulators.forEach((e) => e.stopMutations());
    await Promise.all(emulators.map((e) => e.close()));
  }
}

/** The emulator's log names of the five streams' endpoints (the tickets stream on the cursor endpoint). */
const STREAM_ENDPOINTS = ['cursor', 'ticket_events', 'users_cursor', 'organizations', 'ticket_metric_events'];

function usersPerMinute(options: FleetOptions): number {
  return options.usersRequestsPerMinute ?? 2 * options.requestsPerMinute;
}

/** Resolves once every stream of every export shows caught up. */
async function allStreamsCaughtUp(env: BenchEnv, workflowIds: string[], output: () => string) {
  const behind = new Set(workflowIds);
  await waitUntil(
    `every stream of ${workflowIds.length} accounts caught up`,
    async () => {
      for (const id of [...behind]) {
        const status = await env.client.workflow.getHandle(id).query(statusQuery);
        if ((status.streams ?? []).every((s) => s.caughtUp)) behind.delete(id);
      }
      return behind.size === 0;
    },
    300_000,
    () => `${behind.size} accounts behind\n${output()}`,
    1000,
  );
}

function describeSink(sinkUrl: string): string {
  return sinkUrl.startsWith('sqlite:') ? 'sqlite (one file, every account)' : 'postgres (one database, every account)';
}

/**
 * Per account, from the emulator's log: the catch-up calls (up to the first short page) against the ceiling, i.e.
 * (calls - 1) gaps of 60/requestsPerMinute s each over the time the calls actually took.
 */
function catchUpFigures(emulators: Emulator[], options: FleetOptions, startedAt: number, allStoredAt: number) {
  const ceilingTicketsPerSecond = (options.requestsPerMinute / 60) * options.perPage;
  const fractions: number[] = [];
  for (const e of emulators) {
    const log = e.stats().log.filter((entry) => entry.endpoint === 'cursor' && entry.status === 200);
    const end = log.findIndex((entry) => entry.rows < options.perPage);
    const calls = log.slice(0, end < 0 ? log.length : end + 1);
    if (calls.length < 2) continue;
    const idealMs = ((calls.length - 1) * 60_000) / options.requestsPerMinute;
    fractions.push(idealMs / (calls.at(-1)!.at - calls[0].at));
  }
  const perAccount = fractions.map((f) => f * ceilingTicketsPerSecond);
  const aggregate = perAccount.reduce((a, b) => a + b, 0);
  const total = emulators.length * options.ticketsPerAccount;
  return {
    ticketsPerAccount: options.ticketsPerAccount,
    requestsPerMinute: options.requestsPerMinute,
    perPage: options.perPage,
    ceilingTicketsPerSecondPerAccount: ceilingTicketsPerSecond,
    /** Sum over accounts of each account's paced rate (first to last catch-up call). */
    aggregateTicketsPerSecond: Math.round(aggregate),
    aggregateOfCeiling: round(aggregate / (emulators.length * ceilingTicketsPerSecond), 3),
    minAccountOfCeiling: round(Math.min(...fractions), 3),
    p50AccountOfCeiling: round(quantile(fractions, 0.5), 3),
    /** Wall clock, from the first workflow start to every ticket stored: includes starting K workflows. */
    wallSeconds: round((allStoredAt - startedAt) / 1000, 2),
    wallTicketsPerSecond: Math.round(total / ((allStoredAt - startedAt) / 1000)),
  };
}

/** Account i's emulator: the same seed and tickets for the pipeline and for the plain loops. */
function startAccountEmulator(options: FleetOptions, i: number): Promise<Emulator> {
  return startEmulator({
    ticketCount: options.ticketsPerAccount,
    seed: 100 + i,
    // Small tickets: the emulators share the bench process and its CPU with the Temporal client.
    descriptionBytes: [200, 600],
    incrementalRequestsPerMinute: options.requestsPerMinute,
    usersCursorRequestsPerMinute: usersPerMinute(options),
    incrementalMinStartAgeSeconds: 1,
  });
}

/** The same catch-up as K plain async loops in this process: fetch, store, wait out 60/requestsPerMinute s. */
async function plainCatchUp(options: FleetOptions, sinkUrl: string) {
  const emulators: Emulator[] = [];
  const sink = await openSink(sinkUrl);
  try {
    for (let i = 0; i < options.accounts; i++) emulators.push(await startAccountEmulator(options, i));
    const gapMs = 60_000 / options.requestsPerMinute;
    const startedAt = Date.now();
    await Promise.all(
      emulators.map(async (e) => {
        const account = new URL(e.url).host;
        const zendesk = new ZendeskClient({
          baseUrl: e.url,
          auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
        });
        let afterCursor: string | undefined;
        for (;;) {
          const requestedAt = Date.now();
          const page = await zendesk.fetchCursorPage(
            afterCursor === undefined
              ? { startTime: 0, perPage: options.perPage }
              : { afterCursor, perPage: options.perPage },
          );
          if (page.kind !== 'page') throw new Error(`plain loop: unexpected ${page.kind} from the emulator`);
          const rows = page.rows as unknown as TicketRow[];
          const newest = rows.reduce((m, r) => Math.max(m, r.generated_timestamp), 0);
          await sink.persistPage({
            account,
            rows,
            fieldHeaders: {},
            cursor: newest,
            api: 'cursor',
            afterCursor: page.afterCursor ?? null,
          });
          if (page.endOfStream || !page.afterCursor) break;
          afterCursor = page.afterCursor;
          await sleep(Math.max(0, requestedAt + gapMs - Date.now()));
        }
      }),
    );
    const allStoredAt = Date.now();
    for (const e of emulators) {
      const stored = await sink.countTickets(new URL(e.url).host);
      if (stored !== options.ticketsPerAccount)
        throw new Error(`plain loop: ${stored} tickets stored, expected ${options.ticketsPerAccount}`);
    }
    return catchUpFigures(emulators, options, startedAt, allStoredAt);
  } finally {
    await sink.close();
    await Promise.all(emulators.map((e) => e.close()));
  }
}

async function steadyWindow(worker: BenchWorker, emulators: Emulator[], options: FleetOptions, serverPid?: number) {
  const ticks = clockTicks();
  const before = await (await fetch(worker.metricsUrl)).text();
  const windowStart = Date.now();
  const cpuStart = cpuSeconds(worker.pid, ticks);
  const serverCpuStart = serverPid === undefined ? NaN : cpuSeconds(serverPid, ticks);
  const benchCpuStart = process.cpuUsage();
  const rss: number[] = [];
  const deadline = windowStart + options.steadySeconds * 1000;
  while (Date.now() < deadline) {
    const mb = rssMbOf(worker.pid);
    if (mb !== undefined) rss.push(mb);
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
  const cpuEnd = cpuSeconds(worker.pid, ticks);
  const serverCpuEnd = serverPid === undefined ? NaN : cpuSeconds(serverPid, ticks);
  const benchCpu = process.cpuUsage(benchCpuStart);
  const windowEnd = Date.now();
  const after = await (await fetch(worker.metricsUrl)).text();

  // Pacing: each call of an account inside the window against its previous call plus the interval.
  const intervalMs = options.pollIntervalSeconds * 1000;
  const lateness: number[] = [];
  let calls = 0;
  let rows = 0;
  // With streams, each stream's calls against its own previous call (every stream polls at the interval).
  const endpoints = options.streams ? STREAM_ENDPOINTS : ['cursor'];
  for (const e of emulators) {
    const entries = e.stats().log;
    for (const endpoint of endpoints) {
      const log = entries.filter((entry: EmulatorLogEntry) => entry.endpoint === endpoint);
      for (let i = 1; i < log.length; i++) {
        if (log[i].at < windowStart || log[i].at > windowEnd) continue;
        calls++;
        if (endpoint === 'cursor') rows += log[i].rows;
        lateness.push(log[i].at - log[i - 1].at - intervalMs);
      }
    }
  }
  const latency = (name: string) => {
    const buckets = histogramDelta(before, after, name);
    return {
      tasks: buckets.at(-1)?.[1] ?? 0,
      p50Ms: roundOrNull(bucketQuantile(buckets, 0.5)),
      p99Ms: roundOrNull(bucketQuantile(buckets, 0.99)),
    };
  };
  return {
    seconds: round((windowEnd - windowStart) / 1000, 1),
    pollIntervalSeconds: options.pollIntervalSeconds,
    mutations: options.mutations,
    calls,
    ticketsChanged: rows,
    workerCpuPercentOfOneCore: round((100 * (cpuEnd - cpuStart)) / ((windowEnd - windowStart) / 1000), 1),
    /** The Temporal dev server (SQLite) and this bench process (the K emulators, the sink polls) over the same window. */
    devServerCpuPercentOfOneCore: round(
      (100 * (serverCpuEnd - serverCpuStart)) / ((windowEnd - windowStart) / 1000),
      1,
    ),
    benchProcessCpuPercentOfOneCore: round(
      (100 * ((benchCpu.user + benchCpu.system) / 1e6)) / ((windowEnd - windowStart) / 1000),
      1,
    ),
    workerRssMb: {
      mean: round(rss.reduce((a, b) => a + b, 0) / rss.length, 1),
      peak: round(Math.max(...rss), 1),
    },
    workflowTaskScheduleToStart: latency('temporal_workflow_task_schedule_to_start_latency'),
    workflowTaskExecution: latency('temporal_workflow_task_execution_latency'),
    /** How late each call came after the earliest moment the rules allowed (previous call + interval), ms. */
    lateMs: {
      p50: round(quantile(lateness, 0.5), 0),
      p99: round(quantile(lateness, 0.99), 0),
      max: round(Math.max(...lateness), 0),
      min: round(Math.min(...lateness), 0),
    },
  };
}

/** A Prometheus histogram's cumulative buckets (summed over labels) in `after` minus those in `before`. */
function histogramDelta(before: string, after: string, name: string): Array<[number, number]> {
  const parse = (metrics: string) => {
    const buckets = new Map<number, number>();
    for (const match of metrics.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)`, 'gm'))) {
      const le = /le="([^"]+)"/.exec(match[1])?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
    }
    return buckets;
  };
  const a = parse(before);
  return [...parse(after).entries()]
    .map(([bound, count]): [number, number] => [bound, count - (a.get(bound) ?? 0)])
    .sort((x, y) => x[0] - y[0]);
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value, 1);
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** User plus system CPU seconds of a process (every thread: the SDK's Rust core included), from /proc/<pid>/stat. */
function cpuSeconds(pid: number, ticks: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: count fields after its closing parenthesis (utime, stime: fields 14, 15).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function statusKb(pid: number, field: string): number | undefined {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb);
  } catch {
    return undefined;
  }
}

function rssMbOf(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmRSS');
  return kb === undefined ? undefined : kb / 1024;
}

function peakRssMb(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmHWM');
  return kb === undefined ? undefined : kb / 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
