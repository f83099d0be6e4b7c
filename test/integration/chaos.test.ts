import { runChaos } from '../../bench/chaos/run-chaos';
import { STREAMS } from '../../src/streams/names';
import { testEnv } from '../helpers/harness';

// The small version of `npm run chaos`: every kind of fault once or more, on a catch-up of a few thousand tickets and
// the four streams around them; every table ends equal to the truth, no bucket called over its budget.
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
      pagesPerRun: 30,
      streams: [...STREAMS],
      requestsPerMinute: 3000,
      usersRequestsPerMinute: 6000,
      mutations: { intervalMs: 200, perTick: 2 },
      seed: 7,
      bundlePath: testEnv().bundlePath,
      log: (line) => lines.push(line),
    });
    const context = `${JSON.stringify(summary, null, 2)}\n${lines.join('\n')}`;
    // One comparison, so that a failure shows the whole summary and the event log.
    const budgets = Object.entries(summary.buckets).map(([bucket, b]) => ({
      bucket,
      overBudget: b.overBudget,
      rateLimited: b.rateLimited,
    }));
    expect({
      tableDifferences: summary.tableDifferences,
      budgets,
      lost: summary.ticketsLost,
      stale: summary.staleTickets,
      callsBeforeRetryAfter: summary.callsBeforeRetryAfter,
      cursorMoreThanOnePageBehindCheckpoint: summary.cursorMoreThanOnePageBehindCheckpoint,
      secretsInWorkerLogs: summary.secretsInWorkerLogs,
      context,
    }).toEqual({
      tableDifferences: '',
      budgets: [
        { bucket: 'incremental', overBudget: 0, rateLimited: 0 },
        { bucket: 'users_cursor', overBudget: 0, rateLimited: 0 },
        { bucket: 'account', overBudget: 0, rateLimited: 0 },
      ],
      lost: 0,
      stale: 0,
      callsBeforeRetryAfter: 0,
      cursorMoreThanOnePageBehindCheckpoint: 0,
      secretsInWorkerLogs: 0,
      context,
    });
    expect(summary.ticketsInTruth).toBeGreaterThanOrEqual(3000);
    // Every table was compared, and each held rows.
    expect(Object.keys(summary.tables).sort()).toEqual(
      [
        'tickets',
        'ticket_events',
        'ticket_comments',
        'ticket_field_changes',
        'users',
        'organizations',
        'ticket_metric_events',
      ].sort(),
    );
    for (const table of Object.values(summary.tables)) expect(table.inTruth).toBeGreaterThan(0);
    expect(summary.buckets.incremental.accepted).toBeGreaterThan(0);
    expect(summary.buckets.users_cursor.accepted).toBeGreaterThan(0);
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
  }, 600_000);
});
