import { TicketSink } from './sink';
import { SqliteSink } from './sqlite';

/** Opens the sink named by SINK_URL: `sqlite:<path>` (default) or `postgres://…`. */
export async function openSink(url: string): Promise<TicketSink> {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!filename) throw new Error('SINK_URL: sqlite: needs a file path, e.g. sqlite:.data/tickets.db');
    return new SqliteSink(filename);
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('SINK_URL: the PostgreSQL sink is not part of this version yet; use sqlite:<path>');
  }
  throw new Error(`SINK_URL: unknown scheme in "${url.split(':')[0]}:"; use sqlite:<path> or postgres://…`);
}
