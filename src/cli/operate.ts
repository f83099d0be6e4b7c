import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { createDataConverter } from '../codec/claim-check';
import { encryptionCodecOf, letThroughWarnings } from '../codec/encryption-keys';
import { ConfigError, loadClientConfig, loadZendeskSettings, type ZendeskSettings } from '../config';
import { errorMessage } from '../temporal/error-message';
import { workflowIdFor } from '../shared';
import { clientConnectionOptions } from '../config/temporal-connection';
import { COMMAND } from '../common/node-args';
import { selectAccounts } from './accounts';
import type { Invocation } from './commands';
import { CliIo, EXIT_BAD_INPUT, EXIT_FAILED, UsageError } from './io';
import { status } from './status';
import { withoutSecrets } from './without-secrets';
import { forEachAccount, resetCursor, sendSignal, stopExport } from './account-commands';
import type { ServiceCommand } from './services';

/** The commands that run in this process (the services run in their own). */
export type OperatorInvocation = Exclude<Invocation, { command: ServiceCommand }>;

/** Runs an operator command that parsed: its failures reported in the CLI's words, with their exit code. */
export async function operate(invocation: OperatorInvocation, io: CliIo): Promise<number> {
  try {
    return await perform(invocation, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.err(err.message);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof WorkflowNotFoundError) {
      io.err(`No export is running for this account: start one with \`${COMMAND} start\`.`);
      return EXIT_FAILED;
    }
    io.err(`${invocation.command} failed: ${withoutSecrets(errorMessage(err), io.env)}`);
    return EXIT_FAILED;
  }
}

async function perform(invocation: OperatorInvocation, io: CliIo): Promise<number> {
  // Loaded for their command alone: check and start's estimate bring the Zendesk client (axios, OpenTelemetry).
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (invocation.command === 'check')
    return (require('./check') as typeof import('./check')).check(invocation.options, io);
  const start = () => require('./start') as typeof import('./start');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const config = loadClientConfig(io.env);
  const accounts = selectAccounts(config.accounts, invocation.options, config.accountsFile);
  // Built before connecting: input that is wrong for an account sends nothing to any.
  const inputs = invocation.command === 'start' ? accounts.map((a) => start().exportInput(invocation.options, a)) : [];
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
        const { printBackfillEstimate, startExport, withSearchAttributes } = start();
        const startable = await withSearchAttributes(connection, config.temporal, inputs, io);
        if (!startable) return EXIT_BAD_INPUT;
        const { taskQueue } = config.temporal;
        const { options } = invocation;
        const changeStreams = options.streams !== undefined;
        // Read only when an estimate needs Zendesk's ticket count: the client itself needs no credentials.
        let zendesk: ZendeskSettings[] | undefined;
        const zendeskSettings = () => (zendesk ??= loadZendeskSettings(io.env));
        return await forEachAccount(
          startable,
          async (input) => {
            const account = accounts.find((a) => a.account === input.account)!;
            const backfillEstimate = await printBackfillEstimate(account, input, options, zendeskSettings, io);
            // With --json, the estimate goes with the account's start result.
            const record = io.record;
            const accountIo =
              backfillEstimate && record ? { ...io, record: (r: object) => record({ ...r, backfillEstimate }) } : io;
            return startExport(client, input, taskQueue, accountIo, changeStreams);
          },
          io,
        );
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
      default:
        throw new UsageError(`Unknown command "${invocation.command}".`);
    }
  } finally {
    await connection.close();
  }
}
