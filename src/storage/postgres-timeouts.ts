/**
 * How long the sink and the blob store wait on PostgreSQL, in seconds (SINK_*_SECONDS; 0: no limit). Without them a
 * server that accepts TCP and never answers, a network black hole or a lock wait holds a pooled connection, and the
 * activity with it, until the worker restarts.
 */
export interface PostgresTimeouts {
  /** A new connection must be up (TCP, TLS, startup, authentication) within this. */
  connectSeconds: number;
  /**
   * PostgreSQL cancels a statement running longer (statement_timeout; a lock wait counts), and the client stops
   * waiting for an answer STATEMENT_GRACE_SECONDS later (a server or network that went silent).
   */
  statementSeconds: number;
  /** PostgreSQL ends a session left idle inside a transaction longer (idle_in_transaction_session_timeout). */
  idleInTransactionSeconds: number;
  /** TCP keep-alive probes start after the connection was idle this long (finds a peer that vanished). */
  keepAliveSeconds: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  connectSeconds: 10,
  statementSeconds: 60,
  idleInTransactionSeconds: 60,
  keepAliveSeconds: 30,
};

/** The client's own deadline on an answer comes this long after the server's statement timeout. */
export const STATEMENT_GRACE_SECONDS = 5;
