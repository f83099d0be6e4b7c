import { catchUpPacing, defaultMinStartAgeSeconds, resolveSettings } from '../workflows/settings';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ConfigError, isZendeskHost, type ClientAccount, type TemporalSettings, type ZendeskSettings } from '../config';
import { errorMessage } from '../temporal/error-message';
import { ZendeskClient } from '../zendesk/client';
import { backfillEstimate, BackfillEstimate, formatBackfillEstimate, formatCountFailure } from './backfill-estimate';
import { withoutSecrets } from './without-secrets';
import { ensureSearchAttributes, hasStateAttribute, mayRegister, reportCheck } from '../temporal/search-attributes';
import { workflowIdFor, WORKFLOW_TYPE } from '../shared';
import { exportStartOptions } from '../temporal/start-options';
import type { ExportInput } from '../workflows/messages';
import type { StartOptions } from './commands';
import { CliIo, EXIT_BAD_INPUT, EXIT_OK, UsageError } from './io';
import { setStreamsUpdate } from '../workflows/messages';
import type { StreamName } from '../streams/names';

/** The options of the incremental endpoints, which the export endpoint does not take. */
const INCREMENTAL_ONLY: [keyof StartOptions, string][] = [
  ['requestsPerMinute', '--requests-per-minute'],
  ['perPage', '--per-page'],
  ['include', '--include'],
  ['excludeDeleted', '--exclude-deleted'],
];

/** The workflow input of `start` for one account: the account's defaults, overridden by the options given. */
export function exportInput(options: StartOptions, { account, exportDefaults: defaults }: ClientAccount): ExportInput {
  const api = options.api ?? defaults.api;
  const input: ExportInput = {
    account,
    api,
    defaultStartTime: defaults.startTime ?? 0,
    pollIntervalSeconds: options.pollInterval ?? defaults.pollIntervalSeconds,
    // The env default follows ZENDESK_EXPORT_API; an --api flag brings its own endpoint's default.
    minStartAgeSeconds:
      options.minStartAge ?? (api === defaults.api ? defaults.minStartAgeSeconds : defaultMinStartAgeSeconds(api)),
  };
  if (api === 'exports') {
    const misplaced = INCREMENTAL_ONLY.find(([key]) => options[key] !== undefined);
    if (misplaced) throw new UsageError(`${misplaced[1]} applies to --api incremental or cursor only`);
  } else {
    input.requestsPerMinute = options.requestsPerMinute ?? defaults.requestsPerMinute;
    input.perPage = options.perPage ?? defaults.perPage;
    if (options.include) input.include = options.include;
    if (options.excludeDeleted) input.excludeDeleted = true;
  }
  if (options.startTime !== undefined) input.startTime = options.startTime;
  if (options.pagesPerRun !== undefined) input.pagesPerRun = options.pagesPerRun;
  input.streams = options.streams ?? defaults.streams;
  if (input.streams.some((stream) => stream !== 'tickets')) {
    // The streams around the ticket pace through the incremental bucket whatever the tickets' endpoint.
    input.requestsPerMinute ??= options.requestsPerMinute ?? defaults.requestsPerMinute;
    input.perPage ??= options.perPage ?? defaults.perPage;
  }
  if (input.streams.includes('users')) {
    input.usersRequestsPerMinute = options.usersRequestsPerMinute ?? defaults.usersRequestsPerMinute;
  }
  if (input.streams.includes('reference_lists')) {
    input.accountRequestsPerMinute = options.accountRequestsPerMinute ?? defaults.accountRequestsPerMinute;
    input.referenceRefreshSeconds = options.referenceRefresh ?? defaults.referenceRefreshSeconds;
  }
  // Sent on ticket events, and on the tickets of the incremental endpoints (the specified one takes none).
  if (input.streams.includes('ticket_events') || (api !== 'exports' && input.streams.includes('tickets'))) {
    input.supportTypeScope = options.supportTypeScope ?? defaults.supportTypeScope;
  }
  if (options.streamStartTimes) {
    const notRead = Object.keys(options.streamStartTimes).filter((s) => !input.streams!.includes(s as StreamName));
    if (notRead.length) throw new UsageError(`--stream-start-times names ${notRead.join(', ')}, not in --streams`);
    input.streamStartTimes = options.streamStartTimes;
  }
  return input;
}

