import { runCli } from '../../src/cli/main';

export interface CliRun {
  code: number;
  out: string;
  err: string;
  /** stdout and stderr interleaved, in the order they were written. */
  output: string;
}

/**
 * Runs the operator CLI in this process with `env` as its whole environment, capturing what it prints; `color` is what
 * the command line's caller decided (a terminal), undefined: chalk's own detection.
 */
export async function runCliCaptured(
  args: string[],
  env: Record<string, string | undefined>,
  { color }: { color?: boolean } = {},
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  const code = await runCli(args, {
    env,
    out: (line) => (out.push(line), all.push(line)),
    err: (line) => (err.push(line), all.push(line)),
    color,
  });
  return { code, out: out.join('\n'), err: err.join('\n'), output: all.join('\n') };
}
