import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { postgresBinDir } from '../../bench/chaos/private-postgres';
import {
  chromiumPath,
  DEFAULT_CHROMIUM_PATH,
  DEFAULT_TEST_POSTGRES_URL,
  findTemporalCli,
  missingPrerequisites,
  postgresAdminUrl,
  requirePrerequisites,
  testPostgresUrl,
} from '../helpers/prerequisites';

// The checker the workflow and integration layers' global setups run: each missing part named, with how to get it.
describe('test prerequisites', () => {
  let dir: string;
  let emptyDir: string;
  /** An environment in which nothing is found: no PATH entries with programs, no .tools/bin (root: `dir`). */
  let bare: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-prerequisites-'));
    emptyDir = path.join(dir, 'empty');
    fs.mkdirSync(emptyDir);
    bare = { PATH: emptyDir };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function executable(file: string, script = '#!/bin/sh\nexit 0\n'): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, script, { mode: 0o755 });
    return file;
  }

  async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  test('the defaults, and the variables that change them', () => {
    expect(testPostgresUrl({})).toBe(DEFAULT_TEST_POSTGRES_URL);
    expect(testPostgresUrl({ TEST_POSTGRES_URL: 'postgres://u@db:6543/t' })).toBe('postgres://u@db:6543/t');
    expect(postgresAdminUrl({})).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(postgresAdminUrl({ TEST_POSTGRES_URL: 'postgres://u:pw@db:6543/t' })).toBe(
      'postgres://u:pw@db:6543/postgres',
    );
    expect(postgresAdminUrl({ BENCH_POSTGRES_URL: 'postgres://a@b/c' })).toBe('postgres://a@b/c');
    expect(chromiumPath({})).toBe(DEFAULT_CHROMIUM_PATH);
    expect(chromiumPath({ CHROMIUM_PATH: '/opt/chrome' })).toBe('/opt/chrome');
  });

  test('PostgreSQL on a closed port: where, why, and how to start it; no password shown', async () => {
    const url = `postgres://postgres:s3cret-pw@127.0.0.1:${await closedPort()}/test`;
    const problems = await missingPrerequisites(['postgres'], { env: { TEST_POSTGRES_URL: url } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`PostgreSQL is not reachable at ${url.replace('s3cret-pw', '***')} (`);
    expect(problems[0]).toContain('ECONNREFUSED');
    expect(problems[0]).toMatch(/start it \(pg_ctlcluster \S+ main start, as \.ci\/run does\)/);
    expect(problems[0]).toContain('or set TEST_POSTGRES_URL');
    expect(problems[0]).not.toContain('s3cret-pw');
  });

  test('PostgreSQL without the database: how to create it', async () => {
    // A server that answers every startup as PostgreSQL does for a database that does not exist (SQLSTATE 3D000).
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        const fields = ['SFATAL', 'VFATAL', 'C3D000', 'Mdatabase "nope" does not exist'];
        const body = Buffer.concat([...fields.map((f) => Buffer.from(`${f}\0`)), Buffer.from([0])]);
        const header = Buffer.alloc(5);
        header.write('E');
        header.writeInt32BE(body.length + 4, 1);
        socket.end(Buffer.concat([header, body]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const url = `postgres://tester@127.0.0.1:${port}/nope`;
      const problems = await missingPrerequisites(['postgres'], { env: { TEST_POSTGRES_URL: url } });
      expect(problems).toEqual([
        `PostgreSQL at ${url} has no database "nope" (database "nope" does not exist): create it ` +
          `(createdb -h 127.0.0.1 -p ${port} -U tester nope) or set TEST_POSTGRES_URL to a database the tests may write to`,
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('Chromium: missing at CHROMIUM_PATH, then there', async () => {
    const file = path.join(dir, 'chromium');
    expect(await missingPrerequisites(['chromium'], { env: { CHROMIUM_PATH: file } })).toEqual([
      `Chromium is not at ${file} (the Web UI test drives it): apt-get install -y chromium (as .ci/run does), ` +
        'or set CHROMIUM_PATH to a Chromium or Chrome binary',
    ]);
    executable(file);
    expect(await missingPrerequisites(['chromium'], { env: { CHROMIUM_PATH: file } })).toEqual([]);
  });

  test('the Temporal CLI: nowhere, then at TEMPORAL_CLI_PATH, in the install dir or on PATH', async () => {
    const given = path.join(dir, 'missing/temporal');
    const env = { ...bare, TEMPORAL_CLI_PATH: given };
    expect(findTemporalCli({ env, root: dir })).toBeUndefined();
    expect(await missingPrerequisites(['temporal-cli'], { env, root: dir })).toEqual([
      `the Temporal CLI (it runs the dev server) was not found at TEMPORAL_CLI_PATH (${given}: does not run), ` +
        '.tools/bin/temporal or on PATH: get it with npm run install-temporal (it downloads the release from ' +
        'github.com, else builds it with Go >= 1.25), or install it (https://docs.temporal.io/cli#install) and set ' +
        'TEMPORAL_CLI_PATH=/path/to/temporal',
    ]);
    // A file that is there but does not run is no CLI either.
    executable(given, '#!/bin/sh\nexit 3\n');
    expect(findTemporalCli({ env, root: dir })).toBeUndefined();
    const onPath = executable(path.join(dir, 'bin/temporal'));
    expect(findTemporalCli({ env: { ...env, PATH: `${emptyDir}:${path.dirname(onPath)}` }, root: dir })).toBe(onPath);
    const tools = executable(path.join(dir, '.tools/bin/temporal'));
    expect(findTemporalCli({ env, root: dir })).toBe(tools);
    // TEMPORAL_CLI_INSTALL_DIR moves the install directory, as it does for scripts/install-temporal.sh.
    const installed = path.join(dir, 'install');
    const moved = { ...env, TEMPORAL_CLI_INSTALL_DIR: installed };
    expect(findTemporalCli({ env: moved, root: dir })).toBeUndefined();
    expect(await missingPrerequisites(['temporal-cli'], { env: moved, root: dir })).toEqual([
      expect.stringContaining(`, ${installed}/temporal or on PATH: `),
    ]);
    const inInstallDir = executable(path.join(installed, 'temporal'));
    expect(findTemporalCli({ env: moved, root: dir })).toBe(inInstallDir);
    executable(given);
    expect(findTemporalCli({ env, root: dir })).toBe(given);
    expect(await missingPrerequisites(['temporal-cli'], { env, root: dir })).toEqual([]);
  });

  test('the suites run the CLI findTemporalCli finds, never one at a fixed path', () => {
    // A suite that joins .tools/bin/temporal itself fails wherever the CLI came from TEMPORAL_CLI_PATH or PATH.
    const testRoot = path.join(__dirname, '..');
    const suites = fs
      .readdirSync(testRoot, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.startsWith('unit/') && file !== 'helpers/prerequisites.ts');
    expect(suites.length).toBeGreaterThan(20);
    const fixed = /(['"`])\.tools\/bin\/temporal\1/;
    const offenders = suites.filter((file) => fixed.test(fs.readFileSync(path.join(testRoot, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  test('the Temporal CLI is refused where npm run test:unit forbids it, even when it is there', async () => {
    const cli = executable(path.join(dir, 'temporal'));
    const env = { ...bare, TEMPORAL_CLI_PATH: cli, TEMPORAL_CLI_FORBIDDEN: '1' };
    expect(await missingPrerequisites(['temporal-cli'], { env, root: dir })).toEqual([
      expect.stringContaining('the Temporal CLI is forbidden in this run (TEMPORAL_CLI_FORBIDDEN is set'),
    ]);
  });

  test("initdb: PostgreSQL's server programs missing, then found", async () => {
    const libDir = path.join(dir, 'postgresql');
    expect(await missingPrerequisites(['initdb'], { env: bare, postgresLibDir: libDir })).toEqual([
      `PostgreSQL's server programs (initdb, pg_ctl) are not in ${libDir}/<version>/bin nor pg_config --bindir ` +
        '(the chaos test runs a PostgreSQL of its own): apt-get install -y postgresql',
    ]);
    for (const version of ['13', '15']) {
      for (const program of ['initdb', 'pg_ctl']) executable(path.join(libDir, version, 'bin', program));
    }
    expect(postgresBinDir(libDir, bare)).toBe(path.join(libDir, '15/bin'));
  });

  test('one message names every missing part, and says that CI fails on it', async () => {
    const options = { env: { ...bare, CHROMIUM_PATH: path.join(dir, 'no-chromium'), CI: 'true' }, root: dir };
    const failure = requirePrerequisites('The integration layer', ['temporal-cli', 'chromium'], options);
    await expect(failure).rejects.toThrow(
      /^The integration layer cannot run: 2 prerequisites are missing\. CI runs every test, so this fails the run\.\n {2}- the Temporal CLI .*\n {2}- Chromium is not at .*no-chromium/,
    );
    await expect(
      requirePrerequisites('The workflow layer', ['temporal-cli'], { env: bare, root: dir }),
    ).rejects.toThrow(/^The workflow layer cannot run: a prerequisite is missing\.\n {2}- the Temporal CLI/);
    executable(path.join(dir, '.tools/bin/temporal'));
    await expect(requirePrerequisites('The workflow layer', ['temporal-cli'], { env: bare, root: dir })).resolves.toBe(
      undefined,
    );
  });
});
