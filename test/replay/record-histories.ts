// Records the histories that test/replay/replay.test.ts replays: `npm run record-histories [-- scenario...]`.
// Scenarios (each writes <scenario>-run-NN.json and replaces only its own files):
// - export: the specified endpoint through every path: 429s, too-recent, blocked + resume, pause, reset by update
//   and by signal (good and bad), a same-timestamp burst stepped past, transient faults, continue-as-new, idle polls
//   that repeat the stored cursor's second.
// - incremental: time-based with a crowded second read through the cursor endpoint, a 504, idle + pollNow.
// - cursor: cursor-based with idle waits, pollNow, a rejected cursor, a 429, continue-as-new.
// - operator: the specified endpoint with a reset during the pacing wait (written to the checkpoint), a database
//   outage during a persist with a pause and a reset while it lasts, a resume, continue-as-new.
// - streams: every stream (the reference lists too) with churn, a 429 on one stream (its bucket waits), a 429 on the
//   reference lists (the account bucket), a 403 that blocks one stream and a resume, a reset of one stream and of the
//   reference lists (a refresh now), a list changed between refreshes, setStreams dropping and adding streams, a 504 on
//   comment pages, continue-as-new.
import fs from 'node:fs';
import path from 'node:path';
import globalSetup from '../global-setup';
import globalTeardown from '../global-teardown';
import { fetchRunHistories } from '../helpers/histories';
import { sleepMs, startHarness, waitFor } from '../helpers/harness';
import {
  pauseSignal,
  pollNowSignal,
  resetCursorSignal,
  resetCursorUpdate,
  resumeSignal,
  setStreamsUpdate,
} from '../../src/workflows/messages';
import { STREAMS } from '../../src/streams/names';
import { Harness } from '../helpers/harness';
import { SinkOutage } from '../helpers/outage';
import { releaseHistoriesDir } from './releases';

// This version's folder: the recordings of earlier releases stay, and keep replaying.
const OUT = releaseHistoriesDir();

function stepper(h: Harness) {
  return async (what: string, probe: () => Promise<boolean>) => {
    console.log(`- ${what}`);
    await waitFor(what, probe, 120_000).catch(async (err) => {
      throw new Error(`${err.message}\n${JSON.stringify(await h.status(), null, 1)}`);
    });
  };
}

async function save(h: Harness, scenario: string): Promise<void> {
  const histories = await fetchRunHistories(h.client, h.workflowId);
  fs.mkdirSync(OUT, { recursive: true });
  for (const file of fs.readdirSync(OUT)) if (file.startsWith(`${scenario}-run-`)) fs.rmSync(path.join(OUT, file));
  histories.forEach(({ json }, i) => {
    fs.writeFileSync(path.join(OUT, `${scenario}-run-${String(i + 1).padStart(2, '0')}.json`), json);
  });
  console.log(`${scenario}: wrote ${histories.length} histories to ${OUT}`);
}

async function recordExport() {
  const burstAt = Math.floor(Date.now() / 1000) - 600;
  const h = await startHarness({
    emulator: {
      ticketCount: 1500,
      windowSeconds: 2,
      minStartAgeSeconds: 1,
      bursts: [{ size: 1100, timestamp: burstAt }],
    },
    input: { pollIntervalSeconds: 1, minStartAgeSeconds: 1, pagesPerRun: 3 },
  });
  try {
    const step = stepper(h);
    await step('429s and continue-as-new while catching up', async () => {
      const s = await h.status();
      return s.rateLimited > 0 && s.pages >= 4 && s.lastPageSize < 1000;
    });
    h.emulator.configure({ windowSeconds: 0 });

    h.emulator.injectFaults([{ kind: 'status', status: 401 }]);
    await step('blocked by a 401', async () => (await h.status()).blocked);
    await h.handle.signal(resumeSignal);
    await step('resumed', async () => !(await h.status()).blocked);

    await h.handle.signal(pauseSignal);
    await step('paused', async () => (await h.status()).phase === 'paused');
    await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: burstAt - 10 }] });
    await h.handle.signal(resetCursorSignal, { startTime: -1 });
    await h.handle.signal(resetCursorSignal, { startTime: burstAt - 5 });
    await h.handle.signal(resumeSignal);
    await step('the burst stepped past', async () => (await h.status()).warnings.some((w) => w.includes('full page')));

    h.emulator.configure({ minStartAgeSeconds: 4 });
    h.emulator.startMutations({ intervalMs: 300, perTick: 1 });
    await step('a too-recent answer', async () => (h.emulator.stats().byStatus['422'] ?? 0) > 0);
    h.emulator.stopMutations();
    h.emulator.configure({ minStartAgeSeconds: 1 });
    h.emulator.injectFaults([{ kind: 'status', status: 503, retryAfter: '1' }, { kind: 'truncated' }]);
    await sleepMs(4000);
    await step('caught up again', async () => h.emulator.stats().calls > 0 && (await h.status()).lastError === null);
    // Nothing changes now: each poll repeats the stored cursor's second, which is not stored again.
    const callsCaughtUp = h.emulator.stats().calls;
    await step('idle polls with nothing new', async () => h.emulator.stats().calls >= callsCaughtUp + 2);

    await save(h, 'export');
  } finally {
    await h.close();
  }
}

