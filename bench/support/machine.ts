import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalBinary } from '../../src/dev-server';

/** What the figures were measured on. */
export function describeMachine() {
  const cpus = os.cpus();
  let temporal = 'unknown';
  try {
    temporal = execFileSync(temporalBinary(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    temporal,
  };
}

/** What else used the machine while a scenario ran: other processes' CPU, the machine's busy share, load averages. */
export interface MachineLoad {
  seconds: number;
  loadAverage: { before: number[]; after: number[] };
  /** Share of all cores busy over the window (/proc/stat), percent. */
  busyPercent: number;
  /** CPU seconds of this bench process and its descendants (the dev server, workers, emulators, commands timed). */
  benchCpuSeconds: number;
  /** CPU seconds of every other process, and the largest of them by command name (no arguments: no secrets). */
  othersCpuSeconds: number;
  others: { command: string; cpuSeconds: number }[];
}

interface ProcSample {
  ppid: number;
  command: string;
  ticks: number;
}

const CLOCK_TICKS = 100;

/** Every process's parent, command name and CPU ticks so far (/proc/<pid>/stat; Linux). */
function readProcesses(): Map<number, ProcSample> {
  const processes = new Map<number, ProcSample>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended in between
    }
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // Fields from the state (3rd) on: ppid 4th, utime 14th, stime 15th.
    processes.set(Number(entry), { ppid: Number(fields[1]), command, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return processes;
}

/**
 * A process's name for the results: its command, and for node its script's file name (`node jest`, `node tsc`,
 * `node processChild.js`): never its other arguments, which may hold anything.
 */
function label(pid: number, command: string): string {
  if (!/^node/.test(command)) return command;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const script = argv.slice(1).find((arg, i, all) => !arg.startsWith('-') && all[i - 1] !== '-r');
    return script ? `node ${path.basename(script)}` : command;
  } catch {
    return command;
  }
}

function cpuTimes(): { busy: number; total: number } {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  // user nice system idle iowait irq softirq steal...: idle and iowait are not busy.
  return { busy: total - cpu[3] - (cpu[4] ?? 0), total };
}

/**
 * Samples every process every `intervalMs` until stopped: the CPU each used in the window (a process that lived less
 * than an interval is missed), split into this bench's process tree and the rest. For figures taken on a machine
 * shared with other jobs, so that the results say what else ran.
 */
export function watchMachineLoad(intervalMs = 2000): { stop(): MachineLoad } {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const cpuBefore = cpuTimes();
  // The processes already there: their CPU counts from the first sample on.
  const initial = new Set(readProcesses().keys());
  const last = new Map<number, ProcSample>();
  const used = new Map<number, { command: string; ticks: number; bench: boolean }>();
  const sample = () => {
    const now = readProcesses();
    const inBench = (pid: number): boolean => {
      for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
        if (p === process.pid) return true;
        p = now.get(p)?.ppid;
      }
      return false;
    };
    for (const [pid, proc] of now) {
      const before = last.get(pid);
      // A process that started in the window counts whole; one there from the start, from then on.
      const born = !initial.has(pid);
      const delta =
        before && before.command === proc.command && proc.ticks >= before.ticks
          ? proc.ticks - before.ticks
          : born && !before
            ? proc.ticks
            : 0;
      const entry = used.get(pid) ?? { command: label(pid, proc.command), ticks: 0, bench: inBench(pid) };
      entry.ticks += delta;
      used.set(pid, entry);
      last.set(pid, proc);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const cpuAfter = cpuTimes();
      const byCommand = new Map<string, number>();
      let bench = 0;
      let others = 0;
      for (const { command, ticks, bench: mine } of used.values()) {
        if (mine) bench += ticks;
        else {
          others += ticks;
          byCommand.set(command, (byCommand.get(command) ?? 0) + ticks);
        }
      }
      const seconds = (ticks: number) => Math.round((ticks / CLOCK_TICKS) * 10) / 10;
      return {
        seconds: Math.round((Date.now() - started) / 1000),
        loadAverage: { before: loadBefore.map(round2), after: os.loadavg().map(round2) },
        busyPercent: Math.round(
          (100 * (cpuAfter.busy - cpuBefore.busy)) / Math.max(1, cpuAfter.total - cpuBefore.total),
        ),
        benchCpuSeconds: seconds(bench),
        othersCpuSeconds: seconds(others),
        others: [...byCommand.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .filter(([, ticks]) => ticks > 0)
          .map(([command, ticks]) => ({ command, cpuSeconds: seconds(ticks) })),
      };
    },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
