import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteBlobStore } from '../../src/codec/blob-store';
import {
  BlobStoreRefusedError,
  CLAIM_CHECK_ENCODING,
  ClaimCheckCodec,
  createDataConverter,
  purgeExpiredBlobs,
} from '../../src/codec/claim-check';
import { EncryptionCodec, ENCRYPTED_ENCODING, encryptionKey } from '../../src/codec/encryption-codec';
import { GZIP_ENCODING } from '../../src/codec/gzip-codec';
import { PayloadTooLargeError } from '../../src/codec/limits';
import { payloadConverter } from '../../src/codec/payload-converter';
import { undecodableReason } from '../../src/shared';

const HISTORY_LIMIT = 256 * 1024;
const DAY = 24 * 60 * 60 * 1000;

function encoding(payload: Payload): string {
  const bytes = payload.metadata?.encoding;
  return bytes ? new TextDecoder().decode(bytes) : '';
}

function wireBytes(payload: Payload): Buffer {
  return Buffer.from(temporal.api.common.v1.Payload.encode(payload).finish());
}

function binaryPayload(data: Uint8Array): Payload {
  return { metadata: { encoding: new TextEncoder().encode('binary/plain') }, data };
}

async function encodeChain(codecs: PayloadCodec[], payloads: Payload[]): Promise<Payload[]> {
  for (const codec of codecs) payloads = await codec.encode(payloads);
  return payloads;
}

async function decodeChain(codecs: PayloadCodec[], payloads: Payload[]): Promise<Payload[]> {
  for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
  return payloads;
}

/** ~3 KB per ticket; `noise` makes the description incompressible. */
function fakeTickets(count: number, noise: boolean) {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    url: `https://acme.zendesk.com/api/v2/tickets/${i + 1}.json`,
    generated_timestamp: 1_700_000_000 + i,
    created_at: '2024-01-02T03:04:05Z',
    updated_at: '2024-01-03T03:04:05Z',
    subject: `Printer on floor ${i % 12} does not print`,
    description: noise
      ? randomBytes(1800).toString('base64')
      : 'The printer shows a paper jam although the tray is empty. We restarted it twice. '.repeat(30),
    status: i % 5 === 0 ? 'solved' : 'open',
    tags: ['printer', 'hardware', `floor_${i % 12}`],
    custom_fields: Array.from({ length: 10 }, (_, f) => ({ id: 360000000 + f, value: f % 3 ? null : 'value' })),
    via: { channel: 'email', source: { from: { address: `user${i}@example.com` }, to: {}, rel: null } },
  }));
}

