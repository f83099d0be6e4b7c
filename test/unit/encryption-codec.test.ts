import { defaultPayloadConverter, Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EncryptionCodec,
  encryptionKey,
  KEY_ID_METADATA,
  LetThrough,
  MissingEncryptionKeyError,
  WORKFLOW_ID_METADATA,
} from '../../src/codec/encryption-codec';
import {
  describeEncryption,
  encryptionCodecOf,
  encryptionProblems,
  ensureKeyFile,
  letThroughWarnings,
  readEncryptionSettings,
} from '../../src/codec/encryption-keys';
import { undecodableReason } from '../../src/shared';

const TICKET = { id: 42, subject: 'Refund for order 9921 — Jane Doe <jane@example.com>', description: 'x'.repeat(500) };

function payloadOf(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

function valueOf(payload: Payload): unknown {
  return defaultPayloadConverter.fromPayload(payload);
}

describe('EncryptionCodec (AES-256-GCM)', () => {
  const key = encryptionKey(randomBytes(32));

  test('round trip; the encoded payload holds no plaintext and names the key id, not the key', async () => {
    const codec = new EncryptionCodec({ current: key });
    const [encoded] = await codec.encode([payloadOf(TICKET)]);
    const bytes = Buffer.from(encoded.data!);
    expect(bytes.includes(Buffer.from('jane@example.com'))).toBe(false);
    expect(bytes.includes(Buffer.from('Refund'))).toBe(false);
    expect(new TextDecoder().decode(encoded.metadata![KEY_ID_METADATA])).toBe(key.id);
    expect(JSON.stringify(encoded)).not.toContain(key.key.toString('base64'));
    expect(valueOf((await codec.decode([encoded]))[0])).toEqual(TICKET);
  });

  test('a fresh nonce per payload: the same value twice encrypts differently', async () => {
    const codec = new EncryptionCodec({ current: key });
    const [a, b] = await codec.encode([payloadOf(TICKET), payloadOf(TICKET)]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
    expect(Buffer.from(a.data!).subarray(0, 12).equals(Buffer.from(b.data!).subarray(0, 12))).toBe(false);
  });

  test('without a current key (none, or old keys only while turning encryption off), plaintext passes unchanged', async () => {
    const plain = payloadOf(TICKET);
    expect(await new EncryptionCodec().decode([plain])).toEqual([plain]);
    expect(await new EncryptionCodec({ previous: [key] }).decode([plain])).toEqual([plain]);
  });

  test('rotation: a payload under the old key decodes with the new key current; new payloads use the new key', async () => {
    const newKey = encryptionKey(randomBytes(32));
    const [old] = await new EncryptionCodec({ current: key }).encode([payloadOf(TICKET)]);
    const rotated = new EncryptionCodec({ current: newKey, previous: [key] });
    expect(valueOf((await rotated.decode([old]))[0])).toEqual(TICKET);
    const [fresh] = await rotated.encode([payloadOf(TICKET)]);
    expect(new TextDecoder().decode(fresh.metadata![KEY_ID_METADATA])).toBe(newKey.id);
  });

  test('a key this process does not have: an error naming the key id (worker, CLI), a marker (codec endpoint)', async () => {
    const [sealed] = await new EncryptionCodec({ current: key }).encode([payloadOf(TICKET)]);
    const other = new EncryptionCodec({ current: encryptionKey(randomBytes(32)) });
    const expected = new RegExp(`encrypted with key ${key.id}, which this process does not have`);
    await expect(other.decode([sealed])).rejects.toThrow(MissingEncryptionKeyError);
    await expect(other.decode([sealed])).rejects.toThrow(expected);
    const reason = undecodableReason(valueOf((await other.withMarkers().decode([sealed]))[0]));
    expect(reason).toMatch(expected);
    expect(reason).toMatch(/PAYLOAD_ENCRYPTION_OLD_KEYS/);
    await expect(new EncryptionCodec().decode([sealed])).rejects.toThrow(/it has no key/);
  });

  test('without a key, payloads are written as they are', async () => {
    const plain = payloadOf(TICKET);
    expect(await new EncryptionCodec().encode([plain])).toEqual([plain]);
  });

  test('altered ciphertext fails authentication, as a marker', async () => {
    const codec = new EncryptionCodec({ current: key });
    const [sealed] = await codec.encode([payloadOf(TICKET)]);
    const data = Buffer.from(sealed.data!);
    data[20] ^= 0xff;
    const reason = undecodableReason(valueOf((await codec.decode([{ ...sealed, data }]))[0]));
    expect(reason).toMatch(/failed authentication/);
  });
});

const A = 'zendesk-export-acme';
const B = 'zendesk-export-globex';

function workflowContext(workflowId: string): SerializationContext {
  return { type: 'workflow', namespace: 'default', workflowId };
}

/** What the worker gives an activity's input and result: the workflow that scheduled it. */
function activityContext(workflowId: string, isLocal = false): SerializationContext {
  return { type: 'activity', namespace: 'default', workflowId, activityId: '7', isLocal };
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? new TextDecoder().decode(bytes) : undefined;
}

async function reasonOf(codec: PayloadCodec, payload: Payload, context?: SerializationContext) {
  return undecodableReason(valueOf((await codec.decode([payload], context))[0]));
}

/** PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true, with what it lets through. */
function migrationCodec(current: ReturnType<typeof encryptionKey>) {
  const letThrough: LetThrough[] = [];
  const codec = new EncryptionCodec({ current, allowPlaintext: true, onLetThrough: (event) => letThrough.push(event) });
  return { codec, letThrough };
}

describe('with a key, only what the key vouches for is decoded', () => {
  const key = encryptionKey(randomBytes(32));

  test('a plaintext payload decodes to the undecodable marker, naming the setting that accepts it', async () => {
    const codec: PayloadCodec = new EncryptionCodec({ current: key });
    for (const context of [workflowContext(A), activityContext(A), undefined]) {
      const reason = await reasonOf(codec, payloadOf({ startTime: 0 }), context);
      expect(reason).toMatch(/^a plaintext payload \(json\/plain\) where encryption is required/);
      expect(reason).toMatch(/PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true accepts it during a migration/);
    }
    // Whatever its encoding: gzip or a claim-check reference that were not encrypted are refused the same way.
    const gzip = { metadata: { encoding: Buffer.from('binary/gzip') }, data: Buffer.from('x') };
    expect(await reasonOf(codec, gzip, workflowContext(A))).toMatch(/^a plaintext payload \(binary\/gzip\)/);
  });

  test('PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: plaintext passes, counted and reported without its content', async () => {
    const { codec, letThrough } = migrationCodec(key);
    const plain = payloadOf(TICKET);
    expect(await codec.decode([plain], workflowContext(A))).toEqual([plain]);
    expect(letThrough).toEqual([{ kind: 'plaintext', encoding: 'json/plain', workflowId: A }]);
    expect(codec.letThrough).toEqual({ plaintext: 1, unbound: 0 });
    expect(JSON.stringify(letThrough)).not.toContain('Refund');
  });

  test("the codec endpoint's view shows a plaintext payload as it is (it decodes for display, never for a workflow)", async () => {
    const plain = payloadOf(TICKET);
    expect(await new EncryptionCodec({ current: key }).withMarkers().decode([plain])).toEqual([plain]);
  });

  test('a payload is bound to its workflow: the metadata names it, and it decodes for that workflow only', async () => {
    const codec: PayloadCodec = new EncryptionCodec({ current: key });
    const [sealed] = await codec.encode([payloadOf(TICKET)], workflowContext(A));
    expect(text(sealed.metadata![WORKFLOW_ID_METADATA])).toBe(A);
    expect(valueOf((await codec.decode([sealed], workflowContext(A)))[0])).toEqual(TICKET);
    const reason = await reasonOf(codec, sealed, workflowContext(B));
    expect(reason).toBe(
      `a payload encrypted for workflow ${A}, given to workflow ${B}: refused (replayed from another workflow?)`,
    );
  });

  test("an activity's input and result are bound to the workflow that scheduled it (local activities too)", async () => {
    const codec: PayloadCodec = new EncryptionCodec({ current: key });
    const [result] = await codec.encode([payloadOf(TICKET)], activityContext(A));
    const [local] = await codec.encode([payloadOf(TICKET)], activityContext(A, true));
    expect(text(result.metadata![WORKFLOW_ID_METADATA])).toBe(A);
    expect(valueOf((await codec.decode([result], activityContext(A)))[0])).toEqual(TICKET);
    expect(valueOf((await codec.decode([local], activityContext(A, true)))[0])).toEqual(TICKET);
    expect(await reasonOf(codec, result, activityContext(B))).toMatch(
      `encrypted for workflow ${A}, given to workflow ${B}`,
    );
    expect(await reasonOf(codec, local, workflowContext(B))).toMatch(
      `encrypted for workflow ${A}, given to workflow ${B}`,
    );
    // The refusal needs no key: a process with another key refuses it the same way rather than failing the task.
    const stranger: PayloadCodec = new EncryptionCodec({ current: encryptionKey(randomBytes(32)) });
    expect(await reasonOf(stranger, result, activityContext(B))).toMatch(`given to workflow ${B}`);
  });

  test('the binding is authenticated: another workflow id in the metadata, or none, fails authentication', async () => {
    const codec: PayloadCodec = new EncryptionCodec({ current: key });
    const [sealed] = await codec.encode([payloadOf(TICKET)], workflowContext(A));
    const relabelled = { ...sealed, metadata: { ...sealed.metadata, [WORKFLOW_ID_METADATA]: Buffer.from(B) } };
    expect(await reasonOf(codec, relabelled, workflowContext(B))).toMatch(/failed authentication/);
    const { [WORKFLOW_ID_METADATA]: _, ...unbound } = sealed.metadata!;
    expect(await reasonOf(migrationCodec(key).codec, { ...sealed, metadata: unbound }, workflowContext(B))).toMatch(
      /failed authentication/,
    );
  });

  test('without a context (the codec endpoint, a history read by hand) a bound payload decodes by its metadata', async () => {
    const codec = new EncryptionCodec({ current: key });
    const [sealed] = await (codec as PayloadCodec).encode([payloadOf(TICKET)], workflowContext(A));
    expect(valueOf((await codec.decode([sealed]))[0])).toEqual(TICKET);
    expect(valueOf((await codec.withMarkers().decode([sealed]))[0])).toEqual(TICKET);
  });

  test('encrypted without a binding (before binding, or by the codec endpoint): refused for a workflow unless allowed', async () => {
    const [unbound] = await new EncryptionCodec({ current: key }).encode([payloadOf(TICKET)]);
    expect(unbound.metadata![WORKFLOW_ID_METADATA]).toBeUndefined();
    const codec: PayloadCodec = new EncryptionCodec({ current: key });
    const reason = await reasonOf(codec, unbound, workflowContext(A));
    expect(reason).toMatch(new RegExp(`^an encrypted payload bound to no workflow, given to workflow ${A}: refused`));
    expect(reason).toMatch(/PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true accepts it during a migration/);
    const { codec: migration, letThrough } = migrationCodec(key);
    expect(valueOf((await migration.decode([unbound], workflowContext(A)))[0])).toEqual(TICKET);
    expect(letThrough).toEqual([{ kind: 'unbound', encoding: 'binary/encrypted', workflowId: A }]);
    // Read for display (the Web UI) or by hand: no workflow to check it against.
    expect(valueOf((await codec.decode([unbound]))[0])).toEqual(TICKET);
    // Old keys: a payload written before binding under a rotated-out key still decodes where it is allowed.
    const rotated = new EncryptionCodec({
      current: encryptionKey(randomBytes(32)),
      previous: [key],
      allowPlaintext: true,
    });
    expect(valueOf((await rotated.decode([unbound], workflowContext(A)))[0])).toEqual(TICKET);
  });
});

describe('readEncryptionSettings', () => {
  const keyText = randomBytes(32).toString('base64');

  test('a key from the environment, old keys for decryption', () => {
    const problems: string[] = [];
    const old = randomBytes(32).toString('base64');
    const settings = readEncryptionSettings(
      { PAYLOAD_ENCRYPTION_KEY: keyText, PAYLOAD_ENCRYPTION_OLD_KEYS: ` ${old} ,` },
      problems,
    );
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ off: false, current: { id: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    expect(settings.off === false && settings.previous.length).toBe(1);
  });

  test('a key file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zte-key-')), 'key');
    fs.writeFileSync(file, `${keyText}\n`, { mode: 0o600 });
    const problems: string[] = [];
    const settings = readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY_FILE: file }, problems);
    expect(problems).toEqual([]);
    expect(settings.off === false && settings.current?.key.toString('base64')).toBe(keyText);
  });

  test('old keys from a file, one per line (a secret rather than an environment literal)', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zte-key-')), 'old-keys');
    const olds = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    fs.writeFileSync(file, `${olds.join('\n')}\n`, { mode: 0o600 });
    const problems: string[] = [];
    const settings = readEncryptionSettings(
      { PAYLOAD_ENCRYPTION_KEY: keyText, PAYLOAD_ENCRYPTION_OLD_KEYS_FILE: file },
      problems,
    );
    expect(problems).toEqual([]);
    expect(settings.off === false && settings.previous.map((k) => k.key.toString('base64'))).toEqual(olds);
    readEncryptionSettings({ PAYLOAD_ENCRYPTION_OLD_KEYS_FILE: '/nonexistent/old' }, problems);
    expect(problems).toEqual(['PAYLOAD_ENCRYPTION_OLD_KEYS_FILE: cannot read /nonexistent/old (ENOENT)']);
  });

  test('bad values are named, never echoed', () => {
    const problems: string[] = [];
    const short = randomBytes(16).toString('base64');
    readEncryptionSettings(
      {
        PAYLOAD_ENCRYPTION_KEY: short,
        PAYLOAD_ENCRYPTION_KEY_FILE: '/nonexistent/key',
        PAYLOAD_ENCRYPTION_OLD_KEYS: 'not base64!',
      },
      problems,
    );
    expect(problems).toEqual([
      'PAYLOAD_ENCRYPTION_KEY and PAYLOAD_ENCRYPTION_KEY_FILE: set one or the other',
      'PAYLOAD_ENCRYPTION_KEY: the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)',
      'PAYLOAD_ENCRYPTION_OLD_KEYS[0]: the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)',
    ]);
    expect(problems.join('\n')).not.toContain(short);
  });

  test('PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: true or false (default false); a bad value is named', () => {
    const problems: string[] = [];
    const env = { PAYLOAD_ENCRYPTION_KEY: keyText, PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: 'TRUE' };
    const allowed = readEncryptionSettings(env, problems);
    expect(problems).toEqual([]);
    expect(allowed).toMatchObject({ off: false, allowPlaintext: true });
    expect(readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY: keyText }, problems)).not.toMatchObject({
      allowPlaintext: true,
    });
    readEncryptionSettings({ ...env, PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: 'sometimes' }, problems);
    expect(problems).toEqual(['PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: true or false (default false)']);
  });

  test('off explicitly; off with a key is a contradiction', () => {
    expect(readEncryptionSettings({ PAYLOAD_ENCRYPTION: 'off' }, [])).toEqual({ off: true });
    const problems: string[] = [];
    readEncryptionSettings({ PAYLOAD_ENCRYPTION: 'off', PAYLOAD_ENCRYPTION_KEY: keyText }, problems);
    expect(problems).toEqual(['PAYLOAD_ENCRYPTION=off and a PAYLOAD_ENCRYPTION_KEY*: set one or the other']);
  });
});

