import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { SqliteBlobStore } from '../../src/codec/blob-store';
import { CLAIM_CHECK_ENCODING, createDataConverter } from '../../src/codec/claim-check';
import { CodecServer, startCodecServer } from '../../src/codec/codec-server';
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

describe('codec server', () => {
  let dir: string;
  let store: SqliteBlobStore;
  let server: CodecServer;

  async function post(endpoint: string, payloads: JsonPayload[], headers: Record<string, string> = {}) {
    const reply = await call(
      `${server.url}${endpoint}`,
      'POST',
      { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
      JSON.stringify({ payloads }),
    );
    return { ...reply, json: reply.status === 200 ? (JSON.parse(reply.body) as { payloads: JsonPayload[] }) : null };
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-codec-server-'));
    store = new SqliteBlobStore(path.join(dir, 'tickets.db'));
    server = await startCodecServer({ codecs: createDataConverter(store).payloadCodecs! });
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
    const reply = await call(`${server.url}/decode`, 'POST', { 'Content-Type': 'application/json' }, '{"payloads": [');
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(/^invalid JSON/);

    const notPayloads = await call(`${server.url}/decode`, 'POST', {}, '{"payloads": {"data": "AA=="}}');
    expect(notPayloads.status).toBe(400);
    expect(notPayloads.body).toMatch(/payloads/);

    const badBytes = await call(`${server.url}/decode`, 'POST', {}, '{"payloads": [{"data": 42}]}');
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
    expect((await call(`${server.url}/nope`, 'POST', {}, '{}')).status).toBe(404);
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