const INCREMENTAL = { incrementalRequestsPerMinute: 0, incrementalMinStartAgeSeconds: 1, windowSeconds: 0 };

async function recordIncremental() {
  const burstAt = Math.floor(Date.now() / 1000) - 600;
  const h = await startHarness({
    emulator: {
      ...INCREMENTAL,
      ticketCount: 250,
      descriptionBytes: [100, 200],
      bursts: [{ size: 150, timestamp: burstAt }],
    },
    input: { api: 'incremental', perPage: 100, pollIntervalSeconds: 30, minStartAgeSeconds: 1, requestsPerMinute: 600 },
  });
  try {
    const step = stepper(h);
    await step('the crowded second read by cursor, then idle', async () => {
      const s = await h.status();
      return s.caughtUp && s.warnings.some((w) => w.includes('through the cursor endpoint'));
    });
    h.emulator.configure({ maxPageBytes: 2000 });
    h.emulator.mutate(3);
    await h.handle.signal(pollNowSignal);
    await step('a 504 halves per_page', async () => (h.emulator.stats().byStatus['504'] ?? 0) > 0);
    h.emulator.configure({ maxPageBytes: 0 });
    await step('idle again', async () => (await h.status()).phase === 'idle');
    await save(h, 'incremental');
  } finally {
    await h.close();
  }
}

async function recordCursor() {
  const h = await startHarness({
    emulator: { ...INCREMENTAL, ticketCount: 350, descriptionBytes: [100, 200] },
    input: {
      api: 'cursor',
      perPage: 100,
      pollIntervalSeconds: 30,
      minStartAgeSeconds: 1,
      requestsPerMinute: 600,
      pagesPerRun: 3,
    },
  });
  try {
    const step = stepper(h);
    h.emulator.injectFaults([{ kind: 'rateLimit', retryAfter: '1' }]);
    await step('caught up through continue-as-new', async () => (await h.status()).phase === 'idle');
    h.emulator.injectFaults([{ kind: 'status', status: 400, body: '{"error":"InvalidCursor","description":"bad"}' }]);
    h.emulator.mutate(5);
    await h.handle.signal(pollNowSignal);
    await step('the rejected cursor reported', async () =>
      (await h.status()).warnings.some((w) => w.includes('the cursor was rejected')),
    );
    await sleepMs(1500);
    await h.handle.signal(pollNowSignal);
    await step('idle with the new tickets', async () => {
      const s = await h.status();
      return s.phase === 'idle' && s.lastPageSize > 0;
    });
    // An idle wait that runs out: the poll follows it with no second timer (idle-wait-counts).
    const calls = h.emulator.stats().calls;
    await step('a poll after the idle interval', async () => h.emulator.stats().calls > calls);
    await step('idle again', async () => (await h.status()).phase === 'idle');
    await save(h, 'cursor');
  } finally {
    await h.close();
  }
}

