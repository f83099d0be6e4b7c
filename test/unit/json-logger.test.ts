import { DefaultLogger, LogTimestamp } from '@temporalio/worker';
import { ConfigError, loadWorkerConfig, WorkerConfig } from '../../src/config';
import { encryptionKey } from '../../src/codec/encryption-codec';
import { LOG_EVENTS } from '../../src/observability/events';
import { JsonLogger } from '../../src/observability/json-logger';
import { configRedaction } from '../../src/observability/redaction';
import { createLogger, forwardedCoreLogging } from '../../src/observability/runtime-logging';

const TOKEN = 'tok-Lg7Qw2Zr9Xp4Kd1M';
const KEY = encryptionKey(Buffer.alloc(32, 7));
const CONFIG: WorkerConfig = {
  temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'q', apiKey: 'tapi-Hs8Jd3Kf0Lq2' },
  accounts: [
    {
      account: 'acme',
      baseUrl: 'https://acme.zendesk.com',
      auth: { mode: 'api_token', email: 'admin@acme.test', apiToken: TOKEN },
      timeoutMs: 1000,
    },
  ],
  sinkUrl: 'postgres://exporter:pg-Pw4Rt6Yu@db:5432/tickets',
  blobRetentionDays: 7,
  encryption: { off: false, current: KEY, previous: [] },
  logging: { format: 'json', level: 'INFO' },
};

/** A JsonLogger writing into an array: every line parsed (a line that is not JSON fails the test). */
function capture(level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'TRACE') {
  const raw: string[] = [];
  const logger = new JsonLogger({
    level,
    redact: configRedaction(CONFIG).redact,
    destination: { write: (text: string) => void raw.push(...text.split('\n').filter(Boolean)) },
  });
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, raw, lines };
}

