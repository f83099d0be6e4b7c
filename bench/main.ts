import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBench, SCENARIOS, ScenarioName, summaryTable } from './run-bench';

/** `npm run bench [-- --smoke] [--only a,b] [--out DIR]`: every figure of README's performance table. */
async function run() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const only = values.only?.split(',').map((name) => name.trim()) as ScenarioName[] | undefined;
  const unknown = only?.filter((name) => !SCENARIOS.includes(name));
  if (unknown?.length)
    throw new Error(`--only: unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const started = Date.now();
  const results = await runBench({
    smoke: values.smoke ?? false,
    only,
    outDir: values.out ?? path.join(__dirname, 'results'),
    postgresAdminUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    log: (line) => console.log(line),
  });
  console.log(`\n${summaryTable(results)}\n\n${Math.round((Date.now() - started) / 1000)} s in all`);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
