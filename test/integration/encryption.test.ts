import { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { fetchRunHistories, replayHistories } from '../../bench/support/histories';
import { CLAIM_CHECK_ENCODING, createDataConverter } from '../../src/codec/claim-check';
import { PageStaging } from '../../src/codec/staged-pages';
import { ENCRYPTED_ENCODING, EncryptionCodec, encryptionKey, KEY_ID_METADATA } from '../../src/codec/encryption-codec';
import { EncryptionSettings, encryptionCodecOf } from '../../src/codec/encryption-keys';
import { startCodecServer } from '../../src/codec/codec-server';
import { withTimeout } from '../../src/health/checks';
import { FullTicket } from '../../src/emulator';
import { temporalBinary } from '../../src/dev-server';
import { undecodableReason } from '../../src/shared';
import { pauseSignal } from '../../src/workflows/messages';
import { Harness, spawnWorker, startHarness, testEnv, waitFor, WorkerProcess } from '../helpers/harness';

jest.setTimeout(240_000);

const FAST = { windowSeconds: 0, incrementalRequestsPerMinute: 0, incrementalMinStartAgeSeconds: 1 };

function keys(current: Buffer, ...previous: Buffer[]): EncryptionSettings {
  return { off: false, current: encryptionKey(current), previous: previous.map((k) => encryptionKey(k)) };
}

/** `temporal workflow signal` with JSON input: what anyone who can write to the namespace can send, without a key. */
async function plaintextSignal(h: Harness, name: string, input: unknown): Promise<void> {
  const args = ['workflow', 'signal', '--address', testEnv().address, '--namespace', 'default'];
  args.push('--workflow-id', h.workflowId, '--name', name, '--input', JSON.stringify(input));
  await promisify(execFile)(temporalBinary(), args, {
    env: { PATH: process.env.PATH, TEMPORAL_CONFIG_FILE: '/dev/null' },
  });
}

/** Runs a codec chain as the SDK does for a workflow's or an activity's payloads: with their context. */
async function runChain(
  codecs: PayloadCodec[],
  op: 'encode' | 'decode',
  payloads: Payload[],
  context?: SerializationContext,
) {
  let result = payloads;
  for (const codec of op === 'encode' ? codecs : [...codecs].reverse()) result = await codec[op](result, context);
  return result;
}

function text(bytes: Uint8Array | null | undefined): string {
  return Buffer.from(bytes ?? []).toString('utf8');
}

interface WirePayload {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}

/** Every payload object in a history (or any proto tree): objects with a `data` byte array and a `metadata` map. */
function payloadsIn(value: unknown, found: WirePayload[] = []): WirePayload[] {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return found;
  if (Array.isArray(value)) {
    for (const item of value) payloadsIn(item, found);
    return found;
  }
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
    found.push(record as WirePayload);
    return found;
  }
  for (const child of Object.values(record)) payloadsIn(child, found);
  return found;
}

/** A byte string as every reader could see it: as is, base64-decoded, and inflated where it is gzip. */
function readings(bytes: Buffer): string[] {
  const out = [bytes.toString('utf8'), bytes.toString('base64')];
  for (const candidate of [bytes, Buffer.from(bytes.toString('utf8'), 'base64')]) {
    try {
      out.push(zlib.gunzipSync(candidate).toString('utf8'));
    } catch {
      // not gzip
    }
  }
  return out;
}

/** Pieces of ticket text that would give a ticket away: subjects and a stretch of each description. */
function ticketNeedles(tickets: FullTicket[]): string[] {
  const needles = new Set<string>();
  for (const ticket of tickets.slice(0, 200)) {
    needles.add(ticket.description.slice(100, 160));
    needles.add(ticket.description.slice(-60, -1));
  }
  return [...needles].filter((n) => n.length >= 40);
}

const LOCAL_ACTIVITY_MARKER_KEYS = [
  'seq',
  'attempt',
  'activity_id',
  'activity_type',
  'complete_time',
  'backoff',
  'original_schedule_time',
];

/** The SDK core's own record of a local activity (its marker's `data`): numbers, times and the activity's name. */
function localActivityBookkeeping(payload: WirePayload): boolean {
  try {
    const data = JSON.parse(text(payload.data)) as Record<string, unknown>;
    return (
      Object.keys(data).every((key) => LOCAL_ACTIVITY_MARKER_KEYS.includes(key)) && data.activity_type === 'persist'
    );
  } catch {
    return false;
  }
}

