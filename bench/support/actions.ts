import { temporal } from '@temporalio/proto';

// Temporal Cloud bills Actions. This counts them from a workflow's event history, with the rule written once below
// (ACTION_RULE, copied into the bench's result) and applied event by event (eventActions).
//
// Sources (read 2026-12):
// - Temporal Cloud's action list: https://docs.temporal.io/cloud/actions (temporalio/documentation
//   docs/evaluate/cloud/actions.mdx): workflow started (client start, continue-as-new), each activity started or
//   retried, timer started (condition() with a timeout included), signal, update accepted or rejected, query
//   (`__temporal_workflow_metadata` excluded), search-attribute upsert (TemporalChangeVersion exempt), activity
//   heartbeats that reach the server, "all RecordMarkers from each Workflow Task as one action".
// - The earlier version of that page (temporalio/documentation docs-src/concepts/what-is-an-action.md): "Version
//   marker recorded. Occurs when a Workflow calls get-version or patch": a patched() marker is billed.
// - The open-source server's `action` metric, which the dev server exports (temporalio/temporal
//   common/rpc/interceptor/telemetry.go, emitActionMetric): one per command of ScheduleActivityTask, StartTimer,
//   UpsertWorkflowSearchAttributes (TemporalChangeVersion included), ContinueAsNew, ModifyWorkflowProperties,
//   SignalExternal, StartChildWorkflow (2); one per workflow task with any RecordMarker ("command_BatchMarkers"); one
//   per activity attempt after the first; one per StartWorkflowExecution, Signal, SignalWithStart, Query, heartbeat,
//   update acceptance or rejection. The 'server-metric' rule below counts what of that a history shows, so that the
//   bench can check this counter against the server's own figure.

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** Which count: Temporal Cloud's published list, or the dev server's `action` metric (to check this code against). */
export type ActionRule = 'cloud' | 'server-metric';

/** The counting rule, as the bench's result states it. */
export const ACTION_RULE = {
  cloud: [
    'WorkflowExecutionStarted: 1 (a client start, or a continue-as-new: billed as the new run starting)',
    'ActivityTaskScheduled: 1; its ActivityTaskStarted with attempt n: n - 1 more (each retry)',
    'TimerStarted: 1 (sleep, and condition() with a timeout)',
    'UpsertWorkflowSearchAttributes: 1 per event, however many attributes; one that sets only TemporalChangeVersion (written by patched()): 0',
    'MarkerRecorded: 1 per workflow task that recorded any (patch markers, side effects, local activities)',
    'WorkflowExecutionSignaled: 1; WorkflowExecutionUpdateAccepted: 1',
    'StartChildWorkflowExecutionInitiated: 2; NexusOperationScheduled, NexusOperationCancelRequested, WorkflowExecutionOptionsUpdated: 1',
    'everything else: 0 (workflow tasks, activity and timer completions, TimerCanceled, ContinuedAsNew, the current details set by setCurrentDetails, summaries)',
    "not in a history, so taken from the server's `action` metric: queries (1 each; Cloud excludes __temporal_workflow_metadata), activity heartbeats that reach the server (1 each), rejected updates",
  ],
  sources: [
    'https://docs.temporal.io/cloud/actions (temporalio/documentation docs/evaluate/cloud/actions.mdx)',
    'temporalio/documentation docs-src/concepts/what-is-an-action.md: "Version marker recorded. Occurs when a Workflow calls get-version or patch"',
    "temporalio/temporal common/rpc/interceptor/telemetry.go (emitActionMetric): the server's `action` metric, used to check this count",
  ],
};

const CHANGE_VERSION = 'TemporalChangeVersion';

export interface Action {
  kind: string;
  count: number;
}

/** The workflow task whose completion recorded a marker: its markers are billed together. */
export function markerTask(event: HistoryEvent): string {
  return String(event.markerRecordedEventAttributes?.workflowTaskCompletedEventId ?? event.eventId);
}

/**
 * The actions each event of one run's history is billed (an array parallel to `events`; empty for most events).
 * The markers of one workflow task are one action, carried by the first of them.
 */
