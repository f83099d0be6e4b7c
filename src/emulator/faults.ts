import * as http from 'node:http';
import { HTML_TYPE, JSON_TYPE, TEXT_TYPE, type Reply } from './http';
import { EmulatorInputError } from './options';
import { RATE_LIMIT_ERROR, tooManyRequests } from './rate-limits';

export type FaultSpec =
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
  | { kind: 'echo'; status: number; count?: number };

export type FaultKind = FaultSpec['kind'];

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
];

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

  switch (kind as FaultKind) {
    case 'status': {
      const status = statusOf(input, where);
      const spec: FaultSpec = { kind: 'status', status };
      const retryAfter = optionalString(input, 'retryAfter', where);
      const body = optionalString(input, 'body', where);
      if (retryAfter !== undefined) spec.retryAfter = retryAfter;
      if (body !== undefined) spec.body = body;
      return withCount(spec);
    }
    case 'rateLimit': {
      const spec: FaultSpec = { kind: 'rateLimit' };
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
      const spec: FaultSpec = { kind: 'body', body };
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

  push(specs: readonly FaultSpec[]): void {
    for (const spec of validateFaultSpecs(specs)) {
      this.queue.push({ spec, remaining: spec.count ?? 1 });
    }
  }

  take(): FaultSpec | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queue.shift();
    return head.spec;
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

export function planFault(fault: FaultSpec, target: FaultTarget): FaultPlan {
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
