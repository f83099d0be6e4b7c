import { DEFAULT_OAUTH_CLIENT, TICKET_EVENTS_PATH } from '../../src/emulator';
import { freePort } from '../../src/dev-server';
import type { StreamName } from '../../src/streams/names';
import type { ExportStatus } from '../../src/workflows/messages';
import type { ZendeskAuth } from '../../src/zendesk/auth';
import { Harness, spawnWorker, startHarness, waitFor, WorkerProcess } from '../helpers/harness';
import { documentedMetrics, scrapedMetrics } from '../helpers/metrics-scrape';

/*
 * docs/operations.md "Metrics" is the contract of the exporter's metrics (the alerts and the dashboard use it): after
 * a run that meets every event a metric counts (a 429, a rejected row, a 403 that blocks a stream, OAuth tokens), the
 * worker's /metrics shows exactly the documented zendesk_export_* names, types and label names, both ways.
 */

const CLIENT: ZendeskAuth = {
  mode: 'oauth_client_credentials',
  clientId: DEFAULT_OAUTH_CLIENT.clientId,
  clientSecret: DEFAULT_OAUTH_CLIENT.clientSecret,
  scope: 'read',
  tokenTtlSeconds: 3600,
};

const STREAMS: StreamName[] = ['tickets', 'ticket_events', 'users'];

const row = (status: ExportStatus, stream: StreamName) => status.streams?.find((s) => s.stream === stream);

describe('the metrics documentation', () => {
  let h: Harness | undefined;
  let worker: WorkerProcess | undefined;
  afterEach(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await h?.close();
  });

  test('a scrape after a run finds exactly the documented names, types and labels', async () => {
    const harness = await startHarness({
      worker: false,
      start: false,
      auth: CLIENT,
      emulator: {
        ticketCount: 120,
        windowSeconds: 0,
        incrementalRequestsPerMinute: 0,
        usersCursorRequestsPerMinute: 0,
        incrementalMinStartAgeSeconds: 1,
        oauthClients: [DEFAULT_OAUTH_CLIENT],
      },
      input: {
        api: 'cursor',
        streams: STREAMS,
        perPage: 50,
        pollIntervalSeconds: 1,
        minStartAgeSeconds: 1,
        requestsPerMinute: 600,
        usersRequestsPerMinute: 1200,
      },
    });
    h = harness;
    // A ticket_events page with a row whose id cannot be one: set aside in rejected_rows.
    const grant = (await (
      await fetch(`${harness.emulator.url}/oauth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: DEFAULT_OAUTH_CLIENT.clientId,
          client_secret: DEFAULT_OAUTH_CLIENT.clientSecret,
          scope: 'read',
        }),
      })
    ).json()) as { access_token: string };
    const real = (await (
      await fetch(`${harness.emulator.url}${TICKET_EVENTS_PATH}?start_time=0&per_page=20&include=comment_events`, {
        headers: { Authorization: `Bearer ${grant.access_token}` },
      })
    ).json()) as { ticket_events: Record<string, unknown>[]; count: number };
    const events = real.ticket_events;
    const bad = { ...real, ticket_events: [...events, { ...events[0], id: 'abc' }], count: events.length + 1 };
    harness.emulator.injectFaults([
      { kind: 'rateLimit', retryAfter: '1', stream: 'tickets' },
      { kind: 'body', body: JSON.stringify(bad), stream: 'ticket_events' },
      { kind: 'status', status: 403, stream: 'users' },
    ]);
    const port = await freePort();
    worker = spawnWorker(harness, { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' });
    await harness.startWorkflow();
    await waitFor(
      'tickets caught up, a ticket_events row rejected, users blocked',
      async () => {
        const status = await harness.status();
        return row(status, 'tickets')?.caughtUp &&
          (row(status, 'ticket_events')?.rejected ?? 0) > 0 &&
          row(status, 'users')?.blocked
          ? status
          : undefined;
      },
      90_000,
    );

    const documented = documentedMetrics();
    const scrape = async () => scrapedMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), '');
    // Metrics are exported periodically: wait until every documented one has shown up.
    const scraped = await waitFor('every documented metric in the scrape', async () => {
      const all = await scrape();
      return [...documented.keys()].every((name) => all.has(name)) ? all : undefined;
    });
    const ours = new Map([...scraped].filter(([name]) => name.startsWith('zendesk_export_')));
    const sorted = (m: Map<string, unknown>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    expect(sorted(ours)).toEqual(sorted(documented));
    // Nothing of ours outside the prefix; the SDK's own series keep their default names.
    expect([...scraped.keys()].filter((n) => n.startsWith('zendesk') && !n.startsWith('zendesk_export_'))).toEqual([]);
    expect(scraped.has('temporal_activity_execution_latency')).toBe(true);
  }, 180_000);
});
