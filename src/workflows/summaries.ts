import type { FetchPageInput } from '../activities/types';
import type { ExportPhase } from './messages';
import { PacingRule } from './pacing';
import { isoSeconds, seconds } from '../common/time-text';

/** A timer's summary in the Web UI: which pacing rule it waits for. */
export function waitSummary(phase: ExportPhase, rule: PacingRule, intervalMs: number, waitMs: number): string {
  const wait = seconds(Math.ceil(waitMs / 1000));
  if (phase === 'rate_limited') return `Retry-After ${wait}`;
  if (phase === 'backoff') return `backoff after a failure: ${wait}`;
  switch (rule) {
    case 'interval':
      return `pacing: ${seconds(intervalMs / 1000)} between calls`;
    case 'start_age':
      return `start_time too young for Zendesk: ${wait}`;
    case 'not_before':
      return `Retry-After or backoff: ${wait}`;
    case 'now':
      return 'next call';
  }
}

/** A fetchPage's summary: the request it sends. */
export function describeRequest(request: FetchPageInput): string {
  const endpoint = request.api ?? 'exports';
  if (request.afterCursor !== undefined) {
    return `fetch ${endpoint} after_cursor ${request.afterCursor.slice(0, 24)}…`;
  }
  return `fetch ${endpoint} start_time=${request.startTime} (${isoSeconds(request.startTime)})`;
}
