import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { undecodableReason } from '../../src/shared';
import { SqliteBlobStore } from '../../src/codec/blob-store';
import { CLAIM_CHECK_ENCODING, createDataConverter } from '../../src/codec/claim-check';
import { CodecServer, startCodecServer } from '../../src/codec/codec-server';
import { EncryptionCodec, encryptionKey } from '../../src/codec/encryption-codec';
import { GZIP_ENCODING } from '../../src/codec/gzip-codec';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(url: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Proto3 JSON, as the Web UI sends it: bytes as base64, empty fields omitted. */
function toJson(payload: Payload): JsonPayload {
  const json: JsonPayload = {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
  };
  if (payload.data?.length) json.data = Buffer.from(payload.data).toString('base64');
  return json;
}

function encodingOf(payload: JsonPayload): string {
  return Buffer.from(payload.metadata!.encoding, 'base64').toString();
}

const UI = 'http://localhost:8233';
const TOKEN = 'c0dec-5erver-t0ken-for-tests';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const MiB = 1024 * 1024;

function blobCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM payload_blobs').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** A codec whose decode waits until released: requests pile up in the server. */
function stalledCodec() {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const codec: PayloadCodec = { encode: async (p) => p, decode: async (p) => released.then(() => p) };
  return { codec, release };
}

/** Sends headers claiming `declared` bytes, then body bytes until the server answers; resolves with what happened. */
function uploadUntilAnswered(url: string, declared: number) {
  return new Promise<{ status: number; sentBytes: number; closedBy: 'server' | 'timeout' }>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    let sentBytes = 0;
    let reply = '';
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const timer = setTimeout(() => finish('timeout'), 3000);
    const pump = () => {
      while (!socket.destroyed && sentBytes < declared && socket.write(chunk)) sentBytes += chunk.length;
    };
    function finish(closedBy: 'server' | 'timeout') {
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(reply)?.[1] ?? 0);
      resolve({ status, sentBytes, closedBy });
    }
    socket.on('connect', () => {
      socket.write(
        `POST /decode HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
          `Content-Length: ${declared}\r\n\r\n`,
      );
      pump();
    });
    socket.on('drain', pump);
    socket.on('data', (data: Buffer) => (reply += data.toString('latin1')));
    socket.on('end', () => finish('server'));
    socket.on('close', () => finish('server'));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err),
    );
  });
}

describe('codec server', () => {
  let dir: string;
  let store: SqliteBlobStore;
  let server: CodecServer;

  async function post(endpoint: string, payloads: JsonPayload[], headers: Record<string, string> = {}) {
    const reply = await call(
      `${server.url}${endpoint}`,
      'POST',
      { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...AUTH, ...headers },
      JSON.stringify({ payloads }),
    );
    return { ...reply, json: reply.status === 200 ? (JSON.parse(reply.body) as { payloads: JsonPayload[] }) : null };
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-codec-server-'));
    store = new SqliteBlobStore(path.join(dir, 'tickets.db'));
    server = await startCodecServer({ codecs: createDataConverter(store).payloadCodecs!, token: TOKEN });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('encode then decode over HTTP returns the original payloads', async () => {
    const originals = [
      defaultPayloadConverter.toPayload({ kind: 'too_recent', message: 'small' }),
      defaultPayloadConverter.toPayload({ rows: Array.from({ length: 300 }, (_, id) => ({ id, subject: 'printer' })) }),
      { metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(400_000) },
      defaultPayloadConverter.toPayload(undefined),
    ].map(toJson);

    const encoded = await post('/encode', originals);
    expect(encoded.status).toBe(200);
    expect(encoded.headers['content-type']).toBe('application/json');
    expect(encoded.json!.payloads.map(encodingOf)).toEqual([
      'json/plain',
      GZIP_ENCODING,
      CLAIM_CHECK_ENCODING,
      'binary/null',
    ]);

    const decoded = await post('/decode', encoded.json!.payloads, { Origin: UI });
    expect(decoded.status).toBe(200);
    expect(decoded.headers['access-control-allow-origin']).toBe(UI);
    expect(decoded.json!.payloads).toEqual(originals);
  });

  test('the endpoint may be mounted under a namespace path, as the CLI templating does', async () => {
    const original = toJson(defaultPayloadConverter.toPayload('x'.repeat(5000)));
    const encoded = await post('/default/encode', [original]);
    expect(encodingOf(encoded.json!.payloads[0])).toBe(GZIP_ENCODING);
    const decoded = await post('/default/decode', encoded.json!.payloads);
    expect(decoded.json!.payloads).toEqual([original]);
  });

  test('CORS preflight answers the local Web UI', async () => {
    const reply = await call(`${server.url}/decode`, 'OPTIONS', {
      Origin: UI,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type,x-namespace',
    });
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe(UI);
    expect(reply.headers['access-control-allow-methods']).toBe('POST, GET, OPTIONS');
    expect(reply.headers['access-control-allow-headers']).toBe('Content-Type, X-Namespace, Authorization');
    expect(reply.headers['access-control-allow-credentials']).toBe('true');
  });

  test('CORS preflight and requests from other origins get no CORS grant', async () => {
    const preflight = await call(`${server.url}/decode`, 'OPTIONS', {
      Origin: 'http://evil.example',
      'Access-Control-Request-Method': 'POST',
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();

    const decode = await post('/decode', [], { Origin: 'http://evil.example' });
    expect(decode.status).toBe(403);
    expect(decode.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('an explicit origin list replaces the localhost default', async () => {
    const custom = await startCodecServer({
      codecs: createDataConverter().payloadCodecs!,
      allowedOrigins: ['https://temporal.example.com'],
    });
    try {
      const allowed = await call(`${custom.url}/decode`, 'OPTIONS', { Origin: 'https://temporal.example.com' });
      expect(allowed.headers['access-control-allow-origin']).toBe('https://temporal.example.com');
      const local = await call(`${custom.url}/decode`, 'OPTIONS', { Origin: UI });
      expect(local.status).toBe(403);
    } finally {
      await custom.close();
    }
  });

  test('bad JSON is a 400 with a message', async () => {
    const reply = await call(
      `${server.url}/decode`,
      'POST',
      { 'Content-Type': 'application/json', ...AUTH },
      '{"payloads": [',
    );
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(/^invalid JSON/);

    const notPayloads = await call(`${server.url}/decode`, 'POST', AUTH, '{"payloads": {"data": "AA=="}}');
    expect(notPayloads.status).toBe(400);
    expect(notPayloads.body).toMatch(/payloads/);

    const badBytes = await call(`${server.url}/decode`, 'POST', AUTH, '{"payloads": [{"data": 42}]}');
    expect(badBytes.status).toBe(400);
    expect(badBytes.body).toMatch(/invalid payload at index 0/);
  });

  test('an oversized body is a 413, with or without Content-Length', async () => {
    const small = await startCodecServer({ codecs: createDataConverter().payloadCodecs!, maxBodyBytes: 1000 });
    try {
      const body = JSON.stringify({ payloads: [{ data: randomBytes(50_000).toString('base64') }] });
      const sized = await call(
        `${small.url}/decode`,
        'POST',
        { 'Content-Length': String(Buffer.byteLength(body)) },
        body,
      );
      expect(sized.status).toBe(413);
      const chunked = await call(`${small.url}/decode`, 'POST', { 'Transfer-Encoding': 'chunked' }, body);
      expect(chunked.status).toBe(413);
      expect(chunked.body).toMatch(/above 1000 bytes/);
    } finally {
      await small.close();
    }
  });

  test('unknown paths are 404, wrong methods 405, health is ok', async () => {
    expect((await call(`${server.url}/nope`, 'POST', AUTH, '{}')).status).toBe(404);
    expect((await call(`${server.url}/decode`, 'GET')).status).toBe(405);
    const health = await call(`${server.url}/health`, 'GET');
    expect(health.status).toBe(200);
    expect(health.body).toBe('ok');
  });

  test('a missing blob is a 500 whose message names the id, without a stack', async () => {
    const id = 'f'.repeat(64);
    const reference = {
      metadata: { encoding: Buffer.from(CLAIM_CHECK_ENCODING).toString('base64') },
      data: Buffer.from(JSON.stringify({ id, size: 300_000 })).toString('base64'),
    };
    const reply = await post('/decode', [reference], { Origin: UI });
    expect(reply.status).toBe(500);
    expect(reply.headers['access-control-allow-origin']).toBe(UI);
    expect(reply.body).toContain(id);
    expect(reply.body).toMatch(/gone/);
    expect(reply.body).not.toMatch(/\n\s+at /);
  });
});

describe('codec server against hostile callers', () => {
  let dir: string;
  let dbFile: string;
  let store: SqliteBlobStore;
  const servers: CodecServer[] = [];

  async function start(options: Partial<Parameters<typeof startCodecServer>[0]> = {}) {
    const server = await startCodecServer({ codecs: createDataConverter(store).payloadCodecs!, ...options });
    servers.push(server);
    return server;
  }

  function body(payloads: Payload[]): string {
    return JSON.stringify({ payloads: payloads.map(toJson) });
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-codec-hostile-'));
    dbFile = path.join(dir, 'tickets.db');
    store = new SqliteBlobStore(dbFile);
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('with a token, /encode and /decode without it (or with another) are 401 and write nothing', async () => {
    const server = await start({ token: TOKEN });
    const big = body([{ metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(400_000) }]);
    for (const endpoint of ['/encode', '/decode', '/default/encode']) {
      for (const headers of [
        {},
        { Authorization: 'Bearer wrong-token-of-some-length' },
        { Authorization: TOKEN },
      ] as Record<string, string>[]) {
        const reply = await call(`${server.url}${endpoint}`, 'POST', headers, big);
        expect(reply.status).toBe(401);
        expect(reply.headers['www-authenticate']).toBe('Bearer');
      }
    }
    expect(blobCount(dbFile)).toBe(0);
    const ok = await call(`${server.url}/encode`, 'POST', { Authorization: `bearer ${TOKEN}` }, big);
    expect(ok.status).toBe(200);
    expect(blobCount(dbFile)).toBe(1);
    // The browser's preflight carries no credentials and must still pass.
    const preflight = await call(`${server.url}/decode`, 'OPTIONS', { Origin: UI });
    expect(preflight.status).toBe(204);
  });

  test('without a token every caller is anonymous: /encode of a big payload is refused and stores no blob', async () => {
    const server = await start();
    const small = await call(
      `${server.url}/encode`,
      'POST',
      {},
      body([defaultPayloadConverter.toPayload('x'.repeat(5000))]),
    );
    expect(small.status).toBe(200);
    expect(encodingOf(JSON.parse(small.body).payloads[0])).toBe(GZIP_ENCODING);

    const big = body([{ metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(400_000) }]);
    const reply = await call(`${server.url}/encode`, 'POST', {}, big);
    expect(reply.status).toBe(403);
    expect(reply.body).toMatch(/may not store blobs.*CODEC_SERVER_TOKEN/);
    expect(blobCount(dbFile)).toBe(0);
  });

  test('listening anywhere but loopback needs a token', async () => {
    await expect(start({ host: '0.0.0.0' })).rejects.toThrow(/0\.0\.0\.0 requires a token \(CODEC_SERVER_TOKEN\)/);
    const server = await start({ host: '0.0.0.0', token: TOKEN });
    const reply = await call(`http://127.0.0.1:${server.port}/decode`, 'POST', {}, body([]));
    expect(reply.status).toBe(401);
    for (const host of ['127.0.0.1', 'localhost']) await start({ host });
  });

  test('the default body cap is a few MiB: a 5 MiB body is a 413', async () => {
    const server = await start({ token: TOKEN });
    const payload = { metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(4 * MiB) };
    const reply = await call(`${server.url}/decode`, 'POST', AUTH, body([payload]));
    expect(reply.status).toBe(413);
    expect(reply.body).toBe(`request body above ${4 * MiB} bytes`);
  });

  test('an endless body is answered 413 and the connection closed, not read to its end', async () => {
    const server = await start({ token: TOKEN });
    const declared = await uploadUntilAnswered(server.url, 1024 * MiB);
    expect(declared).toMatchObject({ status: 413, closedBy: 'server' });
    expect(declared.sentBytes).toBeLessThan(256 * MiB);

    // Chunked, so the size is only known while reading: the server stops at the cap.
    const chunked = await new Promise<{ status: number }>((resolve, reject) => {
      const req = http.request(`${server.url}/decode`, { method: 'POST', headers: AUTH }, (res) => {
        resolve({ status: res.statusCode! });
        req.destroy();
      });
      req.on('error', (err: NodeJS.ErrnoException) =>
        err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err),
      );
      const chunk = Buffer.alloc(256 * 1024, 'a');
      const pump = () => {
        while (!req.destroyed && req.write(chunk));
      };
      req.on('drain', pump);
      pump();
    });
    expect(chunked.status).toBe(413);
  });

  test('past 4 requests at once: 503 with Retry-After; the slots come back', async () => {
    const { codec, release } = stalledCodec();
    const server = await startCodecServer({ codecs: [codec] });
    servers.push(server);
    const stalled = Array.from({ length: 4 }, () => call(`${server.url}/decode`, 'POST', {}, body([])));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const fifth = await Promise.race([
      call(`${server.url}/decode`, 'POST', {}, body([])),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the fifth request waited')), 2000).unref()),
    ]);
    expect(fifth.status).toBe(503);
    expect(fifth.headers['retry-after']).toBe('1');
    release();
    expect((await Promise.all(stalled)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await call(`${server.url}/decode`, 'POST', {}, body([]))).status).toBe(200);
  });

  test('an upload abandoned halfway gives its slot back', async () => {
    const server = await start({ maxConcurrentRequests: 1 });
    const socket = net.connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /decode HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"payl');
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await call(`${server.url}/decode`, 'POST', {}, body([]))).status).toBe(200);
  });

  test('malformed bodies are 400, and the server keeps serving', async () => {
    const server = await start();
    for (const text of [
      '[]',
      '[{"data": "AA=="}]',
      'null',
      '{"payloads": [null]}',
      '\u0000\u00ff',
      '{"payloads":'.repeat(5000),
    ]) {
      const reply = await call(`${server.url}/decode`, 'POST', {}, text);
      expect({ text: text.slice(0, 20), status: reply.status }).toEqual({ text: text.slice(0, 20), status: 400 });
    }
    expect((await call(`${server.url}/health`, 'GET')).status).toBe(200);
  });

  test('a gzip bomb sent to /decode comes back as the marker, not a 256 MiB answer', async () => {
    const server = await start();
    const bomb = zlib.gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    const payload = { metadata: { encoding: Buffer.from(GZIP_ENCODING) }, data: bomb };
    const reply = await call(`${server.url}/decode`, 'POST', {}, body([payload]));
    expect(reply.status).toBe(200);
    const [decoded] = JSON.parse(reply.body).payloads as JsonPayload[];
    expect(Buffer.from(decoded.data!, 'base64').toString()).toMatch(/"undecodablePayload":"gzip payload refused/);
  });
});

