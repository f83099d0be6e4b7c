import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { countActions, eventActions, noOpUpserts, timersOf } from '../../bench/support/actions';

// A tiny hand-made history, in the JSON form `temporal workflow show --output json` writes: one run of a workflow
// that records two patch markers in its first workflow task, upserts, waits, runs an activity that needed three
// attempts, takes a signal and an update, and continues as new.
const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const b64 = (text: string) => Buffer.from(text).toString('base64');
const attribute = (type: string, value: unknown) => ({
  metadata: { encoding: b64('json/plain'), type: b64(type) },
  data: json(value),
});
const patchMarker = (id: number, patch: string) => ({
  eventId: String(id),
  eventType: 'EVENT_TYPE_MARKER_RECORDED',
  markerRecordedEventAttributes: {
    markerName: 'core_patch',
    details: { 'patch-data': { payloads: [{ metadata: { encoding: b64('json/plain') }, data: json({ id: patch }) }] } },
    workflowTaskCompletedEventId: '4',
  },
});
const upsert = (id: number, task: number, fields: Record<string, unknown>) => ({
  eventId: String(id),
  eventType: 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
  upsertWorkflowSearchAttributesEventAttributes: {
    workflowTaskCompletedEventId: String(task),
    searchAttributes: { indexedFields: fields },
  },
});
const task = (id: number, kind: 'Scheduled' | 'Started' | 'Completed') => ({
  eventId: String(id),
  eventType: `EVENT_TYPE_WORKFLOW_TASK_${kind.toUpperCase()}`,
  [`workflowTask${kind}EventAttributes`]: {},
});

const HISTORY = {
  events: [
    {
      eventId: '1',
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: 'ticketExportWorkflow' },
        searchAttributes: { indexedFields: { ZendeskState: attribute('Keyword', 'catching_up') } },
      },
    },
    task(2, 'Scheduled'),
    task(3, 'Started'),
    task(4, 'Completed'),
    patchMarker(5, 'operator-interrupts'),
    upsert(6, 4, { TemporalChangeVersion: attribute('KeywordList', ['operator-interrupts']) }),
    patchMarker(7, 'state-search-attribute'),
    upsert(8, 4, {
      TemporalChangeVersion: attribute('KeywordList', ['operator-interrupts', 'state-search-attribute']),
    }),
    // Sets ZendeskState to the value it already has: billed, and a waste.
    upsert(9, 4, { ZendeskState: attribute('Keyword', 'catching_up') }),
    {
      eventId: '10',
      eventType: 'EVENT_TYPE_TIMER_STARTED',
      userMetadata: { summary: { metadata: { encoding: b64('json/plain') }, data: json('next call') } },
      timerStartedEventAttributes: { timerId: '1', startToFireTimeout: '0.001s', workflowTaskCompletedEventId: '4' },
    },
    { eventId: '11', eventType: 'EVENT_TYPE_TIMER_FIRED', timerFiredEventAttributes: { timerId: '1' } },
    task(12, 'Scheduled'),
    task(13, 'Started'),
    task(14, 'Completed'),
    {
      eventId: '15',
      eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
      activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'fetchPage' } },
    },
    {
      eventId: '16',
      eventType: 'EVENT_TYPE_ACTIVITY_TASK_STARTED',
      activityTaskStartedEventAttributes: { scheduledEventId: '15', attempt: 3 },
    },
    {
      eventId: '17',
      eventType: 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
      activityTaskCompletedEventAttributes: { scheduledEventId: '15' },
    },
    {
      eventId: '18',
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
      workflowExecutionSignaledEventAttributes: { signalName: 'pollNow' },
    },
    task(19, 'Scheduled'),
    task(20, 'Started'),
    task(21, 'Completed'),
    {
      eventId: '22',
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
      workflowExecutionUpdateAcceptedEventAttributes: { protocolInstanceId: 'u1' },
    },
    upsert(23, 21, { ZendeskCursor: attribute('Datetime', '2026-12-01T00:00:00.000Z') }),
    {
      eventId: '24',
      eventType: 'EVENT_TYPE_TIMER_STARTED',
      timerStartedEventAttributes: { timerId: '2', startToFireTimeout: '300s', workflowTaskCompletedEventId: '21' },
    },
    { eventId: '25', eventType: 'EVENT_TYPE_TIMER_CANCELED', timerCanceledEventAttributes: { timerId: '2' } },
    {
      eventId: '26',
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
      workflowExecutionContinuedAsNewEventAttributes: { workflowTaskCompletedEventId: '21' },
    },
  ],
};

describe('billable actions counted from a history', () => {
  const events = historyFromJSON(HISTORY).events ?? [];

  test("Temporal Cloud's rule", () => {
    expect(countActions(events, 'cloud')).toEqual({
      total: 11,
      byKind: {
        'workflow start': 1,
        // Two patch markers recorded by one workflow task: one action.
        'markers of a workflow task': 1,
        // ZendeskState (a no-op, billed all the same) and ZendeskCursor; TemporalChangeVersion is exempt.
        'search attribute upsert': 2,
        // Started and canceled: billed once, when started.
        timer: 2,
        activity: 1,
        // Attempt 3: two retries.
        'activity retry': 2,
        signal: 1,
        update: 1,
      },
    });
  });

  test("the server's action metric also counts TemporalChangeVersion upserts", () => {
    const counted = countActions(events, 'server-metric');
    expect(counted.total).toBe(13);
    expect(counted.byKind['search attribute upsert (TemporalChangeVersion)']).toBe(2);
  });

  test('markers recorded by different workflow tasks are one action each', () => {
    const second = patchMarker(27, 'one-timer-after-429');
    second.markerRecordedEventAttributes.workflowTaskCompletedEventId = '21';
    const more = historyFromJSON({ events: [...HISTORY.events, second] }).events ?? [];
    expect(countActions(more).byKind['markers of a workflow task']).toBe(2);
    expect(eventActions(more).at(-1)).toEqual([{ kind: 'markers of a workflow task', count: 1 }]);
  });

  test('an upsert that changes no value is found', () => {
    expect(noOpUpserts(events)).toEqual([9]);
  });

  test("timers' durations and summaries", () => {
    expect(timersOf(events)).toEqual([
      { eventId: 10, ms: 1, summary: 'next call' },
      { eventId: 24, ms: 300_000, summary: '' },
    ]);
  });
});
