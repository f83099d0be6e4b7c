import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { COMMAND } from '../common/node-args';
import { SERVICE_COMMANDS, type ServiceCommand } from './services';
import { EXPORT_APIS, ExportApi } from '../shared';
import { CliIo, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK } from './io';
import { OPERATOR_RANGES } from '../workflows/settings';
import {
  commaList,
  decimal,
  duration,
  epochSeconds,
  exportApi,
  streamList,
  streamName,
  streamStartTimes,
  supportTypeScope,
  ValueParser,
  wholeNumber,
} from './option-values';
import { STREAMS, type AroundStream, type StreamName, type SupportTypeScope } from '../streams/names';

export type AccountOptions = {
  account?: string;
  all?: boolean;
  /** One JSON object on stdout: what was done, or the error with its exit code. */
  json?: boolean;
};

export type StartOptions = AccountOptions & {
  api?: ExportApi;
  startTime?: number;
  pollInterval?: number;
  minStartAge?: number;
  pagesPerRun?: number;
  requestsPerMinute?: number;
  perPage?: number;
  include?: string[];
  excludeDeleted?: boolean;
  streams?: StreamName[];
  streamStartTimes?: Partial<Record<AroundStream, number>>;
  usersRequestsPerMinute?: number;
  accountRequestsPerMinute?: number;
  /** Seconds. */
  referenceRefresh?: number;
  supportTypeScope?: SupportTypeScope;
};

export type ResetOptions = AccountOptions & { startTime: number; stream?: StreamName };

export type StatusOptions = AccountOptions & {
  watch?: boolean;
  interval?: number;
  frames?: number;
};

/** A command line that parsed: the command and its options, read and checked. */
export type Invocation =
  | { command: 'start'; options: StartOptions }
  | { command: 'reset'; options: ResetOptions }
  | { command: 'status'; options: StatusOptions }
  | { command: 'pause' | 'resume' | 'poll-now' | 'check' | 'stop'; options: AccountOptions }
  | { command: ServiceCommand; options: Record<string, never> };

export const WATCH_INTERVAL_SECONDS = 2;

const EPILOGUE = `
Every command acts on the one account configured. When ZENDESK_ACCOUNTS_FILE
lists several, pass --account NAME, or --all for every account (all commands
but reset). \`${COMMAND} <command> --help\` lists a command's options.

Settings come from the environment (docs/configuration.md); --env-file FILE
reads them from a .env file first. Colours are off with NO_COLOR, --no-color,
or when the output is not a terminal.

Exit codes: ${EXIT_OK} ok, ${EXIT_FAILED} the operation failed, ${EXIT_BAD_INPUT} bad input.`;

/**
 * The operator CLI's commands. Commander parses the command line, checks it and writes `--help` from these
 * declarations; a command that parsed is handed to `choose`, and nothing here runs it.
 */
