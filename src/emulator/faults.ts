import * as http from 'node:http';
import { HTML_TYPE, JSON_TYPE, TEXT_TYPE, type Reply } from './http';
import { isStreamName, type StreamName } from '../streams/names';
import { EmulatorInputError } from './options';
import { RATE_LIMIT_ERROR, tooManyRequests } from './rate-limits';

/** Faults that any endpoint can answer with; `stream` keeps one for the next call of that stream. */
export type GeneralFaultSpec = (
  | { kind: 'status'; status: number; retryAfter?: string; body?: string; count?: number }
  | { kind: 'rateLimit'; retryAfter?: string | null; count?: number }
  | { kind: 'truncated'; count?: number }
  | { kind: 'reset'; count?: number }
  | { kind: 'slow'; delayMs: number; count?: number }
  | { kind: 'html200'; count?: number }
  | { kind: 'body'; body: string; contentType?: string; count?: number }
  /** A normal answer whose Date header says this (a broken proxy or server clock). */
  | { kind: 'date'; date: string; count?: number }
  /**
   * An error answer that quotes the request back, credentials and all: a proxy or web application firewall that
   * explains its refusal (the request body of POST /oauth/tokens; the method, path and Authorization header of a GET).
   */
  | { kind: 'echo'; status: number; count?: number }
) & { stream?: StreamName };

/** Faults of the streams around the ticket: each needs its stream's data or page rules. */
export type StreamFaultSpec =
  /** before answering, `size` rows more (new tickets' events, new organizations) at the call's start_time second */
  | { kind: 'sameSecondBurst'; stream: 'ticket_events' | 'organizations'; size: number; count?: number }
  /** the page ends at exactly per_page rows, even inside a second: a full page at one second comes back unchanged */
  | { kind: 'fullPageRepeats'; stream: 'ticket_events' | 'organizations'; count?: number }
  /** 504 for ticket events with include=comment_events and a per_page (1000 when absent) above perPageAbove */
  | { kind: 'commentEventsTimeout'; stream: 'ticket_events'; perPageAbove: number; count?: number }
  /** before answering, `size` events at the call's start_time second with an unknown child type and every via shape */
  | { kind: 'unusualEvents'; stream: 'ticket_events'; size: number; count?: number }
  /** `rows` metric events from before the start (start_time or page[after]) at the front of the page */
  | { kind: 'straddle'; stream: 'ticket_metric_events'; rows: number; count?: number };

export type FaultSpec = GeneralFaultSpec | StreamFaultSpec;

type Loosen<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> & Partial<Pick<T, K & keyof T>> : never;

/** A fault as callers write it: validation fills in a single-stream kind's stream and the defaults (size 1, rows 3). */
export type FaultSpecInput =
  | GeneralFaultSpec
  | Extract<StreamFaultSpec, { kind: 'sameSecondBurst' | 'fullPageRepeats' }>
  | Loosen<Extract<StreamFaultSpec, { kind: 'commentEventsTimeout' }>, 'stream'>
  | Loosen<Extract<StreamFaultSpec, { kind: 'unusualEvents' | 'straddle' }>, 'stream' | 'size' | 'rows'>;
export type FaultKind = FaultSpec['kind'];
export type StreamFaultKind = StreamFaultSpec['kind'];

const FAULT_KINDS: readonly FaultKind[] = [
  'status',
  'rateLimit',
  'truncated',
  'reset',
  'slow',
  'html200',
  'body',
  'date',
  'echo',
  'sameSecondBurst',
  'fullPageRepeats',
  'commentEventsTimeout',
  'unusualEvents',
  'straddle',
];

/** The streams each stream fault can target; the first is the default when there is only one. */
const STREAM_FAULT_STREAMS: Readonly<Record<StreamFaultKind, readonly StreamName[]>> = {
  sameSecondBurst: ['ticket_events', 'organizations'],
  fullPageRepeats: ['ticket_events', 'organizations'],
  commentEventsTimeout: ['ticket_events'],
  unusualEvents: ['ticket_events'],
  straddle: ['ticket_metric_events'],
};

