import { SUPPORT_TYPE_SCOPES, type SupportTypeScope } from '../streams/names';
import type { SideloadName, StreamPosition } from './data';
import { parseStartTime, type Endpoint } from './endpoints';

const MAX_PER_PAGE = 1000;
const SIDELOAD_NAMES: readonly SideloadName[] = ['users', 'groups', 'organizations'];

/** The parameters of an incremental call. */
export interface IncrementalQuery {
  /** the start_time parameter; null on a cursor call */
  startTime: number | null;
  /** the page starts strictly after this position */
  from: StreamPosition;
  perPage: number;
  include: ReadonlySet<SideloadName>;
  excludeDeleted: boolean;
  /** support_type_scope as sent; null when absent (no ticket of the emulator is handled by an AI agent only) */
  scope: SupportTypeScope | null;
}

/** The query of a time-based call from the very start, with every parameter at its default. */
export const FIRST_PAGE_QUERY: Readonly<IncrementalQuery> = Object.freeze({
  startTime: 0,
  from: { gts: 0, id: 0 },
  perPage: MAX_PER_PAGE,
  include: new Set<SideloadName>(),
  excludeDeleted: false,
  scope: null,
});

/** A cursor names a position in the (generated_timestamp, id) order; clients treat it as opaque. */
export function encodeCursor(position: StreamPosition): string {
  return Buffer.from(JSON.stringify({ t: position.gts, i: position.id })).toString('base64url');
}

export function decodeCursor(cursor: string): StreamPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return undefined;
  const { t, i, ...rest } = decoded as Record<string, unknown>;
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!valid(t) || !valid(i) || Object.keys(rest).length > 0) return undefined;
  return { gts: t, id: i };
}

export function invalidValue(description: string): { error: string } {
  return { error: JSON.stringify({ error: 'InvalidValue', description }) };
}

/** support_type_scope as sent (null when absent), or the body of its 400 answer. */
export function parseSupportTypeScope(params: URLSearchParams): SupportTypeScope | null | { error: string } {
  const scope = params.get('support_type_scope');
  if (scope === null) return null;
  if ((SUPPORT_TYPE_SCOPES as readonly string[]).includes(scope)) return scope as SupportTypeScope;
  return invalidValue(`support_type_scope must be one of ${SUPPORT_TYPE_SCOPES.join(', ')}, got '${scope}'`);
}

/** The parameters of an incremental call, or the body of its 400 answer. */
export function parseIncrementalQuery(
  endpoint: Endpoint,
  params: URLSearchParams,
): IncrementalQuery | { error: string } {
  const rawPerPage = params.get('per_page');
  let perPage = MAX_PER_PAGE;
  if (rawPerPage !== null) {
    perPage = /^\d{1,4}$/.test(rawPerPage) ? Number(rawPerPage) : NaN;
    if (!(perPage >= 1 && perPage <= MAX_PER_PAGE)) {
      return invalidValue(`per_page must be an integer from 1 to ${MAX_PER_PAGE}, got '${rawPerPage}'`);
    }
  }
  const requested = (params.get('include') ?? '').split(',').map((name) => name.trim());
  const include = new Set(SIDELOAD_NAMES.filter((name) => requested.includes(name)));
  const excludeDeleted = params.get('exclude_deleted') === 'true';
  const scope = parseSupportTypeScope(params);
  if (scope !== null && typeof scope === 'object') return scope;

  const hasCursor = endpoint === 'cursor' && params.has('cursor');
  if (endpoint === 'cursor' && hasCursor === params.has('start_time')) {
    return invalidValue('exactly one of start_time and cursor is required');
  }
  if (hasCursor) {
    const from = decodeCursor(params.get('cursor') ?? '');
    if (!from) return { error: JSON.stringify({ error: 'InvalidCursor', description: 'cursor is not valid' }) };
    return { startTime: null, from, perPage, include, excludeDeleted, scope };
  }
  const startTime = parseStartTime(params.get('start_time'));
  if (startTime === null) return invalidValue('start_time is required and must be an integer');
  return { startTime, from: { gts: startTime, id: 0 }, perPage, include, excludeDeleted, scope };
}

/** The parameters after the position, as next_page and after_url repeat them. */
export function carriedParams(query: IncrementalQuery): string {
  let carried = `&per_page=${query.perPage}`;
  if (query.include.size > 0) carried += `&include=${[...query.include].join(',')}`;
  if (query.excludeDeleted) carried += '&exclude_deleted=true';
  if (query.scope !== null) carried += `&support_type_scope=${query.scope}`;
  return carried;
}
