import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { LogTimestamp } from '@temporalio/worker';
import pino from 'pino';
import { logFields, Redact } from './log-fields';

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Blanks the process's secrets in every string of a line: the message, the fields, an error's stack. */
  redact: Redact;
  /** Where the lines go; default: stdout, written synchronously so nothing is lost on exit. */
  destination?: pino.DestinationStream;
}

/** Names the line's own keys; a field of the metadata with the same name is kept under `meta_<name>`. */
const OWN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * The SDK's Logger as JSON lines through pino: `{"level":"info","time":"…","pid":…,"hostname":"…","msg":"…",…fields}`.
 * The metadata the SDK adds (workflowId, runId, namespace, taskQueue; activityId, activityType; Core's target) and
 * ours (account, stream, event) are top-level fields. Core's entries keep the time Core stamped them with.
 */
export class JsonLogger implements Logger {
  private readonly pino: pino.Logger;
  private readonly redact: Redact;

  constructor({ level, redact, destination = pino.destination({ dest: 1, sync: true }) }: JsonLoggerOptions) {
    this.redact = redact;
    this.pino = pino(
      {
        level: level.toLowerCase(),
        timestamp: false,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    );
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    if (!this.pino.isLevelEnabled(method)) return;
    const fields: Record<string, unknown> = { time: timeOf(meta?.[LogTimestamp]) };
    for (const [key, value] of Object.entries(logFields(meta, this.redact))) {
      fields[OWN_KEYS.has(key) ? `meta_${key}` : key] = value;
    }
    this.pino[method](fields, this.redact(String(message)));
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** ISO time with milliseconds, from the SDK's timestamp in nanoseconds when it gave one (Core's entries do). */
function timeOf(nanos: unknown): string {
  return new Date(typeof nanos === 'bigint' ? Number(nanos / 1_000_000n) : Date.now()).toISOString();
}
