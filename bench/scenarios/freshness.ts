import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MutationRecord, startEmulator } from '../../src/emulator';
import { openSink } from '../../src/storage/open';
import { BenchEnv, startBenchWorker, startExport, stopExport, waitForTickets } from '../support/pipeline';
import { quantile, round } from '../support/stats';

export interface FreshnessOptions {
  /** Poll interval and minimum start_time age, the same value: the specified pacing (300 s) scaled down. */
  pacingSeconds: number;
  /** How long tickets keep changing. */
  seconds: number;
}

/**
 * Seconds from a ticket change in the emulator to its row in the sink. Changes come one at a time at random
 * moments (0.2-1.5 s apart); the sink is read every 50 ms.
 */
export async function measureFreshness(env: BenchEnv, { pacingSeconds, seconds }: FreshnessOptions) {
  const emulator = await startEmulator({
    ticketCount: 500,
    windowSeconds: pacingSeconds,
    minStartAgeSeconds: pacingSeconds,
  });
  const sinkUrl = `sqlite:${path.join(env.dir, `freshness-${randomUUID()}.db`)}`;
  const sink = await openSink(sinkUrl);
  const worker = await startBenchWorker(env, { baseUrl: emulator.url, sinkUrl });
  const account = new URL(emulator.url).host;
  try {
    const { workflowId } = await startExport(env, worker, {
      account,
      api: 'exports',
      startTime: 0,
      pollIntervalSeconds: pacingSeconds,
      minStartAgeSeconds: pacingSeconds,
    });
    await waitForTickets(sink, account, 500, 60_000);
    const pending = new Map<number, { change: MutationRecord; at: number }>();
    const latencies: number[] = [];
    const until = Date.now() + seconds * 1000;
    let nextChangeAt = Date.now();
    while (Date.now() < until || pending.size > 0) {
      if (Date.now() >= nextChangeAt && Date.now() < until) {
        // agentUpdate only: a ticket deleted by the mutation would leave the comparison nothing to wait for.
        for (const change of emulator.mutate(1, 'agentUpdate')) pending.set(change.id, { change, at: Date.now() });
        nextChangeAt = Date.now() + 200 + Math.random() * 1300;
      }
      if (pending.size > 0) {
        const stored = new Map((await sink.readTickets(account)).map((t) => [t.id, t.generatedTimestamp]));
        for (const [id, { change, at }] of pending) {
          if ((stored.get(id) ?? 0) >= change.at) {
            latencies.push((Date.now() - at) / 1000);
            pending.delete(id);
          }
        }
      }
      if (Date.now() > until + 60_000) throw new Error(`freshness: ${pending.size} changes never reached the sink`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stopExport(env, workflowId);
    return {
      pacingSeconds,
      changes: latencies.length,
      p50Seconds: round(quantile(latencies, 0.5), 2),
      p99Seconds: round(quantile(latencies, 0.99), 2),
      maxSeconds: round(Math.max(...latencies), 2),
      targetP99Seconds: 2 * pacingSeconds + 1,
    };
  } finally {
    await worker.stop();
    await sink.close();
    await emulator.close();
  }
}
