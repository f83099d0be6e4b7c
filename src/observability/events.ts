// The `event` field of the log lines an operator acts on: stable names that alerts and log queries match, whatever the
// message's wording becomes. Pure constants: the workflow code imports them too. Listed in docs/operations.md#logs.

export const LOG_EVENTS = {
  /** A permanent error (401/403/404, invalid configuration) stopped the export, or one stream, until `resume`. */
  exportBlocked: 'export_blocked',
  /** Rows of a page set aside in rejected_tickets / rejected_rows (a value that cannot be true, or refused by the
   * database): the count, once the page is stored. */
  rowsRejected: 'rows_rejected',
  /** One row of those, in detail (the first three of a page, with the reason): a value that cannot be true. */
  rowSetAside: 'row_set_aside',
  /** An OAuth access token could not be renewed; the current one serves until it expires. */
  tokenRenewalFailed: 'token_renewal_failed',
  /** A payload is encrypted under a key this worker lacks: its workflow task fails until a worker with the key runs. */
  encryptionKeyMissing: 'encryption_key_missing',
  /** PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT let a plaintext or unbound payload through. */
  plaintextPayloadAccepted: 'plaintext_payload_accepted',
  /** Payload encryption is off, or plaintext payloads are accepted: tickets are readable in the history. */
  payloadEncryptionWeakened: 'payload_encryption_weakened',
  /** An account signs in with an API token, which Zendesk turns off on 2027-04-30. */
  apiTokenDeprecated: 'api_token_deprecated',
  /** The codec endpoint serves decoded tickets without a token. */
  codecServerUnauthenticated: 'codec_server_unauthenticated',
  /** Search attributes the namespace lacks: a command to register them, or the worker does not start. */
  searchAttributesMissing: 'search_attributes_missing',
  /** The hourly purge of expired payload blobs failed. */
  blobPurgeFailed: 'blob_purge_failed',
  /** A warning the export also shows in `status` (a crowded second skipped, a Retry-After capped, …). */
  exportWarning: 'export_warning',
  /** The worker stops on an error: the process exits non-zero. */
  workerFailed: 'worker_failed',
  /** The configuration is refused at start (exit code 2). */
  configInvalid: 'config_invalid',
} as const;

export type LogEvent = (typeof LOG_EVENTS)[keyof typeof LOG_EVENTS];

/** What a warning of the export adds to its log line. */
export interface WarningFields {
  event?: LogEvent;
  stream?: string;
  count?: number;
}
