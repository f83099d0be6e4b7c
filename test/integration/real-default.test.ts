import { decodeFromPayloadsAtIndex, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { WorkflowNotFoundError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dataConverter } from '../../src/codec/data-converter';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { workflowIdFor } from '../../src/shared';
import type { ExportInput } from '../../src/workflows/messages';
import { runCliProcess } from '../helpers/cli';
import { Harness, startHarness, testEnv } from '../helpers/harness';
import { startZendeskStandIn, ZendeskStandIn } from '../helpers/zendesk-stand-in';

// The endpoint `start` picks for an account at Zendesk, and the estimate it prints when `exports` is chosen there,
// through the real CLI (a child process), the real Zendesk client and a real dev server. acme.zendesk.com is the
// emulator behind TLS, reached through ZENDESK_HTTPS_PROXY (a CONNECT tunnel) with its certificate trusted by
// NODE_EXTRA_CA_CERTS: nothing here leaves the machine.

const TICKETS = 1234;
const WRONG_TOKEN = 'wrong-token-8c31f0d7a2';

describe('start: the cursor endpoint by default at <subdomain>.zendesk.com, an estimate when exports is chosen', () => {
  let h: Harness;
  let zendesk: ZendeskStandIn;

  beforeAll(async () => {
    h = await startHarness({ start: false, worker: false, emulator: { ticketCount: TICKETS } });
    zendesk = await startZendeskStandIn({
      subdomain: 'acme',
      emulatorPort: Number(new URL(h.emulator.url).port),
      dir: testEnv().tmpDir,
    });
  });
  afterAll(async () => {
    await zendesk?.close();
    await h?.close();
  });

  /** The CLI as an operator runs it against acme.zendesk.com, with the worker's credentials in its environment. */
  async function start(args: string[], env: Record<string, string> = {}) {
    const result = await runCliProcess(['start', ...args], {
      ZENDESK_SUBDOMAIN: 'acme',
      ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
      ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
      ZENDESK_HTTPS_PROXY: zendesk.proxyUrl,
      NODE_EXTRA_CA_CERTS: zendesk.caFile,
      ZENDESK_TIMEOUT_SECONDS: '10',
      TEMPORAL_ADDRESS: testEnv().address,
      TEMPORAL_TASK_QUEUE: h.taskQueue,
      ...env,
    });
    expect(result.output).not.toContain(DEFAULT_CREDENTIALS.apiToken);
    expect(result.output).not.toContain(WRONG_TOKEN);
    return result;
  }

  /** The input the started workflow got (no worker runs: the history's first event holds it). */
  async function startedInput(account: string): Promise<ExportInput> {
    const handle = h.client.workflow.getHandle(workflowIdFor(account));
    const history = await handle.fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    return decodeFromPayloadsAtIndex<ExportInput>(loadDataConverter(dataConverter), 0, payloads);
  }

  /** Each case starts zendesk-export-acme afresh. */
  async function terminate(account: string): Promise<void> {
    await h.client.workflow
      .getHandle(workflowIdFor(account))
      .terminate('next case')
      .catch((err) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  }
  beforeEach(() => terminate('acme'));

  const ESTIMATE =
    'acme: exports reads 1,000 tickets per 5 minutes: 1,234 tickets take about 10 minutes to back-fill; the cursor ' +
    'endpoint (--api cursor) would take about 12 seconds.';

  test('no endpoint chosen: cursor, and no estimate (no call to Zendesk)', async () => {
    const counted = h.emulator.stats().ticketCountCalls;
    const result = await start([]);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out.split('\n').pop()).toBe(`Started zendesk-export-acme on task queue ${h.taskQueue}.`);
    expect(result.out).not.toMatch(/back-fill|exports reads/);
    expect(await startedInput('acme')).toMatchObject({ account: 'acme', api: 'cursor', minStartAgeSeconds: 60 });
    expect(h.emulator.stats().ticketCountCalls).toBe(counted);
  });

  test('--api exports: the estimate from Zendesk’s ticket count, then the start (with --json: as numbers)', async () => {
    const connects = zendesk.connects.length;
    const result = await start(['--api', 'exports']);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out.split('\n').slice(-2)).toEqual([
      ESTIMATE,
      `Started zendesk-export-acme on task queue ${h.taskQueue}.`,
    ]);
    expect(await startedInput('acme')).toMatchObject({ account: 'acme', api: 'exports', minStartAgeSeconds: 300 });
    // The count went to acme.zendesk.com, through the tunnel.
    expect(zendesk.connects.slice(connects)).toEqual(['acme.zendesk.com:443']);

    // --json: the estimate, as numbers, with the account's start result.
    await terminate('acme');
    const json = await start(['--api', 'exports', '--json']);
    expect(json).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(json.out)).toEqual({
      command: 'start',
      ok: true,
      exitCode: 0,
      messages: [ESTIMATE, `Started zendesk-export-acme on task queue ${h.taskQueue}.`],
      results: [
        expect.objectContaining({
          account: 'acme',
          outcome: 'started',
          api: 'exports',
          backfillEstimate: {
            account: 'acme',
            tickets: TICKETS,
            ticketsAtLeast: false,
            exports: { rowsPerCall: 1000, intervalMs: 300_000 },
            exportsSeconds: 600,
            cursor: { rowsPerCall: 1000, intervalMs: 6_000 },
            cursorSeconds: 12,
          },
        }),
      ],
    });
  });

  test('ZENDESK_EXPORT_API=exports, or `api: exports` in the accounts file: the same estimate', async () => {
    const result = await start([], { ZENDESK_EXPORT_API: 'exports' });
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out.split('\n').slice(-2)).toEqual([
      ESTIMATE,
      `Started zendesk-export-acme on task queue ${h.taskQueue}.`,
    ]);
    expect(await startedInput('acme')).toMatchObject({ api: 'exports' });

    await terminate('acme');
    const file = path.join(testEnv().tmpDir, `accounts-${randomUUID()}.yaml`);
    const entry = {
      subdomain: 'acme',
      api: 'exports',
      email: DEFAULT_CREDENTIALS.email,
      apiTokenEnv: 'ACME_ZENDESK_T',
    };
    fs.writeFileSync(file, JSON.stringify({ accounts: [entry] }));
    const fromFile = await start([], {
      ZENDESK_ACCOUNTS_FILE: file,
      ZENDESK_SUBDOMAIN: '',
      ZENDESK_EMAIL: '',
      ZENDESK_API_TOKEN: '',
      ACME_ZENDESK_T: DEFAULT_CREDENTIALS.apiToken,
    });
    expect(fromFile).toMatchObject({ code: 0, err: '' });
    expect(fromFile.out.split('\n').slice(-2)).toEqual([
      ESTIMATE,
      `Started zendesk-export-acme on task queue ${h.taskQueue}.`,
    ]);
  });

  test('a count that fails is a one-line warning naming why, without the credentials; the start goes ahead', async () => {
    const refused = await start(['--api', 'exports'], { ZENDESK_API_TOKEN: WRONG_TOKEN });
    expect(refused.code).toBe(0);
    expect(refused.err).toMatch(
      /^Warning: acme: no back-fill estimate, the ticket count failed \(GET \/api\/v2\/tickets\/count\.json: 401 Unauthorized: check ZENDESK_EMAIL and ZENDESK_API_TOKEN.*\); exports reads 1,000 tickets per 5 minutes, the cursor endpoint \(--api cursor\) 1,000 tickets per 6 seconds\.$/,
    );
    expect(refused.err.split('\n')).toHaveLength(1);
    expect(refused.out).toBe(`Started zendesk-export-acme on task queue ${h.taskQueue}.`);
    expect(await startedInput('acme')).toMatchObject({ api: 'exports' });

    // No credentials where the CLI runs (the client needs none): said so, and started all the same.
    await terminate('acme');
    const unsigned = await start(['--api', 'exports'], { ZENDESK_EMAIL: '', ZENDESK_API_TOKEN: '' });
    expect(unsigned.code).toBe(0);
    expect(unsigned.err).toMatch(
      /^Warning: acme: no back-fill estimate, the ticket count failed \(the worker's Zendesk settings are not in this environment: ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or .*: one way for the worker to sign in is required.*\); exports reads/,
    );
    expect(unsigned.out).toBe(`Started zendesk-export-acme on task queue ${h.taskQueue}.`);
  });

  test('the emulator’s own URL, no endpoint chosen: exports, and no estimate', async () => {
    const counted = h.emulator.stats().ticketCountCalls;
    const result = await start([], { ZENDESK_SUBDOMAIN: '', ZENDESK_BASE_URL: h.emulator.url });
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toBe(`Started ${h.workflowId} on task queue ${h.taskQueue}.`);
    expect(await startedInput(h.account)).toMatchObject({
      account: h.account,
      api: 'exports',
      minStartAgeSeconds: 300,
    });
    expect(h.emulator.stats().ticketCountCalls).toBe(counted);
  });
});
