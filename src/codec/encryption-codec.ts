import { defaultPayloadConverter, Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { undecodablePayload } from '../shared';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
/** The workflow a payload is encrypted for (not secret): also its AES-GCM associated data, so it cannot be changed. */
export const WORKFLOW_ID_METADATA = 'encryption-workflow-id';
/** The setting that accepts what a key does not vouch for, during a migration. */
export const ALLOW_PLAINTEXT_SETTING = 'PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT';
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
  /**
   * PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT, for a migration: with a current key, accept payloads that are not encrypted and
   * encrypted ones bound to no workflow. Otherwise both decode to the undecodable marker when a key is current.
   */
  allowPlaintext?: boolean;
  /** Told of each payload accepted only because of allowPlaintext: never its content. */
  onLetThrough?: (event: LetThrough) => void;
  /** Told of each payload under a key this process lacks (the key's id, the ids it has), before decoding fails. */
  onKeyMissing?: (event: KeyMissing) => void;
  /** The codec endpoint's view: shows plaintext payloads as they are (it decodes for display, for no workflow). */
  forDisplay?: boolean;
}

/** A payload that only PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT let through: what it was, for whom; never its content. */
export interface LetThrough {
  kind: 'plaintext' | 'unbound';
  /** Its metadata's encoding (json/plain, binary/gzip, binary/encrypted…), shortened. */
  encoding: string;
  /** The workflow it was decoded for; undefined: no context (a payload read by hand). */
  workflowId?: string;
}

/** A payload under a key this process lacks: the key ids only. */
export interface KeyMissing {
  keyId: string;
  has: string[];
}

/** A payload under a key this process does not have: a worker given that key can read it. */
export class MissingEncryptionKeyError extends Error {}

