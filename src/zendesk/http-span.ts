import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * One Zendesk call as an OpenTelemetry span, a child of the activity's span when tracing is on (src/telemetry/tracing.ts); without
 * a tracer provider the API hands out a no-op tracer and this costs nothing. Only the method, the origin, the path and
 * the status are recorded: never a header, never the query's values beyond the path's own.
 */
export async function inHttpSpan<T>(
  request: { method: string; origin: string; path: string },
  call: () => Promise<T>,
  statusOf: (result: T) => number,
): Promise<T> {
  const path = request.path.split('?')[0];
  return trace
    .getTracer('zendesk-temporal-export')
    .startActiveSpan(`${request.method} ${path}`, { kind: SpanKind.CLIENT }, async (span) => {
      span.setAttributes({
        'http.request.method': request.method,
        'server.address': new URL(request.origin).host,
        'url.path': path,
      });
      try {
        const result = await call();
        const status = statusOf(result);
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return result;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    });
}
