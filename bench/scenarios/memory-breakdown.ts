import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS } from '../../src/emulator';
import { WORKFLOW_TYPE } from '../../src/shared';
import { bundleWorkflows } from '../../src/temporal/workflow-bundle';
import { statusQuery } from '../../src/workflows/messages';
import type { ProbeConfig, ProbeMessage, ProbeSample, ProbeStage } from '../support/memory-probe';
import { BenchEnv, startEmulatorProcess, waitUntil } from '../support/pipeline';
import { round, slope } from '../support/stats';

export interface MemoryBreakdownOptions {
  /** Seconds between the configuration being ready (its workflows idle) and the sample. */
  settleSeconds: number;
  /** Numbers of idle export workflows for the per-cached-workflow slope. */
  workflowCounts: number[];
  /** Workflows started for the option comparisons (maxCachedWorkflows, reuseV8Context). */
  optionWorkflows: number;
  /** Rounds over all configurations (interleaved); the breakdown takes each configuration's median. */
  repeats: number;
}

export interface Configuration {
  name: string;
  stage: ProbeStage;
  workflows: number;
  maxCachedWorkflows?: number;
  reuseV8Context?: boolean;
  /** 'trivial': a bundle of one empty workflow, to price the bundle. */
  bundle?: 'export' | 'trivial';
}

export interface Measurement {
  name: string;
  repeat: number;
  stage: ProbeStage;
  workflows: number;
  options: { maxCachedWorkflows: number | null; reuseV8Context: boolean | null; bundleBytes: number | null };
  /** From /proc/<pid>/status after the settle time, MB. */
  proc: { vmRssMb: number; vmHwmMb: number; rssAnonMb: number; rssFileMb: number; threads: number };
  /** `process.memoryUsage()` in the child (its main thread's isolate only), MB. */
  node: { rssMb: number; heapTotalMb: number; heapUsedMb: number; externalMb: number; arrayBuffersMb: number };
  resolved: ProbeSample['resolved'] | null;
  readySeconds: number;
}

// Compiled with the bench's own sources (tsconfig.bench.json), beside the package's lib/.
export const PROBE = path.join(ROOT, 'lib/dev/bench/support/memory-probe.js');

/**
 * What each part of the worker's resident memory costs: every configuration is a fresh process (the compiled probe,
 * bench/support/memory-probe.ts) built up to one stage, sampled from /proc and `process.memoryUsage()` once its
 * workflows are idle and a settle time has passed. The workflows are real exports of one emulator account, each
 * caught up (one page) and then waiting an hour for its next poll: what a cached, idle export costs.
 */
export async function measureMemoryBreakdown(env: BenchEnv, options: MemoryBreakdownOptions) {
  if (!fs.existsSync(PROBE)) throw new Error(`${PROBE} is missing: run \`npm run build\` first`);
  const emulator = await startEmulatorProcess([
    '--tickets',
    '200',
    '--window-seconds',
    '0',
    '--min-start-age-seconds',
    '0',
  ]);
  const trivialBundlePath = path.join(env.dir, 'trivial-workflow-bundle.js');
  fs.writeFileSync(trivialBundlePath, await trivialBundle(env.dir));
  const bundles = { export: env.bundlePath, trivial: trivialBundlePath };
  const measurements: Measurement[] = [];
  try {
    for (let repeat = 0; repeat < options.repeats; repeat++) {
      for (const configuration of configurations(options)) {
        const bundlePath = bundles[configuration.bundle ?? 'export'];
        const measured = await measureOne(env, configuration, { baseUrl: emulator.url, bundlePath, ...options });
        measurements.push({ ...measured, repeat });
      }
    }
  } finally {
    await emulator.stop();
  }
  return {
    settleSeconds: options.settleSeconds,
    repeats: options.repeats,
    breakdown: breakdown(measurements),
    byConfiguration: byConfiguration(measurements),
    bundle: analyseBundle(fs.readFileSync(env.bundlePath, 'utf8')),
    trivialBundle: analyseBundle(fs.readFileSync(trivialBundlePath, 'utf8'), 0),
    measurements,
  };
}

