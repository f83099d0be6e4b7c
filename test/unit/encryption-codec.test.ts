import { defaultPayloadConverter, Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EncryptionCodec, encryptionKey, KEY_ID_METADATA } from '../../src/codec/encryption-codec';
import { readEncryptionSettings } from '../../src/codec/encryption-keys';
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
    const codec = new EncryptionCodec(key);
    const [encoded] = await codec.encode([payloadOf(TICKET)]);
    const bytes = Buffer.from(encoded.data!);
    expect(bytes.includes(Buffer.from('jane@example.com'))).toBe(false);
    expect(bytes.includes(Buffer.from('Refund'))).toBe(false);
    expect(new TextDecoder().decode(encoded.metadata![KEY_ID_METADATA])).toBe(key.id);
    expect(JSON.stringify(encoded)).not.toContain(key.key.toString('base64'));
    expect(valueOf((await codec.decode([encoded]))[0])).toEqual(TICKET);
  });

  test('a fresh nonce per payload: the same value twice encrypts differently', async () => {
    const codec = new EncryptionCodec(key);
    const [a, b] = await codec.encode([payloadOf(TICKET), payloadOf(TICKET)]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
    expect(Buffer.from(a.data!).subarray(0, 12).equals(Buffer.from(b.data!).subarray(0, 12))).toBe(false);
  });

  test('payloads written before encryption pass through unchanged (old histories stay readable)', async () => {
    const plain = payloadOf(TICKET);
    expect(await new EncryptionCodec(key).decode([plain])).toEqual([plain]);
  });

  test('rotation: a payload under the old key decodes with the new key current; new payloads use the new key', async () => {
    const newKey = encryptionKey(randomBytes(32));
    const [old] = await new EncryptionCodec(key).encode([payloadOf(TICKET)]);
    const rotated = new EncryptionCodec(newKey, [key]);
    expect(valueOf((await rotated.decode([old]))[0])).toEqual(TICKET);
    const [fresh] = await rotated.encode([payloadOf(TICKET)]);
    expect(new TextDecoder().decode(fresh.metadata![KEY_ID_METADATA])).toBe(newKey.id);
  });

  test('a key this process does not have: a marker naming the key id, never an exception', async () => {
    const [sealed] = await new EncryptionCodec(key).encode([payloadOf(TICKET)]);
    const other = new EncryptionCodec(encryptionKey(randomBytes(32)));
    const reason = undecodableReason(valueOf((await other.decode([sealed]))[0]));
    expect(reason).toMatch(new RegExp(`encrypted with key ${key.id}, which this process does not have`));
    expect(reason).toMatch(/PAYLOAD_ENCRYPTION_OLD_KEYS/);
  });

  test('altered ciphertext fails authentication, as a marker', async () => {
    const codec = new EncryptionCodec(key);
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
