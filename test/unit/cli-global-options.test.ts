import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { colorWanted, readGlobalOptions } from '../../src/cli/global-options';
import { UsageError } from '../../src/cli/io';
import { reportedAsJson } from '../../src/cli/json-report';

describe('the options every command takes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'global-options-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('--env-file reads KEY=value lines; the environment wins; the option leaves the command line', () => {
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, '# comment\nZENDESK_SUBDOMAIN=acme\nTEMPORAL_ADDRESS="temporal:7233"\nLOG_LEVEL=debug\n');
    const { argv, env } = readGlobalOptions(['--env-file', file, 'status', '--json'], { LOG_LEVEL: 'info' });
    expect(argv).toEqual(['status', '--json']);
    expect(env).toEqual({ ZENDESK_SUBDOMAIN: 'acme', TEMPORAL_ADDRESS: 'temporal:7233', LOG_LEVEL: 'info' });
    expect(readGlobalOptions([`--env-file=${file}`, 'pause'], {}).env.ZENDESK_SUBDOMAIN).toBe('acme');
  });

  test('--env-file without a file, or with one that is not there, is bad input naming it', () => {
    expect(() => readGlobalOptions(['--env-file'], {})).toThrow(
      new UsageError("Option '--env-file <file>' argument missing"),
    );
    expect(() => readGlobalOptions(['--env-file', '--json'], {})).toThrow(UsageError);
    expect(() => readGlobalOptions(['--env-file', path.join(dir, 'none.env'), 'status'], {})).toThrow(
      /--env-file .*none\.env: no such file/,
    );
  });

  test('--no-color anywhere before --, and not after', () => {
    expect(readGlobalOptions(['status', '--no-color'], {})).toMatchObject({ argv: ['status'], color: false });
    expect(readGlobalOptions(['start', '--', '--no-color'], {})).toEqual({
      argv: ['start', '--', '--no-color'],
      env: {},
    });
  });

  test.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, true, false],
  ])('colours with %j on a terminal: %s → %s', (env, tty, expected) => {
    expect(colorWanted(env, tty)).toBe(expected);
  });
});

describe('--json', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { env: {}, out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) } };
  };

  test('without it, the lines pass as they are', async () => {
    const { out, err, io } = capture();
    const code = await reportedAsJson(['pause'], io, async (inner) => (inner.out('Pause sent.'), inner.err('!'), 0));
    expect({ code, out, err }).toEqual({ code: 0, out: ['Pause sent.'], err: ['!'] });
  });

  test('with it, one object: results, messages and warnings, or the error and exit code', async () => {
    const ok = capture();
    await reportedAsJson(['start', '--json'], ok.io, async (io) => {
      io.out('Started x.');
      io.err('Warning: y');
      io.record?.({ account: 'acme', outcome: 'started' });
      return 0;
    });
    expect(ok.err).toEqual([]);
    expect(ok.out.map((line) => JSON.parse(line))).toEqual([
      {
        command: 'start',
        ok: true,
        exitCode: 0,
        results: [{ account: 'acme', outcome: 'started' }],
        messages: ['Started x.'],
        warnings: ['Warning: y'],
      },
    ]);
    const failed = capture();
    await reportedAsJson(['reset', '--json'], failed.io, async (io) => (io.err('--start-time N is required'), 2));
    expect(JSON.parse(failed.out[0])).toEqual({
      command: 'reset',
      ok: false,
      exitCode: 2,
      results: [],
      messages: [],
      error: '--start-time N is required',
    });
    const thrown = capture();
    const code = await reportedAsJson(['stop', '--json'], thrown.io, async () => {
      throw new Error('connection refused');
    });
    expect({ code, report: JSON.parse(thrown.out[0]) }).toMatchObject({
      code: 1,
      report: { error: 'connection refused' },
    });
  });

  test('status prints its own JSON; only a status that printed nothing becomes an error object', async () => {
    const running = capture();
    await reportedAsJson(['status', '--json'], running.io, async (io) => (io.out('{"state":"caught_up"}'), 0));
    expect(running.out).toEqual(['{"state":"caught_up"}']);
    const missing = capture();
    await reportedAsJson(['status', '--json'], missing.io, async (io) => (io.err('not running'), 1));
    expect(JSON.parse(missing.out[0])).toMatchObject({
      command: 'status',
      ok: false,
      exitCode: 1,
      error: 'not running',
    });
  });

  test('with it, no redraw in place: status --watch --json prints each frame as a line', async () => {
    const { io } = capture();
    const frame = (): void => undefined;
    const seen: Array<unknown> = [];
    await reportedAsJson(
      ['status', '--watch', '--json'],
      { ...io, frame },
      async (inner) => (seen.push(inner.frame), 0),
    );
    await reportedAsJson(
      ['status', '--watch', '--', '--json'],
      { ...io, frame },
      async (inner) => (seen.push(inner.frame), 0),
    );
    expect(seen).toEqual([undefined, frame]);
  });

  test('a --json after -- is an argument, not the option', async () => {
    const { out, io } = capture();
    await reportedAsJson(['start', '--', '--json'], io, async (inner) => (inner.out('plain'), 0));
    expect(out).toEqual(['plain']);
  });
});
