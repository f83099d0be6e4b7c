import fs from 'node:fs';
import path from 'node:path';
import { replayAll } from '../helpers/histories';

const DIR = path.join(__dirname, 'histories');

describe('determinism', () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));

  test('recorded histories exist and cover every path', () => {
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
    // One generation of recordings, made by today's code: until 1.0.0 a change to the workflow's commands re-records
    // them (npm run record-histories; npm run chaos -- --tickets 3000 --record) instead of adding a patch.
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

  test('every recorded history replays with today’s workflow code', async () => {
    await replayAll(files.map((f) => ({ name: f, json: fs.readFileSync(path.join(DIR, f), 'utf8') })));
  });
});