function keyIdsOf(payloads: WirePayload[]): Set<string> {
  return new Set(payloads.map((p) => text(p.metadata?.[KEY_ID_METADATA])).filter(Boolean));
}

describe('payload encryption through the workflow', () => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('after continue-as-new and staged pages, no ticket text is readable in any history or blob', async () => {
    const key = randomBytes(32);
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 3500, descriptionBytes: [9000, 12000] },
      input: { api: 'cursor', perPage: 1000, pagesPerRun: 2, requestsPerMinute: 600, pollIntervalSeconds: 0.5 },
      encryption: keys(key),
    });
    await h.waitForTruth(120_000);
    // The last page can be stored before its run continues as new: wait for the third run rather than race it.
    await waitFor('a third run', async () => (await fetchRunHistories(h!.client, h!.workflowId)).length >= 3);
    // Paused, the open run stops adding idle polls to its history: what is scanned and replayed below is all there is.
    await h.handle.signal(pauseSignal);
    await waitFor('paused', async () => (await h!.status()).phase === 'paused');
    const runs = await fetchRunHistories(h.client, h.workflowId);
    expect(runs.length).toBeGreaterThanOrEqual(3);

    const needles = ticketNeedles(h.emulator.truthFull());
    expect(needles.length).toBeGreaterThan(100);
    const haystacks: string[] = [];
    const payloads: WirePayload[] = [];
    for (const run of runs) {
      haystacks.push(run.json);
      for (const payload of payloadsIn(run.history)) {
        payloads.push(payload);
        haystacks.push(...readings(Buffer.from(payload.data ?? [])));
      }
    }
    const db = new Database(h.dbFile, { readonly: true });
    const blobs = db.prepare('SELECT id, data FROM payload_blobs').all() as { id: string; data: Buffer }[];
    db.close();
    for (const blob of blobs) haystacks.push(...readings(blob.data));

    const encodings = payloads.map((p) => text(p.metadata?.encoding));
    const encrypted = encodings.filter((e) => e === ENCRYPTED_ENCODING).length;
    const claimChecked = encodings.filter((e) => e === CLAIM_CHECK_ENCODING).length;
    console.log(
      `${runs.length} runs, ${payloads.length} payloads (${encrypted} encrypted, ${claimChecked} claim-checked), ` +
        `${blobs.length} blobs, ${needles.length} needles`,
    );
    // Pages of 9-12 KB tickets are staged out of the history by fetchPage: nothing is left to claim-check.
    expect(claimChecked).toBe(0);
    expect(blobs.length).toBeGreaterThan(0);
    // What the server holds in the clear: search attributes (the account's host, the state, times), the SDK's patch
    // markers and its local-activity markers' bookkeeping (the persist's number, attempt and times), never a ticket.
    const clear = payloads.filter(
      (p) => ![ENCRYPTED_ENCODING, CLAIM_CHECK_ENCODING].includes(text(p.metadata?.encoding)),
    );
    const patchMarker = (p: WirePayload) => /^\{"id":"[a-z0-9-]+","deprecated":(true|false)\}$/.test(text(p.data));
    expect(clear.filter((p) => !text(p.metadata?.type) && !patchMarker(p) && !localActivityBookkeeping(p))).toEqual([]);
    for (const blob of blobs) {
      expect(text(temporal.api.common.v1.Payload.decode(blob.data).metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    }
    const leaks = needles.filter((needle) => haystacks.some((haystack) => haystack.includes(needle)));
    expect(leaks).toEqual([]);

    // The positive control: decrypted with the key, the same payloads do hold the tickets.
    const staging = new PageStaging(h.blobStore, encryptionCodecOf(keys(key)));
    const decoded: string[] = [];
    for (const blob of blobs.slice(0, 2)) decoded.push(JSON.stringify(await staging.load(blob.id)));
    expect(needles.filter((needle) => decoded.some((d) => d.includes(needle))).length).toBeGreaterThan(0);

    // Every run replays with the key, and only with it.
    // Replayed under the workflow's own id: its payloads are bound to it.
    const named = runs.map((run, i) => ({ name: `run-${i}`, json: run.json, workflowId: h!.workflowId }));
    const { bundlePath } = testEnv();
    const withKey = createDataConverter(h.blobStore, encryptionCodecOf(keys(key)));
    const withoutKey = createDataConverter(h.blobStore);
    await withTimeout(
      () => replayHistories(named, { bundlePath, dataConverter: withKey }),
      45_000,
      'the replay with the key',
    );
    await expect(
      withTimeout(
        () => replayHistories(named, { bundlePath, dataConverter: withoutKey }),
        45_000,
        'the replay without the key',
      ),
    ).rejects.toThrow(new RegExp(`encrypted with key ${encryptionKey(key).id}, which this process does not have`));
  });

  test('rotation: a worker with a new key continues open runs written under the old one, new payloads use the new key', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 3000 },
      input: { api: 'cursor', perPage: 100, pagesPerRun: 1000, requestsPerMinute: 120, pollIntervalSeconds: 0.5 },
      encryption: keys(oldKey),
    });
    const harness = h;
    await waitFor('a few pages under the old key', async () => (await harness.status()).pages >= 4, 60_000);
    await h.stopWorker();
    const before = (await h.handle.fetchHistory()).events?.length ?? 0;
    h.config.encryption = keys(newKey, oldKey);
    await h.startWorker();
    const rotatedClient = new EncryptionCodec({ current: encryptionKey(newKey), previous: [encryptionKey(oldKey)] });
    await h.waitForTruth(120_000);

    const events = (await h.handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
    const oldIds = keyIdsOf(payloadsIn(events.slice(0, before)));
    const newIds = keyIdsOf(payloadsIn(events.slice(before)));
    expect([...oldIds]).toEqual([encryptionKey(oldKey).id]);
    // The client's signals and queries after the rotation still use the old key (it was not told): only what the
    // rotated worker wrote is under the new key, and it reads both.
    expect(newIds.has(encryptionKey(newKey).id)).toBe(true);
    expect(rotatedClient.currentKeyId).toBe(encryptionKey(newKey).id);

    const runs = await fetchRunHistories(h.client, h.workflowId);
    await replayHistories(
      runs.map((run, i) => ({ name: `rotated-${i}`, json: run.json, workflowId: h!.workflowId })),
      { bundlePath: testEnv().bundlePath, dataConverter: createDataConverter(h.blobStore, rotatedClient) },
    );
  });

  test('a worker without the key: the task fails naming the key id, the worker keeps running, the right key heals it', async () => {
    const key = randomBytes(32);
    const stranger = randomBytes(32);
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 2000 },
      input: { api: 'cursor', perPage: 100, requestsPerMinute: 120, pollIntervalSeconds: 0.5 },
      encryption: keys(key),
    });
    const harness = h;
    await waitFor('a few pages', async () => (await harness.status()).pages >= 3, 60_000);
    await h.stopWorker();
    h.config.encryption = keys(stranger);
    await h.startWorker();
    const keyId = encryptionKey(key).id;
    const failure = await waitFor(
      'a workflow task failure naming the key',
      async () => {
        // A new signal makes the server hand the run to this worker now rather than at the next timer.
        await harness.handle.signal('pollNow').catch(() => undefined);
        const events = (await harness.handle.fetchHistory()).events ?? [];
        return events.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure
          ?.message;
      },
      60_000,
      1000,
    );
    expect(failure).toMatch(new RegExp(`payload encrypted with key ${keyId}, which this process does not have`));
    expect(failure).not.toContain(key.toString('base64'));

    // The codec endpoint of such a worker shows the same reason in place of the payload, and answers 200.
    const events = (await h.handle.fetchHistory()).events ?? [];
    const sealed = payloadsIn(events).find((p) => text(p.metadata?.encoding) === ENCRYPTED_ENCODING)!;
    const server = await startCodecServer({
      codecs: createDataConverter(h.blobStore, encryptionCodecOf(keys(stranger)).withMarkers()).payloadCodecs!,
    });
    try {
      const response = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          payloads: [
            {
              metadata: Object.fromEntries(
                Object.entries(sealed.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
              ),
              data: Buffer.from(sealed.data ?? []).toString('base64'),
            },
          ],
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { payloads: { data: string }[] };
      const marker = JSON.parse(Buffer.from(body.payloads[0].data, 'base64').toString('utf8'));
      expect(undecodableReason(marker)).toMatch(new RegExp(`key ${keyId}`));
    } finally {
      await server.close();
    }

    await h.stopWorker();
    h.config.encryption = keys(stranger, key);
    await h.startWorker();
    await h.waitForTruth(120_000);
  });
});

