import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isLoopback } from '../common/loopback';
import {
  ALLOW_PLAINTEXT_SETTING,
  EncryptionCodec,
  EncryptionKey,
  encryptionKey,
  KeyMissing,
  LetThrough,
} from './encryption-codec';

export interface EncryptionEnv {
  PAYLOAD_ENCRYPTION?: string;
  PAYLOAD_ENCRYPTION_KEY?: string;
  PAYLOAD_ENCRYPTION_KEY_FILE?: string;
  PAYLOAD_ENCRYPTION_OLD_KEYS?: string;
  PAYLOAD_ENCRYPTION_OLD_KEYS_FILE?: string;
  PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT?: string;
}

/**
 * The keys a process encrypts and decrypts with; `off`: explicitly none. `allowPlaintext`
 * (PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT=true, a migration): with a current key, payloads that are not encrypted, or
 * encrypted for no workflow, are accepted rather than refused.
 */
export type EncryptionSettings =
  { off: true } | { off: false; current?: EncryptionKey; previous: EncryptionKey[]; allowPlaintext?: boolean };

/**
 * Reads the payload encryption keys: `PAYLOAD_ENCRYPTION_KEY` (base64 of 32 bytes) or `PAYLOAD_ENCRYPTION_KEY_FILE`
 * (a file holding that text), earlier keys for decryption only in `PAYLOAD_ENCRYPTION_OLD_KEYS` (comma-separated), or
 * `PAYLOAD_ENCRYPTION=off`. Problems are added to `problems`, naming the variable and never echoing a key.
 */
export function readEncryptionSettings(env: EncryptionEnv, problems: string[]): EncryptionSettings {
  const mode = env.PAYLOAD_ENCRYPTION?.trim().toLowerCase();
  if (mode !== undefined && mode !== '' && mode !== 'off' && mode !== 'on') {
    problems.push('PAYLOAD_ENCRYPTION: "off" or "on" (the default: on when a key is set)');
  }
  const keyText = env.PAYLOAD_ENCRYPTION_KEY?.trim() || undefined;
  const keyFile = env.PAYLOAD_ENCRYPTION_KEY_FILE?.trim() || undefined;
  if (mode === 'off') {
    if (keyText || keyFile) problems.push('PAYLOAD_ENCRYPTION=off and a PAYLOAD_ENCRYPTION_KEY*: set one or the other');
    return { off: true };
  }
  if (keyText && keyFile) {
    problems.push('PAYLOAD_ENCRYPTION_KEY and PAYLOAD_ENCRYPTION_KEY_FILE: set one or the other');
  }
  let current: EncryptionKey | undefined;
  if (keyText) current = parseKey(keyText, 'PAYLOAD_ENCRYPTION_KEY', problems);
  else if (keyFile) {
    let content: string | undefined;
    try {
      content = fs.readFileSync(keyFile, 'utf8').trim();
    } catch (err) {
      problems.push(`PAYLOAD_ENCRYPTION_KEY_FILE: cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code})`);
    }
    if (content !== undefined) current = parseKey(content, `PAYLOAD_ENCRYPTION_KEY_FILE (${keyFile})`, problems);
  }
  const previous = [
    ...oldKeys(env.PAYLOAD_ENCRYPTION_OLD_KEYS ?? '', 'PAYLOAD_ENCRYPTION_OLD_KEYS', problems),
    ...oldKeysFromFile(env.PAYLOAD_ENCRYPTION_OLD_KEYS_FILE?.trim(), problems),
  ];
  if (mode === 'on' && !current) problems.push('PAYLOAD_ENCRYPTION=on needs PAYLOAD_ENCRYPTION_KEY or _KEY_FILE');
  const allowPlaintext = readFlag(env.PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT, ALLOW_PLAINTEXT_SETTING, problems);
  return { off: false, current, previous, ...(allowPlaintext && { allowPlaintext }) };
}

/** `true`/`1` or `false`/`0`, any case; unset or empty: false. The value is not echoed (a key pasted there by mistake). */
function readFlag(value: string | undefined, name: string, problems: string[]): boolean {
  const text = value?.trim().toLowerCase() ?? '';
  if (text === 'true' || text === '1') return true;
  if (text !== '' && text !== 'false' && text !== '0') problems.push(`${name}: true or false (default false)`);
  return false;
}

/** Earlier keys, separated by commas or line breaks. */
function oldKeys(text: string, where: string, problems: string[]): EncryptionKey[] {
  return text
    .split(/[,\n]/)
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k, i) => parseKey(k, `${where}[${i}]`, problems))
    .filter((k): k is EncryptionKey => k !== undefined);
}