describe('claim check', () => {
  let dir: string;
  let store: SqliteBlobStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-claim-check-'));
    store = new SqliteBlobStore(path.join(dir, 'tickets.db'));
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a small payload passes unchanged', async () => {
    const payload = defaultPayloadConverter.toPayload({ kind: 'too_recent', message: 'Too recent start_time' });
    const [encoded] = await new ClaimCheckCodec(store).encode([payload]);
    expect(encoded).toBe(payload);
    expect(await store.deleteOlderThan(new Date(Date.now() + DAY))).toBe(0);
  });

  test('a large incompressible payload is claim-checked and restored byte for byte', async () => {
    const payload = binaryPayload(randomBytes(600_000));
    const original = wireBytes(payload);
    const codecs = createDataConverter(store).payloadCodecs!;

    const [encoded] = await encodeChain(codecs, [payload]);
    expect(encoding(encoded)).toBe(CLAIM_CHECK_ENCODING);
    expect(wireBytes(encoded).length).toBeLessThan(200);
    const reference = JSON.parse(Buffer.from(encoded.data!).toString());
    expect(reference.size).toBeGreaterThan(600_000);
    expect(reference.id).toMatch(/^[0-9a-f]{64}$/);

    const [decoded] = await decodeChain(codecs, [encoded]);
    expect(wireBytes(decoded).equals(original)).toBe(true);
  });

  test('the claim-check codec alone stores the serialized payload under its sha256', async () => {
    const payload = binaryPayload(randomBytes(300_000));
    const [encoded] = await new ClaimCheckCodec(store).encode([payload]);
    const { id, size } = JSON.parse(Buffer.from(encoded.data!).toString());
    const stored = Buffer.from((await store.get(id))!);
    expect(stored.equals(wireBytes(payload))).toBe(true);
    expect(size).toBe(stored.length);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(id);
  });

  test('a page that gzip brings under 256 KiB is gzipped, not claim-checked', async () => {
    const tickets = fakeTickets(1000, false);
    const payload = defaultPayloadConverter.toPayload(tickets);
    expect(wireBytes(payload).length).toBeGreaterThan(2_500_000);
    const codecs = createDataConverter(store).payloadCodecs!;

    const [encoded] = await encodeChain(codecs, [payload]);
    expect(encoding(encoded)).toBe(GZIP_ENCODING);
    expect(wireBytes(encoded).length).toBeLessThanOrEqual(HISTORY_LIMIT);
    expect(await store.deleteOlderThan(new Date(Date.now() + DAY))).toBe(0);
    const [decoded] = await decodeChain(codecs, [encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(tickets);
  });

  test('a page still above 256 KiB after gzip is claim-checked', async () => {
    const tickets = fakeTickets(1000, true);
    const payload = defaultPayloadConverter.toPayload(tickets);
    const codecs = createDataConverter(store).payloadCodecs!;

    const [gzipped] = await codecs[0].encode([payload]);
    expect(wireBytes(gzipped).length).toBeGreaterThan(HISTORY_LIMIT);
    const [encoded] = await encodeChain(codecs, [payload]);
    expect(encoding(encoded)).toBe(CLAIM_CHECK_ENCODING);
    expect(wireBytes(encoded).length).toBeLessThan(200);
    // What is stored is the gzipped payload: gzip ran first.
    const { id } = JSON.parse(Buffer.from(encoded.data!).toString());
    expect(encoding(temporal.api.common.v1.Payload.decode((await store.get(id))!))).toBe(GZIP_ENCODING);

    const [decoded] = await decodeChain(codecs, [encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(tickets);
  });

  test('mixed payloads keep their order and only the big one is claim-checked', async () => {
    const codec = new ClaimCheckCodec(store, { thresholdBytes: 1000 });
    const payloads = [
      defaultPayloadConverter.toPayload('small'),
      binaryPayload(randomBytes(5000)),
      { metadata: { encoding: new TextEncoder().encode('binary/encrypted') }, data: new Uint8Array([1, 2, 3]) },
    ];
    const encoded = await codec.encode(payloads);
    expect(encoded.map(encoding)).toEqual(['json/plain', CLAIM_CHECK_ENCODING, 'binary/encrypted']);
    const decoded = await codec.decode(encoded);
    expect(decoded[0]).toBe(payloads[0]);
    expect(wireBytes(decoded[1]).equals(wireBytes(payloads[1]))).toBe(true);
    expect(decoded[2]).toBe(payloads[2]);
  });

  test('the same payload twice stores one blob', async () => {
    const codec = new ClaimCheckCodec(store);
    const payload = binaryPayload(randomBytes(400_000));
    const [first] = await codec.encode([payload]);
    const [second] = await codec.encode([payload]);
    expect(Buffer.from(second.data!).equals(Buffer.from(first.data!))).toBe(true);
    expect(await store.deleteOlderThan(new Date(Date.now() + DAY))).toBe(1);
  });

  test('a missing blob fails decode with an error naming the id', async () => {
    const codec = new ClaimCheckCodec(store);
    const [encoded] = await codec.encode([binaryPayload(randomBytes(300_000))]);
    const { id } = JSON.parse(Buffer.from(encoded.data!).toString());
    await store.deleteOlderThan(new Date(Date.now() + DAY));
    await expect(codec.decode([encoded])).rejects.toThrow(new RegExp(`claim-check blob ${id} is gone.*retention`));
  });

  test('a malformed or forged reference becomes the marker with its reason, never an exception', async () => {
    const codec = new ClaimCheckCodec(store);
    const reference = (text: string) => ({
      metadata: { encoding: new TextEncoder().encode(CLAIM_CHECK_ENCODING) },
      data: Buffer.from(text),
    });
    const [wrongShape, notJson] = await codec.decode([reference('{"id":1}'), reference('{not json')]);
    expect(undecodableReason(payloadConverter.fromPayload(wrongShape))).toMatch(/sha256 hex "id"/);
    expect(undecodableReason(payloadConverter.fromPayload(notJson))).toMatch(/not valid JSON/);
  });

  test('with encryption, a claim-checked blob holds ciphertext: no ticket text in the store', async () => {
    const tickets = fakeTickets(300, true);
    const encryption = new EncryptionCodec({ current: encryptionKey(randomBytes(32)) });
    const codecs = createDataConverter(store, encryption).payloadCodecs!;
    const [encoded] = await encodeChain(codecs, [defaultPayloadConverter.toPayload(tickets)]);
    expect(encoding(encoded)).toBe(CLAIM_CHECK_ENCODING);
    const { id } = JSON.parse(Buffer.from(encoded.data!).toString());
    const stored = Buffer.from((await store.get(id))!);
    expect(encoding(temporal.api.common.v1.Payload.decode(stored))).toBe(ENCRYPTED_ENCODING);
    expect(stored.includes('user7@example.com')).toBe(false);
    expect(stored.includes('Printer on floor')).toBe(false);
    const [decoded] = await decodeChain(codecs, [encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(tickets);
  });

  test('a blob above the decode limit becomes the marker with its reason, and is never loaded', async () => {
    const [encoded] = await new ClaimCheckCodec(store, { thresholdBytes: 1000 }).encode([
      binaryPayload(randomBytes(5000)),
    ]);
    const { id, size } = JSON.parse(Buffer.from(encoded.data!).toString());
    const small = new ClaimCheckCodec(store, { thresholdBytes: 1000, maxDecodedBytes: 4096 });
    const loads: (number | undefined)[] = [];
    const get = store.get.bind(store);
    store.get = async (blobId, maxBytes) => {
      loads.push(maxBytes);
      return get(blobId, maxBytes);
    };

    const [decoded] = await small.decode([encoded]);
    expect(undecodableReason(payloadConverter.fromPayload(decoded))).toBe(
      `claim-check blob ${id} refused: ${size} bytes, above the limit of 4096`,
    );
    expect(loads).toEqual([]);

    // A reference that understates the size: the store checks the stored length before reading the blob.
    const lying = { ...encoded, data: Buffer.from(JSON.stringify({ id, size: 100 })) };
    const [refused] = await small.decode([lying]);
    expect(undecodableReason(payloadConverter.fromPayload(refused))).toMatch(
      /refused: \d+ bytes, above the limit of 4096$/,
    );
    expect(loads).toEqual([4096]);
    await expect(get(id, 4096)).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect((await get(id, size))!.length).toBe(size);
  });

  test('withoutStoring: small payloads encode as before, a big one is refused and writes nothing', async () => {
    const codec = new ClaimCheckCodec(store).withoutStoring();
    const small = defaultPayloadConverter.toPayload({ kind: 'small' });
    expect(await codec.encode([small])).toEqual([small]);
    await expect(codec.encode([binaryPayload(randomBytes(300_000))])).rejects.toBeInstanceOf(BlobStoreRefusedError);
    expect(await store.deleteOlderThan(new Date(Date.now() + DAY))).toBe(0);

    const [reference] = await new ClaimCheckCodec(store).encode([binaryPayload(randomBytes(300_000))]);
    expect(encoding((await codec.decode([reference]))[0])).toBe('binary/plain');
  });

  test('purgeExpiredBlobs deletes only blobs older than the retention; a repeated put refreshes the age', async () => {
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    let now = t0;
    const clocked = new SqliteBlobStore(path.join(dir, 'tickets.db'), { now: () => now });
    try {
      await clocked.put('a'.repeat(64), Buffer.from('old'));
      await clocked.put('c'.repeat(64), Buffer.from('old, then referenced again'));
      now = t0 + 2 * DAY;
      await clocked.put('b'.repeat(64), Buffer.from('new'));
      await clocked.put('c'.repeat(64), Buffer.from('old, then referenced again'));

      expect(await purgeExpiredBlobs(clocked, DAY, t0 + 2 * DAY + 60_000)).toBe(1);
      expect(await clocked.get('a'.repeat(64))).toBeUndefined();
      expect(Buffer.from((await clocked.get('b'.repeat(64)))!).toString()).toBe('new');
      expect(await clocked.get('c'.repeat(64))).toBeDefined();
      expect(await purgeExpiredBlobs(clocked, DAY, t0 + 3 * DAY + 60_000)).toBe(2);
    } finally {
      await clocked.close();
    }
  });

  test('the store survives reopening the file', async () => {
    const file = path.join(dir, 'tickets.db');
    const data = randomBytes(100_000);
    const id = createHash('sha256').update(data).digest('hex');
    await store.put(id, data);
    await store.close();

    store = new SqliteBlobStore(file);
    expect(Buffer.from((await store.get(id))!).equals(data)).toBe(true);
    expect(await store.get('0'.repeat(64))).toBeUndefined();
  });

  test('the store shares the file with another open connection (the ticket sink)', async () => {
    const sink = new Database(path.join(dir, 'tickets.db'));
    try {
      sink.pragma('journal_mode = WAL');
      sink.exec('CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, data TEXT NOT NULL) STRICT');
      sink.prepare('INSERT INTO tickets (id, data) VALUES (?, ?)').run(1, '{}');
      const data = randomBytes(1000);
      await store.put('d'.repeat(64), data);
      expect(Buffer.from((await store.get('d'.repeat(64)))!).equals(data)).toBe(true);
      const tables = sink.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all();
      expect(tables).toEqual([{ name: 'payload_blobs' }, { name: 'tickets' }]);
      expect(sink.prepare('SELECT size FROM payload_blobs').all()).toEqual([{ size: 1000 }]);
    } finally {
      sink.close();
    }
  });
});
