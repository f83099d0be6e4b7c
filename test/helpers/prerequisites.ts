import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { postgresBinDir } from '../../bench/chaos/private-postgres';

// What the workflow and integration layers need from the machine, found in one place, and one message naming each
// missing part and how to get it. A missing part fails the layer, on a developer's machine and in CI alike: no test
// is skipped for want of one.

export const ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * - `temporal-cli`: the Temporal CLI, which runs the dev server;
 * - `postgres`: a PostgreSQL database the tests may write to (TEST_POSTGRES_URL);
 * - `chromium`: the browser the Web UI test drives (CHROMIUM_PATH);
 * - `initdb`: PostgreSQL's server programs, for the chaos test's PostgreSQL of its own.
 */
export type Prerequisite = 'temporal-cli' | 'postgres' | 'chromium' | 'initdb';

export interface ProbeOptions {
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** The checkout whose .tools/bin may hold the Temporal CLI (default: this one). */
  root?: string;
  /** Where PostgreSQL's versions are installed (default: /usr/lib/postgresql). */
  postgresLibDir?: string;
  /** How long PostgreSQL may take to answer (default 5 s). */
  postgresTimeoutMs?: number;
}

/** The database the sink and blob-store tests write to: TEST_POSTGRES_URL, else the local server's `test`. */
export function testPostgresUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;
}

/** A database on the same server that may create others (the benchmark's): BENCH_POSTGRES_URL, else `postgres`. */
export function postgresAdminUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENCH_POSTGRES_URL) return env.BENCH_POSTGRES_URL;
  const url = new URL(testPostgresUrl(env));
  url.pathname = '/postgres';
  return url.toString();
}

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH || DEFAULT_CHROMIUM_PATH;
}

