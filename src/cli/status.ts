import { Client, WorkflowExecutionDescription, WorkflowNotFoundError } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { ClientAccount } from '../config';
import { workflowIdFor } from '../shared';
import { ExportStatus, statusQuery } from '../workflows/messages';
import { StatusOptions, WATCH_INTERVAL_SECONDS } from './commands';
import { formatStatus, formatStatusTable, StatusRow, StatusView } from './format';
import { CliIo, EXIT_FAILED, EXIT_OK } from './io';
import { COMMAND } from '../common/node-args';

interface Report {
  text: string;
  exitCode: number;
  /** Instead of the text, unless the output is JSON: the export is not running. */
  error?: string;
}

/** `status`: once, or with --watch a frame every --interval seconds until stopped (or --frames N). */
export async function status(
  accounts: ClientAccount[],
  options: StatusOptions,
  client: Client,
  io: CliIo,
): Promise<number> {
  const table = options.all === true || accounts.length > 1;
  const render = () =>
    table ? statusOfAll(accounts, options, client, io.color) : statusOfOne(accounts[0], options, client, io.color);
  if (!options.watch) {
    const { text, exitCode, error } = await render();
    if (error) io.err(error);
    else io.out(text);
    return exitCode;
  }
  const intervalMs = (options.interval ?? WATCH_INTERVAL_SECONDS) * 1000;
  const frames = options.frames ?? Infinity;
  let stop = false;
  void io.stopped?.then(() => (stop = true));
  let exitCode = EXIT_OK;
  for (let frame = 1; frame <= frames && !stop; frame++) {
    const result = await render();
    exitCode = result.exitCode;
    // With --json a stopped workflow is an object too ({ account, state }), so every line parses.
    if (options.json) io.out(JSON.stringify(JSON.parse(result.text)));
    else if (io.frame) io.frame(result.error ?? result.text);
    else io.out(`${result.error ?? result.text}\n`);
    if (frame < frames && !stop) {
      const pause = new Promise((resolve) => setTimeout(resolve, intervalMs));
      await (io.stopped ? Promise.race([pause, io.stopped]) : pause);
    }
  }
  return exitCode;
}

async function statusOfOne(
  { account }: ClientAccount,
  options: StatusOptions,
  client: Client,
  color: boolean | undefined,
): Promise<Report> {
  const workflowId = workflowIdFor(account);
  const handle = client.workflow.getHandle(workflowId);
  const execution = await handle.describe();
  if (execution.status.name !== 'RUNNING') {
    const state = execution.status.name.toLowerCase();
    const error = `${workflowId} is not running (${state}); start it with \`${COMMAND} start\`.`;
    return { text: options.json ? JSON.stringify({ account, state }) : error, exitCode: EXIT_FAILED, error };
  }
  const view = withRetry(await handle.query(statusQuery), execution);
  return { text: options.json ? JSON.stringify(view, null, 2) : formatStatus(view, { color }), exitCode: EXIT_OK };
}

async function statusOfAll(
  accounts: ClientAccount[],
  options: StatusOptions,
  client: Client,
  color: boolean | undefined,
): Promise<Report> {
  const rows: StatusRow[] = await Promise.all(
    accounts.map(async ({ account }): Promise<StatusRow> => {
      const handle = client.workflow.getHandle(workflowIdFor(account));
      try {
        const execution = await handle.describe();
        if (execution.status.name !== 'RUNNING') return { account, state: execution.status.name.toLowerCase() };
        return { account, state: 'running', status: withRetry(await handle.query(statusQuery), execution) };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { account, state: 'not started' };
        throw err;
      }
    }),
  );
  return {
    text: options.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows, { color }),
    exitCode: rows.every((row) => row.status) ? EXIT_OK : EXIT_FAILED,
  };
}

/**
 * The workflow's status plus what only the server knows: an activity failing and waiting for its next attempt.
 * The workflow hears of a failure only when the retries are exhausted, so `lastError` alone stays empty meanwhile.
 */
function withRetry(status: ExportStatus, execution: WorkflowExecutionDescription): StatusView {
  const pending = execution.raw.pendingActivities?.find((a) => (a.attempt ?? 0) >= 2 && a.lastFailure?.message);
  if (!pending) return status;
  const nextAttemptMs = optionalTsToMs(pending.nextAttemptScheduleTime);
  return {
    ...status,
    retrying: {
      activity: pending.activityType?.name ?? 'activity',
      attempt: pending.attempt ?? 0,
      lastFailure: pending.lastFailure?.message ?? '',
      nextAttemptAt: nextAttemptMs === undefined ? null : new Date(nextAttemptMs).toISOString(),
    },
  };
}
