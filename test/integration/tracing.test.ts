import { Harness, secretsOf, spawnWorker, startHarness, waitFor, WorkerProcess } from '../helpers/harness';
import { OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver';

/*
 * OTEL_TRACES_EXPORTER=otlp: a worker process (the real dev server, the emulator) sends the spans of one page to a
 * local OTLP/HTTP receiver: fetchPage's, with the Zendesk call inside it as a child, and persist's, in one trace.
 */

describe('tracing (OTEL_TRACES_EXPORTER=otlp)', () => {
  let h: Harness | undefined;
  let worker: WorkerProcess | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await h?.close();
    await receiver?.close();
  });

  test('one page: spans for fetchPage (with its HTTP call) and persist reach the OTLP receiver', async () => {
    receiver = await startOtlpReceiver();
    const otlp = receiver;
    h = await startHarness({ worker: false, start: false, emulator: { ticketCount: 40, windowSeconds: 0 } });
    const harness = h;
    worker = spawnWorker(harness, {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'export-under-test',
    });
    const spawned = worker;
    await harness.startWorkflow();
    const found = await waitFor(
      'the spans of fetchPage, its HTTP call and persist',
      () => {
        if (spawned.child.exitCode !== null) throw new Error(`the worker exited:\n${spawned.output()}`);
        const spans = otlp.spans();
        const fetch = spans.find((s) => s.name === 'RunActivity:fetchPage');
        const call = fetch && spans.find((s) => s.parentSpanId === fetch.spanId && s.name.startsWith('GET /api/v2/'));
        const persist = spans.find((s) => s.name === 'RunActivity:persist' && s.traceId === fetch?.traceId);
        return fetch && call && persist ? { fetch, call, persist, spans } : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\nspans: ${[...new Set(otlp.spans().map((s) => s.name))].join(', ')}\nworker:\n${spawned.output()}`,
      );
    });
    expect(found.call.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
    // The workflow's side too: the span that scheduled fetchPage is its parent (the workflow's run span ends with the
    // run, which goes on: it is not exported yet).
    expect(found.spans.find((s) => s.spanId === found.fetch.parentSpanId)?.name).toBe('StartActivity:fetchPage');
    const everything = otlp.requests.map((r) => r.body.toString('utf8')).join('\n');
    for (const secret of secretsOf(harness.config.accounts[0].auth)) expect(everything).not.toContain(secret);
  }, 180_000);
});
