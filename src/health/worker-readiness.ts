import type { NativeConnection, Worker } from '@temporalio/worker';
import { redactUrlSecrets } from '../common/redact-url';
import type { TicketSink } from '../storage/sink';
import { cachedCheck, CheckResult } from './checks';
import { Readiness, readinessOf } from './readiness';
import { temporalProbe, workerStateCheck } from './temporal';

/** What the worker process has brought up so far; each part undefined until it exists. */
export interface WorkerParts {
  worker?: Worker;
  connection?: NativeConnection;
  sink?: TicketSink;
}

export interface ReadinessTiming {
  /** A check's result is reused this long (default 3 s): probes every second cost one call per period. */
  ttlMs?: number;
  /** Temporal or the sink not answering within this is a failed check (default 2 s). */
  timeoutMs?: number;
}

/**
 * The worker's /readyz: `worker` (its state is RUNNING, so it polls its task queue), `temporal` (the worker's
 * connection answers GetSystemInfo) and `sink` (the database answers a trivial query). `parts` is read at each probe.
 */
export function workerReadiness(
  parts: WorkerParts,
  sinkUrl: string,
  timing: ReadinessTiming = {},
): () => Promise<Readiness> {
  const { ttlMs = 3000, timeoutMs = 2000 } = timing;
  return readinessOf({
    worker: workerStateCheck(() => parts.worker?.getState()),
    temporal: onceThere(
      () => parts.connection,
      'not connected yet',
      cachedCheck(
        temporalProbe(() => parts.connection, timeoutMs),
        { ttlMs, timeoutMs: timeoutMs + 500 },
      ),
    ),
    sink: onceThere(
      () => parts.sink,
      'not open yet',
      cachedCheck(
        async () => {
          if (!parts.sink) throw new Error('not open yet');
          await parts.sink.ping(timeoutMs);
        },
        {
          ttlMs,
          timeoutMs: timeoutMs + 1000,
          describe: (err) => redactUrlSecrets(err instanceof Error ? err.message : String(err), sinkUrl),
        },
      ),
    ),
  });
}

/**
 * `missing` while the part is not there, at no cost and cached nowhere (a probe a moment before the worker opened it
 * would otherwise say so for the whole ttl); `check` once it is.
 */
function onceThere(
  part: () => unknown,
  missing: CheckResult,
  check: () => Promise<CheckResult>,
): () => Promise<CheckResult> {
  return async () => (part() === undefined ? missing : check());
}
