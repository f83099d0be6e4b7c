import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One OTLP/HTTP export as received: its path (/v1/traces, /v1/metrics), content type and body. */
export interface OtlpRequest {
  path: string;
  contentType: string;
  body: Buffer;
}

/** A span of an OTLP/HTTP JSON export (the fields the tests read). */
export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

/** A local OTLP/HTTP receiver: answers 200 to every export and keeps it. */
export interface OtlpReceiver {
  url: string;
  requests: OtlpRequest[];
  /** Every span received as OTLP/HTTP JSON so far. */
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

interface JsonExport {
  resourceSpans?: {
    scopeSpans?: {
      spans?: (Omit<ReceivedSpan, 'attributes'> & { attributes?: { key: string; value: Record<string, unknown> }[] })[];
    }[];
  }[];
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: OtlpRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    spans() {
      return requests
        .filter((r) => r.path === '/v1/traces' && r.contentType.includes('json'))
        .flatMap((r) => (JSON.parse(r.body.toString('utf8')) as JsonExport).resourceSpans ?? [])
        .flatMap((rs) => rs.scopeSpans ?? [])
        .flatMap((ss) => ss.spans ?? [])
        .map((s) => ({
          name: s.name,
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId && { parentSpanId: s.parentSpanId }),
          attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]])),
        }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
