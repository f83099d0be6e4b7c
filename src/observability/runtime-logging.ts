import { DefaultLogger, Logger, LogLevel, makeTelemetryFilterString, RuntimeOptions } from '@temporalio/worker';
import type { LoggingSettings } from '../config';
import { JsonLogger } from './json-logger';
import type { Redact } from './log-fields';

type TelemetryLogging = NonNullable<NonNullable<RuntimeOptions['telemetryOptions']>['logging']>;

const SEVERITY: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** The worker's logger: the SDK's text lines (as before LOG_FORMAT existed), or JSON lines through pino. */
export function createLogger(settings: LoggingSettings, redact: Redact): Logger {
  return settings.format === 'json'
    ? new JsonLogger({ level: settings.level, redact })
    : new DefaultLogger(settings.level);
}

/**
 * Core's (Rust) log forwarded into the same logger, so it is written in the same format. Core is chatty below WARN
 * (every poll, every activation), so it logs at WARN, or at LOG_LEVEL when that is stricter.
 */
export function forwardedCoreLogging(settings: LoggingSettings): TelemetryLogging {
  const level = SEVERITY.indexOf(settings.level) > SEVERITY.indexOf('WARN') ? settings.level : 'WARN';
  return { forward: {}, filter: makeTelemetryFilterString({ core: level, other: level }) };
}
