import { temporal } from '@temporalio/proto';
import { purgeBlobsOfClosedRuns } from '../../src/codec/blob-purge';
import { CLAIM_CHECK_ENCODING } from '../../src/codec/claim-check';
import { startCodecServer } from '../../src/codec/codec-server';
import { createDataConverter } from '../../src/codec/claim-check';
import { ExportApi } from '../../src/shared';
import { pollNowSignal } from '../../src/workflows/messages';
import { Harness, sleepMs, spawnWorker, startHarness, waitFor } from '../helpers/harness';

const FAST = { incrementalRequestsPerMinute: 0, incrementalMinStartAgeSeconds: 1, windowSeconds: 0 };
const input = (api: ExportApi, extra = {}) => ({
  api,
  pollIntervalSeconds: 1,
  minStartAgeSeconds: 1,
  requestsPerMinute: 600,
  ...extra,
});

describe.each(['incremental', 'cursor'] as const)('the %s endpoint', (api) => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('catch-up with live mutations ends equal to the truth; a 429 is obeyed to the second', async () => {
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 2500, mutations: { intervalMs: 100, perTick: 2 } },
      input: input(api),
    });
    h.emulator.injectFaults([{ kind: 'rateLimit', retryAfter: '2' }]);
    await waitFor('several pages', async () => (await h.status()).pages >= 3, 60_000);
    await sleepMs(1500);
    h.emulator.stopMutations();
    await h.waitForTruth(60_000);
    const status = await h.status();
    expect(status.api).toBe(api);
    expect(status.rateLimited).toBe(1);
    expect(h.emulator.stats().callsBeforeRetryAfter).toBe(0);
    expect(status.caughtUp).toBe(true);
    const checkpoint = await h.sink.readFullCheckpoint(h.account);
    expect(checkpoint?.api).toBe(api);
    if (api === 'cursor') expect(checkpoint?.afterCursor).toBe(status.afterCursor);
  });

  test('a 504 on a big page halves per_page for the next call, then recovers after good pages', async () => {
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 1500, maxPageBytes: 1_200_000 },
      input: input(api),
    });
    await h.waitForTruth(60_000);
    const status = await h.status();
    expect(h.emulator.stats().byStatus['504']).toBeGreaterThan(0);
    expect(status.warnings.join('\n')).toMatch(/504 from Zendesk at per_page=1000: asking for 500 next/);
    // Back to 1000 after three good pages (the idle polls count), not after the first one.
    await waitFor('per_page back to 1000', async () => (await h.status()).perPage === 1000, 20_000);
  });
});

describe('same-second bursts and large pages', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('time-based: a 1,200-ticket second is read through the cursor endpoint, nothing hidden', async () => {
    const burstAt = Math.floor(Date.now() / 1000) - 3600;
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 300, bursts: [{ size: 1200, timestamp: burstAt }] },
      input: input('incremental', { startTime: burstAt - 60 }),
    });
    // Tickets before startTime are not expected: compare only what the export was asked for.
    await waitFor('the export past the burst', async () => (await h.status()).cursor > burstAt, 60_000);
    await waitFor('caught up', async () => (await h.status()).caughtUp, 60_000);
    const stored = new Set((await h.sink.readTickets(h.account)).map((t) => t.id));
    const expected = h.emulator.truthFull().filter((t) => t.generated_timestamp >= burstAt - 60);
    expect(expected.filter((t) => t.generated_timestamp === burstAt).length).toBe(1200);
    expect(expected.filter((t) => !stored.has(t.id))).toEqual([]);
    const status = await h.status();
    expect(status.warnings.join('\n')).toMatch(/reading that second through the cursor endpoint/);
    expect(h.emulator.stats().byEndpoint.cursor).toBeGreaterThanOrEqual(2);
  });

  test('cursor-based: a 1,200-ticket second is simply paged through', async () => {
    const burstAt = Math.floor(Date.now() / 1000) - 3600;
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 300, bursts: [{ size: 1200, timestamp: burstAt }] },
      input: input('cursor', { perPage: 500 }),
    });
    await h.waitForTruth(60_000);
    const status = await h.status();
    expect(status.warnings).toEqual([]);
    expect(h.emulator.stats().byEndpoint.incremental ?? 0).toBe(0);
  });

  test('pages of large tickets: staged out of the history (no payload above 256 KiB), results readable in the codec endpoint', async () => {
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 1500, descriptionBytes: [9000, 12000] },
      input: input('cursor'),
    });
    await h.waitForTruth(90_000);
    const history = await h.handle.fetchHistory();
    let largest = 0;
    const results: temporal.api.common.v1.IPayload[] = [];
    for (const event of history.events ?? []) {
      const payloads = [
        ...(event.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
        ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
        ...Object.values(event.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => p.payloads ?? []),
      ];
      for (const payload of payloads) {
        largest = Math.max(largest, temporal.api.common.v1.Payload.encode(payload).finish().length);
        expect(Buffer.from(payload.metadata?.encoding ?? []).toString()).not.toBe(CLAIM_CHECK_ENCODING);
      }
      results.push(...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []));
    }
    console.log(`largest history payload: ${largest} bytes`);
    expect(largest).toBeLessThanOrEqual(64 * 1024);

    // What the Web UI shows of a fetchPage result: the page's summary and where it was staged, not its tickets.
    const server = await startCodecServer({ codecs: createDataConverter(h.blobStore).payloadCodecs ?? [] });
    const staged: string[] = [];
    try {
      const body = {
        payloads: results.map((p) => ({
          metadata: Object.fromEntries(
            Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(p.data ?? []).toString('base64'),
        })),
      };
      const response = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: 'http://localhost:8233' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      const decoded = (await response.json()) as { payloads: { data: string }[] };
      for (const payload of decoded.payloads) {
        const value = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as {
          kind?: string;
          content?: { staged?: string };
        };
        if (value.kind === 'page' && value.content?.staged) staged.push(value.content.staged);
      }
    } finally {
      await server.close();
    }
    expect(staged.length).toBeGreaterThan(0);
    for (const id of staged) expect(await h.blobStore.get(id)).toBeDefined();
    // Once stored, a staged page is only kept until the retention purge.
    await purgeBlobsOfClosedRuns(h.blobStore, h.client, 0, Date.now() + 1000);
    for (const id of staged) expect(await h.blobStore.get(id)).toBeUndefined();
  });

  test('a cursor export survives a worker kill and continues from its after_cursor', async () => {
    h = await startHarness({
      worker: false,
      emulator: { ...FAST, ticketCount: 6000 },
      input: input('cursor', { perPage: 500, requestsPerMinute: 120 }),
    });
    let worker = spawnWorker(h);
    await waitFor('progress', async () => ((await h.status().catch(() => undefined))?.pages ?? 0) >= 3, 60_000);
    worker.child.kill('SIGKILL');
    await worker.exited;
    const callsBefore = h.emulator.stats().log.length;
    worker = spawnWorker(h);
    await h.waitForTruth(90_000);
    const after = h.emulator.stats().log.slice(callsBefore);
    // Every call after the restart continued by cursor: none started over from a start_time.
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((e) => e.startTime !== null)).toEqual([]);
    worker.child.kill('SIGTERM');
    await worker.exited;
  });
});