export function operatorCommands(io: CliIo, choose: (invocation: Invocation) => void): Command {
  const program = new Command(COMMAND)
    .usage('<command> [options]')
    .description('Keeps a copy of a Zendesk account in your database, polled by a durable Temporal workflow.')
    .version(packageVersion(), '-V, --version', 'the version of zendesk-export')
    .option('--env-file <file>', 'read settings from this .env file first (before the command)')
    .option('--no-color', 'no colours (also: NO_COLOR, or output that is not a terminal)')
    .addHelpText('after', EPILOGUE)
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
      // Errors are reported by readCommandLine, in this CLI's words.
      outputError: () => undefined,
    });

  command(program, 'start', { all: true })
    .description('start the export (already running: reported, exit 0)')
    .addOption(
      valueOption(
        '--api <name>',
        `endpoint: ${EXPORT_APIS.join(', ')} (default: ZENDESK_EXPORT_API, else cursor for <subdomain>.zendesk.com ` +
          'and exports for any other host, such as the emulator)',
        exportApi,
      ),
    )
    .addOption(valueOption('--start-time <n>', 'first cursor, epoch seconds (wins over the checkpoint)', epochSeconds))
    .addOption(
      valueOption(
        '--poll-interval <s>',
        'minimum seconds between two calls to Zendesk',
        decimal(OPERATOR_RANGES.pollIntervalSeconds.min),
      ),
    )
    .addOption(
      valueOption(
        '--min-start-age <s>',
        'seconds a start_time must be in the past',
        decimal(OPERATOR_RANGES.minStartAgeSeconds.min),
      ),
    )
    .addOption(
      valueOption(
        '--pages-per-run <n>',
        'continue-as-new after this many pages',
        wholeNumber(OPERATOR_RANGES.pagesPerRun),
      ),
    )
    .addOption(
      valueOption(
        '--requests-per-minute <n>',
        'incremental, cursor: calls per minute while catching up',
        decimal(OPERATOR_RANGES.requestsPerMinute.min, 'requests per minute'),
      ),
    )
    .addOption(
      valueOption('--per-page <n>', 'incremental, cursor: tickets per page', wholeNumber(OPERATOR_RANGES.perPage)),
    )
    .addOption(valueOption('--include <a,b>', 'incremental, cursor: sideloads (users, groups…)', commaList))
    .option('--exclude-deleted', 'incremental, cursor: leave deleted tickets out')
    .addOption(
      valueOption(
        '--streams <a,b>',
        `streams to read: ${STREAMS.join(', ')} or all (default: EXPORT_STREAMS); on a running export, changes them`,
        streamList,
      ),
    )
    .addOption(
      valueOption(
        '--stream-start-times <s=n,…>',
        'a first cursor per stream around the ticket, e.g. users=1700000000 (wins over its checkpoint)',
        streamStartTimes,
      ),
    )
    .addOption(
      valueOption(
        '--users-requests-per-minute <n>',
        "the users cursor export's own budget (default: EXPORT_USERS_REQUESTS_PER_MINUTE)",
        decimal(OPERATOR_RANGES.usersRequestsPerMinute.min, 'requests per minute'),
      ),
    )
    .addOption(
      valueOption(
        '--account-requests-per-minute <n>',
        'the account-wide budget the reference lists use (default: EXPORT_ACCOUNT_REQUESTS_PER_MINUTE)',
        decimal(OPERATOR_RANGES.accountRequestsPerMinute.min, 'requests per minute'),
      ),
    )
    .addOption(
      valueOption(
        '--reference-refresh <duration>',
        'read the reference lists again this long after a refresh started, e.g. "1 hour" (default: EXPORT_REFERENCE_REFRESH)',
        duration(OPERATOR_RANGES.referenceRefreshSeconds.min),
      ),
    )
    .addOption(
      valueOption(
        '--support-type-scope <s>',
        'ticket events: agent, ai_agent or all (default: EXPORT_SUPPORT_TYPE_SCOPE)',
        supportTypeScope,
      ),
    )
    .action((options: StartOptions) => choose({ command: 'start', options }));

  command(program, 'pause', { all: true })
    .description('stop calling Zendesk until resume')
    .action((options: AccountOptions) => choose({ command: 'pause', options }));

  command(program, 'resume', { all: true })
    .description('continue after pause, or retry now after a blocking error')
    .action((options: AccountOptions) => choose({ command: 'resume', options }));

  command(program, 'poll-now', { all: true })
    .description('incremental endpoints: end the idle wait now (the rate limit still holds)')
    .action((options: AccountOptions) => choose({ command: 'poll-now', options }));

  command(program, 'reset', { all: false })
    .description('move the cursor to epoch second N (prints the previous cursor)')
    .usage('--start-time <n> [options]')
    .addOption(valueOption('--start-time <n>', 'the new cursor, epoch seconds', epochSeconds))
    .addOption(
      valueOption('--stream <name>', 'the stream to move (default: tickets); the others keep theirs', streamName),
    )
    .hook('preAction', (reset) => {
      const { startTime, stream } = reset.opts<ResetOptions>();
      // The reference lists have no cursor to move: their reset is a refresh now.
      if (startTime === undefined && stream === 'reference_lists') reset.setOptionValue('startTime', 0);
      else if (startTime === undefined) reset.error('--start-time N is required (epoch seconds)');
    })
    .action((options: ResetOptions) => choose({ command: 'reset', options }));

  command(program, 'status', { all: true, json: false })
    .description('where the export is, how far it has come and what it waits for')
    .option('--json', 'as JSON (with --watch: one object per line; with --all: one row per account)')
    .option('--watch', 'show it again every --interval seconds, until Ctrl-C or --frames')
    .addOption(valueOption('--interval <s>', `with --watch (default: ${WATCH_INTERVAL_SECONDS})`, decimal(0.5)))
    .addOption(valueOption('--frames <n>', 'with --watch: stop after N frames', wholeNumber({ min: 1 })))
    .hook('preAction', (status) => {
      const { watch, interval, frames } = status.opts<StatusOptions>();
      if (!watch && (interval !== undefined || frames !== undefined)) {
        status.error('--interval and --frames go with --watch');
      }
    })
    .action((options: StatusOptions) => choose({ command: 'status', options }));

  command(program, 'check', { all: true })
    .description('how it signs in (an OAuth token obtained now), and which export endpoints answer')
    .action((options: AccountOptions) => choose({ command: 'check', options }));

  command(program, 'stop', { all: true })
    .description('cancel the export workflow (the sink keeps the checkpoint)')
    .action((options: AccountOptions) => choose({ command: 'stop', options }));

  // Listed for --help; each runs as a process of its own (runCli refuses them), with its own --help.
  for (const [name, service] of Object.entries(SERVICE_COMMANDS)) {
    program
      .command(name)
      .description(service.description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => choose({ command: name as ServiceCommand, options: {} }));
  }

  return program;
}

/**
 * A command with what every operator command has: --account NAME, --all where it makes sense, and --json (one
 * object: what was done, or the error; status has its own).
 */
function command(program: Command, name: string, { all, json = true }: { all: boolean; json?: boolean }): Command {
  const account = new Option('--account <name>', 'the account of ZENDESK_ACCOUNTS_FILE to act on');
  const command = program.command(name).addOption(account);
  if (all) {
    account.conflicts('all');
    command.option('--all', 'every account of ZENDESK_ACCOUNTS_FILE');
  }
  if (json) command.option('--json', 'one JSON object on stdout: what was done, or the error and exit code');
  return command;
}

/** package.json's version, read where both src/cli and lib/cli find it: two folders up. */
export function packageVersion(): string {
  const manifest = fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

/** An option with a value that `parse` reads, its messages naming the option. */
function valueOption<T>(flags: string, description: string, parse: ValueParser<T>): Option {
  const option = new Option(flags, description);
  return option.argParser((raw: string) => parse(raw, option.long ?? flags));
}
