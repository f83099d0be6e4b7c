export { cachedCheck, OK, withTimeout, type CheckResult, type Probe } from './checks';
export { freePort } from './free-port';
export { readinessOf, type Readiness } from './readiness';
export { startMetricsPort, type MetricsPortServer } from './server';
export { temporalProbe, workerStateCheck } from './temporal';
export { workerReadiness, type ReadinessTiming, type WorkerParts } from './worker-readiness';
