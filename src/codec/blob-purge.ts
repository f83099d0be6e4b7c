import { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../shared';
import { BlobStore } from './blob-store';
import { claimCheckReferences, purgeExpiredBlobs } from './claim-check';

/** Blob ids referenced from the histories of the export runs still open: they are needed for replay. */
export async function blobsReferencedByOpenRuns(client: Client): Promise<Set<string>> {
  const referenced = new Set<string>();
  const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  for await (const run of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    claimCheckReferences(history.events ?? [], referenced);
  }
  return referenced;
}

/**
 * Deletes the blobs of closed runs once the retention has passed: a blob older than the retention goes unless an
 * open run's history still references it.
 */
export async function purgeBlobsOfClosedRuns(
  store: BlobStore,
  client: Client,
  retentionMs: number,
  now = Date.now(),
): Promise<number> {
  const keep = await blobsReferencedByOpenRuns(client);
  return purgeExpiredBlobs(store, retentionMs, now, keep);
}
