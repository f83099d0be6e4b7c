import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import {
  clientConnectionOptions,
  connectionProblems,
  connectionSettingsFrom,
  describeConnection,
  nativeConnectionOptions,
  TemporalConnectionSettings,
  temporalConnectionEnv,
} from '../../src/config/temporal-connection';
import { defaultConfigFile, loadTemporalProfile, TemporalProfile } from '../../src/config/temporal-profile';

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

describe('config-file profiles (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)', () => {
  const PROFILE_KEY = 'tmprl-profile-key-52d9e1a7c3b8';
  let dir: string;
  let file: string;
  const pem = { ca: '', crt: '', key: '' };

  const TOML = () => `
[profile.default]
address = "127.0.0.1:7233"

[profile.cloud]
address = "acme.a1b2c.tmprl.cloud:7233"
namespace = "acme.a1b2c"
api_key = "${PROFILE_KEY}"

[profile.cloud.tls]
server_name = "acme.tmprl.test"
server_ca_cert_path = "${pem.ca}"
client_cert_path = "${pem.crt}"
client_key_path = "${pem.key}"

[profile.inline]
address = "temporal.corp:7233"
grpc_meta = { x-tenant = "acme" }

[profile.inline.tls]
client_cert_data = """
-----BEGIN crt-----
"""
client_key_data = """
-----BEGIN key-----
"""

[profile.plain]
address = "temporal.corp:7233"
api_key = "${PROFILE_KEY}"

[profile.plain.tls]
disabled = true
server_ca_cert_path = "/not/read/when/disabled.pem"
`;

  /** A config file with this text; its path. */
  function writeConfig(text: string, name = `${Math.random().toString(36).slice(2)}.toml`): string {
    const target = path.join(dir, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    return target;
  }

  function load(env: Record<string, string>): TemporalProfile | undefined {
    const { profile, problems } = loadTemporalProfile(env);
    expect(problems).toEqual([]);
    return profile;
  }

  function loadProblems(env: Record<string, string>): string[] {
    const { profile, problems } = loadTemporalProfile(env);
    expect(profile).toBeUndefined();
    expect(problems.join('\n')).not.toContain(PROFILE_KEY);
    return problems;
  }

  /** The settings of a profile of the test file under these environment variables, as config.ts builds them. */
  function resolve(name: string, env: Record<string, string> = {}): TemporalConnectionSettings {
    const profile = load({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: name });
    return connectionSettingsFrom(env.TEMPORAL_ADDRESS, temporalConnectionEnv.parse(env), profile);
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-profile-'));
    for (const name of Object.keys(pem) as (keyof typeof pem)[]) {
      pem[name] = path.join(dir, `${name}.pem`);
      fs.writeFileSync(pem[name], `-----BEGIN ${name}-----\n`);
    }
    file = writeConfig(TOML(), 'temporal.toml');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('which file and which profile', () => {
    test('TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE select the profile, as envconfig maps it', () => {
      expect(load({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' })).toEqual({
        name: 'cloud',
        file,
        values: {
          address: 'acme.a1b2c.tmprl.cloud:7233',
          namespace: 'acme.a1b2c',
          apiKey: PROFILE_KEY,
          tls: {
            serverName: 'acme.tmprl.test',
            serverCACert: { path: pem.ca },
            clientCert: { path: pem.crt },
            clientKey: { path: pem.key },
          },
        },
      });
    });

    test('without TEMPORAL_PROFILE: the profile named default, if the file has one', () => {
      expect(load({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({
        name: 'default',
        values: { address: '127.0.0.1:7233' },
      });
      const noDefault = writeConfig('[profile.other]\naddress = "h:1"\n');
      expect(load({ TEMPORAL_CONFIG_FILE: noDefault })).toBeUndefined();
    });

    test('without TEMPORAL_CONFIG_FILE: temporalio/temporal.toml in XDG_CONFIG_HOME, else in ~/.config', () => {
      const xdg = path.join(dir, 'xdg');
      const home = path.join(dir, 'home');
      writeConfig('[profile.default]\naddress = "xdg:7233"\n', 'xdg/temporalio/temporal.toml');
      writeConfig('[profile.default]\naddress = "home:7233"\n', 'home/.config/temporalio/temporal.toml');
      expect(load({ XDG_CONFIG_HOME: xdg, HOME: home })?.values.address).toBe('xdg:7233');
      expect(load({ HOME: home })).toMatchObject({
        file: path.join(home, '.config', 'temporalio', 'temporal.toml'),
        values: { address: 'home:7233' },
      });
      // TEMPORAL_CONFIG_FILE wins; an empty variable is unset, as everywhere in the configuration.
      expect(load({ HOME: home, TEMPORAL_CONFIG_FILE: file })?.file).toBe(file);
      expect(load({ HOME: home, TEMPORAL_CONFIG_FILE: ' ', TEMPORAL_PROFILE: '' })?.file).toContain(home);
    });

    test("the default location on each platform is the Temporal CLI's", () => {
      expect(defaultConfigFile({ HOME: '/h' }, 'linux')).toBe('/h/.config/temporalio/temporal.toml');
      expect(defaultConfigFile({ HOME: '/h', XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/temporalio/temporal.toml');
      expect(defaultConfigFile({ HOME: '/h', XDG_CONFIG_HOME: 'rel' }, 'linux')).toBeUndefined();
      expect(defaultConfigFile({ HOME: '/h' }, 'darwin')).toBe(
        '/h/Library/Application Support/temporalio/temporal.toml',
      );
      expect(defaultConfigFile({}, 'linux')).toBeUndefined();
    });

    test('no file at the default location: no profile, and no problem unless TEMPORAL_PROFILE names one', () => {
      const home = path.join(dir, 'empty-home');
      expect(load({ HOME: home })).toBeUndefined();
      expect(load({})).toBeUndefined();
      const missing = path.join(home, '.config', 'temporalio', 'temporal.toml');
      expect(loadProblems({ HOME: home, TEMPORAL_PROFILE: 'cloud' })).toEqual([
        `TEMPORAL_PROFILE: no profile "cloud": there is no config file at ${missing}; set TEMPORAL_CONFIG_FILE to the file that has it`,
      ]);
      expect(loadProblems({ TEMPORAL_PROFILE: 'cloud' })).toEqual([
        'TEMPORAL_PROFILE: no profile "cloud": there is no default config file location (HOME is not set); set TEMPORAL_CONFIG_FILE to the file that has it',
      ]);
    });

    test('a missing profile is named, with the profiles the file has', () => {
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).toEqual([
        `TEMPORAL_PROFILE: no profile "prod" in ${file} (its profiles: default, cloud, inline, plain)`,
      ]);
      // A file without any profile (envconfig's own loader fails on it with a TypeError).
      for (const text of ['', '# nothing yet\n']) {
        const empty = writeConfig(text);
        expect(load({ TEMPORAL_CONFIG_FILE: empty })).toBeUndefined();
        expect(loadProblems({ TEMPORAL_CONFIG_FILE: empty, TEMPORAL_PROFILE: 'prod' })).toEqual([
          `TEMPORAL_PROFILE: no profile "prod" in ${empty} (it has none)`,
        ]);
      }
    });

    test('an unreadable TEMPORAL_CONFIG_FILE is named with its path and the reason, even without TEMPORAL_PROFILE', () => {
      const missing = path.join(dir, 'missing.toml');
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: missing })).toEqual([
        `TEMPORAL_CONFIG_FILE: cannot read ${missing} (ENOENT)`,
      ]);
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: dir, TEMPORAL_PROFILE: 'cloud' })).toEqual([
        `TEMPORAL_CONFIG_FILE: cannot read ${dir} (EISDIR)`,
      ]);
      // The default file too, when it exists but cannot be read.
      const home = path.join(dir, 'dir-home');
      fs.mkdirSync(path.join(home, '.config', 'temporalio', 'temporal.toml'), { recursive: true });
      expect(loadProblems({ HOME: home })).toEqual([
        `the default Temporal config file: cannot read ${path.join(home, '.config', 'temporalio', 'temporal.toml')} (EISDIR)`,
      ]);
    });

    test('invalid TOML: the line and column, never the lines around it (which may hold a key)', () => {
      const broken = writeConfig(`[profile.cloud]\napi_key = "${PROFILE_KEY}"\naddress = acme:7233\n`);
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: broken, TEMPORAL_PROFILE: 'cloud' })).toEqual([
        `TEMPORAL_CONFIG_FILE: ${broken} is not valid TOML (line 3, column 11: invalid value)`,
      ]);
      const notTables = writeConfig('profile = "cloud"\n');
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: notTables })).toEqual([
        `TEMPORAL_CONFIG_FILE: in ${notTables}, "profile" must be a table of profiles ([profile.<name>])`,
      ]);
    });

    test('a wrong value is named by its key, never shown', () => {
      const wrong = writeConfig(
        [
          '[profile.cloud]',
          'address = 7233',
          `api_key = ["${PROFILE_KEY}"]`,
          'namespace = " "',
          '[profile.cloud.tls]',
          'disabled = "no"',
          '',
        ].join('\n'),
      );
      const where = `in ${wrong}`;
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: wrong, TEMPORAL_PROFILE: 'cloud' })).toEqual([
        `profile.cloud.address ${where}: Expected string, received number`,
        `profile.cloud.namespace ${where}: must not be empty`,
        `profile.cloud.api_key ${where}: Expected string, received array`,
        `profile.cloud.tls.disabled ${where}: Expected boolean, received string`,
      ]);
    });

    test('a file given twice (path and data), or half a certificate pair, is named', () => {
      const wrong = writeConfig(
        [
          '[profile.cloud.tls]',
          'client_cert_path = "/c.pem"',
          'server_ca_cert_path = "/ca.pem"',
          'server_ca_cert_data = "-----BEGIN"',
          '[profile.key-only.tls]',
          'client_key_data = "-----BEGIN"',
          '',
        ].join('\n'),
      );
      const where = `in ${wrong}`;
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: wrong, TEMPORAL_PROFILE: 'cloud' })).toEqual([
        `profile.cloud.tls.server_ca_cert_path ${where}: set server_ca_cert_path or server_ca_cert_data, not both`,
        `profile.cloud.tls.client_key_path ${where}: required with client_cert_path (or client_key_data with client_cert_data)`,
      ]);
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: wrong, TEMPORAL_PROFILE: 'key-only' })).toEqual([
        `profile.key-only.tls.client_cert_path ${where}: required with client_key_path (or client_cert_data with client_key_data)`,
      ]);
      const named = writeConfig('[profile."my prod"]\naddress = 1\n');
      expect(loadProblems({ TEMPORAL_CONFIG_FILE: named, TEMPORAL_PROFILE: 'my prod' })).toEqual([
        `profile."my prod".address in ${named}: Expected string, received number`,
      ]);
    });

    test('keys this worker has no use for are ignored, as envconfig does (codec, disable_host_verification)', () => {
      const extra = writeConfig(
        '[profile.default]\naddress = "h:1"\n[profile.default.codec]\nendpoint = "http://codec"\n' +
          '[profile.default.tls]\ndisable_host_verification = false\n',
      );
      expect(load({ TEMPORAL_CONFIG_FILE: extra })?.values).toEqual({ address: 'h:1', tls: {} });
    });
  });

  describe('the profile under the environment variables', () => {
    test('the profile gives the address, API key and TLS files; the files are read for the connection', () => {
      const settings = resolve('cloud');
      expect(settings).toEqual({
        address: 'acme.a1b2c.tmprl.cloud:7233',
        apiKey: PROFILE_KEY,
        tls: {
          serverName: 'acme.tmprl.test',
          serverCaCertPath: pem.ca,
          clientCertPath: pem.crt,
          clientKeyPath: pem.key,
        },
        profile: {
          name: 'cloud',
          file,
          keys: {
            address: 'address',
            apiKey: 'api_key',
            serverName: 'tls.server_name',
            serverCaCert: 'tls.server_ca_cert_path',
            clientCert: 'tls.client_cert_path',
            clientKey: 'tls.client_key_path',
          },
        },
      });
      expect(connectionProblems(settings)).toEqual([]);
      expect(clientConnectionOptions(settings)).toEqual({
        address: 'acme.a1b2c.tmprl.cloud:7233',
        apiKey: PROFILE_KEY,
        tls: {
          serverNameOverride: 'acme.tmprl.test',
          serverRootCACertificate: Buffer.from('-----BEGIN ca-----\n'),
          clientCertPair: { crt: Buffer.from('-----BEGIN crt-----\n'), key: Buffer.from('-----BEGIN key-----\n') },
        },
        connectTimeout: '10 seconds',
      });
    });

    test("each variable overrides the profile's value, the others stay", () => {
      const other = { crt: path.join(dir, 'other.crt'), key: path.join(dir, 'other.key') };
      const settings = resolve('cloud', {
        TEMPORAL_ADDRESS: 'eu.tmprl.cloud:7233',
        TEMPORAL_API_KEY: API_KEY,
        TEMPORAL_TLS_SERVER_NAME: 'eu.test',
        TEMPORAL_TLS_CLIENT_CERT_PATH: other.crt,
        TEMPORAL_TLS_CLIENT_KEY_PATH: other.key,
      });
      expect(settings).toMatchObject({
        address: 'eu.tmprl.cloud:7233',
        apiKey: API_KEY,
        // The certificate and its key go together: the environment's pair replaces the profile's.
        tls: { serverName: 'eu.test', serverCaCertPath: pem.ca, clientCertPath: other.crt, clientKeyPath: other.key },
      });
      expect(settings.profile?.keys).toEqual({ serverCaCert: 'tls.server_ca_cert_path' });
    });

    test("TEMPORAL_TLS=false turns the profile's TLS off; TEMPORAL_TLS=true or a TLS variable turns tls.disabled off", () => {
      expect(resolve('cloud', { TEMPORAL_TLS: 'false' }).tls).toBeUndefined();
      expect(resolve('plain').tls).toBeUndefined();
      expect(resolve('plain', { TEMPORAL_TLS: 'true' }).tls).toEqual({
        serverCaCertPath: '/not/read/when/disabled.pem',
      });
      expect(resolve('plain', { TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem.ca }).tls).toEqual({ serverCaCertPath: pem.ca });
      // A profile without a tls table: TLS with an API key, from either place, as with the variables alone.
      expect(resolve('default').tls).toBeUndefined();
      expect(resolve('default', { TEMPORAL_API_KEY: API_KEY }).tls).toEqual({});
    });

    test('inline PEM (*_data) and grpc_meta go to the connection as they are', () => {
      const settings = resolve('inline');
      expect(settings.tls).toEqual({
        clientCertData: Buffer.from('-----BEGIN crt-----\n'),
        clientKeyData: Buffer.from('-----BEGIN key-----\n'),
      });
      expect(nativeConnectionOptions(settings)).toEqual({
        address: 'temporal.corp:7233',
        tls: {
          clientCertPair: { crt: Buffer.from('-----BEGIN crt-----\n'), key: Buffer.from('-----BEGIN key-----\n') },
        },
        metadata: { 'x-tenant': 'acme' },
      });
      expect(clientConnectionOptions(settings).metadata).toEqual({ 'x-tenant': 'acme' });
      expect(describeConnection(settings)).toBe(
        `temporal.corp:7233 (TLS, client certificate, gRPC metadata, profile "inline" in ${file})`,
      );
    });

    test('an unreadable file of the profile is named by its key and file', () => {
      const missing = path.join(dir, 'gone.pem');
      const broken = writeConfig(
        `[profile.default]\naddress = "h:1"\n[profile.default.tls]\nserver_ca_cert_path = "${missing}"\n`,
      );
      const profile = load({ TEMPORAL_CONFIG_FILE: broken });
      const settings = connectionSettingsFrom(undefined, {}, profile);
      const problem = `profile.default.tls.server_ca_cert_path in ${broken}: cannot read ${missing} (ENOENT)`;
      expect(connectionProblems(settings)).toEqual([problem]);
      expect(configError(() => clientConnectionOptions(settings)).problems).toEqual([problem]);
      // The same file from the variable is named by the variable.
      const fromEnv = connectionSettingsFrom(undefined, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing }, profile);
      expect(connectionProblems(fromEnv)).toEqual([
        `TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read ${missing} (ENOENT)`,
      ]);
    });

    test("a profile's API key without TLS off loopback is refused, naming the keys, never the key", () => {
      const problems = connectionProblems(resolve('plain'));
      expect(problems).toEqual([
        `profile.plain.api_key in ${file}: profile.plain.tls.disabled in ${file} is true, so the key would travel in ` +
          'plaintext to temporal.corp, which is not this machine; turn TLS on (set TEMPORAL_TLS=true or remove ' +
          'tls.disabled from the profile), or send an API key without TLS only to a loopback server (127.0.0.1, ::1, ' +
          'localhost)',
      ]);
      expect(connectionProblems(resolve('plain', { TEMPORAL_ADDRESS: '127.0.0.1:7233' }))).toEqual([]);
      expect(connectionProblems(resolve('cloud', { TEMPORAL_TLS: 'false' }))).toEqual([
        expect.stringMatching(
          /^profile\.cloud\.api_key in .*: TEMPORAL_TLS is false, so the key would travel in plaintext to acme\.a1b2c\.tmprl\.cloud,/,
        ),
      ]);
      expect(connectionProblems(resolve('plain', { TEMPORAL_API_KEY: API_KEY }))).toEqual([
        expect.stringMatching(
          /^TEMPORAL_API_KEY: profile\.plain\.tls\.disabled in .* is true, so the key would travel/,
        ),
      ]);
    });

    test('an authorization header in grpc_meta and an API key: one or the other', () => {
      const both = writeConfig('[profile.default]\naddress = "h:1"\ngrpc_meta = { Authorization = "Bearer x" }\n');
      const profile = load({ TEMPORAL_CONFIG_FILE: both });
      expect(connectionProblems(connectionSettingsFrom(undefined, {}, profile))).toEqual([]);
      expect(
        connectionProblems(
          connectionSettingsFrom(undefined, temporalConnectionEnv.parse({ TEMPORAL_API_KEY: API_KEY }), profile),
        ),
      ).toEqual([`profile.default.grpc_meta.authorization in ${both}: TEMPORAL_API_KEY is set too; keep one of them`]);
    });

    test('describeConnection names the profile and never shows its API key', () => {
      const text = describeConnection(resolve('cloud'));
      expect(text).toBe(
        `acme.a1b2c.tmprl.cloud:7233 (TLS, custom CA, server name acme.tmprl.test, client certificate, API key, profile "cloud" in ${file})`,
      );
      expect(text).not.toContain(PROFILE_KEY);
    });
  });
});
