import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { workflowIdFor, WORKFLOW_TYPE } from '../../src/shared';
import type { ExportInput } from '../../src/workflows/messages';
import { MachineLoad, watchMachineLoad } from '../support/machine';
import { BenchEnv, openSink, rssMb, startEmulatorProcess, stopExport, waitForTickets } from '../support/pipeline';
import { quantile, round } from '../support/stats';

export interface StartupOptions {
  /** Timed runs of each no-server command (`--version`, `--help`, bare node), after one warm-up each. */
  commandRuns: number;
  /** Timed `status` calls per path, after one warm-up each. */
  statusRuns: number;
  /** Worker starts per path, the two paths taking turns; the last start of each runs the export. */
  workerStarts: number;
  /** Tickets in the emulator: the export's catch-up before the steady window. */
  tickets: number;
  /** The export's poll interval once caught up (live changes every second meanwhile). */
  pollIntervalSeconds: number;
  /** How long the worker's RSS is sampled (every second) once the export has caught up. */
  steadySeconds: number;
  /** `npm run build` as the bench ran it before any scenario, seconds (null: not timed). */
  buildSeconds: number | null;
}

/** The two ways to run the package: compiled (`npm run build`, the installed `zendesk-export`) and ts-node. */
export const STARTUP_PATHS = ['compiled', 'ts-node'] as const;
export type StartupPath = (typeof STARTUP_PATHS)[number];

const NODE = process.execPath;
/** The installed bin (`zendesk-export`, package.json "bin"), and the sources through ts-node/register. */
const CLI: Record<StartupPath, string[]> = {
  compiled: [NODE, 'lib/cli/main.js'],
  'ts-node': [NODE, '-r', 'ts-node/register', 'src/cli/main.ts'],
};
/** `zendesk-export worker` with the bundle `npm run build` made; `npm run worker` (ts-node), which bundles at start. */
const WORKER: Record<StartupPath, string[]> = {
  compiled: [NODE, 'lib/cli/main.js', 'worker'],
  'ts-node': [NODE, '-r', 'ts-node/register', 'src/worker.ts'],
};

interface Run {
  ms: number;
  cpuMs: number;
  /** Peak RSS of the command (GNU time's %M), when /usr/bin/time exists. */
  maxRssMb: number | null;
}

interface Timed {
  name: string;
  command: string;
  runs: Run[];
  medianMs: number;
  p90Ms: number;
  maxMs: number;
  minMs: number;
  medianCpuMs: number;
  maxRssMb: number | null;
}

/**
 * How long the package takes to start, compiled against ts-node (issue 26): `status` from spawn to exit against a
 * running export, `--version` and `--help` with no server (the floor: node, the modules, the transpiler), and a worker
 * from spawn to polling its task queue (its "Worker state changed … RUNNING" log line; /readyz too) with its RSS then
 * and through a steady export. Commands take turns path by path, so that the machine's other work weighs on both.
 */
