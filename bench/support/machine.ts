import { execFileSync } from 'node:child_process';
import os from 'node:os';
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
