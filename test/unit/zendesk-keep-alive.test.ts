import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { DEFAULT_CREDENTIALS, startEmulator } from '../../src/emulator';
import { ZendeskClient } from '../../src/zendesk/client';

// A keep-alive connection the server closes while the client sends its next call on it: a reset for a call the server
// never saw. The client drops idle connections before a server's usual keep-alive runs out; the emulator keeps them
// far longer than the client does.

const EMPTY_PAGE = JSON.stringify({ results: [], end_time: 1000 });

function client(baseUrl: string): ZendeskClient {
  return new ZendeskClient({
    baseUrl,
    auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
    timeoutMs: 3000,
  });
}

/** Runs `call` from a process whose event loop was blocked until `untilMs` (Date.now()): no timer ran meanwhile. */
function afterBlockedLoop<T>(startMs: number, untilMs: number, call: () => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    setTimeout(
      () =>
        setImmediate(() => {
          while (Date.now() < untilMs) {
            // busy: a worker parsing and storing big pages
          }
          call().then(resolve, reject);
        }),
      startMs - Date.now(),
    );
  });
}

test('an emulator connection idle for 6 s, reused by a process busy for 2.5 s: the call is answered', async () => {
  const emulator = await startEmulator({ ticketCount: 50, windowSeconds: 0 });
  try {
    const zendesk = client(emulator.url);
    expect((await zendesk.fetchExportPage(0)).kind).toBe('page');
    const idleSince = Date.now();
    // Blocked from before the client's idle timeout to past the point where a node server's default keep-alive
    // (5 s, plus its 1 s margin) closes the connection.
    const second = await afterBlockedLoop(idleSince + 3_900, idleSince + 6_400, () => zendesk.fetchExportPage(0));
    expect(second.kind).toBe('page');
    expect(emulator.stats().calls).toBe(2);
  } finally {
    await emulator.close();
  }
}, 20_000);

interface CountingServer {
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}

/** A server that answers every call with an empty page; keepAliveTimeout 0: it neither announces nor enforces one. */
async function countingServer(keepAliveTimeout: number): Promise<CountingServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(EMPTY_PAGE);
  });
  server.keepAliveTimeout = keepAliveTimeout;
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test.each([
  { server: 'announcing no keep-alive timeout (a proxy)', keepAliveTimeout: 0, idleMs: 4_500 },
  { server: 'announcing Keep-Alive: timeout=3', keepAliveTimeout: 3_000, idleMs: 2_500 },
])('a server $server: a connection idle for $idleMs ms is not reused', async ({ keepAliveTimeout, idleMs }) => {
  const server = await countingServer(keepAliveTimeout);
  try {
    const zendesk = client(server.url);
    await zendesk.fetchExportPage(0);
    await zendesk.fetchExportPage(0);
    expect(server.connections()).toBe(1);
    await sleepMs(idleMs);
    expect((await zendesk.fetchExportPage(0)).kind).toBe('page');
    expect(server.connections()).toBe(2);
  } finally {
    await server.close();
  }
});
