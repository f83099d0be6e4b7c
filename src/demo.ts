// `npm run demo`: the whole exporter on one machine with no Zendesk account. Starts (or reuses) a Temporal dev
// server, the local Zendesk emulator with live changes, a worker and the export workflow, then shows progress
// until Ctrl-C, which stops everything it started.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import logUpdate from 'log-update';
import net from 'node:net';
import path from 'node:path';
import { createDataConverter } from './codec/claim-check';
import { encryptionCodecOf, ensureKeyFile, readEncryptionSettings } from './codec/encryption-keys';
import { formatStatus } from './cli/format';
import { DevServer, startDevServer, stopProcess, waitForServer } from './dev-server';
import { readServiceArgs } from './cli/service-args';
import { COMMAND, nodeArgsToRun } from './common/node-args';
import { DEFAULT_OAUTH_CLIENT, Emulator, startEmulator } from './emulator';
import { STREAMS } from './streams/names';
import { DEFAULT_TASK_QUEUE, workflowIdFor, WORKFLOW_TYPE } from './shared';
import { exportStartOptions } from './temporal/start-options';
import { ExportInput, statusQuery } from './workflows/messages';

// Under the current directory, as the sink's default is (zendesk-export demo from anywhere; npm run demo: the checkout).
const DATA_DIR = path.resolve('.data');
const TEMPORAL_PORT = 7233;
const UI_PORT = 8233;
const EMULATOR_PORT = Number(process.env.EMULATOR_PORT ?? 8080);
const PACING_SECONDS = 5;
const STREAMS_PER_MINUTE = 30;
const USERS_PER_MINUTE = 60;
const DEMO_TOKEN_SECONDS = 45;

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

const DEMO_USAGE = `Usage: zendesk-export demo [--json]

The whole exporter on this machine with no Zendesk account: a Temporal dev server (or the one on port 7233), the
Zendesk emulator with live changes, a worker and the export, then its progress until Ctrl-C, which stops what the
demo started. State and tickets go to .data/ under the current directory.

  --json    the progress as one JSON status object per line (the rest goes to stderr)
`;

