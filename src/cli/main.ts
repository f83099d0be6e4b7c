import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowExecutionDescription,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import logUpdate from 'log-update';
import { parseArgs } from 'node:util';
import { createDataConverter } from '../codec/claim-check';
import { redactUrlSecrets } from '../redact-url';
import { encryptionCodecOf } from '../codec/encryption-keys';
import {
  apiTokenWarning,
  ClientAccount,
  ClientConfig,
  ConfigError,
  loadClientConfig,
  loadWorkerConfig,
  readDecimal,
  TemporalSettings,
  ZendeskSettings,
} from '../config';
import { errorMessage } from '../error-message';
import { ensureSearchAttributes, hasStateAttribute, mayRegister, reportCheck } from '../search-attributes';
import { EXPORT_APIS, ExportApi, workflowIdFor, WORKFLOW_TYPE } from '../shared';
import { describeAuth } from '../zendesk/auth';
import { ZendeskClient } from '../zendesk/client';
import { ZendeskPermanentError, ZendeskTransientError } from '../zendesk/errors';
import type { ExportInput, ExportStatus } from '../workflows/messages';
import { pauseSignal, pollNowSignal, resetCursorUpdate, resumeSignal, statusQuery } from '../workflows/messages';
import { clientConnectionOptions } from '../temporal-connection';
import { exportStartOptions } from '../start-options';
import { formatStatus, formatStatusTable, StatusRow, StatusView } from './format';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export class UsageError extends Error {}

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** `status --watch`: shows a frame in place of the previous one (a terminal); without it, frames are printed. */
  frame?: (text: string) => void;
  /** Resolves when the operator asks `--watch` to stop (Ctrl-C). */
  stopped?: Promise<void>;
}

const USAGE = `Usage: npm run client -- <command> [options]

Commands (each takes --account NAME when ZENDESK_ACCOUNTS_FILE lists more than one account;
          start, pause, resume, poll-now, status, check and stop also take --all):
  start [--api exports|incremental|cursor] [--start-time N] [--poll-interval S] [--min-start-age S]
        [--requests-per-minute N] [--per-page N] [--include a,b] [--exclude-deleted] [--pages-per-run N]
                          start the export (already running: reported, exit 0)
  pause                   stop calling Zendesk until resume
  resume                  continue after pause, or retry now after a blocking error
  poll-now                incremental endpoints: end the idle wait now (the rate limit still holds)
  reset --start-time N    move the cursor to epoch second N (prints the previous cursor)
  status [--json] [--watch [--interval S] [--frames N]]
                          where the export is, how far it has come and what it is waiting for (--all: one row per
                          account); --watch refreshes every S seconds (default 2) until Ctrl-C or N frames
  check                   how it signs in (an OAuth token obtained now), format, and which export endpoints answer
  stop                    cancel the export workflow (the sink keeps the checkpoint)

Exit codes: 0 ok, 1 the operation failed, 2 bad input.`;

type Options = Record<string, string | boolean | undefined>;

