import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readiness } from './readiness';

export interface MetricsPortOptions {
  host: string;
  port: number;
  /** Where Core's Prometheus exporter listens (a loopback port of this process): /metrics is its answer as is. */
  metricsUpstream: { host: string; port: number };
  readiness: () => Promise<Readiness>;
  /** A /metrics request Core's exporter did not answer; default: nothing. */
  onProxyError?: (err: Error) => void;
}

export interface MetricsPortServer {
  /** http://host:port, the port as bound. */
  url: string;
  close(): Promise<void>;
}

/**
 * The worker's METRICS_PORT: `/metrics` relayed from Core's exporter (status, content type and body unchanged),
 * `/healthz` (the process answers) and `/readyz` (200 or 503, with every check's result as JSON).
 */
export async function startMetricsPort(options: MetricsPortOptions): Promise<MetricsPortServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET only' }, { allow: 'GET' });
    switch (path) {
      case '/healthz':
        return send(res, 200, { live: true });
      case '/readyz':
        return void options.readiness().then(
          (readiness) => send(res, readiness.ready ? 200 : 503, readiness),
          (err: unknown) => send(res, 503, { ready: false, checks: { readiness: String(err) } }),
        );
      case '/metrics':
        return relayMetrics(req, res, options);
      default:
        return send(res, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
    }
  });
  // A probe that hangs up early must not take the worker down.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function relayMetrics(req: http.IncomingMessage, res: http.ServerResponse, options: MetricsPortOptions): void {
  const upstream = http.request(
    {
      ...options.metricsUpstream,
      path: '/metrics',
      method: req.method,
      // Whatever Prometheus asks for (e.g. an exposition format); compression stays off, so bytes pass as they are.
      headers: { ...(req.headers.accept && { accept: req.headers.accept }) },
      timeout: 10_000,
    },
    (answer) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const name of ['content-type', 'content-length', 'content-encoding']) {
        const value = answer.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('the metrics exporter did not answer within 10 s')));
  upstream.on('error', (err) => {
    options.onProxyError?.(err);
    if (res.headersSent) res.destroy(err);
    else send(res, 502, { error: `metrics exporter: ${err.message}` });
  });
  upstream.end();
}
