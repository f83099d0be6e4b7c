import { freePort } from '../../src/dev-server';
import { DEFAULT_CREDENTIALS, TICKET_EVENTS_PATH } from '../../src/emulator';
import type { StreamName } from '../../src/streams/names';
import { Harness, HarnessOptions, spawnWorker, startHarness, waitFor, WorkerProcess } from '../helpers/harness';
import { parseExposition, promtoolTest, Sample, seriesFromScrape } from '../helpers/promtool';

/*
 * deploy/prometheus/alerts.yaml against scrapes of real runs: the worker process (METRICS_PORT) exporting from the
 * emulator, scraped once in the state an alert describes; promtool then plays the run on from that scrape (counters
 * growing at the scraped amount a minute, gauges held) and says which alerts fire. A healthy, caught-up run fires
 * none; the same run stalled (nothing moves any more) fires the ones about silence.
 */

const RULES = 'deploy/prometheus/alerts.yaml';
const ALERTS = [
  'ZendeskExportBlocked',
  'ZendeskExportLagging',
  'ZendeskExportRowsRejected',
  'ZendeskExportNoSuccessfulCall',
  'ZendeskExportWorkerPollsNothing',
] as const;
const STREAMS: StreamName[] = ['tickets', 'ticket_events', 'users'];

function runOptions(extra: { ticketCount: number; requestsPerMinute: number }): HarnessOptions {
  return {
    worker: false,
    start: false,
    emulator: {
      ticketCount: extra.ticketCount,
      windowSeconds: 0,
      incrementalRequestsPerMinute: 0,
      usersCursorRequestsPerMinute: 0,
      incrementalMinStartAgeSeconds: 1,
    },
    input: {
      api: 'cursor',
      streams: STREAMS,
      perPage: 50,
      pollIntervalSeconds: 1,
      minStartAgeSeconds: 1,
      requestsPerMinute: extra.requestsPerMinute,
      usersRequestsPerMinute: 1200,
    },
  };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => s.value);

