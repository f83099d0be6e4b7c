import { spawn } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../..');

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

/**
 * `src/cli/main.ts` as a child process with only PATH and `env` (what Node reads at start, NODE_EXTRA_CA_CERTS, takes
 * effect there): its exit code and what it printed, as runCliCaptured returns them.
 */
export async function runCliProcess(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_NODE_TRANSPILE_ONLY: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => (out.push(String(chunk)), all.push(String(chunk))));
  child.stderr.on('data', (chunk: Buffer) => (err.push(String(chunk)), all.push(String(chunk))));
  const code = await new Promise<number>((resolve) => child.once('close', (exitCode) => resolve(exitCode ?? -1)));
  const text = (parts: string[]) => parts.join('').replace(/\n$/, '');
  return { code, out: text(out), err: text(err), output: text(all) };
}
