import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runCliCaptured } from '../helpers/cli';
import { ConfigError, loadClientConfig, loadWorkerConfig } from '../../src/config';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { workflowIdFor } from '../../src/shared';
import { STREAMS } from '../../src/streams/names';
import { fetchRunHistories, replayAll } from '../helpers/histories';
import { Harness, sleepMs, spawnWorkerProcess, startHarness, testEnv, waitFor } from '../helpers/harness';

type Env = Record<string, string>;

const COMMANDS = ['start', 'pause', 'resume', 'poll-now', 'reset', 'status', 'check', 'stop'] as const;
type Command = (typeof COMMANDS)[number];
/** Commands that take --all (every one but reset). */
const WITH_ALL: readonly Command[] = ['start', 'pause', 'resume', 'poll-now', 'status', 'check', 'stop'];

const cli = runCliCaptured;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
  throw new Error('expected a ConfigError');
}

/** Event types of the current run. */
async function currentEventTypes(h: Harness): Promise<string[]> {
  const history = await h.handle.fetchHistory();
  return (history.events ?? []).map((e) =>
    String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''),
  );
}

/** Event types of every run of a workflow, oldest first. */
async function eventTypes(h: Harness): Promise<string[]> {
  const histories = await fetchRunHistories(h.client, h.workflowId);
  return histories.flatMap(({ json }) => [...json.matchAll(/"eventType": "EVENT_TYPE_([A-Z_]+)"/g)].map((m) => m[1]));
}

/** The failure messages of the current run's failed workflow tasks (the history, not visibility: no lag). */
async function workflowTaskFailures(h: Harness): Promise<string[]> {
  const history = await h.handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.workflowTaskFailedEventAttributes)
    .map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? '(no message)');
}

/**
 * Waits until `handled` says the workflow dealt with a message, or a workflow task failed (then returns at once with
 * the failures: a failing workflow answers no query, so waiting longer would only slow the test down).
 */
async function handledOrFailed<T>(h: Harness, what: string, handled: () => Promise<T | undefined>) {
  return waitFor(
    what,
    async () => {
      const failed = await workflowTaskFailures(h);
      if (failed.length > 0) return { failed, value: undefined };
      const value = await Promise.race([handled(), sleepMs(2000).then(() => undefined)]);
      return value === undefined ? undefined : { failed, value };
    },
    10_000,
  );
}

/** A client whose every outgoing payload is replaced by `payload`: what a client with another codec sends. */
function rawPayloadClient(h: Harness, payload: Payload): Client {
  const codec: PayloadCodec = {
    encode: async (payloads) => payloads.map(() => payload),
    decode: async (payloads) => payloads,
  };
  return new Client({ connection: h.client.connection, dataConverter: { payloadCodecs: [codec] } });
}

