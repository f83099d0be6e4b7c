import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

export interface RunHistory {
  runId: string;
  history: temporal.api.history.v1.IHistory;
  /** The history as `temporal workflow show --output json` writes it: what replay tests load. */
  json: string;
}

/** Every run of a workflow id (continue-as-new chains included), oldest first. */
export async function fetchRunHistories(client: Client, workflowId: string): Promise<RunHistory[]> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: run.runId, startTime: run.startTime });
  }
  // Visibility can lag behind the newest run (just continued as new): that one is read from the handle.
  const current = await client.workflow.getHandle(workflowId).describe();
  if (!runs.some((run) => run.runId === current.runId))
    runs.push({ runId: current.runId, startTime: current.startTime });
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const histories: RunHistory[] = [];
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.push({ runId, history, json: historyToJSON(history) });
  }
  return histories;
}

/**
 * Replays histories against the workflow code of `bundlePath`: throws naming every run that diverges. `workflowId` is
 * the id the run had (default: its name): with a key, payloads are bound to their workflow, and a replay under another
 * id sees them refused.
 */
export async function replayHistories(
  histories: { name: string; json: string; workflowId?: string }[],
  { bundlePath, dataConverter }: { bundlePath: string; dataConverter: DataConverter },
): Promise<void> {
  const results = Worker.runReplayHistories(
    { workflowBundle: { codePath: bundlePath }, dataConverter },
    histories.map((h) => ({ workflowId: h.workflowId ?? h.name, history: JSON.parse(h.json) })),
  );
  const failures: string[] = [];
  let index = 0;
  // One history at a time, in order: the n-th result is the n-th history's.
  for await (const result of results) {
    const { name } = histories[index++];
    if (result.error) failures.push(`${name}: ${result.error.message}`);
  }
  if (failures.length > 0) throw new Error(`replay failed:\n${failures.join('\n')}`);
}

/** The activity type of a local activity's marker (the SDK core records it as JSON in the marker's `data`). */
export function localActivityType(event: temporal.api.history.v1.IHistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
  } catch {
    return undefined;
  }
}