function runs(file: string, env: NodeJS.ProcessEnv): boolean {
  try {
    execFileSync(file, ['--version'], { env, stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir || '.', name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Where scripts/install-temporal.sh installs the CLI in a checkout: TEMPORAL_CLI_INSTALL_DIR, else .tools/bin. */
function installDir(options: ProbeOptions): string {
  const env = options.env ?? process.env;
  return env.TEMPORAL_CLI_INSTALL_DIR || path.join(options.root ?? ROOT, '.tools/bin');
}

/**
 * The Temporal CLI where scripts/install-temporal.sh looks, in its order: TEMPORAL_CLI_PATH, its install directory
 * (in a checkout), PATH.
 */
export function findTemporalCli(options: ProbeOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const candidates = [env.TEMPORAL_CLI_PATH, path.join(installDir(options), 'temporal'), onPath('temporal', env)];
  return candidates.find((file): file is string => !!file && fs.existsSync(file) && runs(file, env));
}

function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of ['password', 'sslpassword'])
      if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return '(TEST_POSTGRES_URL is not a URL)';
  }
}

function clusterStart(): string {
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql').sort() : [];
  return `pg_ctlcluster ${versions.at(-1) ?? '<version>'} main start`;
}

async function postgresProblem(options: ProbeOptions): Promise<string | undefined> {
  const url = testPostgresUrl(options.env);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `TEST_POSTGRES_URL is not a URL: set it to postgres://user@host:port/database`;
  }
  const timeoutMs = options.postgresTimeoutMs ?? 5000;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    const reason = (err as Error).message || String(err);
    const database = decodeURIComponent(parsed.pathname.slice(1));
    if ((err as { code?: string }).code === '3D000') {
      return (
        `PostgreSQL at ${redacted(url)} has no database "${database}" (${reason}): create it ` +
        `(createdb -h ${parsed.hostname} -p ${parsed.port || 5432} -U ${parsed.username || 'postgres'} ${database}) ` +
        'or set TEST_POSTGRES_URL to a database the tests may write to'
      );
    }
    return (
      `PostgreSQL is not reachable at ${redacted(url)} (${reason}): start it (${clusterStart()}, as .ci/run does) ` +
      'or set TEST_POSTGRES_URL to a database the tests may write to'
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function temporalCliProblem(options: ProbeOptions): string | undefined {
  const env = options.env ?? process.env;
  if (env.TEMPORAL_CLI_FORBIDDEN) {
    return (
      'the Temporal CLI is forbidden in this run (TEMPORAL_CLI_FORBIDDEN is set, as npm run test:unit sets it): ' +
      'run the layers that need it with npm run test:workflow or npm run test:integration'
    );
  }
  if (findTemporalCli(options)) return undefined;
  const given = env.TEMPORAL_CLI_PATH ? `TEMPORAL_CLI_PATH (${env.TEMPORAL_CLI_PATH}: does not run), ` : '';
  const dir = env.TEMPORAL_CLI_INSTALL_DIR ? `${env.TEMPORAL_CLI_INSTALL_DIR}/temporal` : '.tools/bin/temporal';
  return (
    `the Temporal CLI (it runs the dev server) was not found at ${given}${dir} or on PATH: ` +
    'get it with npm run install-temporal (it downloads the release from github.com, else builds it with ' +
    'Go >= 1.25), or install it (https://docs.temporal.io/cli#install) and set TEMPORAL_CLI_PATH=/path/to/temporal'
  );
}

function chromiumProblem(options: ProbeOptions): string | undefined {
  const file = chromiumPath(options.env);
  try {
    fs.accessSync(file, fs.constants.X_OK);
    if (fs.statSync(file).isFile()) return undefined;
  } catch {
    // reported below
  }
  return (
    `Chromium is not at ${file} (the Web UI test drives it): apt-get install -y chromium (as .ci/run does), ` +
    'or set CHROMIUM_PATH to a Chromium or Chrome binary'
  );
}

function initdbProblem(options: ProbeOptions): string | undefined {
  const libDir = options.postgresLibDir ?? '/usr/lib/postgresql';
  const env = options.env ?? process.env;
  let dir: string;
  try {
    dir = postgresBinDir(libDir, env);
  } catch {
    return (
      `PostgreSQL's server programs (initdb, pg_ctl) are not in ${libDir}/<version>/bin nor pg_config --bindir ` +
      '(the chaos test runs a PostgreSQL of its own): apt-get install -y postgresql'
    );
  }
  if (!fs.existsSync(path.join(dir, 'pg_ctl')))
    return `${dir} has initdb but no pg_ctl: reinstall the postgresql package`;
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'as root, initdb runs as the user postgres, and there is none: apt-get install -y postgresql creates it';
    }
  }
  return undefined;
}

/** One line per missing prerequisite, each naming it and how to get it; empty when all are there. */
export async function missingPrerequisites(needs: Prerequisite[], options: ProbeOptions = {}): Promise<string[]> {
  const probes: Record<Prerequisite, () => Promise<string | undefined> | string | undefined> = {
    'temporal-cli': () => temporalCliProblem(options),
    postgres: () => postgresProblem(options),
    chromium: () => chromiumProblem(options),
    initdb: () => initdbProblem(options),
  };
  const problems = await Promise.all([...new Set(needs)].map((need) => probes[need]()));
  return problems.filter((problem): problem is string => problem !== undefined);
}

/** Fails, with one message listing every missing prerequisite, unless all of `needs` are there. */
export async function requirePrerequisites(
  who: string,
  needs: Prerequisite[],
  options: ProbeOptions = {},
): Promise<void> {
  const problems = await missingPrerequisites(needs, options);
  if (problems.length === 0) return;
  const env = options.env ?? process.env;
  const ci = env.CI === 'true' ? ' CI runs every test, so this fails the run.' : '';
  const error = new Error(
    `${who} cannot run: ${problems.length === 1 ? 'a prerequisite is' : `${problems.length} prerequisites are`} ` +
      `missing.${ci}\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  error.stack = error.message;
  throw error;
}
