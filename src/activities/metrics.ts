import { Context } from '@temporalio/activity';
import type { ExportApi } from '../shared';
import type { PagedStream } from '../streams/names';

/**
 * The exporter's own Prometheus series, next to the SDK's on the worker's METRICS_PORT. Without a metrics exporter
 * (tests, METRICS_PORT unset) the meter is a no-op.
 */
export function activityMetrics() {
  const meter = Context.current().metricMeter;
  return {
    apiCall(account: string, endpoint: ExportApi | PagedStream, outcome: string) {
      meter
        .createCounter('zendesk_api_calls', '', 'Zendesk export API calls by endpoint and outcome')
        .add(1, { account, endpoint, outcome });
    },
    rateLimited(account: string, retryAfterSeconds: number) {
      meter.createCounter('zendesk_rate_limited', '', '429 answers from Zendesk').add(1, { account });
      meter
        .createCounter('zendesk_retry_after_seconds', 's', 'Seconds Zendesk asked to wait in Retry-After')
        .add(retryAfterSeconds, { account });
    },
    pageStored(account: string, tickets: number) {
      meter.createCounter('zendesk_pages_stored', '', 'Pages written to the sink').add(1, { account });
      meter.createCounter('zendesk_tickets_stored', '', 'Ticket rows written to the sink').add(tickets, { account });
    },
    streamPageStored(account: string, stream: PagedStream, rows: number) {
      meter
        .createCounter('zendesk_stream_pages_stored', '', 'Stream pages written to the sink')
        .add(1, { account, stream });
      meter
        .createCounter('zendesk_stream_rows_stored', '', 'Rows of the streams around the ticket written to the sink')
        .add(rows, { account, stream });
    },
    streamRowsRejected(account: string, stream: PagedStream, rows: number) {
      meter
        .createCounter(
          'zendesk_stream_rows_rejected',
          '',
          'Stream rows set aside in rejected_rows: refused by the database, or with a value that cannot be true',
        )
        .add(rows, { account, stream });
    },
    ticketsRejected(account: string, tickets: number) {
      meter
        .createCounter(
          'zendesk_tickets_rejected',
          '',
          'Tickets set aside in rejected_tickets: refused by the database, or with a value that cannot be true',
        )
        .add(tickets, { account });
    },
  };
}
