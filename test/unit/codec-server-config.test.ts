import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadWorkerConfig } from '../../src/config';
import { isLoopbackHost } from '../../src/loopback';

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
