import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  apiTokenWarning,
  ConfigError,
  defaultExportApi,
  isZendeskHost,
  loadClientConfig,
  loadWorkerConfig,
} from '../../src/config';

const TOKEN = 'tok-3f9a1c77e0d24b6b';
const PASSWORD = 'pw-Zq8!secret-value';
const CLIENT_SECRET = 'cs-9d2e7b41a6f05c38';
const ACCESS_TOKEN = 'at-51c0e8f3b7d2a946';

const WORKER_ENV = { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'admin@acme.test', ZENDESK_API_TOKEN: TOKEN };
const NO_API_TOKEN = { ZENDESK_EMAIL: undefined, ZENDESK_API_TOKEN: undefined };
const CLIENT_ENV = {
  ...WORKER_ENV,
  ...NO_API_TOKEN,
  ZENDESK_OAUTH_CLIENT_ID: 'zte-export',
  ZENDESK_OAUTH_CLIENT_SECRET: CLIENT_SECRET,
};

/** The problem named when no way to sign in is set at all. */
const NO_CREDENTIALS =
  /^ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_OAUTH_ACCESS_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN: one way for the worker to sign in is required/;

const PASSWORD_REFUSED =
  'ZENDESK_PASSWORD: Zendesk removed password access to its API on 2025-12-31; create an OAuth client ' +
  '(Admin Center → Apps and integrations → APIs → OAuth clients, kind confidential) and set ' +
  'ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET';

/** Everything an error could show: message, problems, stack and its JSON. */
function everything(error: ConfigError): string {
  return `${error.message}\n${error.problems.join('\n')}\n${error.stack}\n${JSON.stringify(error)}`;
}

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const PAYLOAD_KEY = Buffer.alloc(32, 7).toString('base64');
const ENCRYPTED = { PAYLOAD_ENCRYPTION_KEY: PAYLOAD_KEY };

