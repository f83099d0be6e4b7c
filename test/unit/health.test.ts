import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  cachedCheck,
  MetricsPortServer,
  readinessOf,
  startMetricsPort,
  workerReadiness,
  WorkerParts,
} from '../../src/health';
import { withTimeout } from '../../src/health/checks';
import { SqliteSink } from '../../src/storage/sqlite';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('cachedCheck', () => {
  test('reuses a result for its ttl, shares a probe in flight, and times a hung probe out', async () => {
    let clock = 0;
    let calls = 0;
    let answer: () => Promise<unknown> = async () => undefined;
    const check = cachedCheck(
      () => {
        calls++;
        return answer();
      },
      { ttlMs: 1000, timeoutMs: 50, now: () => clock },
    );
    expect(await Promise.all([check(), check()])).toEqual(['ok', 'ok']);
    expect(calls).toBe(1);
    answer = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432\n    at stack');
    };
    expect(await check()).toBe('ok'); // cached
    clock = 1000;
    expect(await check()).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    answer = () => new Promise(() => undefined);
    clock = 2000;
    expect(await check()).toBe('no answer within 0.05 s');
    expect(calls).toBe(3);
    // Named, a timeout says what did not end.
    await expect(withTimeout(() => new Promise(() => undefined), 20, 'the replay')).rejects.toThrow(
      'the replay did not end within 0.02 s',
    );
  });

  test('readiness: ready only when every check says ok', async () => {
    const ok = async () => 'ok';
    expect(await readinessOf({ a: ok, b: ok })()).toEqual({ ready: true, checks: { a: 'ok', b: 'ok' } });
    expect(await readinessOf({ a: ok, b: async () => 'down' })()).toEqual({
      ready: false,
      checks: { a: 'ok', b: 'down' },
    });
  });
});

describe('the metrics port', () => {
  let core: http.Server;
  let server: MetricsPortServer;
  let ready = true;
  const exposition = '# HELP temporal_x x\n# TYPE temporal_x counter\ntemporal_x{a="é"} 1\n';
  beforeAll(async () => {
    core = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(exposition);
    });
    await new Promise<void>((resolve) => core.listen(0, '127.0.0.1', () => resolve()));
    server = await startMetricsPort({
      host: '127.0.0.1',
      port: 0,
      metricsUpstream: { host: '127.0.0.1', port: (core.address() as AddressInfo).port },
      readiness: async () => ({ ready, checks: { temporal: ready ? 'ok' : 'not connected yet', sink: 'ok' } }),
    });
  });
  afterAll(async () => {
    await server.close();
    await new Promise((resolve) => core.close(resolve));
  });

  test('/metrics relays Core exporter byte for byte, with its content type', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(exposition))).toBe(true);
  });

  test('/healthz, /readyz (200 or 503 with the checks), 404 and 405', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ live: true });
    let res = await fetch(`${server.url}/readyz`);
    expect([res.status, await res.json()]).toEqual([200, { ready: true, checks: { temporal: 'ok', sink: 'ok' } }]);
    ready = false;
    res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { temporal: 'not connected yet', sink: 'ok' } });
    expect((await fetch(`${server.url}/other`)).status).toBe(404);
    expect((await fetch(`${server.url}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  test('/metrics answers 502 when Core exporter is gone', async () => {
    const lost = await startMetricsPort({
      host: '127.0.0.1',
      port: 0,
      metricsUpstream: { host: '127.0.0.1', port: 1 },
      readiness: async () => ({ ready: true, checks: {} }),
    });
    try {
      expect((await fetch(`${lost.url}/metrics`)).status).toBe(502);
    } finally {
      await lost.close();
    }
  });
});

describe("the worker's readiness", () => {
  test('a part that is not there yet is said at once and not cached: the sink is ok as soon as it is open', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readiness-'));
    const parts: WorkerParts = {};
    const readiness = workerReadiness(parts, `sqlite:${path.join(dir, 'tickets.db')}`, { ttlMs: 60_000 });
    try {
      expect(await readiness()).toEqual({
        ready: false,
        checks: { worker: 'starting', temporal: 'not connected yet', sink: 'not open yet' },
      });
      parts.sink = new SqliteSink(path.join(dir, 'tickets.db'));
      expect((await readiness()).checks.sink).toBe('ok');
      // Once the sink is there its result is cached for the ttl (a probe of a database is not free): the file's loss
      // shows when the ttl ends.
      fs.rmSync(dir, { recursive: true });
      expect((await readiness()).checks.sink).toBe('ok');
    } finally {
      await parts.sink?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteSink.ping', () => {
  test('reads the file; fails once the file is gone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ping-'));
    const file = path.join(dir, 'tickets.db');
    const sink = new SqliteSink(file);
    try {
      await expect(sink.ping(1000)).resolves.toBeUndefined();
      fs.rmSync(dir, { recursive: true });
      await expect(sink.ping(1000)).rejects.toThrow();
    } finally {
      await sink.close();
    }
  });
});
