import { metricMeter } from '@temporalio/workflow';

// Workflow metrics are replay-safe: nothing is emitted while a history is replayed. The instruments are created at
// call time, inside the workflow context, rather than at module load.

export function recordBlocked(account: string, blocked: boolean): void {
  metricMeter
    .createGauge(
      'zendesk_export_blocked',
      'int',
      '',
      '1 while an export is blocked by a permanent error (until resume)',
    )
    .set(blocked ? 1 : 0, { account });
}

export function recordRetryAfterWait(account: string, seconds: number): void {
  metricMeter
    .createCounter('zendesk_retry_after_wait_seconds', 's', 'Seconds slept because a 429 asked for them (Retry-After)')
    .add(seconds, { account });
}

export function recordProgress(account: string, lagSeconds: number): void {
  metricMeter
    .createGauge('zendesk_export_lag_seconds', 'int', 's', 'Seconds the sink is behind Zendesk, as of the last call')
    .set(lagSeconds, { account });
}

/** A stream around the ticket: its lag and whether it is blocked, labelled by stream. */
export function recordStreamProgress(
  account: string,
  stream: { name: string; lagSeconds(): number; state: { blocked: boolean } },
): void {
  const labels = { account, stream: stream.name };
  metricMeter
    .createGauge('zendesk_export_stream_lag_seconds', 'int', 's', 'Seconds a stream is behind Zendesk')
    .set(stream.lagSeconds(), labels);
  metricMeter
    .createGauge('zendesk_export_stream_blocked', 'int', '', '1 while a stream is blocked by a permanent error')
    .set(stream.state.blocked ? 1 : 0, labels);
}
