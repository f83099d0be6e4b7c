import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Activities } from '../../src/activities';
import type {
  FetchPageInput,
  FetchPageResult,
  PersistInput,
  PersistOutput,
  Checkpoint,
} from '../../src/activities/types';
import { inlinePage, pageJson, summarizePage } from '../../src/activities/page-summary';
import { isStaged } from '../../src/activities/types';
import { PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../../src/shared';
import type { SetAsideTicket, SideloadRecord, TicketRow } from '../../src/storage/sink';
import type {
  FetchStreamInput,
  FetchStreamResult,
  PersistStreamInput,
  PersistStreamOutput,
  StreamCheckpoint,
  StreamRow,
} from '../../src/streams/contract';
import type { PagedStream } from '../../src/streams/names';

// Stand-ins for the three activities of the export loop: plain functions that answer from a script and record every
// input, with the time (worker clock, ms) and the workflow run that called them. No HTTP, no sink.

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A fetchPage outcome as a test writes it: the stub adds requestedAt (and completedAt for a page). */
export type FetchReply = Without<FetchPageResult, 'requestedAt' | 'completedAt'>;
/** One answer of a script: a value, an error to throw, or a function of the input giving either. */
export type Scripted<I, O> = O | Error | ((input: I) => O | Error | Promise<O | Error>);
export type FetchScript = Scripted<FetchPageInput, FetchReply>;
/** A persist answer: the output to return (completedAt is added unless given), or an error. */
export type PersistScript = Scripted<PersistInput, PersistOutput>;
/** A fetchStreamPage outcome as a test writes it: the stub adds requestedAt (and completedAt for a page). */
export type StreamReply = Without<FetchStreamResult, 'requestedAt' | 'completedAt'>;
export type StreamFetchScript = Scripted<FetchStreamInput, StreamReply>;
export type StreamPersistScript = Scripted<PersistStreamInput, Omit<PersistStreamOutput, 'completedAt'>>;

export interface Call<I> {
  input: I;
  /** When the activity was called (ms). */
  at: number;
  /** The workflow run that called it: a continue-as-new starts a new one. */
  runId: string;
}

export class StubActivities {
  readonly fetches: Call<FetchPageInput>[] = [];
  readonly persists: Call<PersistInput>[] = [];
  readonly checkpointReads: Call<string>[] = [];
  /** What loadCheckpoint returns: the sink's recovery point. */
  checkpoint: Checkpoint | null = null;
  /** fetchPage's answer once the script is used up: an empty page, "nothing new". */
  fetchWhenDone: FetchScript = (input) => emptyPage(input);
  /** persist's answer once the script is used up: every row written. */
  persistWhenDone: PersistScript = (input) => ({ written: rowsOf(input).length, ignoredOlder: 0 });

  readonly streamFetches: Call<FetchStreamInput>[] = [];
  readonly streamPersists: Call<PersistStreamInput>[] = [];
  readonly streamCheckpointReads: Call<PagedStream>[] = [];
  /** What loadStreamCheckpoint returns, per stream. */
  streamCheckpoints: Partial<Record<PagedStream, StreamCheckpoint>> = {};
  /** fetchStreamPage's answer once a stream's script is used up: nothing new, end of stream. */
  streamFetchWhenDone: StreamFetchScript = (input) => emptyStreamPage(input);
  /** persistStream's answer once its script is used up: every row written. */
  streamPersistWhenDone: StreamPersistScript = (input) => ({
    written: streamRowsOf(input).length,
    ignoredOlder: 0,
    rejected: 0,
  });

  private readonly streamFetchScripts: Partial<Record<PagedStream, StreamFetchScript[]>> = {};
  private readonly streamPersistScript: StreamPersistScript[] = [];
  private readonly fetchScript: FetchScript[] = [];
  private readonly persistScript: PersistScript[] = [];
  private readonly gates: Gate[] = [];

  /** The next answers of fetchPage, in order. */
  onFetch(...replies: FetchScript[]): this {
    this.fetchScript.push(...replies);
    return this;
  }

  /** The next answers of persist, in order. */
  onPersist(...replies: PersistScript[]): this {
    this.persistScript.push(...replies);
    return this;
  }

  /** The next answers of fetchStreamPage for one stream, in order. */
  onStreamFetch(stream: PagedStream, ...replies: StreamFetchScript[]): this {
    (this.streamFetchScripts[stream] ??= []).push(...replies);
    return this;
  }

  /** The next answers of persistStream, in order. */
  onStreamPersist(...replies: StreamPersistScript[]): this {
    this.streamPersistScript.push(...replies);
    return this;
  }

  /** The fetchStreamPage calls of one stream (all streams when none is named). */
  streamCalls(stream?: PagedStream): Call<FetchStreamInput>[] {
    return this.streamFetches.filter((call) => stream === undefined || call.input.stream === stream);
  }

  /** Resolves with the first `count` fetchStreamPage calls of `stream` once there are that many. */
  async streamFetched(stream: PagedStream, count: number, timeoutMs = 10_000): Promise<Call<FetchStreamInput>[]> {
    await until(`${count} ${stream} fetches`, () => this.streamCalls(stream).length >= count, timeoutMs);
    return this.streamCalls(stream).slice(0, count);
  }

  /** A gate an answer can wait on (an activity in flight); every gate opens when the test ends. */
  gate(): Gate {
    const gate = new Gate();
    this.gates.push(gate);
    return gate;
  }

  openGates(): void {
    for (const gate of this.gates) gate.open();
  }

  readonly activities: Activities = {
    fetchStreamPage: async (input) => {
      const call = record(this.streamFetches, input);
      const script = this.streamFetchScripts[input.stream]?.shift() ?? this.streamFetchWhenDone;
      const reply = await answer(script, input);
      return {
        ...reply,
        requestedAt: call.at,
        ...(reply.kind === 'page' && { completedAt: Date.now() }),
      } as FetchStreamResult;
    },
    persistStream: async (input) => {
      record(this.streamPersists, input);
      const output = await answer(this.streamPersistScript.shift() ?? this.streamPersistWhenDone, input);
      return { ...output, completedAt: Date.now() };
    },
    loadStreamCheckpoint: async (input) => {
      record(this.streamCheckpointReads, input.stream);
      return this.streamCheckpoints[input.stream] ?? null;
    },
    fetchPage: async (input) => {
      const call = record(this.fetches, input);
      const reply = await answer(this.fetchScript.shift() ?? this.fetchWhenDone, input);
      const result = { ...reply, requestedAt: call.at } as FetchPageResult;
      if (result.kind === 'page') result.completedAt = Date.now();
      return result;
    },
    persist: async (input) => {
      record(this.persists, input);
      const output = await answer(this.persistScript.shift() ?? this.persistWhenDone, input);
      return { ...output, completedAt: output.completedAt ?? Date.now() };
    },
    loadCheckpoint: async (account) => {
      record(this.checkpointReads, account);
      return this.checkpoint;
    },
  };

  /** Resolves with the first `count` fetchPage calls once there are that many. */
  async fetched(count: number, timeoutMs = 10_000): Promise<Call<FetchPageInput>[]> {
    await until(`${count} fetchPage calls`, () => this.fetches.length >= count, timeoutMs);
    return this.fetches.slice(0, count);
  }

  /** Resolves with the first `count` persist calls once there are that many. */
  async persisted(count: number, timeoutMs = 10_000): Promise<Call<PersistInput>[]> {
    await until(`${count} persist calls`, () => this.persists.length >= count, timeoutMs);
    return this.persists.slice(0, count);
  }
}

export class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));

  open(): void {
    this.release();
  }
}

