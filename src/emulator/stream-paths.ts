import { STREAM_PATHS, type AroundStream } from '../streams/names';
import type { LimitedBucket } from './buckets';

export const TICKET_EVENTS_PATH = STREAM_PATHS.ticket_events;
export const USERS_CURSOR_PATH = STREAM_PATHS.users;
/** The time-based users export (the exporter reads the cursor one). */
export const USERS_PATH = '/api/v2/incremental/users.json';
export const ORGANIZATIONS_PATH = STREAM_PATHS.organizations;
export const TICKET_METRIC_EVENTS_PATH = STREAM_PATHS.ticket_metric_events;

/** The endpoints of the streams around the ticket; `users` is the time-based users export. */
export type StreamEndpoint = 'ticket_events' | 'organizations' | 'users' | 'users_cursor' | 'ticket_metric_events';

const STREAM_ENDPOINT_PATHS: Readonly<Record<string, StreamEndpoint>> = {
  [TICKET_EVENTS_PATH]: 'ticket_events',
  [USERS_CURSOR_PATH]: 'users_cursor',
  [USERS_PATH]: 'users',
  [ORGANIZATIONS_PATH]: 'organizations',
  [TICKET_METRIC_EVENTS_PATH]: 'ticket_metric_events',
};

export const STREAM_ENDPOINT_PATH: Readonly<Record<StreamEndpoint, string>> = {
  ticket_events: TICKET_EVENTS_PATH,
  users_cursor: USERS_CURSOR_PATH,
  users: USERS_PATH,
  organizations: ORGANIZATIONS_PATH,
  ticket_metric_events: TICKET_METRIC_EVENTS_PATH,
};

export function streamEndpointAt(path: string): StreamEndpoint | undefined {
  return Object.hasOwn(STREAM_ENDPOINT_PATHS, path) ? STREAM_ENDPOINT_PATHS[path] : undefined;
}

export function streamOfEndpoint(endpoint: StreamEndpoint): AroundStream {
  return endpoint === 'users_cursor' ? 'users' : endpoint;
}

/** Only the users cursor export has a bucket of its own; the time-based users export is an incremental one. */
export function bucketOfEndpoint(endpoint: StreamEndpoint): LimitedBucket {
  return endpoint === 'users_cursor' ? 'users_cursor' : 'incremental';
}