describe('alerts fired from real scrapes', () => {
  let h: Harness | undefined;
  let worker: WorkerProcess | undefined;
  afterEach(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await h?.close();
    h = undefined;
    worker = undefined;
  });

  async function runWorker(harness: Harness) {
    const port = await freePort();
    worker = spawnWorker(harness, { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' });
    await harness.startWorkflow();
    return async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return { samples: parseExposition(text), scrapedAt: Date.now() / 1000 };
    };
  }

  test('blocked (a 403), lagging (a slow backfill) and rejected rows (a bad page) fire their alerts', async () => {
    // Six calls a minute on the incremental bucket: 2,000 tickets take the backfill minutes, days behind.
    h = await startHarness(runOptions({ ticketCount: 2000, requestsPerMinute: 6 }));
    const real = await emulatorGet(h, `${TICKET_EVENTS_PATH}?start_time=0&per_page=20&include=comment_events`);
    const events = real.ticket_events as Record<string, unknown>[];
    const bad = [
      { ...events[0], id: 'abc' },
      { ...events[1], id: -1 },
    ];
    const page = { ...real, ticket_events: [...events, ...bad], count: events.length + bad.length };
    h.emulator.injectFaults([
      { kind: 'status', status: 403, stream: 'users' },
      { kind: 'body', body: JSON.stringify(page), stream: 'ticket_events' },
    ]);
    const scrape = await runWorker(h);
    const { account } = h;
    // The scrape in the three states at once (the exporter's names: docs/operations.md, "Metrics").
    const troubled = await waitFor(
      'a scrape with users blocked, ticket_events rows rejected and a stream more than an hour behind',
      async () => {
        const s = await scrape();
        const blocked = value(s.samples, 'zendesk_export_blocked', { account, stream: 'users' });
        const rejected = value(s.samples, 'zendesk_export_rows_rejected_total', { account, stream: 'ticket_events' });
        const lag = value(s.samples, 'zendesk_export_lag_seconds', { account });
        return blocked.includes(1) && rejected.some((r) => r >= 2) && lag.some((l) => l > 3600) ? s : undefined;
      },
      120_000,
      1000,
    ).catch(async (err: Error) => {
      const last = await scrape().catch(() => undefined);
      const names = [...new Set(last?.samples.map((x) => x.name).filter((n) => n.startsWith('zendesk_')))];
      throw new Error(`${err.message}\nexporter series in the last scrape: ${names.join(', ')}\n${worker?.output()}`);
    });

    const output = await promtoolTest(RULES, seriesFromScrape(troubled.samples, troubled), [
      { alertname: 'ZendeskExportBlocked', evalTime: '10m', firing: true },
      { alertname: 'ZendeskExportLagging', evalTime: '20m', firing: true },
      { alertname: 'ZendeskExportRowsRejected', evalTime: '2m', firing: true },
    ]);
    expect(output).toContain('SUCCESS');
  }, 240_000);

  test('a healthy, caught-up run fires none; the same run stalled fires the silence alerts', async () => {
    h = await startHarness(runOptions({ ticketCount: 200, requestsPerMinute: 600 }));
    const scrape = await runWorker(h);
    await waitFor(
      'every stream caught up',
      async () => {
        const status = await h!.status();
        return STREAMS.every((s) => status.streams?.find((row) => row.stream === s)?.caughtUp);
      },
      90_000,
      500,
    );
    const healthy = await waitFor(
      'a scrape with every stream stored and caught up',
      async () => {
        const s = await scrape();
        const stored = value(s.samples, 'zendesk_export_rows_stored_total', { account: h!.account });
        const lag = value(s.samples, 'zendesk_export_lag_seconds', { account: h!.account });
        return stored.some((v) => v > 0) && lag.length > 0 && lag.every((l) => l < 600) ? s : undefined;
      },
      60_000,
      1000,
    );
    expect(value(healthy.samples, 'zendesk_export_blocked').every((v) => v === 0)).toBe(true);
    expect(value(healthy.samples, 'zendesk_export_rows_rejected_total').every((v) => v === 0)).toBe(true);

    const series = seriesFromScrape(healthy.samples, healthy);
    const output = await promtoolTest(
      RULES,
      series,
      ALERTS.flatMap((alertname) =>
        ['2m', '20m', '40m', '90m'].map((evalTime) => ({ alertname, evalTime, firing: false })),
      ),
    );
    expect(output).toContain('SUCCESS');

    // Stalled: the same scrape, nothing moving from then on (no call succeeds, no poll returns).
    const stalled = series.map(({ series: name, values }) => ({ series: name, values: stall(values) }));
    await promtoolTest(RULES, stalled, [
      { alertname: 'ZendeskExportNoSuccessfulCall', evalTime: '20m', firing: false },
      { alertname: 'ZendeskExportNoSuccessfulCall', evalTime: '40m', firing: true },
      { alertname: 'ZendeskExportWorkerPollsNothing', evalTime: '20m', firing: true },
      { alertname: 'ZendeskExportBlocked', evalTime: '40m', firing: false },
    ]);
  }, 240_000);
});

/** A promtool series that stops changing at the scrape: `a+bxN` becomes `axN` (counters stay at what was scraped). */
function stall(values: string): string {
  const growing = /^(-?[\d.e+]+)\+(-?[\d.e+]+)x(\d+)$/.exec(values);
  if (!growing) return values;
  const [, start, step, steps] = growing;
  // Counters start at 0 and grow: hold them at one minute's growth (> 0, so the poll counters exist and stay flat).
  return `${Number(start) === 0 ? step : start}x${steps}`;
}

async function emulatorGet(h: Harness, path: string): Promise<Record<string, unknown>> {
  const auth = Buffer.from(`${DEFAULT_CREDENTIALS.email}/token:${DEFAULT_CREDENTIALS.apiToken}`).toString('base64');
  const response = await fetch(`${h.emulator.url}${path}`, { headers: { Authorization: `Basic ${auth}` } });
  return (await response.json()) as Record<string, unknown>;
}
