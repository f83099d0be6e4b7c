import path from 'node:path';
import { packageVersion } from '../../src/cli/commands';

/** The replay fixtures: a folder per release whose exports must keep running after an upgrade (x.y.z). */
export const HISTORIES_DIR = path.join(__dirname, 'histories');

/** The folder of this version's recordings: npm run record-histories and the chaos run's --record write there. */
export function releaseHistoriesDir(version = packageVersion()): string {
  return path.join(HISTORIES_DIR, version);
}
