export type FaultSpec =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string; count?: number }
  | { kind: 'rateLimit'; retryAfter?: string | null; count?: number }
  | { kind: 'truncated'; count?: number }
  | { kind: 'reset'; count?: number }
  | { kind: 'slow'; delayMs: number; count?: number }
  | { kind: 'html200'; count?: number }
  | { kind: 'body'; body: string; contentType?: string; count?: number }
  /** A normal answer whose Date header says this (a broken proxy or server clock). */
  | { kind: 'date'; date: string; count?: number };

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
];

/** Bad input from a caller of the emulator (HTTP test endpoints answer it with 400). */
export class EmulatorInputError extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(spec: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = spec[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EmulatorInputError(`${where}.${key} must be a string`);
  return value;
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
      const status = input.status;
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
        throw new EmulatorInputError(`${where}.status must be an HTTP status code (100-599)`);
      }
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
