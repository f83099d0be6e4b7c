import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { EAGER_ACTIVITIES, ROOT } from '../src/dev-server';
import { measureAnalyst } from './scenarios/analyst';
import { measureApiEfficiency } from './scenarios/api-efficiency';
import { measureDurability } from './scenarios/durability';
import { measureFleet } from './scenarios/fleet';
import { measureFreshness } from './scenarios/freshness';
import { analyseHistory, pagePayloadSizes } from './scenarios/history';
import { measureMemory } from './scenarios/memory';
import { measureMemoryBreakdown } from './scenarios/memory-breakdown';
import { measureOAuthTokens } from './scenarios/oauth-tokens';
import { measureSinkThroughput } from './scenarios/sink-throughput';
import { measureStartup } from './scenarios/startup';
import { measureStreamSinkThroughput } from './scenarios/stream-sink-throughput';
import {
  commentPageSizes,
  measureStreamsBudget,
  measureStreamsFreshness,
  streamsActions,
  streamsCatchUp,
  streamsHistory,
} from './scenarios/streams';
import { measureTemporalCost } from './scenarios/temporal-cost';
import { describeMachine } from './support/machine';
import { BenchEnv, startBenchEnv } from './support/pipeline';

export const SCENARIOS = [
  'sink-throughput',
  'durability',
  'history',
  'api-efficiency',
  'freshness',
  'memory',
  'startup',
  'oauth-tokens',
  'temporal-cost',
  'fleet',
  'streams-sink-throughput',
  'streams-budget',
  'streams-freshness',
  'streams-history',
  'streams-cost',
  'streams-fleet',
  'analyst',
] as const;
/** `--only streams`: every scenario of the streams around the ticket (≈ 10 minutes at full size). */
export const STREAMS_SCENARIOS = SCENARIOS.filter((name) => name.startsWith('streams-'));
/** Scenarios run only when `--only` names them (not part of a plain `npm run bench`, nor of its smoke test). */
export const OPT_IN_SCENARIOS = ['memory-breakdown'] as const;
export type ScenarioName = (typeof SCENARIOS)[number] | (typeof OPT_IN_SCENARIOS)[number];
/** The fleet scenario's sinks: `fleet-k<K>` results for SQLite, `fleet-postgres-k<K>` for PostgreSQL. */
export const FLEET_SINKS = ['sqlite', 'postgres'] as const;
export type FleetSink = (typeof FLEET_SINKS)[number];

