import { Payload, PayloadCodec } from '@temporalio/common';
import { JSONPayload, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { BlobStoreRefusedError, ClaimCheckCodec } from './claim-check';
import { isLoopbackHost } from '../common/loopback';

export interface CodecServerOptions {
  /** In data-converter order: encode runs them first to last, decode last to first. */
  codecs: PayloadCodec[];
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Exact origins allowed to call from a browser; default: any http://localhost:* and http://127.0.0.1:*. */
  allowedOrigins?: string[];
  /**
   * Required as `Authorization: Bearer <token>` on /encode and /decode, and required to listen anywhere but loopback.
   * Without it every caller is anonymous, and /encode never writes a claim-check blob.
   */
  token?: string;
  /** Listen off loopback without a token (CODEC_SERVER_UNAUTHENTICATED=allow): the caller vouches for the network. */
  allowUnauthenticated?: boolean;
  /** Larger request bodies get a 413, unread. */
  maxBodyBytes?: number;
  /** Requests past this many at once get a 503 with Retry-After. */
  maxConcurrentRequests?: number;
}

export interface CodecServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOCAL_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;
/** A history payload is at most 2 MiB, base64 in JSON about 2.7 MiB: 4 MiB carries the largest. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 4;
/** A slow client (one byte a minute) would otherwise hold one of the few request slots for good. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Both sides hashed first, so the comparison takes the same time whatever the lengths. */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given ?? ''), digest(token)) && given !== undefined;
}

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
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= maxBytes) return void chunks.push(chunk);
      // The rest is never read: the 413 goes out with Connection: close and the socket is closed after it.
      req.off('data', onData);
      req.pause();
      chunks.length = 0;
      reject(tooLarge());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // An aborted or timed-out upload: without this the request would hold its slot for good.
    req.on('close', () => reject(new HttpError(400, 'request body incomplete')));
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
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    (payloads !== undefined && !Array.isArray(payloads))
  ) {
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
 * `/{namespace}/decode` works too). It serves decoded ticket data: on loopback by default, anywhere else only with a
 * token. Bodies, concurrent requests and every decoded payload are bounded, so a hostile caller cannot sink the worker.
 */
export async function startCodecServer({
  codecs,
  port = 0,
  host = '127.0.0.1',
  allowedOrigins,
  token,
  allowUnauthenticated = false,
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
  maxConcurrentRequests = DEFAULT_MAX_CONCURRENT_REQUESTS,
}: CodecServerOptions): Promise<CodecServer> {
  if (!token && !isLoopbackHost(host) && !allowUnauthenticated) {
    throw new Error(
      `the codec endpoint serves decoded tickets: listening on ${host} requires a token (CODEC_SERVER_TOKEN)`,
    );
  }
  const originAllowed = (origin: string) =>
    allowedOrigins ? allowedOrigins.includes(origin) : LOCAL_ORIGIN.test(origin);
  // Anonymous callers (no token configured) may encode, but never fill the blob store.
  const anonymousEncoders = codecs.map((c) => (c instanceof ClaimCheckCodec ? c.withoutStoring() : c));
  let active = 0;

  function send(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8') {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** An answer before the body was read: the connection closes after it, so the rest of the body is never read. */
  function refuse(res: http.ServerResponse, status: number, body: string) {
    res.setHeader('Connection', 'close');
    send(res, status, body);
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
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return refuse(res, 401, 'a bearer token is required: Authorization: Bearer <CODEC_SERVER_TOKEN>');
    }
    if (active >= maxConcurrentRequests) {
      res.setHeader('Retry-After', '1');
      return refuse(res, 503, `busy: ${maxConcurrentRequests} requests in progress`);
    }
    active += 1;
    try {
      await transcode(req, res, endpoint, token !== undefined ? codecs : anonymousEncoders);
    } finally {
      active -= 1;
    }
  }

  async function transcode(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    op: 'encode' | 'decode',
    chain: PayloadCodec[],
  ): Promise<void> {
    let payloads: Payload[];
    try {
      payloads = parsePayloads(await readBody(req, maxBodyBytes));
    } catch (err) {
      if (err instanceof HttpError) return refuse(res, err.status, err.message);
      throw err;
    }
    let result: Payload[];
    try {
      result = await runCodecs(chain, op, payloads);
    } catch (err) {
      if (err instanceof BlobStoreRefusedError) return send(res, 403, `${err.message}: configure CODEC_SERVER_TOKEN`);
      return send(res, 500, `${op} failed: ${err instanceof Error ? err.message : String(err)}`);
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
  server.requestTimeout = REQUEST_TIMEOUT_MS;

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