export async function measureStartup(env: BenchEnv, options: StartupOptions) {
  const load = watchMachineLoad();
  const tsNode = tsNodeTranspiler();
  const cliLoads = compiledCliLoads();
  const gnuTime = fs.existsSync('/usr/bin/time');
  const cliEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? ROOT,
    // No Temporal profile of the user's (~/.config/temporalio/temporal.toml).
    TEMPORAL_CONFIG_FILE: '/dev/null',
  };

  // The floor: no server, no export.
  const floor = await timeInTurns(
    [
      { name: 'node -e 0', argv: [NODE, '-e', '0'] },
      { name: 'node -r ts-node/register -e 0', argv: [NODE, '-r', 'ts-node/register', '-e', '0'] },
      ...STARTUP_PATHS.flatMap((p) => [
        { name: `${p}: --version`, argv: [...CLI[p], '--version'] },
        { name: `${p}: --help`, argv: [...CLI[p], '--help'] },
      ]),
    ],
    cliEnv,
    options.commandRuns,
    gnuTime,
  );

  // Worker starts alone (no export), the paths taking turns; each path's last start is the export phase's below.
  const starts: Record<StartupPath, WorkerStart[]> = { compiled: [], 'ts-node': [] };
  for (let i = 0; i < options.workerStarts - 1; i++) {
    for (const p of STARTUP_PATHS) {
      const emulatorUrl = 'http://127.0.0.1:9'; // never called: no export on this task queue
      const worker = await startWorker(p, workerEnv(env, emulatorUrl));
      starts[p].push(worker.start);
      await worker.stop();
    }
  }

  let status: Timed[] = [];
  const phases = {} as Record<StartupPath, Awaited<ReturnType<typeof exportPhase>>>;
  for (const p of STARTUP_PATHS) {
    phases[p] = await exportPhase(env, p, options, async (account) => {
      // `status` against the compiled worker's running export, once its RSS window is over.
      if (p !== 'compiled') return;
      const statusEnv = { ...cliEnv, ...account };
      status = await timeInTurns(
        [
          ...STARTUP_PATHS.map((q) => ({ name: `${q}: status`, argv: [...CLI[q], 'status'] })),
          // What `npm run client -- status` adds: npm itself (a node process of its own) before ts-node's.
          { name: 'npm run client -- status', argv: ['npm', 'run', '--silent', 'client', '--', 'status'] },
        ],
        statusEnv,
        options.statusRuns,
        gnuTime,
      );
    });
    starts[p].push(phases[p].start);
  }

  const workers = Object.fromEntries(
    STARTUP_PATHS.map((p) => {
      const ready = starts[p].map((s) => s.runningMs);
      return [
        p,
        {
          command: WORKER[p].map((arg) => (arg === NODE ? 'node' : arg)).join(' '),
          starts: starts[p],
          readyMedianMs: Math.round(median(ready)),
          readyMaxMs: Math.max(...ready),
          readyMinMs: Math.min(...ready),
          readyzMedianMs: Math.round(median(starts[p].map((s) => s.readyzMs))),
          rssAtReadyMedianMb: round(median(starts[p].map((s) => s.rssAtReadyMb)), 1),
          export: phases[p].export,
        },
      ];
    }),
  ) as Record<StartupPath, WorkerSummary>;

  const byName = (list: Timed[], name: string) => list.find((t) => t.name === name)!;
  const ratio = (a: number, b: number) => round(a / b, 2);
  const statusOf = (p: StartupPath) => byName(status, `${p}: status`);
  const versionOf = (p: StartupPath) => byName(floor, `${p}: --version`);
  const machineLoad: MachineLoad = load.stop();
  return {
    options,
    paths: {
      cli: Object.fromEntries(STARTUP_PATHS.map((p) => [p, CLI[p].map((a) => (a === NODE ? 'node' : a)).join(' ')])),
      worker: Object.fromEntries(STARTUP_PATHS.map((p) => [p, workers[p].command])),
    },
    tsNode,
    cliLoads,
    buildSeconds: options.buildSeconds,
    floor,
    status,
    workers,
    // ts-node ÷ compiled: how many times longer (or larger) the ts-node path is.
    tsNodeOverCompiled: {
      statusMedian: ratio(statusOf('ts-node').medianMs, statusOf('compiled').medianMs),
      versionMedian: ratio(versionOf('ts-node').medianMs, versionOf('compiled').medianMs),
      workerReadyMedian: ratio(workers['ts-node'].readyMedianMs, workers.compiled.readyMedianMs),
      workerRssAtReady: ratio(workers['ts-node'].rssAtReadyMedianMb, workers.compiled.rssAtReadyMedianMb),
      workerSteadyRss: ratio(workers['ts-node'].export.steadyRssMb.median, workers.compiled.export.steadyRssMb.median),
    },
    machineLoad,
  };
}

interface WorkerStart {
  /** Spawn to the "Worker state changed … RUNNING" log line: the worker polls its task queue. */
  runningMs: number;
  /** Spawn to the first 200 from METRICS_PORT's /readyz, polled every 100 ms. */
  readyzMs: number;
  rssAtReadyMb: number;
  /** The workflows bundled by webpack in this process ("Workflow bundle created" logged). */
  bundledAtStart: boolean;
}

