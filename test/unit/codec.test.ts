import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { GZIP_ENCODING, GzipPayloadCodec } from '../../src/codec/gzip-codec';
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
