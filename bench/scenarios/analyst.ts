import { Client } from 'pg';
import { openSink, sqliteFilename } from '../../src/storage/open';
import type { SinkOptions, TicketRow } from '../../src/storage/sink';
import { round } from '../support/stats';
import { AnalystSinkKind, tableBytes, timeDashboardQueries } from './analyst-queries';
import { analystTickets } from './analyst-tickets';

/**
 * What the analysts' typed tables cost and give, on one sink (`npm run bench -- --only analyst`, results
 * `analyst-sqlite`, `analyst-postgres`):
 *
 * - the persist cost of the typed copy: `costPages` 1000-ticket pages of new full tickets, then the same pages again
 *   (all duplicates), in fresh sinks with the typed copy off and on (SinkOptions.typedTickets), ticket_version on (the
 *   default) in both, `rounds` times each, interleaved;
 * - a fill of `tickets` full tickets through the sink's persistPage in 1000-row pages (typed copy and ticket_version
 *   on, as in production): its throughput at scale, the bytes of ticket_version per million versions (each new
 *   ticket is one version) and of the typed tables;
 * - three dashboard queries on the filled sink (analyst-queries.ts): a first run, then `runs` timed runs.
 */

export interface AnalystOptions {
  kind: AnalystSinkKind;
  tickets: number;
  costPages: number;
  rounds: number;
  runs: number;
  /** A fresh, empty sink URL (a file, a database) and its removal. */
  scratch(): Promise<{ url: string; dispose(): Promise<void> }>;
}

const ACCOUNT = 'bench-analyst';

export async function measureAnalyst(options: AnalystOptions) {
  const persistCost = await measurePersistCost(options);
  const scratch = await options.scratch();
  try {
    const fill = await fillSink(scratch.url, options.tickets);
    const target = options.kind === 'sqlite' ? sqliteFilename(scratch.url)! : scratch.url;
    const sizes = await sinkSizes(options.kind, target, options.tickets);
    // PostgreSQL: this server runs without autovacuum; VACUUM ANALYZE stands in for it after the bulk load (the
    // planner's statistics, the visibility map of index-only scans). SQLite: the file as the sink leaves it (no ANALYZE).
    if (options.kind === 'postgres') await vacuumAnalyze(scratch.url);
    const queries = await timeDashboardQueries(options.kind, target, ACCOUNT, options.runs);
    return { sink: options.kind, tickets: options.tickets, persistCost, fill, sizes, queries };
  } finally {
    await scratch.dispose();
  }
}

/** Tickets/s of new pages and of the same pages again, with the typed copy off and on; ticket_version on in both. */
async function measurePersistCost({ costPages, rounds, scratch }: AnalystOptions) {
  const source = analystTickets(costPages * 1000);
  const pages = [...source.pages()];
  const runs: { typedTickets: boolean; newPerSecond: number; duplicatesPerSecond: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const typedTickets of [false, true]) {
      const sink = await scratch();
      try {
        const fresh = await persistPages(sink.url, { typedTickets }, pages);
        runs.push({ typedTickets, newPerSecond: fresh.new, duplicatesPerSecond: fresh.duplicates });
      } finally {
        await sink.dispose();
      }
    }
  }
  // The best of the rounds: the run least disturbed by the other work on the machine.
  const best = (typed: boolean, key: 'newPerSecond' | 'duplicatesPerSecond') =>
    Math.max(...runs.filter((r) => r.typedTickets === typed).map((r) => r[key]));
  const without = { new: best(false, 'newPerSecond'), duplicates: best(false, 'duplicatesPerSecond') };
  const withTyped = { new: best(true, 'newPerSecond'), duplicates: best(true, 'duplicatesPerSecond') };
  return {
    pages: costPages,
    pageSize: 1000,
    ticketVersions: true,
    runs,
    without,
    with: withTyped,
    // The share of the persist throughput the typed copy takes: 1 - with / without.
    costNew: round(1 - withTyped.new / without.new, 3),
    costDuplicates: round(1 - withTyped.duplicates / without.duplicates, 3),
  };
}

