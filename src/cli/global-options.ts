import fs from 'node:fs';
import { parseEnv } from 'node:util';
import { UsageError } from './io';

/** What the options every command takes say: the environment with --env-file read in, and --no-color. */
export interface GlobalOptions {
  /** The command line without the global options. */
  argv: string[];
  env: Record<string, string | undefined>;
  /** false with --no-color; otherwise undecided here. */
  color?: false;
}

/**
 * Takes --env-file FILE (or --env-file=FILE) and --no-color out of the command line, up to `--`. The file's variables
 * are added to `env`; one already set there wins, as with `node --env-file`.
 */
export function readGlobalOptions(argv: string[], env: Record<string, string | undefined>): GlobalOptions {
  const rest: string[] = [];
  const envFiles: string[] = [];
  let color: false | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--no-color') color = false;
    else if (arg === '--env-file') {
      const file = argv[++i];
      if (file === undefined || file.startsWith('-'))
        throw new UsageError("Option '--env-file <file>' argument missing");
      envFiles.push(file);
    } else if (arg.startsWith('--env-file=')) envFiles.push(arg.slice('--env-file='.length));
    else rest.push(arg);
  }
  let fromFiles: Record<string, string> = {};
  for (const file of envFiles) fromFiles = { ...fromFiles, ...readEnvFile(file) };
  return { argv: rest, env: { ...fromFiles, ...definedOnly(env) }, ...(color === false && { color }) };
}

function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new UsageError(`--env-file ${file}: ${reason}`);
  }
  return parseEnv(text) as Record<string, string>;
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

/** Colours unless NO_COLOR is set (https://no-color.org) or the output is not a terminal; FORCE_COLOR decides (0: off). */
export function colorWanted(env: Record<string, string | undefined>, isTty: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force === '0' || force === 'false') return false;
  if (force !== undefined) return true;
  return isTty;
}
