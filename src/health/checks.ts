/** What a readiness check says: `ok`, or why not (one line, no secret). */
export type CheckResult = string;

export const OK: CheckResult = 'ok';

/** A dependency probe: resolves when the dependency answers, rejects (or times out) when it does not. */
export type Probe = () => Promise<unknown>;

export interface CachedCheckOptions {
  /** A result is reused this long, so frequent probes cost one call per period (default 3 s). */
  ttlMs?: number;
  /** A probe that has not answered within this is a failure (default 2 s). */
  timeoutMs?: number;
  /** Turns a probe's error into the text of the result (e.g. without the sink's password). */
  describe?: (err: unknown) => string;
  now?: () => number;
}

/**
 * A probe made into a check: its outcome cached for `ttlMs`, one probe in flight at a time (concurrent callers share
 * it), and a probe that hangs counted as failed after `timeoutMs`.
 */
export function cachedCheck(probe: Probe, options: CachedCheckOptions = {}): () => Promise<CheckResult> {
  const { ttlMs = 3000, timeoutMs = 2000, describe = describeError, now = Date.now } = options;
  let last: { at: number; result: CheckResult } | undefined;
  let inFlight: Promise<CheckResult> | undefined;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.result);
    inFlight ??= withTimeout(probe, timeoutMs).then(
      () => OK,
      (err: unknown) => oneLine(describe(err)),
    );
    const current = inFlight;
    return current.then((result) => {
      if (inFlight === current) {
        last = { at: now(), result };
        inFlight = undefined;
      }
      return result;
    });
  };
}

/**
 * `probe()`, or a rejection naming the timeout when it has not settled within `ms`: "no answer within 2 s", or with
 * `what`, "<what> did not end within 2 s".
 */
export async function withTimeout<T>(probe: () => Promise<T>, ms: number, what?: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = what === undefined ? 'no answer' : `${what} did not end`;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${late} within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The first line, at most 300 characters: a probe's answer, not a stack. */
export function oneLine(text: string): string {
  const first = (text.split('\n')[0] ?? '').trim() || 'failed';
  return first.length > 300 ? `${first.slice(0, 297)}...` : first;
}
