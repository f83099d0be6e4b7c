/**
 * The exporter's metric names: one prefix, counters ending in `_total`, the unit in the name. Plain values only: the
 * workflow bundles this module. docs/operations.md "Metrics" lists each with its type and labels, and
 * test/integration/metrics-docs.test.ts compares that table with a scrape.
 */
export const METRIC = {
  apiCalls: 'zendesk_export_api_calls_total',
  rateLimited: 'zendesk_export_rate_limited_total',
  retryAfterRequestedSeconds: 'zendesk_export_retry_after_requested_seconds_total',
  retryAfterWaitedSeconds: 'zendesk_export_retry_after_waited_seconds_total',
  pagesStored: 'zendesk_export_pages_stored_total',
  rowsStored: 'zendesk_export_rows_stored_total',
  rowsRejected: 'zendesk_export_rows_rejected_total',
  tokenRenewals: 'zendesk_export_token_renewals_total',
  lastSuccessTimestampSeconds: 'zendesk_export_last_success_timestamp_seconds',
  lagSeconds: 'zendesk_export_lag_seconds',
  blocked: 'zendesk_export_blocked',
} as const;

/** The `stream` label of the tickets stream (the other streams carry their own name). */
export const TICKETS_STREAM = 'tickets';