const COMMANDS: Record<string, { options: Record<string, { type: 'string' | 'boolean' }>; all?: boolean }> = {
  start: {
    options: {
      'start-time': { type: 'string' },
      'poll-interval': { type: 'string' },
      'min-start-age': { type: 'string' },
      'pages-per-run': { type: 'string' },
      api: { type: 'string' },
      'requests-per-minute': { type: 'string' },
      'per-page': { type: 'string' },
      include: { type: 'string' },
      'exclude-deleted': { type: 'boolean' },
    },
    all: true,
  },
  pause: { options: {}, all: true },
  'poll-now': { options: {}, all: true },
  resume: { options: {}, all: true },
  reset: { options: { 'start-time': { type: 'string' } } },
  status: {
    options: {
      json: { type: 'boolean' },
      watch: { type: 'boolean' },
      interval: { type: 'string' },
      frames: { type: 'string' },
    },
    all: true,
  },
  check: { options: {}, all: true },
  stop: { options: {}, all: true },
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    (command ? io.out : io.err)(USAGE);
    return command ? EXIT_OK : EXIT_BAD_INPUT;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    io.err(`Unknown command "${command}".\n\n${USAGE}`);
    return EXIT_BAD_INPUT;
  }
  let options: Options;
  try {
    const selection: Record<string, { type: 'string' | 'boolean' }> = { account: { type: 'string' } };
    if (spec.all) selection.all = { type: 'boolean' };
    options = parseArgs({
      args: rest,
      options: { ...spec.options, ...selection },
      strict: true,
      allowPositionals: false,
    }).values as Options;
  } catch (err) {
    io.err(`${command}: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_BAD_INPUT;
  }
  try {
    if (command === 'check') return await check(options, io);
    const config = loadClientConfig(io.env);
    const accounts = selectAccounts(config.accounts, options, config.accountsFile);
    let args = accounts.map((account) => commandArgs(command, options, account));
    const connection = await Connection.connect(clientConnectionOptions(config.temporal));
    try {
      const dataConverter = createDataConverter(undefined, encryptionCodecOf(config.encryption));
      const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
      if (command === 'status') return await status(accounts, options, client, io);
      if (command === 'start') {
        const inputs = await withSearchAttributes(connection, config.temporal, args as ExportInput[], io);
        if (!inputs) return EXIT_BAD_INPUT;
        args = inputs;
      }
      let exitCode = EXIT_OK;
      for (const [i, account] of accounts.entries()) {
        try {
          exitCode = Math.max(exitCode, await execute(command, args[i], account, config, client, io));
        } catch (err) {
          if (accounts.length === 1 || !(err instanceof WorkflowNotFoundError)) throw err;
          io.err(`${workflowIdFor(account.account)}: not running`);
          exitCode = EXIT_FAILED;
        }
      }
      return exitCode;
    } finally {
      await connection.close();
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.err(err.message);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof WorkflowNotFoundError) {
      io.err('No export is running for this account: start one with `npm run client -- start`.');
      return EXIT_FAILED;
    }
    io.err(`${command} failed: ${withoutSecrets(errorMessage(err), io.env)}`);
    return EXIT_FAILED;
  }
}

/**
 * start: the namespace's search attributes first, the missing ones registered where the server allows it. Returns
 * the inputs to start (without ZendeskState, the workflow does not upsert it), or undefined when none may start.
 */
async function withSearchAttributes(
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
 * A server's or proxy's error may echo what it was sent: the values of secret variables are blanked, and so are the
 * passwords of the URLs that may carry one (the sink, the proxy).
 */
export function withoutSecrets(text: string, env: CliIo['env']): string {
  const secrets = Object.entries(env)
    .filter(([name, value]) => /(_KEYS?|TOKEN|SECRET|PASSWORD)$/.test(name) && value && value.trim().length >= 4)
    .flatMap(([, value]) => value!.split(',').map((part) => part.trim()))
    .filter((secret) => secret.length >= 4);
  const blanked = secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return [env.SINK_URL, env.ZENDESK_HTTPS_PROXY]
    .filter((url): url is string => Boolean(url?.trim()))
    .reduce((out, url) => redactUrlSecrets(out, url.trim()), blanked);
}

function wholeNumber(name: string, raw: string | boolean | undefined, { min, max }: { min: number; max?: number }) {
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim())) {
    throw new UsageError(`--${name} must be a whole number, got ${raw === undefined ? 'nothing' : `"${raw}"`}`);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
    throw new UsageError(`--${name} must be between ${min} and ${max ?? 'any'}, got ${raw}`);
  }
  return n;
}

/** A decimal number as the environment accepts it: `0x10`, `1e1` or an empty string are not numbers here. */
function decimal(name: string, raw: string | boolean | undefined, min: number, unit = 'seconds'): number {
  const n = readDecimal(typeof raw === 'string' ? raw.trim() : '', min);
  if (n === undefined) throw new UsageError(`--${name} must be a number of ${unit} >= ${min}, got "${raw}"`);
  return n;
}

/** The accounts a command applies to: --account NAME, --all, or the only one there is. */
function selectAccounts<T extends { account: string }>(accounts: T[], options: Options, accountsFile?: string): T[] {
  const names = accounts.map((a) => a.account).join(', ');
  if (options.all && options.account !== undefined) throw new UsageError('--account and --all: give one or the other');
  if (options.all) return accounts;
  if (typeof options.account === 'string') {
    const chosen = accounts.find((a) => a.account === options.account);
    if (!chosen) {
      const source = accountsFile ? `ZENDESK_ACCOUNTS_FILE (${accountsFile})` : 'ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL';
      throw new UsageError(`--account "${options.account}" is not an account of ${source}; known: ${names}`);
    }
    return [chosen];
  }
  if (accounts.length > 1) {
    throw new UsageError(
      `ZENDESK_ACCOUNTS_FILE lists ${accounts.length} accounts (${names}): pass --account NAME or --all`,
    );
  }
  return accounts;
}

function commandArgs(command: string, options: Options, config: ClientAccount): ExportInput | number | undefined {
  const nowSeconds = Math.floor(Date.now() / 1000);
  if (command === 'reset') {
    if (options['start-time'] === undefined) throw new UsageError('reset: --start-time N is required (epoch seconds)');
    return wholeNumber('start-time', options['start-time'], { min: 0, max: nowSeconds });
  }
  if (command !== 'start') return undefined;
  const defaults = config.exportDefaults;
  let api = defaults.api;
  if (options.api !== undefined) {
    if (!EXPORT_APIS.includes(options.api as ExportApi)) {
      throw new UsageError(`--api must be one of ${EXPORT_APIS.join(', ')}, got "${options.api}"`);
    }
    api = options.api as ExportApi;
  }
  const input: ExportInput = {
    account: config.account,
    api,
    defaultStartTime: defaults.startTime ?? 0,
    pollIntervalSeconds: defaults.pollIntervalSeconds,
    // The env default follows ZENDESK_EXPORT_API; an --api flag brings its own endpoint's default.
    minStartAgeSeconds:
      options.api === undefined || api === defaults.api ? defaults.minStartAgeSeconds : api === 'exports' ? 300 : 60,
  };
  if (api !== 'exports') {
    input.requestsPerMinute = defaults.requestsPerMinute;
    input.perPage = defaults.perPage;
    if (options['requests-per-minute'] !== undefined) {
      input.requestsPerMinute = decimal(
        'requests-per-minute',
        options['requests-per-minute'],
        0.1,
        'requests per minute',
      );
    }
    if (options['per-page'] !== undefined) {
      input.perPage = wholeNumber('per-page', options['per-page'], { min: 1, max: 1000 });
    }
    if (typeof options.include === 'string') {
      input.include = options.include
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
    if (options['exclude-deleted']) input.excludeDeleted = true;
  } else {
    for (const flag of ['requests-per-minute', 'per-page', 'include', 'exclude-deleted']) {
      if (options[flag] !== undefined) throw new UsageError(`--${flag} applies to --api incremental or cursor only`);
    }
  }
  if (options['start-time'] !== undefined)
    input.startTime = wholeNumber('start-time', options['start-time'], { min: 0, max: nowSeconds });
  if (options['poll-interval'] !== undefined)
    input.pollIntervalSeconds = decimal('poll-interval', options['poll-interval'], 0.1);
  if (options['min-start-age'] !== undefined)
    input.minStartAgeSeconds = decimal('min-start-age', options['min-start-age'], 0);
  if (options['pages-per-run'] !== undefined)
    input.pagesPerRun = wholeNumber('pages-per-run', options['pages-per-run'], { min: 1 });
  return input;
}

async function execute(
  command: string,
  args: ExportInput | number | undefined,
  account: ClientAccount,
  config: ClientConfig,
  client: Client,
  io: CliIo,
): Promise<number> {
  const workflowId = workflowIdFor(account.account);
  const handle = client.workflow.getHandle(workflowId);
  switch (command) {
    case 'start': {
      try {
        await client.workflow.start(WORKFLOW_TYPE, {
          ...exportStartOptions(args as ExportInput, config.temporal.taskQueue),
          workflowIdConflictPolicy: 'FAIL',
        });
        io.out(`Started ${workflowId} on task queue ${config.temporal.taskQueue}.`);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        io.out(`${workflowId} is already running; nothing to do.`);
      }
      return EXIT_OK;
    }
    case 'pause':
      await handle.signal(pauseSignal);
      io.out(`Pause sent to ${workflowId}.`);
      return EXIT_OK;
    case 'resume':
      await handle.signal(resumeSignal);
      io.out(`Resume sent to ${workflowId}.`);
      return EXIT_OK;
    case 'poll-now':
      await handle.signal(pollNowSignal);
      io.out(`Poll-now sent to ${workflowId}.`);
      return EXIT_OK;
    case 'reset': {
      try {
        const result = await handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: args as number }] });
        io.out(`Cursor of ${workflowId} reset to ${result.cursor} (was ${result.previousCursor}).`);
        return EXIT_OK;
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          io.err(`reset rejected: ${err.cause?.message ?? err.message}`);
          return EXIT_BAD_INPUT;
        }
        throw err;
      }
    }
    case 'stop':
      await handle.cancel();
      io.out(`Cancellation requested for ${workflowId}; the sink keeps its checkpoint for the next start.`);
      return EXIT_OK;
  }
  throw new UsageError(`Unknown command "${command}"`);
}

/**
 * The workflow's status plus what only the server knows: an activity failing and waiting for its next attempt.
 * The workflow hears of a failure only when the retries are exhausted, so `lastError` alone stays empty meanwhile.
 */
function withRetry(status: ExportStatus, execution: WorkflowExecutionDescription): StatusView {
  const pending = execution.raw.pendingActivities?.find((a) => (a.attempt ?? 0) >= 2 && a.lastFailure?.message);
  if (!pending) return status;
  const nextAttemptMs = optionalTsToMs(pending.nextAttemptScheduleTime);
  return {
    ...status,
    retrying: {
      activity: pending.activityType?.name ?? 'activity',
      attempt: pending.attempt ?? 0,
      lastFailure: pending.lastFailure?.message ?? '',
      nextAttemptAt: nextAttemptMs === undefined ? null : new Date(nextAttemptMs).toISOString(),
    },
  };
}

/** `status`: once, or with --watch a frame every --interval seconds until stopped (or --frames N). */
async function status(accounts: ClientAccount[], options: Options, client: Client, io: CliIo): Promise<number> {
  const table = options.all === true || accounts.length > 1;
  const render = () => (table ? statusOfAll(accounts, options, client) : statusOfOne(accounts[0], options, client));
  if (!options.watch) {
    if (options.interval !== undefined || options.frames !== undefined) {
      throw new UsageError('--interval and --frames go with --watch');
    }
    const { text, exitCode, error } = await render();
    if (error) io.err(error);
    else io.out(text);
    return exitCode;
  }
  const intervalMs = decimal('interval', options.interval ?? '2', 0.5) * 1000;
  const frames = options.frames === undefined ? Infinity : wholeNumber('frames', options.frames, { min: 1 });
  let stop = false;
  void io.stopped?.then(() => (stop = true));
  let exitCode = EXIT_OK;
  for (let frame = 1; frame <= frames && !stop; frame++) {
    const result = await render();
    exitCode = result.exitCode;
    // With --json a stopped workflow is an object too ({ account, state }), so every line parses.
    if (options.json) io.out(JSON.stringify(JSON.parse(result.text)));
    else if (io.frame) io.frame(result.error ?? result.text);
    else io.out(`${result.error ?? result.text}\n`);
    if (frame < frames && !stop) {
      const pause = new Promise((resolve) => setTimeout(resolve, intervalMs));
      await (io.stopped ? Promise.race([pause, io.stopped]) : pause);
    }
  }
  return exitCode;
}

async function statusOfOne(
  { account }: ClientAccount,
  options: Options,
  client: Client,
): Promise<{ text: string; exitCode: number; error?: string }> {
  const workflowId = workflowIdFor(account);
  const handle = client.workflow.getHandle(workflowId);
  const execution = await handle.describe();
  if (execution.status.name !== 'RUNNING') {
    const error = `${workflowId} is not running (${execution.status.name.toLowerCase()}); start it with \`npm run client -- start\`.`;
    return {
      text: options.json ? JSON.stringify({ account, state: execution.status.name.toLowerCase() }) : error,
      exitCode: EXIT_FAILED,
      error,
    };
  }
  const view = withRetry(await handle.query(statusQuery), execution);
  return { text: options.json ? JSON.stringify(view, null, 2) : formatStatus(view), exitCode: EXIT_OK };
}

