import fs from 'node:fs';
import path from 'node:path';

/** One metric as documented or as scraped: its type and the names of its labels (sorted). */
export interface MetricShape {
  type: string;
  labels: string[];
}

const OPERATIONS_MD = path.join(__dirname, '..', '..', 'docs', 'operations.md');

/** The rows of the markdown table after `<!-- marker`, as arrays of cells. */
function tableAfter(markdown: string, marker: string): string[][] {
  const at = markdown.indexOf(`<!-- ${marker}`);
  if (at < 0) throw new Error(`docs/operations.md has no "<!-- ${marker}" table`);
  const lines = markdown.slice(at).split('\n').slice(1);
  const table = lines.slice(lines.findIndex((l) => l.startsWith('|')));
  const rows = table
    .slice(
      0,
      table.findIndex((l) => !l.startsWith('|')),
    )
    .slice(2); // header and rule
  return rows.map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
  );
}

const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/**
 * The exporter's metrics as docs/operations.md "Metrics" documents them: each metric's type and its labels, the
 * labels the SDK adds (by who sets the metric) included.
 */
export function documentedMetrics(markdown = fs.readFileSync(OPERATIONS_MD, 'utf8')): Map<string, MetricShape> {
  const sdkLabels = new Map(tableAfter(markdown, 'metrics-sdk-labels').map(([by, labels]) => [by, codeSpans(labels)]));
  const metrics = new Map<string, MetricShape>();
  for (const [name, type, labels, by] of tableAfter(markdown, 'metrics-table')) {
    const added = sdkLabels.get(by);
    if (!added) throw new Error(`metrics table: "${by}" (set by of ${name}) is not in the SDK labels table`);
    metrics.set(codeSpans(name)[0], { type, labels: [...codeSpans(labels), ...added].sort() });
  }
  return metrics;
}

/**
 * The metrics of a Prometheus text scrape whose name starts with `prefix`: the type from `# TYPE`, the label names of
 * its series (a metric whose series disagree on their label names is reported with every name, and `mixed` added).
 */
export function scrapedMetrics(text: string, prefix: string): Map<string, MetricShape> {
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  const sets = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type && type[1].startsWith(prefix)) types.set(type[1], type[2]);
    if (line.startsWith('#') || !line.startsWith(prefix)) continue;
    const series = /^([^{\s]+)(?:\{(.*)\})?\s/.exec(line);
    if (!series) continue;
    const names = [...(series[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)].map((m) => m[1]).sort();
    labels.set(series[1], new Set([...(labels.get(series[1]) ?? []), ...names]));
    sets.set(series[1], new Set([...(sets.get(series[1]) ?? []), names.join(',')]));
  }
  const metrics = new Map<string, MetricShape>();
  for (const name of new Set([...types.keys(), ...labels.keys()])) {
    const all = [...(labels.get(name) ?? [])].sort();
    metrics.set(name, {
      type: types.get(name) ?? '(no # TYPE)',
      labels: (sets.get(name)?.size ?? 0) > 1 ? [...all, 'mixed'] : all,
    });
  }
  return metrics;
}
