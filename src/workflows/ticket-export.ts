import { ApplicationFailure, setDefaultSignalHandler, setHandler } from '@temporalio/workflow';
import { undecodableReason } from '../shared';
import { ExportRun } from './export-run';
import {
  ExportInput,
  pauseSignal,
  pollNowSignal,
  resetCursorSignal,
  resetCursorUpdate,
  resumeSignal,
  setStreamsUpdate,
  statusQuery,
} from './messages';

/**
 * One per Zendesk account, forever: pick the stream due first, wait until its bucket allows a call, fetch a page, store
 * it, advance that stream's cursor.
 */
export async function ticketExportWorkflow(input: ExportInput): Promise<void> {
  const badInput = undecodableReason(input);
  if (badInput !== undefined) {
    throw ApplicationFailure.nonRetryable(`the workflow input could not be decoded (${badInput})`, 'BadWorkflowInput');
  }
  const run = new ExportRun(input);

  setDefaultSignalHandler((name) => run.unknownSignal(name));
  setHandler(pauseSignal, () => run.pause());
  setHandler(resumeSignal, () => run.resume());
  setHandler(pollNowSignal, () => run.pollNow());
  setHandler(resetCursorSignal, (request) => run.resetBySignal(request));
  setHandler(
    resetCursorUpdate,
    (request) => ({ previousCursor: run.resetStream(request), cursor: request.startTime }),
    { validator: (request) => rejectWith(run.resetProblem(request)) },
  );
  setHandler(setStreamsUpdate, (request) => run.setStreams(request.streams), {
    validator: (request) => rejectWith(run.setStreamsProblem(request)),
  });
  setHandler(statusQuery, () => run.status());

  await run.start();
  for (;;) {
    if (await run.holdForOperator()) continue; // a reset to checkpoint, a pause
    await run.continueAsNewIfLong();
    const turn = await run.waitForNextTurn();
    if (!turn) continue; // an operator's message ended the wait, or a block's retry time came
    if (turn.stream !== 'tickets') {
      await run.streamTurn(turn.stream);
      continue;
    }
    const { request } = turn;
    const page = await run.fetch(request);
    if (!page) continue; // a 429, nothing new yet, a failure: already accounted for
    const next = await run.persist(request, page);
    if (!next) continue; // given up for an operator's message: fetched again later
    run.advance(page, next);
  }
}

function rejectWith(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}
