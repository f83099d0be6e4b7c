import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXPORT_APIS, ExportApi } from '../../src/shared';
import { runChaos } from './run-chaos';

/** `npm run chaos [-- --tickets N --api A --seed S --per-page N --pages-per-run N --record]`: the full-size chaos run; the summary goes to bench/results. */
async function run() {
  const { values } = parseArgs({
    options: {
      tickets: { type: 'string', default: '20000' },
      api: { type: 'string', default: 'cursor' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      'worker-kills': { type: 'string', default: '6' },
      'per-page': { type: 'string', default: '500' },
      'pages-per-run': { type: 'string', default: '10' },
      record: { type: 'boolean', default: false },
    },
  });
  if (!EXPORT_APIS.includes(values.api as ExportApi)) throw new Error(`--api must be one of ${EXPORT_APIS.join(', ')}`);
  const summary = await runChaos({
    tickets: Number(values.tickets),
    api: values.api as ExportApi,
    workerKills: Number(values['worker-kills']),
    temporalRestarts: 1,
    postgresRestarts: 1,
    perPage: Number(values['per-page']),
    pagesPerRun: Number(values['pages-per-run']),
    mutations: { intervalMs: 200, perTick: 3 },
    seed: Number(values.seed),
    recordHistoriesTo: values.record ? path.join(__dirname, '../../test/replay/histories') : undefined,
    log: (line) => console.log(line),
  });
  const results = path.join(__dirname, '../results');
  fs.mkdirSync(results, { recursive: true });
  const file = path.join(
    results,
    `${new Date().toISOString().slice(0, 10)}-chaos-${summary.options.api}-${summary.options.tickets}.json`,
  );
  fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
  console.log(JSON.stringify(summary, null, 2));
  console.log(`written to ${path.relative(process.cwd(), file)}`);
  const ok = summary.ticketsLost === 0 && summary.staleTickets === 0 && summary.callsBeforeRetryAfter === 0;
  process.exit(ok && summary.cursorMoreThanOnePageBehindCheckpoint === 0 && summary.secretsInWorkerLogs === 0 ? 0 : 1);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