function record<I>(calls: Call<I>[], input: I): Call<I> {
  const call = { input, at: Date.now(), runId: Context.current().info.workflowExecution?.runId ?? '' };
  calls.push(call);
  return call;
}

async function answer<I, O>(script: Scripted<I, O>, input: I): Promise<O> {
  const reply =
    typeof script === 'function' ? await (script as (input: I) => O | Error | Promise<O | Error>)(input) : script;
  if (reply instanceof Error) throw reply;
  return reply;
}

/** Polls `probe` every 20 ms until it holds. */
export async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- answers ----

/** `count` tickets, ids from `firstId`, at `timestamp` (a number, or one per index). */
export function tickets(count: number, timestamp: number | ((i: number) => number), firstId = 1): TicketRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: firstId + i,
    generated_timestamp: typeof timestamp === 'number' ? timestamp : timestamp(i),
    status: 'open',
  }));
}

/**
 * A page as fetchPage returns it: its summary (computed as the activity computes it) and its rows inline. The answer
 * vouches for now, or for its own newest time when that is later (a script may date tickets ahead).
 */
export function page(
  rows: TicketRow[],
  fields: {
    endTime?: number | null;
    endOfStream?: boolean;
    afterCursor?: string | null;
    vouchedUntil?: number;
    fieldHeaders?: Record<string, string>;
    sideloads?: Record<string, SideloadRecord[]>;
    setAside?: SetAsideTicket[];
  } = {},
): FetchReply {
  const { fieldHeaders = {}, vouchedUntil: vouched, sideloads, setAside = [], ...rest } = fields;
  const endTime = fields.endTime ?? null;
  const newest = rows.reduce((max, row) => Math.max(max, row.generated_timestamp), 0);
  const vouchedUntil = vouched ?? Math.max(Math.floor(Date.now() / 1000), endTime ?? 0, newest);
  const rowTexts = rows.map((row) => JSON.stringify(row));
  const read = { rows, rowTexts, setAside, fieldHeaders, endTime, vouchedUntil, ...(sideloads && { sideloads }) };
  const content = inlinePage(read);
  return {
    kind: 'page',
    vouchedUntil,
    summary: summarizePage(read, Buffer.byteLength(pageJson(read))),
    content,
    ...omitUndefined(rest),
    endTime,
  };
}

