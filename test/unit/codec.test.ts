import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { createDataConverter } from '../../src/codec/claim-check';
import { GZIP_ENCODING, GzipPayloadCodec } from '../../src/codec/gzip-codec';
import { MAX_DECODED_PAYLOAD_BYTES } from '../../src/codec/limits';
import { payloadConverter } from '../../src/codec/payload-converter';
import { undecodableReason } from '../../src/shared';
import { DEFAULT_CREDENTIALS, startEmulator } from '../../src/emulator';
import { ZendeskClient } from '../../src/zendesk/client';

const HISTORY_PAYLOAD_LIMIT = 256 * 1024;

function encoding(payload: Payload): string {
  const bytes = payload.metadata?.encoding;
  return bytes ? new TextDecoder().decode(bytes) : '';
}

function wireSize(payload: Payload): number {
  return temporal.api.common.v1.Payload.encode(payload).finish().length;
}

function bigValue() {
  return {
    kind: 'page',
    rows: Array.from({ length: 500 }, (_, i) => ({
      id: i + 1,
      generated_timestamp: 1_700_000_000 + i,
      subject: `Ticket number ${i} about the usual printer problem`,
      status: i % 7 === 0 ? 'Deleted' : 'Open',
    })),
  };
}

describe('GzipPayloadCodec', () => {
  const codec = new GzipPayloadCodec();

  test('a small payload passes unchanged and round-trips', async () => {
    const value = { kind: 'too_recent', requestedAt: 1, message: 'Too recent start_time' };
    const payload = defaultPayloadConverter.toPayload(value);
    const [encoded] = await codec.encode([payload]);
    expect(encoded).toBe(payload);
    expect(encoding(encoded)).toBe('json/plain');
    const [decoded] = await codec.decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(value);
  });

  test('a large payload is gzipped, shrinks, and round-trips exactly', async () => {
    const value = bigValue();
    const payload = defaultPayloadConverter.toPayload(value);
    const [encoded] = await codec.encode([payload]);
    expect(encoding(encoded)).toBe(GZIP_ENCODING);
    expect(wireSize(encoded)).toBeLessThan(wireSize(payload) / 4);

    const [decoded] = await codec.decode([encoded]);
    expect(encoding(decoded)).toBe('json/plain');
    expect(Buffer.from(decoded.data!).equals(Buffer.from(payload.data!))).toBe(true);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(value);
  });

  test('several payloads keep their order, each encoded on its own merits', async () => {
    const values = ['small', bigValue(), undefined, bigValue().rows.slice(0, 3)];
    const payloads = values.map((v) => defaultPayloadConverter.toPayload(v));
    const encoded = await codec.encode(payloads);
    expect(encoded.map(encoding)).toEqual(['json/plain', GZIP_ENCODING, 'binary/null', 'json/plain']);
    const decoded = await codec.decode(encoded);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(values);
  });

  test('the size threshold is configurable', async () => {
    const payload = defaultPayloadConverter.toPayload('tiny');
    const [encoded] = await new GzipPayloadCodec(0).encode([payload]);
    expect(encoding(encoded)).toBe(GZIP_ENCODING);
    const [decoded] = await codec.decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toBe('tiny');
  });

  test('payloads of other encodings pass through decode unchanged', async () => {
    const foreign: Payload = {
      metadata: { encoding: new TextEncoder().encode('binary/encrypted') },
      data: new Uint8Array([1, 2, 3, 4]),
    };
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    const bare: Payload = { data: new Uint8Array([9]) };
    const decoded = await codec.decode([foreign, plain, bare]);
    expect(decoded[0]).toBe(foreign);
    expect(decoded[1]).toBe(plain);
    expect(decoded[2]).toBe(bare);
  });

  test('corrupt gzip (no data, not gzip) decodes to the undecodable marker with its reason, not an empty value', async () => {
    const gzipEncoding = new TextEncoder().encode(GZIP_ENCODING);
    const broken: Payload[] = [
      { metadata: { encoding: gzipEncoding } },
      { metadata: { encoding: gzipEncoding }, data: Buffer.from('not gzip') },
    ];
    const decoded = (await codec.decode(broken)).map((p) => payloadConverter.fromPayload(p));
    expect(decoded.map(undecodableReason)).toEqual([
      expect.stringMatching(/^corrupt gzip payload: /),
      expect.stringMatching(/^corrupt gzip payload: incorrect header check/),
    ]);
  });

  test('the payload converter: what it cannot read becomes the marker; everything else is the default JSON', () => {
    const bad: Payload[] = [
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"startTime": ') },
      { metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('x') },
    ];
    expect(bad.map((p) => undecodableReason(payloadConverter.fromPayload(p)))).toEqual([
      expect.stringMatching(/JSON/),
      expect.stringMatching(/binary\/encrypted/),
    ]);
    for (const value of [{ startTime: 0 }, [1, 'two'], 'text', 42, null, undefined]) {
      const payload = payloadConverter.toPayload(value);
      expect(payload).toEqual(defaultPayloadConverter.toPayload(value));
      expect(payloadConverter.fromPayload(payload)).toEqual(value);
      expect(undecodableReason(payloadConverter.fromPayload(payload))).toBeUndefined();
    }
  });

  test('a 1000-row page from the emulator stays well below 256 KiB in history', async () => {
    const emulator = await startEmulator({ ticketCount: 1500, windowSeconds: 0 });
    try {
      const zendesk = new ZendeskClient({
        baseUrl: emulator.url,
        auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
        timeoutMs: 5000,
      });
      const outcome = await zendesk.fetchExportPage(0);
      if (outcome.kind !== 'page') throw new Error(`expected a page, got ${outcome.kind}`);
      expect(outcome.rows).toHaveLength(1000);

      const result = {
        kind: 'page',
        requestedAt: Date.now(),
        rows: outcome.rows,
        endTime: outcome.endTime,
        fieldHeaders: outcome.fieldHeaders,
      };
      const payload = defaultPayloadConverter.toPayload(result);
      const [encoded] = await codec.encode([payload]);
      const rawJsonBytes = payload.data!.length;
      const encodedBytes = wireSize(encoded);
      console.log(
        `1000-row page: raw JSON ${rawJsonBytes} bytes (${(rawJsonBytes / 1024).toFixed(1)} KiB), ` +
          `gzip-encoded payload ${encodedBytes} bytes (${(encodedBytes / 1024).toFixed(1)} KiB), ` +
          `ratio ${(rawJsonBytes / encodedBytes).toFixed(1)}×`,
      );
      expect(encoding(encoded)).toBe(GZIP_ENCODING);
      expect(encodedBytes).toBeLessThan(HISTORY_PAYLOAD_LIMIT);
      expect(encodedBytes).toBeLessThan(rawJsonBytes);

      const [decoded] = await codec.decode([encoded]);
      expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(result);
    } finally {
      await emulator.close();
    }
  });
});