describe('secure by default', () => {
  const key = randomBytes(32).toString('base64');

  test('a Temporal server off this machine needs a key, or PAYLOAD_ENCRYPTION=off said on purpose', () => {
    const none = readEncryptionSettings({}, []);
    expect(encryptionProblems(none, 'temporal:7233')).toEqual([expect.stringMatching(/^PAYLOAD_ENCRYPTION_KEY or/)]);
    expect(encryptionProblems(none, 'acme.tmprl.cloud:7233')).toHaveLength(1);
    expect(encryptionProblems(none, '127.0.0.1:7233')).toEqual([]);
    expect(encryptionProblems(none, 'localhost:7233')).toEqual([]);
    expect(encryptionProblems(readEncryptionSettings({ PAYLOAD_ENCRYPTION: 'off' }, []), 'temporal:7233')).toEqual([]);
    const keyed = readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY: key }, []);
    expect(encryptionProblems(keyed, 'temporal:7233')).toEqual([]);
  });

  test('the start-up line names the key id, never the key', () => {
    const keyed = readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY: key, PAYLOAD_ENCRYPTION_OLD_KEYS: key }, []);
    const line = describeEncryption(keyed);
    expect(line).toMatch(/^AES-256-GCM, key [0-9a-f]{16}, 1 older for decryption$/);
    expect(line).not.toContain(key);
    expect(describeEncryption({ off: true })).toMatch(/readable in the Temporal history/);
  });

  test('the demo key file: created once, owner-only, then reused', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zte-key-')), 'sub', 'payload-encryption.key');
    ensureKeyFile(file);
    const first = fs.readFileSync(file, 'utf8');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY_FILE: file }, [])).toMatchObject({ off: false });
    ensureKeyFile(file);
    expect(fs.readFileSync(file, 'utf8')).toBe(first);
  });
});