describe('forged or replayed payloads, with a key', () => {
  let h: Harness | undefined;
  let other: Harness | undefined;
  let worker: WorkerProcess | undefined;

  afterEach(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
    await h?.close();
    await other?.close();
    h = other = worker = undefined;
  });

  /** A running export, paused once it stored a page: its cursor then moves only by an operator's reset. */
  async function pausedExport(harness: Harness) {
    await waitFor('a stored page', async () => (await harness.status()).pages >= 1, 60_000);
    await harness.handle.signal(pauseSignal);
    return waitFor('paused', async () => {
      const status = await harness.status();
      return status.paused && status.phase === 'paused' && status;
    });
  }

  test('a plaintext signal (temporal workflow signal, no key) is ignored, with a warning in status', async () => {
    const hh = (h = await startHarness({
      emulator: { ...FAST, ticketCount: 2000 },
      input: { api: 'cursor', perPage: 100, requestsPerMinute: 60, pollIntervalSeconds: 0.5 },
      encryption: keys(randomBytes(32)),
    }));
    const before = await pausedExport(hh);
    await plaintextSignal(hh, 'resetCursor', { startTime: 1234567 });
    const status = await waitFor('the signal ignored', async () => {
      const s = await hh.status();
      return s.warnings.some((w) => w.includes(' resetCursor signal ignored: ')) && s;
    });
    expect(status.warnings.find((w) => w.includes(' resetCursor signal ignored: '))).toMatch(
      / resetCursor signal ignored: its payload could not be decoded \(a plaintext payload \(json\/plain\) where encryption is required.*PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true accepts it during a migration/,
    );
    expect(status.cursor).toBe(before.cursor);
    const events = (await hh.handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
  });

  test('PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true (a migration): accepted, with warnings in the log, never the content', async () => {
    const hh = (h = await startHarness({
      worker: false,
      emulator: { ...FAST, ticketCount: 2000 },
      input: { api: 'cursor', perPage: 100, requestsPerMinute: 60, pollIntervalSeconds: 0.5 },
      encryption: keys(randomBytes(32)),
    }));
    const child = (worker = spawnWorker(hh, { PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: 'true' }));
    await pausedExport(hh);
    await plaintextSignal(hh, 'resetCursor', { startTime: 1234567 });
    await waitFor('the reset applied', async () => (await hh.status()).cursor === 1234567);
    await waitFor('the warning', () => child.output().includes('accepted a plaintext payload'), 10_000);
    expect(child.output()).toMatch(/WARN.*PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true: plaintext payloads.*are accepted/);
    const entry = logEntries(child.output()).find((e) => e.includes('accepted a plaintext payload'))!;
    expect(entry).toMatch(
      /\[WARN\] Payload encryption: accepted a plaintext payload \(PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true\)/,
    );
    expect(entry).toContain(`workflowId: '${hh.workflowId}'`);
    expect(entry).toContain(`encoding: 'json/plain'`);
    expect(child.output()).not.toContain('startTime');
  });

  test('a payload encrypted for another workflow is refused: as a signal, and as the result of a pending activity', async () => {
    const key = randomBytes(32);
    // Pages of 30 tickets travel inline in the history (larger ones are staged out of it).
    const input = { api: 'cursor' as const, perPage: 30, requestsPerMinute: 60, pollIntervalSeconds: 0.5 };
    // Workflow A, another account under the same key: a page of its tickets, as its history holds it.
    const a = (other = await startHarness({
      emulator: { ...FAST, ticketCount: 300, seed: 7 },
      input,
      encryption: keys(key),
    }));
    await a.waitForTruth(60_000);
    const codecs = createDataConverter(a.blobStore, encryptionCodecOf(keys(key))).payloadCodecs!;
    const activityOfA: SerializationContext = {
      type: 'activity',
      namespace: 'default',
      workflowId: a.workflowId,
      isLocal: false,
    };
    const pageOfA = await (async () => {
      for (const event of (await a.handle.fetchHistory()).events ?? []) {
        const payload = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
        if (!payload) continue;
        const [decoded] = await runChain(codecs, 'decode', [payload as Payload], activityOfA);
        const value = JSON.parse(text(decoded.data)) as {
          kind?: string;
          content?: { rows?: { id: number }[] };
          afterCursor?: string;
        };
        const rows = value.content?.rows;
        if (value.kind === 'page' && rows?.length) return { payload: payload as Payload, value, rows };
      }
      throw new Error("no page in A's history");
    })();
    expect(text(pageOfA.payload.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(pageOfA.payload.metadata?.['encryption-workflow-id'])).toBe(a.workflowId);

    // Workflow B: its fetchPage held in flight by a slow Zendesk, then completed by "someone" with A's page.
    const b = (h = await startHarness({
      emulator: { ...FAST, ticketCount: 2000 },
      input,
      encryption: keys(key),
      zendeskTimeoutMs: 60_000,
    }));
    await pausedExport(b);
    // A's reset signal, as A's client encoded it, sent to B.
    const [resetForA] = await runChain(codecs, 'encode', [defaultPayload({ startTime: 1234567 })], {
      type: 'workflow',
      namespace: 'default',
      workflowId: a.workflowId,
    });
    await b.client.workflowService.signalWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: b.workflowId },
      signalName: 'resetCursor',
      input: { payloads: [resetForA] },
      identity: 'replayer',
    });
    const ignored = await waitFor('the signal ignored', async () =>
      (await b.status()).warnings.find((w) => w.includes(' resetCursor signal ignored: ')),
    );
    expect(ignored).toContain(`a payload encrypted for workflow ${a.workflowId}, given to workflow ${b.workflowId}`);
    expect((await b.status()).cursor).not.toBe(1234567);

    b.emulator.injectFaults([{ kind: 'slow', delayMs: 45_000, count: 1 }]);
    await b.handle.signal('resume');
    const pending = await waitFor(
      'fetchPage in flight',
      async () => {
        const { raw } = await b.handle.describe();
        return raw.pendingActivities?.find((p) => p.activityType?.name === 'fetchPage' && p.state === 2);
      },
      30_000,
    );
    const storedBefore = sinkOf(b);
    await b.client.workflowService.respondActivityTaskCompletedById({
      namespace: 'default',
      workflowId: b.workflowId,
      activityId: pending.activityId,
      result: { payloads: [pageOfA.payload] },
      identity: 'replayer',
    });
    // The refusal names both workflows: the workflow takes the result for a failed call and says so in its status.
    const refusal = `a payload encrypted for workflow ${a.workflowId}, given to workflow ${b.workflowId}`;
    await waitFor(
      'the refusal',
      async () => {
        const events = (await b.handle.fetchHistory()).events ?? [];
        if (events.some((e) => e.workflowTaskFailedEventAttributes?.failure?.message?.includes(refusal))) return true;
        // A workflow whose task fails answers no query: its query is given up after a while.
        const status = await b.client.connection
          .withDeadline(Date.now() + 2000, () => b.status())
          .catch(() => undefined);
        return status && [status.lastError ?? '', ...status.warnings].some((w) => w.includes(refusal));
      },
      60_000,
    );
    const storedAfter = sinkOf(b);
    // A's tickets are told from B's by their time and text (another seed): A's own sink holds them, B's none.
    const rowsOfA = new Set(pageOfA.rows.map(ticketKey));
    expect(sinkOf(a).rows.filter((data) => rowsOfA.has(ticketKey(JSON.parse(data)))).length).toBe(rowsOfA.size);
    expect(storedAfter.rows.filter((data) => rowsOfA.has(ticketKey(JSON.parse(data))))).toEqual([]);
    expect(storedAfter.checkpoint?.after_cursor).not.toBe(pageOfA.value.afterCursor);
    expect(storedAfter.checkpoint).toEqual(storedBefore.checkpoint);
  });
});

interface TicketRow {
  id: number;
  generated_timestamp?: number;
  description?: string;
}

/** A ticket's version, told apart from another emulator's ticket of the same id (another seed). */
function ticketKey(row: TicketRow): string {
  return `${row.id} ${row.generated_timestamp} ${row.description}`;
}

/** A process's log, one entry per line that starts with a timestamp (an entry's attributes span lines). */
function logEntries(output: string): string[] {
  return output.split(/\n(?=\d{4}-\d\d-\d\dT)/);
}

function defaultPayload(value: unknown): Payload {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) };
}

/** What the sink holds for an export: its tickets as received, and its checkpoint. */
function sinkOf(harness: Harness) {
  const db = new Database(harness.dbFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT data FROM tickets WHERE account = ?').all(harness.account) as { data: string }[];
    const checkpoint = db
      .prepare('SELECT cursor, after_cursor FROM export_checkpoints WHERE account = ?')
      .get(harness.account) as { cursor: number; after_cursor: string | null } | undefined;
    return { rows: rows.map((r) => r.data), checkpoint };
  } finally {
    db.close();
  }
}