describe('cursor export edge cases', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  test('pollNow cuts the idle wait short; a rejected cursor restarts from the newest stored timestamp', async () => {
    h = await startHarness({
      emulator: { ...FAST, ticketCount: 800 },
      input: input('cursor', { pollIntervalSeconds: 120 }),
    });
    await h.waitForTruth(30_000);
    await waitFor('idle', async () => (await h.status()).phase === 'idle', 10_000);
    const before = await h.status();

    // A stored cursor the API no longer accepts: back to start_time = the newest generated_timestamp.
    h.emulator.injectFaults([
      { kind: 'status', status: 400, body: '{"error":"InvalidCursor","description":"cursor is invalid"}' },
    ]);
    h.emulator.mutate(20);
    await h.handle.signal(pollNowSignal);
    await waitFor('the rejected cursor reported', async () =>
      (await h.status()).warnings.some((w) => w.includes('the cursor was rejected')),
    );
    await sleepMs(1200);
    await h.handle.signal(pollNowSignal);
    await h.waitForTruth(20_000); // far sooner than the 120 s idle interval
    const after = await h.status();
    expect(after.calls).toBeGreaterThan(before.calls);
    const restart = h.emulator.stats().log.find((e) => e.startTime !== null && e.startTime >= before.cursor);
    expect(restart?.startTime).toBe(before.cursor);
  });

  test('an after_cursor that does not advance while tickets keep coming is reported, not looped on', async () => {
    h = await startHarness({ emulator: { ...FAST, ticketCount: 300 }, input: input('cursor') });
    await h.waitForTruth(30_000);
    const { afterCursor } = await h.status();
    const stuck = JSON.stringify({
      tickets: [h.emulator.truthFull()[0]],
      after_cursor: afterCursor,
      after_url: `${h.emulator.url}/api/v2/incremental/tickets/cursor.json?cursor=${afterCursor}`,
      before_cursor: null,
      before_url: null,
      end_of_stream: false,
    });
    h.emulator.injectFaults([{ kind: 'body', body: stuck, contentType: 'application/json', count: 5 }]);
    await h.handle.signal(pollNowSignal);
    // The warning is added when the page is read, before it is stored: wait for the idle phase that follows.
    const status = await waitFor('the stuck cursor reported, then idle', async () => {
      const s = await h.status();
      return s.warnings.some((w) => w.includes('after_cursor did not advance')) && s.phase === 'idle' && s;
    });
    expect(status.caughtUp).toBe(true);
    const calls = h.emulator.stats().calls;
    await sleepMs(1500);
    expect(h.emulator.stats().calls - calls).toBeLessThanOrEqual(2); // not looped on: the 1 s poll interval paces it
  });
});