test('an encrypted payload without a key id was not written by this codec: a marker, not a missing key', async () => {
  const forged = { metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('x') };
  const [decoded] = await new EncryptionCodec().decode([forged]);
  expect(undecodableReason(defaultPayloadConverter.fromPayload(decoded))).toMatch(/without the encryption-key-id/);
});

describe('PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT, as the worker runs it', () => {
  const keyText = randomBytes(32).toString('base64');

  test('its codec accepts plaintext; the start-up line says so', async () => {
    const settings = readEncryptionSettings(
      { PAYLOAD_ENCRYPTION_KEY: keyText, PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: 'true' },
      [],
    );
    const plain = payloadOf({ startTime: 0 });
    const codec: PayloadCodec = encryptionCodecOf(settings);
    expect(await codec.decode([plain], workflowContext(A))).toEqual([plain]);
    expect(describeEncryption(settings)).toMatch(
      /^AES-256-GCM, key [0-9a-f]{16}; plaintext and unbound payloads accepted \(PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true\)$/,
    );
    const strict: PayloadCodec = encryptionCodecOf(readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY: keyText }, []));
    expect(undecodableReason(valueOf((await strict.decode([plain], workflowContext(A)))[0]))).toMatch(/plaintext/);
  });

  test('what it lets through is logged as a warning at the 1st, 10th, 100th… of a kind, never its content', async () => {
    const warnings: [string, Record<string, unknown>][] = [];
    const settings = readEncryptionSettings(
      { PAYLOAD_ENCRYPTION_KEY: keyText, PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT: 'true' },
      [],
    );
    const codec: PayloadCodec = encryptionCodecOf(settings, {
      onLetThrough: letThroughWarnings((message, attributes) => warnings.push([message, attributes])),
    });
    for (let i = 0; i < 12; i++) await codec.decode([payloadOf(TICKET)], workflowContext(A));
    expect(warnings).toEqual(
      [1, 10].map((count) => [
        'Payload encryption: accepted a plaintext payload (PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true)',
        { count, workflowId: A, encoding: 'json/plain' },
      ]),
    );
    expect(JSON.stringify(warnings)).not.toContain('Refund');
  });
});