/** Full size: the figures in docs/benchmarks.md. Smoke: the same code paths in seconds, for `npm test`. */
const SIZES = {
  full: {
    sinkPages: 100,
    // 1M full tickets filled per sink (≈ 5 minutes on SQLite, ≈ 10 on PostgreSQL); the persist cost on 30 pages, twice.
    analyst: { tickets: 1_000_000, costPages: 30, rounds: 2, runs: 5 },
    durabilityTickets: 100_000,
    api: { tickets: 10_000, intervalSeconds: 5, idleSeconds: 60 },
    freshness: { pacingSeconds: 3, seconds: 90 },
    memoryTickets: 1_000_000,
    // Issue 26: status 10 times per path, --version / --help 5 times, 3 worker starts per path; 30 s of steady RSS.
    startup: {
      commandRuns: 5,
      statusRuns: 10,
      workerStarts: 3,
      tickets: 5000,
      pollIntervalSeconds: 2,
      steadySeconds: 30,
    },
    memoryBreakdown: { settleSeconds: 5, workflowCounts: [1, 10, 50], optionWorkflows: 50, repeats: 3 },
    oauth: { seconds: 240, tokenSeconds: 15, tickets: 5000 },
    // The idle interval above the incremental endpoints' pacing (4 s > 3 s), as in production (300 s > 6 s), and a
    // pacing longer than a page's fetch and persist take, as in production: a timer before every call.
    cost: {
      tickets: 5000,
      intervalSeconds: 4,
      requestsPerMinute: 20,
      idleSeconds: 45,
      pagesPerRun: 2,
      queries: 5,
      slowCallMs: 15_000,
    },
    // Zendesk's ceiling of 30 calls a minute (High Volume) with pages of 100 rows, not 1000; a 2 s poll, not 300 s.
    fleet: {
      accounts: [1, 10, 50, 100],
      sinks: ['sqlite', 'postgres'] as FleetSink[],
      ticketsPerAccount: 1550,
      requestsPerMinute: 30,
      perPage: 100,
      pollIntervalSeconds: 2,
      mutations: { intervalMs: 1000, perTick: 1 },
      steadySeconds: 90,
    },
    streams: {
      sinkEvents: 10_000,
      // Zendesk's own 10 and 20 calls a minute, then both scaled 30×. One row a page: the account's 11 organizations
      // and 636 users then last the real-rate window, so that every stream has a backlog throughout.
      budget: [
        {
          label: 'real',
          incrementalPerMinute: 10,
          usersPerMinute: 20,
          perPage: 1,
          tickets: 1000,
          warmUpSeconds: 20,
          windowSeconds: 180,
        },
        {
          label: 'scaled',
          incrementalPerMinute: 300,
          usersPerMinute: 600,
          perPage: 1,
          tickets: 1000,
          warmUpSeconds: 5,
          windowSeconds: 30,
        },
      ],
      freshness: { pollIntervalSeconds: 2, incrementalPerMinute: 300, usersPerMinute: 600, tickets: 300, seconds: 60 },
      // Pages of 1000 events with the emulator's comments (600-3000 byte descriptions); a 1 s pacing timer per call.
      catchUp: { tickets: 1500, requestsPerMinute: 60, perPage: 1000, sweepPerPage: [10, 25, 100, 1000] },
      // Five streams per account each polling every 10 s: as many calls as the tickets-only fleet's one every 2 s.
      fleet: {
        accounts: [20],
        ticketsPerAccount: 150,
        requestsPerMinute: 120,
        usersRequestsPerMinute: 240,
        perPage: 100,
        pollIntervalSeconds: 10,
        mutations: { intervalMs: 1000, perTick: 1 },
        steadySeconds: 60,
      },
    },
  },
  smoke: {
    sinkPages: 3,
    analyst: { tickets: 3000, costPages: 1, rounds: 1, runs: 2 },
    durabilityTickets: 3000,
    api: { tickets: 2000, intervalSeconds: 1, idleSeconds: 4 },
    freshness: { pacingSeconds: 1, seconds: 6 },
    memoryTickets: 20_000,
    startup: { commandRuns: 1, statusRuns: 2, workerStarts: 1, tickets: 300, pollIntervalSeconds: 1, steadySeconds: 2 },
    memoryBreakdown: { settleSeconds: 1, workflowCounts: [1, 2], optionWorkflows: 2, repeats: 1 },
    oauth: { seconds: 8, tokenSeconds: 2, tickets: 500 },
    cost: {
      tickets: 2000,
      intervalSeconds: 1,
      requestsPerMinute: 120,
      idleSeconds: 10,
      pagesPerRun: 2,
      queries: 2,
      slowCallMs: 2500,
    },
    // SQLite only: PostgreSQL would add a second fleet run to the smoke test's time (`--fleet-sink postgres` runs it).
    fleet: {
      accounts: [2],
      sinks: ['sqlite'] as FleetSink[],
      ticketsPerAccount: 250,
      requestsPerMinute: 120,
      perPage: 100,
      pollIntervalSeconds: 1,
      mutations: { intervalMs: 500, perTick: 1 },
      steadySeconds: 5,
    },
    streams: {
      sinkEvents: 2000,
      budget: [
        {
          label: 'scaled',
          incrementalPerMinute: 120,
          usersPerMinute: 240,
          perPage: 1,
          tickets: 200,
          warmUpSeconds: 2,
          windowSeconds: 6,
        },
      ],
      freshness: { pollIntervalSeconds: 1, incrementalPerMinute: 600, usersPerMinute: 1200, tickets: 100, seconds: 4 },
      catchUp: { tickets: 300, requestsPerMinute: 600, perPage: 300, sweepPerPage: [25] },
      fleet: {
        accounts: [2],
        ticketsPerAccount: 50,
        requestsPerMinute: 120,
        usersRequestsPerMinute: 240,
        perPage: 100,
        pollIntervalSeconds: 1,
        mutations: { intervalMs: 500, perTick: 1 },
        steadySeconds: 4,
      },
    },
  },
};

export interface Target {
  what: string;
  value: number | null;
  target: string;
  met: boolean;
}

export interface BenchResult {
  name: string;
  command: string;
  size: 'full' | 'smoke';
  machine: ReturnType<typeof describeMachine>;
  startedAt: string;
  seconds: number;
  targets: Target[];
  result: unknown;
}

