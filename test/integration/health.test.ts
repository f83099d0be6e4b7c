import { freePort } from '../../src/dev-server';
import { FreezableProxy, freezableProxy } from '../helpers/tcp';
import { Harness, spawnWorker, startHarness, testEnv, waitFor, WorkerProcess } from '../helpers/harness';
import { testPostgresUrl } from '../helpers/prerequisites';

interface Probe {
  status: number;
  body: { ready?: boolean; live?: boolean; checks?: Record<string, string> };
}

/**
 * The worker process's METRICS_PORT: /healthz, /readyz and /metrics, with Temporal (the dev server) and the
 * PostgreSQL sink each behind a proxy the test cuts and restores.
 */
describe('health probes on METRICS_PORT', () => {
  let h: Harness | undefined;
  let worker: WorkerProcess | undefined;
  const proxies: FreezableProxy[] = [];
  afterEach(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    for (const proxy of proxies.splice(0)) await proxy.close();
    await h?.close();
  });

  test('/readyz turns unready when Temporal or the sink goes away, and ready again when it returns', async () => {
    h = await startHarness({ worker: false, sink: 'postgres', emulator: { ticketCount: 300 } });
    const [host, port] = testEnv().address.split(':');
    const temporal = await freezableProxy({ host, port: Number(port) });
    const postgres = new URL(testPostgresUrl());
    const sink = await freezableProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    proxies.push(temporal, sink);
    const sinkUrl = new URL(postgres);
    sinkUrl.hostname = '127.0.0.1';
    sinkUrl.port = String(sink.port);
    const metricsPort = await freePort();
    worker = spawnWorker(h, {
      TEMPORAL_ADDRESS: `127.0.0.1:${temporal.port}`,
      SINK_URL: sinkUrl.toString(),
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
    });
    const base = `http://127.0.0.1:${metricsPort}`;
    const probe = async (path: string): Promise<Probe> => {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
      return { status: res.status, body: (await res.json()) as Probe['body'] };
    };
    const live = async () => expect(await probe('/healthz')).toEqual({ status: 200, body: { live: true } });
    const readyzUntil = (what: string, ok: (p: Probe) => boolean, timeoutMs = 60_000) =>
      waitFor(
        what,
        async () => {
          const p = await probe('/readyz');
          return ok(p) ? p : undefined;
        },
        timeoutMs,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nworker: ${worker?.output()}`);
      });

    const ready = await readyzUntil('the worker ready', (p) => p.status === 200);
    expect(ready.body).toEqual({ ready: true, checks: { worker: 'ok', temporal: 'ok', sink: 'ok' } });
    await waitFor('the export to store tickets', async () => (await h!.sink.countTickets(h!.account)) > 0);
    await live();

    // /metrics: Core's exposition as it is, with the SDK's series.
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^# (HELP|TYPE) /m);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
    expect(text).toMatch(/^temporal_workflow_task_schedule_to_start_latency_bucket\{/m);

    // Temporal goes away: unready, naming temporal; the sink still fine; the process still live.
    temporal.cut();
    const noTemporal = await readyzUntil('unready without Temporal', (p) => p.status === 503);
    expect(noTemporal.body.ready).toBe(false);
    expect(noTemporal.body.checks?.temporal).not.toBe('ok');
    expect(noTemporal.body.checks?.sink).toBe('ok');
    await live();
    temporal.thaw();
    await readyzUntil('ready once Temporal is back', (p) => p.status === 200, 90_000);
    await live();

    // The sink goes away (connections reset): unready, naming the sink.
    sink.cut();
    const noSink = await readyzUntil('unready without the sink', (p) => p.status === 503);
    expect(noSink.body).toMatchObject({ ready: false, checks: { worker: 'ok', temporal: 'ok' } });
    expect(noSink.body.checks?.sink).not.toBe('ok');
    expect(noSink.body.checks?.sink).not.toContain(postgres.password || '\u0000');
    await live();
    sink.thaw();
    await readyzUntil('ready once the sink is back', (p) => p.status === 200);

    // The sink goes silent (a black hole, nothing refused): the probe's timeout says so.
    sink.freeze();
    const silentSink = await readyzUntil('unready with a silent sink', (p) => p.status === 503);
    expect(silentSink.body.checks?.sink).toMatch(/timeout|within/i);
    await live();
    sink.thaw();
    await readyzUntil('ready once the sink answers again', (p) => p.status === 200);

    // The worker still exports, and /metrics still serves after all that.
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);

    // SIGTERM: no longer ready while it drains, and a clean exit.
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 300_000);
});
