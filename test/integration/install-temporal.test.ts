// scripts/install-temporal.sh as its callers run it (src/dev-server.ts, scripts/dev-server.sh, .ci/run): `bash` in a
// child process, stdout read as the CLI's path. The release archive comes from a local HTTP server (a real tar.gz made
// with tar, holding a `temporal` shell script, and a checksums.txt), through TEMPORAL_CLI_RELEASE_URL; "no network"
// is a closed local port or a host that cannot resolve. Every run gets an environment of its own: no
// TEMPORAL_CLI_PATH, HOME, XDG_CACHE_HOME, TMPDIR and the install directory in a temporary directory, and a PATH
// with every directory that holds `go` or `temporal` replaced by a copy of its links without them (as .ci/run does
// for the unit layer), GOROOT pointing nowhere, so the Go at /usr/local/go is out of reach too.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev-server';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/install-temporal.sh');
const VERSION = '1.5.1';
const OS = ({ linux: 'linux', darwin: 'darwin' } as Record<string, string>)[process.platform];
const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
const ARCHIVE = `temporal_cli_${VERSION}_${OS}_${ARCH}.tar.gz`;
const FAKE_VERSION = `temporal version ${VERSION} (test)`;
const FAILED = `The Temporal CLI v${VERSION} could not be found or installed. Tried:\n`;

let work: string;
let cleanPath: string;
let archive: Buffer;
let archiveSha: string;

/** `dir`'s executables, less those named in `drop`: a directory of links to them. */
function linksWithout(dir: string, drop: string[]): string {
  const copy = fs.mkdtempSync(path.join(work, 'path-'));
  for (const name of fs.readdirSync(dir)) {
    if (!drop.includes(name)) fs.symlinkSync(path.join(dir, name), path.join(copy, name));
  }
  return copy;
}

function executable(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o755 });
  return file;
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-install-temporal-'));
  const drop = ['go', 'temporal'];
  cleanPath = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && fs.existsSync(dir))
    .map((dir) => (drop.some((name) => fs.existsSync(path.join(dir, name))) ? linksWithout(dir, drop) : dir))
    .join(path.delimiter);
  // The release archive as goreleaser lays it out: `temporal` and LICENSE at the top.
  const content = path.join(work, 'archive-content');
  executable(path.join(content, 'temporal'), `#!/bin/sh\necho "${FAKE_VERSION}"\n`);
  fs.writeFileSync(path.join(content, 'LICENSE'), 'MIT\n');
  const file = path.join(work, ARCHIVE);
  execFileSync('tar', ['-czf', file, '-C', content, 'temporal', 'LICENSE']);
  archive = fs.readFileSync(file);
  archiveSha = createHash('sha256').update(archive).digest('hex');
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** checksums.txt with `sha` on the archive's line, between lines for other assets. */
function checksums(sha: string): string {
  const other = createHash('sha256').update('another asset').digest('hex');
  return [
    `${other}  temporal_cli_${VERSION}_windows_amd64.zip`,
    `${other}  x${ARCHIVE}`,
    `${sha}  ${ARCHIVE}`,
    `${other}  temporal_cli_${VERSION}_${OS}_${ARCH === 'amd64' ? 'arm64' : 'amd64'}.tar.gz`,
    '',
  ].join('\n');
}

interface ReleaseServer {
  url: string;
  /** The paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A release download server: /v1.5.1/<asset> for each of `assets`, 404 for anything else. */
async function releaseServer(assets: Record<string, Buffer | string>): Promise<ReleaseServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const asset = req.url?.startsWith(`/v${VERSION}/`) ? assets[req.url.slice(`/v${VERSION}/`.length)] : undefined;
    if (asset === undefined) {
      res.writeHead(404).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(asset);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs the script (or a copy of it) with `env` and nothing else in its environment. */
function install(env: Record<string, string>, script = SCRIPT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 }),
    );
  });
}

