import { Connection } from '@temporalio/client';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureKeyFile } from './codec/encryption-keys';
import { cliTypeName } from './temporal/search-attributes';
import { SEARCH_ATTRIBUTE_KEYS } from './shared';
import { freePort as freePortOn } from './health/free-port';
import { readServiceArgs } from './cli/service-args';

export const ROOT = path.resolve(__dirname, '..');

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return freePortOn('127.0.0.1');
}

/** The Temporal CLI, found or built by the project's own script; a missing one fails the run. */
export function temporalBinary(): string {
  try {
    return execFileSync('bash', [path.join(ROOT, 'scripts/install-temporal.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    throw new Error('The Temporal CLI is required: scripts/install-temporal.sh could not find or build it');
  }
}

export interface DevServer {
  address: string;
  port: number;
  uiPort?: number;
  /** The server's Prometheus endpoint, when started with `metricsPort`. */
  metricsUrl?: string;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface DevServerOptions {
  dbFilename: string;
  /** Default: a free port. */
  port?: number;
  /** false: headless; true: a free port; a number: that port. */
  ui?: boolean | number;
  /** The Web UI's remote codec endpoint (the worker's codec server), so it shows payloads decoded. */
  codecEndpoint?: string;
  /** Where the server's own output goes (default: inherited stderr). */
  stderr?: 'inherit' | 'ignore';
  /** Serve the server's own Prometheus metrics (its `action` counter among them) on this port. */
  metricsPort?: number;
  /** Server dynamic config over DEV_SERVER_DYNAMIC_CONFIG (values are JSON). */
  dynamicConfig?: Record<string, unknown>;
}

/**
 * Eager activity execution: the server hands an activity a workflow task schedules straight back to the worker that
 * completes the task, instead of through the task queue (7-15% more tickets/s catching up; docs/benchmarks.md). On in
 * Temporal Cloud; off by default in a self-hosted server (docker-compose.yml turns it on).
 */
export const EAGER_ACTIVITIES = 'system.enableActivityEagerExecution';
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, unknown> = { [EAGER_ACTIVITIES]: true };

/** How often a start on ports picked here is tried again when the server exits at once (a port taken meanwhile). */
const START_ATTEMPTS = 3;

/** Starts `temporal server start-dev` with its state in `dbFilename` and this project's search attributes. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  // A free port can be taken by another process before the server binds it (and the server binds more ports than
  // the one it is given): on ports of our own choosing, a server that exits at once is started again on others.
  const ownPorts = options.port === undefined && typeof options.ui !== 'number';
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (!ownPorts || attempt >= START_ATTEMPTS || !(err instanceof ServerExitedError)) throw err;
    }
  }
}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const binary = temporalBinary();
  const port = options.port ?? (await freePort());
  const uiPort = typeof options.ui === 'number' ? options.ui : options.ui ? await freePort() : undefined;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    options.dbFilename,
    '--log-level',
    'error',
    ...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']),
    ...(uiPort && options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
    ...(options.metricsPort ? ['--metrics-port', String(options.metricsPort)] : []),
    ...Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig }).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${JSON.stringify(value)}`,
    ]),
    ...SEARCH_ATTRIBUTE_KEYS.flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeName(key.type)}`]),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', options.stderr ?? 'inherit'] });
  const address = `127.0.0.1:${port}`;
  await waitForServer(address, child);
  return {
    address,
    port,
    uiPort,
    metricsUrl: options.metricsPort ? `http://127.0.0.1:${options.metricsPort}/metrics` : undefined,
    process: child,
    stop: (signal = 'SIGTERM') => stopProcess(child, signal),
  };
}

/** The server process ended before it answered. */
class ServerExitedError extends Error {}

export async function waitForServer(address: string, child?: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) {
      throw new ServerExitedError(`the Temporal dev server exited with ${child.exitCode}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the Temporal dev server at ${address} did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

const DEV_SERVER_USAGE = `Usage: zendesk-export dev-server [--json]

Runs a Temporal dev server for trying the exporter out, with its state in .data/temporal.db (under the current
directory), so workflows and their cursors survive a restart; registers the search attributes; and makes a payload
encryption key in .data/ if there is none. Finds the Temporal CLI, or fetches it (scripts/install-temporal.sh).
TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), TEMPORAL_DB_FILENAME, CODEC_SERVER_PORT (8234) and
PAYLOAD_ENCRYPTION_KEY_FILE change the defaults.

  --json    print what it started as one JSON object
`;

/** `zendesk-export dev-server`: the user's dev server, state in .data/temporal.db, in the foreground until Ctrl-C. */
export async function main(args: string[]): Promise<void> {
  const options = readServiceArgs(args, DEV_SERVER_USAGE);
  if (!options) return;
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const ui = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  const dbFilename = path.resolve(process.env.TEMPORAL_DB_FILENAME ?? '.data/temporal.db');
  fs.mkdirSync(path.dirname(dbFilename), { recursive: true });
  const codecEndpoint = `http://127.0.0.1:${process.env.CODEC_SERVER_PORT ?? 8234}`;
  const server = await startDevServer({ dbFilename, port, ui, codecEndpoint });
  const keyFile = ensureKeyFile(
    path.resolve(process.env.PAYLOAD_ENCRYPTION_KEY_FILE ?? '.data/payload-encryption.key'),
  );
  const searchAttributes = SEARCH_ATTRIBUTE_KEYS.map((k) => k.name);
  if (options.json) {
    const webUi = `http://localhost:${ui}`;
    console.log(
      JSON.stringify({ address: server.address, webUi, dbFilename, searchAttributes, codecEndpoint, keyFile }),
    );
  } else {
    console.log(`Temporal dev server on ${server.address}, Web UI on http://localhost:${ui}, state in ${dbFilename}`);
    console.log('Search attributes registered: ' + searchAttributes.join(', '));
    console.log(`Web UI codec endpoint: ${codecEndpoint} (served by the worker: zendesk-export worker)`);
    console.log(
      `Payload encryption key: ${keyFile}; give it to the worker and the client, so the history holds ciphertext:\n` +
        `  export PAYLOAD_ENCRYPTION_KEY_FILE=${keyFile}`,
    );
  }
  const stop = () => void server.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise((resolve) => server.process.once('exit', resolve));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
