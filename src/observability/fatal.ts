import os from 'node:os';
import type { LogEvent } from './events';

/**
 * A message written before the logger exists (the configuration refused) or after it failed: one JSON line when
 * LOG_FORMAT asks for JSON, even if the rest of the configuration is refused, else the text as it is. To stderr.
 */
export function writeFatal(message: string, event: LogEvent, env: NodeJS.ProcessEnv = process.env): void {
  if (env.LOG_FORMAT?.trim().toLowerCase() !== 'json') {
    process.stderr.write(`${message}\n`);
    return;
  }
  const line = { level: 'error', pid: process.pid, hostname: os.hostname(), time: new Date().toISOString(), event };
  process.stderr.write(`${JSON.stringify({ ...line, msg: message })}\n`);
}
