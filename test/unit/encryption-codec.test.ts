import { defaultPayloadConverter, Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EncryptionCodec,
  encryptionKey,
  KEY_ID_METADATA,
  MissingEncryptionKeyError,
} from '../../src/codec/encryption-codec';
import {
  describeEncryption,
  encryptionProblems,
  ensureKeyFile,
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

  test('payloads written before encryption pass through unchanged (old histories stay readable)', async () => {
    const plain = payloadOf(TICKET);
    expect(await new EncryptionCodec({ current: key }).decode([plain])).toEqual([plain]);
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