describe('scripts/install-temporal.sh', () => {
  let dir: string;
  let installDir: string;
  let tmpDir: string;
  let server: ReleaseServer | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(work, 'case-'));
    installDir = path.join(dir, 'install/bin');
    tmpDir = path.join(dir, 'tmp');
    fs.mkdirSync(tmpDir);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** The environment of a run: nothing inherited; the release at `releaseUrl`. */
  function env(releaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: cleanPath,
      HOME: path.join(dir, 'home'),
      XDG_CACHE_HOME: path.join(dir, 'cache'),
      TMPDIR: tmpDir,
      GOROOT: path.join(dir, 'no-go'),
      TEMPORAL_CLI_INSTALL_DIR: installDir,
      TEMPORAL_CLI_RELEASE_URL: releaseUrl,
      ...extra,
    };
  }

  test('the environment has no Temporal CLI and no Go', () => {
    const found = execFileSync('bash', ['-c', 'command -v go temporal || true'], { env: env('') }).toString();
    expect(found).toBe('');
  });

  test('a good archive: its temporal installed, the path alone on stdout, nothing left behind', async () => {
    server = await releaseServer({ [ARCHIVE]: archive, 'checksums.txt': checksums(archiveSha) });
    const run = await install(env(server.url));
    expect(run).toMatchObject({ code: 0, stdout: `${installDir}/temporal\n` });
    expect(server.requests).toEqual([`/v${VERSION}/checksums.txt`, `/v${VERSION}/${ARCHIVE}`]);
    expect(execFileSync(`${installDir}/temporal`, ['--version']).toString().trim()).toBe(FAKE_VERSION);
    // Only the binary (no LICENSE, no temporary copy) in the install directory; the download directory removed.
    expect(fs.readdirSync(installDir)).toEqual(['temporal']);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
    expect(run.stderr).toContain(`Installed the Temporal CLI v${VERSION} from the release archive into ${installDir}`);
  });

  test('a wrong checksum: the archive refused, and without Go one message naming the mismatch', async () => {
    const wrong = createHash('sha256').update('not the archive').digest('hex');
    server = await releaseServer({ [ARCHIVE]: archive, 'checksums.txt': checksums(wrong) });
    const run = await install(env(server.url));
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(server.requests).toEqual([`/v${VERSION}/checksums.txt`, `/v${VERSION}/${ARCHIVE}`]);
    expect(fs.existsSync(installDir) ? fs.readdirSync(installDir) : []).toEqual([]);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
    // A progress line, then the one message.
    const [progress, ...message] = run.stderr.split('\n');
    expect(progress).toBe(`Downloading the Temporal CLI v${VERSION} from ${server.url}/v${VERSION}/${ARCHIVE} ...`);
    expect(message.join('\n')).toMatch(new RegExp(`^${FAILED}`));
    expect(run.stderr).toContain(
      `  - download: checksum mismatch, archive refused (${ARCHIVE} has sha256 ${archiveSha}, ` +
        `checksums.txt says ${wrong})\n`,
    );
    expect(run.stderr).toContain('  - go install: Go is not installed');
    expect(run.stderr).toContain('install Go >= 1.25 (https://go.dev/dl/)');
    expect(run.stderr.split(FAILED)).toHaveLength(2);
  });

  test('a checksums.txt without a line for the archive: refused before the archive is fetched', async () => {
    server = await releaseServer({ [ARCHIVE]: archive, 'checksums.txt': `${archiveSha}  x${ARCHIVE}\n` });
    const run = await install(env(server.url));
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(server.requests).toEqual([`/v${VERSION}/checksums.txt`]);
    expect(run.stderr).toContain(`  - download: checksums.txt of v${VERSION} has no line for ${ARCHIVE}\n`);
  });

  const unreachable: [string, () => Promise<string>, RegExp][] = [
    [
      'a closed port',
      async () => `http://127.0.0.1:${await freePort()}`,
      / {2}- download: 127\.0\.0\.1:\d+ unreachable \(curl exit 7: [^\n]*\)\n/,
    ],
    [
      'a host that does not resolve',
      async () => 'http://release.invalid',
      / {2}- download: release\.invalid unreachable/,
    ],
  ];
  test.each(unreachable)(
    'no network (%s) and no Go: exit 1 at once, one message naming what to install',
    async (_, url, problem) => {
      const run = await install(env(await url()));
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(run.seconds).toBeLessThan(15);
      // Nothing on stderr but the one message.
      expect(run.stderr.startsWith(FAILED)).toBe(true);
      expect(run.stderr.split(FAILED)).toHaveLength(2);
      expect(run.stderr).toMatch(problem);
      expect(run.stderr).toContain('  - go install: Go is not installed');
      expect(run.stderr).toContain('install Go >= 1.25 (https://go.dev/dl/) and run this again');
      expect(run.stderr).toContain('https://docs.temporal.io/cli#install');
      expect(run.stderr).toContain('set TEMPORAL_CLI_PATH=/path/to/temporal');
      expect(run.stderr).toContain(`/v${VERSION}/${ARCHIVE}`);
      expect(fs.readdirSync(tmpDir)).toEqual([]);
    },
  );

  test('TEMPORAL_CLI_SKIP_DOWNLOAD: straight to go install, the release server never asked', async () => {
    server = await releaseServer({ [ARCHIVE]: archive, 'checksums.txt': checksums(archiveSha) });
    const run = await install(env(server.url, { TEMPORAL_CLI_SKIP_DOWNLOAD: '1' }));
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(server.requests).toEqual([]);
    expect(run.stderr).toContain('  - download: skipped (TEMPORAL_CLI_SKIP_DOWNLOAD is set)\n');
  });

  test('no network but Go: go install builds it into the install directory', async () => {
    // A `go` that does what `go install` does: the binary into GOBIN; it notes how it was called.
    const goDir = path.join(dir, 'go-bin');
    const calls = path.join(dir, 'go-calls');
    executable(
      path.join(goDir, 'go'),
      `#!/bin/sh\necho "GOBIN=$GOBIN $*" >>"${calls}"\n` +
        `printf '#!/bin/sh\\necho "temporal version 1.5.1 (go)"\\n' >"$GOBIN/temporal"\nchmod +x "$GOBIN/temporal"\n`,
    );
    const base = env(`http://127.0.0.1:${await freePort()}`);
    const run = await install({ ...base, PATH: `${goDir}${path.delimiter}${base.PATH}` });
    expect(run).toMatchObject({ code: 0, stdout: `${installDir}/temporal\n` });
    expect(fs.readFileSync(calls, 'utf8')).toBe(
      `GOBIN=${installDir} install github.com/temporalio/cli/cmd/temporal@v${VERSION}\n`,
    );
    expect(execFileSync(`${installDir}/temporal`, ['--version']).toString().trim()).toBe('temporal version 1.5.1 (go)');
    expect(run.stderr).toMatch(/^The release archive could not be used \(download: 127\.0\.0\.1:\d+ unreachable/);
  });

  test('an existing binary in the install directory is used, with no download', async () => {
    server = await releaseServer({ [ARCHIVE]: archive, 'checksums.txt': checksums(archiveSha) });
    const existing = executable(
      path.join(installDir, 'temporal'),
      '#!/bin/sh\necho "temporal version 1.5.1 (existing)"\n',
    );
    const run = await install(env(server.url));
    expect(run).toEqual(expect.objectContaining({ code: 0, stdout: `${existing}\n`, stderr: '' }));
    expect(server.requests).toEqual([]);
  });

  test('TEMPORAL_CLI_FORBIDDEN still refuses, before looking anywhere', async () => {
    server = await releaseServer({ [ARCHIVE]: archive, 'checksums.txt': checksums(archiveSha) });
    const existing = executable(path.join(installDir, 'temporal'), `#!/bin/sh\necho "${FAKE_VERSION}"\n`);
    const run = await install(env(server.url, { TEMPORAL_CLI_FORBIDDEN: '1', TEMPORAL_CLI_PATH: existing }));
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain('TEMPORAL_CLI_FORBIDDEN is set (npm run test:unit sets it)');
    expect(server.requests).toEqual([]);
  });

  test("the install directory: a checkout's .tools/bin, else the user's cache", async () => {
    server = await releaseServer({ [ARCHIVE]: archive, 'checksums.txt': checksums(archiveSha) });
    // A copy of the script in a package directory of its own, as npm installs it: no .git there.
    const pkg = path.join(dir, 'package');
    fs.mkdirSync(path.join(pkg, 'scripts'), { recursive: true });
    const script = path.join(pkg, 'scripts/install-temporal.sh');
    fs.copyFileSync(SCRIPT, script);
    const { TEMPORAL_CLI_INSTALL_DIR: _, ...base } = env(server.url);

    const cached = await install(base, script);
    expect(cached).toMatchObject({ code: 0, stdout: `${dir}/cache/zendesk-export/bin/temporal\n` });
    const { XDG_CACHE_HOME: __, ...noXdg } = base;
    const home = await install(noXdg, script);
    expect(home).toMatchObject({ code: 0, stdout: `${dir}/home/.cache/zendesk-export/bin/temporal\n` });
    // A checkout: .git is a directory, or a file in a worktree.
    fs.writeFileSync(path.join(pkg, '.git'), 'gitdir: elsewhere\n');
    const checkout = await install(base, script);
    expect(checkout).toMatchObject({ code: 0, stdout: `${pkg}/.tools/bin/temporal\n` });
    expect(server.requests.filter((p) => p.endsWith('.tar.gz'))).toHaveLength(3);
  });
});