export function isStreamFault(spec: FaultSpec): spec is StreamFaultSpec {
  return Object.hasOwn(STREAM_FAULT_STREAMS, spec.kind);
}

export function isGeneralFault(spec: FaultSpec): spec is GeneralFaultSpec {
  return !isStreamFault(spec);
}

/** What a call is, as far as choosing a queued fault goes. */
export interface FaultCall {
  stream: StreamName;
  perPage?: number;
  withComments?: boolean;
}

/** Whether a queued fault applies to this call: untargeted ones apply to any. */
export function faultFits(spec: FaultSpec, call: FaultCall): boolean {
  if (spec.stream !== undefined && spec.stream !== call.stream) return false;
  if (spec.kind === 'commentEventsTimeout')
    return call.withComments === true && (call.perPage ?? 1000) > spec.perPageAbove;
  return true;
}

function positiveIntOf(spec: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const value = spec[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new EmulatorInputError(`${where}.${key} must be a positive integer`);
  }
  return value;
}

function validateStreamFault(
  kind: StreamFaultKind,
  input: Record<string, unknown>,
  where: string,
  withCount: <T extends object>(spec: T) => T & { count?: number },
): StreamFaultSpec {
  const allowed = STREAM_FAULT_STREAMS[kind];
  const stream = input.stream ?? (allowed.length === 1 ? allowed[0] : undefined);
  if (typeof stream !== 'string' || !allowed.includes(stream as StreamName)) {
    throw new EmulatorInputError(`${where}.stream must be one of ${allowed.join(', ')} for ${kind}`);
  }
  switch (kind) {
    case 'sameSecondBurst':
      return withCount({ kind, stream: stream as 'ticket_events', size: positiveIntOf(input, 'size', where) });
    case 'fullPageRepeats':
      return withCount({ kind, stream: stream as 'ticket_events' });
    case 'commentEventsTimeout':
      return withCount({ kind, stream: 'ticket_events', perPageAbove: positiveIntOf(input, 'perPageAbove', where) });
    case 'unusualEvents':
      return withCount({ kind, stream: 'ticket_events', size: positiveIntOf(input, 'size', where, 1) });
    case 'straddle':
      return withCount({ kind, stream: 'ticket_metric_events', rows: positiveIntOf(input, 'rows', where, 3) });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(spec: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = spec[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EmulatorInputError(`${where}.${key} must be a string`);
  return value;
}

function statusOf(spec: Record<string, unknown>, where: string): number {
  const status = spec.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new EmulatorInputError(`${where}.status must be an HTTP status code (100-599)`);
  }
  return status;
}

/** Checks one fault spec (from the programmatic API or an HTTP body) and returns a normalized copy. */
export function validateFaultSpec(input: unknown, where = 'fault'): FaultSpec {
  if (!isRecord(input)) throw new EmulatorInputError(`${where} must be an object`);
  const kind = input.kind;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new EmulatorInputError(`${where}.kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  let count: number | undefined;
  if (input.count !== undefined) {
    if (typeof input.count !== 'number' || !Number.isInteger(input.count) || input.count < 1) {
      throw new EmulatorInputError(`${where}.count must be a positive integer`);
    }
    count = input.count;
  }
  const withCount = <T extends object>(spec: T): T & { count?: number } =>
    count === undefined ? spec : { ...spec, count };
  if (Object.hasOwn(STREAM_FAULT_STREAMS, kind)) {
    return validateStreamFault(kind as StreamFaultKind, input, where, withCount);
  }
  if (input.stream !== undefined && !isStreamName(input.stream)) {
    throw new EmulatorInputError(`${where}.stream must be a stream name (tickets, ${'ticket_events'}, users, ...)`);
  }
  const spec = validateGeneralFault(kind as GeneralFaultSpec['kind'], input, where, withCount);
  return input.stream === undefined ? spec : { ...spec, stream: input.stream as StreamName };
}

function validateGeneralFault(
  kind: GeneralFaultSpec['kind'],
  input: Record<string, unknown>,
  where: string,
  withCount: <T extends object>(spec: T) => T & { count?: number },
): GeneralFaultSpec {
  switch (kind) {
    case 'status': {
      const status = statusOf(input, where);
      const spec: GeneralFaultSpec = { kind: 'status', status };
      const retryAfter = optionalString(input, 'retryAfter', where);
      const body = optionalString(input, 'body', where);
      if (retryAfter !== undefined) spec.retryAfter = retryAfter;
      if (body !== undefined) spec.body = body;
      return withCount(spec);
    }
    case 'rateLimit': {
      const spec: GeneralFaultSpec = { kind: 'rateLimit' };
      if (input.retryAfter === null) spec.retryAfter = null;
      else {
        const retryAfter = optionalString(input, 'retryAfter', where);
        if (retryAfter !== undefined) spec.retryAfter = retryAfter;
      }
      return withCount(spec);
    }
    case 'slow': {
      const delayMs = input.delayMs;
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
        throw new EmulatorInputError(`${where}.delayMs must be a non-negative number`);
      }
      return withCount({ kind: 'slow', delayMs });
    }
    case 'body': {
      const body = input.body;
      if (typeof body !== 'string') throw new EmulatorInputError(`${where}.body must be a string`);
      const spec: GeneralFaultSpec = { kind: 'body', body };
      const contentType = optionalString(input, 'contentType', where);
      if (contentType !== undefined) spec.contentType = contentType;
      return withCount(spec);
    }
    case 'date': {
      const date = input.date;
      if (typeof date !== 'string' || date === '') throw new EmulatorInputError(`${where}.date must be a string`);
      return withCount({ kind: 'date', date });
    }
    case 'echo':
      return withCount({ kind: 'echo', status: statusOf(input, where) });
    case 'truncated':
    case 'reset':
    case 'html200':
      return withCount({ kind: kind as 'truncated' | 'reset' | 'html200' });
  }
}

export function validateFaultSpecs(input: unknown): FaultSpec[] {
  if (!Array.isArray(input)) throw new EmulatorInputError('faults must be an array');
  return input.map((spec, i) => validateFaultSpec(spec, `faults[${i}]`));
}

/** FIFO of faults; each consumed call takes one unit of the head entry's count. */
export class FaultQueue {
  private readonly queue: Array<{ spec: FaultSpec; remaining: number }> = [];

  push(specs: readonly FaultSpecInput[]): void {
    for (const spec of validateFaultSpecs(specs)) {
      this.queue.push({ spec, remaining: spec.count ?? 1 });
    }
  }

  /** The first queued fault that `fits` the call (by default the head), one unit of its count used up. */
  take<S extends FaultSpec>(fits: (spec: FaultSpec) => spec is S): S | undefined;
  take(fits?: (spec: FaultSpec) => boolean): FaultSpec | undefined;
  take(fits: (spec: FaultSpec) => boolean = () => true): FaultSpec | undefined {
    const at = this.queue.findIndex((entry) => fits(entry.spec));
    if (at < 0) return undefined;
    const entry = this.queue[at];
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.queue.splice(at, 1);
    return entry.spec;
  }

  clear(): void {
    this.queue.length = 0;
  }

  get pending(): number {
    return this.queue.reduce((sum, entry) => sum + entry.remaining, 0);
  }
}

/**
 * When a Retry-After value expires, in ms since the epoch. Accepts delta-seconds, a comma-separated list of
 * seconds (the longest one counts, as a careful client would wait that long) or an HTTP date; undefined if
 * the value makes no sense.
 */
export function retryAfterExpiry(value: string, issuedAtMs: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\s*,\s*\d+)*$/.test(trimmed)) {
    const seconds = Math.max(...trimmed.split(',').map((part) => Number(part.trim())));
    return issuedAtMs + seconds * 1000;
  }
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? date : undefined;
}

const HTML_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>' +
  '<body><h1>We are experiencing technical difficulties</h1><p>Please try again in a few minutes.</p></body></html>\n';

/** How an endpoint's answers look, as far as a fault needs to know. */
export interface FaultTarget {
  /** the answer to a 401 status fault without a body of its own */
  unauthorized: { body: string; challenge?: string };
  /** the answer to a rateLimit fault; the Retry-After is `retryAfterSeconds` unless the fault says otherwise */
  rateLimit: { body: string; retryAfterSeconds: number };
  /** the answer without the fault (the truncated fault cuts its body in half) */
  whole(): Reply;
  /** the request as a proxy that quotes it would show it (the echo fault) */
  request: string;
}

/** What a fault does to one request. */
export type FaultPlan =
  /** this answer instead of the normal one */
  | { reply: Reply }
  /** drop the connection */
  | { reset: true }
  /** the normal answer, after a delay or with another Date header */
  | { delayMs: number }
  | { date: string };

export function planFault(fault: GeneralFaultSpec, target: FaultTarget): FaultPlan {
  switch (fault.kind) {
    case 'status':
      return { reply: statusFaultReply(fault, target.unauthorized) };
    case 'rateLimit': {
      const { body, retryAfterSeconds } = target.rateLimit;
      const retryAfter =
        fault.retryAfter === undefined ? String(Math.max(1, Math.ceil(retryAfterSeconds))) : fault.retryAfter;
      return { reply: tooManyRequests(body, retryAfter) };
    }
    case 'truncated': {
      const { status, body, headers } = target.whole();
      return { reply: { status, body: body.slice(0, Math.floor(body.length / 2)), headers } };
    }
    case 'reset':
      return { reset: true };
    case 'slow':
      return { delayMs: fault.delayMs };
    case 'date':
      return { date: fault.date };
    case 'html200':
      return { reply: { status: 200, body: HTML_ERROR_PAGE, headers: { 'Content-Type': HTML_TYPE } } };
    case 'body':
      return { reply: { status: 200, body: fault.body, headers: { 'Content-Type': fault.contentType ?? JSON_TYPE } } };
    case 'echo':
      return { reply: echoReply(fault.status, target.request) };
  }
}

/** A refusal in OAuth's error format whose description quotes the request, as some proxies and firewalls answer. */
function echoReply(status: number, request: string): Reply {
  const body = JSON.stringify({ error: 'request_rejected', error_description: `Blocked: ${request}` });
  return { status, body, headers: { 'Content-Type': JSON_TYPE } };
}

function statusFaultReply(
  fault: Extract<FaultSpec, { kind: 'status' }>,
  unauthorized: FaultTarget['unauthorized'],
): Reply {
  const body = fault.body ?? (fault.status === 401 ? unauthorized.body : defaultErrorBody(fault.status));
  const headers: Record<string, string> = {
    'Content-Type': fault.body === undefined || looksLikeJson(body) ? JSON_TYPE : TEXT_TYPE,
  };
  if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
  if (fault.status === 401 && unauthorized.challenge !== undefined) {
    headers['WWW-Authenticate'] = unauthorized.challenge;
  }
  return { status: fault.status, body, headers };
}

function looksLikeJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function defaultErrorBody(status: number): string {
  switch (status) {
    case 403:
      return JSON.stringify({
        error: 'Forbidden',
        description: 'You do not have access to this page. Please contact the account owner of this help desk.',
      });
    case 404:
      return JSON.stringify({ error: 'InvalidEndpoint', description: 'Not found' });
    case 429:
      return RATE_LIMIT_ERROR;
    default:
      return JSON.stringify({ error: http.STATUS_CODES[status] ?? 'Error' });
  }
}
