import { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createHash } from 'node:crypto';
import type { BlobStore } from './blob-store';
import { EncryptionCodec } from './encryption-codec';
import { GzipPayloadCodec } from './gzip-codec';
import { MAX_STAGED_PAGE_BYTES, PayloadTooLargeError } from './limits';

const JSON_ENCODING = new TextEncoder().encode('json/plain');
/** Room for the payload's framing and gzip's worst case around the largest staged JSON. */
const FRAMING_BYTES = 1024 * 1024;

/** A staged blob that is not in the store (purged, or written to another store). */
export class StagedPageGoneError extends Error {}

/**
 * Pages too big for the history, kept in the blob store between fetchPage and persist. The bytes are the same as a
 * payload in the history would be: gzipped, then encrypted when a key is configured; the id is their sha256.
 */
export class PageStaging {
  private readonly codecs: PayloadCodec[];

  constructor(
    private readonly store: BlobStore,
    encryption: EncryptionCodec = new EncryptionCodec(),
  ) {
    this.codecs = [new GzipPayloadCodec(1024, MAX_STAGED_PAGE_BYTES + FRAMING_BYTES), encryption];
  }

  /** Stores a page given as its JSON text; returns the blob's id and size. */
  async stage(json: string, context?: SerializationContext): Promise<{ staged: string; bytes: number }> {
    const data = Buffer.from(json, 'utf8');
    if (data.byteLength > MAX_STAGED_PAGE_BYTES) {
      throw new PayloadTooLargeError(
        `a page of ${data.byteLength} bytes of JSON is above the ${MAX_STAGED_PAGE_BYTES} a staged page holds`,
      );
    }
    let payloads: Payload[] = [{ metadata: { encoding: JSON_ENCODING }, data }];
    for (const codec of this.codecs) payloads = await codec.encode(payloads, context);
    const bytes = temporal.api.common.v1.Payload.encode(payloads[0]).finish();
    const staged = createHash('sha256').update(bytes).digest('hex');
    await this.store.put(staged, bytes);
    return { staged, bytes: bytes.byteLength };
  }

  /** The page's JSON value, read back and checked against its id. */
  async load(id: string, context?: SerializationContext): Promise<unknown> {
    const bytes = await this.store.get(id, MAX_STAGED_PAGE_BYTES + FRAMING_BYTES);
    if (!bytes) throw new StagedPageGoneError(`staged page ${id} is not in the blob store (purged, or never stored)`);
    if (createHash('sha256').update(bytes).digest('hex') !== id) throw new Error(`staged page ${id} is corrupt`);
    let payloads: Payload[] = [temporal.api.common.v1.Payload.decode(bytes)];
    for (const codec of [...this.codecs].reverse()) payloads = await codec.decode(payloads, context);
    const payload = payloads[0];
    const encoding = new TextDecoder().decode(payload.metadata?.encoding ?? new Uint8Array());
    if (encoding !== 'json/plain') {
      // The codecs turn what they cannot read into the undecodable marker, itself a json/plain payload: this is
      // something else entirely.
      throw new Error(`staged page ${id} decoded to "${encoding}", not JSON`);
    }
    return JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')) as unknown;
  }
}