export function eventActions(events: readonly HistoryEvent[], rule: ActionRule = 'cloud'): Action[][] {
  const markerTasks = new Set<string>();
  return events.map((event) => {
    const one = (kind: string, count = 1): Action[] => [{ kind, count }];
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return one('workflow start');
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        return one('activity');
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const retries = (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1;
        return retries > 0 ? one('activity retry', retries) : [];
      }
      case EventType.EVENT_TYPE_TIMER_STARTED:
        return one('timer');
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const keys = Object.keys(
          event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
        );
        const changeVersionOnly = keys.length > 0 && keys.every((key) => key === CHANGE_VERSION);
        if (!changeVersionOnly) return one('search attribute upsert');
        return rule === 'server-metric' ? one('search attribute upsert (TemporalChangeVersion)') : [];
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const task = markerTask(event);
        if (markerTasks.has(task)) return [];
        markerTasks.add(task);
        return one('markers of a workflow task');
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return one('signal');
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        return one('update');
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        return one('child workflow', 2);
      case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        // Cloud bills it in the signalled workflow's history (its Signaled event); the metric counts the command.
        return rule === 'server-metric' ? one('signal external') : [];
      case EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
      case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
        return rule === 'cloud' ? one('nexus operation') : [];
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        return rule === 'cloud' ? one('workflow options update') : [];
      case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        return rule === 'server-metric' ? one('workflow properties modified') : [];
      default:
        return [];
    }
  });
}

export interface ActionTally {
  total: number;
  byKind: Record<string, number>;
}

export function tally(actions: readonly Action[][]): ActionTally {
  const byKind: Record<string, number> = {};
  let total = 0;
  for (const action of actions.flat()) {
    byKind[action.kind] = (byKind[action.kind] ?? 0) + action.count;
    total += action.count;
  }
  return { total, byKind };
}

/** The actions of one run's history, by kind. */
export function countActions(events: readonly HistoryEvent[], rule: ActionRule = 'cloud'): ActionTally {
  return tally(eventActions(events, rule));
}

/**
 * Search-attribute upserts that change nothing: every attribute they set already had that value (from the run's
 * start or an earlier upsert). Returns their event ids.
 */
export function noOpUpserts(events: readonly HistoryEvent[]): number[] {
  const current = new Map<string, Payload>();
  const found: number[] = [];
  for (const event of events) {
    const started = event.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields;
    for (const [key, value] of Object.entries(started ?? {})) current.set(key, value);
    const upserted = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (!upserted) continue;
    const entries = Object.entries(upserted);
    if (entries.length > 0 && entries.every(([key, value]) => samePayload(current.get(key), value))) {
      found.push(Number(event.eventId));
    }
    for (const [key, value] of entries) current.set(key, value);
  }
  return found;
}

function samePayload(a: Payload | undefined, b: Payload): boolean {
  return a !== undefined && Buffer.from(a.data ?? []).equals(Buffer.from(b.data ?? []));
}

/** The encoded size of events as part of a History message: sums over any split of a history add up to its size. */
export function historyBytes(events: readonly HistoryEvent[]): number {
  return temporal.api.history.v1.History.encode({ events: [...events] }).finish().length;
}

/** Bytes the Web UI's summaries take in these events (user metadata: timer and activity summaries). */
export function summaryBytes(events: readonly HistoryEvent[]): number {
  let bytes = 0;
  for (const event of events) {
    if (event.userMetadata) bytes += temporal.api.sdk.v1.UserMetadata.encode(event.userMetadata).finish().length;
  }
  return bytes;
}

/** A timer's requested duration (ms) and its summary, for the timers of these events. */
export function timersOf(events: readonly HistoryEvent[]): { eventId: number; ms: number; summary: string }[] {
  return events
    .filter((event) => event.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
    .map((event) => {
      const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
      const ms = Number(timeout?.seconds ?? 0) * 1000 + Math.round((timeout?.nanos ?? 0) / 1e6);
      return { eventId: Number(event.eventId), ms, summary: decodeSummary(event.userMetadata?.summary) };
    });
}

function decodeSummary(payload: Payload | null | undefined): string {
  if (!payload?.data) return '';
  try {
    const value: unknown = JSON.parse(Buffer.from(payload.data).toString('utf8'));
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}
