import { randomUUID } from 'node:crypto';
import { DEFAULT_CREDENTIALS, startEmulator } from '../../src/emulator';
import { openSink } from '../../src/storage/open';
import { TicketRow } from '../../src/storage/sink';
import { ZendeskClient } from '../../src/zendesk/client';
import { round } from '../support/stats';

export interface SinkThroughputOptions {
  sinkUrl: string;
  pages: number;
}

/** Upserts of 1000-ticket pages as the export gets them: first all new, then the same pages again (all duplicates). */
export async function measureSinkThroughput({ sinkUrl, pages }: SinkThroughputOptions) {
  const batches = await exportPages(pages);
  const sink = await openSink(sinkUrl);
  const account = `bench-sink-${randomUUID().slice(0, 8)}`;
  try {
    const pass = async () => {
      const started = process.hrtime.bigint();
      let written = 0;
      for (const [i, rows] of batches.entries()) {
        const result = await sink.persistPage({ account, rows, fieldHeaders: {}, cursor: i + 1 });
        written += result.written;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const tickets = batches.reduce((sum, rows) => sum + rows.length, 0);
      return { tickets, written, seconds: round(seconds, 3), ticketsPerSecond: Math.round(tickets / seconds) };
    };
    const fresh = await pass();
    const duplicates = await pass();
    return { pages, pageSize: 1000, new: fresh, allDuplicates: duplicates };
  } finally {
    await sink.close();
  }
}

/** `pages` pages of 1000 export rows, read from the emulator once, outside the timing. */
export async function exportPages(pages: number): Promise<TicketRow[][]> {
  const emulator = await startEmulator({ ticketCount: pages * 1000, windowSeconds: 0, minStartAgeSeconds: 0 });
  try {
    const zendesk = new ZendeskClient({
      baseUrl: emulator.url,
      auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
    });
    // Every ticket once: the export endpoint repeats the boundary second of each page, so pages are cut here.
    const rows: TicketRow[] = [];
    const seen = new Set<number>();
    let cursor = 0;
    for (;;) {
      const page = await zendesk.fetchExportPage(cursor);
      if (page.kind !== 'page') throw new Error(`sink throughput: unexpected ${page.kind}`);
      for (const row of page.rows) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        rows.push(row);
      }
      if (page.rows.length < 1000) break;
      cursor = page.endTime ?? cursor;
    }
    const batches: TicketRow[][] = [];
    for (let i = 0; i < rows.length; i += 1000) batches.push(rows.slice(i, i + 1000));
    return batches;
  } finally {
    await emulator.close();
  }
}
