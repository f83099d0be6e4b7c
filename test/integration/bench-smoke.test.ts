import fs from 'node:fs';
import path from 'node:path';
import { BenchResult, runBench, SCENARIOS } from '../../bench/run-bench';
import { testEnv } from '../helpers/harness';
import { postgresAdminUrl } from '../helpers/prerequisites';

// `npm run bench -- --smoke`: every scenario of the benchmark, small, so that the code behind docs/benchmarks.md keeps
// working. Only that the measurements happened and hang together is checked here: targets are the full run's.
describe('npm run bench (smoke size)', () => {
  test('every scenario runs and writes a result that hangs together', async () => {
    const outDir = path.join(testEnv().tmpDir, 'bench-smoke');
    const lines: string[] = [];
    const results = await runBench({
      smoke: true,
      outDir,
      postgresAdminUrl: postgresAdminUrl(),
      log: (line) => lines.push(line),
    });
    const byName = new Map(results.map((r) => [r.name, r]));
    const expected = [
      'sink-throughput-sqlite',
      'sink-throughput-postgres',
      // before the Temporal dev server starts, as sink-throughput: no workflow in it
      'streams-sink-throughput-sqlite',
      'streams-sink-throughput-postgres',
      'analyst-sqlite',
      'analyst-postgres',
      'durability-sqlite',
      'durability-postgres',
      'durability-sqlite-eager-off',
      'history',
      'api-efficiency',
      'freshness',
      'memory',
      'startup',
      'oauth-tokens',
      'temporal-cost',
      'fleet-k2',
      'streams-budget-scaled',
      'streams-freshness',
      'streams-history',
      'streams-cost',
      'streams-fleet-k2',
    ];
    expect([...byName.keys()]).toEqual(expected);
    expect(SCENARIOS.every((s) => expected.some((name) => name.startsWith(s)))).toBe(true);
    const date = new Date().toISOString().slice(0, 10);
    for (const name of expected) {
      const written = JSON.parse(fs.readFileSync(path.join(outDir, `${date}-${name}.json`), 'utf8')) as BenchResult;
      expect({ name, size: written.size, command: written.command }).toEqual({
        name,
        size: 'smoke',
        command: 'npm run bench -- --smoke',
      });
      expect(written.machine.cpu).toMatch(/\d+ × /);
    }
    expect(fs.readFileSync(path.join(outDir, `${date}-bench-summary.md`), 'utf8')).toContain('| durability-sqlite |');

    const result = (name: string) => byName.get(name)!.result as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const kind of ['sqlite', 'postgres']) {
      const sink = result(`sink-throughput-${kind}`);
      expect(sink.new).toMatchObject({ tickets: 3000, written: 3000 });
      expect(sink.allDuplicates).toMatchObject({ tickets: 3000 });
      expect(sink.new.ticketsPerSecond).toBeGreaterThan(0);
      const durability = result(`durability-${kind}`);
      expect(durability.plainLoop.ticketsPerSecond).toBeGreaterThan(0);
      expect(durability.pipeline).toMatchObject({ tickets: 3000 });
      expect(durability.pipeline.steadyTicketsPerSecond).toBeGreaterThan(0);
      expect(durability.ratio).toBeGreaterThan(0);
      if (kind === 'sqlite') expect(result('durability-sqlite-eager-off').ratio).toBeGreaterThan(0);
    }
    const history = result('history');
    expect(history.pages).toBeGreaterThanOrEqual(3);
    expect(history.eventsPerPage).toBeGreaterThan(4);
    expect(history.largestPayloadEncoding).toBe('binary/gzip');
    expect(history.pagePayloads.exportRows).toMatchObject({ rows: 1000, underHistoryLimit: true });
    expect(history.pagePayloads.fullTickets.rows).toBe(1000);
    expect(history.workflowTasks).toBeGreaterThan(0);
    expect(history.workflowTaskExecutionLatency.p50Ms).toBeGreaterThan(0);
    const api = result('api-efficiency');
    expect(api).toMatchObject({ rateLimited: 0, callsBeforeRetryAfter: 0, catchUpCalls: 3 });
    expect(api.calls).toBeGreaterThanOrEqual(api.catchUpCalls);
    expect(api.minGapSeconds).toBeGreaterThanOrEqual(0.99);
    const freshness = result('freshness');
    expect(freshness.changes).toBeGreaterThan(0);
    expect(freshness.p99Seconds).toBeGreaterThan(0);
    const memory = result('memory');
    expect(memory.tickets).toBe(20_000);
    expect(memory.worker.maxMb).toBeGreaterThan(50);
    expect(memory.emulator.maxMb).toBeGreaterThan(20);
    expect(memory.samples.length).toBeGreaterThan(0);
    const startup = result('startup');
    expect(startup.status.map((t: { name: string }) => t.name)).toEqual([
      'compiled: status',
      'ts-node: status',
      'npm run client -- status',
    ]);
    for (const timed of [...startup.floor, ...startup.status]) {
      expect(timed.runs).toHaveLength(2 - (startup.floor.includes(timed) ? 1 : 0));
      expect(timed.medianMs).toBeGreaterThan(0);
    }
    expect(startup.tsNode.typescriptLoaded).toBe(true);
    for (const path of ['compiled', 'ts-node']) {
      const worker = startup.workers[path];
      expect(worker.starts).toHaveLength(1);
      expect(worker.readyMedianMs).toBeGreaterThan(0);
      expect(worker.export.steadyRssMb.median).toBeGreaterThan(50);
      // The compiled worker loads the bundle `npm run build` made; ts-node's bundles its workflows at start.
      expect(worker.starts[0].bundledAtStart).toBe(path === 'ts-node');
    }
    const oauth = result('oauth-tokens');
    expect(oauth.missing).toBe(0);
    expect(oauth.tokenGrants).toBeGreaterThanOrEqual(3); // 2 s tokens over 8 s and more
    expect(oauth.unauthenticatedCalls).toBeLessThanOrEqual(oauth.tokenGrants);
    const fleet = result('fleet-k2');
    expect(fleet).toMatchObject({ accounts: 2, rateLimited: 0, callsBeforeRetryAfter: 0 });
    expect(fleet.catchUp.minAccountOfCeiling).toBeGreaterThan(0);
    expect(fleet.catchUp.minAccountOfCeiling).toBeLessThanOrEqual(1.05); // never faster than the pacing allows
    expect(fleet.steady.calls).toBeGreaterThan(0);
    expect(fleet.steady.lateMs.min).toBeGreaterThan(-100);
    expect(fleet.steady.workerCpuPercentOfOneCore).toBeGreaterThan(0);
    expect(fleet.steady.workerRssMb.peak).toBeGreaterThan(50);
    expect(fleet.steady.workflowTaskExecution.tasks).toBeGreaterThan(0);
    const cost = result('temporal-cost');
    expect(cost.endpoints.map((e: { api: string }) => e.api)).toEqual(['exports', 'incremental', 'cursor']);
    for (const endpoint of cost.endpoints) {
      expect(endpoint.serverMetricCheck.match).toBe(true);
      // fetchPage, and persist: a local activity since 'persist-locally', billed as its workflow task's markers
      expect(endpoint.loopPerPage.actions.byKind).toMatchObject({ activity: 1, 'markers of a workflow task': 1 });
      expect(endpoint.measured.idle.polls).toBeGreaterThan(0);
      expect(endpoint.projected.perIdleHour.actions.total).toBeGreaterThan(0);
    }
    expect(cost.endpoints[0].probes).toMatchObject({ actionsPerStatusQuery: 1 });

    // The streams around the ticket.
    for (const kind of ['sqlite', 'postgres']) {
      const sink = result(`streams-sink-throughput-${kind}`);
      expect(sink.new).toMatchObject({ events: 2000 });
      expect(sink.new.rows).toBeGreaterThan(2000); // comments and field changes besides the events
      expect(sink.allRepeats.eventsPerSecond).toBeGreaterThan(0);
    }
    // The analysts' tables: 3000 tickets a sink, the persist cost on one page.
    for (const kind of ['sqlite', 'postgres']) {
      const analyst = result(`analyst-${kind}`);
      expect(analyst.fill).toMatchObject({ tickets: 3000 });
      expect(analyst.sizes.ticketVersion.versions).toBe(3000);
      expect(analyst.sizes.ticketVersion.mibPerMillionVersions).toBeGreaterThan(0);
      expect(analyst.queries.map((q: { name: string }) => q.name)).toEqual([
        'open-per-group',
        'top-tags',
        'created-per-week',
      ]);
      const [perGroup, tags] = analyst.queries;
      expect(perGroup.rows).toBe(20);
      expect(tags.rows).toBe(16);
      for (const query of analyst.queries) expect(query.p95Ms).toBeGreaterThan(0);
      expect(analyst.persistCost.runs.map((r: { typedTickets: boolean }) => r.typedTickets)).toEqual([false, true]);
      expect(analyst.persistCost.with.new).toBeGreaterThan(0);
      expect(analyst.persistCost.without.duplicates).toBeGreaterThan(0);
    }
    const budget = result('streams-budget-scaled');
    for (const bucket of ['incremental', 'users_cursor']) {
      expect(budget.buckets[bucket]).toMatchObject({ rateLimited: 0, overBudget: 0 });
      expect(budget.buckets[bucket].ofCeiling).toBeGreaterThan(0);
      expect(budget.buckets[bucket].ofCeiling).toBeLessThanOrEqual(1.05); // never faster than the pacing allows
    }
    expect(budget.fairness.callsInWindow.users).toBeGreaterThan(0);
    const comments = result('streams-freshness');
    expect(comments.comments).toBeGreaterThan(0);
    expect(comments.p99Seconds).toBeGreaterThan(0);
    expect(comments.rateLimited).toBe(0);
    const streamsHistory = result('streams-history');
    expect(streamsHistory.pages).toBeGreaterThanOrEqual(2);
    expect(streamsHistory.commentPages.sizes[0]).toMatchObject({ perPage: 25, events: 25, underHistoryLimit: true });
    expect(streamsHistory.largestPayloadBytes).toBeLessThanOrEqual(262_144);
    const streamsCost = result('streams-cost');
    expect(streamsCost.ticketEvents).toBeGreaterThan(0);
    expect(streamsCost.loopPerPage.byKind).toMatchObject({ activity: 1, 'markers of a workflow task': 1 });
    expect(streamsCost.per1000EventsLoop).toBeGreaterThan(0);
    const streamsFleet = result('streams-fleet-k2');
    expect(streamsFleet).toMatchObject({ accounts: 2, rateLimited: 0, callsBeforeRetryAfter: 0, catchUp: null });
    expect(streamsFleet.steady.calls).toBeGreaterThan(0);
    expect(streamsFleet.steady.workerRssMb.peak).toBeGreaterThan(50);
  }, 480_000);
});
