import { fetchRunHistories, replayAll } from '../helpers/histories';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { randomBytes } from 'node:crypto';
import { createDataConverter } from '../../src/codec/claim-check';
import { encryptionKey } from '../../src/codec/encryption-codec';
import { encryptionCodecOf } from '../../src/codec/encryption-keys';
import { Harness, secretsOf, sleepMs, spawnWorker, startHarness, waitFor } from '../helpers/harness';

describe('the worker process', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('SIGKILLed mid-export three times and restarted: nothing is lost', async () => {
    h = await startHarness({
      worker: false,
      emulator: { ticketCount: 9000, windowSeconds: 0, mutations: { intervalMs: 200, perTick: 2 } },
      input: { pollIntervalSeconds: 0.5 },
      encryption: { off: false, current: encryptionKey(randomBytes(32)), previous: [] },
    });
    let worker = spawnWorker(h);
    for (let kill = 1; kill <= 3; kill++) {
      const pagesBefore = await waitFor('progress', async () => {
        const s = await h.status().catch(() => undefined);
        return s && s.pages >= kill * 2 ? s.pages : undefined;
      }).catch(async (err) => {
        throw new Error(
          `${err.message}\nstatus: ${JSON.stringify(await h.status().catch(String))}\nworker: ${worker.output()}`,
        );
      });
      await sleepMs(150 + Math.floor(Math.random() * 400));
      worker.child.kill('SIGKILL');
      await worker.exited;
      expect(pagesBefore).toBeGreaterThan(0);
      worker = spawnWorker(h);
    }
    h.emulator.stopMutations();
    await h.waitForTruth(90_000);
    expect(h.emulator.stats().callsBeforeRetryAfter).toBe(0);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0); // graceful shutdown on SIGTERM
    expect(worker.output()).toContain('Worker ready');
    // How the account signs in, and that its API token ends on 2027-04-30: never the token itself.
    expect(worker.output()).toContain(`Zendesk account ${h.account}: API token of ${DEFAULT_CREDENTIALS.email}`);
    expect(worker.output()).toMatch(/signs in with an API token, which Zendesk turns off on 2027-04-30/);
    for (const secret of secretsOf(h.config.accounts[0].auth)) expect(worker.output()).not.toContain(secret);
    // How payloads are protected: the key's id, never the key.
    const key = h.config.encryption?.off === false ? h.config.encryption.current! : undefined;
    expect(worker.output()).toContain(`AES-256-GCM, key ${key!.id}`);
    expect(worker.output()).not.toContain(key!.key.toString('base64'));

    // The history written across kills and sticky-queue timeouts replays cleanly (with the key).
    const histories = await fetchRunHistories(h.client, h.workflowId);
    const converter = createDataConverter(h.blobStore, encryptionCodecOf(h.config.encryption));
    await replayAll(
      histories.map((x) => ({ name: x.runId, json: x.json, workflowId: h.workflowId })),
      converter,
    );
  });

  test('secure by default: no key against a Temporal server off this machine is refused; off on purpose is logged', async () => {
    h = await startHarness({ worker: false, start: false });
    const refused = spawnWorker(h, { TEMPORAL_ADDRESS: 'temporal.example.com:7233' });
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toMatch(
      /PAYLOAD_ENCRYPTION_KEY or PAYLOAD_ENCRYPTION_KEY_FILE: required when TEMPORAL_ADDRESS \(temporal\.example\.com:7233\) is not a loopback address/,
    );
    const off = spawnWorker(h, { PAYLOAD_ENCRYPTION: 'off' });
    await waitFor('the worker ready', () => off.output().includes('Worker ready'), 60_000);
    off.child.kill('SIGTERM');
    expect(await off.exited).toBe(0);
    expect(off.output()).toMatch(/WARN.*Payload encryption: off \(PAYLOAD_ENCRYPTION=off\): tickets are readable/);
  });

  test('bad configuration: one message naming every problem, exit code 2', async () => {
    h = await startHarness({ worker: false, start: false });
    const worker = spawnWorker(h, {
      ZENDESK_BASE_URL: 'not a url',
      ZENDESK_API_TOKEN: '',
      ZENDESK_PASSWORD: '',
      SINK_URL: 'mysql://db/tickets',
      PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: 'for now',
    });
    expect(await worker.exited).toBe(2);
    const output = worker.output();
    expect(output).toMatch(/ZENDESK_BASE_URL: must be an http\(s\) URL/);
    expect(output).toMatch(/ZENDESK_API_TOKEN: required with ZENDESK_EMAIL/);
    expect(output).toMatch(/SINK_URL: must start with sqlite:/);
    expect(output).toMatch(/PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: true or false \(default false\)/);
  });
});
