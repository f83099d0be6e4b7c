import type { PageStaging } from '../codec/staged-pages';
import type {
  InlineStreamPage,
  LoadStreamCheckpointInput,
  PersistStreamInput,
  PersistStreamOutput,
  StreamCheckpoint,
  StreamSink,
} from '../streams/contract';
import { withHeartbeat } from './heartbeat';
import { activityMetrics } from './metrics';
import { readPageContent } from './page-content';

export interface PersistStreamDeps {
  sink: StreamSink;
  /** Where fetchStreamPage staged the pages too big for the history. */
  staging: PageStaging;
}

export function createPersistStream({ sink, staging }: PersistStreamDeps) {
  /** The page's rows, its set-aside rows and the stream's checkpoint, in one transaction of the sink. */
  return async function persistStream(input: PersistStreamInput): Promise<PersistStreamOutput> {
    const { account, stream, checkpoint } = input;
    const page = await withHeartbeat(() => readPageContent<InlineStreamPage>(input.content, staging));
    const output = await withHeartbeat(() =>
      sink.persistStreamPage({
        account,
        stream,
        rows: page.rows,
        ...(page.setAside && page.setAside.length > 0 && { setAside: page.setAside }),
        ...(input.refresh && { refresh: input.refresh }),
        checkpoint,
      }),
    );
    const metrics = activityMetrics();
    // No rows: a checkpoint only (an operator's reset), not a page.
    if (page.rows.length > 0) metrics.pageStored(account, stream, page.rows.length);
    if (output.rejected > 0) metrics.rowsRejected(account, stream, output.rejected);
    return { ...output, completedAt: Date.now() };
  };
}

export function createLoadStreamCheckpoint({ sink }: { sink: StreamSink }) {
  /** The checkpoint the sink last stored for this stream, the recovery point of a new workflow. */
  return async function loadStreamCheckpoint(input: LoadStreamCheckpointInput): Promise<StreamCheckpoint | null> {
    return (await withHeartbeat(() => sink.readStreamCheckpoint(input.account, input.stream))) ?? null;
  };
}
