import fs from 'node:fs';
import path from 'node:path';
import { replayAll } from '../helpers/histories';

const DIR = path.join(__dirname, 'histories');

/** The ids of the `patched()` markers a history records. */
function patchesIn(json: string): string[] {
  const history = JSON.parse(json) as {
    events: { markerRecordedEventAttributes?: { details?: Record<string, { payloads?: { data?: string }[] }> } }[];
  };
  return history.events.flatMap((event) =>
    (event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map(
      (payload) => (JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString()) as { id: string }).id,
    ),
  );
}

describe('determinism', () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));

  test('recorded histories exist and cover every path', () => {
    for (const scenario of ['export', 'incremental', 'cursor', 'operator', 'chaos-cursor']) {
      expect(files.filter((f) => f.startsWith(`${scenario}-run-`)).length).toBeGreaterThanOrEqual(1);
    }
    // The chaos run's histories hold the crash paths: workflow tasks timed out on killed workers, a 401 that blocked
    // the export, pause and resume signals, a reset update, continue-as-new.
    const chaos = files.filter((f) => f.startsWith('chaos-')).map((f) => fs.readFileSync(path.join(DIR, f), 'utf8'));
    for (const event of ['EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED']) {
      expect(chaos.join('\n')).toContain(event);
    }
    expect(chaos.join('\n')).toContain('ZendeskPermanentError');
    // Both sides of the one-timer-after-429 patch: chaos-v1-* were recorded before it (a Retry-After timer, then a
    // pacing timer), the newer ones after it (its marker, one timer).
    const [before, after] = [
      files.filter((f) => f.startsWith('chaos-v1-')),
      files.filter((f) => /^chaos-cursor-/.test(f)),
    ];
    const marked = (f: string) => patchesIn(fs.readFileSync(path.join(DIR, f), 'utf8')).includes('one-timer-after-429');
    expect({ before: before.length > 0 && !before.some(marked), after: after.some(marked) }).toEqual({
      before: true,
      after: true,
    });
    // And of the state-search-attribute patch (ZendeskState): v1-* and chaos-* recorded before it, the rest after.
    // (v5-export-run-* and v5-operator-run-* are those scenarios' recordings before persist-locally, v6-export-run-* and
    // v6-incremental-run-* before cursor-upsert-throttled and skip-stored-again.)
    const has = (patch: string) => (f: string) => patchesIn(fs.readFileSync(path.join(DIR, f), 'utf8')).includes(patch);
    const stateBefore = files.filter((f) => f.startsWith('v1-') || f.startsWith('chaos-'));
    const stateAfter = files.filter((f) => /^(v2-|v5-|v6-)?(export|incremental|cursor|operator)-run-/.test(f));
    expect({
      before: !stateBefore.some(has('state-search-attribute')),
      after: stateAfter.every(has('state-search-attribute')),
    }).toEqual({ before: true, after: true });
    // And of the operator-interrupts patch (waits an operator's message ends, a reset in the checkpoint): v1-*, v2-*
    // and chaos-* were recorded before it, the rest after it.
    const interruptsBefore = files.filter((f) => /^(v1-|v2-|chaos-)/.test(f));
    const interruptsAfter = files.filter((f) => /^(v5-|v6-)?(export|incremental|cursor|operator)-run-/.test(f));
    expect({
      before: interruptsBefore.length > 0 && !interruptsBefore.some(has('operator-interrupts')),
      after: interruptsAfter.length >= 4 && interruptsAfter.every(has('operator-interrupts')),
    }).toEqual({ before: true, after: true });
    // And of resume-keeps-retry-after (a resume keeps a 503's Retry-After): (v5-)operator-run-* hold a 503 and a resume
    // after it (v3-operator-run-* is the operator scenario's recording before it); (v6-)export-run-* and
    // incremental-run-* came later still; the rest were recorded before it.
    const keepsAfter = files.filter((f) => /^(v5-)?operator-run-/.test(f));
    const later = /^((v6-)?export|incremental)-run-/;
    const keepsBefore = files.filter((f) => !keepsAfter.includes(f) && !later.test(f));
    expect({
      before: !keepsBefore.some(has('resume-keeps-retry-after')),
      after: keepsAfter.some(has('resume-keeps-retry-after')),
    }).toEqual({ before: true, after: true });
    // And of idle-wait-counts (an idle wait that ran out counts towards the pacing): cursor-run-* holds an idle poll
    // recorded after it (v4-cursor-run-* is the scenario's earlier recording), incremental-run-* came later still;
    // everything else was recorded before.
    expect({
      before: !files.filter((f) => !/^(cursor|incremental)-run-/.test(f)).some(has('idle-wait-counts')),
      after: files.filter((f) => f.startsWith('cursor-run-')).some(has('idle-wait-counts')),
    }).toEqual({ before: true, after: true });
    // And of persist-locally (a page stored by a local activity, in the workflow task that received it):
    // (v6-)export-run-*, operator-run-* (a database outage during a persist) and incremental-run-* were recorded after
    // it, everything else before.
    const scenarioRuns = (pattern: RegExp) => files.filter((f) => pattern.test(f));
    const locally = /^((v6-)?export|operator|incremental)-run-/;
    expect({
      before: !files.filter((f) => !locally.test(f)).some(has('persist-locally')),
      export: scenarioRuns(/^export-run-/).some(has('persist-locally')),
      operator: scenarioRuns(/^operator-run-/).some(has('persist-locally')),
    }).toEqual({ before: true, export: true, operator: true });
    // And of cursor-upsert-throttled (a cursor that merely moved is published at most once a minute) and
    // skip-stored-again (an idle poll that repeats the stored cursor's second stores nothing): export-run-* (idle polls
    // with nothing new) and incremental-run-* were recorded after them, everything else before.
    const newest = /^(export|incremental)-run-/;
    for (const patch of ['cursor-upsert-throttled', 'skip-stored-again']) {
      expect({ patch, before: !files.filter((f) => !newest.test(f)).some(has(patch)) }).toEqual({
        patch,
        before: true,
      });
    }
    expect({
      export: ['cursor-upsert-throttled', 'skip-stored-again'].every((p) => scenarioRuns(/^export-run-/).some(has(p))),
      incremental: scenarioRuns(/^incremental-run-/).some(has('cursor-upsert-throttled')),
    }).toEqual({ export: true, incremental: true });
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
  });

  test('every recorded history replays with today’s workflow code', async () => {
    await replayAll(files.map((f) => ({ name: f, json: fs.readFileSync(path.join(DIR, f), 'utf8') })));
  });
});
