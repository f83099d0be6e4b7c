import { defaultPayloadConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { messageOf, undecodablePayload } from '../shared';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export const GZIP_ENCODING = 'binary/gzip';
const ENCODING_BYTES = new TextEncoder().encode(GZIP_ENCODING);

/**
 * Compresses every payload above `minBytes` (a page of tickets shrinks 5-10×), so history stays small and far
 * from the 2 MiB per-payload limit. Small payloads pass unchanged.
 */
export class GzipPayloadCodec implements PayloadCodec {
  constructor(private readonly minBytes = 1024) {}

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
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = payload.metadata?.encoding;
        if (!encoding || new TextDecoder().decode(encoding) !== GZIP_ENCODING) return payload;
        try {
          return temporal.api.common.v1.Payload.decode(await gunzip(payload.data ?? new Uint8Array()));
        } catch (err) {
          // Thrown here, the error would fail every workflow task that carries this payload (see payload-converter.ts).
          const reason = `corrupt gzip payload: ${messageOf(err)}`;
          return defaultPayloadConverter.toPayload(undecodablePayload(reason));
        }
      }),
    );
  }
}
