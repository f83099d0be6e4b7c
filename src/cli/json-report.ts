import { CliIo, EXIT_FAILED, EXIT_OK } from './io';

/** What `<command> --json` prints, as one object, when the command has no JSON of its own (or failed before it). */
export interface JsonReport {
  command: string | null;
  ok: boolean;
  exitCode: number;
  /** What was done, one entry per account (start, pause, reset...). */
  results: Record<string, unknown>[];
  /** The lines the command would have printed. */
  messages: string[];
  /** Said on stderr while it succeeded. */
  warnings?: string[];
  /** Why it failed. */
  error?: string;
}

/** `status` prints JSON of its own; with --json every other command's lines are gathered into one JsonReport. */
const OWN_JSON = new Set(['status']);

/**
 * Runs `perform`; with --json on the command line (before `--`), stdout then gets exactly one JSON object: the
 * command's own JSON, or a JsonReport of what it did, or of the error with its exit code.
 */
export async function reportedAsJson(
  argv: string[],
  io: CliIo,
  perform: (io: CliIo) => Promise<number>,
): Promise<number> {
  const end = argv.indexOf('--');
  if (!(end < 0 ? argv : argv.slice(0, end)).includes('--json')) return perform(io);
  const command = argv.find((arg) => !arg.startsWith('-')) ?? null;
  const ownJson = command !== null && OWN_JSON.has(command);
  const messages: string[] = [];
  const errors: string[] = [];
  const results: Record<string, unknown>[] = [];
  let printed = false;
  const exitCode = await perform({
    ...io,
    out: (line) => {
      if (!ownJson) return void messages.push(line);
      printed = true;
      io.out(line);
    },
    err: (line) => void errors.push(line),
    record: (result) => void results.push(result),
    frame: undefined,
  }).catch((err: unknown) => {
    errors.push(err instanceof Error ? err.message : String(err));
    return EXIT_FAILED;
  });
  if (printed) {
    for (const line of errors) io.err(line);
    return exitCode;
  }
  const ok = exitCode === EXIT_OK;
  const report: JsonReport = { command, ok, exitCode, results, messages };
  if (ok && errors.length > 0) report.warnings = errors;
  if (!ok) report.error = errors.join('\n') || `exit code ${exitCode}`;
  io.out(JSON.stringify(report));
  return exitCode;
}
