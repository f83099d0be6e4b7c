import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/dev-server';

/** A PostgreSQL server of our own, in a temp directory on a free port, that chaos can restart without hurting others. */
export interface PrivatePostgres {
  url: string;
  /** Stops it the way a crash would (`-m immediate`: no checkpoint, recovery at start) and starts it again. */
  crashRestart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The directory of PostgreSQL's server programs (initdb, pg_ctl): the newest under `libDir`, else `pg_config --bindir`.
 * test/helpers/prerequisites.ts asks it too, so that a machine without them fails the test run at its start.
 */
export function postgresBinDir(libDir = '/usr/lib/postgresql', env: NodeJS.ProcessEnv = process.env): string {
  const versions = fs.existsSync(libDir) ? fs.readdirSync(libDir).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const dir = path.join(libDir, version, 'bin');
    if (fs.existsSync(path.join(dir, 'initdb'))) return dir;
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', env, stdio: 'pipe' }).trim();
    if (fs.existsSync(path.join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config either
  }
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package');
}

/** PostgreSQL refuses to run as root: as root, run its tools as the postgres user. */
function asServerUser(dir: string, command: string, args: string[]): void {
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  execFileSync(file, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function startPrivatePostgres(dir: string): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const port = await freePort();
  const data = path.join(dir, 'data');
  fs.mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    fs.chownSync(dir, uid, gid);
  }
  asServerUser(dir, path.join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  const pgCtl = (...args: string[]) =>
    asServerUser(dir, path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', ...args]);
  pgCtl('-o', options, 'start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async crashRestart() {
      pgCtl('-m', 'immediate', 'stop');
      pgCtl('-o', options, 'start');
    },
    async stop() {
      try {
        pgCtl('-m', 'fast', 'stop');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
