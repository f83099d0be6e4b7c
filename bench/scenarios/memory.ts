import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openSink } from '../../src/storage/open';
import {
  BenchEnv,
  rssMb,
  startBenchWorker,
  startEmulatorProcess,
  startExport,
  stopExport,
  unpacedCatchUp,
} from '../support/pipeline';
import { round, slope } from '../support/stats';

export interface MemoryOptions {
  tickets: number;
}

interface Sample {
  seconds: number;
  tickets: number;
  workerMb: number;
  emulatorMb: number;
}

/**
 * The worker's resident memory through a long catch-up (pacing off), sampled every second from /proc. The
 * emulator runs in its own process, so its footprint (it holds every ticket) is reported apart.
 */
export async function measureMemory(env: BenchEnv, { tickets }: MemoryOptions) {
  const emulator = await startEmulatorProcess([
    '--tickets',
    String(tickets),
    '--window-seconds',
    '0',
    '--min-start-age-seconds',
    '0',
  ]);
  const sinkUrl = `sqlite:${path.join(env.dir, `memory-${randomUUID()}.db`)}`;
  const sink = await openSink(sinkUrl);
  const worker = await startBenchWorker(env, { baseUrl: emulator.url, sinkUrl });
  const account = new URL(emulator.url).host;
  const samples: Sample[] = [];
  try {
    const { workflowId, startedAt } = await startExport(env, worker, unpacedCatchUp(account));
    for (;;) {
      const stored = await sink.countTickets(account);
      samples.push({
        seconds: round((Date.now() - startedAt) / 1000, 1),
        tickets: stored,
        workerMb: round(rssMb(worker.pid) ?? NaN, 1),
        emulatorMb: round(rssMb(emulator.pid) ?? NaN, 1),
      });
      if (stored >= tickets) break;
      if (worker.child.exitCode !== null) throw new Error(`memory: the worker exited\n${worker.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await stopExport(env, workflowId);
    const seconds = samples.at(-1)!.seconds;
    // Warm-up: the first 10% of the tickets (module loading, the workflow bundle, SQLite's page cache).
    const warm = samples.filter((s) => s.tickets >= tickets * 0.1);
    const growth = mbPerHundredThousand(warm);
    return {
      tickets,
      seconds,
      ticketsPerSecond: Math.round(tickets / seconds),
      worker: {
        afterWarmUpMb: warm[0]?.workerMb ?? null,
        maxMb: Math.max(...samples.map((s) => s.workerMb)),
        finalMb: samples.at(-1)!.workerMb,
        mbPer100kTicketsAfterWarmUp: growth,
      },
      emulator: { maxMb: Math.max(...samples.map((s) => s.emulatorMb)) },
      samples: downsample(samples, 120),
    };
  } finally {
    await worker.stop();
    await sink.close();
    await emulator.stop();
  }
}

/** Least-squares slope of worker RSS against tickets stored, in MB per 100,000 tickets. */
function mbPerHundredThousand(samples: Sample[]): number | null {
  if (samples.length < 3) return null;
  const perTicket = slope(samples.map((s) => ({ x: s.tickets, y: s.workerMb })));
  return Number.isNaN(perTicket) ? null : round(perTicket * 100_000, 2);
}

function downsample<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]).concat(items.at(-1)!);
}
