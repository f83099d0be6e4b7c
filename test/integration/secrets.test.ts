import { Client } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCliCaptured } from '../helpers/cli';
import { accountVariablePrefix } from '../../src/config/account-credentials';
import { createDataConverter } from '../../src/codec/claim-check';
import { GzipPayloadCodec } from '../../src/codec/gzip-codec';
import { ROOT } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS, Emulator, startEmulator } from '../../src/emulator';
import { ExportApi, workflowIdFor } from '../../src/shared';
import { STREAM_TABLES, STREAMS } from '../../src/streams/names';
import type { ZendeskAuth } from '../../src/zendesk/auth';
import { ExportStatus, resumeSignal, statusQuery } from '../../src/workflows/messages';
import { fetchRunHistories } from '../helpers/histories';
import { findTemporalCli } from '../helpers/prerequisites';
import { compareStreamsWithTruth } from '../helpers/stream-truth';
import {
  compareSinkWithTruth,
  Harness,
  spawnWorker,
  spawnWorkerProcess,
  startHarness,
  testEnv,
  waitFor,
  WorkerProcess,
} from '../helpers/harness';

// Distinctive values: nothing else in a history, a log or a status line could contain them by accident. The password
// has characters that URL-encoding and JSON would change, so those forms are searched for too.
// The in-process harness's worker signs in with the emulator's default email; the email is no secret.
const EMAIL = DEFAULT_CREDENTIALS.email;
const TOKEN = 'tok-Qx7vK2mZ9pL4wR8sT1nB';
const PASSWORD = 'pw+Hj3/Zk9!Lm5=Vq2#Xc7';
const CREDENTIALS = { email: EMAIL, apiToken: TOKEN, password: PASSWORD };
const WRONG_TOKEN = 'tok-WRONG-Ae4fG6hJ8kL0';
// An OAuth client of the second emulator (client credentials); the id is no secret, the secret is.
const CLIENT_ID = 'zte-secrets-client';
const CLIENT_SECRET = 'cs+Wn4/Yt8!Pe2=Rb6#Gu1';

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------------------------
// The scanner: every form a credential could take in text that reached Temporal, a log or a terminal.

interface Needle {
  what: string;
  value: string;
  ignoreCase?: boolean;
}

/** The characters of base64(x) that depend only on `secret`, for x = secret preceded by 0, 1 or 2 other bytes. */
function base64Windows(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const windows: string[] = [];
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    windows.push(encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6)));
  }
  return windows;
}

