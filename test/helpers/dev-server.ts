import { Connection } from '@temporalio/client';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The Temporal CLI, found or built by the project's own script; a missing one fails the run. */
export function temporalBinary(): string {
  try {
    return execFileSync('bash', [path.join(ROOT, 'scripts/install-temporal.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    throw new Error(
      'The Temporal CLI is required for the tests: scripts/install-temporal.sh could not find or build it',
    );
  }
}

export interface DevServer {
  address: string;
  port: number;
  uiPort?: number;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startDevServer(options: { dbFilename: string; port?: number; ui?: boolean }): Promise<DevServer> {
  const binary = temporalBinary();
  const port = options.port ?? (await freePort());
  const uiPort = options.ui ? await freePort() : undefined;
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
    '--search-attribute',
    'ZendeskAccount=Keyword',
    '--search-attribute',
    'ZendeskCursor=Datetime',
    '--search-attribute',
    'ZendeskPaused=Bool',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const address = `127.0.0.1:${port}`;
  await waitForServer(address, child);
  return {
    address,
    port,
    uiPort,
    process: child,
    stop: (signal = 'SIGTERM') => stopProcess(child, signal),
  };
}

export async function waitForServer(address: string, child?: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`the Temporal dev server exited with ${child.exitCode}`);
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
