// Pure timing and cursor rules of the export loop: no Temporal APIs, so they are unit-tested directly.

import { undecodableReason } from '../shared';

export interface PacingInput {
  nowMs: number;
  lastCallAt: number | null;
  pollIntervalMs: number;
  cursor: number;
  minStartAgeMs: number;
  /** No call before this instant (backoff after failures, a Retry-After); 0 when none. */
  notBefore?: number;
  /** Zendesk's clock minus the worker's (ms): the start_time's age is Zendesk's to judge. */
  zendeskClockOffsetMs?: number;
}

/** The earliest instant (ms) at which the next call may be sent. */
export function nextCallAt(input: PacingInput): number {
  return explainNextCall(input).at;
}

/** Which rule sets the next call: the instant itself, or the interval, the start_time's age or a notBefore. */
export type PacingRule = 'now' | 'interval' | 'start_age' | 'not_before';

export function explainNextCall(input: PacingInput): { at: number; rule: PacingRule } {
  const candidates: [number, PacingRule][] = [
    [input.nowMs, 'now'],
    [input.lastCallAt === null ? 0 : input.lastCallAt + input.pollIntervalMs, 'interval'],
    [input.cursor * 1000 + input.minStartAgeMs - (input.zendeskClockOffsetMs ?? 0), 'start_age'],
    [input.notBefore ?? 0, 'not_before'],
  ];
  // The first of the latest: a wait already over is "now".
  let [at, rule] = candidates[0];
  for (const [candidateAt, candidateRule] of candidates)
    if (candidateAt > at) [at, rule] = [candidateAt, candidateRule];
  return { at, rule };
}

/** Below this, a measured clock offset is the Date header's one-second resolution and the network, not skew. */
export const CLOCK_NOISE_MS = 2000;

/** The clock offset the pacing uses: the measured one, or 0 when it is within the measuring noise. */
export function usableClockOffset(measuredMs: number): number {
  return Math.abs(measuredMs) < CLOCK_NOISE_MS ? 0 : measuredMs;
}

export interface CursorAdvance {
  cursor: number;
  warning?: string;
}

/** Where the cursor goes after a page that started at `startTime`. */
export function advanceCursor(page: {
  startTime: number;
  endTime: number | null;
  rowCount: number;
  pageSize: number;
}): CursorAdvance {
  const { startTime, endTime, rowCount, pageSize } = page;
  if (rowCount === 0 || endTime === null) return { cursor: startTime };
  if (endTime < startTime) {
    return {
      cursor: startTime,
      warning: `end_time ${endTime} is before start_time ${startTime}: cursor kept at ${startTime}`,
    };
  }
  if (endTime === startTime && rowCount >= pageSize) {
    return {
      cursor: startTime + 1,
      warning:
        `a full page of ${rowCount} rows shares generated_timestamp ${startTime} (${isoSeconds(startTime)}); ` +
        `stepped past it: tickets beyond these ${rowCount} at that second may be hidden until they change again`,
    };
  }
  return { cursor: endTime };
}

/** Backoff after an activity exhausted its retries: poll interval × 2^(n-1), at most one hour. */
export function failureBackoffMs(consecutiveFailures: number, pollIntervalMs: number): number {
  const exponent = Math.min(Math.max(consecutiveFailures - 1, 0), 16);
  return Math.min(pollIntervalMs * 2 ** exponent, 3_600_000);
}

/** Why a reset request is invalid, or undefined when it is fine. */
export function resetCursorProblem(request: unknown, nowMs: number): string | undefined {
  const undecodable = undecodableReason(request);
  if (undecodable !== undefined) return `its payload could not be decoded (${undecodable})`;
  if (typeof request !== 'object' || request === null || !('startTime' in request)) {
    return 'expected { startTime: <epoch seconds> }';
  }
  const startTime = (request as { startTime: unknown }).startTime;
  if (typeof startTime !== 'number' || !Number.isSafeInteger(startTime)) {
    return `startTime must be a whole number of epoch seconds, got ${JSON.stringify(startTime)}`;
  }
  if (startTime < 0) return `startTime must be >= 0, got ${startTime}`;
  const now = Math.floor(nowMs / 1000);
  if (startTime > now) return `startTime ${startTime} is in the future (now is ${now})`;
  return undefined;
}

export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Epoch seconds the sink is known to hold every change up to. */
export function completeThrough(state: { cursor: number; completeThroughMs?: number }): number {
  return Math.max(state.cursor, Math.floor((state.completeThroughMs ?? 0) / 1000));
}

/** How far behind Zendesk the sink is, in seconds, at `nowMs`. */
export function exportLagSeconds(nowMs: number, completeThroughSeconds: number): number {
  return Math.max(0, Math.floor(nowMs / 1000) - completeThroughSeconds);
}
