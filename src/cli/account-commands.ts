import { WorkflowHandle, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { workflowIdFor } from '../shared';
import { pauseSignal, pollNowSignal, resetCursorUpdate, resumeSignal } from '../workflows/messages';
import { CliIo, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK } from './io';
import type { StreamName } from '../streams/names';

/**
 * Runs a command's part for each account; the worst exit code wins. With several accounts, one without a workflow is
 * reported and the others go on; with one, that is the command's failure.
 */
export async function forEachAccount<T extends { account: string }>(
  accounts: T[],
  act: (account: T) => Promise<number>,
  io: CliIo,
): Promise<number> {
  let exitCode = EXIT_OK;
  for (const account of accounts) {
    try {
      exitCode = Math.max(exitCode, await act(account));
    } catch (err) {
      if (accounts.length === 1 || !(err instanceof WorkflowNotFoundError)) throw err;
      io.err(`${workflowIdFor(account.account)}: not running`);
      exitCode = EXIT_FAILED;
    }
  }
  return exitCode;
}

/** pause, resume and poll-now: a signal each. */
const SIGNALS: Record<'pause' | 'resume' | 'poll-now', { signal: SignalDefinition; name: string }> = {
  pause: { signal: pauseSignal, name: 'Pause' },
  resume: { signal: resumeSignal, name: 'Resume' },
  'poll-now': { signal: pollNowSignal, name: 'Poll-now' },
};

export async function sendSignal(handle: WorkflowHandle, command: keyof typeof SIGNALS, io: CliIo): Promise<number> {
  const { signal, name } = SIGNALS[command];
  await handle.signal(signal);
  io.out(`${name} sent to ${handle.workflowId}.`);
  io.record?.({ workflowId: handle.workflowId, signal: command, sent: true });
  return EXIT_OK;
}

/** The workflow validates the new cursor; a rejection is bad input. */
export async function resetCursor(
  handle: WorkflowHandle,
  startTime: number,
  io: CliIo,
  stream?: StreamName,
): Promise<number> {
  try {
    const result = await handle.executeUpdate(resetCursorUpdate, { args: [{ startTime, ...(stream && { stream }) }] });
    const which = stream && stream !== 'tickets' ? `${stream} cursor` : 'Cursor';
    io.out(`${which} of ${handle.workflowId} reset to ${result.cursor} (was ${result.previousCursor}).`);
    io.record?.({ workflowId: handle.workflowId, stream: stream ?? 'tickets', ...result });
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    io.err(`reset rejected: ${err.cause?.message ?? err.message}`);
    return EXIT_BAD_INPUT;
  }
}

export async function stopExport(handle: WorkflowHandle, io: CliIo): Promise<number> {
  await handle.cancel();
  io.record?.({ workflowId: handle.workflowId, cancellationRequested: true });
  io.out(`Cancellation requested for ${handle.workflowId}; the sink keeps its checkpoint for the next start.`);
  return EXIT_OK;
}