describe('bad operator input', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('every CLI command × bad arguments: exit 2, a message naming the problem, nothing sent anywhere', async () => {
    const hh = (h = await startHarness({ worker: false, emulator: { ticketCount: 10 } }));
    // The workflow exists, but no worker runs: its history stays as started unless a command reaches it.
    const historyBefore = await currentEventTypes(hh);
    const env: Env = {
      ZENDESK_BASE_URL: hh.emulator.url,
      ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
      ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
      TEMPORAL_ADDRESS: hh.config.temporal.address,
      TEMPORAL_TASK_QUEUE: hh.taskQueue,
      EXPORT_POLL_INTERVAL_SECONDS: '1',
      EXPORT_MIN_START_AGE_SECONDS: '1',
    };
    // `start` goes to an account that has no workflow, so a start that got through would show.
    const fresh = `reject-${randomUUID().slice(0, 8)}`;
    const startEnv: Env = { ...env, ZENDESK_BASE_URL: '', ZENDESK_SUBDOMAIN: fresh };
    const known = escape(hh.account);
    const now = Math.floor(Date.now() / 1000);

    const cases: [Command, string[], RegExp][] = [];
    for (const command of COMMANDS) {
      // reset needs --start-time to get as far as the account check.
      const valid = command === 'reset' ? ['--start-time', '0'] : [];
      cases.push(
        [command, ['--bogus'], new RegExp(`^${command}: Unknown option '--bogus'`)],
        [command, ['-x'], /Unknown option '-x'/],
        [command, ['now'], /Unexpected argument 'now'\. This command does not take positional arguments/],
        [command, [...valid, '--account'], /Option '--account <value>' argument missing/],
        [
          command,
          [...valid, '--account', 'initech'],
          new RegExp(
            `--account "initech" is not an account of ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL; known: ${
              command === 'start' ? fresh : known
            }$`,
          ),
        ],
        [command, [...valid, '--account='], /--account "" is not an account of/],
      );
      if (WITH_ALL.includes(command)) {
        cases.push(
          [command, ['--all', '--account', hh.account], /--account and --all: give one or the other/],
          [command, ['--all=yes'], /Option '--all' does not take an argument/],
        );
      } else {
        cases.push([command, ['--all', ...valid], /^reset: Unknown option '--all'/]);
      }
      if (command !== 'start' && command !== 'reset') {
        cases.push([command, ['--start-time', '0'], new RegExp(`^${command}: Unknown option '--start-time'`)]);
      }
    }
    cases.push(
      // start: malformed and out-of-range numbers, options of the wrong endpoint.
      ['start', ['--start-time=-5'], /--start-time must be a whole number, got "-5"/],
      ['start', ['--start-time', '-5'], /Option '--start-time' argument is ambiguous/],
      ['start', ['--start-time', '1.5'], /--start-time must be a whole number, got "1\.5"/],
      ['start', ['--start-time', '1e9'], /--start-time must be a whole number, got "1e9"/],
      ['start', ['--start-time='], /--start-time must be a whole number, got ""/],
      ['start', ['--start-time', '99999999999999999999'], /--start-time must be between 0 and \d+, got 9+/],
      ['start', ['--start-time', String(now + 86_400)], /--start-time must be between 0 and \d+/],
      ['start', ['--start-time'], /Option '--start-time <value>' argument missing/],
      ['start', ['--poll-interval', 'soon'], /--poll-interval must be a number of seconds >= 0\.1, got "soon"/],
      ['start', ['--poll-interval=-1'], /--poll-interval must be a number of seconds >= 0\.1, got "-1"/],
      ['start', ['--poll-interval', '0.05'], /--poll-interval must be a number of seconds >= 0\.1, got "0\.05"/],
      ['start', ['--poll-interval', 'Infinity'], /--poll-interval must be a number of seconds >= 0\.1/],
      ['start', ['--poll-interval='], /--poll-interval must be a number of seconds >= 0\.1, got ""/],
      ['start', ['--min-start-age=-1'], /--min-start-age must be a number of seconds >= 0, got "-1"/],
      ['start', ['--pages-per-run', '0'], /--pages-per-run must be between 1 and any, got 0/],
      ['start', ['--pages-per-run', '2.5'], /--pages-per-run must be a whole number, got "2\.5"/],
      ['start', ['--api', 'search'], /--api must be one of exports, incremental, cursor, got "search"/],
      ['start', ['--api', 'Cursor'], /--api must be one of exports, incremental, cursor, got "Cursor"/],
      ['start', ['--api', 'cursor', '--per-page', '0'], /--per-page must be between 1 and 1000, got 0/],
      ['start', ['--api', 'cursor', '--per-page', '1001'], /--per-page must be between 1 and 1000, got 1001/],
      ['start', ['--api', 'incremental', '--per-page', 'all'], /--per-page must be a whole number, got "all"/],
      ['start', ['--api', 'cursor', '--requests-per-minute', '0'], /--requests-per-minute must be .* >= 0\.1, got "0"/],
      // The account is at <subdomain>.zendesk.com, whose default is cursor: exports is chosen here.
      ['start', ['--api', 'exports', '--per-page', '100'], /--per-page applies to --api incremental or cursor only/],
      [
        'start',
        ['--api', 'exports', '--requests-per-minute', '30'],
        /--requests-per-minute applies to --api incremental or cursor only/,
      ],
      ['start', ['--api', 'exports', '--include', 'users'], /--include applies to --api incremental or cursor only/],
      [
        'start',
        ['--api', 'exports', '--exclude-deleted'],
        /--exclude-deleted applies to --api incremental or cursor only/,
      ],
      ['start', ['--api', 'cursor', '--exclude-deleted=true'], /Option '--exclude-deleted' does not take an argument/],
      // reset: the cursor it would move to.
      ['reset', [], /reset: --start-time N is required \(epoch seconds\)/],
      ['reset', ['--start-time=-1'], /--start-time must be a whole number, got "-1"/],
      ['reset', ['--start-time', 'yesterday'], /--start-time must be a whole number, got "yesterday"/],
      ['reset', ['--start-time', '0x10'], /--start-time must be a whole number, got "0x10"/],
      ['reset', ['--start-time', String(now + 3600)], /--start-time must be between 0 and \d+, got \d+/],
      ['reset', ['--start-time', '9007199254740993'], /--start-time must be between 0 and \d+/],
      ['reset', ['--start-time='], /--start-time must be a whole number, got ""/],
      ['reset', ['--start-time', '0', '--watch'], /^reset: Unknown option '--watch'/],
      // status, check: flags that take no value, or belong to another command (--json is every command's).
      ['status', ['--json=yes'], /Option '--json' does not take an argument/],
      ['status', ['--watch', 'extra'], /Unexpected argument 'extra'/],
      ['check', ['--watch'], /^check: Unknown option '--watch'/],
      ['stop', ['--force'], /^stop: Unknown option '--force'/],
      ['pause', ['--interval', '1'], /^pause: Unknown option '--interval'/],
    );
    expect(cases.length).toBeGreaterThan(90);

    const failures: string[] = [];
    for (const [command, args, message] of cases) {
      const result = await cli([command, ...args], command === 'start' ? startEnv : env);
      if (result.code !== 2 || !message.test(result.err)) {
        failures.push(`${[command, ...args].join(' ')} → exit ${result.code}, stderr: ${result.err.split('\n')[0]}`);
      }
      // Every usage error ends with the usage text, or is one line naming the problem; never a stack trace.
      expect(result.err).not.toMatch(/\n\s+at /);
      expect(result.out).toBe('');
    }
    expect(failures).toEqual([]);

    // Nothing reached Temporal or Zendesk.
    const startedByMistake = hh.client.workflow.getHandle(workflowIdFor(fresh)).describe();
    await expect(startedByMistake).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(await currentEventTypes(hh)).toEqual(historyBefore);
    expect(historyBefore).toEqual(['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED']);
    expect(hh.emulator.stats().calls).toBe(0);

    // Control: the same environments with good arguments do reach Temporal.
    expect(await cli(['pause'], env)).toMatchObject({ code: 0 });
    expect(await currentEventTypes(hh)).toContain('WORKFLOW_EXECUTION_SIGNALED');
    expect(await cli(['start', '--start-time', '0'], startEnv)).toMatchObject({ code: 0 });
    const started = hh.client.workflow.getHandle(workflowIdFor(fresh));
    expect((await started.describe()).status.name).toBe('RUNNING');
    await started.terminate('test finished');
  });

  test('start: a number the environment would refuse is refused by the CLI too (no silent 0, no hex)', async () => {
    // EXPORT_POLL_INTERVAL_SECONDS and EXPORT_MIN_START_AGE_SECONDS accept /^\d+(\.\d+)?$/ only (test/unit/config.test.ts
    // rejects '0x10' and '1e3'); the flags that set the same values go through Number(), which reads '' and ' ' as 0.
    const hh = (h = await startHarness({ worker: false, start: false, emulator: { ticketCount: 10 } }));
    const cases: [string[], RegExp][] = [
      [['--min-start-age='], /--min-start-age must be a number of seconds >= 0, got ""/],
      [['--min-start-age', ' '], /--min-start-age must be a number of seconds >= 0, got " "/],
      [['--poll-interval', '0x10'], /--poll-interval must be a number of seconds >= 0\.1, got "0x10"/],
      [['--poll-interval', '1e1'], /--poll-interval must be a number of seconds >= 0\.1, got "1e1"/],
      [['--api', 'cursor', '--requests-per-minute', '0x1e'], /--requests-per-minute must be .*, got "0x1e"/],
      // The unit of the message: a rate per minute is not "a number of seconds".
      [
        ['--api', 'cursor', '--requests-per-minute', '0'],
        /--requests-per-minute must be a number of requests per minute >= 0\.1, got "0"/,
      ],
    ];
    const failures: string[] = [];
    for (const [args, message] of cases) {
      // Each case on an account of its own, so that a start that got through shows as a workflow.
      const fresh = `lenient-${randomUUID().slice(0, 8)}`;
      const env: Env = {
        ZENDESK_SUBDOMAIN: fresh,
        TEMPORAL_ADDRESS: hh.config.temporal.address,
        TEMPORAL_TASK_QUEUE: hh.taskQueue,
      };
      const result = await cli(['start', ...args], env);
      if (result.code !== 2 || !message.test(result.err)) {
        failures.push(`start ${args.join(' ')} → exit ${result.code}: ${(result.err || result.out).split('\n')[0]}`);
      }
      const handle = hh.client.workflow.getHandle(workflowIdFor(fresh));
      const started = await handle.fetchHistory().catch(() => undefined);
      if (started) {
        const input = started.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
        failures.push(`  … and started ${workflowIdFor(fresh)} with ${Buffer.from(input ?? []).toString()}`);
        await handle.terminate('started with a malformed number');
      }
    }
    expect(failures).toEqual([]);
  });

  test('client configuration: one message naming every problem, exit 2, for every command', async () => {
    const hh = (h = await startHarness({ worker: false, start: false, emulator: { ticketCount: 10 } }));
    const accountsFile = path.join(testEnv().tmpDir, `accounts-${randomUUID()}.yaml`);
    fs.writeFileSync(accountsFile, 'accounts:\n  - subdomain: acme\n    email: ops@acme.test\n    apiTokenEnv: T\n');
    const clientProblems: Env = {
      ZENDESK_BASE_URL: 'ftp://acme.example',
      EXPORT_POLL_INTERVAL_SECONDS: '0',
      EXPORT_MIN_START_AGE_SECONDS: '-1',
      EXPORT_START_TIME: 'yesterday',
      ZENDESK_EXPORT_API: 'search',
      EXPORT_PER_PAGE: '0',
      EXPORT_REQUESTS_PER_MINUTE: '-1',
      TEMPORAL_TLS: 'maybe',
    };
    const clientMessages = [
      /ZENDESK_BASE_URL: must be an http\(s\) URL/,
      /EXPORT_POLL_INTERVAL_SECONDS: must be a number of seconds >= 0\.1, got "0"/,
      /EXPORT_MIN_START_AGE_SECONDS: must be a number of seconds >= 0, got "-1"/,
      /EXPORT_START_TIME: must be a whole number of epoch seconds >= 0, got "yesterday"/,
      /ZENDESK_EXPORT_API: must be one of exports, incremental, cursor/,
      /EXPORT_PER_PAGE: must be a whole number from 1 to 1000/,
      /EXPORT_REQUESTS_PER_MINUTE: must be a number of requests per minute >= 0\.1, got "-1"/,
      /TEMPORAL_TLS: must be true or false, got "maybe"/,
    ];
    const base = { TEMPORAL_ADDRESS: hh.config.temporal.address, TEMPORAL_TASK_QUEUE: hh.taskQueue };
    for (const command of COMMANDS) {
      if (command === 'check') continue;
      const args = command === 'reset' ? [command, '--start-time', '0'] : [command];
      const result = await cli(args, { ...base, ...clientProblems });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.err.match(/Invalid configuration:/g)).toHaveLength(1);
      for (const message of clientMessages) expect(result.err).toMatch(message);
      expect(result.err.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(clientMessages.length);
    }

    // check reads the worker's settings: missing credentials, a bad URL, an unknown sink scheme, all at once.
    const check = await cli(['check'], {
      ...base,
      ZENDESK_BASE_URL: 'acme.zendesk.com',
      SINK_URL: 'redis://cache/0',
      ZENDESK_TIMEOUT_SECONDS: '-1',
    });
    expect(check.code).toBe(2);
    expect(check.err.match(/Invalid configuration:/g)).toHaveLength(1);
    for (const message of [
      /ZENDESK_BASE_URL: must be an http\(s\) URL/,
      /ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_OAUTH_ACCESS_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN: one way for the worker to sign in is required/,
      /SINK_URL: must start with sqlite:/,
      /ZENDESK_TIMEOUT_SECONDS: must be a number of seconds >= 1, got "-1"/,
    ]) {
      expect(check.err).toMatch(message);
    }

    // Both account sources at once, and an accounts file that is not there.
    const both = await cli(['status'], { ...base, ZENDESK_ACCOUNTS_FILE: accountsFile, ZENDESK_BASE_URL: 'https://x' });
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/ZENDESK_ACCOUNTS_FILE and ZENDESK_SUBDOMAIN\/ZENDESK_BASE_URL: set one or the other/);
    const missing = await cli(['pause', '--all'], { ...base, ZENDESK_ACCOUNTS_FILE: `${accountsFile}.nope` });
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/ZENDESK_ACCOUNTS_FILE \(.*\.nope\): cannot read it \(ENOENT\)/);
    expect(hh.emulator.stats().calls).toBe(0);
  });

  test('raw signals and updates with bad payloads: updates rejected, signals ignored with a warning, workflow unharmed', async () => {
    const hh = (h = await startHarness({ emulator: { ticketCount: 300, windowSeconds: 0 } }));
    await hh.waitForTruth(30_000);
    const before = await hh.status();
    const future = Math.floor(Date.now() / 1000) + 3600;
    const expected = /expected \{ startTime: <epoch seconds> \}/;

    // Updates: rejected by the validator, with the reason; a rejected update leaves no trace in the history.
    const badUpdates: [string, unknown[], RegExp][] = [
      ['non-integer', [{ startTime: 1.5 }], /startTime must be a whole number of epoch seconds, got 1\.5/],
      ['negative', [{ startTime: -1 }], /startTime must be >= 0, got -1/],
      ['future', [{ startTime: future }], new RegExp(`startTime ${future} is in the future`)],
      ['numeric string', [{ startTime: '123' }], /startTime must be a whole number of epoch seconds, got "123"/],
      ['boolean', [{ startTime: true }], /startTime must be a whole number of epoch seconds, got true/],
      ['null start time', [{ startTime: null }], /startTime must be a whole number of epoch seconds, got null/],
      ['unsafe integer', [{ startTime: 2 ** 53 }], /startTime must be a whole number of epoch seconds, got 9007/],
      ['milliseconds', [{ startTime: Date.now() }], /is in the future/],
      ['empty object', [{}], expected],
      ['wrong key', [{ start_time: 0 }], expected],
      ['null', [null], expected],
      ['a number', [42], expected],
      ['an array', [[0]], expected],
      ['a string', ['0'], expected],
      ['no argument', [], expected],
      ['bad first argument, good second', [{ startTime: -1 }, { startTime: 0 }], /startTime must be >= 0/],
    ];
    for (const [what, args, reason] of badUpdates) {
      const error = await hh.handle.executeUpdate('resetCursor', { args: args as [unknown] }).then(
        (result) => new Error(`${what}: accepted, returned ${JSON.stringify(result)}`),
        (err: unknown) => err,
      );
      expect({ what, error: error instanceof WorkflowUpdateFailedError }).toEqual({ what, error: true });
      expect({ what, reason: (error as WorkflowUpdateFailedError).cause?.message }).toEqual({
        what,
        reason: expect.stringMatching(reason),
      });
    }
    // Names that are not updates of this workflow.
    for (const name of ['resetcursor', 'reset', 'pause', 'status']) {
      const error = await hh.handle.executeUpdate(name, { args: [{ startTime: 0 }] }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((error as WorkflowUpdateFailedError).cause?.message).toMatch(
        new RegExp(`update.*${name}|${name}.*update`, 'i'),
      );
    }

    // Signals: ignored, each with a warning in status that names the problem.
    const badSignals: [unknown[], RegExp][] = [
      [[{ startTime: 1.5 }], /got 1\.5/],
      [[{ startTime: -7 }], /startTime must be >= 0, got -7/],
      [[{ startTime: future }], new RegExp(`startTime ${future} is in the future`)],
      [[{ startTime: '123' }], /got "123"/],
      [[{ startTime: false }], /got false/],
      [[{}], expected],
      [[null], expected],
      [[42], expected],
      [[[0]], expected],
      [[], expected],
      // Extra arguments: only the first counts, so a good second one does not sneak in.
      [[{ startTime: 'x' }, { startTime: 0 }], /got "x"/],
    ];
    for (const [args] of badSignals) await hh.handle.signal('resetCursor', ...args);
    // Signals the workflow does not react to with arguments it does not take.
    await hh.handle.signal('pollNow', { startTime: 0 }, 'extra');
    const status = await waitFor(
      'a warning for every ignored signal',
      async () => {
        const s = await hh.status();
        return s.warnings.filter((w) => w.includes('resetCursor signal ignored')).length >= badSignals.length
          ? s
          : undefined;
      },
      15_000,
    );
    const warnings = status.warnings.filter((w) => w.includes('resetCursor signal ignored'));
    for (const [i, [, message]] of badSignals.entries()) {
      expect({ i, warning: warnings[i] }).toEqual({ i, warning: expect.stringMatching(message) });
    }

    // Unharmed: same cursor, not paused or blocked, running, and it keeps exporting.
    expect(status).toMatchObject({ cursor: before.cursor, paused: false, blocked: false, lastError: null });
    expect((await hh.handle.describe()).status.name).toBe('RUNNING');
    hh.emulator.mutate(40);
    await hh.waitForTruth(30_000);

    const types = await eventTypes(hh);
    expect(types.filter((t) => t.startsWith('WORKFLOW_EXECUTION_UPDATE'))).toEqual([]);
    expect(types.filter((t) => t === 'WORKFLOW_EXECUTION_SIGNALED')).toHaveLength(badSignals.length + 1);
    expect(await workflowTaskFailures(hh)).toEqual([]);
    // And what it wrote replays.
    const histories = await fetchRunHistories(hh.client, hh.workflowId);
    await replayAll(histories.map((x) => ({ name: x.runId, json: x.json })));
  });

  test('a signal to a name the workflow does not handle is ignored with a warning in status', async () => {
    const hh = (h = await startHarness({ emulator: { ticketCount: 100, windowSeconds: 0 } }));
    await hh.waitForTruth(30_000);
    const before = await hh.status();
    for (const name of ['resetcursor', 'reset', 'Pause', 'poll-now']) await hh.handle.signal(name, { startTime: 0 });
    // Unharmed either way.
    await sleepMs(1500);
    const after = await hh.status();
    expect(after).toMatchObject({ cursor: before.cursor, paused: false, blocked: false });
    expect(await workflowTaskFailures(hh)).toEqual([]);
    // An operator who typed the name wrong learns it from status, as with a bad payload.
    const warnings = after.warnings.join('\n');
    for (const name of ['resetcursor', 'reset', 'Pause', 'poll-now']) expect(warnings).toContain(`"${name}"`);
  });

  test.each<[string, Payload]>([
    ['invalid JSON', { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"startTime": 0') }],
    ['an unknown encoding', { metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('x') }],
    ['corrupt gzip', { metadata: { encoding: Buffer.from('binary/gzip') }, data: Buffer.from('not gzip') }],
  ])(
    'a resetCursor signal whose payload cannot be decoded (%s) is ignored; the workflow is unharmed',
    async (_, payload) => {
      // What a client with another codec (an encryption codec, a newer version of ours) or a hand-written gRPC call
      // sends. The signal is in the history for good: if decoding it fails the workflow task, every later task
      // (replay included) fails too, and the export stops until someone resets or terminates the workflow.
      const hh = (h = await startHarness({ emulator: { ticketCount: 100, windowSeconds: 0 } }));
      await hh.waitForTruth(30_000);
      const before = await hh.status();
      await rawPayloadClient(hh, payload).workflow.getHandle(hh.workflowId).signal('resetCursor', { startTime: 0 });
      const outcome = await handledOrFailed(hh, 'status to report the ignored signal', async () => {
        const status = await hh.status();
        return status.warnings.some((w) => w.includes('resetCursor signal ignored')) ? status : undefined;
      });
      expect(outcome.failed).toEqual([]); // the workflow tasks that failed on the signal, if any
      expect(outcome.value?.cursor).toBe(before.cursor);
      hh.emulator.mutate(20);
      await hh.waitForTruth(20_000);
    },
  );

  test.each<[string, Payload]>([
    ['invalid JSON', { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"startTime": ') }],
    ['corrupt gzip', { metadata: { encoding: Buffer.from('binary/gzip') }, data: Buffer.from('not gzip') }],
  ])('an update whose payload cannot be decoded (%s) is rejected; the workflow is unharmed', async (_, payload) => {
    const hh = (h = await startHarness({ emulator: { ticketCount: 100, windowSeconds: 0 } }));
    await hh.waitForTruth(30_000);
    const before = await hh.status();
    const raw = rawPayloadClient(hh, payload);
    let answer: unknown;
    void raw.workflow
      .getHandle(hh.workflowId)
      .executeUpdate('resetCursor', { args: [{ startTime: 0 }] })
      .then(
        (result) => (answer = new Error(`accepted: ${JSON.stringify(result)}`)),
        (err: unknown) => (answer = err),
      );
    // A workflow whose tasks fail never answers the update.
    const outcome = await handledOrFailed(hh, 'an answer to the update', async () => answer);
    expect(outcome.failed).toEqual([]); // the workflow tasks that failed on the update, if any
    expect(outcome.value).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((await hh.status()).cursor).toBe(before.cursor);
    expect((await eventTypes(hh)).filter((t) => t.startsWith('WORKFLOW_EXECUTION_UPDATE'))).toEqual([]);
  });

  test('the worker process: a bad configuration is one message naming every problem, exit 2', async () => {
    const dir = testEnv().tmpDir;
    const accountsFile = path.join(dir, `accounts-${randomUUID()}.yaml`);
    fs.writeFileSync(
      accountsFile,
      [
        'accounts:',
        '  - subdomain: acme',
        '    email: ops@acme.test',
        '    apiToken: tok-in-the-file-7f3a9c',
        '  - subdomain: globex',
        '    email: ops@globex.test',
        '    apiTokenEnv: GLOBEX_TOKEN',
        '    colour: blue',
        '  - subdomain: initech',
        '    email: ops@initech.test',
        '    passwordEnv: INITECH_PASSWORD',
        '',
      ].join('\n'),
    );
    const [everything, fromFile, tls] = [
      // No credentials, a bad URL, an unknown sink scheme, and every other setting the worker reads, wrong.
      spawnWorkerProcess({
        ZENDESK_BASE_URL: 'ftp://acme.example',
        SINK_URL: 'redis://cache/0',
        ZENDESK_TIMEOUT_SECONDS: '0',
        BLOB_RETENTION_DAYS: '-1',
        CODEC_SERVER_PORT: '99999',
        METRICS_PORT: 'abc',
        TEMPORAL_TLS: 'maybe',
      }),
      spawnWorkerProcess({ ZENDESK_ACCOUNTS_FILE: accountsFile, SINK_URL: `sqlite:${path.join(dir, 'x.db')}` }),
      spawnWorkerProcess({
        ZENDESK_SUBDOMAIN: 'acme',
        ZENDESK_EMAIL: 'ops@acme.test',
        ZENDESK_API_TOKEN: 'tok-of-the-tls-case-5b1d',
        SINK_URL: `sqlite:${path.join(dir, 'y.db')}`,
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key',
      }),
    ];
    const [a, b, c] = await Promise.all([everything.exited, fromFile.exited, tls.exited]);
    expect([a, b, c]).toEqual([2, 2, 2]);
    for (const worker of [everything, fromFile, tls]) {
      expect(worker.output().match(/Invalid configuration:/g)).toHaveLength(1);
      expect(worker.output()).not.toContain('Worker ready');
      expect(worker.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
    const problems = (w: typeof everything) =>
      w
        .output()
        .split('\n')
        .filter((l) => l.startsWith('  - '));

    for (const message of [
      /ZENDESK_BASE_URL: must be an http\(s\) URL/,
      /ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_OAUTH_ACCESS_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN: one way for the worker to sign in is required/,
      /SINK_URL: must start with sqlite:/,
      /ZENDESK_TIMEOUT_SECONDS: must be a number of seconds >= 1, got "0"/,
      /BLOB_RETENTION_DAYS: must be a number of days >= 1, got "-1"/,
      /CODEC_SERVER_PORT: must be a port number or "off"/,
      /METRICS_PORT: must be a port number \(1-65535\)/,
      /TEMPORAL_TLS: must be true or false, got "maybe"/,
    ]) {
      expect(everything.output()).toMatch(message);
    }
    expect(problems(everything)).toHaveLength(8);

    const where = `ZENDESK_ACCOUNTS_FILE \\(${escape(accountsFile)}\\)`;
    expect(fromFile.output()).toMatch(new RegExp(`${where} accounts\\[0\\]\\.apiToken: secrets do not go in the`));
    expect(fromFile.output()).toMatch(new RegExp(`${where} accounts\\[1\\]: unknown field\\(s\\) colour`));
    expect(fromFile.output()).toMatch(
      new RegExp(`${where} accounts\\[2\\]\\.passwordEnv: Zendesk removed password access to its API on 2025-12-31`),
    );
    expect(fromFile.output()).not.toContain('tok-in-the-file-7f3a9c');
    expect(problems(fromFile)).toHaveLength(3);

    expect(tls.output()).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read \/nonexistent\/client\.pem \(ENOENT\)/);
    expect(tls.output()).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read \/nonexistent\/client\.key \(ENOENT\)/);
    expect(tls.output()).not.toContain('tok-of-the-tls-case-5b1d');
  });

  test('an unreadable TLS file is named together with the other problems, not after they are fixed', async () => {
    // The TLS files are read after the environment is validated, so a first run reports only the environment's
    // problems and a second run, after those are fixed, the unreadable file.
    const worker = spawnWorkerProcess({
      ZENDESK_SUBDOMAIN: 'acme',
      ZENDESK_EMAIL: 'ops@acme.test',
      ZENDESK_API_TOKEN: 'tok-x',
      SINK_URL: 'redis://cache/0',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem',
    });
    expect(await worker.exited).toBe(2);
    const client = await cli(['status'], {
      ZENDESK_SUBDOMAIN: 'acme',
      EXPORT_POLL_INTERVAL_SECONDS: '0',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem',
    });
    expect(client.code).toBe(2);
    expect({ worker: worker.output(), client: client.err }).toEqual({
      worker: expect.stringMatching(
        /SINK_URL: must start with sqlite:[\s\S]*TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read/,
      ),
      client: expect.stringMatching(
        /EXPORT_POLL_INTERVAL_SECONDS: must be [\s\S]*TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read/,
      ),
    });
  });

  test('streams: bad names and start times in flags, environment and accounts file: exit 2, workflow unchanged', async () => {
    // A running export of tickets and ticket events, caught up: what a command that got through would change shows.
    const hh = (h = await startHarness({
      emulator: {
        ticketCount: 10,
        windowSeconds: 0,
        incrementalRequestsPerMinute: 0,
        incrementalMinStartAgeSeconds: 1,
      },
      input: { api: 'cursor', streams: ['tickets', 'ticket_events'], requestsPerMinute: 600 },
    }));
    const caughtUp = async () => {
      const s = await hh.status();
      return s.streams?.length === 2 && s.streams.every((row) => row.caughtUp) ? s : undefined;
    };
    const before = await waitFor('both streams caught up', caughtUp, 30_000);
    const cursors = (s: typeof before) => s.streams?.map(({ stream, cursor }) => ({ stream, cursor }));
    const env: Env = {
      ZENDESK_BASE_URL: hh.emulator.url,
      ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
      ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
      TEMPORAL_ADDRESS: hh.config.temporal.address,
      TEMPORAL_TASK_QUEUE: hh.taskQueue,
      ZENDESK_EXPORT_API: 'cursor',
      EXPORT_POLL_INTERVAL_SECONDS: '1',
      EXPORT_MIN_START_AGE_SECONDS: '1',
    };
    const accountsFile = path.join(testEnv().tmpDir, `accounts-${randomUUID()}.yaml`);
    fs.writeFileSync(
      accountsFile,
      `accounts:\n  - baseUrl: ${hh.emulator.url}\n    email: ${DEFAULT_CREDENTIALS.email}\n    apiTokenEnv: T\n    streams: [x]\n`,
    );
    const fromFile: Env = { ...env, ZENDESK_BASE_URL: '', ZENDESK_ACCOUNTS_FILE: accountsFile, T: 'token' };
    const now = Math.floor(Date.now() / 1000);
    const known = STREAMS.join(', ');
    const cases: [string[], Env, RegExp][] = [
      [
        ['reset', '--stream', 'nope', '--start-time', '0'],
        env,
        new RegExp(`--stream must be one of ${known}, got "nope"`),
      ],
      [['reset', '--stream', '', '--start-time', '0'], env, /--stream must be one of .*, got ""/],
      [
        ['reset', '--stream', 'users', '--start-time', '0'],
        env,
        /^reset rejected: this export does not read users \(it reads tickets, ticket_events\)$/,
      ],
      [['start', '--streams', 'tickets,comments'], env, /--streams unknown stream "comments" \(known: tickets, /],
      [['start', '--streams', ','], env, /--streams must name at least one stream/],
      [['start'], { ...env, EXPORT_STREAMS: 'tickets,nope' }, /EXPORT_STREAMS: unknown stream "nope" \(known: /],
      [['status'], { ...env, EXPORT_STREAMS: 'Tickets' }, /EXPORT_STREAMS: unknown stream "Tickets"/],
      [['start'], { ...env, EXPORT_STREAMS: ' , ' }, /EXPORT_STREAMS: must name at least one stream/],
      [['start'], fromFile, /accounts\[0\]\.streams: unknown stream "x" \(known: /],
      [
        ['start', '--stream-start-times', 'users=abc'],
        env,
        /--stream-start-times: "users=abc" is not stream=epoch-seconds/,
      ],
      [
        ['start', '--stream-start-times', 'users=-5'],
        env,
        /--stream-start-times: "users=-5" is not stream=epoch-seconds/,
      ],
      [
        ['start', '--stream-start-times', `users=${now + 3600}`],
        env,
        /--stream-start-times: users=\d+ is not an epoch second that has passed/,
      ],
      [['start', '--stream-start-times', 'tickets=0'], env, /"tickets" is not a stream around the ticket/],
      [
        ['start', '--streams', 'tickets,ticket_events', '--stream-start-times', 'users=0'],
        env,
        /--stream-start-times names users, not in --streams/,
      ],
    ];
    const failures: string[] = [];
    for (const [args, caseEnv, message] of cases) {
      const result = await cli(args, caseEnv);
      if (result.code !== 2 || !message.test(result.err)) {
        failures.push(`${args.join(' ')} → exit ${result.code}: ${(result.err || result.out).split('\n')[0]}`);
      }
      expect(result.err).not.toMatch(/\n\s+at /);
    }
    expect(failures).toEqual([]);

    // Nothing reached the workflow: no update accepted, no signal, the same streams at the same cursors.
    const events = await currentEventTypes(hh);
    expect(events.filter((e) => /UPDATE|SIGNALED/.test(e))).toEqual([]);
    const after = await hh.status();
    expect(cursors(after)).toEqual(cursors(before));
    expect(after.warnings).toEqual([]);

    // Control: the same environment with a stream the export reads does reach it.
    const good = await cli(['reset', '--stream', 'ticket_events', '--start-time', '0'], env);
    expect(good).toMatchObject({ code: 0 });
    expect(good.out).toMatch(/ticket_events cursor of .* reset to 0 \(was \d+\)/);
    expect(await currentEventTypes(hh)).toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
  });

  describe('loadWorkerConfig / loadClientConfig: what test/unit/config.test.ts leaves out', () => {
    const worker: Env = { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'ops@acme.test', ZENDESK_API_TOKEN: 'tok' };
    const client: Env = { ZENDESK_SUBDOMAIN: 'acme' };

    const workerCases: [string, Env, RegExp][] = [
      ['ZENDESK_TIMEOUT_SECONDS word', { ZENDESK_TIMEOUT_SECONDS: 'soon' }, /^ZENDESK_TIMEOUT_SECONDS: .* got "soon"$/],
      ['ZENDESK_TIMEOUT_SECONDS negative', { ZENDESK_TIMEOUT_SECONDS: '-5' }, /^ZENDESK_TIMEOUT_SECONDS: .*>= 1/],
      ['BLOB_RETENTION_DAYS 0', { BLOB_RETENTION_DAYS: '0' }, /^BLOB_RETENTION_DAYS: must be a number of days >= 1/],
      ['BLOB_RETENTION_DAYS word', { BLOB_RETENTION_DAYS: 'week' }, /^BLOB_RETENTION_DAYS: .* got "week"$/],
      ['CODEC_SERVER_PORT word', { CODEC_SERVER_PORT: 'on' }, /^CODEC_SERVER_PORT: must be a port number or "off"$/],
      ['CODEC_SERVER_PORT too big', { CODEC_SERVER_PORT: '65536' }, /^CODEC_SERVER_PORT: must be a port number/],
      ['METRICS_PORT 0', { METRICS_PORT: '0' }, /^METRICS_PORT: must be a port number \(1-65535\)$/],
      ['METRICS_PORT too big', { METRICS_PORT: '70000' }, /^METRICS_PORT: must be a port number/],
      ['METRICS_PORT negative', { METRICS_PORT: '-1' }, /^METRICS_PORT: must be a port number/],
      ['TEMPORAL_TLS yes', { TEMPORAL_TLS: 'yes' }, /^TEMPORAL_TLS: must be true or false, got "yes"$/],
      [
        'TEMPORAL_TLS false with a server name',
        { TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' },
        /^TEMPORAL_TLS: is false, but TEMPORAL_TLS_SERVER_NAME needs TLS$/,
      ],
      [
        'a key without a certificate',
        { TEMPORAL_TLS_CLIENT_KEY_PATH: '/k.pem' },
        /^TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH$/,
      ],
      [
        'accounts file and base URL',
        { ZENDESK_SUBDOMAIN: '', ZENDESK_BASE_URL: 'https://x', ZENDESK_ACCOUNTS_FILE: '/nonexistent.yaml' },
        /^ZENDESK_ACCOUNTS_FILE and ZENDESK_SUBDOMAIN\/ZENDESK_BASE_URL: set one or the other, not both$/,
      ],
      [
        'an accounts file that is not there',
        { ZENDESK_SUBDOMAIN: '', ZENDESK_ACCOUNTS_FILE: '/nonexistent/accounts.yaml' },
        /^ZENDESK_ACCOUNTS_FILE \(\/nonexistent\/accounts\.yaml\): cannot read it \(ENOENT\)$/,
      ],
    ];
    test.each(workerCases)('worker: %s is exactly one named problem', (_, overrides, message) => {
      expect(problemsOf(() => loadWorkerConfig({ ...worker, ...overrides }))).toEqual([expect.stringMatching(message)]);
    });

    test('worker: all of them together are one error naming each', () => {
      const problems = problemsOf(() =>
        loadWorkerConfig({
          ZENDESK_SUBDOMAIN: 'acme',
          ZENDESK_TIMEOUT_SECONDS: 'soon',
          BLOB_RETENTION_DAYS: '0',
          CODEC_SERVER_PORT: 'on',
          METRICS_PORT: '0',
          TEMPORAL_TLS: 'yes',
          TEMPORAL_TLS_CLIENT_KEY_PATH: '/k.pem',
          SINK_URL: 'mysql://db/tickets',
        }),
      );
      const expected = [
        /^ZENDESK_TIMEOUT_SECONDS: /,
        /^BLOB_RETENTION_DAYS: /,
        /^CODEC_SERVER_PORT: /,
        /^METRICS_PORT: /,
        /^TEMPORAL_TLS: must be true or false/,
        /^TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH/,
        /^SINK_URL: /,
        /^ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or .*: one way for the worker to sign in is required/,
      ];
      expect(problems).toHaveLength(expected.length);
      expect(problems).toEqual(expect.arrayContaining(expected.map((re) => expect.stringMatching(re))));
    });

    const clientCases: [string, Env, RegExp][] = [
      ['EXPORT_REQUESTS_PER_MINUTE 0', { EXPORT_REQUESTS_PER_MINUTE: '0' }, /^EXPORT_REQUESTS_PER_MINUTE: .*>= 0\.1/],
      [
        'EXPORT_REQUESTS_PER_MINUTE word',
        { EXPORT_REQUESTS_PER_MINUTE: 'fast' },
        /^EXPORT_REQUESTS_PER_MINUTE: .*"fast"$/,
      ],
      ['EXPORT_PER_PAGE 0', { EXPORT_PER_PAGE: '0' }, /^EXPORT_PER_PAGE: must be a whole number from 1 to 1000$/],
      [
        'EXPORT_PER_PAGE fraction',
        { EXPORT_PER_PAGE: '1.5' },
        /^EXPORT_PER_PAGE: must be a whole number from 1 to 1000$/,
      ],
      ['EXPORT_PER_PAGE word', { EXPORT_PER_PAGE: 'all' }, /^EXPORT_PER_PAGE: must be a whole number from 1 to 1000$/],
      [
        'EXPORT_MIN_START_AGE_SECONDS word',
        { EXPORT_MIN_START_AGE_SECONDS: 'abc' },
        /^EXPORT_MIN_START_AGE_SECONDS: .*"abc"$/,
      ],
      [
        'EXPORT_MIN_START_AGE_SECONDS 1e3',
        { EXPORT_MIN_START_AGE_SECONDS: '1e3' },
        /^EXPORT_MIN_START_AGE_SECONDS: .*"1e3"$/,
      ],
      [
        'EXPORT_POLL_INTERVAL_SECONDS negative',
        { EXPORT_POLL_INTERVAL_SECONDS: '-1' },
        /^EXPORT_POLL_INTERVAL_SECONDS: .*"-1"$/,
      ],
      ['ZENDESK_EXPORT_API upper case', { ZENDESK_EXPORT_API: 'CURSOR' }, /^ZENDESK_EXPORT_API: must be one of/],
      ['TEMPORAL_TLS maybe', { TEMPORAL_TLS: 'maybe' }, /^TEMPORAL_TLS: must be true or false, got "maybe"$/],
      ['a bad subdomain', { ZENDESK_SUBDOMAIN: 'https://acme.zendesk.com' }, /^ZENDESK_SUBDOMAIN: must be a Zendesk/],
    ];
    test.each(clientCases)('client: %s is exactly one named problem', (_, overrides, message) => {
      expect(problemsOf(() => loadClientConfig({ ...client, ...overrides }))).toEqual([expect.stringMatching(message)]);
    });

    test('client: all of them together are one error naming each', () => {
      const all = Object.assign({}, ...clientCases.map(([, env]) => env)) as Env;
      const variables = new Set(clientCases.flatMap(([, env]) => Object.keys(env)));
      const problems = problemsOf(() => loadClientConfig({ ...client, ...all }));
      expect(problems).toHaveLength(variables.size);
      for (const variable of variables) expect(problems.join('\n')).toContain(`${variable}:`);
    });

    test('the client ignores worker-only settings; the worker ignores client-only ones', () => {
      expect(() => loadClientConfig({ ...client, SINK_URL: 'redis://x', ZENDESK_TIMEOUT_SECONDS: '0' })).not.toThrow();
      expect(() =>
        loadWorkerConfig({ ...worker, EXPORT_POLL_INTERVAL_SECONDS: '0', EXPORT_PER_PAGE: '0' }),
      ).not.toThrow();
    });
  });
});
