import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConnectProxyAgent } from '../../src/zendesk/connect-proxy';
import { ZendeskClient } from '../../src/zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../../src/zendesk/errors';
import { leaksOf } from '../helpers/secret-forms';

// Local servers that misbehave in the ways the Zendesk client must survive: no emulator needed.

const API_TOKEN = 'zd-token-4e8b1f0c27';
const EMPTY_PAGE = JSON.stringify({ results: [], end_time: 1000 });

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
let dir: string;

beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-client-'))));
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  delete process.env.HTTP_PROXY;
  delete process.env.HTTPS_PROXY;
  delete process.env.http_proxy;
  delete process.env.https_proxy;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function listen<T extends net.Server>(server: T): Promise<{ server: T; port: number }> {
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

async function serve(handler: Handler): Promise<string> {
  const { port } = await listen(http.createServer(handler));
  return `http://127.0.0.1:${port}`;
}

function client(baseUrl: string, options: Partial<ConstructorParameters<typeof ZendeskClient>[0]> = {}) {
  return new ZendeskClient({
    baseUrl,
    auth: { mode: 'api_token', email: 'a@b.test', apiToken: API_TOKEN },
    ...options,
  });
}

async function failure(call: Promise<unknown>): Promise<Error> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: Error) => err,
  );
}

/** Headers now, then a byte every 100 ms for ever: never an idle socket. */
const trickle: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write('{"results":[');
  const timer = setInterval(() => res.write(' '), 100);
  res.on('close', () => clearInterval(timer));
};

