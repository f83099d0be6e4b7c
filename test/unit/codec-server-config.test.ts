import { defaultPayloadConverter } from '@temporalio/common';
import { payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDataConverter } from '../../src/codec/claim-check';
import { encryptionCodecOf, readEncryptionSettings } from '../../src/codec/encryption-keys';
import { ConfigError, loadCodecServerConfig, loadWorkerConfig } from '../../src/config';
import { isLoopbackHost } from '../../src/common/loopback';

const WORKER_ENV = {
  ZENDESK_SUBDOMAIN: 'acme',
  ZENDESK_EMAIL: 'admin@acme.test',
  ZENDESK_API_TOKEN: 'tok-3f9a1c77e0d24b6b',
};
const TOKEN = '9b1f0c4e7a2d8e3f5c6b7a8d9e0f1a2b';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig({ ...WORKER_ENV, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('CODEC_SERVER_* settings', () => {
  test('defaults: loopback, no token, the localhost CORS default', () => {
    const config = loadWorkerConfig(WORKER_ENV);
    expect(config).toMatchObject({ codecServerPort: 8234, codecServerHost: '127.0.0.1' });
    expect(config.codecServerToken).toBeUndefined();
    expect(config.codecServerCorsOrigins).toBeUndefined();
  });

  test('a host other than loopback without CODEC_SERVER_TOKEN is a configuration error naming it', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'codec.internal']) {
      expect(problemsOf({ CODEC_SERVER_HOST: host })).toEqual([
        `CODEC_SERVER_TOKEN: required when CODEC_SERVER_HOST (${host}) is not a loopback address, since the codec ` +
          'endpoint serves decoded tickets (or set CODEC_SERVER_PORT=off, or CODEC_SERVER_UNAUTHENTICATED=allow where ' +
          'only a loopback-published port reaches it)',
      ]);
      // Said on purpose (a container whose port is published on the host's loopback): accepted.
      expect(problemsOf({ CODEC_SERVER_HOST: host, CODEC_SERVER_UNAUTHENTICATED: 'allow' })).toEqual([]);
    }
    expect(problemsOf({ CODEC_SERVER_HOST: '0.0.0.0', CODEC_SERVER_PORT: 'off' })).toEqual([]);
    const config = loadWorkerConfig({ ...WORKER_ENV, CODEC_SERVER_HOST: '0.0.0.0', CODEC_SERVER_TOKEN: TOKEN });
    expect(config.codecServerToken).toBe(TOKEN);
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
      expect(problemsOf({ CODEC_SERVER_HOST: host })).toEqual([]);
      expect(isLoopbackHost(host)).toBe(true);
    }
  });

  test('a short token is refused without repeating it', () => {
    const problems = problemsOf({ CODEC_SERVER_TOKEN: 'short-token' });
    expect(problems).toEqual([
      'CODEC_SERVER_TOKEN: must be at least 16 characters (e.g. the output of openssl rand -hex 32)',
    ]);
    expect(problems.join('\n')).not.toContain('short-token');
  });

  test('CODEC_SERVER_CORS_ORIGINS: a comma-separated list of exact origins', () => {
    const config = loadWorkerConfig({
      ...WORKER_ENV,
      CODEC_SERVER_CORS_ORIGINS: 'https://temporal.example.com, http://localhost:8233,',
    });
    expect(config.codecServerCorsOrigins).toEqual(['https://temporal.example.com', 'http://localhost:8233']);
    for (const bad of ['*', 'https://temporal.example.com/ui', 'temporal.example.com', 'https://ok.example,ftp://x']) {
      expect(problemsOf({ CODEC_SERVER_CORS_ORIGINS: bad })).toEqual([
        expect.stringMatching(/CODEC_SERVER_CORS_ORIGINS: must be a comma-separated list of origins/),
      ]);
    }
  });

  test('the worker refuses to start (exit 2) when the endpoint would listen off loopback without a token', () => {
    const root = path.resolve(__dirname, '../..');
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/worker.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, ...WORKER_ENV, CODEC_SERVER_HOST: '0.0.0.0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/CODEC_SERVER_TOKEN: required when CODEC_SERVER_HOST \(0\.0\.0\.0\)/);
  });
});