async function persistPages(url: string, options: SinkOptions, pages: TicketRow[][]) {
  const sink = await openSink(url, {}, options);
  try {
    const pass = async () => {
      const started = process.hrtime.bigint();
      for (const [i, rows] of pages.entries()) {
        await sink.persistPage({ account: ACCOUNT, rows, fieldHeaders: {}, cursor: i + 1 });
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return Math.round((pages.length * 1000) / seconds);
    };
    return { new: await pass(), duplicates: await pass() };
  } finally {
    await sink.close();
  }
}

/** Every ticket once, new, in pages built one at a time outside the timing; the groups with the first page. */
async function fillSink(url: string, tickets: number) {
  const source = analystTickets(tickets);
  const sink = await openSink(url);
  const started = Date.now();
  try {
    let persistNs = 0n;
    let stored = 0;
    let bytes = 0;
    const segments: { upTo: number; ticketsPerSecond: number }[] = [];
    let segmentNs = 0n;
    let segmentTickets = 0;
    const segment = Math.max(1000, Math.round(tickets / 10 / 1000) * 1000);
    for (const rows of source.pages()) {
      for (const row of rows) bytes += Buffer.byteLength(JSON.stringify(row));
      const t0 = process.hrtime.bigint();
      const result = await sink.persistPage({
        account: ACCOUNT,
        rows,
        fieldHeaders: {},
        cursor: rows[rows.length - 1].generated_timestamp,
        api: 'incremental',
        ...(stored === 0 && { sideloads: { groups: source.groups } }),
      });
      const ns = process.hrtime.bigint() - t0;
      if (result.written !== rows.length) throw new Error(`analyst fill: ${result.written} of ${rows.length} written`);
      persistNs += ns;
      segmentNs += ns;
      stored += rows.length;
      segmentTickets += rows.length;
      if (segmentTickets >= segment || stored === tickets) {
        segments.push({ upTo: stored, ticketsPerSecond: Math.round(segmentTickets / (Number(segmentNs) / 1e9)) });
        segmentNs = 0n;
        segmentTickets = 0;
      }
    }
    const persistSeconds = Number(persistNs) / 1e9;
    return {
      tickets: stored,
      meanTicketJsonBytes: Math.round(bytes / stored),
      persistSeconds: round(persistSeconds, 1),
      ticketsPerSecond: Math.round(stored / persistSeconds),
      wallSeconds: Math.round((Date.now() - started) / 1000),
      // Throughput per tenth of the fill: whether it falls as the tables grow.
      segments,
    };
  } finally {
    await sink.close();
  }
}

async function sinkSizes(kind: AnalystSinkKind, target: string, versions: number) {
  const typed =
    kind === 'postgres'
      ? ['zendesk.ticket', 'zendesk.ticket_tag', 'zendesk.ticket_custom_field_value']
      : ['ticket', 'ticket_tag', 'ticket_custom_field_value'];
  const bytes = await tableBytes(kind, target, ['tickets', 'ticket_version', ...typed]);
  const mib = (b: number) => round(b / 2 ** 20, 1);
  const perMillion = (b: number) => round(((b / versions) * 1e6) / 2 ** 20, 1);
  return {
    bytes,
    ticketVersion: {
      versions,
      mib: mib(bytes.ticket_version),
      mibPerMillionVersions: perMillion(bytes.ticket_version),
    },
    typedTablesMibPerMillionTickets: perMillion(typed.reduce((sum, t) => sum + bytes[t], 0)),
    ticketsMibPerMillionTickets: perMillion(bytes.tickets),
  };
}

async function vacuumAnalyze(url: string) {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    for (const table of ['zendesk.ticket', 'zendesk.ticket_tag', 'zendesk.ticket_custom_field_value', 'public.groups'])
      await db.query(`VACUUM (ANALYZE) ${table}`);
  } finally {
    await db.end();
  }
}
