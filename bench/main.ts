import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  FLEET_SINKS,
  FleetSink,
  OPT_IN_SCENARIOS,
  runBench,
  SCENARIOS,
  ScenarioName,
  STREAMS_SCENARIOS,
  summaryTable,
} from './run-bench';

/**
 * `npm run bench [-- --smoke] [--only a,b] [--fleet-k 1,10] [--fleet-sink sqlite,postgres] [--analyst-tickets N]
 * [--out DIR]`: every figure of docs/benchmarks.md's table. `--only streams` names every scenario of the streams around
 * the ticket; `--fleet-k` sets K for both fleets (fleet, streams-fleet); `--analyst-tickets` the tickets the analyst
 * scenario fills each sink with before its queries (1,000,000 at full size).
 */
async function run() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      'fleet-k': { type: 'string' },
      'fleet-sink': { type: 'string' },
      'analyst-tickets': { type: 'string' },
    },
  });
  const only = values.only
    ?.split(',')
    .map((name) => name.trim())
    .flatMap((name) => (name === 'streams' ? STREAMS_SCENARIOS : [name])) as ScenarioName[] | undefined;
  const known: readonly string[] = [...SCENARIOS, ...OPT_IN_SCENARIOS];
  const unknown = only?.filter((name) => !known.includes(name));
  if (unknown?.length) throw new Error(`--only: unknown scenario ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const fleetAccounts = values['fleet-k']?.split(',').map((k) => Number(k.trim()));
  if (fleetAccounts?.some((k) => !Number.isInteger(k) || k < 1))
    throw new Error(`--fleet-k: a comma-separated list of account counts, e.g. 1,10,50,100`);
  const fleetSinks = values['fleet-sink']?.split(',').map((sink) => sink.trim()) as FleetSink[] | undefined;
  const unknownSinks = fleetSinks?.filter((sink) => !FLEET_SINKS.includes(sink));
  if (unknownSinks?.length)
    throw new Error(`--fleet-sink: unknown sink ${unknownSinks.join(', ')}; known: ${FLEET_SINKS.join(', ')}`);
  const analystTickets = values['analyst-tickets'] === undefined ? undefined : Number(values['analyst-tickets']);
  if (analystTickets !== undefined && (!Number.isInteger(analystTickets) || analystTickets < 1000))
    throw new Error(`--analyst-tickets: a number of tickets, at least 1000, e.g. 1000000`);
  const started = Date.now();
  const results = await runBench({
    smoke: values.smoke ?? false,
    only,
    outDir: values.out ?? path.join(__dirname, 'results'),
    postgresAdminUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    log: (line) => console.log(line),
    fleetAccounts,
    fleetSinks,
    analystTickets,
  });
  console.log(`\n${summaryTable(results)}\n\n${Math.round((Date.now() - started) / 1000)} s in all`);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
