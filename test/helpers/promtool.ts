import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';

/** One sample of a Prometheus text exposition, with the type its family declared (untyped: `gauge`). */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  type: string;
}

/** The samples of a scrape (Prometheus text format 0.0.4). */
export function parseExposition(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)/.exec(line);
    if (typed) types.set(typed[1], typed[2]);
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const [, name, labelText = '', value] = match;
    const family = types.get(name) ?? types.get(name.replace(/_(bucket|sum|count)$/, ''));
    samples.push({ name, labels: parseLabels(labelText), value: Number(value), type: family ?? 'gauge' });
  }
  return samples;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

export interface SeriesOptions {
  /** When the scrape was taken (epoch seconds): `*_timestamp_seconds` gauges become ages relative to it. */
  scrapedAt: number;
  /** Samples per series, one a minute from promtool's time 0 (default 120: two hours). */
  steps?: number;
  /** Labels Prometheus would add (default instance and job of a worker). */
  target?: Record<string, string>;
}

/**
 * promtool `input_series` for a run that goes on as the scrape shows it, from promtool's time 0 (the scrape) on:
 * counters (and histogram parts) start at 0 and grow by their scraped value each minute, gauges keep theirs, and
 * timestamp gauges keep their age (promtool's clock starts at 0, so they are shifted by the scrape's time).
 */
export function seriesFromScrape(samples: Sample[], options: SeriesOptions): { series: string; values: string }[] {
  const { scrapedAt, steps = 120, target = { instance: 'worker:9464', job: 'zendesk-export' } } = options;
  return samples.map((sample) => {
    const labels = { ...target, ...sample.labels };
    const series = `${sample.name}{${Object.entries(labels)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    let values: string;
    if (sample.type === 'counter' || sample.type === 'histogram' || sample.type === 'summary') {
      values = sample.value === 0 ? `0x${steps}` : `0+${sample.value}x${steps}`;
    } else if (sample.name.endsWith('_timestamp_seconds')) {
      values = `${sample.value - scrapedAt}+60x${steps}`;
    } else {
      values = `${sample.value}x${steps}`;
    }
    return { series, values };
  });
}

export interface AlertExpectation {
  alertname: string;
  /** When to look, from the start of the series (e.g. '30m'): after the alert's `for`. */
  evalTime: string;
  firing: boolean;
}

/**
 * Runs `promtool test rules` on `rulesFile` with these series: each expectation says whether its alert fires at its
 * time (some alert of that name, whatever its labels). Resolves with promtool's output; rejects with it on a failure.
 */
export async function promtoolTest(
  rulesFile: string,
  inputSeries: { series: string; values: string }[],
  expectations: AlertExpectation[],
): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
  const file = path.join(dir, 'test.yaml');
  const test = {
    rule_files: [path.resolve(rulesFile)],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: inputSeries,
        promql_expr_test: expectations.map(({ alertname, evalTime, firing }) => ({
          expr: `max by (alertname) (ALERTS{alertstate="firing", alertname=${JSON.stringify(alertname)}})`,
          eval_time: evalTime,
          exp_samples: firing ? [{ labels: `{alertname=${JSON.stringify(alertname)}}`, value: 1 }] : [],
        })),
      },
    ],
  };
  fs.writeFileSync(file, YAML.stringify(test));
  try {
    const { stdout, stderr } = await promisify(execFile)(promtool(), ['test', 'rules', file], { timeout: 120_000 });
    return stdout + stderr;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed:\n${stdout}${stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** promtool (Debian's prometheus package; .ci/run installs it): PROMTOOL_PATH, else from PATH. */
export function promtool(): string {
  return process.env.PROMTOOL_PATH || 'promtool';
}

/** `promtool check rules` on a file; resolves with its output, rejects with it when the rules do not parse. */
export async function promtoolCheckRules(file: string): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(promtool(), ['check', 'rules', file], { timeout: 60_000 });
    return stdout + stderr;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool check rules ${file} failed:\n${stdout}${stderr}`);
  }
}
