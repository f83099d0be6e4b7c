import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXPORT_APIS, ExportApi } from '../../src/shared';
import { isStreamName, STREAMS, type StreamName } from '../../src/streams/names';
import { runChaos } from './run-chaos';
import { releaseHistoriesDir } from '../../test/replay/releases';

/**
 * `npm run chaos [-- --tickets N --api A --seed S --per-page N --pages-per-run N --streams a,b
 * --requests-per-minute N --users-requests-per-minute N --record]`: the full-size chaos run; the summary goes to
 * bench/results.
 */
async function run() {
  const { values } = parseArgs({
    options: {
      tickets: { type: 'string', default: '5000' },
      api: { type: 'string', default: 'cursor' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      'worker-kills': { type: 'string', default: '6' },
      'per-page': { type: 'string', default: '500' },
      'pages-per-run': { type: 'string', default: '50' },
      streams: { type: 'string', default: STREAMS.join(',') },
      // Zendesk's 10 and 20 calls a minute, scaled 300x: the emulator enforces twice as many.
      'requests-per-minute': { type: 'string', default: '3000' },
      'users-requests-per-minute': { type: 'string', default: '6000' },
      record: { type: 'boolean', default: false },
    },
  });
  if (!EXPORT_APIS.includes(values.api as ExportApi)) throw new Error(`--api must be one of ${EXPORT_APIS.join(', ')}`);
  const streams = values.streams.split(',').map((s) => s.trim());
  const unknown = streams.filter((s) => !isStreamName(s));
  if (unknown.length > 0) throw new Error(`--streams: unknown ${unknown.join(', ')}; known: ${STREAMS.join(', ')}`);
  const summary = await runChaos({
    tickets: Number(values.tickets),
    api: values.api as ExportApi,
    workerKills: Number(values['worker-kills']),
    temporalRestarts: 1,
    postgresRestarts: 1,
    perPage: Number(values['per-page']),
    pagesPerRun: Number(values['pages-per-run']),
    streams: streams as StreamName[],
    requestsPerMinute: Number(values['requests-per-minute']),
    usersRequestsPerMinute: Number(values['users-requests-per-minute']),
    mutations: { intervalMs: 200, perTick: 3 },
    seed: Number(values.seed),
    recordHistoriesTo: values.record ? releaseHistoriesDir() : undefined,
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
  const overBudget = Object.values(summary.buckets).reduce((n, b) => n + b.overBudget + b.rateLimited, 0);
  const ok =
    summary.tableDifferences === '' &&
    summary.ticketsLost === 0 &&
    summary.staleTickets === 0 &&
    summary.callsBeforeRetryAfter === 0 &&
    overBudget === 0 &&
    summary.cursorMoreThanOnePageBehindCheckpoint === 0 &&
    summary.secretsInWorkerLogs === 0;
  process.exit(ok ? 0 : 1);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
