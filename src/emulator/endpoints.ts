import type { TicketStore } from './data';
import type { Reply } from './http';
import type { ResolvedEmulatorOptions } from './options';

export const EXPORT_PATH = '/api/v2/exports/tickets.json';
export const SAMPLE_PATH = '/api/v2/exports/tickets/sample.json';
export const INCREMENTAL_PATH = '/api/v2/incremental/tickets.json';
export const CURSOR_PATH = '/api/v2/incremental/tickets/cursor.json';
export const OAUTH_TOKENS_PATH = '/oauth/tokens';

export type Endpoint = 'export' | 'sample' | 'incremental' | 'cursor';
/** Endpoints that share a rate limit (and a Retry-After in the stats) */
export type EndpointFamily = 'export' | 'sample' | 'incremental' | 'users_cursor' | 'account';

const ENDPOINT_PATHS: Readonly<Record<string, Endpoint>> = {
  [EXPORT_PATH]: 'export',
  [SAMPLE_PATH]: 'sample',
  [INCREMENTAL_PATH]: 'incremental',
  [CURSOR_PATH]: 'cursor',
};

/** The ticket endpoint served at this path, if any. */
export function endpointAt(path: string): Endpoint | undefined {
  return Object.hasOwn(ENDPOINT_PATHS, path) ? ENDPOINT_PATHS[path] : undefined;
}

export function familyOf(endpoint: Endpoint): EndpointFamily {
  return endpoint === 'cursor' ? 'incremental' : endpoint;
}

export function isIncremental(endpoint: Endpoint): endpoint is 'incremental' | 'cursor' {
  return endpoint === 'incremental' || endpoint === 'cursor';
}

/** A GET of one of the ticket endpoints. */
export interface TicketCall {
  endpoint: Endpoint;
  /** the start_time parameter, when it is a non-negative integer */
  startTime: number | null;
  params: URLSearchParams;
}

export function parseStartTime(raw: string | null): number | null {
  if (raw === null || !/^\d+$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : null;
}

/** What the ticket endpoints read; options are read at each call, as configure() changes them. */
export interface EndpointDeps {
  store: TicketStore;
  options: ResolvedEmulatorOptions;
  /** the emulator's origin, for next_page and after_url */
  url(): string;
  nowMs(): number;
}

/** One family of ticket endpoints, as the server drives it: after authentication and faults come these steps. */
export interface TicketEndpoints {
  /** The 429 when the family's rate limit refuses a call arriving at `nowMs`. */
  limited(call: TicketCall, nowMs: number): Reply | undefined;
  /** Parameter check, too-recent check, the page itself; a `counted` call counts against the rate limit. */
  answer(call: TicketCall, counted: boolean): Reply;
  /** The page a call would get (bad parameters get the first page), for the truncated fault. */
  whole(call: TicketCall): Reply;
  /** The body of a rateLimit fault's 429 and its Retry-After, unless the fault names one. */
  readonly rateLimit: { body: string; retryAfterSeconds: number };
}
