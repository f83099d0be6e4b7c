/** 401/403/404 and the like: retrying will not help until an operator fixes something. */
export class ZendeskPermanentError extends Error {
  constructor(
    message: string,
    public readonly status?: number,
  ) {
    super(message);
    this.name = 'ZendeskPermanentError';
  }
}

/** 5xx, timeouts, resets, unreadable bodies: worth retrying with backoff. */
export class ZendeskTransientError extends Error {
  constructor(
    message: string,
    public readonly status?: number,
    /** A server-provided delay (Retry-After on a 503), in seconds. */
    public readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ZendeskTransientError';
  }
}

/** An answer over the size cap: on the incremental endpoints a smaller per_page is the way out. */
export class ZendeskTooLargeError extends ZendeskTransientError {
  constructor(message: string) {
    super(message);
    this.name = 'ZendeskTooLargeError';
  }
}