describe('loadWorkerConfig', () => {
  test('defaults', () => {
    expect(loadWorkerConfig(WORKER_ENV)).toEqual({
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'zendesk-export' },
      accounts: [
        {
          account: 'acme',
          baseUrl: 'https://acme.zendesk.com',
          auth: { mode: 'api_token', email: 'admin@acme.test', apiToken: TOKEN },
          timeoutMs: 60_000,
          clockToleranceSeconds: 120,
        },
      ],
      sinkUrl: 'sqlite:.data/tickets.db',
      sinkTimeouts: { connectSeconds: 10, statementSeconds: 60, idleInTransactionSeconds: 60, keepAliveSeconds: 30 },
      sinkOptions: { ticketVersions: true },
      blobRetentionDays: 7,
      codecServerPort: 8234,
      codecServerHost: '127.0.0.1',
      encryption: { off: false, current: undefined, previous: [] },
      metrics: undefined,
      logging: { format: 'text', level: 'INFO' },
    });
  });

  test('every Temporal and sink setting is read', () => {
    const config = loadWorkerConfig({
      ...WORKER_ENV,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      PAYLOAD_ENCRYPTION_KEY: PAYLOAD_KEY,
      TEMPORAL_NAMESPACE: 'exports',
      TEMPORAL_TASK_QUEUE: 'zd',
      SINK_URL: 'postgres://user@db/tickets',
      ZENDESK_TIMEOUT_SECONDS: '15',
      ZENDESK_CLOCK_TOLERANCE_SECONDS: '30',
    });
    expect(config.temporal).toEqual({ address: 'temporal.internal:7233', namespace: 'exports', taskQueue: 'zd' });
    expect(config.sinkUrl).toBe('postgres://user@db/tickets');
    expect(config.accounts[0].timeoutMs).toBe(15_000);
    expect(config.accounts[0].clockToleranceSeconds).toBe(30);
  });

  test('ZENDESK_CLOCK_TOLERANCE_SECONDS: 120 s unless set; not a number of seconds is named', () => {
    expect(loadWorkerConfig(WORKER_ENV).accounts[0].clockToleranceSeconds).toBe(120);
    const error = configError(() => loadWorkerConfig({ ...WORKER_ENV, ZENDESK_CLOCK_TOLERANCE_SECONDS: 'a bit' }));
    expect(error.problems).toEqual([
      expect.stringMatching(/ZENDESK_CLOCK_TOLERANCE_SECONDS: must be a number of seconds >= 0, got "a bit"/),
    ]);
  });

  test("PostgreSQL's time limits: SINK_*_SECONDS, 0 for no limit, a bad value named with the rest", () => {
    const config = loadWorkerConfig({
      ...WORKER_ENV,
      SINK_URL: 'postgres://user@db/tickets',
      SINK_CONNECT_TIMEOUT_SECONDS: '2.5',
      SINK_STATEMENT_TIMEOUT_SECONDS: '300',
      SINK_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '0',
      SINK_KEEPALIVE_SECONDS: '15',
    });
    expect(config.sinkTimeouts).toEqual({
      connectSeconds: 2.5,
      statementSeconds: 300,
      idleInTransactionSeconds: 0,
      keepAliveSeconds: 15,
    });
    const error = configError(() =>
      loadWorkerConfig({
        ...WORKER_ENV,
        SINK_CONNECT_TIMEOUT_SECONDS: 'soon',
        SINK_STATEMENT_TIMEOUT_SECONDS: '-1',
        SINK_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '1e3',
        SINK_KEEPALIVE_SECONDS: '0x10',
      }),
    );
    expect(error.problems).toEqual([
      'SINK_CONNECT_TIMEOUT_SECONDS: must be a number of seconds >= 0, got "soon"',
      'SINK_STATEMENT_TIMEOUT_SECONDS: must be a number of seconds >= 0, got "-1"',
      'SINK_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: must be a number of seconds >= 0, got "1e3"',
      'SINK_KEEPALIVE_SECONDS: must be a number of seconds >= 0, got "0x10"',
    ]);
  });

  test('SINK_TICKET_VERSIONS: on by default, off turns ticket_version off, anything else is named', () => {
    expect(loadWorkerConfig({ ...WORKER_ENV, SINK_TICKET_VERSIONS: 'off' }).sinkOptions).toEqual({
      ticketVersions: false,
    });
    expect(loadWorkerConfig({ ...WORKER_ENV, SINK_TICKET_VERSIONS: 'on' }).sinkOptions).toEqual({
      ticketVersions: true,
    });
    const error = configError(() =>
      loadWorkerConfig({ ...WORKER_ENV, SINK_TICKET_VERSIONS: 'no', SINK_KEEPALIVE_SECONDS: 'x' }),
    );
    expect(error.problems).toEqual([
      'SINK_KEEPALIVE_SECONDS: must be a number of seconds >= 0, got "x"',
      'SINK_TICKET_VERSIONS: must be "on" or "off"',
    ]);
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

  describe('how the worker signs in: exactly one way, chosen by the variables that are set', () => {
    test('OAuth client credentials, with the default scope and token lifetime', () => {
      expect(loadWorkerConfig(CLIENT_ENV).accounts[0].auth).toEqual({
        mode: 'oauth_client_credentials',
        clientId: 'zte-export',
        clientSecret: CLIENT_SECRET,
        scope: 'read',
        tokenTtlSeconds: 3600,
      });
    });

    test('OAuth client credentials with a scope (space-separated, runs of spaces collapsed) and a token lifetime', () => {
      const auth = loadWorkerConfig({
        ...CLIENT_ENV,
        ZENDESK_OAUTH_SCOPE: ' tickets:read   users:read organizations:read ',
        ZENDESK_OAUTH_TOKEN_TTL_SECONDS: '7200',
      }).accounts[0].auth;
      expect(auth).toMatchObject({ scope: 'tickets:read users:read organizations:read', tokenTtlSeconds: 7200 });
    });

    test('a pre-issued OAuth access token', () => {
      const config = loadWorkerConfig({ ...WORKER_ENV, ...NO_API_TOKEN, ZENDESK_OAUTH_ACCESS_TOKEN: ACCESS_TOKEN });
      expect(config.accounts[0].auth).toEqual({ mode: 'oauth_access_token', accessToken: ACCESS_TOKEN });
    });

    test('an API token, still', () => {
      expect(loadWorkerConfig(WORKER_ENV).accounts[0].auth).toEqual({
        mode: 'api_token',
        email: 'admin@acme.test',
        apiToken: TOKEN,
      });
    });

    test('values are trimmed', () => {
      const config = loadWorkerConfig({
        ZENDESK_SUBDOMAIN: 'acme',
        ZENDESK_OAUTH_CLIENT_ID: ' zte-export ',
        ZENDESK_OAUTH_CLIENT_SECRET: ` ${CLIENT_SECRET}\n`,
      });
      expect(config.accounts[0].auth).toMatchObject({ clientId: 'zte-export', clientSecret: CLIENT_SECRET });
    });

    test('none: one problem naming every variable of every way', () => {
      const error = configError(() => loadWorkerConfig({ ZENDESK_SUBDOMAIN: 'acme' }));
      expect(error.problems).toEqual([expect.stringMatching(NO_CREDENTIALS)]);
      expect(error.problems[0]).toContain('API token (accepted until 2027-04-30)');
    });

    test.each([
      [
        'client credentials and an API token',
        { ...CLIENT_ENV, ZENDESK_EMAIL: 'admin@acme.test', ZENDESK_API_TOKEN: TOKEN },
        'ZENDESK_OAUTH_CLIENT_ID/ZENDESK_OAUTH_CLIENT_SECRET and ZENDESK_EMAIL/ZENDESK_API_TOKEN: 2 ways to sign in ' +
          'are set (OAuth client credentials, an API token); set exactly one',
      ],
      [
        'an access token and half an API token',
        { ...WORKER_ENV, ZENDESK_EMAIL: undefined, ZENDESK_OAUTH_ACCESS_TOKEN: ACCESS_TOKEN },
        'ZENDESK_OAUTH_ACCESS_TOKEN and ZENDESK_API_TOKEN: 2 ways to sign in are set (a pre-issued OAuth access ' +
          'token, an API token); set exactly one',
      ],
      [
        'all three',
        { ...WORKER_ENV, ZENDESK_OAUTH_CLIENT_SECRET: CLIENT_SECRET, ZENDESK_OAUTH_ACCESS_TOKEN: ACCESS_TOKEN },
        'ZENDESK_OAUTH_CLIENT_SECRET and ZENDESK_OAUTH_ACCESS_TOKEN and ZENDESK_EMAIL/ZENDESK_API_TOKEN: 3 ways to ' +
          'sign in are set (OAuth client credentials, a pre-issued OAuth access token, an API token); set exactly one',
      ],
    ])('two ways or more (%s): one problem naming the variables, no value', (_label, env, problem) => {
      const error = configError(() => loadWorkerConfig(env));
      expect(error.problems).toEqual([problem]);
      for (const secret of [TOKEN, CLIENT_SECRET, ACCESS_TOKEN]) expect(everything(error)).not.toContain(secret);
    });

    test.each([
      [
        { ZENDESK_OAUTH_CLIENT_ID: 'zte-export' },
        'ZENDESK_OAUTH_CLIENT_SECRET: required with ZENDESK_OAUTH_CLIENT_ID (OAuth client credentials)',
      ],
      [
        { ZENDESK_OAUTH_CLIENT_SECRET: CLIENT_SECRET },
        'ZENDESK_OAUTH_CLIENT_ID: required with ZENDESK_OAUTH_CLIENT_SECRET (OAuth client credentials)',
      ],
      [
        { ZENDESK_EMAIL: 'admin@acme.test' },
        'ZENDESK_API_TOKEN: required with ZENDESK_EMAIL (the admin user and its API token)',
      ],
      [
        { ZENDESK_API_TOKEN: TOKEN },
        'ZENDESK_EMAIL: required with ZENDESK_API_TOKEN (the admin user and its API token)',
      ],
    ])('half of a pair (%p) names the missing variable', (credentials, problem) => {
      const error = configError(() => loadWorkerConfig({ ZENDESK_SUBDOMAIN: 'acme', ...credentials }));
      expect(error.problems).toEqual([problem]);
      expect(everything(error)).not.toContain(CLIENT_SECRET);
      expect(everything(error)).not.toContain(TOKEN);
    });

    test.each([
      ['alone', { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_PASSWORD: PASSWORD }, [PASSWORD_REFUSED]],
      [
        'with the email of the old setup',
        { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'admin@acme.test', ZENDESK_PASSWORD: PASSWORD },
        [PASSWORD_REFUSED],
      ],
      ['beside an API token', { ...WORKER_ENV, ZENDESK_PASSWORD: PASSWORD }, [PASSWORD_REFUSED]],
      ['beside client credentials', { ...CLIENT_ENV, ZENDESK_PASSWORD: PASSWORD }, [PASSWORD_REFUSED]],
    ])('ZENDESK_PASSWORD is refused (%s), saying what to do, never echoing it', (_label, env, problems) => {
      const error = configError(() => loadWorkerConfig(env));
      expect(error.problems).toEqual(problems);
      expect(everything(error)).not.toContain(PASSWORD);
    });

    test('ZENDESK_PASSWORD is refused with an accounts file too', () => {
      const error = configError(() =>
        loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: '/nonexistent/accounts.yaml', ZENDESK_PASSWORD: PASSWORD }),
      );
      expect(error.problems).toContain(PASSWORD_REFUSED);
    });

    test.each(['301', '172799', '3600', ' 600 '])('ZENDESK_OAUTH_TOKEN_TTL_SECONDS %p is accepted', (value) => {
      const config = loadWorkerConfig({ ...CLIENT_ENV, ZENDESK_OAUTH_TOKEN_TTL_SECONDS: value });
      expect(config.accounts[0].auth).toMatchObject({ tokenTtlSeconds: Number(value) });
    });

    test.each(['300', '172800', '0', '299', '200000', '3600.5', '3e3', '0x10', '-3600', 'an hour', 'Infinity'])(
      'ZENDESK_OAUTH_TOKEN_TTL_SECONDS %p is refused (300 < n < 172800, whole, decimal)',
      (value) => {
        const error = configError(() => loadWorkerConfig({ ...CLIENT_ENV, ZENDESK_OAUTH_TOKEN_TTL_SECONDS: value }));
        expect(error.problems).toEqual([
          'ZENDESK_OAUTH_TOKEN_TTL_SECONDS: must be a whole number of seconds above 300 and below 172800 ' +
            `(the expires_in Zendesk accepts), got "${value.trim()}"`,
        ]);
      },
    );

    test.each(['read,write', 'tickets:read;users:read', '"read"'])('ZENDESK_OAUTH_SCOPE %p is refused', (value) => {
      const error = configError(() => loadWorkerConfig({ ...CLIENT_ENV, ZENDESK_OAUTH_SCOPE: value }));
      expect(error.problems).toEqual([
        'ZENDESK_OAUTH_SCOPE: must be OAuth scopes separated by spaces, such as "read" or "tickets:read users:read"',
      ]);
    });

    test('a scope or a token lifetime without client credentials is a problem, named with the rest', () => {
      const error = configError(() =>
        loadWorkerConfig({
          ...WORKER_ENV,
          ZENDESK_OAUTH_SCOPE: 'read',
          ZENDESK_OAUTH_TOKEN_TTL_SECONDS: '3e3',
          SINK_URL: 'mysql://db',
        }),
      );
      expect(error.problems).toEqual([
        expect.stringMatching(/^ZENDESK_OAUTH_TOKEN_TTL_SECONDS: must be a whole number/),
        expect.stringMatching(/^SINK_URL: /),
        'ZENDESK_OAUTH_SCOPE and ZENDESK_OAUTH_TOKEN_TTL_SECONDS: only for OAuth client credentials ' +
          '(ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET), which are not set',
      ]);
    });

    test('an empty variable is unset: compose can pass every one of them', () => {
      const config = loadWorkerConfig({
        ...CLIENT_ENV,
        ZENDESK_OAUTH_SCOPE: '',
        ZENDESK_OAUTH_TOKEN_TTL_SECONDS: '',
        ZENDESK_OAUTH_ACCESS_TOKEN: '',
        ZENDESK_EMAIL: '',
        ZENDESK_API_TOKEN: ' ',
        ZENDESK_PASSWORD: '',
      });
      expect(config.accounts[0].auth).toMatchObject({ mode: 'oauth_client_credentials', scope: 'read' });
    });
  });

  test('apiTokenWarning names the end date and the variables to set instead', () => {
    const warning = apiTokenWarning('acme');
    expect(warning).toMatch(/^acme signs in with an API token, which Zendesk turns off on 2027-04-30/);
    expect(warning).toContain('ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET');
    expect(warning).toContain('oauthClientIdEnv and oauthClientSecretEnv');
  });

  test('blank credentials count as missing', () => {
    const error = configError(() =>
      loadWorkerConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: ' ', ZENDESK_API_TOKEN: '', ZENDESK_PASSWORD: '' }),
    );
    expect(error.problems).toEqual([expect.stringMatching(NO_CREDENTIALS)]);
  });

  test('an empty environment names every missing setting in one error', () => {
    const error = configError(() => loadWorkerConfig({}));
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual([
      'ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL (or ZENDESK_ACCOUNTS_FILE): one of them is required',
      expect.stringMatching(NO_CREDENTIALS),
    ]);
    expect(error.message).toMatch(/^Invalid configuration:\n/);
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
    expect(error.problems[error.problems.length - 1]).toMatch(NO_CREDENTIALS);
    expect(error.problems).toHaveLength(5);
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

  test('the error never contains a token, a client secret or the password', () => {
    const envs = [
      { ZENDESK_BASE_URL: 'nope', ZENDESK_API_TOKEN: TOKEN, ZENDESK_PASSWORD: PASSWORD, SINK_URL: 'x' },
      { ZENDESK_SUBDOMAIN: '!!', ZENDESK_EMAIL: '', ZENDESK_API_TOKEN: TOKEN },
      { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_PASSWORD: PASSWORD, ZENDESK_TIMEOUT_SECONDS: 'soon' },
      {
        ZENDESK_SUBDOMAIN: 'acme',
        ZENDESK_OAUTH_CLIENT_SECRET: CLIENT_SECRET,
        ZENDESK_OAUTH_ACCESS_TOKEN: ACCESS_TOKEN,
      },
      { ...CLIENT_ENV, ZENDESK_OAUTH_TOKEN_TTL_SECONDS: '1', ZENDESK_OAUTH_SCOPE: 'a,b', SINK_URL: 'x' },
    ];
    for (const env of envs) {
      const text = everything(configError(() => loadWorkerConfig(env)));
      for (const secret of [TOKEN, PASSWORD, CLIENT_SECRET, ACCESS_TOKEN]) expect(text).not.toContain(secret);
    }
  });
});

