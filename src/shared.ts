import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DEFAULT_TASK_QUEUE = 'zendesk-export';
export const WORKFLOW_TYPE = 'ticketExportWorkflow';

export const ZENDESK_ACCOUNT = defineSearchAttributeKey('ZendeskAccount', SearchAttributeType.KEYWORD);
export const ZENDESK_CURSOR = defineSearchAttributeKey('ZendeskCursor', SearchAttributeType.DATETIME);
export const ZENDESK_PAUSED = defineSearchAttributeKey('ZendeskPaused', SearchAttributeType.BOOL);
/** What the export is doing, coarsely, for list filters: one of EXPORT_STATES. */
export const ZENDESK_STATE = defineSearchAttributeKey('ZendeskState', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTE_KEYS = [ZENDESK_ACCOUNT, ZENDESK_CURSOR, ZENDESK_PAUSED, ZENDESK_STATE];
export const EXPORT_STATES = ['catching_up', 'caught_up', 'rate_limited', 'backoff', 'paused', 'blocked'] as const;
export type ExportStateName = (typeof EXPORT_STATES)[number];

export function workflowIdFor(account: string): string {
  return `zendesk-export-${account}`;
}

/** The account name: the subdomain, or host:port of the base URL when one is given. */
export function accountFor(options: { subdomain?: string; baseUrl?: string }): string {
  if (options.baseUrl) return new URL(options.baseUrl).host;
  if (options.subdomain) return options.subdomain;
  throw new Error('ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL is required');
}

/** ApplicationFailure types that the workflow tells apart. */
export const PERMANENT_FAILURE = 'ZendeskPermanentError';
export const TRANSIENT_FAILURE = 'ZendeskTransientError';
/** A staged page is gone from the blob store (purged, or never written there): the page is fetched again. */
export const STAGED_PAGE_GONE = 'StagedPageGone';

/**
 * The most tickets taken from one answer: ten times the 1000 Zendesk serves per page, room for a crowded second on a
 * time-based endpoint (which may hold more than per_page). More is a page-size problem, like an answer over the cap.
 */
export const MAX_PAGE_ROWS = 10_000;

/**
 * How far past Zendesk's own clock (its Date header) an end_time may lie before the answer is taken for a broken one
 * (decades away, or milliseconds). A nearer end_time is taken, but no cursor passes the answer's own time; a ticket is
 * held to the much tighter clock tolerance.
 */
export const MAX_AHEAD_OF_ZENDESK_SECONDS = 86_400;

/** A fetchPage retry inside the activity never waits longer than this: a longer wait is the workflow's durable one. */
export const MAX_ACTIVITY_RETRY_DELAY_MS = 30_000;

/** More tickets than this in a page's tail are not remembered: such a page is simply stored again. */
export const STORED_TAIL_MAX_TICKETS = 100;

/** The three Zendesk ticket exports: the specified one, time-based incremental, cursor-based incremental. */
export const EXPORT_APIS = ['exports', 'incremental', 'cursor'] as const;
export type ExportApi = (typeof EXPORT_APIS)[number];

/**
 * What a payload that cannot be decoded (bad JSON, an unknown encoding, corrupt gzip) becomes: a value the handlers
 * reject with its reason, instead of an error that would fail every workflow task from that signal on.
 */
export interface UndecodablePayload {
  undecodablePayload: string;
}

export function undecodablePayload(reason: string): UndecodablePayload {
  return { undecodablePayload: reason };
}

/** An error's message, also for errors from another realm (the workflow sandbox, a test VM), which fail instanceof. */
export function messageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err) return String(err.message);
  return String(err);
}

/** The reason a decoded value is the undecodable marker, or undefined when it is a real value. */
export function undecodableReason(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('undecodablePayload' in value)) return undefined;
  return String((value as UndecodablePayload).undecodablePayload);
}
