import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import { SqliteBlobStore } from '../../src/codec/blob-store';
import { createDataConverter } from '../../src/codec/claim-check';
import { CodecServer, startCodecServer } from '../../src/codec/codec-server';
import { ENCRYPTED_ENCODING, encryptionKey } from '../../src/codec/encryption-codec';
import { EncryptionSettings, encryptionCodecOf } from '../../src/codec/encryption-keys';
import { DevServer, freePort, ROOT, startDevServer } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS, Emulator, startEmulator } from '../../src/emulator';
import { workflowIdFor } from '../../src/shared';
import { SqliteSink } from '../../src/storage/sqlite';
import { exportStartOptions } from '../../src/temporal/start-options';
import { createExportWorker } from '../../src/worker';
import { ZendeskAuth } from '../../src/zendesk/auth';
import { quietRuntime, testEnv, waitFor } from '../helpers/harness';
import { chromiumPath, requirePrerequisites } from '../helpers/prerequisites';

const ARTIFACTS = path.join(ROOT, 'test/artifacts');
// The screenshot in docs/operations.md, refreshed only on request
// (UPDATE_DOCS_SCREENSHOT=1 npx jest test/integration/web-ui.test.ts), so that a test run leaves the working tree as
// it found it.
const DOCS_SCREENSHOT = path.join(ROOT, 'docs/web-ui.png');
const UPDATE_DOCS_SCREENSHOT = process.env.UPDATE_DOCS_SCREENSHOT === '1';
const TICKET_COUNT = 1500;
const UI_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 180_000;

function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The text of a locator once it contains every one of `expected`, polled while the UI loads. */
async function textContaining(locator: Locator, ...expected: string[]): Promise<string> {
  let last = '';
  try {
    return await waitFor(
      `the Web UI to show ${expected.join(', ')}`,
      async () => {
        last = await locator.innerText({ timeout: 2_000 });
        return expected.every((text) => last.includes(text)) && last;
      },
      UI_TIMEOUT_MS,
      500,
    );
  } catch {
    // The assertion shows what was there instead.
    return last;
  }
}

function apiTokenCredentials(): ZendeskAuth {
  return { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

/** Runs every step even when one fails, then reports the first failure. */
async function closeAll(steps: (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}

/** How the server stores the result of an event: the encoding of its first payload, before any codec. */
async function storedResultEncoding(connection: Connection, workflowId: string, eventId: number): Promise<string> {
  const { history } = await connection.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId },
    maximumPageSize: eventId,
  });
  const event = history?.events?.find((e) => Number(e.eventId) === eventId);
  const encoding = event?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.metadata?.encoding;
  return encoding ? new TextDecoder().decode(encoding) : '';
}

const ENCRYPTION: EncryptionSettings = { off: false, current: encryptionKey(randomBytes(32)), previous: [] };

