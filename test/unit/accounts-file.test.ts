import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadClientConfig, loadWorkerConfig } from '../../src/config';
import { runCliCaptured } from '../helpers/cli';

const ACME_TOKEN = 'acme-token-5d1e0b7a';
const GLOBEX_SECRET = 'globex-secret-e61f0c9b';
const INITECH_SECRET = 'initech-secret-0b8a7d35';
const UMBRELLA_TOKEN = 'umbrella-access-token-3c9e14a2';
const LOCAL_TOKEN = 'local-token-7b20c6e1';
const PASSWORD = 'file-pw-!9Qz';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-accounts-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function accountsFile(text: string, ext = 'yaml'): string {
  const file = path.join(dir, `accounts-${++fileCount}.${ext}`);
  fs.writeFileSync(file, text);
  return file;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const TWO_ACCOUNTS = `
accounts:
  - name: acme
    subdomain: acme
    email: ops@acme.test
    apiTokenEnv: ACME_ZENDESK_TOKEN
    api: cursor
    requestsPerMinute: 6
    streams: [tickets, users]
    usersRequestsPerMinute: 60
  - subdomain: globex
    oauthClientIdEnv: GLOBEX_ZENDESK_CLIENT_ID
    oauthClientSecretEnv: GLOBEX_ZENDESK_CLIENT_SECRET
    startTime: 1700000000
    pollIntervalSeconds: 600
  - baseUrl: http://127.0.0.1:8089/
    emailEnv: _127_0_0_1_8089_ZENDESK_EMAIL
    apiTokenEnv: _127_0_0_1_8089_ZENDESK_TOKEN
  - subdomain: initech
    oauthClientId: initech-exporter
    oauthClientSecretEnv: INITECH_ZENDESK_CLIENT_SECRET
    oauthScope: tickets:read  users:read organizations:read
    oauthTokenTtlSeconds: 172799
  - subdomain: umbrella
    oauthAccessTokenEnv: UMBRELLA_ZENDESK_ACCESS_TOKEN
`;

const CREDENTIALS = {
  ACME_ZENDESK_TOKEN: ACME_TOKEN,
  GLOBEX_ZENDESK_CLIENT_ID: 'globex-exporter',
  GLOBEX_ZENDESK_CLIENT_SECRET: GLOBEX_SECRET,
  _127_0_0_1_8089_ZENDESK_EMAIL: 'admin@example.com',
  _127_0_0_1_8089_ZENDESK_TOKEN: LOCAL_TOKEN,
  INITECH_ZENDESK_CLIENT_SECRET: INITECH_SECRET,
  UMBRELLA_ZENDESK_ACCESS_TOKEN: UMBRELLA_TOKEN,
};

const SECRETS = [ACME_TOKEN, GLOBEX_SECRET, INITECH_SECRET, UMBRELLA_TOKEN, LOCAL_TOKEN, PASSWORD];

describe('ZENDESK_ACCOUNTS_FILE', () => {
  test('the worker gets every account with the credentials its variables name, one way to sign in each', () => {
    const config = loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS), ...CREDENTIALS });
    expect(config.accounts.map((a) => a.clockToleranceSeconds)).toEqual([120, 120, 120, 120, 120]);
    expect(config.accounts.map(({ clockToleranceSeconds: _, ...account }) => account)).toEqual([
      {
        account: 'acme',
        baseUrl: 'https://acme.zendesk.com',
        auth: { mode: 'api_token', email: 'ops@acme.test', apiToken: ACME_TOKEN },
        timeoutMs: 60_000,
      },
      {
        account: 'globex',
        baseUrl: 'https://globex.zendesk.com',
        auth: {
          mode: 'oauth_client_credentials',
          clientId: 'globex-exporter',
          clientSecret: GLOBEX_SECRET,
          scope: 'read',
          tokenTtlSeconds: 3600,
        },
        timeoutMs: 60_000,
      },
      {
        account: '127.0.0.1:8089',
        baseUrl: 'http://127.0.0.1:8089',
        auth: { mode: 'api_token', email: 'admin@example.com', apiToken: LOCAL_TOKEN },
        timeoutMs: 60_000,
      },
      {
        account: 'initech',
        baseUrl: 'https://initech.zendesk.com',
        auth: {
          mode: 'oauth_client_credentials',
          clientId: 'initech-exporter',
          clientSecret: INITECH_SECRET,
          scope: 'tickets:read users:read organizations:read',
          tokenTtlSeconds: 172_799,
        },
        timeoutMs: 60_000,
      },
      {
        account: 'umbrella',
        baseUrl: 'https://umbrella.zendesk.com',
        auth: { mode: 'oauth_access_token', accessToken: UMBRELLA_TOKEN },
        timeoutMs: 60_000,
      },
    ]);
  });

  test('the single-account variables are not read with a file: each entry names its own', () => {
    const config = loadWorkerConfig({
      ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS),
      ...CREDENTIALS,
      ZENDESK_OAUTH_CLIENT_ID: 'elsewhere',
      ZENDESK_EMAIL: 'ops@elsewhere.test',
      ZENDESK_API_TOKEN: 'tok',
    });
    expect(config.accounts.map((a) => a.auth.mode)).toEqual([
      'api_token',
      'oauth_client_credentials',
      'api_token',
      'oauth_client_credentials',
      'oauth_access_token',
    ]);
  });

  test("without EXPORT_MIN_START_AGE_SECONDS each account gets its endpoint's minimum start age", () => {
    const config = loadClientConfig({ ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS) });
    // The accounts at <subdomain>.zendesk.com read the cursor endpoint unless told otherwise; the local one, exports.
    expect(config.accounts.map((a) => a.exportDefaults.api)).toEqual([
      'cursor',
      'cursor',
      'exports',
      'cursor',
      'cursor',
    ]);
    expect(config.accounts.map((a) => a.exportDefaults.minStartAgeSeconds)).toEqual([60, 60, 300, 60, 60]);
  });

  test('the client gets names and export settings (file first, then EXPORT_*), and needs no credentials', () => {
    const config = loadClientConfig({
      ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS),
      EXPORT_POLL_INTERVAL_SECONDS: '120',
      EXPORT_MIN_START_AGE_SECONDS: '400',
    });
    expect(config.accountsFile).toMatch(/accounts-\d+\.yaml$/);
    expect(config.accounts.map((a) => a.account)).toEqual(['acme', 'globex', '127.0.0.1:8089', 'initech', 'umbrella']);
    expect(JSON.stringify(config)).not.toMatch(/oauth|apiToken|secret/i);
    expect(config.accounts[0].exportDefaults).toEqual({
      api: 'cursor',
      startTime: undefined,
      pollIntervalSeconds: 120,
      minStartAgeSeconds: 400,
      requestsPerMinute: 6,
      perPage: 1000,
      streams: ['tickets', 'users'],
      usersRequestsPerMinute: 60,
      accountRequestsPerMinute: 30,
      referenceRefreshSeconds: 3600,
      supportTypeScope: 'all',
    });
    expect(config.accounts[1].exportDefaults).toEqual({
      api: 'cursor',
      startTime: 1_700_000_000,
      pollIntervalSeconds: 600,
      minStartAgeSeconds: 400,
      requestsPerMinute: 10,
      perPage: 1000,
      streams: ['tickets', 'ticket_events', 'users', 'organizations', 'ticket_metric_events', 'reference_lists'],
      usersRequestsPerMinute: 20,
      accountRequestsPerMinute: 30,
      referenceRefreshSeconds: 3600,
      supportTypeScope: 'all',
    });
  });

  test('JSON works too, as a bare list', () => {
    const file = accountsFile(
      JSON.stringify([
        { name: 'initech', subdomain: 'initech', email: 'a@initech.test', apiTokenEnv: 'INITECH_ZENDESK_TOKEN' },
      ]),
      'json',
    );
    const config = loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: file, INITECH_ZENDESK_TOKEN: 'tok' });
    expect(config.accounts).toMatchObject([{ account: 'initech', auth: { mode: 'api_token', apiToken: 'tok' } }]);
  });

  test('a missing credential variable is named, and no secret appears in any message', () => {
    const problems = problemsOf(() =>
      loadWorkerConfig({
        ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS),
        ACME_ZENDESK_TOKEN: ACME_TOKEN,
        INITECH_ZENDESK_CLIENT_SECRET: INITECH_SECRET,
        UMBRELLA_ZENDESK_ACCESS_TOKEN: ' ',
      }),
    );
    expect(problems).toEqual([
      'account "globex": oauthClientIdEnv names GLOBEX_ZENDESK_CLIENT_ID, which is not set here',
      'account "globex": the credential variable GLOBEX_ZENDESK_CLIENT_SECRET is not set in this environment',
      'account "127.0.0.1:8089": emailEnv names _127_0_0_1_8089_ZENDESK_EMAIL, which is not set here',
      'account "127.0.0.1:8089": the credential variable _127_0_0_1_8089_ZENDESK_TOKEN is not set in this environment',
      'account "umbrella": the credential variable UMBRELLA_ZENDESK_ACCESS_TOKEN is not set in this environment',
    ]);
    for (const secret of SECRETS) expect(problems.join('\n')).not.toContain(secret);
  });

  test.each([
    ['apiToken', ACME_TOKEN, 'apiTokenEnv'],
    ['api_token', ACME_TOKEN, 'apiTokenEnv'],
    ['token', UMBRELLA_TOKEN, 'oauthAccessTokenEnv \\(or apiTokenEnv\\)'],
    ['accessToken', UMBRELLA_TOKEN, 'oauthAccessTokenEnv'],
    ['access_token', UMBRELLA_TOKEN, 'oauthAccessTokenEnv'],
    ['clientSecret', GLOBEX_SECRET, 'oauthClientSecretEnv'],
    ['client_secret', GLOBEX_SECRET, 'oauthClientSecretEnv'],
    ['oauthClientSecret', GLOBEX_SECRET, 'oauthClientSecretEnv'],
  ])('a secret written into the file (%s) is refused, and the message does not repeat it', (key, secret, field) => {
    const file = accountsFile(`- subdomain: acme\n  oauthClientId: acme-exporter\n  ${key}: ${secret}\n`);
    const problems = problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }));
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `accounts\\[0\\]\\.${key}: secrets do not go in the accounts file; .* set ${field} to that variable's name`,
        ),
      ),
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });

  test('a secret under a key of its own (a refresh token, an API key) is an unknown field, not repeated', () => {
    const file = accountsFile(`- subdomain: acme\n  oauthClientSecretEnv: S\n  refresh_token: ${GLOBEX_SECRET}\n`);
    const problems = problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }));
    expect(problems).toEqual([expect.stringMatching(/accounts\[0\]: unknown field\(s\) refresh_token$/)]);
    expect(problems.join('\n')).not.toContain(GLOBEX_SECRET);
  });

  test('a password is refused: written in the file or named by passwordEnv, never repeated', () => {
    const file = accountsFile(`
- subdomain: acme
  email: ops@acme.test
  password: ${PASSWORD}
- subdomain: globex
  email: ops@globex.test
  passwordEnv: GLOBEX_ZENDESK_PASSWORD
`);
    const where = `ZENDESK_ACCOUNTS_FILE (${file})`;
    const problems = problemsOf(() =>
      loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: file, GLOBEX_ZENDESK_PASSWORD: PASSWORD }),
    );
    const removed =
      'Zendesk removed password access to its API on 2025-12-31; create an OAuth client (Admin Center → Apps and ' +
      'integrations → APIs → OAuth clients, kind confidential) and set oauthClientIdEnv and oauthClientSecretEnv';
    expect(problems).toEqual([
      `${where} accounts[0].password: secrets do not go in the accounts file, and ${removed} to the names of the ` +
        "worker's environment variables that hold them",
      `${where} accounts[1].passwordEnv: ${removed}`,
    ]);
    expect(problems.join('\n')).not.toContain(PASSWORD);
  });

  test('a client id may be written in the file (it is not a secret), or named by a variable, not both', () => {
    const file = accountsFile(`
- subdomain: acme
  oauthClientId: acme-exporter
  oauthClientIdEnv: ACME_ZENDESK_CLIENT_ID
  oauthClientSecretEnv: ACME_ZENDESK_CLIENT_SECRET
`);
    expect(problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }))).toEqual([
      `ZENDESK_ACCOUNTS_FILE (${file}) accounts[0]: oauthClientId and oauthClientIdEnv both given; keep one`,
    ]);
  });

  test('every way to sign in, and every mistake with one, is named with its place', () => {
    const file = accountsFile(`
accounts:
  - subdomain: none
  - subdomain: two
    oauthClientIdEnv: TWO_ZENDESK_ID
    oauthClientSecretEnv: TWO_ZENDESK_SECRET
    email: ops@two.test
    apiTokenEnv: TWO_ZENDESK_T
  - subdomain: three
    oauthClientSecretEnv: THREE_ZENDESK_SECRET
    oauthAccessTokenEnv: THREE_ZENDESK_AT
    apiTokenEnv: THREE_ZENDESK_T
  - subdomain: halfclient
    oauthClientIdEnv: HALFCLIENT_ZENDESK_ID
  - subdomain: halfsecret
    oauthClientSecretEnv: HALFSECRET_ZENDESK_SECRET
  - subdomain: halftoken
    apiTokenEnv: HALFTOKEN_ZENDESK_T
  - subdomain: halfemail
    emailEnv: HALFEMAIL_ZENDESK_E
  - subdomain: stray
    oauthAccessTokenEnv: STRAY_ZENDESK_AT
    oauthScope: read
    oauthTokenTtlSeconds: 3600
  - subdomain: bounds
    oauthClientIdEnv: BOUNDS_ZENDESK_ID
    oauthClientSecretEnv: BOUNDS_ZENDESK_SECRET
    oauthTokenTtlSeconds: 300
    oauthScope: read,write
  - subdomain: upper
    oauthClientIdEnv: UPPER_ZENDESK_ID
    oauthClientSecretEnv: UPPER_ZENDESK_SECRET
    oauthTokenTtlSeconds: 172800
  - subdomain: fraction
    oauthClientIdEnv: FRACTION_ZENDESK_ID
    oauthClientSecretEnv: FRACTION_ZENDESK_SECRET
    oauthTokenTtlSeconds: 3600.5
  - subdomain: text
    oauthClientIdEnv: TEXT_ZENDESK_ID
    oauthClientSecretEnv: TEXT_ZENDESK_SECRET
    oauthTokenTtlSeconds: "3600"
  - subdomain: badname
    oauthClientIdEnv: not a name
    oauthClientSecretEnv: BADNAME_ZENDESK_SECRET
  - subdomain: lowest
    oauthClientIdEnv: LOWEST_ZENDESK_ID
    oauthClientSecretEnv: LOWEST_ZENDESK_SECRET
    oauthTokenTtlSeconds: 301
`);
    const problems = problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }));
    const at = (i: number) => `ZENDESK_ACCOUNTS_FILE (${file}) accounts[${i}]`;
    const ttl = 'must be a whole number of seconds above 300 and below 172800 (the expires_in Zendesk accepts)';
    expect(problems).toEqual([
      `${at(0)}: a way to sign in is required: oauthClientIdEnv and oauthClientSecretEnv (OAuth client credentials), ` +
        'oauthAccessTokenEnv (a pre-issued OAuth access token), or email and apiTokenEnv (an API token, accepted ' +
        'until 2027-04-30)',
      `${at(1)}: oauthClientIdEnv/oauthClientSecretEnv and email/apiTokenEnv: one way to sign in per account, not 2; keep one`,
      `${at(2)}: oauthClientSecretEnv and oauthAccessTokenEnv and apiTokenEnv: one way to sign in per account, not 3; keep one`,
      `${at(3)}: oauthClientSecretEnv is required with oauthClientIdEnv`,
      `${at(4)}: oauthClientIdEnv (or oauthClientId) is required with oauthClientSecretEnv`,
      `${at(5)}: email (or emailEnv) is required with apiTokenEnv`,
      `${at(6)}: apiTokenEnv is required with emailEnv`,
      `${at(7)}: oauthScope and oauthTokenTtlSeconds apply only to OAuth client credentials (oauthClientIdEnv and oauthClientSecretEnv)`,
      `${at(8)}.oauthScope: must be OAuth scopes separated by spaces, such as "read" or "tickets:read users:read"`,
      `${at(8)}.oauthTokenTtlSeconds: ${ttl}`,
      `${at(9)}.oauthTokenTtlSeconds: ${ttl}`,
      `${at(10)}.oauthTokenTtlSeconds: ${ttl}`,
      `${at(11)}.oauthTokenTtlSeconds: ${ttl}`,
      `${at(12)}.oauthClientIdEnv: must be the name of an environment variable`,
    ]);
  });

  test('every problem in the file is named with its place', () => {
    const file = accountsFile(`
accounts:
  - name: acme
    subdomain: acme
    email: ops@acme.test
    apiTokenEnv: ACME_ZENDESK_T
    api: search
  - name: acme
    subdomain: acme2
    email: ops@acme.test
    apiTokenEnv: ACME_ZENDESK_T
  - subdomain: bad.subdomain
    email: not-an-email
    apiTokenEnv: 1NOT_A_NAME
    perPage: 5000
    colour: blue
  - email: ops@acme.test
`);
    const problems = problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }));
    const where = `ZENDESK_ACCOUNTS_FILE (${file})`;
    expect(problems).toEqual([
      `${where} accounts[0].api: must be one of exports, incremental, cursor`,
      `${where} accounts[2].subdomain: must be a Zendesk subdomain such as "acme"`,
      `${where} accounts[2].email: must be an email address`,
      `${where} accounts[2].apiTokenEnv: must be the name of an environment variable`,
      `${where} accounts[2].perPage: must be a whole number from 1 to 1000`,
      `${where} accounts[2]: unknown field(s) colour`,
      `${where} accounts[3]: subdomain or baseUrl is required`,
      `${where} accounts[3]: apiTokenEnv is required with email`,
    ]);
  });

  test('two accounts with one name are refused', () => {
    const entry = 'subdomain: acme\n    email: a@acme.test\n    apiTokenEnv: ACME_ZENDESK_T';
    const file = accountsFile(`accounts:\n  - ${entry}\n  - ${entry}\n`);
    expect(problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }))).toEqual([
      `ZENDESK_ACCOUNTS_FILE (${file}): the account name "acme" appears twice`,
    ]);
  });

  test.each([
    ['an unreadable file', null, /cannot read it \(ENOENT\)/],
    ['broken YAML', 'accounts: [\n  - {', /not valid JSON or YAML/],
    ['a scalar', '42', /must be a list of accounts, or an object with an "accounts" list/],
    ['an empty list', 'accounts: []', /lists no accounts/],
  ])('%s is one clear problem', (_, text, message) => {
    const file = text === null ? path.join(dir, 'missing.yaml') : accountsFile(text);
    const problems = problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }));
    expect(problems).toEqual([expect.stringMatching(message)]);
    expect(problems[0]).toContain(`ZENDESK_ACCOUNTS_FILE (${file})`);
  });

  test('the file and ZENDESK_SUBDOMAIN together are refused', () => {
    const problems = problemsOf(() =>
      loadClientConfig({ ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS), ZENDESK_SUBDOMAIN: 'acme' }),
    );
    expect(problems).toEqual([
      'ZENDESK_ACCOUNTS_FILE and ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL: set one or the other, not both',
    ]);
  });

  test("a credential variable cannot be one of the worker's own settings", () => {
    const TEMPORAL_KEY = 'tmprl-key-0c7d1e9a';
    const own = [
      ['apiTokenEnv', 'TEMPORAL_API_KEY'],
      ['apiTokenEnv', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
      ['oauthAccessTokenEnv', 'SINK_URL'],
      ['oauthClientSecretEnv', 'PAYLOAD_ENCRYPTION_KEY'],
      ['apiTokenEnv', 'CODEC_SERVER_TOKEN'],
      ['oauthAccessTokenEnv', 'ZENDESK_HTTPS_PROXY'],
      ['oauthClientSecretEnv', 'ZENDESK_OAUTH_CLIENT_SECRET'],
      ['apiTokenEnv', 'PGPASSWORD'],
      ['oauthAccessTokenEnv', 'https_proxy'],
      ['emailEnv', 'temporal_address'],
    ];
    const file = accountsFile(
      own
        .map(([field, variable], i) => {
          const rest =
            field === 'oauthClientSecretEnv'
              ? 'oauthClientId: c'
              : field === 'emailEnv'
                ? `apiTokenEnv: A${i}_ZENDESK_TOKEN`
                : field === 'apiTokenEnv'
                  ? 'email: ops@acme.test'
                  : '';
          return `- name: a${i}\n  subdomain: a${i}\n  ${field}: ${variable}\n${rest ? `  ${rest}\n` : ''}`;
        })
        .join(''),
    );
    const problems = problemsOf(() =>
      loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: file, TEMPORAL_API_KEY: TEMPORAL_KEY, A9_ZENDESK_TOKEN: 't' }),
    );
    expect(problems).toEqual(
      own.map(
        ([field, variable], i) =>
          `ZENDESK_ACCOUNTS_FILE (${file}) accounts[${i}].${field}: account "a${i}" names ${variable}, one of this ` +
          `worker's own settings, not a Zendesk credential: name a variable of its own (A${i}_ZENDESK_…)`,
      ),
    );
    expect(problems.join('\n')).not.toContain(TEMPORAL_KEY);
  });

  describe('each account names only variables of its own: <ACCOUNT>_ZENDESK_…', () => {
    const PG_PASSWORD = 'pg-pw-4e1d9c0b77';
    const DEPLOY_KEY = 'deploy-key-8a2f6e13';
    const HOOLI_ID = 'hooli-exporter-c3d1';
    const HOOLI_SECRET = 'hooli-secret-91b7e2d4';
    const INITECH_TOKEN = 'initech-token-62fa0e5c';
    const ENV = {
      ACME_ZENDESK_API_TOKEN: ACME_TOKEN,
      PGPASSWORD: PG_PASSWORD,
      INITECH_ZENDESK_API_TOKEN: INITECH_TOKEN,
      DEPLOY_KEY,
      hooli_zendesk_client_id: HOOLI_ID,
      HOOLI_ZENDESK_CLIENT_SECRET: HOOLI_SECRET,
      GLOBEX_ZENDESK_API_TOKEN: GLOBEX_SECRET,
    };
    const VALUES = [ACME_TOKEN, PG_PASSWORD, INITECH_TOKEN, DEPLOY_KEY, HOOLI_ID, HOOLI_SECRET, GLOBEX_SECRET];
    const MIXED = `
accounts:
  - subdomain: acme
    email: ops@acme.test
    apiTokenEnv: ACME_ZENDESK_API_TOKEN
  - subdomain: globex
    email: ops@globex.test
    apiTokenEnv: ACME_ZENDESK_API_TOKEN
  - subdomain: initech
    emailEnv: PGPASSWORD
    apiTokenEnv: INITECH_ZENDESK_API_TOKEN
  - subdomain: umbrella
    oauthAccessTokenEnv: DEPLOY_KEY
  - subdomain: hooli
    oauthClientIdEnv: hooli_zendesk_client_id
    oauthClientSecretEnv: HOOLI_ZENDESK_CLIENT_SECRET
`;

    test("another account's variable, the database password or an unrelated one is refused, naming account, field and variable", () => {
      const file = accountsFile(MIXED);
      const at = (i: number) => `ZENDESK_ACCOUNTS_FILE (${file}) accounts[${i}]`;
      const problems = problemsOf(() => loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: file, ...ENV }));
      expect(problems).toEqual([
        `${at(1)}.apiTokenEnv: account "globex" names ACME_ZENDESK_API_TOKEN, a variable of account "acme": ` +
          'the variables an account names start with its name in capitals and _ZENDESK_ (GLOBEX_ZENDESK_…)',
        `${at(2)}.emailEnv: account "initech" names PGPASSWORD, one of this worker's own settings, not a Zendesk ` +
          'credential: name a variable of its own (INITECH_ZENDESK_…)',
        `${at(3)}.oauthAccessTokenEnv: account "umbrella" names DEPLOY_KEY, not a variable of its own: the variables ` +
          'an account names start with its name in capitals and _ZENDESK_ (UMBRELLA_ZENDESK_…)',
        `${at(4)}.oauthClientIdEnv: account "hooli" names hooli_zendesk_client_id, not a variable of its own: the ` +
          'variables an account names start with its name in capitals and _ZENDESK_ (HOOLI_ZENDESK_…)',
      ]);
      for (const value of VALUES) expect(problems.join('\n')).not.toContain(value);
      // The CLI reads the same file: the same problems, exit code 2, and no value.
      expect(problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }))).toEqual(problems);
    });

    test('the CLI stops with exit code 2, naming the problem and no value', async () => {
      const result = await runCliCaptured(['status', '--all'], { ZENDESK_ACCOUNTS_FILE: accountsFile(MIXED), ...ENV });
      expect(result.code).toBe(2);
      expect(result.err).toContain('account "globex" names ACME_ZENDESK_API_TOKEN, a variable of account "acme"');
      for (const value of VALUES) expect(result.output).not.toContain(value);
    });

    test('every field naming a variable follows the rule; names that are not letters become _', () => {
      const file = accountsFile(`
- { name: acme-eu, subdomain: acme, oauthClientIdEnv: ACME_EU_ZENDESK_CLIENT_ID, oauthClientSecretEnv: ACME_EU_ZENDESK_SECRET }
- { subdomain: globex, emailEnv: GLOBEX_ZENDESK_EMAIL, apiTokenEnv: GLOBEX_ZENDESK_API_TOKEN }
- { baseUrl: "http://127.0.0.1:8089", oauthAccessTokenEnv: _127_0_0_1_8089_ZENDESK_ACCESS_TOKEN }
- { baseUrl: "https://support.initech.example", email: ops@initech.test, apiTokenEnv: SUPPORT_INITECH_EXAMPLE_ZENDESK_T }
`);
      const env = {
        ACME_EU_ZENDESK_CLIENT_ID: 'acme-eu-exporter',
        ACME_EU_ZENDESK_SECRET: 'acme-eu-secret',
        GLOBEX_ZENDESK_EMAIL: 'ops@globex.test',
        GLOBEX_ZENDESK_API_TOKEN: GLOBEX_SECRET,
        _127_0_0_1_8089_ZENDESK_ACCESS_TOKEN: UMBRELLA_TOKEN,
        SUPPORT_INITECH_EXAMPLE_ZENDESK_T: INITECH_SECRET,
      };
      const config = loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: file, ...env });
      expect(config.accounts.map((a) => [a.account, a.auth.mode])).toEqual([
        ['acme-eu', 'oauth_client_credentials'],
        ['globex', 'api_token'],
        ['127.0.0.1:8089', 'oauth_access_token'],
        ['support.initech.example', 'api_token'],
      ]);
    });

    test('an account cannot reach into a longer prefix of another, and two accounts cannot share a prefix', () => {
      const file = accountsFile(`
- { name: acme, subdomain: acme, email: ops@acme.test, apiTokenEnv: ACME_ZENDESK_EU_ZENDESK_API_TOKEN }
- { name: acme.zendesk.eu, subdomain: acme-eu, email: ops@acme.test, apiTokenEnv: ACME_ZENDESK_EU_ZENDESK_API_TOKEN }
- { name: globex-eu, subdomain: globex, email: ops@globex.test, apiTokenEnv: GLOBEX_EU_ZENDESK_API_TOKEN }
- { name: globex.eu, subdomain: globex2, email: ops@globex.test, apiTokenEnv: GLOBEX_EU_ZENDESK_TOKEN }
`);
      const where = `ZENDESK_ACCOUNTS_FILE (${file})`;
      expect(problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }))).toEqual([
        `${where}: accounts "globex-eu" and "globex.eu" would both name variables starting with GLOBEX_EU_ZENDESK_, ` +
          "so each could read the other's: rename one",
        `${where} accounts[0].apiTokenEnv: account "acme" names ACME_ZENDESK_EU_ZENDESK_API_TOKEN, a variable of ` +
          'account "acme.zendesk.eu": the variables an account names start with its name in capitals and _ZENDESK_ ' +
          '(ACME_ZENDESK_…)',
      ]);
    });
  });

  test('an http:// baseUrl is refused unless its host is loopback, naming the host', () => {
    const file = accountsFile(`
- { name: plain, baseUrl: "http://zendesk.internal.example:8080", email: a@b.test, apiTokenEnv: PLAIN_ZENDESK_T }
- { name: v4, baseUrl: "http://127.0.0.2:8080", email: a@b.test, apiTokenEnv: V4_ZENDESK_T }
- { name: v6, baseUrl: "http://[::1]:8080", email: a@b.test, apiTokenEnv: V6_ZENDESK_T }
- { name: name, baseUrl: "http://localhost:8080", email: a@b.test, apiTokenEnv: NAME_ZENDESK_T }
- { name: tls, baseUrl: "https://zendesk.internal.example", email: a@b.test, apiTokenEnv: TLS_ZENDESK_T }
`);
    const tokens = { V4_ZENDESK_T: 't', V6_ZENDESK_T: 't', NAME_ZENDESK_T: 't' };
    expect(problemsOf(() => loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: file, ...tokens }))).toEqual([
      expect.stringMatching(
        /accounts\[0\]\.baseUrl: http:\/\/ would send credentials in plaintext to zendesk\.internal\.example: use https:\/\//,
      ),
    ]);
    const loopbackOnly = accountsFile(`
- { name: v4, baseUrl: "http://127.0.0.2:8080", email: a@b.test, apiTokenEnv: V4_ZENDESK_T }
- { name: v6, baseUrl: "http://[::1]:8080", email: a@b.test, apiTokenEnv: V6_ZENDESK_T }
- { name: name, baseUrl: "http://localhost:8080", email: a@b.test, apiTokenEnv: NAME_ZENDESK_T }
`);
    expect(loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: loopbackOnly, ...tokens }).accounts.map((a) => a.baseUrl)).toEqual(
      ['http://127.0.0.2:8080', 'http://[::1]:8080', 'http://localhost:8080'],
    );
  });
});
