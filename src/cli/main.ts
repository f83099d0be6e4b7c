#!/usr/bin/env node
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import logUpdate from 'log-update';
import { createDataConverter } from '../codec/claim-check';
import { encryptionCodecOf, letThroughWarnings } from '../codec/encryption-keys';
import { ConfigError, loadClientConfig, loadZendeskSettings, type ZendeskSettings } from '../config';
import { errorMessage } from '../temporal/error-message';
import { workflowIdFor } from '../shared';
import { clientConnectionOptions } from '../config/temporal-connection';
import { selectAccounts } from './accounts';
import { check } from './check';
import { readCommandLine } from './command-line';
import type { Invocation } from './commands';
import { CliIo, EXIT_BAD_INPUT, EXIT_FAILED, UsageError } from './io';
import { exportInput, printBackfillEstimate, startExport, withSearchAttributes } from './start';
import { status } from './status';
import { withoutSecrets } from './without-secrets';
import { forEachAccount, resetCursor, sendSignal, stopExport } from './account-commands';
import { COMMAND } from '../common/node-args';
import { isServiceCommand, SERVICE_COMMANDS } from './services';
import { colorWanted, GlobalOptions, readGlobalOptions } from './global-options';
import { reportedAsJson } from './json-report';

export type { CliIo } from './io';
export { EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK } from './io';

/**
 * The operator commands, in this process: `argv` without node and the script; returns the exit code. With --json,
 * stdout gets one JSON object (status: its own JSON), whatever happens.
 */
export async function runCli(argv: string[], callerIo: CliIo): Promise<number> {
  let globals: GlobalOptions;
  try {
    globals = readGlobalOptions(argv, callerIo.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return reportedAsJson(argv, callerIo, async (io) => (io.err(err.message), EXIT_BAD_INPUT));
  }
  const io: CliIo = { ...callerIo, env: globals.env, color: globals.color ?? callerIo.color };
  return reportedAsJson(globals.argv, io, (jsonIo) => readAndPerform(globals.argv, jsonIo));
}

async function readAndPerform(argv: string[], io: CliIo): Promise<number> {
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
      io.err(`No export is running for this account: start one with \`${COMMAND} start\`.`);
      return EXIT_FAILED;
    }
    io.err(`${invocation.command} failed: ${withoutSecrets(errorMessage(err), io.env)}`);
    return EXIT_FAILED;
  }
}

async function perform(invocation: Invocation, io: CliIo): Promise<number> {
  if (isServiceCommand(invocation.command)) {
    throw new UsageError(`${invocation.command} runs as a process of its own: \`${COMMAND} ${invocation.command}\``);
  }
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

/** `zendesk-export <command>`: a long-running command in its own module, an operator command through runCli. */
async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  const serviceAt = argv.findIndex((arg) => !arg.startsWith('-'));
  const service = argv[serviceAt];
  if (isServiceCommand(service)) {
    // Global options before the command (--env-file) apply to it too; the process ends when the service's work does.
    const globals = readGlobalOptions(argv.slice(0, serviceAt), process.env);
    if (globals.argv.length > 0) throw new UsageError(`${globals.argv[0]}: give ${service}'s options after it`);
    Object.assign(process.env, globals.env);
    await SERVICE_COMMANDS[service].load().main(argv.slice(serviceAt + 1));
    return;
  }
  // Only `--watch` turns Ctrl-C into "stop watching"; every other command keeps Node's default (exit at once).
  const stopped = argv.includes('--watch')
    ? new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))
    : undefined;
  const tty = process.stdout.isTTY === true;
  const exitCode = await runCli(argv, {
    env: process.env,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    // In a terminal, --watch redraws in place (log-update); piped, it prints each frame.
    ...(tty && !argv.includes('--json') ? { frame: (text: string) => logUpdate(text) } : {}),
    stopped,
    color: colorWanted(process.env, tty),
  });
  logUpdate.done();
  process.exit(exitCode);
}

if (require.main === module) {
  run().catch((err) => {
    if (err instanceof UsageError) {
      console.error(err.message);
      process.exit(EXIT_BAD_INPUT);
    }
    console.error(err);
    process.exit(EXIT_FAILED);
  });
}
