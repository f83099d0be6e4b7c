import { defaultPayloadConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { undecodablePayload } from '../shared';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES256GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface EncryptionKey {
  /** Names the key in each payload's metadata: the first 16 hex digits of its SHA-256, never the key itself. */
  id: string;
  key: Buffer;
}

/** A key from its 32 raw bytes. */
export function encryptionKey(key: Buffer): EncryptionKey {
  if (key.length !== KEY_BYTES) throw new Error(`an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

const text = new TextEncoder();
const METADATA = { encoding: text.encode(ENCRYPTED_ENCODING), [CIPHER_METADATA]: text.encode(CIPHER) };

/**
 * AES-256-GCM over each whole payload (its metadata included), with a fresh 96-bit nonce per payload: what reaches
 * the Temporal server, its history and the claim-check store is ciphertext. Decryption takes the current key and any
 * earlier ones, so a key can be rotated while runs are open. A payload written before encryption (no such metadata)
 * passes through unchanged, so older histories stay readable.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, EncryptionKey>;

  constructor(
    private readonly current: EncryptionKey,
    previous: EncryptionKey[] = [],
  ) {
    this.byId = new Map([...previous, current].map((k) => [k.id, k]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { ...METADATA, [KEY_ID_METADATA]: text.encode(this.current.id) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || new TextDecoder().decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      try {
        return this.open(payload);
      } catch (err) {
        // A marker, not an exception: thrown here it would fail every workflow task that carries this payload.
        return defaultPayloadConverter.toPayload(undecodablePayload((err as Error).message));
      }
    });
  }

  private open(payload: Payload): Payload {
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    const keyId = keyIdBytes ? new TextDecoder().decode(keyIdBytes) : '(none)';
    const key = this.byId.get(keyId);
    if (!key) {
      throw new Error(
        `payload encrypted with key ${keyId}, which this process does not have (it has ${[...this.byId.keys()].join(', ')}): ` +
          'add that key to PAYLOAD_ENCRYPTION_OLD_KEYS',
      );
    }
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < NONCE_BYTES + TAG_BYTES)
      throw new Error(`encrypted payload too short (${sealed.length} bytes)`);
    const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new Error(`encrypted payload (key ${keyId}) failed authentication: altered, or another key with this id`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