export interface BenchOptions {
  smoke: boolean;
  only?: ScenarioName[];
  /** Where results go; default bench/results. */
  outDir: string;
  /** A PostgreSQL server where the bench may create and drop a database of its own. */
  postgresAdminUrl: string;
  log: (line: string) => void;
  /** Fleet scenario: the numbers of accounts to run (default: the size's, 1, 10, 50, 100 at full size). */
  fleetAccounts?: number[];
  /** Fleet scenario: the sinks to run each number of accounts with (default: both at full size, SQLite at smoke). */
  fleetSinks?: FleetSink[];
  /** Analyst scenario: the tickets filled per sink before the queries (default: the size's, 1,000,000 at full size). */
  analystTickets?: number;
}

/** Runs the scenarios in order and writes each result to `<outDir>/<date>-<name>.json`; returns them all. */
export async function runBench(options: BenchOptions): Promise<BenchResult[]> {
  const size = options.smoke ? 'smoke' : 'full';
  const sizes = SIZES[size];
  const wanted = (name: ScenarioName) =>
    options.only ? options.only.includes(name) : !(OPT_IN_SCENARIOS as readonly string[]).includes(name);
  const machine = describeMachine();
  options.log(`machine: ${JSON.stringify(machine)}`);
  options.log('building (npm run build): the worker and the emulator run compiled, as in production');
  const buildStarted = Date.now();
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const buildSeconds = Math.round((Date.now() - buildStarted) / 100) / 10;
  options.log(`built in ${buildSeconds} s`);
  // The memory probe is the bench's own code: compiled beside the package, into lib/dev.
  execFileSync('npx', ['tsc', '-p', 'tsconfig.bench.json'], { cwd: ROOT, stdio: 'ignore' });
  fs.mkdirSync(options.outDir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const results: BenchResult[] = [];
  const flags = [
    ...(options.smoke ? ['--smoke'] : []),
    ...(options.only ? [`--only ${options.only.join(',')}`] : []),
    ...(options.fleetAccounts ? [`--fleet-k ${options.fleetAccounts.join(',')}`] : []),
    ...(options.fleetSinks ? [`--fleet-sink ${options.fleetSinks.join(',')}`] : []),
    ...(options.analystTickets ? [`--analyst-tickets ${options.analystTickets}`] : []),
  ];
  const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;

  async function record(name: string, measure: () => Promise<{ result: unknown; targets: Target[] }>) {
    options.log(`${name}: running`);
    const started = Date.now();
    const { result, targets } = await measure();
    const entry: BenchResult = {
      name,
      command,
      size,
      machine,
      startedAt: new Date(started).toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      targets,
      result,
    };
    fs.writeFileSync(path.join(options.outDir, `${date}-${name}.json`), JSON.stringify(entry, null, 2) + '\n');
    results.push(entry);
    for (const t of targets)
      options.log(`${name}: ${t.what} = ${t.value} (target ${t.target}) ${t.met ? 'met' : 'MISSED'}`);
    return entry;
  }

  const postgres = await createBenchDatabase(options.postgresAdminUrl);
  let env: BenchEnv | undefined;
  try {
    if (wanted('sink-throughput')) {
      for (const [kind, sinkUrl] of [
        ['sqlite', `sqlite:${path.join(os.tmpdir(), `zte-bench-sink-${randomUUID()}.db`)}`],
        ['postgres', postgres.url],
      ] as const) {
        await record(`sink-throughput-${kind}`, async () => {
          const result = await measureSinkThroughput({ sinkUrl, pages: sizes.sinkPages });
          if (kind === 'sqlite') removeSqlite(sinkUrl);
          const targets =
            kind === 'sqlite'
              ? [
                  at('new tickets/s', result.new.ticketsPerSecond, '≥ 20,000', (v) => v >= 20_000),
                  at('duplicate tickets/s', result.allDuplicates.ticketsPerSecond, '≥ 20,000', (v) => v >= 20_000),
                ]
              : [];
          return { result, targets };
        });
      }
    }

    if (wanted('streams-sink-throughput')) {
      for (const [kind, sinkUrl] of [
        ['sqlite', `sqlite:${path.join(os.tmpdir(), `zte-bench-streams-sink-${randomUUID()}.db`)}`],
        ['postgres', postgres.url],
      ] as const) {
        await record(`streams-sink-throughput-${kind}`, async () => {
          const result = await measureStreamSinkThroughput({ sinkUrl, events: sizes.streams.sinkEvents });
          if (kind === 'sqlite') removeSqlite(sinkUrl);
          const info = (what: string, value: number) => at(what, value, '—', () => true);
          return {
            result,
            targets: [
              info('ticket events/s, new (a comment and two field changes each)', result.new.eventsPerSecond),
              info('ticket events/s, all repeats', result.allRepeats.eventsPerSecond),
            ],
          };
        });
      }
    }

    if (wanted('analyst')) {
      // Before the Temporal dev server starts, as sink-throughput: no workflow in it, and the machine to itself.
      const { tickets, ...analystSize } = sizes.analyst;
      for (const kind of ['sqlite', 'postgres'] as const) {
        await record(`analyst-${kind}`, async () => {
          const result = await measureAnalyst({
            kind,
            tickets: options.analystTickets ?? tickets,
            ...analystSize,
            scratch: () => scratchSink(kind, options.postgresAdminUrl),
          });
          return { result, targets: analystTargets(result) };
        });
      }
    }

    env = await startBenchEnv();
    let historySource: { workflowId: string; metrics: string } | undefined;
    if (wanted('durability') || wanted('history')) {
      for (const sink of ['sqlite', 'postgres'] as const) {
        if (sink === 'postgres' && !wanted('durability')) continue;
        const entry = await record(`durability-${sink}`, async () => {
          const { pipelineWorkerMetrics, ...result } = await measureDurability(env!, {
            tickets: sizes.durabilityTickets,
            sink,
            postgresUrl: postgres.url,
          });
          if (sink === 'sqlite')
            historySource = { workflowId: result.pipelineWorkflowId, metrics: pipelineWorkerMetrics };
          return {
            result,
            targets: [
              at('pipeline / plain loop, tickets/s', result.ratio, '≥ 0.5', (v) => v >= 0.5),
              at('the same, after the first workflow task', result.steadyRatio, '≥ 0.5', (v) => v >= 0.5),
            ],
          };
        });
        void entry;
      }
    }
    if (wanted('durability')) {
      // One lever measured apart: the same SQLite catch-up on a dev server with eager activity execution off (the
      // self-hosted default; every other scenario runs with it on, as Temporal Cloud does).
      await record('durability-sqlite-eager-off', async () => {
        const noEager = await startBenchEnv({ dynamicConfig: { [EAGER_ACTIVITIES]: false } });
        try {
          const { pipelineWorkerMetrics, ...result } = await measureDurability(noEager, {
            tickets: sizes.durabilityTickets,
            sink: 'sqlite',
            postgresUrl: postgres.url,
          });
          void pipelineWorkerMetrics;
          const ratio = at('pipeline / plain loop, tickets/s, eager activities off', result.ratio, '—', () => true);
          return { result, targets: [ratio] };
        } finally {
          await noEager.close();
        }
      });
    }
    if (wanted('history') && historySource) {
      const source = historySource;
      await record('history', async () => {
        const history = await analyseHistory(env!, source.workflowId, source.metrics);
        const pages = await pagePayloadSizes();
        return {
          result: { ...history, pagePayloads: pages },
          targets: [
            at('1000 export rows, encoded bytes', pages.exportRows.encodedBytes, '≤ 262,144', (v) => v <= 262_144),
            at(
              '1000 full tickets, encoded bytes',
              pages.fullTickets.encodedBytes,
              '≤ 262,144 (else claim check)',
              () => true,
            ),
            at('largest payload in history', history.largestPayloadBytes, '≤ 262,144', (v) => v <= 262_144),
          ],
        };
      });
    }
    if (wanted('api-efficiency')) {
      await record('api-efficiency', async () => {
        const result = await measureApiEfficiency(env!, sizes.api);
        return {
          result,
          targets: [
            at('calls / optimal calls', result.callsPerOptimal, '1.00', (v) => v === 1),
            at('429s caused', result.rateLimited, '0', (v) => v === 0),
            at('calls before Retry-After', result.callsBeforeRetryAfter, '0', (v) => v === 0),
            at('idle calls per hour at 300 s', result.idle.callsPerHourAt300s, '≤ 12', (v) => v <= 12),
          ],
        };
      });
    }
    if (wanted('freshness')) {
      await record('freshness', async () => {
        const result = await measureFreshness(env!, sizes.freshness);
        return {
          result,
          targets: [
            at(
              'p99 seconds from change to sink',
              result.p99Seconds,
              `≤ ${result.targetP99Seconds}`,
              (v) => v <= result.targetP99Seconds,
            ),
          ],
        };
      });
    }
    if (wanted('memory')) {
      await record('memory', async () => {
        const result = await measureMemory(env!, { tickets: sizes.memoryTickets });
        return {
          result,
          targets: [
            at('worker max RSS MB', result.worker.maxMb, '≤ 300', (v) => v <= 300),
            at(
              'worker RSS growth after warm-up, MB per 100k tickets',
              result.worker.mbPer100kTicketsAfterWarmUp,
              '≈ 0 (flat)',
              (v) => Math.abs(v) <= 2,
            ),
          ],
        };
      });
    }
    if (wanted('startup')) {
      await record('startup', async () => {
        const result = await measureStartup(env!, { ...sizes.startup, buildSeconds });
        return { result, targets: startupTargets(result) };
      });
    }
    if (wanted('memory-breakdown')) {
      await record('memory-breakdown', async () => {
        const result = await measureMemoryBreakdown(env!, sizes.memoryBreakdown);
        const info = (what: string, value: number) => at(what, value, '—', () => true);
        return {
          result,
          targets: [
            ...result.breakdown.parts.map((p) => info(`RSS MB: ${p.part}`, p.mb)),
            info('RSS MB per idle export workflow (slope 0 to 50)', result.breakdown.perIdleWorkflowMb),
            at(
              'RSS MB per cached workflow (cache 10 vs default)',
              result.breakdown.perCachedWorkflowMb,
              '—',
              () => true,
            ),
            info('workflow bundle bytes', result.bundle.bytes),
          ],
        };
      });
    }
    if (wanted('oauth-tokens')) {
      await record('oauth-tokens', async () => {
        const { result } = await measureOAuthTokens(env!, sizes.oauth);
        return {
          result,
          targets: [
            at('tickets missing', result.missing, '0', (v) => v === 0),
            at(
              'calls refused for an expired token',
              result.unauthenticatedCalls,
              `≤ token grants (${result.tokenGrants})`,
              (v) => v <= result.tokenGrants,
            ),
          ],
        };
      });
    }
    if (wanted('temporal-cost')) {
      await record('temporal-cost', async () => {
        const result = await measureTemporalCost(env!, sizes.cost);
        const info = (what: string, value: number) => at(what, value, '—', () => true);
        return {
          result,
          targets: [
            ...result.endpoints.flatMap((e) => [
              info(`${e.api}: Cloud actions per 1000 tickets, catching up`, e.projected.per1000Tickets.actions.total),
              info(`${e.api}: Cloud actions per idle hour at 300 s`, e.projected.perIdleHour.actions.total),
            ]),
            at(
              "endpoints whose actions counted from history = the server's action metric",
              result.endpoints.filter((e) => e.serverMetricCheck.match).length,
              `${result.endpoints.length}`,
              (v) => v === result.endpoints.length,
            ),
          ],
        };
      });
    }
    if (wanted('fleet')) {
      const { accounts: accountCounts, sinks, ...fleetSize } = sizes.fleet;
      for (const sink of options.fleetSinks ?? sinks) {
        for (const accounts of options.fleetAccounts ?? accountCounts) {
          await record(sink === 'sqlite' ? `fleet-k${accounts}` : `fleet-${sink}-k${accounts}`, async () => {
            const fresh = await freshFleetSinks(sink, options.postgresAdminUrl);
            const result = await measureFleet(env!, { ...fleetSize, accounts, ...fresh.urls }).finally(fresh.dispose);
            return { result, targets: fleetTargets(accounts, result) };
          });
        }
      }
    }
    await streamScenarios(env, sizes.streams, options, wanted, record);
  } finally {
    await env?.close();
    await postgres.drop();
  }
  // The summary covers every scenario run today, so that `--only` refreshes some rows and keeps the others.
  fs.writeFileSync(
    path.join(options.outDir, `${date}-bench-summary.md`),
    summaryTable(resultsOf(options.outDir, date)) + '\n',
  );
  return results;
}

/**
 * Empty sinks for one fleet run, the worker's and the plain loops': a file or a database each. Fresh ones, not the
 * bench's database: the accounts are host:port of emulators, and a run may get a port an earlier run had.
 */
async function freshFleetSinks(sink: FleetSink, postgresAdminUrl: string) {
  if (sink === 'sqlite') {
    const sqliteUrl = (name: string) => `sqlite:${path.join(os.tmpdir(), `zte-bench-${name}-${randomUUID()}.db`)}`;
    const urls = { sinkUrl: sqliteUrl('fleet'), plainSinkUrl: sqliteUrl('fleet-plain') };
    return { urls, dispose: async () => Object.values(urls).forEach(removeSqlite) };
  }
  const pipeline = await createBenchDatabase(postgresAdminUrl);
  const plain = await createBenchDatabase(postgresAdminUrl).catch(async (err: unknown) => {
    await pipeline.drop();
    throw err;
  });
  return {
    urls: { sinkUrl: pipeline.url, plainSinkUrl: plain.url },
    dispose: async () => {
      await pipeline.drop();
      await plain.drop();
    },
  };
}

/** An empty sink of the kind asked for: a file of its own, or a database of its own. */
async function scratchSink(kind: FleetSink, postgresAdminUrl: string) {
  if (kind === 'postgres') {
    const database = await createBenchDatabase(postgresAdminUrl);
    return { url: database.url, dispose: database.drop };
  }
  const url = `sqlite:${path.join(os.tmpdir(), `zte-bench-analyst-${randomUUID()}.db`)}`;
  return { url, dispose: async () => removeSqlite(url) };
}

/** Issue 24: each dashboard query under 1 s (p95) at 1 M tickets; the typed copy at most 35% of the persist. */
function analystTargets(result: Awaited<ReturnType<typeof measureAnalyst>>): Target[] {
  const { persistCost, fill, sizes, queries, tickets } = result;
  const info = (what: string, value: number) => at(what, value, '—', () => true);
  return [
    ...queries.flatMap((q) => [
      at(
        `${q.name} at ${tickets.toLocaleString('en-US')} tickets: p95 ms of ${q.runsMs.length} warm runs`,
        q.p95Ms,
        '≤ 1000',
        (v) => v <= 1000,
      ),
      info(`${q.name}: median ms (rows: ${q.rows}, first run ${q.firstMs} ms)`, q.medianMs),
    ]),
    info('persist, new tickets/s, typed copy off (ticket_version on)', persistCost.without.new),
    info('persist, new tickets/s, typed copy on', persistCost.with.new),
    at('typed copy: share of the persist throughput, new tickets', persistCost.costNew, '≤ 0.35', (v) => v <= 0.35),
    info('persist, duplicate tickets/s, typed copy off', persistCost.without.duplicates),
    info('persist, duplicate tickets/s, typed copy on', persistCost.with.duplicates),
    at(
      'typed copy: share of the persist throughput, duplicates',
      persistCost.costDuplicates,
      '≤ 0.35',
      (v) => v <= 0.35,
    ),
    info(`fill of ${fill.tickets.toLocaleString('en-US')} tickets, all on: tickets/s`, fill.ticketsPerSecond),
    info('ticket_version MiB per million versions (full tickets)', sizes.ticketVersion.mibPerMillionVersions),
    info('typed tables MiB per million tickets', sizes.typedTablesMibPerMillionTickets),
  ];
}

/**
 * Issue 26: a `status` answer well under a second, compiled: ≤ 750 ms, not 500, because loading `@temporalio/client`
 * alone takes ≈ 450 ms of CPU here, so 500 would need a status without the SDK's client; 750 leaves ≈ 300 ms for node,
 * the configuration and the two calls. Wall times on a shared machine carry its other work (the result's
 * `machineLoad` says how much); the CPU rows, user + system time of the same runs, carry far less of it.
 */
function startupTargets(result: Awaited<ReturnType<typeof measureStartup>>): Target[] {
  const info = (what: string, value: number | null) => at(what, value, '—', () => true);
  const timed = (name: string) => [...result.floor, ...result.status].find((t) => t.name === name)!;
  const { compiled, 'ts-node': tsNode } = result.workers;
  const compiledStatus = timed('compiled: status');
  return [
    at('status, compiled: median ms, spawn to exit', compiledStatus.medianMs, '≤ 750', (v) => v <= 750),
    info('status, compiled: p90 ms', compiledStatus.p90Ms),
    info('status, compiled: median CPU ms', compiledStatus.medianCpuMs),
    info('status, ts-node: median ms', timed('ts-node: status').medianMs),
    info('status, ts-node: median CPU ms', timed('ts-node: status').medianCpuMs),
    info('status, npm run client: median ms', timed('npm run client -- status').medianMs),
    info('status: ts-node / compiled, median ms', result.tsNodeOverCompiled.statusMedian),
    info('--version, compiled: median ms (no server)', timed('compiled: --version').medianMs),
    info('--version, compiled: median CPU ms', timed('compiled: --version').medianCpuMs),
    info('--version, ts-node: median ms', timed('ts-node: --version').medianMs),
    info('node -e 0: median ms (the floor)', timed('node -e 0').medianMs),
    at('worker ready, compiled: median ms, spawn to RUNNING', compiled.readyMedianMs, '≤ 5000', (v) => v <= 5000),
    info('worker ready, compiled: median ms to /readyz 200', compiled.readyzMedianMs),
    info('worker ready, ts-node (webpack at start): median ms', tsNode.readyMedianMs),
    info('worker ready: ts-node / compiled, median', result.tsNodeOverCompiled.workerReadyMedian),
    info('worker RSS at ready, compiled: median MB', compiled.rssAtReadyMedianMb),
    info('worker RSS at ready, ts-node: median MB', tsNode.rssAtReadyMedianMb),
    at('worker steady RSS, compiled: median MB', compiled.export.steadyRssMb.median, '≤ 300', (v) => v <= 300),
    info('worker steady RSS, ts-node: median MB', tsNode.export.steadyRssMb.median),
    info('npm run build: s', result.buildSeconds),
  ];
}

/** The same targets for every sink: the K=100 ones of the issue, the K=20 one for the catch-up. */
function fleetTargets(accounts: number, result: Awaited<ReturnType<typeof measureFleet>>): Target[] {
  const { steady } = result;
  const catchUp = result.catchUp!;
  return [
    at(
      `K=${accounts} steady: worker CPU % of one core`,
      steady.workerCpuPercentOfOneCore,
      '≤ 50 (K=100)',
      (v) => v <= 50,
    ),
    at(`K=${accounts} steady: worker peak RSS MB`, steady.workerRssMb.peak, '≤ 400 (K=100)', (v) => v <= 400),
    at(`K=${accounts} steady: calls late by, p99 ms`, steady.lateMs.p99, '≤ 1000 (K=100)', (v) => v <= 1000),
    at(
      `K=${accounts} catching up: slowest account / API ceiling`,
      catchUp.minAccountOfCeiling,
      '≥ 0.95 (K=20)',
      (v) => v >= 0.95,
    ),
    at(
      `K=${accounts} catching up: aggregate tickets/s`,
      catchUp.aggregateTicketsPerSecond,
      `— (K × ceiling = ${accounts * catchUp.ceilingTicketsPerSecondPerAccount})`,
      () => true,
    ),
    at(
      `K=${accounts} catching up: K plain loops, aggregate tickets/s`,
      result.plainLoops?.aggregateTicketsPerSecond ?? null,
      '— (same pacing, no Temporal)',
      () => true,
    ),
  ];
}

type Recorder = (name: string, measure: () => Promise<{ result: unknown; targets: Target[] }>) => Promise<BenchResult>;

/** The streams around the ticket: budget per bucket, comment freshness, history bytes, actions, a fleet of K. */
async function streamScenarios(
  env: BenchEnv,
  size: (typeof SIZES)['full']['streams'],
  options: BenchOptions,
  wanted: (name: ScenarioName) => boolean,
  record: Recorder,
) {
  if (wanted('streams-budget')) {
    for (const phase of size.budget) {
      await record(`streams-budget-${phase.label}`, async () => {
        const result = await measureStreamsBudget(env, phase);
        const rate = `${phase.incrementalPerMinute}/${phase.usersPerMinute} a minute`;
        const { incremental, users_cursor: users } = result.buckets;
        return {
          result,
          targets: [
            at(`incremental bucket at ${rate}: calls / ceiling`, incremental.ofCeiling, '≥ 0.95', (v) => v >= 0.95),
            at(`users_cursor bucket at ${rate}: calls / ceiling`, users.ofCeiling, '≥ 0.95', (v) => v >= 0.95),
            at('429s the export caused', incremental.rateLimited + users.rateLimited, '0', (v) => v === 0),
            at('calls over budget', incremental.overBudget + users.overBudget, '0', (v) => v === 0),
            at(
              'incremental bucket: fewest / most calls of its four streams',
              result.fairness.incrementalMinOverMax,
              '— (1 = equal turns)',
              () => true,
            ),
          ],
        };
      });
    }
  }
  if (wanted('streams-freshness')) {
    await record('streams-freshness', async () => {
      const result = await measureStreamsFreshness(env, size.freshness);
      return {
        result,
        targets: [
          at('new comment to ticket_comments, p50 s', result.p50Seconds, '—', () => true),
          at(
            'new comment to ticket_comments, p99 s',
            result.p99Seconds,
            `≤ ${result.targetP99Seconds}`,
            (v) => v <= result.targetP99Seconds,
          ),
        ],
      };
    });
  }
  let catchUp: Awaited<ReturnType<typeof streamsCatchUp>> | undefined;
  const caughtUp = async () => (catchUp ??= await streamsCatchUp(env, size.catchUp));
  if (wanted('streams-history')) {
    await record('streams-history', async () => {
      const pages = await commentPageSizes(size.catchUp.tickets, size.catchUp.sweepPerPage);
      const history = streamsHistory(await caughtUp());
      return {
        result: { ...history, commentPages: pages },
        targets: [
          ...pages.sizes.map((p) =>
            at(
              `ticket_events page of ${p.events} events with comments (${p.inline ? 'inline' : 'staged'}), history bytes`,
              p.historyBytes,
              '≤ 262,144',
              (v) => v <= 262_144,
            ),
          ),
          at('largest payload in a catch-up history', history.largestPayloadBytes, '≤ 262,144', (v) => v <= 262_144),
        ],
      };
    });
  }
  if (wanted('streams-cost')) {
    await record('streams-cost', async () => {
      const result = streamsActions(await caughtUp(), size.catchUp);
      return {
        result,
        targets: [
          at('Cloud actions per 1000 ticket events, catching up (loop)', result.per1000EventsLoop, '—', () => true),
          at('the same, the whole catch-up with its start', result.per1000EventsWhole, '—', () => true),
        ],
      };
    });
  }
  if (wanted('streams-fleet')) {
    const { accounts: accountCounts, ...fleetSize } = size.fleet;
    for (const accounts of options.fleetAccounts ?? accountCounts) {
      await record(`streams-fleet-k${accounts}`, async () => {
        const file = (name: string) => `sqlite:${path.join(os.tmpdir(), `zte-bench-${name}-${randomUUID()}.db`)}`;
        const sinkUrl = file('streams-fleet');
        const result = await measureFleet(env, { ...fleetSize, accounts, sinkUrl, streams: true }).finally(() =>
          removeSqlite(sinkUrl),
        );
        const { steady } = result;
        return {
          result,
          targets: [
            at(
              `K=${accounts}, five streams, steady: worker CPU % of one core`,
              steady.workerCpuPercentOfOneCore,
              '≤ 50',
              (v) => v <= 50,
            ),
            at(
              `K=${accounts}, five streams, steady: worker peak RSS MB`,
              steady.workerRssMb.peak,
              '≤ 400',
              (v) => v <= 400,
            ),
            at(
              `K=${accounts}, five streams, steady: calls late by, p99 ms`,
              steady.lateMs.p99,
              '≤ 1000',
              (v) => v <= 1000,
            ),
          ],
        };
      });
    }
  }
}

function at(what: string, value: number | null, target: string, met: (value: number) => boolean): Target {
  return { what, value, target, met: value !== null && met(value) };
}

function removeSqlite(sinkUrl: string): void {
  const file = sinkUrl.replace(/^sqlite:/, '');
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

/** A database of the bench's own on the server of `adminUrl`, dropped afterwards. */
async function createBenchDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `zte_bench_${randomUUID().slice(0, 8)}`;
  const admin = new PgClient({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`the bench needs PostgreSQL at ${adminUrl} (BENCH_POSTGRES_URL): ${(err as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new PgClient({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The results written to `dir` on `date`, in scenario order. */
function resultsOf(dir: string, date: string): BenchResult[] {
  const order = (name: string) => SCENARIOS.findIndex((scenario) => name.startsWith(scenario));
  return fs
    .readdirSync(dir)
    .filter((file) => file.startsWith(`${date}-`) && file.endsWith('.json'))
    .map((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as BenchResult)
    .filter((result) => Array.isArray(result.targets) && order(result.name) >= 0)
    .sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
}

/** The table of docs/benchmarks.md#npm-run-bench: one row per target. */
export function summaryTable(results: BenchResult[]): string {
  const rows = results.flatMap((r) =>
    r.targets.map(
      (t) => `| ${r.name} | ${t.what} | ${formatValue(t.value)} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`,
    ),
  );
  return ['| scenario | measure | value | target | met |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function formatValue(value: number | null): string {
  if (value === null) return '—';
  return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
}
