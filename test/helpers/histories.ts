import type { DataConverter } from '@temporalio/common';
import { fetchRunHistories, replayHistories } from '../../bench/support/histories';
import { dataConverter } from '../../src/codec/data-converter';
import { testEnv } from './harness';

export { fetchRunHistories };

/** Replays histories against today's workflow code (the test run's bundle): throws on any nondeterminism. */
export async function replayAll(
  histories: { name: string; json: string; workflowId?: string }[],
  converter: DataConverter = dataConverter,
): Promise<void> {
  await replayHistories(histories, { bundlePath: testEnv().bundlePath, dataConverter: converter });
}
