import fs from 'node:fs';
import path from 'node:path';
import { packageVersion } from '../../src/cli/commands';
import { replayAll } from '../helpers/histories';
import { HISTORIES_DIR, releaseHistoriesDir } from './releases';

/** The releases whose recordings are kept: each one's exports must survive an upgrade to today's code. */
const RELEASES = fs.readdirSync(HISTORIES_DIR).sort();

const jsonFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('determinism', () => {
  const DIR = releaseHistoriesDir();
  const files = fs.existsSync(DIR) ? jsonFiles(DIR) : [];

  test('a folder of recordings per supported release, this version among them', () => {
    // From 1.0.0 on a change to the workflow's commands goes behind patched(); every release's folder keeps replaying
    // until its patches are removed (docs/development.md, "Versioning").
    for (const release of RELEASES) {
      expect({ release, folder: fs.statSync(path.join(HISTORIES_DIR, release)).isDirectory() }).toEqual({
        release: expect.stringMatching(/^\d+\.\d+\.\d+$/),
        folder: true,
      });
    }
    expect(RELEASES).toContain(packageVersion());
  });

  test("this version's recorded histories exist and cover every path", () => {
    for (const scenario of ['export', 'incremental', 'cursor', 'operator', 'streams', 'chaos-cursor']) {
      expect(files.filter((f) => f.startsWith(`${scenario}-run-`)).length).toBeGreaterThanOrEqual(1);
    }
    // The chaos run's histories hold the crash paths: workflow tasks timed out on killed workers, a 401 that blocked
    // the export, pause and resume signals, a reset update, continue-as-new.
    const chaos = files.filter((f) => f.startsWith('chaos-')).map((f) => fs.readFileSync(path.join(DIR, f), 'utf8'));
    for (const event of ['EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED']) {
      expect(chaos.join('\n')).toContain(event);
    }
    expect(chaos.join('\n')).toContain('ZendeskPermanentError');
    // One set per release (npm run record-histories; npm run chaos -- --tickets 3000 --record), nothing else.
    const generations = files.filter(
      (f) => !/^(chaos-cursor|export|incremental|cursor|operator|streams)-run-\d\d\.json$/.test(f),
    );
    expect(generations).toEqual([]);
    const all = files.map((f) => fs.readFileSync(path.join(DIR, f), 'utf8')).join('\n');
    for (const event of [
      'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
      'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
      'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
      'EVENT_TYPE_TIMER_STARTED',
      'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
      'EVENT_TYPE_ACTIVITY_TASK_FAILED',
    ]) {
      expect(all).toContain(event);
    }
    // The streams around the ticket: their activities, and the setStreams update.
    const streams = files
      .filter((f) => f.startsWith('streams-'))
      .map((f) => fs.readFileSync(path.join(DIR, f), 'utf8'));
    for (const name of ['fetchStreamPage', 'persistStream', 'loadStreamCheckpoint', 'setStreams']) {
      expect(streams.join('\n')).toContain(name);
    }
  });

  test.each(RELEASES)('every history recorded with %s replays with today’s workflow code', async (release) => {
    const dir = path.join(HISTORIES_DIR, release);
    const recorded = jsonFiles(dir);
    expect(recorded.length).toBeGreaterThan(0);
    await replayAll(
      recorded.map((f) => ({ name: `${release}/${f}`, json: fs.readFileSync(path.join(dir, f), 'utf8') })),
    );
  });
});
