// A log call's metadata made safe for one JSON line: plain values only, every string redacted.

export type Redact = (text: string) => string;

const MAX_DEPTH = 8;
const MAX_ARRAY_ITEMS = 100;

/**
 * The metadata's own string keys become the line's fields (symbol keys, such as the SDK's timestamp, are left to the
 * caller). Values the JSON encoder chokes on or would lose are turned into text: a BigInt, a circular reference, an
 * Error (name, message, stack and cause, redacted like any string), a byte array (its length only: it may be a
 * payload).
 */
export function logFields(meta: Record<string | symbol, unknown> | undefined, redact: Redact): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (!meta) return fields;
  const seen = new WeakSet<object>();
  for (const key of Object.keys(meta)) {
    const value = plain(meta[key], redact, seen, 0);
    if (value !== undefined) fields[redact(key)] = value;
  }
  return fields;
}

function plain(value: unknown, redact: Redact, seen: WeakSet<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return redact(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(object);
  try {
    if (value instanceof Error) return errorFields(value, redact, seen, depth);
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (value instanceof Map) return plain(Object.fromEntries(value), redact, seen, depth);
    if (value instanceof Set) return plain([...value], redact, seen, depth);
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ARRAY_ITEMS).map((item) => plain(item, redact, seen, depth + 1) ?? null);
      if (value.length > MAX_ARRAY_ITEMS) items.push(`[${value.length - MAX_ARRAY_ITEMS} more]`);
      return items;
    }
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(object)) {
      const converted = plain(child, redact, seen, depth + 1);
      if (converted !== undefined) out[redact(key)] = converted;
    }
    return out;
  } finally {
    // A value met twice side by side (not inside itself) is written twice: only a cycle is cut.
    seen.delete(object);
  }
}

function errorFields(err: Error, redact: Redact, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: redact(err.message) };
  if (err.stack) out.stack = redact(err.stack);
  // The SDK's failures carry their type and a cause (ApplicationFailure, ActivityFailure): kept, nothing else.
  const { type, cause } = err as { type?: unknown; cause?: unknown };
  if (typeof type === 'string') out.failureType = redact(type);
  if (cause !== undefined) out.cause = plain(cause, redact, seen, depth + 1);
  return out;
}
