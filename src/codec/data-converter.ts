import { DataConverter } from '@temporalio/common';
import { createDataConverter } from './claim-check';

/**
 * The converter of processes without a blob store (the CLI, tests' replays): the same gzip step as the worker's
 * chain, so each reads what the other wrote; only claim-checked pages need the store.
 */
export const dataConverter: DataConverter = createDataConverter();
