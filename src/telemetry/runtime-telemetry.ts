import type { TelemetryOptions } from '@temporalio/worker';
import type { TelemetrySettings } from './otlp-env';

/**
 * The Runtime's metrics exporter: Prometheus on METRICS_PORT, or OTLP (Temporal Core has one exporter at a time), or
 * none. Prometheus keeps Core's defaults (no `_total` or unit suffix appended, durations in ms): the SDK's `temporal_*`
 * series keep their default names, and the exporter's names carry `_total` and `_seconds` themselves.
 */
export function runtimeTelemetry(
  prometheus: { host: string; port: number } | undefined,
  telemetry: TelemetrySettings | undefined,
): TelemetryOptions | undefined {
  if (prometheus) return { metrics: { prometheus: { bindAddress: `${prometheus.host}:${prometheus.port}` } } };
  const otlp = telemetry?.metrics;
  if (!otlp) return undefined;
  return {
    metrics: {
      otel: {
        url: otlp.url,
        http: otlp.protocol === 'http',
        headers: otlp.headers,
        metricsExportInterval: otlp.intervalMs,
      },
    },
  };
}

/** Where the metrics go, for the worker's start line (never a header). */
export function describeMetrics(
  prometheus: { host: string; port: number } | undefined,
  telemetry: TelemetrySettings | undefined,
): string {
  if (prometheus) return `http://${prometheus.host}:${prometheus.port}/metrics`;
  const otlp = telemetry?.metrics;
  return otlp ? `OTLP ${otlp.protocol === 'grpc' ? 'gRPC' : 'HTTP'} ${otlp.url} every ${otlp.intervalMs} ms` : 'off';
}
