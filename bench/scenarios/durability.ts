import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { openSink } from '../../src/storage/open';
import { ZendeskClient } from '../../src/zendesk/client';
import {
  BenchEnv,
  startBenchWorker,
  startEmulatorProcess,
  startExport,
  unpacedCatchUp,
  stopExport,
  waitForTickets,
} from '../support/pipeline';
import { round } from '../support/stats';
import { fetchRunHistories, localActivityType } from '../support/histories';
import { optionalTsToMs } from '@temporalio/common/lib/time';

export interface DurabilityOptions {
  tickets: number;
  sink: 'sqlite' | 'postgres';
  postgresUrl: string;
}

export interface ExportTiming {
  tickets: number;
  seconds: number;
  ticketsPerSecond: number;
}

/**
 * The same catch-up twice, pacing off, on the same data served by one emulator process: through the whole
 * Temporal pipeline (dev server, worker process, codec, sink), and as a plain loop with the same Zendesk client
 * and sink, in this process, with no Temporal.
 */
export async function measureDurability(env: BenchEnv, options: DurabilityOptions) {
  const emulator = await startEmulatorProcess([
    '--tickets',
    String(options.tickets),
    '--window-seconds',
    '0',
    '--min-start-age-seconds',
    '0',
  ]);
  const sinkUrl = (name: string) =>
    options.sink === 'sqlite' ? `sqlite:${path.join(env.dir, `${name}.db`)}` : options.postgresUrl;
  try {
    const plain = await plainLoop(emulator.url, sinkUrl(`plain-${randomUUID()}`), options.tickets);
    const pipeline = await throughPipeline(env, emulator.url, sinkUrl(`pipeline-${randomUUID()}`), options.tickets);
    return {
      sink: options.sink,
      tickets: options.tickets,
      plainLoop: plain,
      pipeline: pipeline.timing,
      ratio: round(pipeline.timing.ticketsPerSecond / plain.ticketsPerSecond, 3),
      steadyRatio: round(pipeline.timing.steadyTicketsPerSecond / plain.ticketsPerSecond, 3),
      pipelineWorkflowId: pipeline.workflowId,
      pipelineWorkerMetrics: pipeline.metrics,
    };
  } finally {
    await emulator.stop();
  }
}

/** Each run stores under its own account name, so one PostgreSQL database serves them all. */
function accountName(kind: string): string {
  return `bench-${kind}-${randomUUID().slice(0, 8)}`;
}

async function plainLoop(baseUrl: string, sinkUrl: string, tickets: number): Promise<ExportTiming> {
  const sink = await openSink(sinkUrl);
  const account = accountName('plain');
  const zendesk = new ZendeskClient({
    baseUrl,
    auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
  });
  try {
    const started = Date.now();
    let cursor = 0;
    let stored = 0;
    for (;;) {
      const page = await zendesk.fetchExportPage(cursor);
      if (page.kind !== 'page') throw new Error(`plain loop: unexpected ${page.kind} from the emulator`);
      if (page.rows.length > 0) {
        const next = page.endTime ?? cursor;
        await sink.persistPage({ account, rows: page.rows, fieldHeaders: page.fieldHeaders, cursor: next });
        stored += page.rows.length;
        cursor = next;
      }
      if (page.rows.length < 1000) break;
    }
    const seconds = (Date.now() - started) / 1000;
    const count = await sink.countTickets(account);
    if (count !== tickets) throw new Error(`plain loop: ${count} tickets stored, expected ${tickets}`);
    return { tickets: stored, seconds: round(seconds, 2), ticketsPerSecond: Math.round(tickets / seconds) };
  } finally {
    await sink.close();
  }
}

export async function throughPipeline(
  env: BenchEnv,
  baseUrl: string,
  sinkUrl: string,
  tickets: number,
  extraEnv: Record<string, string> = {},
) {
  const sink = await openSink(sinkUrl);
  const worker = await startBenchWorker(env, { baseUrl, sinkUrl, extraEnv });
  const account = new URL(baseUrl).host;
  try {
    const { workflowId, startedAt } = await startExport(env, worker, unpacedCatchUp(account));
    const doneAt = await waitForTickets(sink, account, tickets, 30 * 60_000);
    const metrics = await (await fetch(worker.metricsUrl)).text();
    await stopExport(env, workflowId);
    const seconds = (doneAt - startedAt) / 1000;
    const steady = await steadyState(env, workflowId);
    return {
      workflowId,
      metrics,
      timing: {
        tickets,
        seconds: round(seconds, 2),
        ticketsPerSecond: Math.round(tickets / seconds),
        // Without the worker's first workflow task (loading the bundle into a fresh sandbox): from the first
        // fetchPage scheduled to the last page stored, as the history dates them.
        startupSeconds: round((steady.firstFetchAt - startedAt) / 1000, 2),
        steadyTicketsPerSecond: Math.round(tickets / ((steady.lastStoredAt - steady.firstFetchAt) / 1000)),
      },
    };
  } finally {
    await worker.stop();
    await sink.close();
  }
}

/** When the first fetchPage was scheduled and the last persist completed, across every run of the workflow. */
async function steadyState(env: BenchEnv, workflowId: string) {
  let firstFetchAt = Infinity;
  let lastStoredAt = 0;
  for (const { history } of await fetchRunHistories(env.client, workflowId)) {
    const persists = new Set<number>();
    for (const event of history.events ?? []) {
      const at = optionalTsToMs(event.eventTime) ?? 0;
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'fetchPage') firstFetchAt = Math.min(firstFetchAt, at);
      if (scheduled?.activityType?.name === 'persist') persists.add(Number(event.eventId));
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed && persists.has(Number(completed.scheduledEventId))) lastStoredAt = Math.max(lastStoredAt, at);
      // Since the 'persist-locally' patch a page is stored by a local activity: a marker in the history.
      if (localActivityType(event) === 'persist') lastStoredAt = Math.max(lastStoredAt, at);
    }
  }
  return { firstFetchAt, lastStoredAt };
}