function needlesFor(secrets: Record<string, string>, basicPairs: Record<string, string>): Needle[] {
  const needles: Needle[] = [];
  const add = (what: string, value: string, ignoreCase = false) => {
    if (!needles.some((n) => n.value === value)) needles.push({ what, value, ignoreCase });
  };
  for (const [name, secret] of Object.entries(secrets)) {
    add(name, secret);
    add(`${name}, URL-encoded`, encodeURIComponent(secret), true);
    add(`${name}, JSON-escaped`, JSON.stringify(secret).slice(1, -1));
    add(`${name}, hex`, Buffer.from(secret).toString('hex'), true);
    // Inside any base64 text (a header, a payload's data in history JSON), whatever its alignment.
    for (const [i, window] of base64Windows(secret).entries()) {
      add(`${name}, base64 (offset ${i})`, window);
      add(`${name}, base64url (offset ${i})`, window.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  for (const [name, pair] of Object.entries(basicPairs)) {
    const basic = Buffer.from(pair).toString('base64');
    add(`Basic header of ${name}`, basic);
    add(`Basic header of ${name}, URL-encoded`, encodeURIComponent(basic), true);
    add(`Basic header of ${name}, base64url`, Buffer.from(pair).toString('base64url'));
  }
  return needles;
}

const NEEDLES = needlesFor(
  { token: TOKEN, password: PASSWORD, 'client secret': CLIENT_SECRET },
  { 'email/token:TOKEN': `${EMAIL}/token:${TOKEN}`, 'email:PASSWORD': `${EMAIL}:${PASSWORD}` },
);

interface Finding {
  where: string;
  what: string;
  context: string;
}

function findSecrets(where: string, text: string, needles: Needle[] = NEEDLES): Finding[] {
  const findings: Finding[] = [];
  const lower = text.toLowerCase();
  for (const needle of needles) {
    const at = needle.ignoreCase ? lower.indexOf(needle.value.toLowerCase()) : text.indexOf(needle.value);
    if (at >= 0) {
      const context = text.slice(Math.max(0, at - 80), at + needle.value.length + 40).replace(/\s+/g, ' ');
      findings.push({ where, what: needle.what, context });
    }
  }
  return findings;
}

function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.where}: ${f.what} in …${f.context}…`).join('\n');
}

function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  return undefined;
}

/**
 * A payload as it appears in a history: in proto-JSON (`historyToJSON`, `temporal workflow show --output json`)
 * metadata values and data are base64 strings; in the SDK's objects they are Uint8Arrays.
 */
function asPayload(value: Record<string, unknown>): Payload | undefined {
  const metadata = value.metadata;
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  const entries = Object.entries(metadata as Record<string, unknown>);
  if (!entries.some(([key]) => key === 'encoding')) return undefined;
  const decodedMetadata: Record<string, Uint8Array> = {};
  for (const [key, v] of entries) {
    const bytes = bytesOf(v);
    if (!bytes) return undefined;
    decodedMetadata[key] = bytes;
  }
  const data = value.data === undefined || value.data === null ? new Uint8Array() : bytesOf(value.data);
  if (!data) return undefined;
  return { metadata: decodedMetadata, data };
}

/** Every payload through the codec chain in decoding order (gzip, claim check): what the payload really says. */
async function decodePayload(payload: Payload, converter: DataConverter): Promise<Payload> {
  let payloads = [payload];
  for (const codec of [...(converter.payloadCodecs ?? [])].reverse()) payloads = await codec.decode(payloads);
  return payloads[0];
}

interface Expanded {
  texts: string[];
  /** Payloads that the codec changed (gzip or claim-check): proof that the decoding step ran. */
  decodedPayloads: number;
}

/**
 * Every string and byte array in a value (parsed JSON or SDK objects), and every payload decoded: its metadata and
 * data as UTF-8 text. A secret gzipped into a payload is invisible in the raw text; it is visible here.
 */
async function expand(value: unknown, converter: DataConverter, out: Expanded = { texts: [], decodedPayloads: 0 }) {
  if (value === null || value === undefined) return out;
  if (typeof value === 'string') out.texts.push(value);
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    out.texts.push(String(value));
  } else if (value instanceof Uint8Array) {
    out.texts.push(Buffer.from(value).toString('utf8'), Buffer.from(value).toString('base64'));
  } else if (value instanceof Date) {
    out.texts.push(value.toISOString());
  } else if (Array.isArray(value)) {
    for (const item of value) await expand(item, converter, out);
  } else if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const payload = asPayload(record);
    if (payload) {
      const decoded = await decodePayload(payload, converter);
      if (decoded !== payload) out.decodedPayloads++;
      for (const [key, bytes] of Object.entries(decoded.metadata ?? {})) {
        out.texts.push(key, Buffer.from(bytes).toString('utf8'));
      }
      out.texts.push(Buffer.from(decoded.data ?? new Uint8Array()).toString('utf8'));
    }
    for (const [key, child] of Object.entries(record)) {
      out.texts.push(key);
      await expand(child, converter, out);
    }
  }
  return out;
}

/** Scans a text as it is and, when it is JSON, every payload in it decoded. */
async function scanText(where: string, text: string, converter: DataConverter) {
  const findings = findSecrets(where, text);
  let decodedPayloads = 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { findings, decodedPayloads };
  }
  const expanded = await expand(parsed, converter);
  decodedPayloads = expanded.decodedPayloads;
  findings.push(...findSecrets(`${where} (payloads decoded)`, expanded.texts.join('\n')));
  return { findings, decodedPayloads };
}

// ---------------------------------------------------------------------------------------------------------------

/** The real Temporal CLI, as an operator or a support engineer would read a history. */
async function temporalShow(workflowId: string, runId: string, raw: boolean): Promise<string> {
  const { address } = testEnv();
  const args = ['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--output', 'json'];
  args.push('--address', address, '--namespace', 'default', '--disable-config-file', '--disable-config-env');
  if (raw) args.push('--no-json-shorthand-payloads');
  const cli = findTemporalCli();
  if (!cli) throw new Error('the Temporal CLI is not found, though the global set-up found it');
  const { stdout } = await execFileAsync(cli, args, {
    maxBuffer: 256 * 1024 * 1024,
    env: { PATH: process.env.PATH, HOME: testEnv().tmpDir },
  });
  return stdout;
}

/** `src/cli/main.ts` as a child process: everything it writes to stdout and stderr. */
async function spawnCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_NODE_TRANSPILE_ONLY: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

const cliInProcess = runCliCaptured;

async function statusOf(client: Client, workflowId: string): Promise<ExportStatus> {
  return client.workflow.getHandle(workflowId).query(statusQuery);
}

/** Everything Temporal holds about a workflow id: each run's history (two readers), search attributes, memo. */
async function temporalHaystacks(client: Client, workflowId: string, converter: DataConverter) {
  const findings: Finding[] = [];
  let decodedPayloads = 0;
  let events = '';
  const runs = await fetchRunHistories(client, workflowId);
  for (const { runId, json } of runs) {
    events += json;
    const fromSdk = await scanText(`history of ${workflowId} run ${runId} (client API)`, json, converter);
    const shown = await temporalShow(workflowId, runId, false);
    const fromCli = await scanText(`temporal workflow show ${workflowId} ${runId}`, shown, converter);
    const shownRaw = await temporalShow(workflowId, runId, true);
    const fromCliRaw = await scanText(
      `temporal workflow show --no-json-shorthand-payloads ${runId}`,
      shownRaw,
      converter,
    );
    findings.push(...fromSdk.findings, ...fromCli.findings, ...fromCliRaw.findings);
    decodedPayloads += fromSdk.decodedPayloads + fromCliRaw.decodedPayloads;
  }
  // Search attributes and memo: of the current run (describe) and of every run (visibility).
  const description = await client.workflow.getHandle(workflowId).describe();
  const described = await expand(
    {
      raw: description.raw,
      searchAttributes: description.searchAttributes,
      typed: description.typedSearchAttributes.getAll().map((pair) => ({ key: pair.key.name, value: pair.value })),
      memo: await description.memo,
    },
    converter,
  );
  findings.push(...findSecrets(`describe() of ${workflowId}`, described.texts.join('\n')));
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const listed = await expand(
      {
        searchAttributes: execution.searchAttributes,
        typed: execution.typedSearchAttributes.getAll().map((pair) => ({ key: pair.key.name, value: pair.value })),
        memo: await execution.memo,
      },
      converter,
    );
    findings.push(...findSecrets(`visibility of ${workflowId} run ${execution.runId}`, listed.texts.join('\n')));
  }
  return { findings, decodedPayloads, runs: runs.length, events };
}

describe('no credential anywhere', () => {
  let h: Harness | undefined;
  let second: Emulator | undefined;
  let worker: WorkerProcess | undefined;
  let foreign: http.Server | undefined;

  afterEach(async () => {
    if (worker) {
      worker.child.kill('SIGKILL');
      await worker.exited;
      worker = undefined;
    }
    if (second && h) {
      await h.client.workflow
        .getHandle(workflowIdFor(new URL(second.url).host))
        .terminate('test finished')
        .catch(() => undefined);
    }
    await second?.close();
    second = undefined;
    await h?.close();
    h = undefined;
    if (foreign) await new Promise((resolve) => foreign!.close(resolve));
    foreign = undefined;
  });

  test('positive control: the scanner finds a secret in every form and every reader, gzip-compressed included', async () => {
    expect(base64Windows('abcdef')).toEqual(['YWJjZGVm', 'FiY2RlZ', 'hYmNkZW']);
    const pairs = Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64');
    expect(findSecrets('plain', `error: bad token ${TOKEN}`).map((f) => f.what)).toContain('token');
    expect(findSecrets('header', `Authorization: Basic ${pairs}`).map((f) => f.what)).toContain(
      'Basic header of email/token:TOKEN',
    );
    expect(findSecrets('query', `?password=${encodeURIComponent(PASSWORD).toLowerCase()}`)).not.toHaveLength(0);
    expect(findSecrets('json', JSON.stringify({ p: PASSWORD }))).not.toHaveLength(0);
    // The token inside a longer base64 text, at each alignment (a history's payload data in proto-JSON).
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      const blob = Buffer.from(`{"note":"${prefix}${TOKEN}"}`).toString('base64');
      expect(findSecrets('base64 blob', blob)).not.toHaveLength(0);
    }

    // A secret gzipped by our codec into a payload of a history: invisible as raw text, found once decoded.
    const converter = createDataConverter();
    const big = { rows: Array.from({ length: 50 }, (_, i) => ({ id: i, subject: 'x'.repeat(40) })), note: TOKEN };
    const plain: Payload = {
      metadata: { encoding: Buffer.from('json/plain') },
      data: Buffer.from(JSON.stringify(big)),
    };
    const [gzipped] = await new GzipPayloadCodec().encode([plain]);
    expect(Buffer.from(gzipped.metadata!.encoding!).toString()).toBe('binary/gzip');
    const history = {
      events: [
        {
          eventType: 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
          activityTaskCompletedEventAttributes: { result: { payloads: [gzipped] } },
        },
      ],
    };
    const json = historyToJSON(history as never);
    expect(findSecrets('raw history', json)).toHaveLength(0);
    const scanned = await scanText('history', json, converter);
    expect(scanned.decodedPayloads).toBe(1);
    expect(scanned.findings.map((f) => f.what)).toContain('token');

    // End to end: a workflow that does carry the token (in its gzipped input and its memo) is caught by every reader.
    const hh = (h = await startHarness({ worker: false, start: false }));
    const workflowId = `secrets-control-${randomUUID()}`;
    const handle = await hh.client.workflow.start('ticketExportWorkflow', {
      taskQueue: `secrets-control-${randomUUID()}`,
      workflowId,
      args: [{ account: 'control', padding: 'p'.repeat(2000), leaked: TOKEN } as never],
      memo: { leaked: PASSWORD },
    });
    try {
      const haystacks = await temporalHaystacks(hh.client, workflowId, createDataConverter(hh.blobStore));
      expect(haystacks.decodedPayloads).toBeGreaterThan(0);
      const where = new Set(haystacks.findings.map((f) => `${f.where.replace(/ [0-9a-f-]{36}/g, '')}: ${f.what}`));
      expect([...where]).toEqual(
        expect.arrayContaining([
          `history of ${workflowId} run (client API) (payloads decoded): token`,
          `temporal workflow show ${workflowId} (payloads decoded): token`,
          `temporal workflow show --no-json-shorthand-payloads (payloads decoded): token`,
          `describe() of ${workflowId}: password`,
        ]),
      );
      // Gzipped, the token is in no raw text: only decoding finds it.
      expect([...where].filter((w) => w.endsWith(': token') && !w.includes('decoded'))).toEqual([]);
    } finally {
      await handle.terminate('control finished');
    }
  });

  test('a full export with faults and continue-as-new: no credential in histories, attributes, logs or CLI output', async () => {
    // Two accounts in one worker: one signs in with the API token, the other with OAuth client credentials.
    const emulatorOptions = {
      ticketCount: 1000,
      pageSize: 200,
      windowSeconds: 0,
      minStartAgeSeconds: 1,
      credentials: CREDENTIALS,
    };
    const hh = (h = await startHarness({ worker: false, start: false, emulator: emulatorOptions }));
    second = await startEmulator({
      ...emulatorOptions,
      oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
      // Short-lived tokens: the worker holds several in turn, and each one is searched for.
      oauthTokenTtlSeconds: 3,
    });
    const tokenAccount = hh.account;
    const oauthAccount = new URL(second.url).host;
    // Each account's variables carry its name (accounts file rule): _127_0_0_1_<port>_ZENDESK_…
    const tokenVariable = `${accountVariablePrefix(tokenAccount)}API_TOKEN`;
    const secretVariable = `${accountVariablePrefix(oauthAccount)}OAUTH_CLIENT_SECRET`;
    const accountsFile = path.join(testEnv().tmpDir, `accounts-${randomUUID()}.yaml`);
    fs.writeFileSync(
      accountsFile,
      [
        'accounts:',
        `  - baseUrl: ${hh.emulator.url}`,
        `    email: ${EMAIL}`,
        `    apiTokenEnv: ${tokenVariable}`,
        `  - baseUrl: ${second.url}`,
        `    oauthClientId: ${CLIENT_ID}`,
        `    oauthClientSecretEnv: ${secretVariable}`,
        '',
      ].join('\n'),
    );
    // The operator's environment is the worker's (as the README has it): the CLI holds the secrets too.
    const env = {
      ZENDESK_ACCOUNTS_FILE: accountsFile,
      [tokenVariable]: TOKEN,
      [secretVariable]: CLIENT_SECRET,
      TEMPORAL_ADDRESS: hh.config.temporal.address,
      TEMPORAL_TASK_QUEUE: hh.taskQueue,
      SINK_URL: hh.config.sinkUrl,
      EXPORT_POLL_INTERVAL_SECONDS: '0.5',
      EXPORT_MIN_START_AGE_SECONDS: '1',
      // The faults below go to the tickets stream's calls; the streams around the ticket have their own secrets test.
      EXPORT_STREAMS: 'tickets',
    };
    // First call of each account: 401 (blocked until resume). With OAuth the attempt that met the 401 fails for now and
    // its retry carries a new token: a second 401 blocks.
    hh.emulator.injectFaults([{ kind: 'status', status: 401 }]);
    second.injectFaults([
      { kind: 'status', status: 401 },
      { kind: 'status', status: 401 },
    ]);
    worker = spawnWorkerProcess({ ...env, LOG_LEVEL: 'DEBUG' });
    const cliOutputs: { what: string; output: string }[] = [];
    const cli = async (args: string[], extra: Record<string, string> = {}) => {
      const result = await cliInProcess(args, { ...env, ...extra });
      cliOutputs.push({ what: `client ${args.join(' ')}`, output: result.output });
      return result;
    };

    expect(await cli(['start', '--all', '--start-time', '0', '--pages-per-run', '2'])).toMatchObject({ code: 0 });
    const ids = [workflowIdFor(tokenAccount), workflowIdFor(oauthAccount)];
    for (const id of ids) {
      const blocked = await waitFor(
        `${id} blocked by the 401`,
        async () => {
          const s = await statusOf(hh.client, id);
          return s.phase === 'blocked' ? s : undefined;
        },
        30_000,
      ).catch((err) => {
        throw new Error(`${err.message}\nworker: ${worker?.output()}`);
      });
      expect(blocked.lastError).toMatch(/: 401 /);
    }

    // Then every kind of failure, retried inside the activity or slept on by the workflow.
    hh.emulator.injectFaults([
      {
        kind: 'status',
        status: 500,
        body: '{"error":"InternalError","description":"Something went wrong, try again"}',
      },
      { kind: 'rateLimit', retryAfter: '1' },
      { kind: 'truncated' },
      { kind: 'body', body: '{"error":"RecordInvalid","description":"Record validation errors"}' },
    ]);
    second.injectFaults([{ kind: 'status', status: 503, retryAfter: '1' }, { kind: 'html200' }]);
    expect(await cli(['resume', '--all'])).toMatchObject({ code: 0 });

    const compare = () =>
      Promise.all([
        hh.compareWithTruth(),
        compareSinkWithTruth(hh.sink, oauthAccount, 'exports', second!, 'sqlite'),
      ]).then((diffs) => diffs.filter(Boolean).join('; '));
    let last = '';
    await waitFor('both sinks to equal the truth', async () => (last = await compare()) === '', 45_000, 250).catch(
      (err) => {
        throw new Error(`${err.message}: ${last}\nworker: ${worker?.output()}`);
      },
    );

    // The operator's views, in-process and as real processes.
    expect((await cli(['status', '--all'])).code).toBe(0);
    expect((await cli(['status', '--all', '--json'])).code).toBe(0);
    expect((await cli(['status', '--account', tokenAccount, '--json'])).code).toBe(0);
    const wrong = await cli(['check', '--account', tokenAccount], { [tokenVariable]: WRONG_TOKEN });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toMatch(/401/);
    expect(wrong.output).not.toContain(WRONG_TOKEN);
    const [spawnedCheck, spawnedStatus] = await Promise.all([
      spawnCli(['check', '--all'], env),
      spawnCli(['status', '--all', '--json'], env),
    ]);
    expect(spawnedCheck).toMatchObject({ code: 0 });
    expect(spawnedCheck.output).toMatch(/OK: .* accepted the credentials/);
    expect(spawnedCheck.output).toContain(`OAuth client credentials (client ${CLIENT_ID}, scope "read"`);
    const wrongSecret = await cli(['check', '--account', oauthAccount], { [secretVariable]: WRONG_TOKEN });
    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.output).toMatch(/check failed: no OAuth token: POST \S+\/oauth\/tokens \(OAuth client /);
    expect(wrongSecret.output).not.toContain(WRONG_TOKEN);
    expect(spawnedStatus).toMatchObject({ code: 0 });
    cliOutputs.push({ what: 'process client check --all', output: spawnedCheck.output });
    cliOutputs.push({ what: 'process client status --all --json', output: spawnedStatus.output });

    // The worker stops gracefully, so its last log lines are in.
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const workerOutput = worker.output();
    worker = undefined;
    expect(workerOutput).toContain('Worker ready');
    expect(workerOutput).toContain(`Zendesk account ${oauthAccount}: OAuth client credentials (client ${CLIENT_ID}`);
    expect(workerOutput).toMatch(/DEBUG/); // LOG_LEVEL=DEBUG took effect: the most text the worker writes

    // Every access token the emulator issued during the run, in every form, joins the client secret and the token.
    const issued = second.issuedTokens();
    expect(issued.length).toBeGreaterThanOrEqual(2);
    NEEDLES.push(...needlesFor(Object.fromEntries(issued.map((t, i) => [`access token ${i + 1}`, t])), {}));

    // Everything Temporal holds, decoded with the worker's own converter (gzip + claim check from the sink file).
    const converter = createDataConverter(hh.blobStore);
    const findings: Finding[] = [];
    let decodedPayloads = 0;
    for (const id of ids) {
      const scanned = await temporalHaystacks(hh.client, id, converter);
      findings.push(...scanned.findings);
      decodedPayloads += scanned.decodedPayloads;
      // The histories hold what the test means them to: several runs, a permanent failure, retried failures.
      expect(scanned.runs).toBeGreaterThanOrEqual(3);
      expect(scanned.events).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
      expect(scanned.events).toContain('EVENT_TYPE_ACTIVITY_TASK_FAILED');
      expect(scanned.events).toMatch(/"lastFailure"/);
      expect(scanned.events).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    }
    expect(decodedPayloads).toBeGreaterThan(0); // pages were gzipped, and were read decoded
    findings.push(...findSecrets('worker stdout+stderr', workerOutput));
    for (const { what, output } of cliOutputs) findings.push(...findSecrets(what, output));
    expect(describeFindings(findings)).toBe('');
    expect(hh.emulator.stats().byStatus['401']).toBeGreaterThanOrEqual(2); // the fault and the wrong token
  });

  test('a token endpoint that quotes the request (a proxy, a firewall): no credential in failures, status or logs', async () => {
    // The worker signs in with OAuth client credentials; the token endpoint's refusals quote the request body, and so
    // the client secret: first a 500 (retried), then a 400 (the export blocks until resume).
    const client = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    const hh = (h = await startHarness({
      worker: false,
      start: false,
      auth: { mode: 'oauth_client_credentials', ...client, scope: 'read', tokenTtlSeconds: 3600 },
      emulator: { ticketCount: 300, windowSeconds: 0, oauthClients: [client] },
    }));
    hh.emulator.injectTokenFaults([
      { kind: 'echo', status: 500 },
      { kind: 'echo', status: 400 },
    ]);
    worker = spawnWorker(hh, { LOG_LEVEL: 'DEBUG' });
    await hh.startWorkflow();
    const blocked = await waitFor(
      'blocked by the 400',
      async () => {
        const s = await hh.status();
        return s.blocked ? s : undefined;
      },
      30_000,
    ).catch((err) => {
      throw new Error(`${err.message}\nworker: ${worker?.output()}`);
    });
    // The quote reached the status, blanked.
    expect(blocked.lastError).toMatch(
      /oauth\/tokens \(OAuth client zte-secrets-client\): 400 \(request_rejected: Blocked: POST \/oauth\/tokens \{.*"client_secret":"\[redacted\]"/,
    );
    await hh.handle.signal(resumeSignal);
    await hh.waitForTruth(30_000);
    const end = await hh.status();
    expect(end.lastError).toBeNull();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const workerOutput = worker.output();
    worker = undefined;
    expect(hh.emulator.stats().tokenLog.map((e) => `${e.status} ${e.fault ?? ''}`.trim())).toEqual([
      '500 echo',
      '400 echo',
      '200',
    ]);
    // The worker logged the failed attempts (what a leak would have carried into its log).
    expect(workerOutput).toMatch(/OAuth client zte-secrets-client\): 500 \(request_rejected/);

    const issued = hh.emulator.issuedTokens();
    const needles = [
      ...NEEDLES,
      ...needlesFor(Object.fromEntries(issued.map((t, i) => [`access token ${i + 1}`, t])), {}),
    ];
    const scanned = await temporalHaystacks(hh.client, hh.workflowId, createDataConverter(hh.blobStore));
    // Both refusals are failures in the history: the retried attempt's (lastFailure) and the one that blocked.
    expect(scanned.events).toMatch(
      /"lastFailure": \{\s*"message": "POST [^"]+ \(OAuth client zte-secrets-client\): 500 /,
    );
    expect(scanned.events).toMatch(/"message": "POST [^"]+ \(OAuth client zte-secrets-client\): 400 /);
    const findings = [
      ...scanned.findings,
      ...findSecrets('worker stdout+stderr', workerOutput, needles),
      ...findSecrets('status while blocked', [blocked.lastError, ...blocked.warnings].join('\n'), needles),
      ...findSecrets('status at the end', JSON.stringify(end), needles),
    ];
    expect(describeFindings(findings)).toBe('');
  });

  test.each<[ExportApi, string]>([
    ['exports', 'next_page'],
    ['incremental', 'next_page'],
    ['cursor', 'after_url'],
  ])('%s: a %s on another origin gets no request and is reported', async (api, field) => {
    const received: { method?: string; url?: string; authorization?: string }[] = [];
    foreign = http.createServer((req, res) => {
      received.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => foreign!.listen(0, '127.0.0.1', resolve));
    const foreignOrigin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;

    const hh = (h = await startHarness({
      start: false,
      apiToken: TOKEN,
      emulator: {
        ticketCount: 600,
        windowSeconds: 0,
        credentials: CREDENTIALS,
        incrementalMinStartAgeSeconds: 1,
        incrementalRequestsPerMinute: 0,
      },
      input: { api, requestsPerMinute: 600 },
    }));
    const paths: Record<ExportApi, string> = {
      exports: '/api/v2/exports/tickets.json?start_time=1',
      incremental: '/api/v2/incremental/tickets.json?start_time=1',
      cursor: '/api/v2/incremental/tickets/cursor.json?cursor=abc',
    };
    const foreignUrl = `${foreignOrigin}${paths[api]}`;
    const bodies: Record<ExportApi, object> = {
      exports: { results: [], end_time: null, next_page: foreignUrl },
      incremental: { tickets: [], count: 0, end_time: null, next_page: foreignUrl, end_of_stream: false },
      cursor: { tickets: [], after_cursor: null, after_url: foreignUrl, end_of_stream: false },
    };
    expect(JSON.stringify(bodies[api])).toContain(`"${field}":"${foreignOrigin}`);
    hh.emulator.injectFaults([{ kind: 'body', body: JSON.stringify(bodies[api]) }]);
    await hh.startWorkflow();
    await hh.waitForTruth(30_000);

    const status = await hh.status();
    expect(status.warnings.join('\n')).toContain(
      `next page URL points to another origin and was ignored: ${foreignUrl}`,
    );
    expect(hh.emulator.stats().log[0]).toMatchObject({ fault: 'body' }); // the foreign link was served
    expect(received.filter((r) => r.authorization !== undefined)).toEqual([]);
    expect(received).toEqual([]);
  });

  test.each(['api_token', 'oauth_client_credentials'] as const)(
    'all five streams (%s) with a 401, a 429, an echoing 502 and foreign next pages on stream pages: no credential anywhere',
    async (mode) => {
      const received: { url?: string; authorization?: string }[] = [];
      foreign = http.createServer((req, res) => {
        received.push({ url: req.url, authorization: req.headers.authorization });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      });
      await new Promise<void>((resolve) => foreign!.listen(0, '127.0.0.1', resolve));
      const foreignOrigin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
      const client = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
      const oauth = mode === 'oauth_client_credentials';
      const auth: ZendeskAuth = oauth
        ? { mode, ...client, scope: 'read', tokenTtlSeconds: 3600 }
        : { mode, email: EMAIL, apiToken: TOKEN };
      const hh = (h = await startHarness({
        worker: false,
        start: false,
        auth,
        emulator: {
          ticketCount: 60,
          windowSeconds: 0,
          minStartAgeSeconds: 1,
          incrementalRequestsPerMinute: 0,
          usersCursorRequestsPerMinute: 0,
          incrementalMinStartAgeSeconds: 1,
          credentials: CREDENTIALS,
          // Short-lived tokens: the worker holds several in turn, and each one is searched for.
          ...(oauth && { oauthClients: [client], oauthTokenTtlSeconds: 3 }),
        },
        input: {
          api: 'cursor',
          streams: [...STREAMS],
          perPage: 50,
          pollIntervalSeconds: 1,
          minStartAgeSeconds: 1,
          requestsPerMinute: 600,
          usersRequestsPerMinute: 1200,
        },
      }));
      hh.emulator.injectFaults([
        // A 401 blocks ticket events until resume (with OAuth the retry carries a new token: a second 401 blocks).
        { kind: 'status', status: 401, stream: 'ticket_events', count: oauth ? 2 : 1 },
        { kind: 'rateLimit', stream: 'users', retryAfter: '1' },
        // A proxy's refusal that quotes the request, Authorization header and all: retried. The first one quotes it
        // after a long URL, past the 200 characters of a body an error message keeps; the second at its start.
        { kind: 'echo', status: 502, stream: 'ticket_metric_events' },
        {
          kind: 'status',
          status: 502,
          stream: 'ticket_metric_events',
          body: oauth
            ? `Bad gateway. Request body: grant_type=client_credentials&client_secret=${CLIENT_SECRET}`
            : `Bad gateway. Request headers: Authorization: Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')} (token ${TOKEN})`,
        },
        {
          kind: 'body',
          stream: 'organizations',
          body: JSON.stringify({
            organizations: [],
            count: 0,
            end_time: null,
            next_page: `${foreignOrigin}/api/v2/incremental/organizations.json?start_time=1`,
            end_of_stream: false,
          }),
        },
        {
          kind: 'body',
          stream: 'users',
          body: JSON.stringify({
            users: [],
            after_cursor: null,
            after_url: `${foreignOrigin}/api/v2/incremental/users/cursor.json?cursor=abc`,
            end_of_stream: false,
          }),
        },
      ]);
      worker = spawnWorker(hh, { LOG_LEVEL: 'DEBUG' });
      await hh.startWorkflow();
      const streamRow = (s: ExportStatus, name: string) => s.streams?.find((row) => row.stream === name);
      const blocked = await waitFor(
        'ticket events blocked by the 401',
        async () => {
          const s = await hh.status();
          return streamRow(s, 'ticket_events')?.blocked ? s : undefined;
        },
        30_000,
      ).catch((err) => {
        throw new Error(`${err.message}\nworker: ${worker?.output()}`);
      });
      expect(streamRow(blocked, 'ticket_events')?.lastError).toMatch(/: 401 /);
      await hh.handle.signal(resumeSignal);

      const tables = STREAMS.filter((s) => s !== 'tickets').flatMap((s) => STREAM_TABLES[s]);
      let last = '';
      const end = await waitFor(
        'every stream equal to the truth',
        async () => {
          const s = await hh.status();
          if (!s.streams?.every((row) => row.caughtUp && !row.blocked)) return undefined;
          last = [await hh.compareWithTruth(), await compareStreamsWithTruth(hh.sink, hh.emulator, hh.account, tables)]
            .filter(Boolean)
            .join('\n');
          return last === '' ? s : undefined;
        },
        90_000,
        500,
      ).catch((err) => {
        throw new Error(`${err.message}: ${last}\nworker: ${worker?.output()}`);
      });
      const statusCli = await cliInProcess(['status', '--json'], {
        ZENDESK_BASE_URL: hh.emulator.url,
        TEMPORAL_ADDRESS: hh.config.temporal.address,
        TEMPORAL_TASK_QUEUE: hh.taskQueue,
      });
      expect(statusCli.code).toBe(0);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const workerOutput = worker.output();
      worker = undefined;

      // The faults happened as meant.
      const { log } = hh.emulator.stats();
      const served = (endpoint: string, what: unknown) =>
        log.some((e) => e.endpoint === endpoint && (e.fault === what || e.status === what));
      expect(served('ticket_events', 401)).toBe(true);
      expect(served('users_cursor', 'rateLimit')).toBe(true);
      expect(served('ticket_metric_events', 'echo') && served('ticket_metric_events', 'status')).toBe(true);
      expect(served('organizations', 'body') && served('users_cursor', 'body')).toBe(true);
      expect(received).toEqual([]); // the foreign links were never followed
      expect(workerOutput).toMatch(/DEBUG/);

      const issued = oauth ? hh.emulator.issuedTokens() : [];
      if (oauth) expect(issued.length).toBeGreaterThanOrEqual(2);
      // Every access token issued joins the secrets searched for, in the histories too (as the test above does).
      NEEDLES.push(...needlesFor(Object.fromEntries(issued.map((t, i) => [`${mode} access token ${i + 1}`, t])), {}));
      const needles = NEEDLES;
      const scanned = await temporalHaystacks(hh.client, hh.workflowId, createDataConverter(hh.blobStore));
      // The histories hold the failures: the 401 that blocked, the echoing 502 retried.
      expect(scanned.events).toMatch(/ticket_events.json\?[^"]*: 401 /);
      expect(scanned.events).toMatch(/"lastFailure"/);
      expect(scanned.events).toMatch(/ticket_metric_events.json\?[^"]*: 502 Bad gateway\. Request /);
      const sinkText = JSON.stringify(
        await Promise.all(['rejected_rows', 'stream_checkpoints'].map((t) => hh.sink.readStreamTable(hh.account, t))),
      );
      const findings = [
        ...scanned.findings,
        ...findSecrets('worker stdout+stderr', workerOutput, needles),
        ...findSecrets('status while blocked', JSON.stringify(blocked), needles),
        ...findSecrets('status at the end', JSON.stringify(end), needles),
        ...findSecrets('client status --json', statusCli.output, needles),
        ...findSecrets('rejected_rows and stream_checkpoints', sinkText, needles),
      ];
      expect(describeFindings(findings)).toBe('');
    },
  );

  test('LOG_FORMAT=json through faults, a blocked export and a token renewal: only JSON lines, events, no credential', async () => {
    const client = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    // Tokens of 40 s: renewed from 32 s on, and one whose renewal fails serves until 38 s, a window the 1 s polls hit.
    const hh = (h = await startHarness({
      worker: false,
      start: false,
      auth: { mode: 'oauth_client_credentials', ...client, scope: 'read', tokenTtlSeconds: 3600 },
      emulator: {
        ticketCount: 300,
        windowSeconds: 0,
        minStartAgeSeconds: 1,
        credentials: CREDENTIALS,
        oauthClients: [client],
        oauthTokenTtlSeconds: 40,
      },
      input: { pollIntervalSeconds: 1, minStartAgeSeconds: 1, requestsPerMinute: 600 },
    }));
    hh.emulator.injectFaults([
      { kind: 'rateLimit', retryAfter: '1' },
      { kind: 'status', status: 500 },
      // A proxy that quotes the request, its Bearer token included: retried, and redacted wherever it is quoted.
      { kind: 'echo', status: 502 },
      { kind: 'status', status: 403 },
    ]);
    const stdout: string[] = [];
    const stderr: string[] = [];
    worker = spawnWorker(hh, { LOG_FORMAT: 'json', LOG_LEVEL: 'DEBUG' });
    worker.child.stdout?.on('data', (d) => stdout.push(String(d)));
    worker.child.stderr?.on('data', (d) => stderr.push(String(d)));
    const lines = () =>
      [...stdout.join('').split('\n'), ...stderr.join('').split('\n')].filter((line) => line.trim() !== '');
    const parsed = () =>
      lines().flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    const withEvent = (event: string) => parsed().filter((line) => line.event === event);
    await hh.startWorkflow();

    await waitFor('the export blocked by the 403', async () => (await hh.status()).blocked || undefined, 60_000).catch(
      (err) => {
        throw new Error(`${err.message}\nworker: ${worker?.output()}`);
      },
    );
    // The renewal of the token in use fails once (a 500 quoting the token request), then succeeds.
    await waitFor('a token issued', () => hh.emulator.issuedTokens().length >= 1, 30_000);
    hh.emulator.injectTokenFaults([{ kind: 'echo', status: 500 }]);
    await hh.handle.signal(resumeSignal);
    await waitFor(
      'the renewal failure logged and a new token issued',
      () => withEvent('token_renewal_failed').length > 0 && hh.emulator.issuedTokens().length >= 2,
      90_000,
      500,
    ).catch((err) => {
      throw new Error(`${err.message}\nworker: ${worker?.output()}`);
    });
    await hh.waitForTruth(30_000);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    worker = undefined;

    const { log, tokenLog } = hh.emulator.stats();
    for (const fault of ['rateLimit', 'echo']) expect(log.some((e) => e.fault === fault)).toBe(true);
    for (const status of [500, 403]) expect(log.some((e) => e.status === status)).toBe(true);
    expect(tokenLog.some((e) => e.fault === 'echo')).toBe(true);

    // Every line of stdout and stderr is one JSON object with a level, a time and a message.
    const notJson = lines().filter((line) => {
      try {
        const value = JSON.parse(line) as unknown;
        return typeof value !== 'object' || value === null || Array.isArray(value);
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    expect(lines().length).toBeGreaterThan(10);
    for (const line of parsed()) {
      expect(line).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
    }
    expect(parsed().some((line) => line.msg === 'Worker ready')).toBe(true);
    expect(parsed().some((line) => line.level === 'debug')).toBe(true);

    // The events an operator acts on, with the workflow's or the activity's context the SDK gives.
    expect(withEvent('export_blocked')[0]).toMatchObject({
      level: 'error',
      account: hh.account,
      stream: 'tickets',
      workflowId: hh.workflowId,
      runId: expect.any(String),
      namespace: 'default',
      taskQueue: hh.taskQueue,
      error: expect.stringMatching(/403 Forbidden/),
    });
    expect(withEvent('token_renewal_failed')[0]).toMatchObject({
      level: 'warn',
      account: hh.account,
      activityId: expect.any(String),
      activityType: 'fetchPage',
      workflowId: hh.workflowId,
      failure: expect.stringMatching(/500/),
    });

    // No credential in any form: the client secret, and every access token the emulator issued.
    const issued = hh.emulator.issuedTokens();
    const needles = [
      ...NEEDLES,
      ...needlesFor(Object.fromEntries(issued.map((t, i) => [`access token ${i + 1}`, t])), {}),
    ];
    const output = lines().join('\n');
    const decoded = parsed()
      .map((line) => JSON.stringify(line))
      .join('\n');
    const converter = createDataConverter(hh.blobStore);
    const scanned = await Promise.all(lines().map((line, i) => scanText(`JSON line ${i + 1}`, line, converter)));
    const findings = [
      ...findSecrets('worker stdout+stderr (LOG_FORMAT=json)', output, needles),
      ...findSecrets('worker lines parsed', decoded, needles),
      ...scanned.flatMap((s) => s.findings),
    ];
    expect(describeFindings(findings)).toBe('');
  });

  test('an error body that echoes the credentials (a proxy, a debug page) is not carried into history or logs', async () => {
    // Some proxies and debug pages echo the request's headers. The client quotes up to 200 characters of an error
    // body in its error message, which becomes the activity failure in the history and a line in the worker log.
    const hh = (h = await startHarness({
      worker: false,
      start: false,
      apiToken: TOKEN,
      emulator: { ticketCount: 300, windowSeconds: 0, credentials: CREDENTIALS },
    }));
    const basic = Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64');
    hh.emulator.injectFaults([
      { kind: 'status', status: 502, body: `Bad gateway. Request headers: Authorization: Basic ${basic}` },
    ]);
    worker = spawnWorker(hh);
    await hh.startWorkflow();
    await hh.waitForTruth(30_000);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(hh.emulator.stats().log[0]).toMatchObject({ status: 502, fault: 'status' });
    const scanned = await temporalHaystacks(hh.client, hh.workflowId, createDataConverter(hh.blobStore));
    // The 502 is in the history as the failure of the attempt before the one that succeeded.
    expect(scanned.events).toMatch(
      /"lastFailure": \{\s*"message": "GET \/api\/v2\/exports\/tickets.json\?start_time=0: 502/,
    );
    const findings = [...scanned.findings, ...findSecrets('worker stdout+stderr', worker.output())];
    worker = undefined;
    expect(describeFindings(findings)).toBe('');
  });
});
