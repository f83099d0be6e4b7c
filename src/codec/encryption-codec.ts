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

export interface EncryptionCodecOptions {
  /** Encrypts with it; undefined: payloads are written as they are (PAYLOAD_ENCRYPTION=off, or no key on loopback). */
  current?: EncryptionKey;
  /** Earlier keys, for decryption only. */
  previous?: EncryptionKey[];
  /**
   * A payload under a key this process lacks. `fail` (worker, CLI): decoding throws, naming the key id, so the
   * workflow task fails and is retried until a worker with the key takes it, instead of the workflow acting on a
   * payload it could not read. `marker` (codec endpoint): the payload shows as the undecodable marker with the reason.
   */
  onMissingKey?: 'fail' | 'marker';
}

/** A payload under a key this process does not have: a worker given that key can read it. */
export class MissingEncryptionKeyError extends Error {}

/**
 * AES-256-GCM over each whole payload (its metadata included), with a fresh 96-bit nonce per payload: what reaches
 * the Temporal server, its history and the claim-check store is ciphertext. Decryption takes the current key and any
 * earlier ones, so a key can be rotated while runs are open. A payload written before encryption (no such metadata)
 * passes through unchanged, so older histories stay readable.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly current?: EncryptionKey;
  private readonly byId: Map<string, EncryptionKey>;
  private readonly onMissingKey: 'fail' | 'marker';

  constructor({ current, previous = [], onMissingKey = 'fail' }: EncryptionCodecOptions = {}) {
    this.current = current;
    this.byId = new Map([...previous, ...(current ? [current] : [])].map((k) => [k.id, k]));
    this.onMissingKey = onMissingKey;
  }

  /** The same keys, showing a payload under a missing key as a marker (the codec endpoint's view). */
  withMarkers(): EncryptionCodec {
    return new EncryptionCodec({ current: this.current, previous: [...this.byId.values()], onMissingKey: 'marker' });
  }

  /** The id of the key new payloads are encrypted with; undefined: they are not. */
  get currentKeyId(): string | undefined {
    return this.current?.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.current;
    if (!current) return payloads;
    return payloads.map((payload) => {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { ...METADATA, [KEY_ID_METADATA]: text.encode(current.id) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || new TextDecoder().decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      try {
        return this.open(payload);
      } catch (err) {
        if (err instanceof MissingEncryptionKeyError && this.onMissingKey === 'fail') throw err;
        // Altered or forged: no key will ever read it, and thrown here it would fail every workflow task that carries
        // it (a signal stays in history for good). The marker gets a signal ignored and an update rejected.
        return defaultPayloadConverter.toPayload(undecodablePayload((err as Error).message));
      }
    });
  }

  private open(payload: Payload): Payload {
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    // Not written by this codec: no key will ever read it, so it is not a missing key.
    if (!keyIdBytes) throw new Error(`encrypted payload without the ${KEY_ID_METADATA} metadata`);
    const keyId = new TextDecoder().decode(keyIdBytes);
    const key = this.byId.get(keyId);
    if (!key) {
      const has = this.byId.size > 0 ? `it has ${[...this.byId.keys()].join(', ')}` : 'it has no key';
      throw new MissingEncryptionKeyError(
        `payload encrypted with key ${keyId}, which this process does not have (${has}): give it that key ` +
          '(PAYLOAD_ENCRYPTION_KEY, or PAYLOAD_ENCRYPTION_OLD_KEYS once a newer key is current)',
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