/** PAYLOAD_ENCRYPTION_OLD_KEYS_FILE: the old keys as a secret file (one per line), not an environment literal. */
function oldKeysFromFile(file: string | undefined, problems: string[]): EncryptionKey[] {
  if (!file) return [];
  try {
    return oldKeys(fs.readFileSync(file, 'utf8'), `PAYLOAD_ENCRYPTION_OLD_KEYS_FILE (${file})`, problems);
  } catch (err) {
    problems.push(`PAYLOAD_ENCRYPTION_OLD_KEYS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
    return [];
  }
}

function parseKey(text: string, where: string, problems: string[]): EncryptionKey | undefined {
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (!bytes || bytes.length !== 32) {
    problems.push(`${where}: the base64 of 32 random bytes (e.g. \`openssl rand -base64 32\`)`);
    return undefined;
  }
  return encryptionKey(bytes);
}

/**
 * The codec of these settings; without a key it writes plaintext but still names the key of a payload it cannot read.
 * `onLetThrough` hears of each payload that only PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT let through (see letThroughWarnings).
 */
export function encryptionCodecOf(
  settings: EncryptionSettings | undefined,
  {
    onLetThrough,
    onKeyMissing,
  }: { onLetThrough?: (event: LetThrough) => void; onKeyMissing?: (event: KeyMissing) => void } = {},
): EncryptionCodec {
  if (!settings || settings.off) return new EncryptionCodec({ onKeyMissing });
  const { current, previous, allowPlaintext } = settings;
  return new EncryptionCodec({ current, previous, allowPlaintext, onLetThrough, onKeyMissing });
}

/**
 * Warnings for what PAYLOAD_ENCRYPTION_ALLOW_PLAINTEXT let through: at the 1st, 10th, 100th… payload of each kind (a
 * replay decodes the same payloads again), with the workflow and the encoding, never the content.
 */
export function letThroughWarnings(
  warn: (message: string, attributes: Record<string, unknown>) => void,
): (event: LetThrough) => void {
  const counts = { plaintext: 0, unbound: 0 };
  const what = { plaintext: 'a plaintext payload', unbound: 'an encrypted payload bound to no workflow' };
  return ({ kind, workflowId, encoding }) => {
    const count = ++counts[kind];
    if (!/^10*$/.test(String(count))) return;
    warn(`Payload encryption: accepted ${what[kind]} (${ALLOW_PLAINTEXT_SETTING}=true)`, {
      count,
      workflowId,
      encoding,
    });
  };
}

/**
 * Warnings for payloads under a key this process lacks: at the 1st, 10th, 100th… of each key id (the workflow task is
 * retried, and each attempt decodes the payload again), naming the key ids, never a key.
 */
export function keyMissingWarnings(
  warn: (message: string, attributes: Record<string, unknown>) => void,
): (event: KeyMissing) => void {
  const counts = new Map<string, number>();
  return ({ keyId, has }) => {
    const count = (counts.get(keyId) ?? 0) + 1;
    counts.set(keyId, count);
    if (!/^10*$/.test(String(count))) return;
    warn(
      `Payload encryption: a payload is encrypted with key ${keyId}, which this worker does not have: give it that ` +
        'key (PAYLOAD_ENCRYPTION_KEY, or PAYLOAD_ENCRYPTION_OLD_KEYS once a newer key is current)',
      { keyId, has: has.join(', ') || 'none', count },
    );
  };
}

/**
 * Secure by default: tickets cross the history, so a process talking to a Temporal server that is not on this
 * machine must encrypt, unless told otherwise on purpose.
 */
export function encryptionProblems(settings: EncryptionSettings, temporalAddress: string): string[] {
  if (settings.off || settings.current || isLoopback(temporalAddress)) return [];
  return [
    `PAYLOAD_ENCRYPTION_KEY or PAYLOAD_ENCRYPTION_KEY_FILE: required when TEMPORAL_ADDRESS (${temporalAddress}) is ` +
      'not a loopback address, since every page of tickets passes through the Temporal history (create one with ' +
      '`openssl rand -base64 32`; PAYLOAD_ENCRYPTION=off runs without, on purpose)',
  ];
}

/** One line for the start-up log: how payloads are protected, never a key. */
export function describeEncryption(settings: EncryptionSettings | undefined): string {
  if (!settings || settings.off) return 'off (PAYLOAD_ENCRYPTION=off): tickets are readable in the Temporal history';
  if (!settings.current) return 'off (no key; allowed on a loopback Temporal server only)';
  const older = settings.previous.length > 0 ? `, ${settings.previous.length} older for decryption` : '';
  const migration = settings.allowPlaintext
    ? `; plaintext and unbound payloads accepted (${ALLOW_PLAINTEXT_SETTING}=true)`
    : '';
  return `AES-256-GCM, key ${settings.current.id}${older}${migration}`;
}

/**
 * The key file of the demo and the dev server: created with a fresh random key (readable by its owner only) on first
 * use, so that the Web UI shows tickets decoded through the codec endpoint and the history holds ciphertext.
 */
export function ensureKeyFile(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return file;
}