describe("the codec endpoint on its own (npm run codec-server, compose's codec service)", () => {
  const ROOT = path.resolve(__dirname, '../..');
  const KEY = randomBytes(32).toString('base64');
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zte-codec-alone-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function codecProblems(env: Record<string, string>): string[] {
    try {
      loadCodecServerConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  }

  test('reads the sink, the keys and CODEC_SERVER_*; needs neither Zendesk nor Temporal settings', () => {
    const config = loadCodecServerConfig({
      SINK_URL: 'postgres://exporter@db/tickets',
      SINK_STATEMENT_TIMEOUT_SECONDS: '20',
      PAYLOAD_ENCRYPTION_KEY: KEY,
      CODEC_SERVER_HOST: '0.0.0.0',
      CODEC_SERVER_TOKEN: TOKEN,
      CODEC_SERVER_CORS_ORIGINS: 'http://localhost:8233',
    });
    expect(config).toMatchObject({
      sinkUrl: 'postgres://exporter@db/tickets',
      sinkTimeouts: { connectSeconds: 10, statementSeconds: 20, idleInTransactionSeconds: 60, keepAliveSeconds: 30 },
      port: 8234,
      host: '0.0.0.0',
      token: TOKEN,
      allowedOrigins: ['http://localhost:8233'],
    });
    expect(config.encryption).toMatchObject({ off: false, current: { key: Buffer.from(KEY, 'base64') } });
  });

  test('off loopback without a token, or with nothing to serve, is a configuration error naming it', () => {
    expect(codecProblems({ CODEC_SERVER_HOST: '0.0.0.0' })).toEqual([
      expect.stringMatching(/^CODEC_SERVER_TOKEN: required when CODEC_SERVER_HOST \(0\.0\.0\.0\) is not a loopback/),
    ]);
    expect(codecProblems({ CODEC_SERVER_PORT: 'off' })).toEqual([
      'CODEC_SERVER_PORT: "off" leaves the codec server nothing to do; give it a port (default 8234)',
    ]);
    expect(codecProblems({ CODEC_SERVER_HOST: '0.0.0.0', CODEC_SERVER_UNAUTHENTICATED: 'allow' })).toEqual([]);
  });

  test('decodes what the worker encrypts, for the allowed origin only; stops on SIGTERM', async () => {
    const sinkFile = path.join(dir, 'tickets.db');
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/codec/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        SINK_URL: `sqlite:${sinkFile}`,
        PAYLOAD_ENCRYPTION_KEY: KEY,
        CODEC_SERVER_PORT: '0',
        CODEC_SERVER_CORS_ORIGINS: 'http://localhost:8233',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (!url) {
        url = /Codec server for the Web UI: (http:\/\/\S+)/.exec(output)?.[1];
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no codec server: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // A payload as the worker writes it: gzipped, then encrypted with the key.
      const codecs = createDataConverter(
        undefined,
        encryptionCodecOf(readEncryptionSettings({ PAYLOAD_ENCRYPTION_KEY: KEY }, [])),
      ).payloadCodecs!;
      let [payload] = [defaultPayloadConverter.toPayload({ subject: 'printer on fire' })];
      for (const codec of codecs) [payload] = await codec.encode([payload]);
      const body = JSON.stringify({ payloads: [payloadToJSON(payload)] });
      const decode = (origin: string) =>
        fetch(`${url}/default/decode`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: origin },
          body,
        });
      const ui = await decode('http://localhost:8233');
      expect(ui.status).toBe(200);
      const [decoded] = ((await ui.json()) as { payloads: { data: string }[] }).payloads;
      expect(JSON.parse(Buffer.from(decoded.data, 'base64').toString())).toEqual({ subject: 'printer on fire' });
      expect((await decode('http://localhost:3000')).status).toBe(403);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  test('a configuration error stops it with exit code 2 and the message', () => {
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/codec/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, CODEC_SERVER_HOST: '0.0.0.0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/CODEC_SERVER_TOKEN: required when CODEC_SERVER_HOST \(0\.0\.0\.0\)/);
  });
});