describe('codec server with a key: payloads bound to workflows', () => {
  const WORKFLOW = 'zendesk-export-acme';
  const context = { type: 'workflow', namespace: 'default', workflowId: WORKFLOW } as const;
  const encryption = new EncryptionCodec({ current: encryptionKey(randomBytes(32)) });
  let dir: string;
  let store: SqliteBlobStore;
  let server: CodecServer;

  async function transcode(op: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> {
    const reply = await call(`${server.url}/${op}`, 'POST', {}, JSON.stringify({ payloads: payloads.map(toJson) }));
    expect(reply.status).toBe(200);
    return (JSON.parse(reply.body) as { payloads: JsonPayload[] }).payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      data: Buffer.from(p.data ?? '', 'base64'),
    }));
  }

  /** The worker's chain, run as the SDK runs it for the workflow: with its context. */
  async function workerChain(op: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> {
    const codecs = createDataConverter(store, encryption).payloadCodecs!;
    let result = payloads;
    for (const codec of op === 'encode' ? codecs : [...codecs].reverse()) result = await codec[op](result, context);
    return result;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-codec-bound-'));
    store = new SqliteBlobStore(path.join(dir, 'tickets.db'));
    server = await startCodecServer({ codecs: createDataConverter(store, encryption.withMarkers()).payloadCodecs! });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the Web UI, which sends no workflow, sees bound payloads decrypted and plaintext ones as they are', async () => {
    const ticket = defaultPayloadConverter.toPayload({ id: 42, subject: 'Refund' });
    const bound = await workerChain('encode', [ticket]);
    expect(Buffer.from(bound[0].metadata!['encryption-workflow-id']).toString()).toBe(WORKFLOW);
    expect(await transcode('decode', bound)).toEqual([toPayloadShape(ticket)]);
    const plain = defaultPayloadConverter.toPayload({ startTime: 0 });
    expect(await transcode('decode', [plain])).toEqual([toPayloadShape(plain)]);
  });

  test('its /encode binds to no workflow (it is given none): a worker refuses such a payload', async () => {
    const [encoded] = await transcode('encode', [defaultPayloadConverter.toPayload({ startTime: 0 })]);
    expect(encoded.metadata!['encryption-workflow-id']).toBeUndefined();
    const [decoded] = await workerChain('decode', [encoded]);
    expect(undecodableReason(defaultPayloadConverter.fromPayload(decoded))).toMatch(
      new RegExp(`^an encrypted payload bound to no workflow, given to workflow ${WORKFLOW}: refused`),
    );
  });
});

/** A payload as it comes back from JSON: metadata and data as Buffers. */
function toPayloadShape(payload: Payload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
    data: Buffer.from(payload.data ?? []),
  };
}