/** The rows a persist call stores (none for an operator's reset, which writes a checkpoint only). */
export function rowsOf(input: PersistInput): TicketRow[] {
  return isStaged(input.content) ? [] : input.content.rows;
}

/** What Zendesk answers when nothing changed: no rows, no end_time; on the incremental endpoints, end of stream. */
export function emptyPage(input: FetchPageInput): FetchReply {
  if ((input.api ?? 'exports') === 'exports') return page([]);
  return page([], { endTime: input.startTime, endOfStream: true, afterCursor: input.cursor ?? null });
}

export function rateLimited(retryAfterSeconds: number): FetchReply {
  return { kind: 'rate_limited', retryAfterSeconds };
}

/** A 401/403/404, as fetchPage reports it: no retry, the export blocks until resumed. */
export function permanentFailure(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: PERMANENT_FAILURE, nonRetryable: true });
}

/**
 * A transient failure the activity stopped retrying (its next retry was further away than an activity waits): the
 * workflow's backoff takes over.
 */
export function transientFailure(message: string, retryNotBefore = 0): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: TRANSIENT_FAILURE,
    nonRetryable: true,
    details: [{ retryNotBefore }],
  });
}

/** A sink that refuses a write: failed at once, without the activity's own retries (they only add seconds). */
export function sinkFailure(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'SinkUnavailable', nonRetryable: true });
}

/** `count` rows of a stream around the ticket, ids from `firstId`, at `time` (epoch seconds, or one per index). */
export function streamRows(
  stream: PagedStream,
  count: number,
  time: number | ((i: number) => number),
  firstId = 1,
): StreamRow[] {
  return Array.from({ length: count }, (_, i) => {
    const at = typeof time === 'number' ? time : time(i);
    const iso = new Date(at * 1000).toISOString().replace('.000Z', 'Z');
    const id = firstId + i;
    switch (stream) {
      case 'ticket_events':
        return { id, ticket_id: id, timestamp: at, event_type: 'Audit', child_events: [] };
      case 'ticket_metric_events':
        return { id, ticket_id: id, metric: 'reply_time', instance_id: 1, type: 'activate', time: iso };
      default:
        return { id, updated_at: iso };
    }
  });
}

/** A page as fetchStreamPage returns it; the answer vouches for now or for its newest row. */
export function streamPage(
  rows: StreamRow[],
  stream: PagedStream,
  fields: { endTime?: number | null; endOfStream?: boolean; afterCursor?: string | null } = {},
): StreamReply {
  const times = rows.map((row) => rowTime(stream, row));
  const newest = times.reduce((max, t) => Math.max(max, t), 0);
  return {
    kind: 'page',
    vouchedUntil: Math.max(Math.floor(Date.now() / 1000), newest),
    summary: {
      rows: rows.length,
      setAside: 0,
      newest,
      oldest: times.length ? Math.min(...times) : null,
      bytes: Buffer.byteLength(JSON.stringify(rows)),
    },
    content: { rows },
    endTime: fields.endTime ?? null,
    afterCursor: fields.afterCursor ?? null,
    endOfStream: fields.endOfStream ?? false,
  };
}

function rowTime(stream: PagedStream, row: StreamRow): number {
  if (stream === 'ticket_events') return row.timestamp as number;
  const iso = (stream === 'ticket_metric_events' ? row.time : row.updated_at) as string;
  return Math.floor(Date.parse(iso) / 1000);
}

/** Nothing new on a stream: no rows, end of stream, the cursor kept. */
export function emptyStreamPage(input: FetchStreamInput): StreamReply {
  return streamPage([], input.stream, {
    endTime: input.startTime,
    endOfStream: true,
    afterCursor: input.afterCursor ?? null,
  });
}

/** The rows a persistStream call stores (none for an operator's reset). */
export function streamRowsOf(input: PersistStreamInput): StreamRow[] {
  return 'staged' in input.content ? [] : input.content.rows;
}

function omitUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