describe('the Zendesk HTTP client', () => {
  test('an answer above the size cap is read no further: the specified endpoint blocks, an incremental one asks for less', async () => {
    let sent = 0;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // An endless body: buffering it whole would never end.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
    const started = Date.now();
    const capped = client(url, { maxResponseBytes: 1024 * 1024, timeoutMs: 20_000 });
    // The specified endpoint has no per_page: asking again would get the same answer, so the export blocks, saying why.
    const err = await failure(capped.fetchExportPage(0));
    expect(err).toBeInstanceOf(ZendeskPermanentError);
    expect(err.message).toMatch(
      /larger than the 1 MiB cap on a response.*cannot ask for fewer tickets.*cursor endpoint/,
    );
    // The incremental endpoints: a page-size problem, answered with a smaller per_page.
    await expect(capped.fetchCursorPage({ startTime: 0, perPage: 1000 })).resolves.toMatchObject({
      kind: 'too_large',
      message: expect.stringMatching(/larger than the 1 MiB cap on a response/),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  test('the deadline covers the whole call: an answer that trickles bytes is aborted', async () => {
    const url = await serve(trickle);
    const started = Date.now();
    const err = await failure(client(url, { timeoutMs: 1_000 }).fetchExportPage(0));
    expect(err).toBeInstanceOf(ZendeskTransientError);
    expect(err.message).toMatch(/no complete answer within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(4_000);
  }, 10_000);

  test('the OAuth token request has the same deadline', async () => {
    const url = await serve(trickle);
    const oauth = new ZendeskClient({
      baseUrl: url,
      timeoutMs: 1_000,
      auth: {
        mode: 'oauth_client_credentials',
        clientId: 'c',
        clientSecret: 'cs-1f2e3d',
        scope: 'read',
        tokenTtlSeconds: 3600,
      },
    });
    const started = Date.now();
    const err = await failure(oauth.fetchExportPage(0));
    expect(err.message).toMatch(/oauth\/tokens .*failed: no answer within 1000 ms \(timeout\)/);
    expect(Date.now() - started).toBeLessThan(4_000);
  }, 10_000);

  test("a caller's signal aborts the request at once", async () => {
    const url = await serve(trickle);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const err = await failure(
      client(url, { timeoutMs: 30_000 }).fetchExportPage(0, 'export', { signal: controller.signal }),
    );
    expect(err.message).toMatch(/cancelled/);
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 10_000);

  test('unreadable JSON: the error carries no text of the body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"echo": "body-secret-9f3a" oops "more-secret-77"}');
    });
    const err = await failure(client(url).fetchExportPage(0));
    expect(err).toBeInstanceOf(ZendeskTransientError);
    expect(err.message).toMatch(/unreadable JSON \(invalid JSON at position \d+\) in \d+ bytes/);
    expect(err.message).not.toMatch(/secret|oops/);
  });

  test('an error body that quotes the credentials in any encoding: each form blanked in the error', async () => {
    const token = 'zd+tok/9"x\\y=z!q';
    const pair = `a@b.test/token:${token}`;
    const quotes = [
      token,
      JSON.stringify({ token }),
      encodeURIComponent(token).toLowerCase(),
      new URLSearchParams({ token }).toString(),
      Buffer.from(`x${pair}`).toString('base64'),
      Buffer.from(`xy${token}`).toString('base64url'),
      Buffer.from(token).toString('hex'),
    ];
    let quote = '';
    const url = await serve((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`bad gateway; request: ${quote}`);
    });
    const zendesk = client(url, { auth: { mode: 'api_token', email: 'a@b.test', apiToken: token } });
    for (quote of quotes) {
      const err = await failure(zendesk.fetchExportPage(0));
      expect(err).toBeInstanceOf(ZendeskTransientError);
      expect(err.message).toMatch(/: 502 bad gateway; request: /);
      expect({ quote, leaks: leaksOf(token, err.message) }).toEqual({ quote, leaks: [] });
    }
  });

  test('HTTP_PROXY and HTTPS_PROXY of the environment are not used', async () => {
    const proxied: string[] = [];
    const proxy = await serve((req, res) => {
      proxied.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(EMPTY_PAGE);
    });
    const target = await serve((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(EMPTY_PAGE),
    );
    process.env.HTTP_PROXY = proxy;
    process.env.HTTPS_PROXY = proxy;
    process.env.http_proxy = proxy;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    const outcome = await client(target).fetchExportPage(0);
    expect(outcome).toEqual(expect.objectContaining({ kind: 'page', endTime: 1000 }));
    expect(proxied).toEqual([]);
  });

  describe('ZENDESK_HTTPS_PROXY', () => {
    let cert: Buffer;
    let key: Buffer;
    beforeAll(() => {
      execFileSync(
        '/usr/bin/openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
          ...['-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=localhost'],
          ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        ],
        { cwd: dir, stdio: 'pipe' },
      );
      cert = fs.readFileSync(path.join(dir, 'cert.pem'));
      key = fs.readFileSync(path.join(dir, 'key.pem'));
    });

    /** A proxy that records what it is asked, and tunnels CONNECT. */
    async function connectProxy() {
      const seen: { plain: string[]; connect: string[]; auth: (string | undefined)[] } = {
        plain: [],
        connect: [],
        auth: [],
      };
      const server = http.createServer((req, res) => {
        seen.plain.push(`${req.method} ${req.url}`);
        res.writeHead(502).end();
      });
      server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        seen.connect.push(req.url ?? '');
        seen.auth.push(req.headers['proxy-authorization']);
        const [host, port] = [req.url!.replace(/:\d+$/, ''), Number(req.url!.split(':').pop())];
        const upstream = net.connect(port, host, () => {
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.write(head);
          upstream.pipe(socket);
          socket.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      });
      const { port } = await listen(server);
      return { url: `http://127.0.0.1:${port}`, seen };
    }

    async function httpsTarget() {
      const requests: string[] = [];
      const server = https.createServer({ cert, key }, (req, res) => {
        requests.push(`${req.method} ${req.url}`);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(EMPTY_PAGE);
      });
      const { port } = await listen(server);
      return { port, requests };
    }

    test('the agent tunnels with CONNECT: TLS end to end, the proxy sees only host and port', async () => {
      const proxy = await connectProxy();
      const target = await httpsTarget();
      const agent = new ConnectProxyAgent(proxy.url.replace('//', '//user:p%40ss@'), 5_000, { ca: cert });
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`https://localhost:${target.port}/api/v2/exports/tickets.json`, { agent }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      agent.destroy();
      expect(body).toBe(EMPTY_PAGE);
      expect(proxy.seen.connect).toEqual([`localhost:${target.port}`]);
      expect(proxy.seen.auth).toEqual([`Basic ${Buffer.from('user:p@ss').toString('base64')}`]);
      expect(proxy.seen.plain).toEqual([]);
      expect(target.requests).toEqual(['GET /api/v2/exports/tickets.json']);
    });

    test('the client goes through the tunnel for https, never sends plain HTTP to the proxy', async () => {
      const proxy = await connectProxy();
      const target = await httpsTarget();
      // The test's self-signed certificate is not trusted by the client: the handshake inside the tunnel fails on it,
      // which shows TLS ran through the tunnel to the target.
      const err = await failure(
        client(`https://127.0.0.1:${target.port}`, { httpsProxy: proxy.url, timeoutMs: 5_000 }).fetchExportPage(0),
      );
      expect(err).toBeInstanceOf(ZendeskTransientError);
      expect(proxy.seen.connect).toEqual([`127.0.0.1:${target.port}`]);
      expect(proxy.seen.plain).toEqual([]);
      // The target's own certificate was presented through the tunnel.
      expect(err.message).toMatch(/SELF_SIGNED_CERT/);
      expect(target.requests).toEqual([]);
      expect(err.message).not.toContain(API_TOKEN);

      // http:// (loopback only, the emulator) goes direct, never through the proxy.
      const plain = await serve((_req, res) =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(EMPTY_PAGE),
      );
      await expect(client(plain, { httpsProxy: proxy.url }).fetchExportPage(0)).resolves.toEqual(
        expect.objectContaining({ kind: 'page' }),
      );
      expect(proxy.seen.plain).toEqual([]);
      expect(proxy.seen.connect).toHaveLength(1);
    });

    test('a proxy that refuses the tunnel is a transient error naming it', async () => {
      const { port } = await listen(
        http.createServer().on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
          socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        }),
      );
      const err = await failure(
        client('https://127.0.0.1:9', { httpsProxy: `http://127.0.0.1:${port}`, timeoutMs: 5_000 }).fetchExportPage(0),
      );
      expect(err).toBeInstanceOf(ZendeskTransientError);
      expect(err.message).toMatch(/the proxy refused a tunnel to 127\.0\.0\.1:9 \(403\)/);
    });
  });
});
