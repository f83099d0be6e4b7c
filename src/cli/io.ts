/** What the CLI exchanges with its caller: the io it is given, the exit codes it returns. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** Input the operator can fix: reported as its message alone, exit code 2. */
export class UsageError extends Error {}

/** Where the CLI reads its environment and writes its output; tests pass their own to run it in-process. */
export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** `status --watch`: shows a frame in place of the previous one (a terminal); without it, frames are printed. */
  frame?: (text: string) => void;
  /** Resolves when the operator asks `--watch` to stop (Ctrl-C). */
  stopped?: Promise<void>;
  /** Colours in what is printed; undefined: chalk's own detection. */
  color?: boolean;
  /** What was done for one account, for `--json` (see json-report.ts); the lines say it for a person. */
  record?: (result: Record<string, unknown>) => void;
}
