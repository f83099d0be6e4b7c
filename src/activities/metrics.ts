import { Context } from '@temporalio/activity';
import { METRIC, TICKETS_STREAM } from '../metrics/names';
import type { ExportApi } from '../shared';
import type { PagedStream } from '../streams/names';

/** The `stream` label: "tickets" for the tickets stream, else the stream's name. */
export type StreamLabel = typeof TICKETS_STREAM | PagedStream;

/**
 * The exporter's series set by activities, next to the SDK's on the worker's METRICS_PORT (or OTLP). Without a
 * metrics exporter (tests, METRICS_PORT unset) the meter is a no-op. Names and labels: src/metrics/names.ts and
 * docs/operations.md "Metrics". Units are in the names, so no unit is given to the SDK (it would add none anyway).
 */
export function activityMetrics() {
  const meter = Context.current().metricMeter;
  return {
    apiCall(account: string, stream: StreamLabel, endpoint: ExportApi | PagedStream, outcome: string) {
      meter
        .createCounter(METRIC.apiCalls, '', 'Zendesk API calls by endpoint and outcome')
        .add(1, { account, stream, endpoint, outcome });
    },
    rateLimited(account: string, stream: StreamLabel, retryAfterSeconds: number) {
      meter.createCounter(METRIC.rateLimited, '', '429 answers from Zendesk').add(1, { account, stream });
      meter
        .createCounter(METRIC.retryAfterRequestedSeconds, '', 'Seconds Zendesk asked to wait in Retry-After')
        .add(retryAfterSeconds, { account, stream });
    },
    /** A page fetched with a 200: the time, for "no success for too long" alerts. */
    pageFetched(account: string, stream: StreamLabel) {
      meter
        .createGauge(METRIC.lastSuccessTimestampSeconds, 'int', '', 'Epoch seconds of the last page fetched (200)')
        .set(Math.floor(Date.now() / 1000), { account, stream });
    },
    pageStored(account: string, stream: StreamLabel, rows: number) {
      meter.createCounter(METRIC.pagesStored, '', 'Pages written to the sink').add(1, { account, stream });
      meter.createCounter(METRIC.rowsStored, '', 'Rows written to the sink').add(rows, { account, stream });
    },
    /** Tickets into rejected_tickets, stream rows into rejected_rows. */
    rowsRejected(account: string, stream: StreamLabel, rows: number) {
      meter
        .createCounter(
          METRIC.rowsRejected,
          '',
          'Rows set aside (rejected_tickets, rejected_rows): refused by the database, or a value that cannot be true',
        )
        .add(rows, { account, stream });
    },
    tokenRenewals(account: string, outcome: 'ok' | 'failed', count: number) {
      meter
        .createCounter(METRIC.tokenRenewals, '', 'OAuth client-credentials token requests by outcome')
        .add(count, { account, outcome });
    },
  };
}
