import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadClientConfig, loadWorkerConfig } from '../../src/config';

const ACME_TOKEN = 'acme-token-5d1e0b7a';
const GLOBEX_PASSWORD = 'globex-pw-!9Qz';

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
  - subdomain: globex
    emailEnv: GLOBEX_ZENDESK_EMAIL
    passwordEnv: GLOBEX_ZENDESK_PASSWORD
    startTime: 1700000000
    pollIntervalSeconds: 600
  - baseUrl: http://127.0.0.1:8089/
    email: admin@example.com
    apiTokenEnv: ACME_ZENDESK_TOKEN
`;

const CREDENTIALS = {
  ACME_ZENDESK_TOKEN: ACME_TOKEN,
  GLOBEX_ZENDESK_EMAIL: 'ops@globex.test',
  GLOBEX_ZENDESK_PASSWORD: GLOBEX_PASSWORD,
};

describe('ZENDESK_ACCOUNTS_FILE', () => {
  test('the worker gets every account with the credentials its variables name', () => {
    const config = loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS), ...CREDENTIALS });
    expect(config.accounts).toEqual([
      {
        account: 'acme',
        baseUrl: 'https://acme.zendesk.com',
        email: 'ops@acme.test',
        apiToken: ACME_TOKEN,
        password: undefined,
        timeoutMs: 60_000,
      },
      {
        account: 'globex',
        baseUrl: 'https://globex.zendesk.com',
        email: 'ops@globex.test',
        apiToken: undefined,
        password: GLOBEX_PASSWORD,
        timeoutMs: 60_000,
      },
      {
        account: '127.0.0.1:8089',
        baseUrl: 'http://127.0.0.1:8089',
        email: 'admin@example.com',
        apiToken: ACME_TOKEN,
        password: undefined,
        timeoutMs: 60_000,
      },
    ]);
  });

  test("without EXPORT_MIN_START_AGE_SECONDS each account gets its endpoint's minimum start age", () => {
    const config = loadClientConfig({ ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS) });
    expect(config.accounts.map((a) => a.exportDefaults.minStartAgeSeconds)).toEqual([60, 300, 300]);
  });

  test('the client gets names and export settings (file first, then EXPORT_*), and needs no credentials', () => {
    const config = loadClientConfig({
      ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS),
      EXPORT_POLL_INTERVAL_SECONDS: '120',
      EXPORT_MIN_START_AGE_SECONDS: '400',
    });
    expect(config.accountsFile).toMatch(/accounts-\d+\.yaml$/);
    expect(config.accounts.map((a) => a.account)).toEqual(['acme', 'globex', '127.0.0.1:8089']);
    expect(config.accounts[0].exportDefaults).toEqual({
      api: 'cursor',
      startTime: undefined,
      pollIntervalSeconds: 120,
      minStartAgeSeconds: 400,
      requestsPerMinute: 6,
      perPage: 1000,
    });
    expect(config.accounts[1].exportDefaults).toEqual({
      api: 'exports',
      startTime: 1_700_000_000,
      pollIntervalSeconds: 600,
      minStartAgeSeconds: 400,
      requestsPerMinute: 10,
      perPage: 1000,
    });
  });

  test('JSON works too, as a bare list', () => {
    const file = accountsFile(
      JSON.stringify([{ name: 'initech', subdomain: 'initech', email: 'a@initech.test', apiTokenEnv: 'T' }]),
      'json',
    );
    const config = loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: file, T: 'tok' });
    expect(config.accounts).toMatchObject([{ account: 'initech', apiToken: 'tok' }]);
  });

  test('a missing credential variable is named, and no secret appears in any message', () => {
    const problems = problemsOf(() =>
      loadWorkerConfig({ ZENDESK_ACCOUNTS_FILE: accountsFile(TWO_ACCOUNTS), ACME_ZENDESK_TOKEN: ACME_TOKEN }),
    );
    expect(problems).toEqual([
      'account "globex": emailEnv names GLOBEX_ZENDESK_EMAIL, which is not set here',
      'account "globex": the credential variable GLOBEX_ZENDESK_PASSWORD is not set in this environment',
    ]);
    expect(problems.join('\n')).not.toContain(ACME_TOKEN);
  });

  test('a secret written into the file is refused, and the message does not repeat it', () => {
    const file = accountsFile(`- subdomain: acme\n  email: a@acme.test\n  apiToken: ${ACME_TOKEN}\n`);
    const problems = problemsOf(() => loadClientConfig({ ZENDESK_ACCOUNTS_FILE: file }));
    expect(problems).toEqual([
      expect.stringMatching(
        /accounts\[0\]\.apiToken: secrets do not go in the accounts file; .* set apiTokenEnv to that variable's name/,
      ),
    ]);
    expect(problems.join('\n')).not.toContain(ACME_TOKEN);
  });

  test('every problem in the file is named with its place', () => {
    const file = accountsFile(`
accounts:
  - name: acme
    subdomain: acme
    email: ops@acme.test
    apiTokenEnv: T
    api: search
  - name: acme
    subdomain: acme2
    email: ops@acme.test
    apiTokenEnv: T
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
      `${where} accounts[3]: apiTokenEnv or passwordEnv is required`,
    ]);
  });

  test('two accounts with one name are refused', () => {
    const entry = 'subdomain: acme\n    email: a@acme.test\n    apiTokenEnv: T';
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
});
