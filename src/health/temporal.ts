import type { NativeConnection, State } from '@temporalio/worker';
import { CheckResult, OK, Probe } from './checks';

/** Ready while the worker runs (it polls its task queue then); `starting` before it exists. */
export function workerStateCheck(state: () => State | undefined): () => Promise<CheckResult> {
  return async () => {
    const current = state();
    if (current === undefined) return 'starting';
    return current === 'RUNNING' ? OK : `worker ${current.toLowerCase()}`;
  };
}

/** Temporal answers a cheap call (GetSystemInfo) on the worker's own connection within `timeoutMs`. */
export function temporalProbe(connection: () => NativeConnection | undefined, timeoutMs: number): Probe {
  return async () => {
    const current = connection();
    if (!current) throw new Error('not connected yet');
    await current.withDeadline(Date.now() + timeoutMs, () => current.workflowService.getSystemInfo({}));
  };
}
