import { Client, Connection, ConnectionOptions } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import {
  clientConnectionOptions,
  connectionSettingsFrom,
  nativeConnectionOptions,
  TemporalConnectionSettings,
  temporalConnectionEnv,
} from '../../src/config/temporal-connection';
import { runCli } from '../../src/cli/main';
import { DEFAULT_CREDENTIALS, startEmulator } from '../../src/emulator';
import { SqliteSink } from '../../src/storage/sqlite';
import { quietRuntime, spawnWorkerProcess, testEnv, waitFor } from '../helpers/harness';

const OPENSSL = '/usr/bin/openssl';
const SERVER_NAME = 'temporal.test';
const API_KEY = `secret-key-${randomUUID()}`;

interface Listening {
  address: string;
  close(): Promise<void>;
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync(OPENSSL, args, { cwd, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    ...['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2'],
    ...['-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE'],
    ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
}

/** A leaf certificate signed by ca.pem; rustls (the worker's TLS) wants proper v3 extensions. */
function makeLeaf(dir: string, name: string, extensions: string): void {
  fs.writeFileSync(
    path.join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n${extensions}\n`,
  );
  openssl(dir, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl(
    dir,
    ...['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `${Date.now()}`],
    ...['-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`],
  );
}

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

interface TlsProxy extends Listening {
  /** Connections that passed the mTLS handshake and were piped to the dev server. */
  piped: number;
  /** Codes of the handshakes the proxy rejected or saw fail. */
  tlsErrors: string[];
}

/** Terminates mTLS and pipes the bytes to the plaintext dev server (gRPC over HTTP/2 needs nothing more). */
async function startTlsProxy(dir: string, target: string): Promise<TlsProxy> {
  const sockets = new Set<net.Socket>();
  const tlsErrors: string[] = [];
  let piped = 0;
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const server = tls.createServer(
    {
      key: fs.readFileSync(path.join(dir, 'server.key')),
      cert: fs.readFileSync(path.join(dir, 'server.pem')),
      ca: fs.readFileSync(path.join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      piped++;
      const upstream = net.connect(port, host);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          socket.destroy();
          upstream.destroy();
        });
      }
      socket.pipe(upstream).pipe(socket);
    },
  );
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => tlsErrors.push(err.code ?? err.message));
  const address = await listen(server);
  return {
    address,
    tlsErrors,
    get piped() {
      return piped;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A plaintext gRPC endpoint that records the Authorization header and refuses every call. */
async function startRefusingServer(): Promise<Listening & { authorizations: (string | undefined)[] }> {
  const authorizations: (string | undefined)[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    authorizations.push(headers.authorization as string | undefined);
    stream.on('error', () => undefined);
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'unauthenticated' },
      { endStream: true },
    );
  });
  const address = await listen(server as unknown as net.Server);
  return {
    address,
    authorizations,
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/** Connection.connect() leaves its channel open when it fails; this closes it. */
async function clientConnectError(options: ConnectionOptions): Promise<Error> {
  // Shorter than the 10 s default: grpc-js waits for the whole deadline when the handshake keeps failing.
  const connection = Connection.lazy({ ...options, connectTimeout: '3 seconds' });
  try {
    return await rejection(connection.ensureConnected());
  } finally {
    await connection.close();
  }
}

/** Every message in the cause chain, to check what a user would see in a log. */
function messages(err: unknown): string {
  const parts: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(' <- ');
}

describe('Temporal connection through a TLS-terminating proxy', () => {
  let dir: string;
  let proxy: TlsProxy;

  function settings(env: Record<string, string>): TemporalConnectionSettings {
    const file = (name: string) => path.join(dir, name);
    const full: Record<string, string> = {
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      ...env,
    };
    // An empty value means "unset", as in config.ts.
    const set = Object.fromEntries(Object.entries(full).filter(([, v]) => v !== ''));
    return connectionSettingsFrom(proxy.address, temporalConnectionEnv.parse(set));
  }

  beforeAll(async () => {
    quietRuntime();
    dir = fs.mkdtempSync(path.join(testEnv().tmpDir, 'tls-'));
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    makeLeaf(dir, 'server', `subjectAltName=DNS:${SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth`);
    makeLeaf(dir, 'client', 'extendedKeyUsage=clientAuth');
    proxy = await startTlsProxy(dir, testEnv().address);
  });

  afterAll(async () => {
    await proxy?.close();
  });

  test('the client Connection with CA, client certificate and server name lists workflows', async () => {
    const pipedBefore = proxy.piped;
    const connection = await Connection.connect(clientConnectionOptions(settings({})));
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeTruthy();
      const client = new Client({ connection });
      const listed = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = 'tls-${randomUUID()}'` })) listed.push(wf);
      expect(listed).toEqual([]);
      expect(proxy.piped).toBeGreaterThan(pipedBefore);
    } finally {
      await connection.close();
    }
  }, 20_000);

  test('the worker NativeConnection with CA, client certificate and server name polls a task queue', async () => {
    const pipedBefore = proxy.piped;
    const connection = await NativeConnection.connect(nativeConnectionOptions(settings({})));
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeTruthy();
      const worker = await Worker.create({
        connection,
        taskQueue: `tls-${randomUUID()}`,
        workflowBundle: { codePath: testEnv().bundlePath },
        activities: {},
      });
      await worker.runUntil(new Promise((resolve) => setTimeout(resolve, 500)));
      expect(proxy.piped).toBeGreaterThan(pipedBefore);
    } finally {
      await connection.close();
    }
  }, 20_000);

  test('the worker process and the CLI, configured by environment alone, export through mTLS with an API key', async () => {
    const emulator = await startEmulator({ ticketCount: 1500, windowSeconds: 0, minStartAgeSeconds: 1 });
    const dbFile = path.join(dir, `${randomUUID()}.db`);
    const sink = new SqliteSink(dbFile);
    const taskQueue = `tls-${randomUUID()}`;
    const connectionEnv = {
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      ZENDESK_BASE_URL: emulator.url,
    };
    const worker = spawnWorkerProcess({
      ...connectionEnv,
      ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
      ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
      SINK_URL: `sqlite:${dbFile}`,
    });
    const lines: string[] = [];
    const io = {
      env: { ...connectionEnv, EXPORT_POLL_INTERVAL_SECONDS: '0.5', EXPORT_MIN_START_AGE_SECONDS: '1' },
      out: (l: string) => lines.push(l),
      err: (l: string) => lines.push(l),
    };
    const account = new URL(emulator.url).host;
    try {
      await waitFor('the worker to be ready', () => worker.output().includes('Worker ready'), 30_000).catch((err) => {
        throw new Error(`${err.message}\n${worker.output()}`);
      });
      expect(await runCli(['start'], io)).toBe(0);
      await waitFor('every ticket stored', async () => (await sink.countTickets(account)) === emulator.truth().length);
      expect(await runCli(['status', '--json'], io)).toBe(0);
      expect(await runCli(['stop'], io)).toBe(0);
      expect(worker.output()).toMatch(
        /TLS, custom CA, server name temporal\.test, client certificate, API key|TLS.*client certificate.*API key/,
      );
      expect(worker.output() + lines.join('\n')).not.toContain(API_KEY);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await emulator.close();
      await sink.close();
    }
  }, 60_000);

  test('without the client certificate both connections fail: mTLS is enforced', async () => {
    const noCert = settings({ TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' });
    expect(noCert.tls).toEqual({ serverCaCertPath: expect.any(String), serverName: SERVER_NAME });
    const pipedBefore = proxy.piped;
    proxy.tlsErrors.length = 0;

    expect((await clientConnectError(clientConnectionOptions(noCert))).message).toMatch(/deadline/);
    const nativeErr = await rejection(NativeConnection.connect(nativeConnectionOptions(noCert)).then((c) => c.close()));
    // The proxy closes the connection during the handshake: the Rust client reports it as a transport error or, when
    // the close wins the race, as a cancelled operation on a closed connection.
    expect(messages(nativeErr)).toMatch(/transport error|connection closed/);

    expect(proxy.piped).toBe(pipedBefore);
    expect(proxy.tlsErrors).toContain('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
  }, 20_000);

  test('with the wrong CA both connections refuse the server', async () => {
    const wrongCa = settings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'other-ca.pem') });
    const pipedBefore = proxy.piped;

    expect((await clientConnectError(clientConnectionOptions(wrongCa))).message).toMatch(/deadline/);
    const nativeErr = await rejection(
      NativeConnection.connect(nativeConnectionOptions(wrongCa)).then((c) => c.close()),
    );
    expect(messages(nativeErr)).toMatch(/UnknownIssuer/);

    expect(proxy.piped).toBe(pipedBefore);
  }, 20_000);
});

describe('the API key', () => {
  let server: Awaited<ReturnType<typeof startRefusingServer>>;

  beforeAll(async () => {
    quietRuntime();
    server = await startRefusingServer();
  });
  afterAll(async () => server?.close());

  test('the client Connection sends it as a bearer token and never puts it in the error', async () => {
    const settings = connectionSettingsFrom(
      server.address,
      temporalConnectionEnv.parse({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }),
    );
    expect(settings.tls).toBeUndefined();
    const connection = Connection.lazy(clientConnectionOptions(settings));
    const err = await rejection(connection.ensureConnected()).finally(() => connection.close());
    expect(server.authorizations).toContain(`Bearer ${API_KEY}`);
    expect(messages(err)).toMatch(/unauthenticated/i);
    expect(messages(err)).not.toContain(API_KEY);
  }, 20_000);

  // The server is plaintext, so these calls reaching it also prove `tls: false` stops the SDK enabling TLS for a key.
  test('the worker NativeConnection sends it too', async () => {
    server.authorizations.length = 0;
    const settings: TemporalConnectionSettings = { address: server.address, apiKey: API_KEY };
    const err = await rejection(NativeConnection.connect(nativeConnectionOptions(settings)).then((c) => c.close()));
    expect(server.authorizations).toContain(`Bearer ${API_KEY}`);
    expect(messages(err)).not.toContain(API_KEY);
  }, 20_000);
});
