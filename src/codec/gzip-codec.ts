import { defaultPayloadConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { messageOf, undecodablePayload } from '../shared';
import { MAX_DECODED_PAYLOAD_BYTES, PayloadTooLargeError } from './limits';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export const GZIP_ENCODING = 'binary/gzip';
const ENCODING_BYTES = new TextEncoder().encode(GZIP_ENCODING);

/** The size a gzip stream claims in its trailer (ISIZE, the length mod 2^32), or undefined if it has none. */
function claimedSize(data: Uint8Array): number | undefined {
  if (data.length < 18) return undefined;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32LE(data.length - 4);
}

/**
 * Inflates at most `limit` bytes. Our payloads are one gzip member whose trailer holds their exact size, so the
 * trailer caps the output too: a bomb with an honest trailer is refused before inflating a byte, and one with a
 * forged trailer stops at the size it claims (never above `limit`), so memory stays at what a real payload would use.
 */
async function boundedGunzip(data: Uint8Array, limit: number, note = ''): Promise<Buffer> {
  const claimed = claimedSize(data);
  if (claimed !== undefined && claimed > limit) {
    throw new PayloadTooLargeError(
      `gzip payload refused: it inflates to ${claimed} bytes, above the limit of ${limit}${note}`,
    );
  }
  const maxOutputLength = Math.max(1, Math.min(limit, claimed ?? limit));
  try {
    return await gunzip(data, { maxOutputLength });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw err;
    throw new PayloadTooLargeError(
      `gzip payload refused: it inflates past ${maxOutputLength} bytes (its trailer claims ${claimed ?? 'nothing'}, ` +
        `the limit is ${limit}${note})`,
    );
  }
}

/**
 * Compresses every payload above `minBytes` (a page of tickets shrinks 5-10×), so history stays small and far
 * from the 2 MiB per-payload limit. Small payloads pass unchanged. One decode call never inflates more than
 * `maxDecodedBytes` in all (one request of the codec endpoint; one activation job's payloads in the worker).
 */
export class GzipPayloadCodec implements PayloadCodec {
  constructor(
    private readonly minBytes = 1024,
    private readonly maxDecodedBytes = MAX_DECODED_PAYLOAD_BYTES,
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const bytes = temporal.api.common.v1.Payload.encode(payload).finish();
        if (bytes.length < this.minBytes) return payload;
        return { metadata: { encoding: ENCODING_BYTES }, data: await gzip(bytes) };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    // Shared by the call: a hundred payloads of 32 MiB each would sink the process as surely as one bomb.
    let budget = this.maxDecodedBytes;
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = payload.metadata?.encoding;
        if (!encoding || new TextDecoder().decode(encoding) !== GZIP_ENCODING) return payload;
        const data = payload.data ?? new Uint8Array();
        const limit = budget;
        budget -= Math.min(limit, claimedSize(data) ?? limit);
        const note =
          limit < this.maxDecodedBytes ? ` left of ${this.maxDecodedBytes} for the payloads decoded with it` : '';
        try {
          const bytes = await boundedGunzip(data, limit, note);
          return temporal.api.common.v1.Payload.decode(bytes);
        } catch (err) {
          // Thrown here, the error would fail every workflow task that carries this payload (see payload-converter.ts).
          const reason = err instanceof PayloadTooLargeError ? err.message : `corrupt gzip payload: ${messageOf(err)}`;
          return defaultPayloadConverter.toPayload(undecodablePayload(reason));
        }
      }),
    );
  }
}
