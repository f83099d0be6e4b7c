import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../../src/codec/data-converter';
import { testEnv } from './harness';

/** Every run of a workflow id (continue-as-new chains included), oldest first, as replayable JSON. */
export async function fetchRunHistories(
  client: Client,
  workflowId: string,
): Promise<{ runId: string; json: string }[]> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: wf.runId, startTime: wf.startTime });
  }
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const histories = [];
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.push({ runId, json: historyToJSON(history) });
  }
  return histories;
}

/** Replays histories against today's workflow code: throws on any nondeterminism. */
export async function replayAll(
  histories: { name: string; json: string }[],
  converter: DataConverter = dataConverter,
): Promise<void> {
  const { bundlePath } = testEnv();
  const results = Worker.runReplayHistories(
    { workflowBundle: { codePath: bundlePath }, dataConverter: converter },
    histories.map((h) => ({ workflowId: h.name, history: JSON.parse(h.json) })),
  );
  const failures: string[] = [];
  for await (const result of results) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  if (failures.length > 0) throw new Error(`replay failed:\n${failures.join('\n')}`);
}
