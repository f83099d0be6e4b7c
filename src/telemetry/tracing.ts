import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { OtlpTarget } from './otlp-env';

/** Tracing while the worker runs: the SDK's plugin for the worker, and a flush at the end. */
export interface Tracing {
  /** The SDK's interceptors (workflow, activity, client) and the sink that exports the workflow's spans. */
  plugin: OpenTelemetryPlugin;
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Turns tracing on for this process: a tracer provider that sends OTLP/HTTP (JSON) to `target`, registered globally
 * with an AsyncLocalStorage context manager and the W3C trace-context propagator, so that a Zendesk call made inside an activity (src/zendesk/http-span.ts)
 * becomes a child of the activity's span. Workflow spans travel out of the sandbox through the plugin's sink.
 */
export function startTracing(
  target: OtlpTarget & { serviceName: string },
  spanProcessor: SpanProcessor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: target.url, headers: target.headers }),
    { scheduledDelayMillis: 1000 },
  ),
): Tracing {
  const resource = new Resource({ 'service.name': target.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  // The workflow puts its span's context in the activity's headers (W3C trace context); the activity reads it back.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const plugin = new OpenTelemetryPlugin({
    resource,
    spanProcessor,
    tracer: provider.getTracer('@temporalio/interceptors-opentelemetry'),
  });
  return {
    plugin,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
