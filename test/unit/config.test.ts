import { ConfigError, loadClientConfig, loadWorkerConfig } from '../../src/config';

const TOKEN = 'tok-3f9a1c77e0d24b6b';
const PASSWORD = 'pw-Zq8!secret-value';

const WORKER_ENV = { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'admin@acme.test', ZENDESK_API_TOKEN: TOKEN };

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadWorkerConfig', () => {
  test('defaults', () => {
    expect(loadWorkerConfig(WORKER_ENV)).toEqual({
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'zendesk-export' },
      accounts: [
        {
          account: 'acme',
          baseUrl: 'https://acme.zendesk.com',
          email: 'admin@acme.test',
          apiToken: TOKEN,
          password: undefined,
          timeoutMs: 60_000,
        },
      ],
      sinkUrl: 'sqlite:.data/tickets.db',
      blobRetentionDays: 7,
      codecServerPort: 8234,
      codecServerHost: '127.0.0.1',
      metrics: undefined,
    });
  });

  test('every Temporal and sink setting is read', () => {
    const config = loadWorkerConfig({
      ...WORKER_ENV,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'exports',
      TEMPORAL_TASK_QUEUE: 'zd',
      SINK_URL: 'postgres://user@db/tickets',
      ZENDESK_TIMEOUT_SECONDS: '15',
    });
    expect(config.temporal).toEqual({ address: 'temporal.internal:7233', namespace: 'exports', taskQueue: 'zd' });
    expect(config.sinkUrl).toBe('postgres://user@db/tickets');
    expect(config.accounts[0].timeoutMs).toBe(15_000);
  });

  test('ZENDESK_BASE_URL: the account is host:port, a trailing slash is dropped', () => {
    const config = loadWorkerConfig({
      ZENDESK_BASE_URL: 'http://127.0.0.1:8089/',
      ZENDESK_EMAIL: 'admin@example.com',
      ZENDESK_API_TOKEN: TOKEN,
    });
    expect(config.accounts[0].baseUrl).toBe('http://127.0.0.1:8089');
    expect(config.accounts[0].account).toBe('127.0.0.1:8089');
  });

  test('ZENDESK_BASE_URL on the default port: the account is the host', () => {
    const config = loadWorkerConfig({ ...WORKER_ENV, ZENDESK_SUBDOMAIN: undefined, ZENDESK_BASE_URL: 'https://z.io' });
    expect(config.accounts[0].account).toBe('z.io');
  });

  test('a password instead of a token', () => {
    const config = loadWorkerConfig({ ...WORKER_ENV, ZENDESK_API_TOKEN: undefined, ZENDESK_PASSWORD: PASSWORD });
    expect(config.accounts[0].password).toBe(PASSWORD);
    expect(config.accounts[0].apiToken).toBeUndefined();
  });

  test('a token and a password: the token wins and the password is dropped', () => {
    const config = loadWorkerConfig({ ...WORKER_ENV, ZENDESK_PASSWORD: PASSWORD });
    expect(config.accounts[0].apiToken).toBe(TOKEN);
    expect(config.accounts[0].password).toBeUndefined();
  });

  test('blank credentials count as missing', () => {
    const error = configError(() =>
      loadWorkerConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: ' ', ZENDESK_API_TOKEN: '', ZENDESK_PASSWORD: '' }),
    );
    expect(error.problems).toEqual([
      expect.stringMatching(/^ZENDESK_EMAIL: required/),
      expect.stringMatching(/^ZENDESK_API_TOKEN or ZENDESK_PASSWORD: one of them is required/),
    ]);
  });

  test('an empty environment names every missing setting in one error', () => {
    const error = configError(() => loadWorkerConfig({}));
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toHaveLength(3);
    expect(error.message).toMatch(/^Invalid configuration:\n/);
    expect(error.message).toContain('ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL');
    expect(error.message).toContain('ZENDESK_EMAIL');
    expect(error.message).toContain('ZENDESK_API_TOKEN or ZENDESK_PASSWORD');
  });

  test('every problem is named in one error', () => {
    const error = configError(() =>
      loadWorkerConfig({
        ZENDESK_BASE_URL: 'ftp://acme.zendesk.com',
        ZENDESK_SUBDOMAIN: 'acme.zendesk.com',
        SINK_URL: 'mysql://db/tickets',
        ZENDESK_TIMEOUT_SECONDS: '0',
      }),
    );
    const text = error.problems.join('\n');
    expect(text).toMatch(/ZENDESK_BASE_URL: must be an http\(s\) URL/);
    expect(text).toMatch(/ZENDESK_SUBDOMAIN: must be a Zendesk subdomain/);
    expect(text).toMatch(/SINK_URL: must start with sqlite:/);
    expect(text).toMatch(/ZENDESK_TIMEOUT_SECONDS: must be a number of seconds >= 1, got "0"/);
    expect(text).toMatch(/ZENDESK_EMAIL: required/);
    expect(text).toMatch(/ZENDESK_API_TOKEN or ZENDESK_PASSWORD/);
    expect(error.problems).toHaveLength(6);
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });

  test.each(['not a url', 'acme.zendesk.com', 'ftp://acme.zendesk.com', 'javascript:alert(1)'])(
    'rejects ZENDESK_BASE_URL %p',
    (url) => {
      const error = configError(() => loadWorkerConfig({ ...WORKER_ENV, ZENDESK_BASE_URL: url }));
      expect(error.problems).toEqual([expect.stringMatching(/^ZENDESK_BASE_URL: must be an http\(s\) URL/)]);
    },
  );

  test.each(['acme.zendesk.com', '-acme', 'ac me', 'acme/'])('rejects ZENDESK_SUBDOMAIN %p', (sub) => {
    const error = configError(() => loadWorkerConfig({ ...WORKER_ENV, ZENDESK_SUBDOMAIN: sub }));
    expect(error.problems).toEqual([expect.stringMatching(/^ZENDESK_SUBDOMAIN: must be a Zendesk subdomain/)]);
  });

  test.each(['mysql://db', 'tickets.db', 'file:tickets.db'])('rejects SINK_URL %p', (url) => {
    const error = configError(() => loadWorkerConfig({ ...WORKER_ENV, SINK_URL: url }));
    expect(error.problems).toEqual([expect.stringMatching(/^SINK_URL: must start with sqlite:/)]);
  });

  test('the error never contains the token or the password', () => {
    const envs = [
      { ZENDESK_BASE_URL: 'nope', ZENDESK_API_TOKEN: TOKEN, ZENDESK_PASSWORD: PASSWORD, SINK_URL: 'x' },
      { ZENDESK_SUBDOMAIN: '!!', ZENDESK_EMAIL: '', ZENDESK_API_TOKEN: TOKEN },
      { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_PASSWORD: PASSWORD, ZENDESK_TIMEOUT_SECONDS: 'soon' },
    ];
    for (const env of envs) {
      const error = configError(() => loadWorkerConfig(env));
      const everything = `${error.message}\n${error.problems.join('\n')}\n${error.stack}\n${JSON.stringify(error)}`;
      expect(everything).not.toContain(TOKEN);
      expect(everything).not.toContain(PASSWORD);
    }
  });
});