describe('the Temporal Web UI', () => {
  let devServer: DevServer | undefined;
  let codecServer: CodecServer | undefined;
  let emulator: Emulator | undefined;
  let sink: SqliteSink | undefined;
  let blobStore: SqliteBlobStore | undefined;
  let nativeConnection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let workerRunning: Promise<void> | undefined;
  let clientConnection: Connection | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let uiUrl: string;
  let account: string;
  let workflowId: string;
  /** Set by the first test: the workflow page the operator reached from the list. */
  let workflowUrl: string | undefined;

  beforeAll(async () => {
    await requirePrerequisites('The Web UI test', ['chromium']);
    quietRuntime();
    const { bundlePath, tmpDir } = testEnv();
    const uiPort = await freePort();
    const uiOrigins = [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`];
    uiUrl = uiOrigins[0];
    const sinkFile = path.join(tmpDir, `web-ui-${randomUUID()}.db`);
    sink = new SqliteSink(sinkFile);
    blobStore = new SqliteBlobStore(sinkFile);
    // As the demo runs it: the history holds ciphertext, the codec endpoint decrypts it for the UI.
    const encryption = encryptionCodecOf(ENCRYPTION);
    codecServer = await startCodecServer({
      codecs: createDataConverter(blobStore, encryption.withMarkers()).payloadCodecs ?? [],
      allowedOrigins: uiOrigins,
    });
    devServer = await startDevServer({
      dbFilename: path.join(tmpDir, `web-ui-temporal-${randomUUID()}.db`),
      ui: uiPort,
      codecEndpoint: codecServer.url,
      stderr: 'ignore',
    });
    emulator = await startEmulator({ ticketCount: TICKET_COUNT, windowSeconds: 0, minStartAgeSeconds: 1 });
    account = new URL(emulator.url).host;
    workflowId = workflowIdFor(account);
    const taskQueue = `web-ui-${randomUUID()}`;

    nativeConnection = await NativeConnection.connect({ address: devServer.address });
    worker = await createExportWorker({
      config: {
        temporal: { address: devServer.address, namespace: 'default', taskQueue },
        accounts: [{ account, baseUrl: emulator.url, auth: apiTokenCredentials(), timeoutMs: 3000 }],
        sinkUrl: `sqlite:${sinkFile}`,
        blobRetentionDays: 7,
        logging: { format: 'text', level: 'ERROR' },
        encryption: ENCRYPTION,
      },
      connection: nativeConnection,
      sink,
      blobStore,
      workflowBundle: { codePath: bundlePath },
    });
    workerRunning = worker.run();

    clientConnection = await Connection.connect({ address: devServer.address });
    const client = new Client({
      connection: clientConnection,
      dataConverter: createDataConverter(undefined, encryption),
    });
    const input = { account, startTime: 0, pollIntervalSeconds: 1, minStartAgeSeconds: 1 };
    await client.workflow.start('ticketExportWorkflow', exportStartOptions(input, taskQueue));
    await waitFor('every ticket in the sink', async () => (await sink!.countTickets(account)) >= TICKET_COUNT);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await closeAll([
      // Whatever the page showed when a test failed is worth a look.
      () => page && !page.isClosed() && screenshot(page, 'web-ui-last.png'),
      () => browser?.close(),
      async () => {
        worker?.shutdown();
        await workerRunning;
      },
      () => nativeConnection?.close(),
      () => clientConnection?.close(),
      () => codecServer?.close(),
      () => devServer?.stop(),
      () => emulator?.close(),
      () => blobStore?.close(),
      () => sink?.close(),
    ]);
  }, TEST_TIMEOUT_MS);

  async function openWorkflowTab(tab: string): Promise<void> {
    if (!workflowUrl) throw new Error('the workflow page was never reached from the list');
    await page.goto(workflowUrl);
    await page.getByRole('tab', { name: tab }).click();
  }

  test(
    'lists the export under its ZendeskAccount and opens it',
    async () => {
      const query = encodeURIComponent(`ZendeskAccount="${account}"`);
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`);
      await page.getByRole('link', { name: workflowId, exact: true }).click();
      await page.waitForURL(/\/workflows\/[^/]+\/[^/]+\/history/);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(workflowId);
      workflowUrl = page.url();
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'shows the current details the workflow sets',
    async () => {
      await openWorkflowTab('User Metadata');
      // The UI renders each markdown text in its own iframe; the current details are the one next to their heading.
      const panel = page
        .getByRole('heading', { name: 'Current Details' })
        .locator('xpath=ancestor::*[.//iframe[@title="output"]][1]');
      const details = panel.frameLocator('iframe[title="output"]').locator('body');
      const text = await textContaining(details, account, 'specified export endpoint', 'cursor ');
      expect(text).toContain(account);
      expect(text).toContain('specified export endpoint · every 1 s, start_time at least 1 s old');
      expect(text).toMatch(/cursor \d{4}-\d\d-\d\d \d\d:\d\dZ/);
      await screenshot(page, 'web-ui.png');
      if (UPDATE_DOCS_SCREENSHOT) await page.screenshot({ path: DOCS_SCREENSHOT });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'shows the ZendeskCursor search attribute',
    async () => {
      await openWorkflowTab('Search Attributes');
      const attributes = page.getByRole('textbox').filter({ hasText: 'ZendeskAccount' });
      const text = await textContaining(attributes, '"ZendeskCursor"');
      expect(text).toMatch(/"ZendeskCursor": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
      expect(text).toContain(`"ZendeskAccount": "${account}"`);
      await screenshot(page, 'web-ui-search-attributes.png');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'shows a fetched page, decoded by the codec server: its summary and where its tickets wait for persist',
    async () => {
      await openWorkflowTab('History');
      await page.getByRole('button', { name: 'Descending' }).click();
      const rows = page.getByTestId('event-summary-row');
      expect(await textContaining(rows.first(), 'Workflow Execution Started')).toContain('Workflow Execution Started');
      // The first activity of the run fetches the first page: a thousand tickets, staged out of the history.
      const firstCompletion = rows.filter({ hasText: 'Activity Task Completed' }).first();
      const eventId = Number(await firstCompletion.getAttribute('data-eventid'));
      // What the server holds is ciphertext: the UI shows it only through the codec endpoint.
      expect(await storedResultEncoding(clientConnection!, workflowId, eventId)).toBe(ENCRYPTED_ENCODING);
      await firstCompletion.click();

      const expanded = page.getByTestId('event-summary-row-expanded');
      expect(await textContaining(expanded, 'Activity Type', 'Activity Task Completed')).toContain('fetchPage');
      // The completed event comes last in the activity's group, and its result is its only code block.
      const result = expanded.getByRole('textbox').last();
      const text = await textContaining(result, '"summary"');
      expect(text).toContain('"kind": "page"');
      expect(text).toMatch(/"tickets": 1000/);
      expect(text).toMatch(/"newest": \d+/);
      expect(text).toMatch(/"staged": "[0-9a-f]{64}"/);
      await expanded.getByText('Result', { exact: true }).scrollIntoViewIfNeeded();
      await screenshot(page, 'web-ui-ticket-page.png');
    },
    TEST_TIMEOUT_MS,
  );
});
