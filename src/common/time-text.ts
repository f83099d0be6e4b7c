// Times as text for warnings, summaries, status and the Web UI. Pure: the workflow bundle imports it too.

/** The furthest instant from 1970 a Date holds (ms): beyond it toISOString throws a RangeError. */
const MAX_DATE_MS = 8.64e15;

/** `new Date(ms).toISOString()`, or undefined for a time no Date holds (not finite, or beyond ±275,760 years). */
export function isoMillis(ms: number): string | undefined {
  return Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : undefined;
}

/** Epoch seconds as text; a value no Date holds is shown as the number. */
export function isoSeconds(epochSeconds: number): string {
  return isoMillis(epochSeconds * 1000)?.replace('.000Z', 'Z') ?? `${epochSeconds} s (not a date)`;
}

/** "12 s", "0.5 s". */
export function seconds(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
}

/** A span as an operator reads it: "90 s", "12 min", "5 h", "3 days". */
export function duration(totalSeconds: number): string {
  if (totalSeconds < 120) return `${Math.round(totalSeconds)} s`;
  if (totalSeconds < 7200) return `${Math.round(totalSeconds / 60)} min`;
  if (totalSeconds < 172_800) return `${Math.round(totalSeconds / 3600)} h`;
  return `${Math.round(totalSeconds / 86_400)} days`;
}
