import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { promtoolCheckRules } from '../helpers/promtool';

/*
 * deploy/grafana/zendesk-export.json, structurally: valid JSON, the `account` and `stream` variables, every panel on
 * the Prometheus data source with PromQL targets, every query valid (promtool parses them as recording rules) and
 * naming only the exporter's series or the SDK's (`temporal_`).
 */

const DASHBOARD = 'deploy/grafana/zendesk-export.json';

/** The exporter's series (docs/operations.md, "Metrics"). */
const EXPORTER_METRICS = [
  'zendesk_export_api_calls_total',
  'zendesk_export_rate_limited_total',
  'zendesk_export_retry_after_requested_seconds_total',
  'zendesk_export_retry_after_waited_seconds_total',
  'zendesk_export_pages_stored_total',
  'zendesk_export_rows_stored_total',
  'zendesk_export_rows_rejected_total',
  'zendesk_export_token_renewals_total',
  'zendesk_export_last_success_timestamp_seconds',
  'zendesk_export_lag_seconds',
  'zendesk_export_blocked',
];

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}

const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Variable[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')))
  // Grafana's label_values(<series selector>, <label>): the selector is PromQL.
  .map((q) => q.replace(/^label_values\((.*),\s*\w+\)$/, '$1'));

/** A dashboard query as Prometheus receives it: Grafana's variables replaced. */
function asPromql(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(account|stream)\}?/g, '.*');
}

/** The metric names an expression reads: identifiers left once label matchers, groupings and functions are gone. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'offset', 'bool', 'and', 'or', 'unless', 'le']);
  const names: string[] = [];
  for (const m of stripped.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)) {
    if (m[2] || keywords.has(m[1])) continue; // a function call, or a keyword
    names.push(m[1]);
  }
  return names;
}

describe(DASHBOARD, () => {
  test('has the templated variables account and stream, on the Prometheus data source', () => {
    const names = dashboard.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['datasource', 'account', 'stream']));
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    expect(dashboard.uid).toBe('zendesk-export');
  });

  test('every panel reads Prometheus with PromQL targets', () => {
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect({ title: panel.title, datasource: panel.datasource?.type }).toEqual({
        title: panel.title,
        datasource: 'prometheus',
      });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect({ title: panel.title, expr: target.expr?.trim() || undefined }).toEqual({
          title: panel.title,
          expr: expect.any(String),
        });
      }
    }
  });

  test('every query names only exporter series or SDK series (temporal_)', () => {
    const named = new Set([...exprs, ...variableQueries].flatMap((e) => metricNames(asPromql(e))));
    for (const name of named) {
      expect({ name, known: EXPORTER_METRICS.includes(name) || name.startsWith('temporal_') }).toEqual({
        name,
        known: true,
      });
    }
    // Each exporter series has a panel.
    for (const name of EXPORTER_METRICS) expect({ name, shown: named.has(name) }).toEqual({ name, shown: true });
    for (const name of [
      'temporal_worker_task_slots_available',
      'temporal_workflow_task_schedule_to_start_latency_bucket',
      'temporal_activity_schedule_to_start_latency_bucket',
    ]) {
      expect({ name, shown: named.has(name) }).toEqual({ name, shown: true });
    }
  });

  test('every query parses (promtool, as recording rules)', async () => {
    const rules = {
      groups: [
        {
          name: 'dashboard',
          rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: asPromql(expr) })),
        },
      ],
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-'));
    try {
      const file = path.join(dir, 'queries.yaml');
      fs.writeFileSync(file, YAML.stringify(rules));
      expect(await promtoolCheckRules(file)).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('metricNames finds the series and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, instance) (rate(temporal_x_bucket{a=~"b"}[5m]))) / on (instance) up',
      ),
    ).toEqual(['temporal_x_bucket', 'up']);
    expect(metricNames('time() - max by (account) (zendesk_export_blocked{stream="x"}) > 1800')).toEqual([
      'zendesk_export_blocked',
    ]);
  });
});
