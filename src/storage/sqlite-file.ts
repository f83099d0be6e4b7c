import fs from 'node:fs';
import path from 'node:path';

/** What the owner alone may do with the ticket file: it holds every ticket, and the claim-checked payloads. */
export const SQLITE_FILE_MODE = 0o600;
/** A directory we create for it (e.g. `.data`). */
export const SQLITE_DIRECTORY_MODE = 0o700;

/** The files SQLite keeps beside a database in WAL mode. */
const COMPANIONS = ['-wal', '-shm', '-journal'];

/**
 * Gets a SQLite file ready for better-sqlite3 to open, readable by its owner only: creates missing parent directories
 * with mode 0700 and a missing file with mode 0600 (SQLite gives the -wal and -shm files it creates the mode of the
 * database file), and takes group and other permissions away from an existing file, or companion, that has them,
 * with a process warning naming it. `:memory:` and the empty name (a temporary database) have no file.
 */
export function prepareSqliteFile(filename: string): void {
  if (filename === ':memory:' || filename === '') return;
  const file = path.resolve(filename);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: SQLITE_DIRECTORY_MODE });
  try {
    fs.closeSync(fs.openSync(file, 'wx', SQLITE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const candidate of [file, ...COMPANIONS.map((suffix) => file + suffix)]) tighten(candidate);
}

/** Removes group and other permissions from an existing file; a file we may not change is left as it is. */
function tighten(file: string): void {
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & 0o077) === 0) return;
  const tightened = mode & 0o700;
  const code = 'ZTE_SQLITE_FILE_MODE';
  try {
    fs.chmodSync(file, tightened);
  } catch (err) {
    const reason = (err as Error).message;
    process.emitWarning(`${file} is open to group or others (mode ${octal(mode)}) and stays so: ${reason}`, { code });
    return;
  }
  process.emitWarning(`${file} was open to group or others: mode changed from ${octal(mode)} to ${octal(tightened)}`, {
    code,
  });
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;
