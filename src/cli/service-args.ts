/**
 * The command line of a long-running command (worker, dev-server, codec-server, demo), which the environment
 * configures: `--json` and `--help` alone. Returns undefined when it has answered (help, or a wrong argument with
 * exit code 2), and the caller then stops.
 */
export function readServiceArgs(args: string[], usage: string): { json: boolean } | undefined {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    return undefined;
  }
  const unknown = args.find((arg) => arg !== '--json');
  if (unknown !== undefined) {
    process.stderr.write(`Unknown argument '${unknown}': this command is configured by the environment.\n\n${usage}`);
    process.exitCode = 2;
    return undefined;
  }
  return { json: args.includes('--json') };
}