/**
 * `exports` chosen for an account at Zendesk (ZENDESK_EXPORT_API, the accounts file's `api` or `--api`; the default
 * there is `cursor`): one line with how long the back-fill of Zendesk's ticket count takes on it, and on the cursor
 * endpoint. The count is asked as `check` asks (the worker's credentials, timeouts and proxy). Information, never a
 * refusal: a count that fails is a one-line warning naming why, and the start goes ahead either way.
 */
export async function printBackfillEstimate(
  account: ClientAccount,
  input: ExportInput,
  options: StartOptions,
  zendeskSettings: () => ZendeskSettings[],
  io: CliIo,
): Promise<BackfillEstimate | undefined> {
  if (input.api !== 'exports' || !isZendeskHost(account.baseUrl)) return undefined;
  // Each endpoint's pace as the loop keeps it: this start's settings, and the same account read by cursor.
  const pace = {
    exports: catchUpPacing('exports', resolveSettings(input, 'exports').settings),
    cursor: catchUpPacing(
      'cursor',
      resolveSettings(exportInput({ ...options, api: 'cursor' }, account), 'cursor').settings,
    ),
  };
  let zendesk: ZendeskClient | undefined;
  try {
    const settings = zendeskSettings().find((s) => s.account === account.account);
    if (!settings) throw new Error(`no Zendesk settings for ${account.account}`);
    zendesk = new ZendeskClient(settings);
    const count = await zendesk.countTickets();
    const estimate = backfillEstimate({
      account: account.account,
      tickets: count.value,
      ticketsAtLeast: count.refreshedAt === null,
      ...pace,
    });
    io.out(formatBackfillEstimate(estimate));
    return estimate;
  } catch (err) {
    const reason =
      err instanceof ConfigError
        ? `the worker's Zendesk settings are not in this environment: ${err.problems.join('; ')}`
        : errorMessage(err);
    const blanked = withoutSecrets(zendesk ? zendesk.redact(reason) : reason, io.env);
    io.err(formatCountFailure(account.account, blanked.replace(/\s+/g, ' '), pace));
    return undefined;
  }
}

/**
 * The namespace's search attributes first, the missing ones registered where the server allows it. Returns the
 * inputs to start (without ZendeskState, the workflow does not upsert it), or undefined when none may start.
 */
export async function withSearchAttributes(
  connection: Connection,
  temporal: TemporalSettings,
  inputs: ExportInput[],
  io: CliIo,
): Promise<ExportInput[] | undefined> {
  const check = await ensureSearchAttributes(connection, {
    namespace: temporal.namespace,
    register: mayRegister(temporal),
  });
  const report = reportCheck(check);
  if (report.info) io.out(report.info);
  if (report.error) {
    io.err(report.error);
    return undefined;
  }
  if (report.warning) io.err(`Warning: ${report.warning}`);
  return hasStateAttribute(check) ? inputs : inputs.map((input) => ({ ...input, stateSearchAttribute: false }));
}

/**
 * Starts one account's export. One already running is reported, and is no failure (start is idempotent); when
 * `--streams` names other streams than it reads, they are changed, and every other stream keeps its cursor.
 */
export async function startExport(
  client: Client,
  input: ExportInput,
  taskQueue: string,
  io: CliIo,
  changeStreams = false,
): Promise<number> {
  const workflowId = workflowIdFor(input.account);
  try {
    await client.workflow.start(WORKFLOW_TYPE, {
      ...exportStartOptions(input, taskQueue),
      workflowIdConflictPolicy: 'FAIL',
    });
    io.out(`Started ${workflowId} on task queue ${taskQueue}.`);
    io.record?.({ account: input.account, workflowId, outcome: 'started', api: input.api, streams: input.streams });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    if (!changeStreams || !input.streams) {
      io.out(`${workflowId} is already running; nothing to do.`);
      io.record?.({ account: input.account, workflowId, outcome: 'already_running' });
      return EXIT_OK;
    }
    try {
      const streams = await client.workflow
        .getHandle(workflowId)
        .executeUpdate(setStreamsUpdate, { args: [{ streams: input.streams }] });
      io.out(`${workflowId} is already running; it now reads ${streams.join(', ')} (other cursors kept).`);
      io.record?.({ account: input.account, workflowId, outcome: 'streams_changed', streams });
    } catch (updateErr) {
      if (!(updateErr instanceof WorkflowUpdateFailedError)) throw updateErr;
      io.err(`streams not changed: ${updateErr.cause?.message ?? updateErr.message}`);
      return EXIT_BAD_INPUT;
    }
  }
  return EXIT_OK;
}