describe('loadClientConfig', () => {
  test('defaults', () => {
    expect(loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme' })).toEqual({
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'zendesk-export' },
      accountsFile: undefined,
      accounts: [
        {
          account: 'acme',
          baseUrl: 'https://acme.zendesk.com',
          exportDefaults: {
            api: 'exports',
            startTime: undefined,
            pollIntervalSeconds: 300,
            minStartAgeSeconds: 300,
            requestsPerMinute: 10,
            perPage: 1000,
          },
        },
      ],
    });
  });

  test('the incremental endpoints default to a 60 s minimum start age; the export API is validated', () => {
    const cursor = loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EXPORT_API: 'cursor' }).accounts[0]
      .exportDefaults;
    expect(cursor).toMatchObject({ api: 'cursor', minStartAgeSeconds: 60 });
    const explicit = loadClientConfig({
      ZENDESK_SUBDOMAIN: 'acme',
      ZENDESK_EXPORT_API: 'incremental',
      EXPORT_MIN_START_AGE_SECONDS: '90',
      EXPORT_REQUESTS_PER_MINUTE: '30',
      EXPORT_PER_PAGE: '500',
    }).accounts[0].exportDefaults;
    expect(explicit).toMatchObject({ api: 'incremental', minStartAgeSeconds: 90, requestsPerMinute: 30, perPage: 500 });
    const error = configError(() =>
      loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EXPORT_API: 'search', EXPORT_PER_PAGE: '5000' }),
    );
    expect(error.problems).toEqual([
      'ZENDESK_EXPORT_API: must be one of exports, incremental, cursor',
      'EXPORT_PER_PAGE: must be a whole number from 1 to 1000',
    ]);
  });

  test('needs no credentials, and ignores them', () => {
    const config = loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_API_TOKEN: TOKEN });
    expect(JSON.stringify(config)).not.toContain(TOKEN);
  });

  test('reads the export settings', () => {
    const config = loadClientConfig({
      ZENDESK_BASE_URL: 'http://localhost:9000',
      EXPORT_START_TIME: '1700000000',
      EXPORT_POLL_INTERVAL_SECONDS: '0.5',
      EXPORT_MIN_START_AGE_SECONDS: '0',
    });
    expect(config.accounts[0].account).toBe('localhost:9000');
    expect(config.accounts[0].baseUrl).toBe('http://localhost:9000');
    expect(config.accounts[0].exportDefaults).toEqual({
      api: 'exports',
      startTime: 1_700_000_000,
      pollIntervalSeconds: 0.5,
      minStartAgeSeconds: 0,
      requestsPerMinute: 10,
      perPage: 1000,
    });
  });

  test('EXPORT_START_TIME 0 is kept', () => {
    expect(
      loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', EXPORT_START_TIME: '0' }).accounts[0].exportDefaults.startTime,
    ).toBe(0);
  });

  test.each(['0', '-5', 'abc', 'Infinity', '0x10', '1e3'])('rejects EXPORT_POLL_INTERVAL_SECONDS %p', (value) => {
    const error = configError(() =>
      loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', EXPORT_POLL_INTERVAL_SECONDS: value }),
    );
    expect(error.problems).toEqual([
      `EXPORT_POLL_INTERVAL_SECONDS: must be a number of seconds >= 0.1, got "${value}"`,
    ]);
  });

  test.each(['-1', '1.5', 'yesterday', '2024-01-01', '1e9', '99999999999999999999'])(
    'rejects EXPORT_START_TIME %p',
    (value) => {
      const error = configError(() => loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', EXPORT_START_TIME: value }));
      expect(error.problems).toEqual([
        `EXPORT_START_TIME: must be a whole number of epoch seconds >= 0, got "${value}"`,
      ]);
    },
  );

  test('an empty variable counts as unset, as compose writes ${VAR:-}', () => {
    const config = loadClientConfig({
      ZENDESK_SUBDOMAIN: '',
      ZENDESK_BASE_URL: 'http://127.0.0.1:8080',
      EXPORT_POLL_INTERVAL_SECONDS: '',
      TEMPORAL_NAMESPACE: ' ',
    });
    expect(config.accounts[0].exportDefaults.pollIntervalSeconds).toBe(300);
    expect(config.temporal.namespace).toBe('default');
    expect(config.accounts[0].account).toBe('127.0.0.1:8080');
  });

  test('a start time in the future is rejected', () => {
    const future = String(Math.floor(Date.now() / 1000) + 86400);
    const error = configError(() => loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', EXPORT_START_TIME: future }));
    expect(error.problems).toEqual([`EXPORT_START_TIME: must not be in the future, got ${future}`]);
  });

  test('every problem is named in one error', () => {
    const error = configError(() =>
      loadClientConfig({
        ZENDESK_SUBDOMAIN: 'acme.zendesk.com',
        EXPORT_START_TIME: 'yesterday',
        EXPORT_POLL_INTERVAL_SECONDS: '0',
        EXPORT_MIN_START_AGE_SECONDS: '-1',
        ZENDESK_BASE_URL: 'ftp://example.com',
      }),
    );
    const text = error.problems.join('\n');
    expect(text).toMatch(/ZENDESK_SUBDOMAIN: /);
    expect(text).toMatch(/EXPORT_START_TIME: /);
    expect(text).toMatch(/EXPORT_POLL_INTERVAL_SECONDS: /);
    expect(text).toMatch(/EXPORT_MIN_START_AGE_SECONDS: must be a number of seconds >= 0, got "-1"/);
    expect(text).toMatch(/ZENDESK_BASE_URL: must be an http\(s\) URL/);
    expect(error.problems).toHaveLength(5);
  });

  test('no account at all is one named problem', () => {
    const error = configError(() => loadClientConfig({}));
    expect(error.problems).toEqual([
      'ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL (or ZENDESK_ACCOUNTS_FILE): one of them is required',
    ]);
  });
});
