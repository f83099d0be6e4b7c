import type { Env } from '../config/values';

/** Where OTLP goes: a URL, and the headers to send with it (an API key of the collector, say). */
export interface OtlpTarget {
  url: string;
  headers: Record<string, string>;
}

/** The worker's OpenTelemetry settings, from the standard OTEL_* variables; both off unless asked for. */
export interface TelemetrySettings {
  /** OTLP/HTTP (JSON) traces of workflows, activities and Zendesk calls: OTEL_TRACES_EXPORTER=otlp. */
  traces?: OtlpTarget & { serviceName: string };
  /** The Runtime's metrics (SDK and exporter) over OTLP instead of Prometheus. */
  metrics?: OtlpTarget & { protocol: 'grpc' | 'http'; intervalMs: number };
}

const DEFAULT_HTTP_ENDPOINT = 'http://localhost:4318';
const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';
export const DEFAULT_SERVICE_NAME = 'zendesk-temporal-export';

/**
 * The OTEL_* variables of the OpenTelemetry specification that the worker honours, read into settings; every problem
 * is named (the worker's configuration error lists them with the others).
 *
 * - traces: OTEL_TRACES_EXPORTER (`otlp` | `none`, default none), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or
 *   OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`, OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, OTEL_SERVICE_NAME
 * - metrics: OTLP when OTEL_METRICS_EXPORTER=otlp, or when an OTLP endpoint is set and METRICS_PORT is not;
 *   OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (as is) or OTEL_EXPORTER_OTLP_ENDPOINT (+ `/v1/metrics` over HTTP),
 *   OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL (`http/protobuf`, default, or `grpc`), OTEL_EXPORTER_OTLP_(METRICS_)HEADERS,
 *   OTEL_METRIC_EXPORT_INTERVAL (ms, default 60000)
 */
export function readTelemetrySettings(
  env: Env,
  prometheus: boolean,
): { settings: TelemetrySettings; problems: string[] } {
  const problems: string[] = [];
  const settings: TelemetrySettings = {};
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };

  const tracesExporter = value('OTEL_TRACES_EXPORTER')?.toLowerCase() ?? 'none';
  if (tracesExporter === 'otlp') {
    const url = signalUrl(
      value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
      value('OTEL_EXPORTER_OTLP_ENDPOINT'),
      '/v1/traces',
    );
    const headers = headersOf(
      value('OTEL_EXPORTER_OTLP_TRACES_HEADERS') ?? value('OTEL_EXPORTER_OTLP_HEADERS'),
      problems,
    );
    if (checkUrl(url, tracesUrlVariable(env), problems)) {
      settings.traces = { url, headers, serviceName: value('OTEL_SERVICE_NAME') ?? DEFAULT_SERVICE_NAME };
    }
  } else if (tracesExporter !== 'none') {
    problems.push(`OTEL_TRACES_EXPORTER: "${tracesExporter}" is not supported: otlp (OTLP/HTTP JSON) or none`);
  }

  const metricsExporter = value('OTEL_METRICS_EXPORTER')?.toLowerCase();
  const metricsEndpoint = value('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const endpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (metricsExporter !== undefined && !['otlp', 'prometheus', 'none'].includes(metricsExporter)) {
    problems.push(
      `OTEL_METRICS_EXPORTER: "${metricsExporter}" is not supported: otlp, prometheus (METRICS_PORT) or none`,
    );
  }
  const otlpMetrics =
    metricsExporter === 'otlp' || (metricsExporter === undefined && !prometheus && (metricsEndpoint ?? endpoint));
  if (otlpMetrics && prometheus) {
    problems.push(
      'OTEL_METRICS_EXPORTER=otlp and METRICS_PORT: the worker exports its metrics to one place (Temporal Core has ' +
        'one metrics exporter); unset one of them',
    );
  } else if (otlpMetrics) {
    const protocolText = (
      value('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') ?? value('OTEL_EXPORTER_OTLP_PROTOCOL')
    )?.toLowerCase();
    const protocol = protocolText === 'grpc' ? 'grpc' : 'http';
    if (protocolText !== undefined && !['grpc', 'http/protobuf'].includes(protocolText)) {
      problems.push(
        `OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL: "${protocolText}" is not supported for metrics: http/protobuf or grpc`,
      );
    }
    const url = metricsEndpoint
      ? metricsEndpoint
      : protocol === 'grpc'
        ? (endpoint ?? DEFAULT_GRPC_ENDPOINT)
        : signalUrl(undefined, endpoint, '/v1/metrics');
    const headers = headersOf(
      value('OTEL_EXPORTER_OTLP_METRICS_HEADERS') ?? value('OTEL_EXPORTER_OTLP_HEADERS'),
      problems,
    );
    const intervalText = value('OTEL_METRIC_EXPORT_INTERVAL') ?? '60000';
    const intervalMs = Number(intervalText);
    if (!Number.isInteger(intervalMs) || intervalMs < 100) {
      problems.push(`OTEL_METRIC_EXPORT_INTERVAL: "${intervalText}" is not a whole number of milliseconds ≥ 100`);
    }
    const variable = metricsEndpoint ? 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    if (checkUrl(url, variable, problems)) settings.metrics = { url, headers, protocol, intervalMs };
  }
  return { settings, problems };
}

function tracesUrlVariable(env: Env): string {
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
    ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    : 'OTEL_EXPORTER_OTLP_ENDPOINT';
}

/** The signal's own endpoint as is, else the base endpoint with the signal's path (the specification's rule). */
function signalUrl(own: string | undefined, base: string | undefined, path: string): string {
  if (own) return own;
  return `${(base ?? DEFAULT_HTTP_ENDPOINT).replace(/\/+$/, '')}${path}`;
}

function checkUrl(url: string, variable: string, problems: string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problems.push(`${variable}: "${url}" is not a URL (e.g. http://otel-collector:4318)`);
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    problems.push(`${variable}: "${url}" must be an http:// or https:// URL`);
    return false;
  }
  if (parsed.username || parsed.password) {
    problems.push(`${variable}: no credentials in the URL; send them in OTEL_EXPORTER_OTLP_HEADERS`);
    return false;
  }
  return true;
}

/** `key=value,key2=value2`, values URL-encoded (the specification's format). Values are never quoted in a problem. */
function headersOf(text: string | undefined, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!text) return headers;
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) {
      problems.push('OTEL_EXPORTER_OTLP_HEADERS: each entry must be key=value, separated by commas');
      continue;
    }
    try {
      headers[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      problems.push(`OTEL_EXPORTER_OTLP_HEADERS: the value of ${key} is not URL-encoded properly`);
    }
  }
  return headers;
}
