import { Payload, PayloadCodec } from '@temporalio/common';
import { JSONPayload, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils';
import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface CodecServerOptions {
  /** In data-converter order: encode runs them first to last, decode last to first. */
  codecs: PayloadCodec[];
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Exact origins allowed to call from a browser; default: any http://localhost:* and http://127.0.0.1:*. */
  allowedOrigins?: string[];
  maxBodyBytes?: number;
}

export interface CodecServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOCAL_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, `request body above ${maxBytes} bytes`);
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= maxBytes) return void chunks.push(chunk);
      // Stop buffering and let the rest drain so the 413 can still be delivered.
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The body is the proto3 JSON of temporal.api.common.v1.Payloads: bytes fields (data, metadata values) are base64. */
function parsePayloads(body: Buffer): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
  }
  const payloads = (parsed as { payloads?: unknown } | null)?.payloads;
  if (typeof parsed !== 'object' || parsed === null || (payloads !== undefined && !Array.isArray(payloads))) {
    throw new HttpError(400, 'expected a JSON object {"payloads": [...]}');
  }
  return ((payloads ?? []) as unknown[]).map((json, i) => {
    try {
      if (typeof json !== 'object' || json === null) throw new Error('not an object');
      return JSONToPayload(json as JSONPayload);
    } catch (err) {
      throw new HttpError(400, `invalid payload at index ${i}: ${(err as Error).message}`);
    }
  });
}

async function runCodecs(codecs: PayloadCodec[], op: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> {
  const ordered = op === 'encode' ? codecs : [...codecs].reverse();
  let result = payloads;
  for (const codec of ordered) result = await codec[op](result);
  return result;
}

/**
 * A remote codec endpoint for the Temporal Web UI and CLI (`--ui-codec-endpoint`, `--codec-endpoint`), following
 * the codec server protocol: POST .../encode and .../decode (only the last path segment counts, so
 * `/{namespace}/decode` works too). It serves decoded ticket data: keep it on loopback.
 */
export async function startCodecServer({
  codecs,
  port = 0,
  host = '127.0.0.1',
  allowedOrigins,
  maxBodyBytes = 64 * 1024 * 1024,
}: CodecServerOptions): Promise<CodecServer> {
  const originAllowed = (origin: string) =>
    allowedOrigins ? allowedOrigins.includes(origin) : LOCAL_ORIGIN.test(origin);

  function send(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8') {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (origin !== undefined) {
      // Browsers send Origin on every POST and preflight; a page from elsewhere gets nothing, which also stops
      // CSRF-style "simple" POSTs and DNS rebinding. CLI calls carry no Origin.
      if (!originAllowed(origin)) return send(res, 403, `origin ${origin} is not allowed`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }

    const pathname = new URL(req.url ?? '/', 'http://codec.invalid').pathname;
    const endpoint = pathname.split('/').filter(Boolean).pop() ?? '';
    if (endpoint === 'health' && pathname === '/health') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return send(res, 200, 'ok');
    }
    if (endpoint !== 'encode' && endpoint !== 'decode') return send(res, 404, `not found: ${pathname}`);
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');

    let payloads: Payload[];
    try {
      payloads = parsePayloads(await readBody(req, maxBodyBytes));
    } catch (err) {
      if (err instanceof HttpError) return send(res, err.status, err.message);
      throw err;
    }
    let result: Payload[];
    try {
      result = await runCodecs(codecs, endpoint, payloads);
    } catch (err) {
      return send(res, 500, `${endpoint} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    send(res, 200, JSON.stringify({ payloads: result.map(payloadToJSON) }), 'application/json');
  }

  function methodNotAllowed(res: http.ServerResponse, allow: string) {
    res.setHeader('Allow', `${allow}, OPTIONS`);
    send(res, 405, 'method not allowed');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else send(res, 500, err instanceof Error ? err.message : String(err));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
