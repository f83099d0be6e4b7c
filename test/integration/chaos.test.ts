import { runChaos } from '../../bench/chaos/run-chaos';
import { testEnv } from '../helpers/harness';

// The small version of `npm run chaos`: every kind of fault once or more, on a catch-up of a few thousand tickets.
describe('chaos (small)', () => {
  test('worker, Temporal and PostgreSQL killed, the API misbehaving: nothing lost, nothing replayed wrong', async () => {
    const lines: string[] = [];
    const summary = await runChaos({
      tickets: 3000,
      api: 'cursor',
      workerKills: 5,
      temporalRestarts: 1,
      postgresRestarts: 1,
      perPage: 200,
      pagesPerRun: 6,
      mutations: { intervalMs: 200, perTick: 2 },
      seed: 7,
      bundlePath: testEnv().bundlePath,
      log: (line) => lines.push(line),
    });
    const context = `${JSON.stringify(summary, null, 2)}\n${lines.join('\n')}`;
    // One comparison, so that a failure shows the whole summary and the event log.
    expect({
      lost: summary.ticketsLost,
      stale: summary.staleTickets,
      callsBeforeRetryAfter: summary.callsBeforeRetryAfter,
      cursorMoreThanOnePageBehindCheckpoint: summary.cursorMoreThanOnePageBehindCheckpoint,
      secretsInWorkerLogs: summary.secretsInWorkerLogs,
      context,
    }).toEqual({
      lost: 0,
      stale: 0,
      callsBeforeRetryAfter: 0,
      cursorMoreThanOnePageBehindCheckpoint: 0,
      secretsInWorkerLogs: 0,
      context,
    });
    expect(summary.ticketsInTruth).toBeGreaterThanOrEqual(3000);
    expect(summary.faults['worker SIGKILLed'] + (summary.faults['worker SIGKILLed during persist'] ?? 0)).toBe(5);
    expect(summary.faults['Temporal server SIGKILLed and restarted']).toBe(1);
    expect(summary.faults['PostgreSQL crashed and restarted']).toBe(1);
    expect(summary.runs).toBeGreaterThan(1); // continue-as-new happened
    for (const event of [
      'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
      'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
      'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
      'EVENT_TYPE_ACTIVITY_TASK_FAILED',
    ]) {
      expect(Object.keys(summary.historyEvents)).toContain(event);
    }
  }, 300_000);
});
