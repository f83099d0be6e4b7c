import { metricMeter } from '@temporalio/workflow';
import { METRIC, TICKETS_STREAM } from '../metrics/names';

// Workflow metrics are replay-safe: nothing is emitted while a history is replayed. The instruments are created at
// call time, inside the workflow context, rather than at module load. Names: src/metrics/names.ts.

function setBlocked(account: string, stream: string, blocked: boolean): void {
  metricMeter
    .createGauge(METRIC.blocked, 'int', '', '1 while a stream is blocked by a permanent error (until resume)')
    .set(blocked ? 1 : 0, { account, stream });
}

function setLag(account: string, stream: string, lagSeconds: number): void {
  metricMeter
    .createGauge(METRIC.lagSeconds, 'int', '', 'Seconds a stream is behind Zendesk, as of its last call')
    .set(lagSeconds, { account, stream });
}

/** The tickets stream blocked (1) or not (0). */
export function recordBlocked(account: string, blocked: boolean): void {
  setBlocked(account, TICKETS_STREAM, blocked);
}

export function recordRetryAfterWait(account: string, seconds: number): void {
  metricMeter
    .createCounter(METRIC.retryAfterWaitedSeconds, '', 'Seconds slept because a 429 asked for them (Retry-After)')
    .add(seconds, { account });
}

/** The tickets stream's lag. */
export function recordProgress(account: string, lagSeconds: number): void {
  setLag(account, TICKETS_STREAM, lagSeconds);
}

/** A stream around the ticket: its lag and whether it is blocked, labelled by stream. */
export function recordStreamProgress(
  account: string,
  stream: { name: string; lagSeconds(): number; state: { blocked: boolean } },
): void {
  setLag(account, stream.name, stream.lagSeconds());
  setBlocked(account, stream.name, stream.state.blocked);
}
