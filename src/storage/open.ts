import { redactUrl, redactUrlSecrets } from '../common/redact-url';
import { SinkOptions, TicketSink } from './sink';
import { PostgresSink } from './postgres';
import type { PostgresTimeouts } from './postgres-timeouts';
import { SqliteSink } from './sqlite';

/**
 * Opens the sink named by SINK_URL: `sqlite:<path>` (default) or `postgres://…`, the latter with `timeouts` over the
 * defaults; `options` for either (SINK_TICKET_VERSIONS).
 */
export async function openSink(
  url: string,
  timeouts: Partial<PostgresTimeouts> = {},
  options: SinkOptions = {},
): Promise<TicketSink> {
  const filename = sqliteFilename(url);
  if (filename) return new SqliteSink(filename, options);
  if (/^postgres(ql)?:\/\//.test(url)) return PostgresSink.open(url, timeouts, options);
  throw new Error(`SINK_URL: unknown scheme in "${url.split(':')[0]}:"; use sqlite:<path> or postgres://…`);
}

/** The file of a `sqlite:` SINK_URL, or undefined for other schemes. */
export function sqliteFilename(url: string): string | undefined {
  if (!url.startsWith('sqlite:')) return undefined;
  const filename = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (!filename) throw new Error('SINK_URL: sqlite: needs a file path, e.g. sqlite:.data/tickets.db');
  return filename;
}

/** Opens the sink or its blob store; an error names SINK_URL without its password. */
export async function openingSink<T>(sinkUrl: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    const message = redactUrlSecrets(err instanceof Error ? err.message : String(err), sinkUrl);
    throw new Error(`cannot open the sink ${redactUrl(sinkUrl)}: ${message}`);
  }
}