interface WorkerSummary {
  command: string;
  starts: WorkerStart[];
  readyMedianMs: number;
  readyMaxMs: number;
  readyMinMs: number;
  readyzMedianMs: number;
  rssAtReadyMedianMb: number;
  export: Awaited<ReturnType<typeof exportPhase>>['export'];
}

/**
 * One worker of `path` started (timed) for an emulator of its own, an export of its tickets caught up with pacing
 * off, then polling every `pollIntervalSeconds` with a live change every second: its RSS sampled every second for
 * `steadySeconds`. `during` runs after that window, with the export still running.
 */
async function exportPhase(
  env: BenchEnv,
  workerPath: StartupPath,
  options: StartupOptions,
  during: (account: Record<string, string>) => Promise<void>,
) {
  const emulator = await startEmulatorProcess([
    ...['--tickets', String(options.tickets), '--window-seconds', '0', '--min-start-age-seconds', '1'],
    ...['--mutations-per-tick', '1', '--mutation-interval-ms', '1000'],
  ]);
  const account = new URL(emulator.url).host;
  const accountEnv = workerEnv(env, emulator.url);
  const sink = await openSink(accountEnv.SINK_URL);
  let worker: StartedWorker | undefined;
  try {
    worker = await startWorker(workerPath, accountEnv);
    const input: ExportInput = {
      account,
      api: 'exports',
      startTime: 0,
      pollIntervalSeconds: options.pollIntervalSeconds,
      minStartAgeSeconds: 1,
    };
    const startedAt = Date.now();
    const workflowId = workflowIdFor(account);
    await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: accountEnv.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [input],
    });
    try {
      const caughtUpAt = await waitForTickets(sink, account, options.tickets, 120_000);
      const afterCatchUpMb = rssMb(worker.pid) ?? NaN;
      const samples: number[] = [];
      for (let s = 0; s < options.steadySeconds; s++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (worker.child.exitCode !== null)
          throw new Error(`startup: the ${workerPath} worker exited\n${worker.output()}`);
        samples.push(rssMb(worker.pid) ?? NaN);
      }
      const hwmMb = peakRssMb(worker.pid);
      await during({
        ZENDESK_BASE_URL: emulator.url,
        ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
        ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
        TEMPORAL_ADDRESS: env.server.address,
        TEMPORAL_TASK_QUEUE: accountEnv.TEMPORAL_TASK_QUEUE,
      });
      return {
        start: worker.start,
        export: {
          tickets: options.tickets,
          catchUpSeconds: round((caughtUpAt - startedAt) / 1000, 1),
          rssAfterCatchUpMb: round(afterCatchUpMb, 1),
          steadySeconds: options.steadySeconds,
          steadyRssMb: {
            median: round(quantile(samples, 0.5), 1),
            min: round(Math.min(...samples), 1),
            max: round(Math.max(...samples), 1),
          },
          // VmHWM: the process's peak RSS over its life, webpack at start included.
          peakRssMb: hwmMb === undefined ? null : round(hwmMb, 1),
        },
      };
    } finally {
      await stopExport(env, workflowId);
    }
  } finally {
    await worker?.stop();
    await sink.close();
    await emulator.stop();
    for (const suffix of ['', '-wal', '-shm'])
      fs.rmSync(accountEnv.SINK_URL.replace(/^sqlite:/, '') + suffix, { force: true });
  }
}