async function recordOperator() {
  const outage = new SinkOutage();
  const h = await startHarness({
    emulator: { ticketCount: 2500, windowSeconds: 0, minStartAgeSeconds: 1 },
    input: { pollIntervalSeconds: 3, minStartAgeSeconds: 1, pagesPerRun: 4 },
    workerSink: (sink) => outage.wrap(sink),
  });
  try {
    const step = stepper(h);
    await step('the pacing wait after page 1', async () => {
      const s = await h.status();
      return s.pages === 1 && s.phase === 'waiting';
    });
    const reset = Math.floor(Date.now() / 1000) - 3 * 86_400;
    const calls = h.emulator.stats().calls;
    await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: reset }] });
    await step('the reset in the checkpoint', async () => (await h.sink.readCheckpoint(h.account)) === reset);
    await step('the next call asks for the reset', async () => h.emulator.stats().log[calls]?.startTime === reset);
    await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: 0 }] });
    await step('a page stored after the second reset', async () => (await h.status()).pages >= 2);
    outage.down = true;
    await step('persist failing', async () => /persist failed/.test((await h.status()).lastError ?? ''));
    await h.handle.signal(pauseSignal);
    await step('paused while the database is down', async () => (await h.status()).phase === 'paused');
    await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: 0 }] });
    outage.down = false;
    await h.handle.signal(resumeSignal);
    await step('caught up through continue-as-new', async () => {
      const s = await h.status();
      return s.ticketsStored >= 2500 && s.lastPageSize < 1000 && s.lastError === null;
    });
    // A 503 whose Retry-After is beyond the activity's retries: the workflow waits it out, and a resume keeps it.
    h.emulator.injectFaults([{ kind: 'status', status: 503, retryAfter: '40' }]);
    await step('the 503 waited out by the workflow', async () => /503/.test((await h.status()).lastError ?? ''));
    await h.handle.signal(resumeSignal);
    await step('a call after the Retry-After', async () => (await h.status()).lastError === null);
    await save(h, 'operator');
  } finally {
    await h.close();
  }
}

async function recordStreams() {
  const h = await startHarness({
    emulator: {
      ticketCount: 80,
      windowSeconds: 0,
      incrementalRequestsPerMinute: 1200,
      usersCursorRequestsPerMinute: 2400,
      accountRequestsPerMinute: 2400,
      incrementalMinStartAgeSeconds: 1,
    },
    input: {
      api: 'cursor',
      streams: [...STREAMS],
      accountRequestsPerMinute: 600,
      referenceRefreshSeconds: 3600,
      // No explicit start time: each stream's first cursor comes from its checkpoint (loadStreamCheckpoint).
      startTime: undefined,
      defaultStartTime: 0,
      perPage: 100,
      pollIntervalSeconds: 2,
      minStartAgeSeconds: 1,
      requestsPerMinute: 600,
      usersRequestsPerMinute: 1200,
      pagesPerRun: 12,
    },
  });
  try {
    const step = stepper(h);
    const row = async (stream: string) => (await h.status()).streams?.find((s) => s.stream === stream);
    h.emulator.injectFaults([
      { kind: 'rateLimit', retryAfter: '1', stream: 'organizations' },
      { kind: 'status', status: 403, stream: 'users' },
      { kind: 'commentEventsTimeout', perPageAbove: 50, stream: 'ticket_events' },
      { kind: 'rateLimit', retryAfter: '1', stream: 'reference_lists' },
    ]);
    await step('users blocked by the 403', async () => (await row('users'))?.blocked === true);
    await h.handle.signal(resumeSignal);
    await step('every stream caught up', async () => (await h.status()).streams?.every((s) => s.caughtUp) ?? false);
    await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: 0, stream: 'organizations' }] });
    h.emulator.changeReferenceList('groups', 'delete', h.emulator.streamTruth('groups')[0].id);
    await h.handle.executeUpdate(resetCursorUpdate, { args: [{ startTime: 0, stream: 'reference_lists' }] });
    await h.handle.executeUpdate(setStreamsUpdate, { args: [{ streams: ['tickets', 'ticket_events', 'users'] }] });
    h.emulator.startMutations({ intervalMs: 200, perTick: 2 });
    await sleepMs(3000);
    await h.handle.executeUpdate(setStreamsUpdate, { args: [{ streams: [...STREAMS] }] });
    await sleepMs(2000);
    h.emulator.stopMutations();
    await h.handle.signal(pollNowSignal);
    await step('caught up again, through continue-as-new', async () => {
      const s = await h.status();
      return (s.streams?.length ?? 0) === STREAMS.length && (s.streams?.every((r) => r.caughtUp) ?? false);
    });
    await save(h, 'streams');
  } finally {
    await h.close();
  }
}

const SCENARIOS: Record<string, () => Promise<void>> = {
  streams: recordStreams,
  export: recordExport,
  incremental: recordIncremental,
  cursor: recordCursor,
  operator: recordOperator,
};

async function run() {
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SCENARIOS);
  await globalSetup();
  try {
    for (const name of names) {
      if (!SCENARIOS[name]) throw new Error(`unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
      await SCENARIOS[name]();
    }
  } finally {
    await globalTeardown();
  }
}

run().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
