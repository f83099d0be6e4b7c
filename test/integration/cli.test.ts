import { runCliCaptured } from '../helpers/cli';
import { accountVariablePrefix } from '../../src/config/account-credentials';
import { DEFAULT_CREDENTIALS, DEFAULT_OAUTH_CLIENT } from '../../src/emulator';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Harness, startHarness, testEnv, waitFor } from '../helpers/harness';

describe('operator CLI', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  /** An accounts file with these entries, and an environment that points at it instead of ZENDESK_BASE_URL. */
  function accountsEnv(entries: object[]): Record<string, string> {
    const file = path.join(testEnv().tmpDir, `accounts-${randomUUID()}.json`);
    fs.writeFileSync(file, JSON.stringify({ accounts: entries }));
    return { ZENDESK_ACCOUNTS_FILE: file, ZENDESK_BASE_URL: '' };
  }

  function twoAccounts(): Record<string, string> {
    return accountsEnv([
      { subdomain: 'acme', email: 'ops@example.com', apiTokenEnv: 'ACME_ZENDESK_API_TOKEN' },
      { subdomain: 'globex', email: 'ops@example.com', apiTokenEnv: 'GLOBEX_ZENDESK_API_TOKEN' },
    ]);
  }

  function cliEnv(): Record<string, string> {
    return {
      ZENDESK_BASE_URL: h.emulator.url,
      TEMPORAL_ADDRESS: h.config.temporal.address,
      TEMPORAL_TASK_QUEUE: h.taskQueue,
      EXPORT_POLL_INTERVAL_SECONDS: '1',
      EXPORT_MIN_START_AGE_SECONDS: '1',
    };
  }

  async function cli(args: string[], extraEnv: Record<string, string> = {}) {
    return runCliCaptured(args, { ...cliEnv(), ...extraEnv });
  }

  test('start (idempotent), status, pause, resume, reset, stop', async () => {
    h = await startHarness({ start: false, emulator: { ticketCount: 1200, windowSeconds: 0 } });
    const first = await cli(['start', '--start-time', '0']);
    expect(first).toMatchObject({ code: 0 });
    expect(first.out).toMatch(/Started zendesk-export-127\.0\.0\.1:\d+/);
    const again = await cli(['start']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already running/);

    await h.waitForTruth(30_000);
    const status = await cli(['status', '--json']);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.out);
    expect(parsed.account).toBe(h.account);
    expect(parsed.ticketsStored).toBeGreaterThanOrEqual(1200);
    const human = await cli(['status']);
    expect(human.out).toMatch(/cursor\s+\d+ \(20\d\d-/);
    expect(human.out).toMatch(/stored\s+1,2\d\d tickets/);

    expect((await cli(['pause'])).code).toBe(0);
    await waitFor('paused', async () => (await h.status()).paused);
    const reset = await cli(['reset', '--start-time', '0']);
    expect(reset.code).toBe(0);
    expect(reset.out).toMatch(/reset to 0 \(was \d+\)/);
    expect((await cli(['resume'])).code).toBe(0);
    await waitFor('running', async () => !(await h.status()).paused);

    expect((await cli(['stop'])).code).toBe(0);
    await waitFor('cancelled', async () => (await h.handle.describe()).status.name === 'CANCELLED');
    const afterStop = await cli(['status']);
    expect(afterStop.code).toBe(1);
  });

  test('--json on every command: one object each, what was done or the error; --no-color; --env-file', async () => {
    h = await startHarness({ start: false, emulator: { ticketCount: 300, windowSeconds: 0 } });
    const json = async (args: string[], extraEnv: Record<string, string> = {}) => {
      const run = await cli([...args, '--json'], extraEnv);
      // stdout is one JSON value (status pretty-prints it), stderr stays empty.
      expect({ args, err: run.err }).toEqual({ args, err: '' });
      return { code: run.code, report: JSON.parse(run.out) };
    };
    const workflowId = `zendesk-export-${h.account}`;
    // Nothing running yet: the error, with its exit code, is the object.
    expect(await json(['pause'])).toEqual({
      code: 1,
      report: expect.objectContaining({
        command: 'pause',
        ok: false,
        exitCode: 1,
        error: expect.stringMatching(/No export is running/),
      }),
    });
    expect(await json(['status'])).toMatchObject({ code: 1, report: { command: 'status', ok: false, exitCode: 1 } });
    expect(await json(['start', '--per-page', '0'])).toMatchObject({
      code: 2,
      report: { command: 'start', ok: false, exitCode: 2, error: expect.stringMatching(/--per-page/) },
    });

    const started = await json(['start', '--start-time', '0']);
    expect(started).toMatchObject({
      code: 0,
      report: {
        command: 'start',
        ok: true,
        exitCode: 0,
        results: [{ account: h.account, workflowId, outcome: 'started' }],
      },
    });
    expect(started.report.messages).toEqual([expect.stringMatching(/^Started /)]);
    expect((await json(['start'])).report.results).toEqual([
      { account: h.account, workflowId, outcome: 'already_running' },
    ]);
    await h.waitForTruth(30_000);
    // status --json is the status itself.
    expect((await json(['status'])).report).toMatchObject({ account: h.account, ticketsStored: 300 });
    expect((await json(['pause'])).report).toMatchObject({ ok: true, results: [{ workflowId, signal: 'pause' }] });
    expect((await json(['poll-now'])).report).toMatchObject({ ok: true, results: [{ signal: 'poll-now' }] });
    const reset = await json(['reset', '--start-time', '0']);
    expect(reset.report).toMatchObject({ ok: true, results: [{ workflowId, stream: 'tickets', cursor: 0 }] });
    expect(reset.report.results[0].previousCursor).toEqual(expect.any(Number));
    expect((await json(['resume'])).report).toMatchObject({ ok: true, results: [{ signal: 'resume' }] });
    const check = await json(['check'], {
      ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
      ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
    });
    expect(check.report).toMatchObject({ command: 'check', ok: true });
    expect(check.report.messages.join('\n')).toMatch(/^OK: /m);

    // Colours: on when asked for (FORCE_COLOR), off with --no-color or NO_COLOR whatever else says.
    const ansi = new RegExp(`${String.fromCharCode(27)}\\[`);
    expect((await runCliCaptured(['status'], { ...cliEnv(), FORCE_COLOR: '1' }, { color: true })).out).toMatch(ansi);
    expect((await runCliCaptured(['status', '--no-color'], cliEnv(), { color: true })).out).not.toMatch(ansi);

    // --env-file: the settings from a file; a variable set in the environment wins over the file's.
    const envFile = path.join(testEnv().tmpDir, `settings-${randomUUID()}.env`);
    fs.writeFileSync(
      envFile,
      `# the operator's .env\nZENDESK_BASE_URL=${h.emulator.url}\nTEMPORAL_TASK_QUEUE="${h.taskQueue}"\n`,
    );
    const fromFile = await runCliCaptured(['--env-file', envFile, 'status', '--json'], {
      TEMPORAL_ADDRESS: h.config.temporal.address,
    });
    expect({ code: fromFile.code, account: JSON.parse(fromFile.out).account }).toEqual({ code: 0, account: h.account });
    const missing = await runCliCaptured(['--env-file', `${envFile}.nope`, 'status', '--json'], {});
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.out)).toMatchObject({
      ok: false,
      exitCode: 2,
      error: expect.stringMatching(/no such file/),
    });

    expect((await json(['stop'])).report).toMatchObject({
      ok: true,
      results: [{ workflowId, cancellationRequested: true }],
    });
  });

  test('start --streams on a running export changes its streams, reset --stream moves one; status shows each', async () => {
    h = await startHarness({
      start: false,
      emulator: {
        ticketCount: 200,
        windowSeconds: 0,
        incrementalRequestsPerMinute: 0,
        incrementalMinStartAgeSeconds: 1,
      },
    });
    const streamsEnv = { EXPORT_REQUESTS_PER_MINUTE: '600', EXPORT_USERS_REQUESTS_PER_MINUTE: '600' };
    const first = await cli(['start', '--start-time', '0', '--streams', 'tickets,organizations'], streamsEnv);
    expect(first.code).toBe(0);
    const organizationsCaughtUp = async () =>
      (await h.status()).streams?.find((s) => s.stream === 'organizations')?.caughtUp === true;
    await waitFor('organizations caught up', organizationsCaughtUp, 30_000);
    const before = (await h.status()).streams?.find((s) => s.stream === 'organizations')?.cursor;

    const changed = await cli(['start', '--streams', 'tickets,organizations,users'], streamsEnv);
    expect(changed.code).toBe(0);
    expect(changed.out).toMatch(/already running; it now reads tickets, users, organizations \(other cursors kept\)/);
    await waitFor(
      'users caught up',
      async () => (await h.status()).streams?.find((s) => s.stream === 'users')?.caughtUp,
      30_000,
    );
    const status = await h.status();
    expect(status.streams?.map((s) => s.stream)).toEqual(['tickets', 'users', 'organizations']);
    expect(status.streams?.find((s) => s.stream === 'organizations')?.cursor).toBeGreaterThanOrEqual(before!);

    const reset = await cli(['reset', '--stream', 'users', '--start-time', '0']);
    expect(reset.code).toBe(0);
    expect(reset.out).toMatch(/users cursor of zendesk-export-.* reset to 0 \(was \d+\)/);
    const refused = await cli(['reset', '--stream', 'ticket_events', '--start-time', '0']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/reset rejected: this export does not read ticket_events/);
    const unknown = await cli(['reset', '--stream', 'comments', '--start-time', '0']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--stream must be one of tickets, ticket_events, users, organizations/);

    const human = await cli(['status']);
    expect(human.out).toMatch(/STREAM\s+BUCKET\s+PHASE\s+CURSOR/);
    expect(human.out).toMatch(/\nusers\s+users_cursor\s+/);
    const json = JSON.parse((await cli(['status', '--json'])).out);
    expect(json.streams.map((s: { stream: string }) => s.stream)).toEqual(['tickets', 'users', 'organizations']);
  });

  test('status while fetchPage retries after a failure: the attempt, its error and the next attempt, in text and JSON', async () => {
    // The workflow hears of a failure only once the activity's retries are exhausted; meanwhile the server knows.
    h = await startHarness({ start: false, emulator: { ticketCount: 50, windowSeconds: 0 } });
    h.emulator.injectFaults([{ kind: 'status', status: 503, retryAfter: '30', body: 'upstream overloaded' }]);
    expect((await cli(['start', '--start-time', '0'])).code).toBe(0);
    const json = await waitFor('a retrying fetchPage in status --json', async () => {
      const parsed = JSON.parse((await cli(['status', '--json'])).out);
      return parsed.retrying ? parsed : undefined;
    });
    expect(json).toMatchObject({
      lastError: null,
      retrying: { activity: 'fetchPage', attempt: 2, lastFailure: expect.stringMatching(/: 503 upstream overloaded/) },
    });
    const nextIn = Date.parse(json.retrying.nextAttemptAt) - Date.now();
    expect(nextIn).toBeGreaterThan(20_000);
    expect(nextIn).toBeLessThanOrEqual(30_000);
    const text = (await cli(['status'])).out;
    expect(text).toMatch(/retrying\s+fetchPage attempt 2, next attempt in \d+ s: GET .*: 503 upstream overloaded/);
    expect(text).toMatch(/last error\s+—/);
    const all = await cli(['status', '--all']);
    expect(all.out).toMatch(/retrying: GET .*503 upstream overloaded/);
  });

  test('status --watch: a frame every --interval, --frames of them; --json gives one object per line', async () => {
    h = await startHarness({ start: false, emulator: { ticketCount: 1200, windowSeconds: 0 } });
    expect((await cli(['start', '--start-time', '0'])).code).toBe(0);
    await h.waitForTruth(30_000);
    const started = Date.now();
    const watched = await cli(['status', '--watch', '--interval', '0.5', '--frames', '3']);
    expect(watched.code).toBe(0);
    const frames = watched.out.split(/\n\n/).filter((frame) => frame.startsWith('account'));
    expect(frames).toHaveLength(3);
    for (const frame of frames) {
      expect(frame).toMatch(/^progress\s+█+░*\s+\d+%/m);
      expect(frame).toMatch(/^stored\s+1,2\d\d tickets/m);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const json = await cli(['status', '--watch', '--json', '--interval', '0.5', '--frames', '2']);
    const objects = json.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(objects).toHaveLength(2);
    expect(objects[1]).toMatchObject({ account: h.account, state: expect.stringMatching(/caught_up|catching_up/) });
    expect((await cli(['status', '--interval', '1'])).err).toMatch(/--interval and --frames go with --watch/);
    expect((await cli(['status', '--watch', '--frames', '0'])).err).toMatch(/--frames must be between 1/);
  });

  test('bad input exits 2 with a message naming the problem', async () => {
    h = await startHarness({ start: false, worker: false });
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [[], /Usage: npm run client/],
      [['launch'], /Unknown command "launch"/],
      [['start', '--start-time', 'yesterday'], /--start-time must be a whole number, got "yesterday"/],
      [['start', '--start-time', '-5'], /--start-time/],
      [['start', '--start-time', String(Math.floor(Date.now() / 1000) + 3600)], /--start-time must be between 0 and/],
      [['start', '--poll-interval', '0'], /--poll-interval must be a number of seconds >= 0.1/],
      [['start', '--min-start-age', 'abc'], /--min-start-age must be a number of seconds/],
      [['start', '--bogus'], /Unknown option '--bogus'/],
      [['reset'], /reset: --start-time N is required/],
      [['reset', '--start-time', '1.5'], /--start-time must be a whole number/],
      [['status', 'extra'], /Unexpected argument|positional/i],
      [['start'], /ZENDESK_BASE_URL: must be an http\(s\) URL/, { ZENDESK_BASE_URL: 'nope' }],
      [
        ['start'],
        /EXPORT_POLL_INTERVAL_SECONDS: must be a number of seconds >= 0.1/,
        { EXPORT_POLL_INTERVAL_SECONDS: '-1' },
      ],
      [['check'], /ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or .*: one way for the worker to sign in/],
      [['check'], /ZENDESK_PASSWORD: Zendesk removed password access/, { ZENDESK_PASSWORD: 'pw-never-shown' }],
      [['start', '--account', 'nope'], /--account "nope" is not an account of ZENDESK_SUBDOMAIN\/ZENDESK_BASE_URL/],
      [['start', '--account'], /--account <value>' argument missing|argument missing/],
      [
        ['pause'],
        /ZENDESK_ACCOUNTS_FILE lists 2 accounts \(acme, globex\): pass --account NAME or --all/,
        twoAccounts(),
      ],
      [
        ['start', '--account', 'initech'],
        /"initech" is not an account of ZENDESK_ACCOUNTS_FILE .*known: acme, globex/,
        twoAccounts(),
      ],
      [['status', '--account', 'acme', '--all'], /--account and --all: give one or the other/, twoAccounts()],
      [['reset', '--all', '--start-time', '0'], /Unknown option '--all'/, twoAccounts()],
      [
        ['status'],
        /TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH/,
        { TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' },
      ],
      [
        ['status'],
        /TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read \/nonexistent\/ca\.pem/,
        { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' },
      ],
      [['status'], /TEMPORAL_TLS: must be true or false, got "maybe"/, { TEMPORAL_TLS: 'maybe' }],
    ];
    for (const [args, message, env] of cases) {
      const result = await cli(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.err).toMatch(message);
    }
  });

  test('status --all: a row per account, the ones not started included (exit 1)', async () => {
    h = await startHarness({ emulator: { ticketCount: 1200, windowSeconds: 0 } });
    await h.waitForTruth(30_000);
    const env = accountsEnv([
      {
        baseUrl: h.emulator.url,
        email: 'ops@example.com',
        apiTokenEnv: `${accountVariablePrefix(h.account)}API_TOKEN`,
      },
      { name: 'ghost', subdomain: 'ghost', email: 'ops@example.com', apiTokenEnv: 'GHOST_ZENDESK_API_TOKEN' },
    ]);
    const table = await cli(['status', '--all'], env);
    expect(table.code).toBe(1);
    const [header, ...rows] = table.out.split('\n');
    expect(header).toMatch(/^ACCOUNT\s+STATE\s+PROGRESS\s+CURSOR/);
    expect(rows[0]).toMatch(
      new RegExp(`^${h.account.replace(/\./g, '\\.')}\\s+caught up\\s+100%\\s+20\\d\\d-.*\\s1,2\\d\\d\\s`),
    );
    expect(rows[1]).toMatch(/^ghost\s+not started(\s+—)+$/);
    const json = JSON.parse((await cli(['status', '--all', '--json'], env)).out);
    expect(json).toMatchObject([
      { account: h.account, state: 'running', status: { ticketsStored: expect.any(Number) } },
      { account: 'ghost', state: 'not started' },
    ]);
    const one = await cli(['status', '--account', h.account, '--json'], env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out).account).toBe(h.account);
  });

  test('check: good credentials pass, wrong ones fail without printing the secret', async () => {
    h = await startHarness({ start: false, worker: false });
    const good = await cli(['check'], {
      ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
      ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
    });
    expect(good.code).toBe(0);
    expect(good.out).toMatch(new RegExp(`^  auth\\s+API token of ${DEFAULT_CREDENTIALS.email}`));
    expect(good.out).toMatch(
      /warning\s+.*turns off on 2027-04-30: .*ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET/,
    );
    expect(good.out).toMatch(/sample\s+answered with \d+ rows in the expected format/);
    expect(good.out).toMatch(/cursor\s+answered with 1 rows/);
    for (const stream of ['ticket_events', 'users', 'organizations', 'ticket_metric_events']) {
      expect(good.out).toMatch(new RegExp(`${stream}\\s+answered with [01] rows in the expected format`));
    }
    // The emulator is not at <subdomain>.zendesk.com: left unset, it would be read through exports.
    expect(good.out).toMatch(
      /OK: .* accepted the credentials\. Recommended: ZENDESK_EXPORT_API=cursor \(when unset, http:\/\/127\.0\.0\.1:\d+ reads exports\)$/m,
    );
    const bad = await cli(['check'], { ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email, ZENDESK_API_TOKEN: 'not-the-token' });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/401/);
    expect(bad.err + bad.out).not.toContain('not-the-token');
    expect(h.emulator.stats().byEndpoint.sample).toBe(2);
  });

  test('check with OAuth client credentials: a token obtained first, its scope and lifetime shown', async () => {
    h = await startHarness({ start: false, worker: false, emulator: { oauthClients: [DEFAULT_OAUTH_CLIENT] } });
    const oauth = {
      ZENDESK_OAUTH_CLIENT_ID: DEFAULT_OAUTH_CLIENT.clientId,
      ZENDESK_OAUTH_CLIENT_SECRET: DEFAULT_OAUTH_CLIENT.clientSecret,
      ZENDESK_OAUTH_TOKEN_TTL_SECONDS: '900',
    };
    const good = await cli(['check'], oauth);
    expect(good.code).toBe(0);
    const lines = good.out.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^  auth\\s+OAuth client credentials \\(client ${DEFAULT_OAUTH_CLIENT.clientId}, scope "read"`),
    );
    expect(lines[1]).toMatch(/^ {2}token\s+.*scope "read".* 900 s/);
    expect(good.out).not.toMatch(/warning/);
    expect(good.out).toMatch(/OK: .* accepted the credentials/);
    expect(h.emulator.stats().tokenGrants).toBe(1);

    const wrong = await cli(['check'], { ...oauth, ZENDESK_OAUTH_CLIENT_SECRET: 'not-the-secret' });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/check failed: no OAuth token: /);
    expect(wrong.err + wrong.out).not.toContain('not-the-secret');
    expect(h.emulator.stats().byEndpoint.sample).toBe(1); // no export call without a token

    const accessToken = await cli(['check'], { ZENDESK_OAUTH_ACCESS_TOKEN: 'not-a-token-the-emulator-issued' });
    expect(accessToken.code).toBe(1);
    expect(accessToken.out).toMatch(/^ {2}auth\s+OAuth access token \(pre-issued; not renewed by the worker\)/);
    expect(accessToken.err).toMatch(/401/);
    expect(accessToken.err + accessToken.out).not.toContain('not-a-token-the-emulator-issued');
  });
});
