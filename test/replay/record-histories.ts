// Records the histories that test/replay/replay.test.ts replays: `npm run record-histories`.
// One export walks through every path of the workflow: 429s, too-recent, blocked + resume, pause, reset by
// update and by signal (good and bad), a same-timestamp burst, transient faults, and continue-as-new.
import fs from 'node:fs';
import path from 'node:path';
import globalSetup from '../global-setup';
import globalTeardown from '../global-teardown';
import { fetchRunHistories } from '../helpers/histories';
import { sleepMs, startHarness, waitFor } from '../helpers/harness';
import { pauseSignal, resetCursorSignal, resetCursorUpdate, resumeSignal } from '../../src/workflows/messages';

const OUT = path.join(__dirname, 'histories');

async function run() {
  await globalSetup();
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
    const step = async (what: string, probe: () => Promise<boolean>) => {
      console.log(`- ${what}`);
      await waitFor(what, probe, 120_000).catch(async (err) => {
        throw new Error(`${err.message}\n${JSON.stringify(await h.status(), null, 1)}`);
      });
    };
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

    const histories = await fetchRunHistories(h.client, h.workflowId);
    fs.mkdirSync(OUT, { recursive: true });
    for (const file of fs.readdirSync(OUT)) if (file.endsWith('.json')) fs.rmSync(path.join(OUT, file));
    histories.forEach(({ json }, i) => {
      fs.writeFileSync(path.join(OUT, `export-run-${String(i + 1).padStart(2, '0')}.json`), json);
    });
    console.log(`wrote ${histories.length} histories to ${OUT}`);
  } finally {
    await h.close();
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