async function statusOfAll(
  accounts: ClientAccount[],
  options: Options,
  client: Client,
): Promise<{ text: string; exitCode: number; error?: string }> {
  const rows: StatusRow[] = await Promise.all(
    accounts.map(async ({ account }): Promise<StatusRow> => {
      const handle = client.workflow.getHandle(workflowIdFor(account));
      try {
        const execution = await handle.describe();
        if (execution.status.name !== 'RUNNING') return { account, state: execution.status.name.toLowerCase() };
        return { account, state: 'running', status: withRetry(await handle.query(statusQuery), execution) };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { account, state: 'not started' };
        throw err;
      }
    }),
  );
  return {
    text: options.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows),
    exitCode: rows.every((row) => row.status) ? EXIT_OK : EXIT_FAILED,
  };
}

async function check(options: Options, io: CliIo): Promise<number> {
  const config = loadWorkerConfig(io.env);
  const accounts = selectAccounts(config.accounts, options);
  let exitCode = EXIT_OK;
  for (const settings of accounts) {
    if (accounts.length > 1) io.out(`${settings.account}:`);
    exitCode = Math.max(exitCode, await checkAccount(settings, io));
  }
  return exitCode;
}

async function checkAccount(settings: ZendeskSettings, io: CliIo): Promise<number> {
  const zendesk = new ZendeskClient(settings);
  io.out(`  ${'auth'.padEnd(12)} ${describeAuth(settings.auth)}`);
  if (settings.auth.mode === 'api_token') io.out(`  ${'warning'.padEnd(12)} ${apiTokenWarning(settings.account)}`);
  if (settings.auth.mode === 'oauth_client_credentials') {
    // A token now: a wrong client, secret or scope shows here, before any export call.
    try {
      io.out(`  ${'token'.padEnd(12)} ${await zendesk.describeAuthentication()}`);
    } catch (err) {
      if (!(err instanceof ZendeskPermanentError || err instanceof ZendeskTransientError)) throw err;
      io.err(`check failed: no OAuth token: ${err.message}`);
      return EXIT_FAILED;
    }
  }
  const startTime = Math.floor(Date.now() / 1000) - 86400;
  const probes: [ExportApi | 'sample', () => Promise<{ kind: string; rows?: unknown[] }>][] = [
    ['sample', () => zendesk.fetchExportPage(startTime, 'sample')],
    ['cursor', () => zendesk.fetchCursorPage({ startTime, perPage: 1 })],
    ['incremental', () => zendesk.fetchTimeBasedPage({ startTime, perPage: 1 })],
  ];
  const answers: string[] = [];
  for (const [name, probe] of probes) {
    try {
      const outcome = await probe();
      answers.push(name);
      const detail =
        outcome.kind === 'page'
          ? `answered with ${outcome.rows?.length ?? 0} rows in the expected format`
          : `answered (${outcome.kind.replace('_', ' ')})`;
      io.out(`  ${name.padEnd(12)} ${detail}`);
    } catch (err) {
      if (err instanceof ZendeskPermanentError && (err.status === 401 || err.status === 403)) {
        io.err(`check failed: ${err.message}`);
        return EXIT_FAILED;
      }
      if (!(err instanceof ZendeskPermanentError || err instanceof ZendeskTransientError)) throw err;
      io.out(`  ${name.padEnd(12)} not available: ${err.message}`);
    }
  }
  if (answers.length === 0) {
    io.err(`check failed: ${zendesk.origin} answered none of the export endpoints`);
    return EXIT_FAILED;
  }
  const recommended = answers.includes('cursor')
    ? 'cursor'
    : answers.includes('incremental')
      ? 'incremental'
      : 'exports';
  io.out(`OK: ${zendesk.origin} accepted the credentials. Recommended: ZENDESK_EXPORT_API=${recommended}`);
  return EXIT_OK;
}

if (require.main === module) {
  // Only `--watch` turns Ctrl-C into "stop watching"; every other command keeps Node's default (exit at once).
  const stopped = process.argv.includes('--watch')
    ? new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))
    : undefined;
  runCli(process.argv.slice(2), {
    env: process.env,
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    // In a terminal, --watch redraws in place (log-update); piped, it prints each frame.
    ...(process.stdout.isTTY ? { frame: (text: string) => logUpdate(text) } : {}),
    stopped,
  })
    .then((code) => {
      logUpdate.done();
      process.exit(code);
    })
    .catch((err) => {
      console.error(err);
      process.exit(EXIT_FAILED);
    });
}