describe('JsonLogger', () => {
  test('one JSON object per line: level label, ISO time, msg, pid, hostname, the metadata as top-level fields', () => {
    const { logger, raw, lines } = capture();
    logger.info('Worker ready', { taskQueue: 'q', accounts: 'acme', nested: { a: 1, b: [1, 'x'] } });
    expect(raw).toHaveLength(1);
    expect(lines()[0]).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      pid: process.pid,
      hostname: expect.any(String),
      msg: 'Worker ready',
      taskQueue: 'q',
      accounts: 'acme',
      nested: { a: 1, b: [1, 'x'] },
    });
  });

  test('the SDK context fields and ours land as fields; a field named like a line key is kept aside', () => {
    const { logger, lines } = capture();
    logger.warn('Export blocked: waiting for resume', {
      sdkComponent: 'workflow',
      workflowId: 'zendesk-export-acme',
      runId: 'r1',
      namespace: 'default',
      taskQueue: 'q',
      account: 'acme',
      stream: 'tickets',
      event: LOG_EVENTS.exportBlocked,
      level: 'not mine',
      msg: 'not mine either',
    });
    expect(lines()[0]).toMatchObject({
      level: 'warn',
      msg: 'Export blocked: waiting for resume',
      workflowId: 'zendesk-export-acme',
      runId: 'r1',
      namespace: 'default',
      taskQueue: 'q',
      account: 'acme',
      stream: 'tickets',
      event: 'export_blocked',
      meta_level: 'not mine',
      meta_msg: 'not mine either',
    });
  });

  test('levels: each of the SDK levels by its name, those below the configured one dropped', () => {
    const all = capture('TRACE');
    for (const level of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const) all.logger.log(level, level);
    all.logger.trace('t');
    all.logger.debug('d');
    all.logger.error('e');
    expect(all.lines().map((l) => l.level)).toEqual([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'trace',
      'debug',
      'error',
    ]);
    const warn = capture('WARN');
    for (const level of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const) warn.logger.log(level, level);
    expect(warn.lines().map((l) => l.msg)).toEqual(['WARN', 'ERROR']);
  });

  test("Core's entries keep the time Core stamped them with (nanoseconds under the SDK's LogTimestamp)", () => {
    const { logger, lines } = capture();
    logger.warn('from core', { [LogTimestamp]: 1_700_000_000_123_456_789n, sdkComponent: 'core', target: 'x' });
    expect(lines()[0]).toMatchObject({ time: '2023-11-14T22:13:20.123Z', sdkComponent: 'core', target: 'x' });
    expect(Object.keys(lines()[0])).not.toContain('Symbol(log_timestamp)');
  });

  test('no crash on a circular value, a BigInt, a Map, a Set, bytes, a Date, functions and symbols', () => {
    const { logger, lines } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const shared = { x: 1 };
    logger.info('odd values', {
      loop,
      twice: [shared, shared],
      big: 12345678901234567890n,
      map: new Map([['k', 1n]]),
      set: new Set(['a']),
      bytes: new Uint8Array(10),
      date: new Date(0),
      nan: Number.NaN,
      fn: () => 1,
      sym: Symbol('s'),
    });
    expect(lines()[0]).toMatchObject({
      loop: { name: 'loop', self: '[Circular]' },
      twice: [{ x: 1 }, { x: 1 }],
      big: '12345678901234567890',
      map: { k: '1' },
      set: ['a'],
      bytes: '[10 bytes]',
      date: '1970-01-01T00:00:00.000Z',
      nan: 'NaN',
    });
    expect(lines()[0]).not.toHaveProperty('fn');
    expect(lines()[0]).not.toHaveProperty('sym');
  });

  test('an error: its type, message, stack and cause, with every secret redacted as the project redacts', () => {
    const { logger, raw, lines } = capture();
    const cause = new Error(
      `upstream said Authorization: Basic ${Buffer.from(`admin@acme.test/token:${TOKEN}`).toString('base64')}`,
    );
    const err = new Error(`GET /api/v2/tickets failed with token ${TOKEN}`, { cause });
    logger.error(`failed: ${TOKEN}`, {
      error: err,
      sink: CONFIG.sinkUrl,
      key: KEY.key.toString('base64'),
      apiKey: 'tapi-Hs8Jd3Kf0Lq2',
      [`field-${TOKEN}`]: 1,
    });
    const line = lines()[0] as Record<string, Record<string, unknown>>;
    expect(line.error).toMatchObject({
      type: 'Error',
      message: 'GET /api/v2/tickets failed with token [redacted]',
      stack: expect.stringMatching(/^Error: GET \/api\/v2\/tickets failed with token \[redacted\]\n\s+at /),
      cause: { type: 'Error', message: 'upstream said Authorization: Basic [redacted]' },
    });
    expect(line.msg).toBe('failed: [redacted]');
    expect(line.sink).toBe('postgres://exporter:***@db:5432/tickets');
    expect(line.key).toBe('[redacted]');
    expect(line.apiKey).toBe('[redacted]');
    for (const secret of [TOKEN, 'pg-Pw4Rt6Yu', KEY.key.toString('base64'), 'tapi-Hs8Jd3Kf0Lq2']) {
      expect(raw.join('\n')).not.toContain(secret);
    }
  });

  test('steps added later (a Zendesk client and the tokens it was issued) redact too', () => {
    const redaction = configRedaction(CONFIG);
    redaction.add((text) => text.split('at-issued-later-123').join('[redacted]'));
    expect(redaction.redact(`${TOKEN} at-issued-later-123`)).toBe('[redacted] [redacted]');
  });
});

describe('LOG_FORMAT and LOG_LEVEL', () => {
  const env = { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'admin@acme.test', ZENDESK_API_TOKEN: TOKEN };

  test('default: text at INFO; json and a level in any case accepted', () => {
    expect(loadWorkerConfig(env).logging).toEqual({ format: 'text', level: 'INFO' });
    expect(loadWorkerConfig({ ...env, LOG_FORMAT: 'JSON', LOG_LEVEL: 'debug' }).logging).toEqual({
      format: 'json',
      level: 'DEBUG',
    });
  });

  test('a bad value: one clear problem each', () => {
    let error: unknown;
    try {
      loadWorkerConfig({ ...env, LOG_FORMAT: 'yaml', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'LOG_FORMAT: must be one of text, json',
      'LOG_LEVEL: must be one of TRACE, DEBUG, INFO, WARN, ERROR',
    ]);
  });

  test('text: the SDK default logger as before; json: the JSON logger; Core forwarded at WARN or stricter', () => {
    expect(createLogger({ format: 'text', level: 'INFO' }, (t) => t)).toBeInstanceOf(DefaultLogger);
    expect(createLogger({ format: 'json', level: 'INFO' }, (t) => t)).toBeInstanceOf(JsonLogger);
    expect(forwardedCoreLogging({ format: 'json', level: 'DEBUG' })).toEqual({
      forward: {},
      filter: expect.stringMatching(/temporalio_sdk_core=WARN/),
    });
    expect(forwardedCoreLogging({ format: 'json', level: 'ERROR' }).filter).toMatch(/temporalio_sdk_core=ERROR/);
  });
});