/**
 * AES-256-GCM over each whole payload (its metadata included), with a fresh 96-bit nonce per payload: what reaches
 * the Temporal server, its history and the claim-check store is ciphertext. Decryption takes the current key and any
 * earlier ones, so a key can be rotated while runs are open.
 *
 * A payload is bound to the workflow that owns it (the SDK's serialization context: the workflow itself, or the one
 * that scheduled the activity): its id is the AES-GCM associated data, and is named in the metadata. Decoded for
 * another workflow, the payload is the undecodable marker, so a payload copied from one export's history into
 * another's (a signal, an activity completion) is refused. With a current key, a payload that is not encrypted, or
 * encrypted for no workflow (before binding), is refused the same way unless `allowPlaintext`: whoever can write to
 * the namespace could have sent it. Without a current key, plaintext passes: encryption is not required.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly current?: EncryptionKey;
  private readonly byId: Map<string, EncryptionKey>;
  private readonly onMissingKey: 'fail' | 'marker';
  private readonly allowPlaintext: boolean;
  private readonly onLetThrough?: (event: LetThrough) => void;
  private readonly onKeyMissing?: (event: KeyMissing) => void;
  private readonly forDisplay: boolean;
  /** How many payloads allowPlaintext let through, by kind, since this codec was made. */
  readonly letThrough = { plaintext: 0, unbound: 0 };

  constructor({
    current,
    previous = [],
    onMissingKey = 'fail',
    allowPlaintext = false,
    onLetThrough,
    onKeyMissing,
    forDisplay = false,
  }: EncryptionCodecOptions = {}) {
    this.current = current;
    this.byId = new Map([...previous, ...(current ? [current] : [])].map((k) => [k.id, k]));
    this.onMissingKey = onMissingKey;
    this.allowPlaintext = allowPlaintext;
    this.onLetThrough = onLetThrough;
    this.onKeyMissing = onKeyMissing;
    this.forDisplay = forDisplay;
  }

  /**
   * The codec endpoint's view, for the Web UI: the same keys; a payload under a missing key shows as a marker, a
   * plaintext one as it is. It gets no workflow context, so a bound payload is opened for the workflow its metadata
   * names, and one bound to no workflow is opened as well: it decodes for display, never for a workflow.
   */
  withMarkers(): EncryptionCodec {
    return new EncryptionCodec({
      current: this.current,
      previous: [...this.byId.values()],
      onMissingKey: 'marker',
      forDisplay: true,
    });
  }

  /** The id of the key new payloads are encrypted with; undefined: they are not. */
  get currentKeyId(): string | undefined {
    return this.current?.id;
  }

  /**
   * Encrypts for the workflow of `context`. Without one (the codec endpoint's /encode, which the Web UI gives no
   * workflow), the payload is bound to no workflow, and a process with a current key refuses it for any workflow.
   */
  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const current = this.current;
    if (!current) return payloads;
    const workflowId = workflowIdOf(context);
    const bound: Record<string, Uint8Array> =
      workflowId !== undefined ? { [WORKFLOW_ID_METADATA]: text.encode(workflowId) } : {};
    return payloads.map((payload) => {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
      if (workflowId !== undefined) cipher.setAAD(associatedData(workflowId));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { ...METADATA, [KEY_ID_METADATA]: text.encode(current.id), ...bound }, data: sealed };
    });
  }

  /**
   * Decodes for the workflow of `context` (the SDK gives one for every payload of a workflow and its activities, in
   * the worker and the client). What this process cannot accept becomes the undecodable marker with the reason: thrown
   * here, it would fail every workflow task that carries it (a signal stays in history for good); the marker gets a
   * signal ignored, an update rejected. Only a missing key throws (`fail`): a worker with that key can read it.
   */
  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const workflowId = workflowIdOf(context);
    return payloads.map((payload) => {
      try {
        return this.decodeOne(payload, workflowId);
      } catch (err) {
        if (err instanceof MissingEncryptionKeyError && this.onMissingKey === 'fail') throw err;
        return defaultPayloadConverter.toPayload(undecodablePayload((err as Error).message));
      }
    });
  }

  /** Whether this process requires encryption: a current key, and no migration setting or display. */
  private get required(): boolean {
    return this.current !== undefined && !this.allowPlaintext && !this.forDisplay;
  }

  private decodeOne(payload: Payload, workflowId: string | undefined): Payload {
    const encoding = encodingOf(payload);
    if (encoding !== ENCRYPTED_ENCODING) {
      if (!this.current || this.forDisplay) return payload;
      if (!this.allowPlaintext) {
        const shown = encoding !== undefined ? printable(encoding) : 'no encoding';
        throw new Error(
          `a plaintext payload (${shown}) where encryption is required: refused, since anyone who can write to the ` +
            `namespace could have sent it; ${ALLOW_PLAINTEXT_SETTING}=true accepts it during a migration`,
        );
      }
      this.let({ kind: 'plaintext', encoding: encoding ?? '', workflowId });
      return payload;
    }
    const boundBytes = payload.metadata?.[WORKFLOW_ID_METADATA];
    const boundTo = boundBytes ? new TextDecoder().decode(boundBytes) : undefined;
    if (boundTo !== undefined) {
      if (workflowId !== undefined && boundTo !== workflowId) {
        throw new Error(
          `a payload encrypted for workflow ${printable(boundTo)}, given to workflow ${workflowId}: refused ` +
            '(replayed from another workflow?)',
        );
      }
      return this.open(payload, boundTo);
    }
    // Bound to no workflow: written before payloads were bound, or by the codec endpoint's /encode.
    if (workflowId !== undefined && this.current) {
      if (this.required) {
        throw new Error(
          `an encrypted payload bound to no workflow, given to workflow ${workflowId}: refused, since it could have ` +
            `been copied from another workflow's history; ${ALLOW_PLAINTEXT_SETTING}=true accepts it during a ` +
            'migration (payloads written before workflow binding)',
        );
      }
      const opened = this.open(payload, undefined);
      if (this.allowPlaintext) this.let({ kind: 'unbound', encoding: ENCRYPTED_ENCODING, workflowId });
      return opened;
    }
    return this.open(payload, undefined);
  }

  private let(event: LetThrough): void {
    this.letThrough[event.kind]++;
    this.onLetThrough?.({ ...event, encoding: printable(event.encoding) });
  }

  private open(payload: Payload, boundTo: string | undefined): Payload {
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    // Not written by this codec: no key will ever read it, so it is not a missing key.
    if (!keyIdBytes) throw new Error(`encrypted payload without the ${KEY_ID_METADATA} metadata`);
    const keyId = new TextDecoder().decode(keyIdBytes);
    const key = this.byId.get(keyId);
    if (!key) {
      this.onKeyMissing?.({ keyId: printable(keyId), has: [...this.byId.keys()] });
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
    if (boundTo !== undefined) decipher.setAAD(associatedData(boundTo));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      const binding =
        boundTo !== undefined ? `, or its workflow (${printable(boundTo)}) changed` : ', or a binding removed';
      throw new Error(
        `encrypted payload (key ${keyId}) failed authentication: altered${binding}, or another key with this id`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** The workflow that owns the payloads of a context: the workflow itself, or the one that scheduled the activity. */
function workflowIdOf(context: SerializationContext | undefined): string | undefined {
  return context?.workflowId || undefined;
}

/** The AES-GCM associated data of a payload bound to a workflow. */
function associatedData(workflowId: string): Buffer {
  return Buffer.from(`temporal-workflow-id\0${workflowId}`, 'utf8');
}

function encodingOf(payload: Payload): string | undefined {
  const encoding = payload.metadata?.encoding;
  return encoding ? new TextDecoder().decode(encoding) : undefined;
}

/** Metadata from the wire, fit for a log line or a status warning: printable, and short. */
function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
