import { randomUUID } from 'node:crypto';
import { openSink } from '../../src/storage/open';
import type { StreamRow } from '../../src/streams/contract';
import { round } from '../support/stats';

/**
 * Ticket events with comments stored by a sink, in pages of 1000 as the export gets them (a comment and two field
 * changes per event), first all new, then the same pages again (all boundary repeats). `npm run bench -- --only
 * streams-sink-throughput` (results `streams-sink-throughput-sqlite`, `-postgres`).
 */

const PAGE = 1000;
const BODY = 'Thanks for reaching out. '.repeat(16);

function ticketEvent(id: number): StreamRow {
  const timestamp = 1_700_000_000 + id;
  return {
    id,
    ticket_id: 1 + (id % 2000),
    timestamp,
    created_at: new Date(timestamp * 1000).toISOString(),
    updater_id: 42,
    via: 'Web form',
    system: { client: 'Mozilla/5.0', location: 'Paris, France', latitude: 48.85, longitude: 2.35 },
    metadata: { custom: {}, system: { ip_address: '192.0.2.1' } },
    event_type: 'Audit',
    child_events: [
      {
        id: id * 10 + 1,
        event_type: 'Comment',
        author_id: 42,
        body: BODY,
        html_body: `<div class="zd-comment"><p>${BODY}</p></div>`,
        plain_body: BODY,
        public: true,
        attachments: [{ id, file_name: 'screenshot.png', content_url: 'https://example.zendesk.com/x.png' }],
        audit_id: id,
        created_at: new Date(timestamp * 1000).toISOString(),
        via: { channel: 'web', source: { from: {}, to: {}, rel: null } },
      },
      { id: id * 10 + 2, event_type: 'Change', via: 'Web form', status: 'open', previous_value: 'new' },
      { id: id * 10 + 3, event_type: 'Change', via: 'Web form', tags: ['billing', 'vip'], previous_value: ['vip'] },
    ],
  };
}

export async function measureStreamSinkThroughput({ sinkUrl, events }: { sinkUrl: string; events: number }) {
  const pages: StreamRow[][] = [];
  for (let first = 1; first <= events; first += PAGE) {
    pages.push(Array.from({ length: Math.min(PAGE, events - first + 1) }, (_, i) => ticketEvent(first + i)));
  }
  const sink = await openSink(sinkUrl);
  const account = `bench-streams-${randomUUID().slice(0, 8)}`;
  try {
    const pass = async () => {
      const started = process.hrtime.bigint();
      let rows = 0;
      for (const [i, page] of pages.entries()) {
        const result = await sink.persistStreamPage({
          account,
          stream: 'ticket_events',
          rows: page,
          checkpoint: { cursor: i, afterCursor: null },
        });
        rows += result.written + (result.comments ?? 0) + (result.fieldChanges ?? 0);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return {
        events,
        rows,
        seconds: round(seconds, 3),
        eventsPerSecond: Math.round(events / seconds),
        rowsPerSecond: Math.round(rows / seconds),
      };
    };
    return { new: await pass(), allRepeats: await pass() };
  } finally {
    await sink.close();
  }
}
