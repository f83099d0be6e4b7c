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

/** A clock skew this large is worth an operator's attention (NTP on the worker's host, usually). */
const CLOCK_WARNING_MS = 60_000;

/**
 * The offset to use after an answer measured `measuredMs` (Zendesk's clock minus the worker's), and what an operator
 * should hear of it: a Date header taken for broken, or a skew that grew past a minute.
 */
export function readZendeskClock(measuredMs: number, previousMs: number): { offsetMs: number; warnings: string[] } {
  const warnings: string[] = [];
  if (!plausibleClockOffset(measuredMs)) {
    warnings.push(
      `Zendesk's Date header is ${Math.round(Math.abs(measuredMs) / 86_400_000)} days off the worker's clock: ` +
        `ignored (offsets beyond ${MAX_CLOCK_OFFSET_MS / 3_600_000} h are taken for a broken header)`,
    );
  }
  const offsetMs = usableClockOffset(measuredMs, previousMs);
  if (Math.abs(offsetMs) >= CLOCK_WARNING_MS && Math.abs(offsetMs - previousMs) >= CLOCK_WARNING_MS) {
    warnings.push(
      `Zendesk's clock is ${Math.round(Math.abs(offsetMs) / 1000)} s ${offsetMs > 0 ? 'ahead of' : 'behind'} ` +
        "the worker's: start_time ages and lag are counted on Zendesk's clock",
    );
  }
  return { offsetMs, warnings };
}

/** Epoch seconds the sink is known to hold every change up to. */
export function completeThrough(state: { cursor: number; completeThroughMs?: number }): number {
  return Math.max(state.cursor, Math.floor((state.completeThroughMs ?? 0) / 1000));
}

/** How far behind Zendesk the sink is, in seconds, at `nowMs`. */
export function exportLagSeconds(nowMs: number, completeThroughSeconds: number): number {
  return Math.max(0, Math.floor(nowMs / 1000) - completeThroughSeconds);
}
