import { defaultPayloadConverter, Payload } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { GzipPayloadCodec } from '../../src/codec/gzip-codec';
import { CLAIM_CHECK_ENCODING } from '../../src/codec/claim-check';
import { DEFAULT_CREDENTIALS, startEmulator } from '../../src/emulator';
import { ZendeskClient } from '../../src/zendesk/client';
import { fetchRunHistories, localActivityType } from '../support/histories';
import { BenchEnv } from '../support/pipeline';
import { histogramQuantile, metricSum, round } from '../support/stats';

const HISTORY_PAYLOAD_LIMIT = 256 * 1024;
const EventType = temporal.api.enums.v1.EventType;

/** Events, bytes and payload sizes of every run of an export workflow, and its workflow task latencies. */
export async function analyseHistory(env: BenchEnv, workflowId: string, workerMetrics: string) {
  const runs = await fetchRunHistories(env.client, workflowId);
  let largestPayload = 0;
  let largestEncoding = '';
  let claimChecked = 0;
  const perRun = runs.map(({ history }) => {
    const events = history.events ?? [];
    let pages = 0;
    for (const event of events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'persist' || localActivityType(event) === 'persist') pages++;
      const payloads = [
        ...(scheduled?.input?.payloads ?? []),
        ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
      ];
      for (const payload of payloads) {
        const size = wireSize(payload);
        const encoding = new TextDecoder().decode(payload.metadata?.encoding ?? new Uint8Array());
        if (encoding === CLAIM_CHECK_ENCODING) claimChecked++;
        if (size > largestPayload) [largestPayload, largestEncoding] = [size, encoding];
      }
    }
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    const ended = EventType[events.at(-1)?.eventType ?? 0];
    return { events: events.length, bytes, pages, endedWith: ended };
  });
  const pages = perRun.reduce((sum, run) => sum + run.pages, 0);
  const timing = pageTiming(runs.map((run) => run.history));
  const events = perRun.reduce((sum, run) => sum + run.events, 0);
  const bytes = perRun.reduce((sum, run) => sum + run.bytes, 0);
  const continued = perRun.filter((run) => run.endedWith === 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  const latency = (name: string) => ({
    p50Ms: roundOrNull(histogramQuantile(workerMetrics, name, 0.5)),
    p99Ms: roundOrNull(histogramQuantile(workerMetrics, name, 0.99)),
  });
  return {
    runs: runs.length,
    pages,
    eventsPerPage: round(events / pages, 2),
    bytesPerPage: Math.round(bytes / pages),
    largestPayloadBytes: largestPayload,
    largestPayloadEncoding: largestEncoding,
    claimCheckedPayloads: claimChecked,
    historyAtContinueAsNew:
      continued.length === 0
        ? null
        : {
            runs: continued.length,
            maxEvents: Math.max(...continued.map((run) => run.events)),
            maxBytes: Math.max(...continued.map((run) => run.bytes)),
            maxPages: Math.max(...continued.map((run) => run.pages)),
          },
    // Where a page's time goes, from the history's timestamps (means, ms).
    perPageMs: timing,
    workflowTasks: metricSum(workerMetrics, 'temporal_workflow_task_execution_latency_count'),
    workflowTaskExecutionLatency: latency('temporal_workflow_task_execution_latency'),
    workflowTaskScheduleToStartLatency: latency('temporal_workflow_task_schedule_to_start_latency'),
  };
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value, 1);
}

/**
 * The encoded size (JSON, then the gzip codec) of one 1000-row page: as the specified endpoint returns it, and as
 * full tickets of the incremental endpoints. Above 256 KiB the claim check takes the page out of history.
 */
export async function pagePayloadSizes() {
  const emulator = await startEmulator({ ticketCount: 3000, windowSeconds: 0, minStartAgeSeconds: 0 });
  try {
    const zendesk = new ZendeskClient({
      baseUrl: emulator.url,
      auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
    });
    const exportPage = await zendesk.fetchExportPage(0);
    const fullPage = await zendesk.fetchCursorPage({ startTime: 0, perPage: 1000 });
    if (exportPage.kind !== 'page' || fullPage.kind !== 'page') throw new Error('page sizes: no page');
    const codec = new GzipPayloadCodec();
    const sizes = async (rows: unknown[]) => {
      const json = defaultPayloadConverter.toPayload({ kind: 'page', rows });
      const [encoded] = await codec.encode([json]);
      return {
        rows: rows.length,
        jsonBytes: wireSize(json),
        encodedBytes: wireSize(encoded),
        underHistoryLimit: wireSize(encoded) <= HISTORY_PAYLOAD_LIMIT,
      };
    };
    return { exportRows: await sizes(exportPage.rows), fullTickets: await sizes(fullPage.rows) };
  } finally {
    await emulator.close();
  }
}

function wireSize(payload: Payload): number {
  return temporal.api.common.v1.Payload.encode(payload).finish().length;
}

/**
 * Mean milliseconds per page: each activity from scheduled to completed (the wait for a worker's poll, the work,
 * the answer) and the workflow tasks from scheduled to completed; the rest of a page's time is the server's
 * bookkeeping between them.
 */
function pageTiming(histories: temporal.api.history.v1.IHistory[]) {
  const spans: Record<string, number[]> = { fetchPage: [], persist: [], workflowTask: [] };
  for (const history of histories) {
    const scheduledAt = new Map<number, { at: number; kind: string }>();
    for (const event of history.events ?? []) {
      const at = optionalTsToMs(event.eventTime) ?? 0;
      const id = Number(event.eventId);
      const activity = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (activity) scheduledAt.set(id, { at, kind: activity });
      if (event.workflowTaskScheduledEventAttributes) scheduledAt.set(id, { at, kind: 'workflowTask' });
      const done =
        event.activityTaskCompletedEventAttributes?.scheduledEventId ??
        event.workflowTaskCompletedEventAttributes?.scheduledEventId;
      const start = done !== undefined && done !== null ? scheduledAt.get(Number(done)) : undefined;
      if (start && spans[start.kind]) spans[start.kind].push(at - start.at);
    }
  }
  const mean = (values: number[]) =>
    values.length ? round(values.reduce((a, b) => a + b, 0) / values.length, 1) : null;
  const pages = spans.persist.length || 1;
  return {
    fetchPage: mean(spans.fetchPage),
    persist: mean(spans.persist),
    workflowTask: mean(spans.workflowTask),
    workflowTasksPerPage: round(spans.workflowTask.length / pages, 2),
  };
}