/** A worker's environment: the account of `baseUrl`, a task queue and a SQLite sink of its own, no prebuilt bundle. */
function workerEnv(env: BenchEnv, baseUrl: string) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? ROOT,
    TEMPORAL_ADDRESS: env.server.address,
    TEMPORAL_TASK_QUEUE: `bench-startup-${randomUUID()}`,
    TEMPORAL_CONFIG_FILE: '/dev/null',
    ZENDESK_BASE_URL: baseUrl,
    ZENDESK_EMAIL: DEFAULT_CREDENTIALS.email,
    ZENDESK_API_TOKEN: DEFAULT_CREDENTIALS.apiToken,
    SINK_URL: `sqlite:${path.join(env.dir, `startup-${randomUUID()}.db`)}`,
    CODEC_SERVER_PORT: 'off',
    METRICS_HOST: '127.0.0.1',
    // INFO: the SDK's "Worker state changed" and "Workflow bundle created" lines.
    LOG_LEVEL: 'INFO',
  };
}

interface StartedWorker {
  child: ChildProcess;
  pid: number;
  start: WorkerStart;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a worker of `workerPath` (WORKFLOW_BUNDLE_PATH unset: each finds its bundle as a user's would). */
async function startWorker(workerPath: StartupPath, accountEnv: ReturnType<typeof workerEnv>) {
  const metricsPort = await freePort();
  const readyzUrl = `http://127.0.0.1:${metricsPort}/readyz`;
  const [command, ...args] = WORKER[workerPath];
  const spawnedAt = performance.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...accountEnv, METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let running: { ms: number; rssMb: number } | undefined;
  const onData = (data: Buffer) => {
    output = (output + data).slice(-50_000);
    if (!running && /Worker state changed \{[^}]*RUNNING/.test(output)) {
      running = { ms: performance.now() - spawnedAt, rssMb: rssMb(child.pid!) ?? NaN };
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    let readyzMs: number | undefined;
    const deadline = Date.now() + 180_000;
    while (readyzMs === undefined || running === undefined) {
      if (child.exitCode !== null) throw new Error(`startup: the ${workerPath} worker exited\n${output}`);
      if (Date.now() > deadline) throw new Error(`startup: the ${workerPath} worker was not ready in 180 s\n${output}`);
      if (readyzMs === undefined && (await fetch(readyzUrl).catch(() => null))?.ok) {
        readyzMs = performance.now() - spawnedAt;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const start: WorkerStart = {
      runningMs: Math.round(running.ms),
      readyzMs: Math.round(readyzMs),
      rssAtReadyMb: round(running.rssMb, 1),
      bundledAtStart: /Workflow bundle created/.test(output),
    };
    return { child, pid: child.pid!, start, output: () => output, stop } satisfies StartedWorker;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs each command once untimed, then `runs` timed rounds of all of them in turn (round-robin). */
async function timeInTurns(
  commands: { name: string; argv: string[] }[],
  env: Record<string, string>,
  runs: number,
  gnuTime: boolean,
): Promise<Timed[]> {
  const timed = new Map<string, Run[]>(commands.map((c) => [c.name, []]));
  for (let round = 0; round <= runs; round++) {
    for (const { name, argv } of commands) {
      const run = await timeCommand(argv, env, gnuTime);
      if (round > 0) timed.get(name)!.push(run);
    }
  }
  return commands.map(({ name, argv }) => {
    const list = timed.get(name)!;
    const ms = list.map((r) => r.ms);
    const rss = list.map((r) => r.maxRssMb).filter((v): v is number => v !== null);
    return {
      name,
      command: argv.map((a) => (a === NODE ? 'node' : a)).join(' '),
      runs: list,
      medianMs: Math.round(quantile(ms, 0.5)),
      p90Ms: Math.round(quantile(ms, 0.9)),
      maxMs: Math.max(...ms),
      minMs: Math.min(...ms),
      medianCpuMs: Math.round(
        quantile(
          list.map((r) => r.cpuMs),
          0.5,
        ),
      ),
      maxRssMb: rss.length > 0 ? Math.max(...rss) : null,
    };
  });
}

/**
 * Spawn to exit of one command, in ms; its CPU (user + system, children included) from this process's own
 * cutime + cstime, which grow by exactly that when the child is reaped; its peak RSS from GNU time when there is one.
 */
async function timeCommand(argv: string[], env: Record<string, string>, gnuTime: boolean): Promise<Run> {
  const rssFile = gnuTime ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zte-bench-time-')), 'rss') : undefined;
  const [command, ...args] = rssFile ? ['/usr/bin/time', '-o', rssFile, '-f', '%M', ...argv] : argv;
  const cpuBefore = childrenCpuMs();
  const spawnedAt = performance.now();
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-10_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-10_000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const ms = performance.now() - spawnedAt;
  const cpuMs = childrenCpuMs() - cpuBefore;
  let maxRssMb: number | null = null;
  if (rssFile) {
    const kb = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
    maxRssMb = Number.isFinite(kb) ? round(kb / 1024, 1) : null;
    fs.rmSync(path.dirname(rssFile), { recursive: true, force: true });
  }
  if (code !== 0) throw new Error(`startup: \`${argv.join(' ')}\` exited with ${code}\n${output}`);
  return { ms: Math.round(ms), cpuMs, maxRssMb };
}

/** CPU ms of this process's reaped children (and theirs): cutime + cstime of /proc/self/stat, 10 ms ticks. */
function childrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // From the state (3rd field) on: cutime is the 16th field, cstime the 17th.
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

/** VmHWM of a process in MB: its peak RSS so far. */
function peakRssMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * What the compiled command loads before it reads its arguments (every command, `--version` too): the modules
 * lib/cli/main.js requires, by package, and the CPU that takes (one run, in a process of its own).
 */
function compiledCliLoads() {
  const script =
    'const before = process.cpuUsage();' +
    "require('./lib/cli/main.js');" +
    'const used = process.cpuUsage(before);' +
    'const byPackage = {};' +
    'for (const file of Object.keys(require.cache)) {' +
    '  const match = /node_modules[\\\\/]((@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(file);' +
    "  const name = match ? match[1].replace(/\\\\/g, '/') : '(this package)';" +
    '  byPackage[name] = (byPackage[name] ?? 0) + 1;' +
    '}' +
    'console.log(JSON.stringify({ modules: Object.keys(require.cache).length,' +
    ' cpuMs: Math.round((used.user + used.system) / 1000), byPackage }));';
  const out = execFileSync(NODE, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  const found = JSON.parse(out.trim().split('\n').at(-1)!) as {
    modules: number;
    cpuMs: number;
    byPackage: Record<string, number>;
  };
  const largest = Object.entries(found.byPackage)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([name, modules]) => ({ name, modules }));
  return { modules: found.modules, requireCpuMs: found.cpuMs, largestPackages: largest };
}

/**
 * Which transpiler ts-node/register uses with this tsconfig (`"swc": true` asks for swc; without @swc/core or
 * @swc/wasm ts-node fails rather than fall back to TypeScript) and whether the TypeScript compiler is loaded all the
 * same (it is: ts-node reads tsconfig.json with it).
 */
function tsNodeTranspiler() {
  const script =
    "require('./src/shared');" +
    'const loaded = Object.keys(require.cache);' +
    'const swc = loaded.find((f) => /[\\\\/]@swc[\\\\/]core[\\\\/]index\\.js$/.test(f));' +
    'console.log(JSON.stringify({' +
    "swc: swc ? require(require('path').join(swc, '..', 'package.json')).version : null," +
    'swcTranspiler: loaded.some((f) => /ts-node[\\\\/]dist[\\\\/]transpilers[\\\\/]swc\\.js$/.test(f)),' +
    'typescriptLoaded: loaded.some((f) => /[\\\\/]typescript[\\\\/]lib[\\\\/]typescript\\.js$/.test(f)),' +
    "tsNode: require('ts-node/package.json').version }));";
  const out = execFileSync(NODE, ['-r', 'ts-node/register', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  const found = JSON.parse(out.trim().split('\n').at(-1)!) as {
    swc: string | null;
    swcTranspiler: boolean;
    typescriptLoaded: boolean;
    tsNode: string;
  };
  return {
    tsNode: found.tsNode,
    transpiler: found.swcTranspiler && found.swc ? `swc (@swc/core ${found.swc})` : 'typescript',
    typescriptLoaded: found.typescriptLoaded,
  };
}
