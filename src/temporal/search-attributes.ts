import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { temporal } from '@temporalio/proto';
import { errorMessage } from './error-message';
import { SEARCH_ATTRIBUTE_KEYS, ZENDESK_STATE } from '../shared';
import { isLoopback } from '../config/temporal-connection';

type Key = SearchAttributeKey<SearchAttributeType>;

/** Without these the export does not run; ZendeskState came later, and a namespace without it still exports. */
const REQUIRED: Key[] = SEARCH_ATTRIBUTE_KEYS.filter((key) => key !== ZENDESK_STATE);

// gRPC status codes of a server that does not let this client read search attributes.
const PERMISSION_DENIED = 7;
const UNIMPLEMENTED = 12;

const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export interface SearchAttributeOptions {
  namespace: string;
  /** Add the missing ones to the namespace (a dev server allows it; a cluster or Temporal Cloud usually not). */
  register: boolean;
  /** How long an added attribute may take to show in the namespace (default 10 s). */
  visibleWithinMs?: number;
}

export interface SearchAttributeCheck {
  namespace: string;
  /** Added by this check. */
  registered: string[];
  /** Still missing, in SEARCH_ATTRIBUTE_KEYS order. */
  missing: Key[];
  /** Why the missing ones were not registered: registration is off, or the server refused. */
  notRegistered?: string;
  /** Why the namespace's search attributes could not be read: nothing is known about them then. */
  unreadable?: string;
}

/** Registration by default on a loopback server (a dev server) only; TEMPORAL_REGISTER_SEARCH_ATTRIBUTES overrides. */
export function mayRegister(settings: { address: string; registerSearchAttributes?: boolean }): boolean {
  return settings.registerSearchAttributes ?? isLoopback(settings.address);
}

/** The namespace's search attributes of this project, the missing ones registered when `register` allows it. */
export async function ensureSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  { namespace, register, visibleWithinMs = 10_000 }: SearchAttributeOptions,
): Promise<SearchAttributeCheck> {
  let missing: Key[];
  try {
    missing = await missingIn(connection, namespace);
  } catch (err) {
    if (isGrpcServiceError(err) && (err.code === PERMISSION_DENIED || err.code === UNIMPLEMENTED)) {
      return { namespace, registered: [], missing: [], unreadable: errorMessage(err) };
    }
    throw new Error(`cannot read the search attributes of namespace ${namespace}`, { cause: err });
  }
  if (missing.length === 0) return { namespace, registered: [], missing };
  if (!register) {
    const notRegistered =
      'registered automatically only on a loopback server or with TEMPORAL_REGISTER_SEARCH_ATTRIBUTES=true';
    return { namespace, registered: [], missing, notRegistered };
  }
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: indexedTypes(missing) });
    await untilVisible(connection, namespace, visibleWithinMs);
  } catch (err) {
    const stillMissing = await missingIn(connection, namespace);
    return {
      namespace,
      registered: [],
      missing: stillMissing,
      notRegistered: `registering failed: ${errorMessage(err)}`,
    };
  }
  return { namespace, registered: missing.map((key) => key.name), missing: [] };
}

async function missingIn(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<Key[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  return SEARCH_ATTRIBUTE_KEYS.filter((key) => !(key.name in (customAttributes ?? {})));
}

function indexedTypes(keys: Key[]): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(
    keys.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
  );
}

// A server may take a moment before an attribute added to a new namespace shows (and can be used).
async function untilVisible(connection: Pick<Connection, 'operatorService'>, namespace: string, withinMs: number) {
  const deadline = Date.now() + withinMs;
  while ((await missingIn(connection, namespace)).length > 0) {
    if (Date.now() > deadline) throw new Error(`added, but not listed after ${withinMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The Temporal CLI's name of a type: `Keyword`, `Datetime`, `Bool`, … */
export function cliTypeName(type: SearchAttributeType): string {
  return CLI_TYPE_NAMES[type];
}

export function createCommand(namespace: string, key: Key): string {
  return `temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type ${cliTypeName(key.type)}`;
}

/** Whether the workflow may upsert ZendeskState: false for a deployment that registered only the first three. */
export function hasStateAttribute(check: SearchAttributeCheck): boolean {
  return !check.missing.includes(ZENDESK_STATE);
}

export interface CheckReport {
  /** What was registered: for the log. */
  info?: string;
  /** The export cannot run: exit with this message. */
  error?: string;
  /** The export runs, with less: say so. */
  warning?: string;
}

/** What the operator reads about a check: the registered ones, and for the missing ones the commands to run. */
export function reportCheck(check: SearchAttributeCheck): CheckReport {
  const { namespace, registered, missing, notRegistered, unreadable } = check;
  const report: CheckReport = {};
  if (registered.length > 0) {
    report.info = `Registered the search attributes ${registered.join(', ')} in namespace ${namespace}.`;
  }
  if (unreadable) {
    report.warning =
      `Cannot read the search attributes of namespace ${namespace} (${unreadable}); going ahead as if ` +
      `${SEARCH_ATTRIBUTE_KEYS.map((key) => key.name).join(', ')} were registered.`;
  }
  const commands = missing.map((key) => `\n  ${createCommand(namespace, key)}`).join('');
  if (missing.some((key) => REQUIRED.includes(key))) {
    report.error =
      `The namespace ${namespace} lacks the search attributes ${missing.map((key) => key.name).join(', ')} ` +
      `(${notRegistered}).\nThe export needs ${REQUIRED.map((key) => key.name).join(', ')}. ` +
      `Register the missing ones, then try again:${commands}`;
  } else if (missing.length > 0) {
    report.warning =
      `The namespace ${namespace} has no search attribute ZendeskState (${notRegistered}).\nThe export runs without ` +
      `it, but status filters by ZendeskState will not work until it is registered and the export started again ` +
      `(stop, then start):${commands}`;
  }
  return report;
}
