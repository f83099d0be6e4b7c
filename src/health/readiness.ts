import { CheckResult, OK } from './checks';

/** The body of /readyz: ready when every check is `ok`. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/** All checks at once (each cached on its own); ready when each says `ok`. */
export function readinessOf(checks: Record<string, () => Promise<CheckResult>>): () => Promise<Readiness> {
  return async () => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => checks[name]().catch((err: unknown) => String(err))));
    const byName = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    return { ready: results.every((result) => result === OK), checks: byName };
  };
}
