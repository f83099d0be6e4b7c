// Zendesk's clock against the worker's, and how far behind it the sink is. Pure: the workflow bundle, the Zendesk
// client and the CLI use the same rules.

/** Below this, a measured clock offset is the Date header's one-second resolution and the network, not skew. */
export const CLOCK_NOISE_MS = 2000;

/**
 * Beyond this, a Date header is wrong, not a clock that drifted: no NTP-less host is a day off, while a proxy or a
 * broken server can send `Thu, 01 Jan 1970 …`, which taken at its word would park the export for decades.
 */
export const MAX_CLOCK_OFFSET_MS = 86_400_000;

/** Whether a measured offset (Zendesk's clock minus the worker's) can be believed. */
export function plausibleClockOffset(measuredMs: number): boolean {
  return Number.isFinite(measuredMs) && Math.abs(measuredMs) <= MAX_CLOCK_OFFSET_MS;
}

/**
 * The clock offset the pacing uses: the measured one, 0 when it is within the measuring noise, and the previous one
 * when the measurement is implausible.
 */
export function usableClockOffset(measuredMs: number, previousMs = 0): number {
  if (!plausibleClockOffset(measuredMs)) return previousMs;
  return Math.abs(measuredMs) < CLOCK_NOISE_MS ? 0 : measuredMs;
}

/** Epoch seconds the sink is known to hold every change up to. */
export function completeThrough(state: { cursor: number; completeThroughMs?: number }): number {
  return Math.max(state.cursor, Math.floor((state.completeThroughMs ?? 0) / 1000));
}

/** How far behind Zendesk the sink is, in seconds, at `nowMs`. */
export function exportLagSeconds(nowMs: number, completeThroughSeconds: number): number {
  return Math.max(0, Math.floor(nowMs / 1000) - completeThroughSeconds);
}
