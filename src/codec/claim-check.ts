import { DataConverter, defaultPayloadConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createHash } from 'node:crypto';
import type { BlobStore } from './blob-store';
import { undecodablePayload } from '../shared';
import { EncryptionCodec } from './encryption-codec';
import { GzipPayloadCodec } from './gzip-codec';
import { blobTooLarge, MAX_DECODED_PAYLOAD_BYTES, PayloadTooLargeError } from './limits';

/** Loaded by clients and activities, and bundled into the workflow code: see payload-converter.ts. */
export const PAYLOAD_CONVERTER_PATH = require.resolve('./payload-converter');

export const CLAIM_CHECK_ENCODING = 'binary/claim-check';
const ENCODING_BYTES = new TextEncoder().encode(CLAIM_CHECK_ENCODING);

export interface ClaimCheckOptions {
  /** Payloads whose serialized size is above this go to the store. */
  thresholdBytes?: number;
  /** Blobs above this are refused on decode, without loading them. */
  maxDecodedBytes?: number;
  /** false: encoding a payload above the threshold throws BlobStoreRefusedError instead of writing a blob. */
  storeBlobs?: boolean;
}

/** Encoding would write a blob, and this codec may not (the codec endpoint for an unauthenticated caller). */
export class BlobStoreRefusedError extends Error {}

interface ClaimCheckReference {
  id: string;
  size: number;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

class MalformedReferenceError extends Error {}

function parseReference(payload: Payload): ClaimCheckReference {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload.data ?? new Uint8Array()));
  } catch {
    throw new MalformedReferenceError('claim-check payload: the reference is not valid JSON');
  }
  const { id, size } = (parsed ?? {}) as Partial<ClaimCheckReference>;
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id) || typeof size !== 'number') {
    throw new MalformedReferenceError(
      'claim-check payload: the reference needs a sha256 hex "id" and a numeric "size"',
    );
  }
  return { id, size };
}

/**
 * Keeps big payloads out of the history: any payload still above the threshold (after gzip, which runs before this
 * codec on encode) is stored in the blob store under its sha256 and replaced by a small reference.
 */
export class ClaimCheckCodec implements PayloadCodec {
  private readonly thresholdBytes: number;
  private readonly maxDecodedBytes: number;
  private readonly storeBlobs: boolean;

  constructor(
    private readonly store: BlobStore,
    {
      thresholdBytes = 256 * 1024,
      maxDecodedBytes = MAX_DECODED_PAYLOAD_BYTES,
      storeBlobs = true,
    }: ClaimCheckOptions = {},
  ) {
    this.thresholdBytes = thresholdBytes;
    this.maxDecodedBytes = maxDecodedBytes;
    this.storeBlobs = storeBlobs;
  }

  /** The same codec, except that encode never writes a blob. */
  withoutStoring(): ClaimCheckCodec {
    const { thresholdBytes, maxDecodedBytes } = this;
    return new ClaimCheckCodec(this.store, { thresholdBytes, maxDecodedBytes, storeBlobs: false });
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const bytes = temporal.api.common.v1.Payload.encode(payload).finish();
        if (bytes.length <= this.thresholdBytes) return payload;
        if (!this.storeBlobs) {
          throw new BlobStoreRefusedError(
            `a payload of ${bytes.length} bytes is above the claim-check threshold (${this.thresholdBytes}) and this ` +
              'caller may not store blobs',
          );
        }
        const reference: ClaimCheckReference = { id: sha256Hex(bytes), size: bytes.length };
        await this.store.put(reference.id, bytes);
        return { metadata: { encoding: ENCODING_BYTES }, data: new TextEncoder().encode(JSON.stringify(reference)) };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = payload.metadata?.encoding;
        if (!encoding || new TextDecoder().decode(encoding) !== CLAIM_CHECK_ENCODING) return payload;
        try {
          const { id, size } = parseReference(payload);
          return await this.fetch(id, size);
        } catch (err) {
          // Like a gzip bomb or a forged reference: a marker that the workflow sets aside, not a task failure on every
          // replay. A blob the store cannot give now (a database down) still fails, so the task is retried.
          if (err instanceof PayloadTooLargeError || err instanceof MalformedReferenceError)
            return defaultPayloadConverter.toPayload(undecodablePayload(err.message));
          throw err;
        }
      }),
    );
  }

  private async fetch(id: string, size: number): Promise<Payload> {
    if (size > this.maxDecodedBytes) throw blobTooLarge(id, size, this.maxDecodedBytes);
    const bytes = await this.store.get(id, this.maxDecodedBytes);
    if (!bytes) {
      throw new Error(
        `claim-check blob ${id} is gone from the blob store (deleted by the retention purge, or never stored ` +
          'in this store): the payload that references it cannot be decoded',
      );
    }
    if (sha256Hex(bytes) !== id) throw new Error(`claim-check blob ${id} is corrupt: its sha256 does not match`);
    return temporal.api.common.v1.Payload.decode(bytes);
  }
}

/**
 * Worker, client and codec server must all use the same chain. Codecs encode in array order and decode in reverse,
 * so a payload is gzipped (ciphertext does not compress), then encrypted, then claim-checked if it is still too big:
 * a blob in the store holds ciphertext too. Without `encryption`, a codec without keys: it writes plaintext and names
 * the key of any encrypted payload it is given.
 */
export function createDataConverter(
  store?: BlobStore,
  encryption: EncryptionCodec = new EncryptionCodec(),
): DataConverter {
  return {
    payloadConverterPath: PAYLOAD_CONVERTER_PATH,
    payloadCodecs: [new GzipPayloadCodec(), encryption, ...(store ? [new ClaimCheckCodec(store)] : [])],
  };
}

/**
 * Deletes blobs stored more than `retentionMs` ago; returns how many.
 *
 * A history keeps referencing its blobs after the run closes. The retention must exceed the longest run (continue-as-new
 * bounds it) so that replaying an open run never hits a purged blob, plus the namespace's history retention if closed
 * runs should stay decodable (Web UI, `temporal workflow show`, replay tests of downloaded histories).
 */
export async function purgeExpiredBlobs(
  store: BlobStore,
  retentionMs: number,
  now = Date.now(),
  keep: ReadonlySet<string> = new Set(),
): Promise<number> {
  return store.deleteOlderThan(new Date(now - retentionMs), keep);
}

/** The blob ids a payload tree references: every claim-check payload found anywhere inside `value`. */
export function claimCheckReferences(value: unknown, found = new Set<string>()): Set<string> {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return found;
  if (Array.isArray(value)) {
    for (const item of value) claimCheckReferences(item, found);
    return found;
  }
  const record = value as Record<string, unknown>;
  const metadata = record.metadata as Record<string, Uint8Array> | undefined;
  if (metadata?.encoding && ArrayBuffer.isView(metadata.encoding) && record.data instanceof Uint8Array) {
    if (Buffer.from(metadata.encoding).toString() === CLAIM_CHECK_ENCODING) {
      try {
        const { id } = JSON.parse(Buffer.from(record.data).toString('utf8')) as { id?: unknown };
        if (typeof id === 'string') found.add(id);
      } catch {
        // not a reference of ours
      }
    }
    return found;
  }
  for (const child of Object.values(record)) claimCheckReferences(child, found);
  return found;
}
