import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ROOT } from '../../src/dev-server';
import { stopProcess } from '../../src/dev-server';
import { testEnv, waitFor } from '../helpers/harness';

const run = promisify(execFile);
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

/**
 * The package as a user gets it: `npm pack` (which builds lib/ and the workflow bundle), the tarball installed in an
 * empty folder, and the installed `zendesk-export` run with nothing of the repository on its PATH or in its folder.
 */
describe('the installed package', () => {
  let home: string;
  let bin: string;
  /** Only the installed command, node and the system's tools. */
  let env: Record<string, string>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'zendesk-export-installed-'));
    // Packed from a copy of the sources: prepack's build then writes the copy's lib/, not the one the bench builds.
    const source = path.join(home, 'source');
    for (const entry of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'scripts',
    ]) {
      fs.cpSync(path.join(ROOT, entry), path.join(source, entry), { recursive: true });
    }
    for (const entry of ['README.md', 'CHANGELOG.md', 'LICENSE'])
      fs.copyFileSync(path.join(ROOT, entry), path.join(source, entry));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(source, 'node_modules'));
    const packed = await run('npm', ['pack', '--pack-destination', home, '--json'], {
      cwd: source,
      maxBuffer: 64 * 1024 * 1024,
    });
    const tarball = path.join(home, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);
    const project = path.join(home, 'project');
    fs.mkdirSync(project);
    // --prefer-offline: the registry's packages are in npm's cache from `npm ci`; the tarball is the only new one.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: project,
      maxBuffer: 64 * 1024 * 1024,
    });
    bin = path.join(project, 'node_modules', '.bin');
    env = {
      PATH: [bin, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      HOME: home,
      TEMPORAL_CONFIG_FILE: '/dev/null',
    };
  }, 600_000);

  afterAll(async () => {
    for (const child of children) await stopProcess(child);
    fs.rmSync(home, { recursive: true, force: true });
  });

  /** Runs the installed command in the install folder. */
  async function zendeskExport(args: string[], extraEnv: Record<string, string> = {}) {
    return run('zendesk-export', args, { cwd: path.dirname(path.dirname(bin)), env: { ...env, ...extraEnv } });
  }

  test('ships compiled JavaScript, the prebuilt workflow bundle and no TypeScript', () => {
    const installed = path.join(path.dirname(bin), 'zendesk-temporal-export');
    expect(fs.existsSync(path.join(installed, 'lib', 'cli', 'main.js'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'lib', 'workflow-bundle.js'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'src'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'CHANGELOG.md'))).toBe(true);
    // ts-node and typescript are for development only.
    expect(fs.existsSync(path.join(path.dirname(bin), 'ts-node'))).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(bin), 'typescript'))).toBe(false);
  });

  test('--version prints the package version', async () => {
    const { stdout } = await zendeskExport(['--version']);
    expect(stdout.trim()).toBe(manifest.version);
  });

  test('--help names the commands as the user types them, and npx finds the command', async () => {
    const { stdout } = await zendeskExport(['--help']);
    expect(stdout).toMatch(/^Usage: zendesk-export <command> \[options\]/);
    for (const command of ['start', 'status', 'pause', 'resume', 'reset', 'stop', 'check', 'worker', 'emulator']) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(stdout).toContain('`zendesk-export <command> --help`');
    expect(stdout).not.toContain('npm run');
    const npx = await run('npx', ['--no-install', 'zendesk-export', '--help'], {
      cwd: path.dirname(path.dirname(bin)),
      env,
    });
    expect(npx.stdout).toBe(stdout);
  });

  test('--json: an error is one object with its exit code', async () => {
    const failed = await zendeskExport(['reset', '--json']).then(
      () => ({ code: 0, stdout: '' }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout)).toMatchObject({ command: 'reset', ok: false, exitCode: 2 });
  });

  test('exports tickets: the emulator, a worker, start and status, all from the installed command', async () => {
    const emulator = spawn(
      'zendesk-export',
      [
        'emulator',
        '--port',
        '0',
        '--json',
        '--tickets',
        '300',
        '--window-seconds',
        '0',
        '--min-start-age-seconds',
        '1',
      ],
      { cwd: home, env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(emulator);
    const ready = await new Promise<{ url: string; tickets: number; env: Record<string, string> }>(
      (resolve, reject) => {
        readline.createInterface({ input: emulator.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
        emulator.once('exit', (code) => reject(new Error(`the emulator exited with ${code}`)));
      },
    );
    expect(ready.tickets).toBe(300);

    const sink = path.join(home, 'tickets.db');
    const exportEnv = {
      ...ready.env,
      TEMPORAL_ADDRESS: testEnv().address,
      TEMPORAL_TASK_QUEUE: `installed-${process.pid}`,
      SINK_URL: `sqlite:${sink}`,
      CODEC_SERVER_PORT: 'off',
      PAYLOAD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    const worker = spawn('zendesk-export', ['worker'], {
      cwd: home,
      env: { ...env, ...exportEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(worker);
    let workerOutput = '';
    worker.stdout!.on('data', (d) => (workerOutput += d));
    worker.stderr!.on('data', (d) => (workerOutput += d));

    const started = await zendeskExport(
      [
        'start',
        '--json',
        '--api',
        'exports',
        '--streams',
        'tickets',
        '--start-time',
        '0',
        '--poll-interval',
        '0.1',
        '--min-start-age',
        '1',
      ],
      exportEnv,
    );
    expect(JSON.parse(started.stdout)).toMatchObject({
      command: 'start',
      ok: true,
      results: [{ outcome: 'started', api: 'exports' }],
    });

    const status = await waitFor(
      'all 300 tickets stored',
      async () => {
        const { stdout } = await zendeskExport(['status', '--json'], exportEnv);
        const view = JSON.parse(stdout) as { ticketsStored: number; state: string };
        return view.ticketsStored >= 300 && view.state === 'caught_up' && view;
      },
      120_000,
      1_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the worker said:\n${workerOutput.slice(-4000)}`);
    });
    expect(status.ticketsStored).toBe(300);
    const db = new Database(sink, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM tickets').get()).toEqual({ n: 300 });
    } finally {
      db.close();
    }
    // The worker ran the bundle `npm run build` made, not webpack at start.
    expect(workerOutput).not.toMatch(/webpack|Bundling/i);

    const stopped = await zendeskExport(['stop', '--json'], exportEnv);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ ok: true, results: [{ cancellationRequested: true }] });
  }, 240_000);
});
