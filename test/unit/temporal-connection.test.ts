import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config-error';
import {
  clientConnectionOptions,
  connectionSettingsFrom,
  describeConnection,
  nativeConnectionOptions,
  TemporalConnectionSettings,
  temporalConnectionEnv,
} from '../../src/temporal-connection';

const API_KEY = 'tmprl-key-7c1e0a9b4d2f4e83';
const ADDRESS = 'ns.acct.tmprl.cloud:7233';

/** Parses like config.ts does: one line per problem, prefixed with the variable. */
function problems(env: Record<string, string>): string[] {
  const result = temporalConnectionEnv.safeParse(env);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function settings(env: Record<string, string>): TemporalConnectionSettings {
  return connectionSettingsFrom(ADDRESS, temporalConnectionEnv.parse(env));
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('temporalConnectionEnv', () => {
  test('nothing set is valid', () => {
    expect(temporalConnectionEnv.parse({})).toEqual({});
  });

  test('TEMPORAL_TLS accepts true/false/1/0 in any case', () => {
    for (const [value, expected] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['False', false],
      ['0', false],
      [' false ', false],
    ] as const) {
      expect(temporalConnectionEnv.parse({ TEMPORAL_TLS: value }).TEMPORAL_TLS).toBe(expected);
    }
  });

  test('a bad TEMPORAL_TLS is named with its value', () => {
    expect(problems({ TEMPORAL_TLS: 'yes' })).toEqual(['TEMPORAL_TLS: must be true or false, got "yes"']);
  });

  test('both halves of the client certificate pair are required', () => {
    expect(problems({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' })).toEqual([
      'TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH',
    ]);
    expect(problems({ TEMPORAL_TLS_CLIENT_KEY_PATH: '/c.key' })).toEqual([
      'TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH',
    ]);
  });

  test('TEMPORAL_TLS=false with TLS settings is a problem naming them', () => {
    expect(problems({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/ca.pem' })).toEqual([
      'TEMPORAL_TLS: is false, but TEMPORAL_TLS_SERVER_CA_CERT_PATH needs TLS',
    ]);
    expect(problems({ TEMPORAL_TLS: '0', TEMPORAL_TLS_SERVER_NAME: 'x' })).toEqual([
      'TEMPORAL_TLS: is false, but TEMPORAL_TLS_SERVER_NAME needs TLS',
    ]);
  });

  test('every problem is reported at once', () => {
    expect(
      problems({ TEMPORAL_TLS: 'maybe', TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem', TEMPORAL_API_KEY: API_KEY }),
    ).toEqual([
      'TEMPORAL_TLS: must be true or false, got "maybe"',
      'TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH',
    ]);
    expect(
      problems({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CLIENT_KEY_PATH: '/c.key', TEMPORAL_TLS_SERVER_NAME: 'x' }),
    ).toEqual([
      'TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH',
      'TEMPORAL_TLS: is false, but TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_NAME need TLS',
    ]);
  });

  test('the API key never appears in a problem', () => {
    const messages = problems({
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS: 'on',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem',
    });
    expect(messages).toHaveLength(2);
    expect(messages.join('\n')).not.toContain(API_KEY);
  });
});

describe('connectionSettingsFrom: when TLS is on', () => {
  test('nothing set: plaintext', () => {
    expect(settings({})).toEqual({ address: ADDRESS });
  });

  test('TEMPORAL_TLS=true alone: TLS with the system roots', () => {
    expect(settings({ TEMPORAL_TLS: 'true' })).toEqual({ address: ADDRESS, tls: {} });
  });

  test('TEMPORAL_TLS=false: plaintext', () => {
    expect(settings({ TEMPORAL_TLS: 'false' })).toEqual({ address: ADDRESS });
  });

  test('any TLS path or the server name turns TLS on', () => {
    expect(settings({ TEMPORAL_TLS_SERVER_NAME: 'temporal.test' }).tls).toEqual({ serverName: 'temporal.test' });
    expect(settings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/ca.pem' }).tls).toEqual({ serverCaCertPath: '/ca.pem' });
    expect(settings({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: '/c.key' })).toEqual({
      address: ADDRESS,
      tls: { clientCertPath: '/c.pem', clientKeyPath: '/c.key' },
    });
  });

  test('an API key turns TLS on (Temporal Cloud) unless TEMPORAL_TLS=false (a local server)', () => {
    expect(settings({ TEMPORAL_API_KEY: API_KEY })).toEqual({ address: ADDRESS, apiKey: API_KEY, tls: {} });
    expect(settings({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' })).toEqual({
      address: ADDRESS,
      apiKey: API_KEY,
    });
  });

  test('every setting is carried over', () => {
    expect(
      settings({
        TEMPORAL_API_KEY: API_KEY,
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/c.key',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/ca.pem',
        TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      }),
    ).toEqual({
      address: ADDRESS,
      apiKey: API_KEY,
      tls: {
        clientCertPath: '/c.pem',
        clientKeyPath: '/c.key',
        serverCaCertPath: '/ca.pem',
        serverName: 'temporal.test',
      },
    });
  });
});

describe('connection options', () => {
  let dir: string;
  const files = { ca: '', crt: '', key: '' };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-connection-'));
    for (const name of Object.keys(files) as (keyof typeof files)[]) {
      files[name] = path.join(dir, `${name}.pem`);
      fs.writeFileSync(files[name], `-----BEGIN ${name}-----\n`);
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('plaintext: tls is explicitly false, so an API key does not turn it on inside the SDK', () => {
    const plain = { address: '127.0.0.1:7233', apiKey: API_KEY };
    expect(nativeConnectionOptions(plain)).toEqual({ address: '127.0.0.1:7233', tls: false, apiKey: API_KEY });
    expect(clientConnectionOptions(plain)).toEqual({
      address: '127.0.0.1:7233',
      tls: false,
      apiKey: API_KEY,
      connectTimeout: '10 seconds',
    });
    expect(nativeConnectionOptions({ address: 'x:1' }).apiKey).toBeUndefined();
  });

  test('TLS without files: an empty TLSConfig', () => {
    expect(nativeConnectionOptions({ address: ADDRESS, tls: {} }).tls).toEqual({});
    expect(clientConnectionOptions({ address: ADDRESS, tls: {} }).tls).toEqual({});
  });

  test('mTLS: the files are read into buffers, the server name overrides SNI', () => {
    const s: TemporalConnectionSettings = {
      address: ADDRESS,
      tls: { clientCertPath: files.crt, clientKeyPath: files.key, serverCaCertPath: files.ca, serverName: 'x.test' },
    };
    const expected = {
      serverNameOverride: 'x.test',
      serverRootCACertificate: Buffer.from('-----BEGIN ca-----\n'),
      clientCertPair: { crt: Buffer.from('-----BEGIN crt-----\n'), key: Buffer.from('-----BEGIN key-----\n') },
    };
    expect(nativeConnectionOptions(s).tls).toEqual(expected);
    expect(clientConnectionOptions(s).tls).toEqual(expected);
  });

  test('an unreadable file: ConfigError naming the variable, the path and the reason', () => {
    const missing = path.join(dir, 'missing.pem');
    const err = configError(() =>
      clientConnectionOptions({
        address: ADDRESS,
        apiKey: API_KEY,
        tls: { clientCertPath: missing, clientKeyPath: dir, serverCaCertPath: files.ca },
      }),
    );
    expect(err.problems).toEqual([
      `TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read ${missing} (ENOENT)`,
      `TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read ${dir} (EISDIR)`,
    ]);
    expect(err.message).not.toContain(API_KEY);
    expect(err.message).not.toContain('BEGIN');
  });

  test('an empty file is a ConfigError too', () => {
    const empty = path.join(dir, 'empty.pem');
    fs.writeFileSync(empty, '');
    const err = configError(() => nativeConnectionOptions({ address: ADDRESS, tls: { serverCaCertPath: empty } }));
    expect(err.problems).toEqual([`TEMPORAL_TLS_SERVER_CA_CERT_PATH: ${empty} is empty`]);
  });

  test('half a certificate pair built by hand is a ConfigError, not a silent plain TLS connection', () => {
    const err = configError(() => nativeConnectionOptions({ address: ADDRESS, tls: { clientCertPath: files.crt } }));
    expect(err.problems).toEqual(['TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH']);
  });
});

describe('describeConnection', () => {
  test('plaintext', () => {
    expect(describeConnection({ address: '127.0.0.1:7233' })).toBe('127.0.0.1:7233 (plaintext)');
  });

  test('Temporal Cloud with mTLS and an API key, never the key', () => {
    const text = describeConnection({
      address: ADDRESS,
      apiKey: API_KEY,
      tls: { clientCertPath: '/c.pem', clientKeyPath: '/c.key' },
    });
    expect(text).toBe(`${ADDRESS} (TLS, client certificate, API key)`);
    expect(text).not.toContain(API_KEY);
  });

  test('custom CA and server name are mentioned; a plaintext API key too', () => {
    expect(
      describeConnection({ address: 'h:1', tls: { serverCaCertPath: '/ca.pem', serverName: 'temporal.test' } }),
    ).toBe('h:1 (TLS, custom CA, server name temporal.test)');
    expect(describeConnection({ address: 'h:1', apiKey: API_KEY })).toBe('h:1 (plaintext, API key)');
  });
});
