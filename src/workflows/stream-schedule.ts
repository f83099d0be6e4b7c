// Which stream's call goes next: the one due first; among those due at once (bucket-mates catching up share the
// bucket's clock), the one that called longest ago, so no stream waits behind another's backfill. Pure.

export interface TurnCandidate<S extends string = string> {
  stream: S;
  /** When its next call may go (ms). */
  at: number;
  /** When it last called (ms); null: never. */
  lastCallAt: number | null;
}

export function pickTurn<C extends TurnCandidate>(candidates: readonly C[]): C | undefined {
  let best: C | undefined;
  for (const candidate of candidates) {
    if (!best || earlier(candidate, best)) best = candidate;
  }
  return best;
}

function earlier(a: TurnCandidate, b: TurnCandidate): boolean {
  if (a.at !== b.at) return a.at < b.at;
  return (a.lastCallAt ?? -Infinity) < (b.lastCallAt ?? -Infinity);
}
