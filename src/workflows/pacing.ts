// When the next call to Zendesk may go: the pacing interval, the start_time's minimum age, a notBefore. Pure rules,
// unit-tested directly.

export interface PacingInput {
  nowMs: number;
  lastCallAt: number | null;
  pollIntervalMs: number;
  /** The start_time the call sends (epoch seconds); 0 for a call by after_cursor, which has no minimum age. */
  startTime: number;
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
    [input.startTime * 1000 + input.minStartAgeMs - (input.zendeskClockOffsetMs ?? 0), 'start_age'],
    [input.notBefore ?? 0, 'not_before'],
  ];
  // The first of the latest: a wait already over is "now".
  let [at, rule] = candidates[0];
  for (const [candidateAt, candidateRule] of candidates)
    if (candidateAt > at) [at, rule] = [candidateAt, candidateRule];
  return { at, rule };
}