export async function main(args: string[]): Promise<void> {
  const options = readServiceArgs(args, DEMO_USAGE);
  if (!options) return;
  const say = options.json ? (line: string) => console.error(line) : (line: string) => say(line);
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const started: { server?: DevServer; emulator?: Emulator; worker?: ChildProcess } = {};
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping the worker, the emulator and the dev server started by the demo...\n');
    if (started.worker) await stopProcess(started.worker, 'SIGTERM');
    await started.emulator?.close();
    await started.server?.stop();
    process.stdout.write(
      `Done. Tickets are in ${path.join(DATA_DIR, 'tickets.db')}; Temporal state in .data/temporal.db.\n`,
    );
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    say('Temporal: finding or building the CLI (the first build takes several minutes)...');
    const address = `127.0.0.1:${TEMPORAL_PORT}`;
    if (await portInUse(TEMPORAL_PORT)) {
      await waitForServer(address, undefined, 10_000);
      say(`Temporal: using the server already running on ${address}`);
    } else {
      started.server = await startDevServer({
        dbFilename: path.join(DATA_DIR, 'temporal.db'),
        port: TEMPORAL_PORT,
        ui: UI_PORT,
        codecEndpoint: 'http://127.0.0.1:8234',
        stderr: 'ignore',
      });
      say(`Temporal: dev server on ${address}, state in .data/temporal.db`);
    }
    say(`Temporal Web UI: http://localhost:${UI_PORT}`);

    const emulatorPort = (await portInUse(EMULATOR_PORT)) ? 0 : EMULATOR_PORT;
    started.emulator = await startEmulator({
      port: emulatorPort,
      ticketCount: 3000,
      rangeSeconds: 7 * 86400,
      windowSeconds: PACING_SECONDS,
      minStartAgeSeconds: PACING_SECONDS,
      // The buckets of an account with the High Volume add-on: the streams around the ticket share the first.
      incrementalRequestsPerMinute: STREAMS_PER_MINUTE,
      usersCursorRequestsPerMinute: USERS_PER_MINUTE,
      incrementalMinStartAgeSeconds: PACING_SECONDS,
      mutations: { intervalMs: 1000, perTick: 3 },
      // Signs in as Zendesk accounts must today: a confidential OAuth client's client credentials grant.
      oauthClients: [DEFAULT_OAUTH_CLIENT],
      // Short-lived tokens, so that the worker renews one within the first minute (status shows when).
      oauthTokenTtlSeconds: DEMO_TOKEN_SECONDS,
    });
    const emulator = started.emulator;
    const account = new URL(emulator.url).host;
    say(`Zendesk emulator: ${emulator.url} (3,000 seeded tickets, about 3 changes a second)`);
    say(
      `Sign-in: OAuth client credentials (client ${DEFAULT_OAUTH_CLIENT.clientId}); the emulator's tokens live ` +
        `${DEMO_TOKEN_SECONDS} s, so the worker renews one within the first minute.`,
    );
    say(
      `Demo pacing: one call every ${PACING_SECONDS} s and start_time at least ${PACING_SECONDS} s old ` +
        '(a real account: 300 s and 300 s). Nothing else differs from production.',
    );
    say(
      `Streams: tickets, ticket_events (comments, field history), users, organizations, ticket_metric_events; ` +
        `${STREAMS_PER_MINUTE} calls a minute through the incremental bucket, ${USERS_PER_MINUTE} for users ` +
        '(the High Volume add-on).',
    );

    // The history holds ciphertext; the Web UI shows tickets decoded (and decrypted) by the worker's codec endpoint.
    const keyFile = ensureKeyFile(path.join(DATA_DIR, 'payload-encryption.key'));
    const encryption = readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY_FILE: keyFile }, []);
    say(`Payloads: encrypted in the history with the key in ${path.relative(process.cwd(), keyFile)}`);

    const workerLog = fs.openSync(path.join(DATA_DIR, 'demo-worker.log'), 'w');
    started.worker = spawn(process.execPath, nodeArgsToRun(require.resolve('./worker')), {
      env: {
        ...process.env,
        ZENDESK_BASE_URL: emulator.url,
        ZENDESK_OAUTH_CLIENT_ID: DEFAULT_OAUTH_CLIENT.clientId,
        ZENDESK_OAUTH_CLIENT_SECRET: DEFAULT_OAUTH_CLIENT.clientSecret,
        // The shell's own Zendesk settings would be a second way to sign in, or another account: empty is unset.
        ZENDESK_SUBDOMAIN: '',
        ZENDESK_ACCOUNTS_FILE: '',
        ZENDESK_OAUTH_ACCESS_TOKEN: '',
        ZENDESK_OAUTH_SCOPE: '',
        ZENDESK_OAUTH_TOKEN_TTL_SECONDS: '',
        ZENDESK_EMAIL: '',
        ZENDESK_API_TOKEN: '',
        ZENDESK_PASSWORD: '',
        PAYLOAD_ENCRYPTION: '',
        PAYLOAD_ENCRYPTION_KEY: '',
        PAYLOAD_ENCRYPTION_KEY_FILE: keyFile,
        // The demo's own dev server, whatever the shell or a Temporal profile (temporal.toml) says.
        TEMPORAL_CONFIG_FILE: '/dev/null',
        TEMPORAL_PROFILE: '',
        TEMPORAL_API_KEY: '',
        TEMPORAL_TLS: '',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
        TEMPORAL_TLS_SERVER_NAME: '',
        TEMPORAL_NAMESPACE: '',
        TEMPORAL_ADDRESS: address,
        TEMPORAL_TASK_QUEUE: DEFAULT_TASK_QUEUE,
        SINK_URL: `sqlite:${path.join(DATA_DIR, 'tickets.db')}`,
      },
      stdio: ['ignore', workerLog, workerLog],
    });
    started.worker.once('exit', (code) => {
      if (!stopping) {
        console.error(`\nThe worker exited (code ${code}); see .data/demo-worker.log`);
        void stopAll(1);
      }
    });
    say('Worker: started (log in .data/demo-worker.log)');

    const connection = await Connection.connect({ address });
    const client = new Client({
      connection,
      dataConverter: createDataConverter(undefined, encryptionCodecOf(encryption)),
    });
    const workflowId = workflowIdFor(account);
    const handle = client.workflow.getHandle(workflowId);
    // The emulator's data is new each time, so a previous demo's export (and cursor) is replaced.
    await handle.terminate('a new demo run').catch((err) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    });
    const input: ExportInput = {
      account,
      startTime: 0,
      pollIntervalSeconds: PACING_SECONDS,
      minStartAgeSeconds: PACING_SECONDS,
      streams: [...STREAMS],
      requestsPerMinute: STREAMS_PER_MINUTE,
      usersRequestsPerMinute: USERS_PER_MINUTE,
      supportTypeScope: 'all',
    };
    await client.workflow.start(WORKFLOW_TYPE, exportStartOptions(input, DEFAULT_TASK_QUEUE));
    say(`Export: workflow ${workflowId} started. Try in another terminal:`);
    say(`  ZENDESK_BASE_URL=${emulator.url} ${COMMAND} status`);
    say('Ctrl-C stops the demo.\n');

    // The same view as `status --watch`: redrawn in place in a terminal, every 5 s when piped; --json: a line each.
    const tty = process.stdout.isTTY && !options.json;
    for (;;) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      if (options.json) console.log(JSON.stringify(status ?? { state: 'waiting for the worker' }));
      else {
        const view = status ? formatStatus(status) : 'waiting for the worker...';
        if (tty) logUpdate(view);
        else say(`${view}\n`);
      }
      await new Promise((r) => setTimeout(r, tty ? 1000 : 5000));
    }
  } catch (err) {
    console.error(`\nThe demo failed: ${err instanceof Error ? err.message : err}`);
    await stopAll(1);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
