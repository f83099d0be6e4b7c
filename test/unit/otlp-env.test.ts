import { readTelemetrySettings } from '../../src/telemetry/otlp-env';

describe('the OTEL_* variables', () => {
  test('nothing set: no tracing, no OTLP metrics', () => {
    expect(readTelemetrySettings({}, false)).toEqual({ settings: {}, problems: [] });
  });

  test('traces: OTEL_TRACES_EXPORTER=otlp, the base endpoint with /v1/traces, headers and service name', () => {
    const { settings, problems } = readTelemetrySettings(
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%20b,tenant=t1',
        OTEL_SERVICE_NAME: 'export-eu',
      },
      true,
    );
    expect(problems).toEqual([]);
    expect(settings.traces).toEqual({
      url: 'http://collector:4318/v1/traces',
      headers: { 'x-api-key': 'a b', tenant: 't1' },
      serviceName: 'export-eu',
    });
    // METRICS_PORT is set: the metrics stay on Prometheus.
    expect(settings.metrics).toBeUndefined();
  });

  test('metrics: an endpoint without METRICS_PORT sends them over OTLP/HTTP; grpc on request', () => {
    expect(
      readTelemetrySettings(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRIC_EXPORT_INTERVAL: '5000' },
        false,
      ).settings.metrics,
    ).toEqual({ url: 'http://collector:4318/v1/metrics', headers: {}, protocol: 'http', intervalMs: 5000 });
    expect(
      readTelemetrySettings(
        { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        false,
      ).settings.metrics,
    ).toEqual({ url: 'http://collector:4317', headers: {}, protocol: 'grpc', intervalMs: 60000 });
  });

  test('every problem named, no header value quoted', () => {
    const { problems } = readTelemetrySettings(
      {
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'secret-without-key',
      },
      true,
    );
    expect(problems).toEqual([
      'OTEL_TRACES_EXPORTER: "zipkin" is not supported: otlp (OTLP/HTTP JSON) or none',
      expect.stringMatching(/^OTEL_METRICS_EXPORTER=otlp and METRICS_PORT: /),
    ]);
    const bad = readTelemetrySettings(
      { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'not a url', OTEL_EXPORTER_OTLP_HEADERS: 'secret-without-key' },
      false,
    ).problems;
    expect(bad).toEqual([
      'OTEL_EXPORTER_OTLP_HEADERS: each entry must be key=value, separated by commas',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "not a url" is not a URL (e.g. http://otel-collector:4318)',
    ]);
    expect(bad.join('\n')).not.toContain('secret');
  });
});
