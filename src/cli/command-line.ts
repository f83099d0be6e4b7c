import { Command, CommanderError } from 'commander';
import { Invocation, operatorCommands } from './commands';
import { CliIo, EXIT_BAD_INPUT, EXIT_OK } from './io';

/**
 * What the command line asks for; or, when it asks for help or is wrong, the exit code, the help or the problem
 * (followed by the command's usage) being written already.
 */
export function readCommandLine(argv: string[], io: CliIo): Invocation | number {
  let invocation: Invocation | undefined;
  const program = operatorCommands(io, (chosen) => (invocation = chosen));
  const command = program.commands.find((c) => c.name() === argv[0]);
  try {
    if (command) refuseOptionLikeValues(command, argv.slice(1));
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // `help`, `--help`: exit code 0; no command at all: the usage on stderr, and commander's exit code 1.
    if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') {
      return err.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    const usage = (command ?? program).helpInformation({ error: true }).trimEnd();
    io.err(`${command ? `${command.name()}: ` : ''}${inOurWords(err, command)}\n\n${usage}`);
    return EXIT_BAD_INPUT;
  }
  return invocation ?? EXIT_BAD_INPUT;
}

/**
 * `--start-time -5`, `--include --exclude-deleted`: an option's value that looks like an option is refused, where
 * commander would take it as the value. `--start-time=-5` says that it is meant.
 */
function refuseOptionLikeValues(command: Command, args: string[]): void {
  for (const [i, arg] of args.entries()) {
    if (arg === '--') return;
    const value = args[i + 1];
    const takesValue = command.options.some((option) => option.long === arg && option.required);
    if (takesValue && /^-./.test(value ?? '')) {
      command.error(
        `Option '${arg}' argument is ambiguous: "${value}" looks like an option; if it is the value, write ${arg}=${value}`,
      );
    }
  }
}

/** Commander's message for a command-line error, in the words this CLI has always used (tests and scripts know them). */
function inOurWords(err: CommanderError, command: Command | undefined): string {
  const message = err.message.replace(/^error: /, '');
  switch (err.code) {
    case 'commander.unknownCommand':
      return message.replace(/^unknown command '(.*?)'/, 'Unknown command "$1".');
    case 'commander.unknownOption': {
      // Commander reads `--json=yes` as an option it does not know.
      const flag = /^unknown option '(--[^=']+)=/.exec(message)?.[1];
      if (flag && command?.options.some((option) => option.long === flag && option.isBoolean())) {
        return `Option '${flag}' does not take an argument`;
      }
      return message.replace(/^unknown option/, 'Unknown option');
    }
    case 'commander.optionMissingArgument':
      return message.replace(/^option '(\S+)[^']*' argument missing/, "Option '$1 <value>' argument missing");
    case 'commander.excessArguments':
      return `Unexpected argument '${command?.args[0]}'. This command does not take positional arguments`;
    case 'commander.invalidArgument':
      // "option '--x <n>' argument '1.5' is invalid. --x must be …": the reason alone names the option and value.
      return message.replace(/^option '(--[\w-]+)[^']*' argument '[\s\S]*?' is invalid\. (?=\1 )/, '');
    case 'commander.conflictingOption':
      return message.replace(
        /^option '(--[\w-]+)[^']*' cannot be used with option '(--[\w-]+)[^']*'$/,
        '$1 and $2: give one or the other',
      );
    default:
      return message;
  }
}
