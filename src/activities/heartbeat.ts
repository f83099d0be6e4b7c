import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs. The workflow gives these activities a short heartbeat timeout, so when a worker dies
 * mid-call (SIGKILL, a lost host) another worker retries the call within seconds instead of after the whole
 * start-to-close timeout.
 */
export async function withHeartbeat<T>(work: () => Promise<T>, intervalMs = 2_000): Promise<T> {
  const context = Context.current();
  // A local activity cannot heartbeat: the workflow task it runs in is the worker's liveness signal.
  if (context.info.isLocal) return work();
  const timer = setInterval(() => context.heartbeat(), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