const MiB = 1024 * 1024;

/** A real gzip bomb: `inflatedBytes` of zeros, compressed as one stream (~1000:1) without ever holding them. */
async function gzipBomb(inflatedBytes: number): Promise<Buffer> {
  const gzip = zlib.createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const zeros = Buffer.alloc(MiB);
  for (let written = 0; written < inflatedBytes; written += zeros.length) {
    if (!gzip.write(zeros)) await once(gzip, 'drain');
  }
  gzip.end();
  await once(gzip, 'end');
  return Buffer.concat(chunks);
}

function gzipPayload(data: Uint8Array): Payload {
  return { metadata: { encoding: new TextEncoder().encode(GZIP_ENCODING) }, data };
}

/** How much rss and ArrayBuffer memory `work` leaves behind (its garbage included: no GC in between). */
async function memoryGrowth(work: () => Promise<unknown>): Promise<{ rss: number; arrayBuffers: number }> {
  const before = process.memoryUsage();
  await work();
  const after = process.memoryUsage();
  return { rss: after.rss - before.rss, arrayBuffers: after.arrayBuffers - before.arrayBuffers };
}

describe('hostile payloads', () => {
  let bomb: Buffer;

  beforeAll(async () => {
    bomb = await gzipBomb(256 * MiB);
  });

  test('a 256 MiB gzip bomb is refused with its reason, and decoding it leaves memory as it was', async () => {
    expect(bomb.length).toBeLessThan(400 * 1024);
    const codecs = createDataConverter().payloadCodecs!;
    let decoded: Payload[] = [];
    const growth = await memoryGrowth(async () => {
      decoded = await codecs[0].decode([gzipPayload(bomb)]);
    });
    expect(growth.arrayBuffers).toBeLessThan(4 * MiB);
    expect(growth.rss).toBeLessThan(8 * MiB);
    // A signal, an update or an activity result carrying it: the workflow sees the marker, the worker goes on.
    expect(undecodableReason(payloadConverter.fromPayload(decoded[0]))).toBe(
      `gzip payload refused: it inflates to ${256 * MiB} bytes, above the limit of ${MAX_DECODED_PAYLOAD_BYTES}`,
    );
  });

  test('a bomb whose trailer lies about its size stops at the size it claims', async () => {
    const forged = Buffer.from(bomb);
    forged.writeUInt32LE(1000, forged.length - 4);
    let decoded: Payload[] = [];
    const growth = await memoryGrowth(async () => {
      decoded = await new GzipPayloadCodec().decode([gzipPayload(forged)]);
    });
    expect(growth.arrayBuffers).toBeLessThan(4 * MiB);
    expect(growth.rss).toBeLessThan(8 * MiB);
    expect(undecodableReason(payloadConverter.fromPayload(decoded[0]))).toMatch(
      /^gzip payload refused: it inflates past 1000 bytes \(its trailer claims 1000, the limit is 33554432\)$/,
    );
  });

  test('a bomb followed by a small gzip member (whose trailer is the one read) stops at that size', async () => {
    const multiMember = Buffer.concat([bomb, zlib.gzipSync(Buffer.from('tiny'))]);
    const growth = await memoryGrowth(async () => {
      const [decoded] = await new GzipPayloadCodec().decode([gzipPayload(multiMember)]);
      expect(undecodableReason(payloadConverter.fromPayload(decoded))).toMatch(
        /^gzip payload refused: it inflates past 4 bytes \(its trailer claims 4, /,
      );
    });
    expect(growth.arrayBuffers).toBeLessThan(4 * MiB);
  });

  test('the limit holds for all the payloads of one call: many payloads just under it are not many times the limit', async () => {
    const payload = defaultPayloadConverter.toPayload('x'.repeat(5000));
    const [encoded] = await new GzipPayloadCodec().encode([payload]);
    const size = temporal.api.common.v1.Payload.encode(payload).finish().length;
    const decoded = await new GzipPayloadCodec(1024, 2 * size + 10).decode([encoded, encoded, encoded]);
    const values = decoded.map((p) => payloadConverter.fromPayload(p));
    expect(values.slice(0, 2)).toEqual(['x'.repeat(5000), 'x'.repeat(5000)]);
    expect(undecodableReason(values[2])).toBe(
      `gzip payload refused: it inflates to ${size} bytes, above the limit of 10 left of ${2 * size + 10} for the ` +
        'payloads decoded with it',
    );
  });

  test('a legitimate payload far above the largest page still round-trips under the default limit', async () => {
    const rows = Array.from({ length: 6000 }, (_, id) => ({ id, description: `ticket ${id} `.repeat(100) }));
    const payload = defaultPayloadConverter.toPayload({ rows });
    expect(payload.data!.length).toBeGreaterThan(6 * MiB);
    const codec = new GzipPayloadCodec();
    const [decoded] = await codec.decode(await codec.encode([payload]));
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual({ rows });
  });

  test('the limit is exact: a payload one byte above it is refused, one at it decodes', async () => {
    const payload = defaultPayloadConverter.toPayload('x'.repeat(5000));
    const [encoded] = await new GzipPayloadCodec().encode([payload]);
    const size = temporal.api.common.v1.Payload.encode(payload).finish().length;
    const [atLimit] = await new GzipPayloadCodec(1024, size).decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(atLimit)).toBe('x'.repeat(5000));
    const [above] = await new GzipPayloadCodec(1024, size - 1).decode([encoded]);
    expect(undecodableReason(payloadConverter.fromPayload(above))).toBe(
      `gzip payload refused: it inflates to ${size} bytes, above the limit of ${size - 1}`,
    );
  });
});