describe('loadClientConfig', () => {
  test('defaults', () => {
    expect(loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme' })).toEqual({
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'zendesk-export' },
      encryption: { off: false, current: undefined, previous: [] },
      accountsFile: undefined,
      accounts: [
        {
          account: 'acme',
          baseUrl: 'https://acme.zendesk.com',
          exportDefaults: {
            api: 'cursor',
            startTime: undefined,
            pollIntervalSeconds: 300,
            minStartAgeSeconds: 60,
            requestsPerMinute: 10,
            perPage: 1000,
            streams: ['tickets', 'ticket_events', 'users', 'organizations', 'ticket_metric_events', 'reference_lists'],
            usersRequestsPerMinute: 20,
            accountRequestsPerMinute: 30,
            referenceRefreshSeconds: 3600,
            supportTypeScope: 'all',
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

  test("the sign-in variables are the worker's: the client neither needs nor checks them", () => {
    const envs = [
      { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_PASSWORD: PASSWORD },
      { ...CLIENT_ENV, ZENDESK_OAUTH_ACCESS_TOKEN: ACCESS_TOKEN },
      { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_CLIENT_ID: 'zte-export', ZENDESK_OAUTH_TOKEN_TTL_SECONDS: '3e3' },
    ];
    for (const env of envs) {
      const config = loadClientConfig(env);
      expect(config.accounts.map((a) => a.account)).toEqual(['acme']);
      for (const secret of [PASSWORD, CLIENT_SECRET, ACCESS_TOKEN])
        expect(JSON.stringify(config)).not.toContain(secret);
    }
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
      streams: ['tickets', 'ticket_events', 'users', 'organizations', 'ticket_metric_events', 'reference_lists'],
      usersRequestsPerMinute: 20,
      accountRequestsPerMinute: 30,
      referenceRefreshSeconds: 3600,
      supportTypeScope: 'all',
    });
  });

  test('the account-wide budget and the reference lists refresh are read and checked', () => {
    const read = loadClientConfig({
      ZENDESK_SUBDOMAIN: 'acme',
      EXPORT_ACCOUNT_REQUESTS_PER_MINUTE: '60',
      EXPORT_REFERENCE_REFRESH: '30 minutes',
    }).accounts[0].exportDefaults;
    expect(read).toMatchObject({ accountRequestsPerMinute: 60, referenceRefreshSeconds: 1800 });
    for (const [name, value] of [
      ['EXPORT_ACCOUNT_REQUESTS_PER_MINUTE', '0'],
      ['EXPORT_REFERENCE_REFRESH', '3600'],
      ['EXPORT_REFERENCE_REFRESH', 'soon'],
    ]) {
      expect(() => loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', [name]: value })).toThrow(new RegExp(`${name}: `));
    }
  });

  test('EXPORT_STREAMS picks streams (or all); the users budget and support_type_scope are read and checked', () => {
    const read = loadClientConfig({
      ZENDESK_SUBDOMAIN: 'acme',
      EXPORT_STREAMS: 'users, tickets',
      EXPORT_USERS_REQUESTS_PER_MINUTE: '60',
      EXPORT_SUPPORT_TYPE_SCOPE: 'agent',
    }).accounts[0].exportDefaults;
    expect(read).toMatchObject({
      streams: ['tickets', 'users'],
      usersRequestsPerMinute: 60,
      accountRequestsPerMinute: 30,
      referenceRefreshSeconds: 3600,
      supportTypeScope: 'agent',
    });
    expect(
      loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', EXPORT_STREAMS: 'all' }).accounts[0].exportDefaults.streams,
    ).toHaveLength(6);
    const error = configError(() =>
      loadClientConfig({
        ZENDESK_SUBDOMAIN: 'acme',
        EXPORT_STREAMS: 'tickets,comments',
        EXPORT_USERS_REQUESTS_PER_MINUTE: '0',
        EXPORT_SUPPORT_TYPE_SCOPE: 'bots',
      }),
    );
    expect(error.problems).toEqual([
      expect.stringMatching(/^EXPORT_STREAMS: unknown stream "comments" \(known: tickets, ticket_events/),
      expect.stringMatching(/^EXPORT_USERS_REQUESTS_PER_MINUTE: /),
      'EXPORT_SUPPORT_TYPE_SCOPE: must be one of agent, ai_agent, all',
    ]);
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

describe('the export API nothing chooses: cursor at <subdomain>.zendesk.com, exports elsewhere', () => {
  const apiOf = (env: Record<string, string>) => {
    const [account] = loadClientConfig(env).accounts;
    return { api: account.exportDefaults.api, minStartAgeSeconds: account.exportDefaults.minStartAgeSeconds };
  };
  const cursor = { api: 'cursor', minStartAgeSeconds: 60 };
  const exports = { api: 'exports', minStartAgeSeconds: 300 };

  test.each([
    ['ZENDESK_SUBDOMAIN=acme', { ZENDESK_SUBDOMAIN: 'acme' }, cursor],
    ['the same host as a base URL', { ZENDESK_BASE_URL: 'https://acme.zendesk.com' }, cursor],
    ['with a trailing slash and capitals', { ZENDESK_BASE_URL: 'https://Acme.Zendesk.com/' }, cursor],
    ['the emulator', { ZENDESK_BASE_URL: 'http://127.0.0.1:8080' }, exports],
    ['localhost', { ZENDESK_BASE_URL: 'http://localhost:8080' }, exports],
    ['a host-mapped domain', { ZENDESK_BASE_URL: 'https://support.acme.com' }, exports],
    ['zendesk.com on another port', { ZENDESK_BASE_URL: 'https://acme.zendesk.com:8443' }, exports],
    ['a name that only starts like it', { ZENDESK_BASE_URL: 'https://acme.zendesk.com.example.net' }, exports],
    ['a subdomain of a subdomain', { ZENDESK_BASE_URL: 'https://eu.acme.zendesk.com' }, exports],
    [
      'ZENDESK_EXPORT_API=exports with a subdomain',
      { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EXPORT_API: 'exports' },
      exports,
    ],
    [
      'ZENDESK_EXPORT_API=incremental with a subdomain',
      { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EXPORT_API: 'incremental' },
      { api: 'incremental', minStartAgeSeconds: 60 },
    ],
    [
      'ZENDESK_EXPORT_API=cursor for the emulator',
      { ZENDESK_BASE_URL: 'http://127.0.0.1:8080', ZENDESK_EXPORT_API: 'cursor' },
      cursor,
    ],
    ['an empty ZENDESK_EXPORT_API is unset', { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EXPORT_API: ' ' }, cursor],
  ])('%s', (_, env, expected) => {
    expect(apiOf(env)).toEqual(expected);
  });

  test('an accounts file: each entry by its own host, its `api` first, then ZENDESK_EXPORT_API', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-api-'));
    try {
      const file = path.join(dir, 'accounts.yaml');
      const entries = [
        { subdomain: 'acme', oauthClientIdEnv: 'ACME_ZENDESK_ID', oauthClientSecretEnv: 'ACME_ZENDESK_SECRET' },
        { baseUrl: 'http://127.0.0.1:8089', email: 'a@b.test', apiTokenEnv: '_127_0_0_1_8089_ZENDESK_TOKEN' },
        { subdomain: 'globex', api: 'exports', email: 'a@b.test', apiTokenEnv: 'GLOBEX_ZENDESK_TOKEN' },
        {
          name: 'local',
          baseUrl: 'http://127.0.0.1:8090',
          api: 'cursor',
          email: 'a@b.test',
          apiTokenEnv: 'LOCAL_ZENDESK_T',
        },
        { name: 'mapped', baseUrl: 'https://support.initech.com', email: 'a@b.test', apiTokenEnv: 'MAPPED_ZENDESK_T' },
      ];
      fs.writeFileSync(file, JSON.stringify({ accounts: entries }));
      const apis = (env: Record<string, string>) =>
        loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file, ...env }).accounts.map((a) => [
          a.account,
          a.exportDefaults.api,
        ]);
      expect(apis({})).toEqual([
        ['acme', 'cursor'],
        ['127.0.0.1:8089', 'exports'],
        ['globex', 'exports'],
        ['local', 'cursor'],
        ['mapped', 'exports'],
      ]);
      // ZENDESK_EXPORT_API is every entry's default: over the host's, under the entry's own `api`.
      expect(apis({ ZENDESK_EXPORT_API: 'incremental' })).toEqual([
        ['acme', 'incremental'],
        ['127.0.0.1:8089', 'incremental'],
        ['globex', 'exports'],
        ['local', 'cursor'],
        ['mapped', 'incremental'],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('isZendeskHost and defaultExportApi read the URL, not its text', () => {
    expect(defaultExportApi('https://acme.zendesk.com')).toBe('cursor');
    expect(isZendeskHost('https://acme.zendesk.com:443/api')).toBe(true);
    expect(isZendeskHost('http://acme.zendesk.com')).toBe(false);
    expect(isZendeskHost('https://zendesk.com')).toBe(false);
    expect(isZendeskHost('https://user@evil.example/acme.zendesk.com')).toBe(false);
    expect(isZendeskHost('not a url')).toBe(false);
    expect(defaultExportApi('not a url')).toBe('exports');
  });
});

describe('plaintext credentials and the way out', () => {
  test('an http:// ZENDESK_BASE_URL is refused unless its host is loopback, naming the host', () => {
    const error = configError(() => loadWorkerConfig({ ...WORKER_ENV, ZENDESK_BASE_URL: 'http://zendesk.corp:8080' }));
    expect(error.problems).toEqual([
      expect.stringMatching(/^ZENDESK_BASE_URL: http:\/\/ would send credentials in plaintext to zendesk\.corp: /),
    ]);
    expect(configError(() => loadClientConfig({ ZENDESK_BASE_URL: 'http://10.0.0.5' })).problems).toEqual([
      expect.stringMatching(/^ZENDESK_BASE_URL: .* plaintext to 10\.0\.0\.5/),
    ]);
    for (const url of ['http://127.0.0.1:8080', 'http://127.8.0.1', 'http://[::1]:8080', 'http://localhost:1234']) {
      expect(loadWorkerConfig({ ...WORKER_ENV, ZENDESK_BASE_URL: url }).accounts[0].baseUrl).toBe(url);
    }
    expect(loadWorkerConfig({ ...WORKER_ENV, ZENDESK_BASE_URL: 'https://zendesk.corp' }).accounts[0].baseUrl).toBe(
      'https://zendesk.corp',
    );
  });

  test('ZENDESK_HTTPS_PROXY: an http:// proxy, passed to every account; nothing else', () => {
    expect(loadWorkerConfig(WORKER_ENV).accounts[0].httpsProxy).toBeUndefined();
    // The conventional variables are not read: a proxy only when configured for this worker.
    expect(
      loadWorkerConfig({ ...WORKER_ENV, HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://p:3128' }).accounts[0]
        .httpsProxy,
    ).toBeUndefined();
    expect(loadWorkerConfig({ ...WORKER_ENV, ZENDESK_HTTPS_PROXY: 'http://proxy.corp:3128' }).accounts[0]).toEqual(
      expect.objectContaining({ httpsProxy: 'http://proxy.corp:3128' }),
    );
    for (const bad of ['proxy.corp:3128', 'socks5://proxy.corp:1080', 'https://proxy.corp', 'http://proxy.corp/path']) {
      expect(configError(() => loadWorkerConfig({ ...WORKER_ENV, ZENDESK_HTTPS_PROXY: bad })).problems).toEqual([
        expect.stringMatching(/^ZENDESK_HTTPS_PROXY: must be an http:\/\/ proxy URL/),
      ]);
    }
  });

  test('TEMPORAL_API_KEY without TLS is refused unless TEMPORAL_ADDRESS is loopback', () => {
    const key = 'tmprl-key-6b0f2c1e9d';
    const plaintext = { TEMPORAL_API_KEY: key, TEMPORAL_TLS: 'false', PAYLOAD_ENCRYPTION: 'off' };
    for (const load of [
      () => loadWorkerConfig({ ...WORKER_ENV, ...plaintext, TEMPORAL_ADDRESS: 'temporal.corp:7233' }),
      () => loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', ...plaintext, TEMPORAL_ADDRESS: 'temporal.corp:7233' }),
    ]) {
      const error = configError(load);
      expect(error.problems).toEqual([
        expect.stringMatching(
          /^TEMPORAL_API_KEY: TEMPORAL_TLS is false, so the key would travel in plaintext to temporal\.corp,/,
        ),
      ]);
      expect(everything(error)).not.toContain(key);
    }
    for (const address of ['127.0.0.1:7233', 'localhost:7233', '[::1]:7233']) {
      expect(loadWorkerConfig({ ...WORKER_ENV, ...plaintext, TEMPORAL_ADDRESS: address }).temporal).toEqual(
        expect.objectContaining({ apiKey: key, address }),
      );
    }
    // With TLS (the default with a key) any address is fine.
    expect(
      loadWorkerConfig({ ...WORKER_ENV, ...ENCRYPTED, TEMPORAL_API_KEY: key, TEMPORAL_ADDRESS: 'temporal.corp:7233' })
        .temporal.tls,
    ).toEqual({});
  });
});

describe('payload encryption: secure by default', () => {
  const remote = { TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233', TEMPORAL_API_KEY: 'tmprl-key-0a1b2c3d' };

  test('worker and client refuse a Temporal server off this machine without a key, naming the way out', () => {
    for (const load of [
      () => loadWorkerConfig({ ...WORKER_ENV, ...remote }),
      () => loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', ...remote }),
    ]) {
      expect(configError(load).problems).toEqual([
        expect.stringMatching(
          /^PAYLOAD_ENCRYPTION_KEY or PAYLOAD_ENCRYPTION_KEY_FILE: required when TEMPORAL_ADDRESS \(acme\.a1b2c\.tmprl\.cloud:7233\) is not a loopback address.*PAYLOAD_ENCRYPTION=off runs without, on purpose/,
        ),
      ]);
    }
  });

  test('with a key, or PAYLOAD_ENCRYPTION=off said on purpose, they start; the key is read, never echoed', () => {
    const worker = loadWorkerConfig({ ...WORKER_ENV, ...remote, ...ENCRYPTED });
    expect(worker.encryption).toMatchObject({ off: false, current: { id: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    expect(loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', ...remote, ...ENCRYPTED }).encryption).toEqual(
      worker.encryption,
    );
    expect(loadWorkerConfig({ ...WORKER_ENV, ...remote, PAYLOAD_ENCRYPTION: 'off' }).encryption).toEqual({ off: true });
    const error = configError(() => loadWorkerConfig({ ...WORKER_ENV, PAYLOAD_ENCRYPTION_KEY: 'c2hvcnQ=' }));
    expect(error.problems).toEqual([expect.stringMatching(/^PAYLOAD_ENCRYPTION_KEY: the base64 of 32 random bytes/)]);
    expect(everything(error)).not.toContain('c2hvcnQ=');
  });

  test('a loopback server runs without a key (the dev server, tests)', () => {
    expect(loadWorkerConfig(WORKER_ENV).encryption).toEqual({ off: false, current: undefined, previous: [] });
  });
});

describe('Temporal from a config-file profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)', () => {
  const PROFILE_KEY = 'tmprl-profile-key-9c4e27b0a1d3';
  const CLOUD = 'acme.a1b2c.tmprl.cloud:7233';
  let dir: string;
  let file: string;
  let ca: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-profile-'));
    ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    file = path.join(dir, 'temporal.toml');
    fs.writeFileSync(
      file,
      [
        '[profile.default]',
        'address = "127.0.0.1:7233"',
        'namespace = "dev"',
        '[profile.cloud]',
        `address = "${CLOUD}"`,
        'namespace = "acme.a1b2c"',
        `api_key = "${PROFILE_KEY}"`,
        '[profile.cloud.tls]',
        `server_ca_cert_path = "${ca}"`,
        '[profile.broken.tls]',
        `server_ca_cert_path = "${path.join(dir, 'missing.pem')}"`,
        '',
      ].join('\n'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cloud = () => ({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });

  test('worker and client take the address, namespace, API key and TLS files from the profile', () => {
    const expected = {
      address: CLOUD,
      namespace: 'acme.a1b2c',
      taskQueue: 'zendesk-export',
      apiKey: PROFILE_KEY,
      tls: { serverCaCertPath: ca },
      profile: expect.objectContaining({ name: 'cloud', file }),
    };
    expect(loadWorkerConfig({ ...WORKER_ENV, ...ENCRYPTED, ...cloud() }).temporal).toEqual(expected);
    expect(loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', ...ENCRYPTED, ...cloud() }).temporal).toEqual(expected);
  });

  test("each variable overrides the profile's value", () => {
    const key = 'tmprl-env-key-31f0c2';
    const temporal = loadWorkerConfig({
      ...WORKER_ENV,
      ...ENCRYPTED,
      ...cloud(),
      TEMPORAL_ADDRESS: 'eu.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'acme.eu',
      TEMPORAL_API_KEY: key,
    }).temporal;
    expect(temporal).toMatchObject({ address: 'eu.tmprl.cloud:7233', namespace: 'acme.eu', apiKey: key });
    expect(temporal.tls).toEqual({ serverCaCertPath: ca });
  });

  test('the default profile of the default file applies with no variable set; the variables still win', () => {
    const home = path.join(dir, 'home');
    fs.mkdirSync(path.join(home, '.config', 'temporalio'), { recursive: true });
    fs.copyFileSync(file, path.join(home, '.config', 'temporalio', 'temporal.toml'));
    expect(loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', HOME: home }).temporal).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'dev',
    });
    expect(
      loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', HOME: home, TEMPORAL_NAMESPACE: 'x' }).temporal.namespace,
    ).toBe('x');
  });

  test("the profile's address decides whether payload encryption is required", () => {
    expect(configError(() => loadWorkerConfig({ ...WORKER_ENV, ...cloud() })).problems).toEqual([
      expect.stringMatching(
        /^PAYLOAD_ENCRYPTION_KEY or PAYLOAD_ENCRYPTION_KEY_FILE: required when .*tmprl\.cloud:7233/,
      ),
    ]);
  });

  test('a missing profile or file is a configuration problem naming it, reported with the others', () => {
    const error = configError(() =>
      loadWorkerConfig({ ...WORKER_ENV, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', METRICS_PORT: 'x' }),
    );
    expect(error.problems).toEqual([
      'METRICS_PORT: must be a port number (1-65535)',
      `TEMPORAL_PROFILE: no profile "prod" in ${file} (its profiles: default, cloud, broken)`,
    ]);
    const missing = path.join(dir, 'nowhere.toml');
    expect(
      configError(() => loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', TEMPORAL_CONFIG_FILE: missing })).problems,
    ).toEqual([`TEMPORAL_CONFIG_FILE: cannot read ${missing} (ENOENT)`]);
    expect(
      configError(() =>
        loadClientConfig({ ZENDESK_SUBDOMAIN: 'acme', TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'broken' }),
      ).problems,
    ).toEqual([
      `profile.broken.tls.server_ca_cert_path in ${file}: cannot read ${path.join(dir, 'missing.pem')} (ENOENT)`,
    ]);
  });

  test('a bad TLS variable does not hide the problems that depend on the address', () => {
    expect(configError(() => loadWorkerConfig({ ...WORKER_ENV, ...cloud(), TEMPORAL_TLS: 'yes' })).problems).toEqual([
      'TEMPORAL_TLS: must be true or false, got "yes"',
      expect.stringMatching(
        /^PAYLOAD_ENCRYPTION_KEY or PAYLOAD_ENCRYPTION_KEY_FILE: required when .*tmprl\.cloud:7233/,
      ),
    ]);
  });

  test("the profile's API key never appears in a problem, even when it is the one refused", () => {
    const error = configError(() =>
      loadWorkerConfig({ ...WORKER_ENV, ...cloud(), TEMPORAL_TLS: 'false', PAYLOAD_ENCRYPTION: 'off' }),
    );
    expect(error.problems).toEqual([
      expect.stringMatching(
        /^profile\.cloud\.api_key in .*: TEMPORAL_TLS is false, so the key would travel in plaintext to acme\.a1b2c\.tmprl\.cloud,/,
      ),
    ]);
    expect(everything(error)).not.toContain(PROFILE_KEY);
  });
});
