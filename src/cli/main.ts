import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import logUpdate from 'log-update';
import { createDataConverter } from '../codec/claim-check';
import { encryptionCodecOf, letThroughWarnings } from '../codec/encryption-keys';
import { ConfigError, loadClientConfig } from '../config';
import { errorMessage } from '../temporal/error-message';
import { workflowIdFor } from '../shared';
import { clientConnectionOptions } from '../config/temporal-connection';
import { selectAccounts } from './accounts';
import { check } from './check';
import { readCommandLine } from './command-line';
import type { Invocation } from './commands';
import { CliIo, EXIT_BAD_INPUT, EXIT_FAILED, UsageError } from './io';
import { exportInput, startExport, withSearchAttributes } from './start';
import { status } from './status';
import { withoutSecrets } from './without-secrets';
import { forEachAccount, resetCursor, sendSignal, stopExport } from './account-commands';

export type { CliIo } from './io';
export { EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK } from './io';

/** The operator CLI: `argv` without node and the script; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const invocation = readCommandLine(argv, io);
  if (typeof invocation === 'number') return invocation;
  try {
    return await perform(invocation, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.err(err.message);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof WorkflowNotFoundError) {
      io.err('No export is running for this account: start one with `npm run client -- start`.');
      return EXIT_FAILED;
    }
    io.err(`${invocation.command} failed: ${withoutSecrets(errorMessage(err), io.env)}`);
    return EXIT_FAILED;
  }
}

async function perform(invocation: Invocation, io: CliIo): Promise<number> {
  if (invocation.command === 'check') return check(invocation.options, io);
  const config = loadClientConfig(io.env);
  const accounts = selectAccounts(config.accounts, invocation.options, config.accountsFile);
  // Built before connecting: input that is wrong for an account sends nothing to any.
  const inputs = invocation.command === 'start' ? accounts.map((a) => exportInput(invocation.options, a)) : [];
  const connection = await Connection.connect(clientConnectionOptions(config.temporal));
  try {
    const onLetThrough = letThroughWarnings((message, attributes) =>
      io.err(`${message}: ${JSON.stringify(attributes)}`),
    );
    const dataConverter = createDataConverter(undefined, encryptionCodecOf(config.encryption, { onLetThrough }));
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
    const handleOf = ({ account }: { account: string }) => client.workflow.getHandle(workflowIdFor(account));
    switch (invocation.command) {
      case 'start': {
        const startable = await withSearchAttributes(connection, config.temporal, inputs, io);
        if (!startable) return EXIT_BAD_INPUT;
        const { taskQueue } = config.temporal;
        const changeStreams = invocation.options.streams !== undefined;
        return await forEachAccount(startable, (input) => startExport(client, input, taskQueue, io, changeStreams), io);
      }
      case 'status':
        return await status(accounts, invocation.options, client, io);
      case 'pause':
      case 'resume':
      case 'poll-now': {
        const { command } = invocation;
        return await forEachAccount(accounts, (account) => sendSignal(handleOf(account), command, io), io);
      }
      case 'reset': {
        const { startTime, stream } = invocation.options;
        return await forEachAccount(accounts, (account) => resetCursor(handleOf(account), startTime, io, stream), io);
      }
      case 'stop':
        return await forEachAccount(accounts, (account) => stopExport(handleOf(account), io), io);
    }
  } finally {
    await connection.close();
  }
}

async function run(): Promise<void> {
  // Only `--watch` turns Ctrl-C into "stop watching"; every other command keeps Node's default (exit at once).
  const stopped = process.argv.includes('--watch')
    ? new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))
    : undefined;
  const exitCode = await runCli(process.argv.slice(2), {
    env: process.env,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    // In a terminal, --watch redraws in place (log-update); piped, it prints each frame.
    ...(process.stdout.isTTY ? { frame: (text: string) => logUpdate(text) } : {}),
    stopped,
  });
  logUpdate.done();
  process.exit(exitCode);
}

if (require.main === module) {
  run().catch((err) => {
    console.error(err);
    process.exit(EXIT_FAILED);
  });
}
