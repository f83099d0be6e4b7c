import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startEmulator } from '../../src/emulator';
import { BenchEnv, startBenchWorker, startExport, stopExport, waitUntil } from '../support/pipeline';
import { round } from '../support/stats';

export interface ApiEfficiencyOptions {
  tickets: number;
  /** The emulator's window and the export's poll interval: one call per window is allowed, no more. */
  intervalSeconds: number;
  /** How long to watch the caught-up export poll an account where nothing changes. */
  idleSeconds: number;
}

/**
 * A strict window: the emulator answers 429 to any call less than `intervalSeconds` after the previous one, and the
 * export is configured with exactly that interval. The optimal export makes one call per page to catch up, then one
 * call per interval; every extra call is a 429 (or waste), every missing one is time lost.
 */
export async function measureApiEfficiency(env: BenchEnv, options: ApiEfficiencyOptions) {
  const { tickets, intervalSeconds, idleSeconds } = options;
  const emulator = await startEmulator({
    ticketCount: tickets,
    windowSeconds: intervalSeconds,
    minStartAgeSeconds: 1,
  });
  const sinkUrl = `sqlite:${path.join(env.dir, `api-${randomUUID()}.db`)}`;
  const worker = await startBenchWorker(env, { baseUrl: emulator.url, sinkUrl });
  try {
    const account = new URL(emulator.url).host;
    const { workflowId } = await startExport(env, worker, {
      account,
      api: 'exports',
      startTime: 0,
      pollIntervalSeconds: intervalSeconds,
      minStartAgeSeconds: 1,
    });
    // Caught up: the first page shorter than 1000 rows.
    const catchUpCalls = Math.floor(tickets / 1000) + 1;
    await waitUntil(
      'the catch-up',
      () => emulator.stats().calls >= catchUpCalls,
      catchUpCalls * intervalSeconds * 3000 + 30_000,
    );
    const caughtUpAt = emulator.stats().log[catchUpCalls - 1].at;
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    await stopExport(env, workflowId);
    const stats = emulator.stats();
    const firstAt = stats.log[0].at;
    const lastAt = stats.log.at(-1)!.at;
    const idleCalls = stats.calls - catchUpCalls;
    const idleElapsed = (lastAt - caughtUpAt) / 1000;
    // One call per interval after the catch-up, over the time the run actually observed.
    const idlePollsRequired = Math.floor(idleElapsed / intervalSeconds);
    const gaps = stats.log.slice(1).map((entry, i) => (entry.at - stats.log[i].at) / 1000);
    return {
      tickets,
      intervalSeconds,
      calls: stats.calls,
      catchUpCalls,
      optimalCalls: catchUpCalls + idlePollsRequired,
      callsPerOptimal: round(stats.calls / (catchUpCalls + idlePollsRequired), 3),
      rateLimited: stats.byStatus['429'] ?? 0,
      callsBeforeRetryAfter: stats.callsBeforeRetryAfter,
      catchUpSeconds: round((caughtUpAt - firstAt) / 1000, 1),
      meanGapSeconds: round(gaps.reduce((a, b) => a + b, 0) / gaps.length, 3),
      minGapSeconds: round(Math.min(...gaps), 3),
      idle: {
        seconds: round(idleElapsed, 1),
        calls: idleCalls,
        callsPerHour: round((idleCalls / idleElapsed) * 3600, 1),
        // The same cadence at the specified 300 s interval: calls per interval × 12 intervals per hour.
        callsPerHourAt300s: round((idleCalls / (idleElapsed / intervalSeconds)) * 12, 2),
      },
    };
  } finally {
    await worker.stop();
    await emulator.close();
  }
}
