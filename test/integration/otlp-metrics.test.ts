import { Harness, spawnWorker, startHarness, waitFor, WorkerProcess } from '../helpers/harness';
import { OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver';

/*
 * OTEL_EXPORTER_OTLP_ENDPOINT without METRICS_PORT: the worker's metrics, the SDK's and the exporter's, reach a local
 * OTLP/HTTP (protobuf) receiver under the documented names. The protobuf is not decoded: a metric's name is a plain
 * UTF-8 string in it.
 */

describe('OTLP metrics', () => {
  let h: Harness | undefined;
  let worker: WorkerProcess | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await h?.close();
    await receiver?.close();
  });

  test('a short run: the exporter and SDK metrics arrive at /v1/metrics', async () => {
    receiver = await startOtlpReceiver();
    const otlp = receiver;
    h = await startHarness({ worker: false, start: false, emulator: { ticketCount: 40, windowSeconds: 0 } });
    const harness = h;
    worker = spawnWorker(harness, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_METRIC_EXPORT_INTERVAL: '500' });
    const spawned = worker;
    await harness.startWorkflow();
    await harness.waitForTruth(60_000);
    const names = [
      'zendesk_export_rows_stored_total',
      'zendesk_export_lag_seconds',
      'temporal_activity_execution_latency',
    ];
    const metrics = await waitFor(
      'the metrics at the receiver',
      () => {
        if (spawned.child.exitCode !== null) throw new Error(`the worker exited:\n${spawned.output()}`);
        const bodies = otlp.requests.filter((r) => r.body.length > 0);
        return names.every((n) => bodies.some((r) => r.body.includes(n))) ? bodies : undefined;
      },
      30_000,
    ).catch((err: Error) => {
      const seen = otlp.requests.map((r) => `${r.path} ${r.contentType} ${r.body.length} B`).join('\n');
      throw new Error(`${err.message}\nrequests:\n${seen}\nworker:\n${spawned.output()}`);
    });
    expect(new Set(metrics.map((r) => r.path))).toEqual(new Set(['/v1/metrics']));
    expect(metrics[0].contentType).toBe('application/x-protobuf');
  }, 120_000);
});
