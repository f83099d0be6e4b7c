#!/usr/bin/env node
import logUpdate from 'log-update';
import { readCommandLine } from './command-line';
import { CliIo, EXIT_BAD_INPUT, EXIT_FAILED, UsageError } from './io';
import { COMMAND } from '../common/node-args';
import { isServiceCommand, SERVICE_COMMANDS } from './services';
import { colorWanted, GlobalOptions, readGlobalOptions } from './global-options';
import { reportedAsJson } from './json-report';
import type { OperatorInvocation } from './operate';

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
  if (isServiceCommand(invocation.command)) {
    io.err(`${invocation.command} runs as a process of its own: \`${COMMAND} ${invocation.command}\``);
    return EXIT_BAD_INPUT;
  }
  // Loaded only now: --help, --version and a mistyped command line do not load the Temporal client.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { operate } = require('./operate') as typeof import('./operate');
  return operate(invocation as OperatorInvocation, io);
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
    // In a terminal, --watch redraws in place (log-update); piped, it prints each frame. (--json drops the frame.)
    ...(tty ? { frame: (text: string) => logUpdate(text) } : {}),
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