export function configurations({ workflowCounts, optionWorkflows }: MemoryBreakdownOptions): Configuration[] {
  const worker = (name: string, workflows: number, extra: Partial<Configuration> = {}): Configuration => ({
    name,
    stage: 'worker',
    workflows,
    ...extra,
  });
  return [
    { name: 'bare node', stage: 'bare', workflows: 0 },
    { name: 'SDK loaded (@temporalio/worker, client)', stage: 'sdk', workflows: 0 },
    { name: 'modules loaded, sink open', stage: 'modules', workflows: 0 },
    { name: 'Rust core: Runtime + NativeConnection', stage: 'core', workflows: 0 },
    worker('worker, trivial bundle, no workflows', 0, { bundle: 'trivial' }),
    worker('worker, no workflows', 0),
    ...workflowCounts.map((n) => worker(`worker, ${n} idle workflows`, n)),
    worker('worker, reuseV8Context false, no workflows', 0, { reuseV8Context: false }),
    worker(`worker, reuseV8Context false, ${optionWorkflows} idle workflows`, optionWorkflows, {
      reuseV8Context: false,
    }),
    worker(`worker, maxCachedWorkflows 10, ${optionWorkflows} idle workflows`, optionWorkflows, {
      maxCachedWorkflows: 10,
    }),
    worker('worker, maxCachedWorkflows 2, no workflows', 0, { maxCachedWorkflows: 2 }),
  ];
}

async function measureOne(
  env: BenchEnv,
  configuration: Configuration,
  { baseUrl, bundlePath, settleSeconds }: { baseUrl: string; bundlePath: string; settleSeconds: number },
): Promise<Omit<Measurement, 'repeat'>> {
  const taskQueue = `membd-${randomUUID()}`;
  const config: ProbeConfig = {
    stage: configuration.stage,
    temporalAddress: env.server.address,
    taskQueue,
    bundlePath,
    sinkUrl: `sqlite:${path.join(env.dir, `membd-${randomUUID()}.db`)}`,
    baseUrl,
    email: DEFAULT_CREDENTIALS.email,
    apiToken: DEFAULT_CREDENTIALS.apiToken,
    maxCachedWorkflows: configuration.maxCachedWorkflows,
    reuseV8Context: configuration.reuseV8Context,
  };
  const started = Date.now();
  const probe = startProbe(config);
  const workflowIds: string[] = [];
  try {
    await probe.ready;
    const account = new URL(baseUrl).host;
    for (let i = 0; i < configuration.workflows; i++) {
      const workflowId = `${taskQueue}-${i}`;
      workflowIds.push(workflowId);
      await env.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        // Caught up after one page, then an hour's wait: an idle export, held in the worker's cache.
        args: [{ account, api: 'exports', startTime: 0, pollIntervalSeconds: 3600, minStartAgeSeconds: 0 }],
      });
    }
    for (const workflowId of workflowIds) {
      await waitUntil(
        `${workflowId} to catch up`,
        async () => {
          const status = await env.client.workflow.getHandle(workflowId).query(statusQuery);
          return status.state === 'caught_up' && (status.phase === 'waiting' || status.phase === 'idle');
        },
        60_000,
        probe.output,
        250,
      );
    }
    const readySeconds = round((Date.now() - started) / 1000, 1);
    await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
    const sample = await probe.sample();
    const proc = procStatus(probe.child.pid!);
    const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
    return {
      name: configuration.name,
      stage: configuration.stage,
      workflows: configuration.workflows,
      options: {
        maxCachedWorkflows: configuration.maxCachedWorkflows ?? null,
        reuseV8Context: configuration.reuseV8Context ?? null,
        bundleBytes: configuration.stage === 'worker' ? fs.statSync(bundlePath).size : null,
      },
      proc,
      node: {
        rssMb: mb(sample.rss),
        heapTotalMb: mb(sample.heapTotal),
        heapUsedMb: mb(sample.heapUsed),
        externalMb: mb(sample.external),
        arrayBuffersMb: mb(sample.arrayBuffers),
      },
      resolved: sample.resolved ?? null,
      readySeconds,
    };
  } finally {
    await Promise.all(
      workflowIds.map((id) =>
        env.client.workflow
          .getHandle(id)
          .terminate('memory breakdown finished')
          .catch(() => undefined),
      ),
    );
    await probe.stop();
  }
}

