import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../src/dev-server';
import type { Emulator } from '../../src/emulator';
import type { ExportApi } from '../../src/shared';
import type { TicketSink } from '../../src/storage/sink';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `src/worker.ts` as a child process with only this environment, this Temporal server and a prebuilt bundle. */
export function spawnWorkerProcess(
  env: Record<string, string>,
  { address, bundlePath }: { address: string; bundlePath: string },
): WorkerProcess {
  let output = '';
  const child = spawn(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ZENDESK_TIMEOUT_SECONDS: '3',
      TEMPORAL_ADDRESS: address,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      CODEC_SERVER_PORT: 'off',
      LOG_LEVEL: 'INFO',
      // No Temporal profile of the user's (~/.config/temporalio/temporal.toml): an empty file holds none.
      TEMPORAL_CONFIG_FILE: '/dev/null',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export interface TruthDifferences {
  missing: number[];
  stale: number[];
  extra: number[];
}

/** How the sink's tickets of an account differ from the emulator's truth (latest version of every ticket). */
export async function diffSinkWithTruth(
  sink: TicketSink,
  account: string,
  api: ExportApi,
  emulator: Emulator,
  sinkKind: 'sqlite' | 'postgres',
): Promise<TruthDifferences> {
  // The incremental endpoints serve full ticket objects; the specified one flattened rows.
  const truth = api === 'exports' ? emulator.truth() : emulator.truthFull();
  const stored = new Map((await sink.readTickets(account)).map((t) => [t.id, t]));
  const differences: TruthDifferences = { missing: [], stale: [], extra: [] };
  for (const row of truth) {
    const mine = stored.get(row.id);
    if (!mine) differences.missing.push(row.id);
    else if (mine.generatedTimestamp !== row.generated_timestamp || !sameJson(mine.data, row, sinkKind)) {
      differences.stale.push(row.id);
    }
    stored.delete(row.id);
  }
  differences.extra = [...stored.keys()];
  return differences;
}

/** '' when the sink holds exactly the emulator's truth for this account, else a description of the differences. */
export async function compareSinkWithTruth(
  sink: TicketSink,
  account: string,
  api: ExportApi,
  emulator: Emulator,
  sinkKind: 'sqlite' | 'postgres',
): Promise<string> {
  const { missing, stale, extra } = await diffSinkWithTruth(sink, account, api, emulator, sinkKind);
  const problems = [
    ...missing.map((id) => `ticket ${id} missing`),
    ...stale.map((id) => `ticket ${id} stale`),
    ...extra.map((id) => `ticket ${id} not in the truth`),
  ];
  return problems.length === 0 ? '' : `${problems.length} differences: ${problems.slice(0, 5).join('; ')}`;
}

/** SQLite keeps the JSON as received, byte for byte; PostgreSQL's JSONB keeps the same value in its own key order. */
function sameJson(stored: string, row: object, sink: 'sqlite' | 'postgres'): boolean {
  if (sink !== 'postgres') return stored === JSON.stringify(row);
  return canonical(JSON.parse(stored)) === canonical(row);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
