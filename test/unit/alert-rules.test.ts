import { parseExposition, promtoolCheckRules, promtoolTest, seriesFromScrape } from '../helpers/promtool';

/*
 * deploy/prometheus/alerts.yaml on written expositions in the exporter's names (test/integration/alerts.test.ts fires
 * them on real scrapes): each alert fires in the state it describes and stays quiet on a healthy worker.
 */

const RULES = 'deploy/prometheus/alerts.yaml';
const NOW = 1_790_000_000;

function exposition(state: { blocked?: number; lag?: number; rejected?: number; lastSuccessAge?: number }): string {
  const { blocked = 0, lag = 5, rejected = 0, lastSuccessAge = 10 } = state;
  const labels = 'account="acme",stream="users"';
  const core = 'namespace="default",service_name="temporal-core-sdk",task_queue="zendesk-export"';
  return [
    '# HELP zendesk_export_blocked 1 while a permanent error blocks the stream',
    '# TYPE zendesk_export_blocked gauge',
    `zendesk_export_blocked{${labels}} ${blocked}`,
    '# TYPE zendesk_export_lag_seconds gauge',
    `zendesk_export_lag_seconds{${labels}} ${lag}`,
    '# TYPE zendesk_export_rows_rejected_total counter',
    `zendesk_export_rows_rejected_total{${labels}} ${rejected}`,
    '# TYPE zendesk_export_rows_stored_total counter',
    `zendesk_export_rows_stored_total{${labels}} 50`,
    '# TYPE zendesk_export_last_success_timestamp_seconds gauge',
    `zendesk_export_last_success_timestamp_seconds{${labels}} ${NOW - lastSuccessAge}`,
    '# HELP temporal_long_request Count of long-poll request successes by rpc name',
    '# TYPE temporal_long_request counter',
    `temporal_long_request{${core},operation="PollActivityTaskQueue"} 10`,
    `temporal_long_request{${core},operation="PollWorkflowTaskQueue"} 15`,
    '',
  ].join('\n');
}

const series = (text: string) => seriesFromScrape(parseExposition(text), { scrapedAt: NOW });
const ALERTS = [
  'ZendeskExportBlocked',
  'ZendeskExportLagging',
  'ZendeskExportRowsRejected',
  'ZendeskExportNoSuccessfulCall',
  'ZendeskExportWorkerPollsNothing',
];

describe('deploy/prometheus/alerts.yaml', () => {
  test('promtool check rules accepts it', async () => {
    expect(await promtoolCheckRules(RULES)).toMatch(/SUCCESS: 5 rules found/);
  });

  test('a healthy worker fires none', async () => {
    const quiet = ALERTS.flatMap((alertname) =>
      ['2m', '30m', '90m'].map((evalTime) => ({ alertname, evalTime, firing: false })),
    );
    expect(await promtoolTest(RULES, series(exposition({})), quiet)).toContain('SUCCESS');
  });

  test('each state fires its alert, after its `for`', async () => {
    await promtoolTest(RULES, series(exposition({ blocked: 1 })), [
      { alertname: 'ZendeskExportBlocked', evalTime: '3m', firing: false },
      { alertname: 'ZendeskExportBlocked', evalTime: '6m', firing: true },
    ]);
    await promtoolTest(RULES, series(exposition({ lag: 7200 })), [
      { alertname: 'ZendeskExportLagging', evalTime: '10m', firing: false },
      { alertname: 'ZendeskExportLagging', evalTime: '16m', firing: true },
    ]);
    await promtoolTest(RULES, series(exposition({ rejected: 3 })), [
      { alertname: 'ZendeskExportRowsRejected', evalTime: '2m', firing: true },
    ]);
    // Rejected once, long ago: quiet again an hour after the counter stopped growing.
    const once = series(exposition({})).map((s) =>
      s.series.startsWith('zendesk_export_rows_rejected_total') ? { ...s, values: '3x180' } : s,
    );
    await promtoolTest(RULES, once, [
      { alertname: 'ZendeskExportRowsRejected', evalTime: '30m', firing: true },
      { alertname: 'ZendeskExportRowsRejected', evalTime: '90m', firing: false },
    ]);
    // Last success 25 minutes before the scrape, and none since (the gauge holds).
    const stale = series(exposition({ lastSuccessAge: 1500 })).map((s) =>
      s.series.startsWith('zendesk_export_last_success') ? { ...s, values: `${-1500}x120` } : s,
    );
    await promtoolTest(RULES, stale, [
      { alertname: 'ZendeskExportNoSuccessfulCall', evalTime: '4m', firing: false },
      { alertname: 'ZendeskExportNoSuccessfulCall', evalTime: '6m', firing: true },
    ]);
    // The poll counters stop: no answer from Temporal.
    const silent = series(exposition({})).map((s) =>
      s.series.startsWith('temporal_long_request') ? { ...s, values: '5x120' } : s,
    );
    await promtoolTest(RULES, silent, [
      { alertname: 'ZendeskExportWorkerPollsNothing', evalTime: '20m', firing: true },
    ]);
  });
});