interface Probe {
  child: ChildProcess;
  ready: Promise<void>;
  output(): string;
  sample(): Promise<ProbeSample>;
  stop(): Promise<void>;
}

function startProbe(config: ProbeConfig): Probe {
  // execArgv []: not the bench's `-r ts-node/register`; the probe runs compiled, as the worker does.
  const child = fork(PROBE, [JSON.stringify(config)], {
    cwd: ROOT,
    execArgv: [],
    env: { PATH: process.env.PATH, TEMPORAL_CONFIG_FILE: '/dev/null' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: ProbeMessage) => {
      if (message.type === 'ready') resolve();
      if (message.type === 'error') reject(new Error(`memory probe: ${message.error}`));
    });
    child.once('exit', (code) => reject(new Error(`memory probe exited (${code})\n${output}`)));
  });
  return {
    child,
    ready,
    output: () => output,
    sample: () =>
      new Promise<ProbeSample>((resolve) => {
        const onMessage = (message: ProbeMessage) => {
          if (message.type !== 'sample') return;
          child.off('message', onMessage);
          resolve(message.sample);
        };
        child.on('message', onMessage);
        child.send({ type: 'sample' });
      }),
    async stop() {
      if (child.exitCode === null && child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** VmRSS, VmHWM (peak RSS), RssAnon, RssFile and the thread count of a process, from /proc (Linux). */
export function procStatus(pid: number): Measurement['proc'] {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  const mb = (field: string) => round(kb(field) / 1024, 1);
  return {
    vmRssMb: mb('VmRSS'),
    vmHwmMb: mb('VmHWM'),
    rssAnonMb: mb('RssAnon'),
    rssFileMb: mb('RssFile'),
    threads: kb('Threads'),
  };
}

/**
 * The parts, as differences of VmRSS between consecutive stages; the slope over idle workflows (each of which also ran
 * its activities once), and the cache's own share: the same workflows with a cache of 10 against the default cache.
 */
export function breakdown(measurements: Measurement[]) {
  const medians = byConfiguration(measurements);
  const rss = (name: string) => medians.find((m) => m.name === name)?.vmRssMb.median ?? NaN;
  const diff = (a: number, b: number) => round(a - b, 1);
  const defaults = medians.filter(
    (m) =>
      m.stage === 'worker' &&
      m.options.maxCachedWorkflows === null &&
      m.options.reuseV8Context === null &&
      m.name !== TRIVIAL_BUNDLE,
  );
  const workerRss = rss('worker, no workflows');
  const smallCache = medians.find((m) => m.options.maxCachedWorkflows === 10 && m.workflows > 10);
  const sameWorkflows = defaults.find((m) => m.workflows === smallCache?.workflows);
  const first = defaults.find((m) => m.workflows === 1);
  return {
    totalNoWorkflowsMb: workerRss,
    parts: [
      { part: 'bare node process', mb: rss('bare node') },
      { part: '@temporalio/worker + client loaded', mb: diff(rss(SDK), rss('bare node')) },
      { part: 'the rest of the worker modules (sinks, Zendesk client), sink open', mb: diff(rss(MODULES), rss(SDK)) },
      {
        part: 'Rust core: Runtime (metrics on) + NativeConnection + client Connection',
        mb: diff(rss(CORE), rss(MODULES)),
      },
      { part: 'Worker: sandbox thread + V8 context with the export bundle, pollers', mb: diff(workerRss, rss(CORE)) },
      { part: '  of which the export bundle over a trivial one', mb: diff(workerRss, rss(TRIVIAL_BUNDLE)) },
      {
        part: 'the first export workflow (its activities run once, then idle)',
        mb: diff(first?.vmRssMb.median ?? NaN, workerRss),
      },
    ],
    perIdleWorkflowMb: round(slope(defaults.map((m) => ({ x: m.workflows, y: m.vmRssMb.median }))), 3),
    perCachedWorkflowMb:
      smallCache && sameWorkflows
        ? round((sameWorkflows.vmRssMb.median - smallCache.vmRssMb.median) / (smallCache.workflows - 10), 3)
        : null,
  };
}

/** Each configuration's VmRSS and VmHWM over the repeats: median, min, max (MB). */
export function byConfiguration(measurements: Measurement[]) {
  const names = [...new Set(measurements.map((m) => m.name))];
  return names.map((name) => {
    const runs = measurements.filter((m) => m.name === name);
    const spread = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      return { median: round(median, 1), min: sorted[0], max: sorted.at(-1)! };
    };
    return {
      name,
      stage: runs[0].stage,
      workflows: runs[0].workflows,
      options: runs[0].options,
      vmRssMb: spread(runs.map((m) => m.proc.vmRssMb)),
      vmHwmMb: spread(runs.map((m) => m.proc.vmHwmMb)),
      heapUsedMb: spread(runs.map((m) => m.node.heapUsedMb)),
      externalMb: spread(runs.map((m) => m.node.externalMb)),
      readySeconds: spread(runs.map((m) => m.readySeconds)),
    };
  });
}

const SDK = 'SDK loaded (@temporalio/worker, client)';
const MODULES = 'modules loaded, sink open';
const CORE = 'Rust core: Runtime + NativeConnection';
const TRIVIAL_BUNDLE = 'worker, trivial bundle, no workflows';

/**
 * What the prebuilt bundle is made of: its bytes, the inline source map's, and the code by package (webpack's
 * `/***\/ "./path"` module markers), largest first.
 */
export function analyseBundle(code: string, top = 15) {
  const mapMatch = /\/\/# sourceMappingURL=data:[^\n]*/.exec(code);
  const sourceMapBytes = mapMatch ? Buffer.byteLength(mapMatch[0]) : 0;
  const marker = /^\/\*\*\*\/ "([^"]+)"/gm;
  const starts = [...code.matchAll(marker)].map((m) => ({ path: m[1], at: m.index }));
  const codeEnd = mapMatch ? mapMatch.index : code.length;
  const modules = starts.map((s, i) => ({
    path: s.path,
    bytes: Buffer.byteLength(code.slice(s.at, i + 1 < starts.length ? starts[i + 1].at : codeEnd)),
  }));
  const byPackage = new Map<string, number>();
  for (const m of modules) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m.path)?.[1] ?? m.path.split('/').slice(0, 3).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + m.bytes);
  }
  return {
    bytes: Buffer.byteLength(code),
    sourceMapBytes,
    codeBytes: Buffer.byteLength(code) - sourceMapBytes,
    modules: modules.length,
    byPackage: [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
    largestModules: modules.sort((a, b) => b.bytes - a.bytes).slice(0, top),
  };
}

/** A bundle of one empty workflow (the SDK's own code and nothing of ours): the floor for any bundle. */
async function trivialBundle(dir: string): Promise<string> {
  const workflowsPath = path.join(dir, 'trivial-workflows.js');
  fs.writeFileSync(workflowsPath, 'exports.trivialWorkflow = async function trivialWorkflow() {};\n');
  return bundleWorkflows({
    workflowsPath,
    payloadConverterPath: undefined,
    // The file sits outside the project: resolve the SDK from the project's node_modules.
    webpackConfigHook: (config) => ({
      ...config,
      resolve: {
        ...config.resolve,
        modules: [...(config.resolve?.modules ?? ['node_modules']), path.join(ROOT, 'node_modules')],
      },
    }),
  });
}
