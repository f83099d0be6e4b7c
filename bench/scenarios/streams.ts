import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { defaultPayloadConverter, Payload } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { GzipPayloadCodec } from '../../src/codec/gzip-codec';
import { INLINE_PAGE_MAX_BYTES } from '../../src/codec/limits';
import { DEFAULT_CREDENTIALS, Emulator, EmulatorOptions, startEmulator } from '../../src/emulator';
import type { EmulatorLogEntry } from '../../src/emulator/stats';
import { inlineStreamPage, streamPageJson, summarizeStreamPage } from '../../src/activities/stream-page-summary';
import { STREAMS, type StreamName } from '../../src/streams/names';
import { statusQuery, type ExportInput, type ExportStatus } from '../../src/workflows/messages';
import { ZendeskClient } from '../../src/zendesk/client';
import { eventActions, historyBytes, tally } from '../support/actions';
import { fetchRunHistories, localActivityType, RunHistory } from '../support/histories';
import {
  BenchEnv,
  BenchWorker,
  openSink,
  startBenchWorker,
  startExport,
  stopExport,
  waitUntil,
} from '../support/pipeline';
import { quantile, round } from '../support/stats';

// The streams around the ticket: budget used per bucket, freshness of a new comment, history bytes of a comment page,
// Temporal actions per 1000 ticket events. (The fleet with all five streams is fleet.ts with `streams: true`.)

const HISTORY_PAYLOAD_LIMIT = 256 * 1024;
const EventType = temporal.api.enums.v1.EventType;
type Bucket = 'incremental' | 'users_cursor';

/** The stream an emulator log entry's call belongs to (the tickets stream reads the cursor endpoint here). */
function streamOfEntry(entry: EmulatorLogEntry): StreamName | undefined {
  switch (entry.endpoint) {
    case 'cursor':
    case 'incremental':
      return 'tickets';
    case 'users_cursor':
      return 'users';
    case 'ticket_events':
    case 'organizations':
    case 'ticket_metric_events':
      return entry.endpoint;
    default:
      return undefined;
  }
}

function bucketOfStream(stream: StreamName): Bucket {
  return stream === 'users' ? 'users_cursor' : 'incremental';
}

async function exportStatus(env: BenchEnv, workflowId: string): Promise<ExportStatus> {
  return env.client.workflow.getHandle(workflowId).query(statusQuery);
}

/** Resolves once every stream of the export shows caught up. */
async function waitAllCaughtUp(env: BenchEnv, workflowId: string, worker: BenchWorker, timeoutMs: number) {
  let last: ExportStatus | undefined;
  await waitUntil(
    'every stream caught up',
    async () => {
      last = await exportStatus(env, workflowId);
      return (last.streams ?? []).length > 0 && (last.streams ?? []).every((s) => s.caughtUp);
    },
    timeoutMs,
    () => `${JSON.stringify(last?.streams?.map((s) => [s.stream, s.phase, s.rowsStored]))}\n${worker.output()}`,
    250,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function emulatorFor(options: EmulatorOptions): Promise<Emulator> {
  return startEmulator({ windowSeconds: 0, incrementalMinStartAgeSeconds: 1, ...options });
}

// ---------------------------------------------------------------------------------------------------------------------
// Budget used per bucket

export interface StreamsBudgetOptions {
  /** `real`: Zendesk's 10 and 20 calls a minute; `scaled`: both buckets scaled up, the workflow paced at them. */
  label: string;
  incrementalPerMinute: number;
  usersPerMinute: number;
  /** Rows per page, every stream: small, so that every stream keeps a backlog through the window. */
  perPage: number;
  tickets: number;
  warmUpSeconds: number;
  windowSeconds: number;
}

/**
 * All five streams catching up, each with a backlog, the emulator's buckets at the same per-minute limits as the
 * workflow's pacing: calls accepted per bucket per minute over a window after warm-up, against the bucket's ceiling,
 * the 429s the export caused, the calls over budget, and how the incremental bucket's calls split among its streams.
 */
export async function measureStreamsBudget(env: BenchEnv, options: StreamsBudgetOptions) {
  const emulator = await emulatorFor({
    ticketCount: options.tickets,
    descriptionBytes: [200, 600],
    incrementalRequestsPerMinute: options.incrementalPerMinute,
    usersCursorRequestsPerMinute: options.usersPerMinute,
  });
  const sinkUrl = `sqlite:${path.join(env.dir, `streams-budget-${randomUUID()}.db`)}`;
  const worker = await startBenchWorker(env, { baseUrl: emulator.url, sinkUrl });
  const account = new URL(emulator.url).host;
  let workflowId: string | undefined;
  try {
    const input: ExportInput = {
      account,
      api: 'cursor',
      streams: [...STREAMS],
      startTime: 0,
      pollIntervalSeconds: 60,
      minStartAgeSeconds: 1,
      requestsPerMinute: options.incrementalPerMinute,
      usersRequestsPerMinute: options.usersPerMinute,
      perPage: options.perPage,
    };
    const started = await startExport(env, worker, input);
    workflowId = started.workflowId;
    const windowStart = started.startedAt + options.warmUpSeconds * 1000;
    const windowEnd = windowStart + options.windowSeconds * 1000;
    await sleep(windowEnd - Date.now());
    const status = await exportStatus(env, workflowId);
    await stopExport(env, workflowId);
    const loopMs = callTiming(await fetchRunHistories(env.client, workflowId), windowStart, windowEnd);
    const stats = emulator.stats();
    const inWindow = stats.log.filter((e) => e.at >= windowStart && e.at <= windowEnd && e.status !== 429);
    const ceilings: Record<Bucket, number> = {
      incremental: options.incrementalPerMinute,
      users_cursor: options.usersPerMinute,
    };
    const bucketFigures = (bucket: Bucket) => {
      const calls = inWindow.filter((e) => {
        const stream = streamOfEntry(e);
        return stream !== undefined && bucketOfStream(stream) === bucket;
      });
      // From the window's first call to its last: (calls - 1) gaps. A count over the whole window is given too.
      const spanMs = calls.length > 1 ? calls.at(-1)!.at - calls[0].at : NaN;
      const perMinute = ((calls.length - 1) * 60_000) / spanMs;
      return {
        ceilingPerMinute: ceilings[bucket],
        callsInWindow: calls.length,
        perMinute: round(perMinute, 2),
        ofCeiling: round(perMinute / ceilings[bucket], 3),
        perMinuteByCount: round((calls.length * 60) / options.windowSeconds, 2),
        /** The whole run's counters: accepted, rateLimited (429s the export caused), injected, overBudget. */
        ...stats.buckets[bucket],
      };
    };
    const buckets = { incremental: bucketFigures('incremental'), users_cursor: bucketFigures('users_cursor') };
    const byStream = Object.fromEntries(
      STREAMS.map((stream) => [stream, inWindow.filter((e) => streamOfEntry(e) === stream).length]),
    ) as Record<StreamName, number>;
    const incrementalStreams = STREAMS.filter((s) => bucketOfStream(s) === 'incremental');
    const shares = incrementalStreams.map((s) => byStream[s]);
    const backlogAtEnd = Object.fromEntries((status.streams ?? []).map((s) => [s.stream, !s.caughtUp]));
    return {
      label: options.label,
      options,
      window: { fromSecond: options.warmUpSeconds, seconds: options.windowSeconds },
      buckets,
      fairness: {
        /** Calls of each stream in the window (incremental bucket: tickets, ticket events, organizations, metrics). */
        callsInWindow: byStream,
        /** Did the stream still have a backlog at the window's end (not caught up)? */
        backlogAtEnd,
        allBackloggedAtEnd: incrementalStreams.every((s) => backlogAtEnd[s]) && backlogAtEnd.users === true,
        incrementalMinOverMax: round(Math.min(...shares) / Math.max(...shares), 3),
      },
      loopMs,
      wholeRun: { byStream: stats.byStream, calls: stats.calls, byStatus: stats.byStatus },
      callsBeforeRetryAfter: stats.callsBeforeRetryAfter,
      streams: status.streams?.map(({ stream, phase, calls, pages, rowsStored }) => ({
        stream,
        phase,
        calls,
        pages,
        rowsStored,
      })),
    };
  } finally {
    if (workflowId) await stopExport(env, workflowId);
    await worker.stop();
    await emulator.close();
  }
}

/**
 * Where the loop's time goes between two calls, from the history's timestamps inside the window (means, ms): the
 * fetchStreamPage activity from scheduled to completed, the workflow tasks from scheduled to completed (the one that
 * stores a page runs its local persist), and the timers, with how many there were per call.
 */
function callTiming(runs: RunHistory[], fromMs: number, toMs: number) {
  const spans: Record<string, number[]> = { fetchStreamPage: [], workflowTask: [], timer: [] };
  for (const { history } of runs) {
    const started = new Map<string, { at: number; kind: string }>();
    for (const event of history.events ?? []) {
      const at = optionalTsToMs(event.eventTime) ?? 0;
      const id = String(event.eventId);
      const activity = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (activity) started.set(id, { at, kind: activity });
      if (event.workflowTaskScheduledEventAttributes) started.set(id, { at, kind: 'workflowTask' });
      if (event.timerStartedEventAttributes) started.set(id, { at, kind: 'timer' });
      const done =
        event.activityTaskCompletedEventAttributes?.scheduledEventId ??
        event.workflowTaskCompletedEventAttributes?.scheduledEventId ??
        event.timerFiredEventAttributes?.startedEventId;
      const start = done === undefined || done === null ? undefined : started.get(String(done));
      if (start && spans[start.kind] && start.at >= fromMs && at <= toMs) spans[start.kind].push(at - start.at);
    }
  }
  const mean = (values: number[]) =>
    values.length ? round(values.reduce((a, b) => a + b, 0) / values.length, 1) : null;
  const calls = spans.fetchStreamPage.length || 1;
  return {
    calls: spans.fetchStreamPage.length,
    fetchStreamPage: mean(spans.fetchStreamPage),
    workflowTask: mean(spans.workflowTask),
    workflowTasksPerCall: round(spans.workflowTask.length / calls, 2),
    timer: mean(spans.timer),
    timersPerCall: round(spans.timer.length / calls, 2),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Freshness of a new comment

export interface StreamsFreshnessOptions {
  /** Every stream's idle interval once caught up. */
  pollIntervalSeconds: number;
  /** Scaled buckets (and the workflow's pacing at them). */
  incrementalPerMinute: number;
  usersPerMinute: number;
  tickets: number;
  /** How long agents keep replying. */
  seconds: number;
}

/**
 * Seconds from the emulator creating a reply (an agent update with a Comment child) to the comment's row in
 * `ticket_comments`, all five streams caught up and polling. Replies come one at a time 0.2-1.5 s apart; the sink is
 * read every 100 ms.
 */
export async function measureStreamsFreshness(env: BenchEnv, options: StreamsFreshnessOptions) {
  const emulator = await emulatorFor({
    ticketCount: options.tickets,
    descriptionBytes: [200, 600],
    incrementalRequestsPerMinute: options.incrementalPerMinute,
    usersCursorRequestsPerMinute: options.usersPerMinute,
  });
  const sinkUrl = `sqlite:${path.join(env.dir, `streams-freshness-${randomUUID()}.db`)}`;
  const sink = await openSink(sinkUrl);
  const worker = await startBenchWorker(env, { baseUrl: emulator.url, sinkUrl });
  const account = new URL(emulator.url).host;
  let workflowId: string | undefined;
  try {
    const started = await startExport(env, worker, {
      account,
      api: 'cursor',
      streams: [...STREAMS],
      startTime: 0,
      pollIntervalSeconds: options.pollIntervalSeconds,
      minStartAgeSeconds: 1,
      requestsPerMinute: options.incrementalPerMinute,
      usersRequestsPerMinute: options.usersPerMinute,
    });
    workflowId = started.workflowId;
    await waitAllCaughtUp(env, workflowId, worker, 120_000);
    const commentIds = () => emulator.streamTruth('ticket_comments').map((c) => Number((c as { id: unknown }).id));
    let newestKnown = Math.max(0, ...commentIds());
    const pending = new Map<number, number>();
    const latencies: number[] = [];
    let replies = 0;
    const until = Date.now() + options.seconds * 1000;
    let nextReplyAt = Date.now();
    while (Date.now() < until || pending.size > 0) {
      if (Date.now() >= nextReplyAt && Date.now() < until) {
        emulator.mutate(1, 'agentUpdate');
        const at = Date.now();
        const fresh = commentIds().filter((id) => id > newestKnown);
        for (const id of fresh) pending.set(id, at);
        if (fresh.length > 0) replies++;
        newestKnown = Math.max(newestKnown, ...fresh);
        nextReplyAt = Date.now() + 200 + Math.random() * 1300;
      }
      if (pending.size > 0) {
        const stored = new Set((await sink.readStreamTable(account, 'ticket_comments')).map((row) => Number(row.id)));
        for (const [id, at] of pending) {
          if (stored.has(id)) {
            latencies.push((Date.now() - at) / 1000);
            pending.delete(id);
          }
        }
      }
      if (Date.now() > until + 60_000) throw new Error(`streams freshness: ${pending.size} comments never stored`);
      await sleep(100);
    }
    const stats = emulator.stats();
    return {
      options,
      minStartAgeSeconds: 1,
      replies,
      comments: latencies.length,
      p50Seconds: round(quantile(latencies, 0.5), 2),
      p99Seconds: round(quantile(latencies, 0.99), 2),
      maxSeconds: round(Math.max(...latencies), 2),
      // A comment waits for the start_time's minimum age (1 s), then for the next ticket_events poll (one interval),
      // which can fall behind its bucket-mates' turn: two intervals, plus a second for the call and the store.
      targetP99Seconds: 2 * options.pollIntervalSeconds + 1 + 1,
      rateLimited: stats.buckets.incremental.rateLimited + stats.buckets.users_cursor.rateLimited,
      byStream: stats.byStream,
    };
  } finally {
    if (workflowId) await stopExport(env, workflowId);
    await worker.stop();
    await sink.close();
    await emulator.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// A ticket events catch-up: history bytes per comment page, Temporal actions per 1000 ticket events

export interface StreamsCatchUpOptions {
  tickets: number;
  /** The ticket_events stream's pacing while catching up: a timer before every call, as in production. */
  requestsPerMinute: number;
  perPage: number;
  /** Offline page sizes: a page of ticket events with comments at each per_page. */
  sweepPerPage: number[];
}

/** One catch-up of the ticket_events stream alone (comments included), and its histories. */
export async function streamsCatchUp(env: BenchEnv, options: StreamsCatchUpOptions) {
  const emulator = await emulatorFor({ ticketCount: options.tickets, incrementalRequestsPerMinute: 0 });
  const sinkUrl = `sqlite:${path.join(env.dir, `streams-catch-up-${randomUUID()}.db`)}`;
  const sink = await openSink(sinkUrl);
  const worker = await startBenchWorker(env, { baseUrl: emulator.url, sinkUrl });
  const account = new URL(emulator.url).host;
  let workflowId: string | undefined;
  try {
    const events = emulator.streamTruth('ticket_events').length;
    const comments = emulator.streamTruth('ticket_comments').length;
    const started = await startExport(env, worker, {
      account,
      api: 'cursor',
      streams: ['ticket_events'],
      startTime: 0,
      pollIntervalSeconds: 300,
      minStartAgeSeconds: 1,
      requestsPerMinute: options.requestsPerMinute,
      perPage: options.perPage,
    });
    workflowId = started.workflowId;
    const pages = Math.ceil(events / options.perPage) + 1;
    await waitUntil(
      `${events} ticket events stored`,
      async () => (await sink.countStreamTable(account, 'ticket_events')) >= events,
      pages * (60_000 / options.requestsPerMinute + 5000) + 60_000,
      () => worker.output(),
      100,
    );
    const seconds = (Date.now() - started.startedAt) / 1000;
    await stopExport(env, workflowId);
    const runs = await fetchRunHistories(env.client, workflowId);
    return { events, comments, seconds: round(seconds, 1), runs, emulatorCalls: emulator.stats().byStream };
  } finally {
    if (workflowId) await stopExport(env, workflowId);
    await worker.stop();
    await sink.close();
    await emulator.close();
  }
}

type CatchUp = Awaited<ReturnType<typeof streamsCatchUp>>;

/**
 * Temporal Cloud actions per 1000 ticket events while catching up (bench/support/actions.ts's rule): the loop from
 * one persistStream to the next (the pacing timer, fetchStreamPage, the persist's marker, any upsert) per page,
 * scaled to 1000 events; and the whole catch-up, its start included, per 1000 events.
 */
export function streamsActions(catchUp: CatchUp, options: StreamsCatchUpOptions) {
  const items = catchUp.runs.flatMap((run) => {
    const events = run.history.events ?? [];
    const actions = eventActions(events);
    return events.map((event, i) => ({ event, actions: actions[i] }));
  });
  const persists = items.flatMap((item, i) => (localActivityType(item.event) === 'persistStream' ? [i] : []));
  if (persists.length < 2) throw new Error(`streams cost: ${persists.length} persistStream markers, need 2`);
  const loop = items.slice(persists[0] + 1, persists.at(-1)! + 1);
  const loopPages = persists.length - 1;
  const perPage = tally(loop.map((item) => item.actions));
  const whole = tally(items.slice(0, persists.at(-1)! + 1).map((item) => item.actions));
  const eventsPerPage = catchUp.events / persists.length;
  const scaleKinds = (byKind: Record<string, number>, factor: number) =>
    Object.fromEntries(Object.entries(byKind).map(([kind, n]) => [kind, round(n * factor, 3)]));
  return {
    ticketEvents: catchUp.events,
    pages: persists.length,
    perPage: options.perPage,
    eventsPerPage: round(eventsPerPage, 1),
    runs: catchUp.runs.length,
    loopPerPage: {
      actions: round(perPage.total / loopPages, 3),
      byKind: scaleKinds(perPage.byKind, 1 / loopPages),
      events: round(loop.length / loopPages, 2),
      bytes: Math.round(historyBytes(loop.map((item) => item.event)) / loopPages),
    },
    /** The loop's actions per page × 1000 / events per page: what a long catch-up costs. */
    per1000EventsLoop: round((perPage.total / loopPages) * (1000 / eventsPerPage), 3),
    /** Every action of the catch-up, the workflow's start included, per 1000 events stored. */
    per1000EventsWhole: round((whole.total * 1000) / catchUp.events, 3),
    wholeByKind: whole.byKind,
  };
}

/** What the catch-up's histories hold per comment page: fetchStreamPage results and the largest payload. */
export function streamsHistory(catchUp: CatchUp) {
  const results: number[] = [];
  let largest = 0;
  let events = 0;
  let bytes = 0;
  for (const { history } of catchUp.runs) {
    const all = history.events ?? [];
    events += all.length;
    bytes += historyBytes(all);
    const scheduled = new Map<string, string>();
    for (const event of all) {
      const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (name) scheduled.set(String(event.eventId), name);
      const payloads = [
        ...(event.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
        ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
        ...(event.markerRecordedEventAttributes?.details?.data?.payloads ?? []),
      ];
      for (const payload of payloads) largest = Math.max(largest, wireSize(payload));
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed && scheduled.get(String(completed.scheduledEventId)) === 'fetchStreamPage') {
        results.push(completed.result?.payloads?.reduce((n, p) => n + wireSize(p), 0) ?? 0);
      }
    }
  }
  const pages = catchUp.runs
    .flatMap((run) => run.history.events ?? [])
    .filter((event) => localActivityType(event) === 'persistStream').length;
  return {
    pages,
    historyEventsPerPage: round(events / pages, 2),
    bytesPerPage: Math.round(bytes / pages),
    fetchStreamPageResultBytes: {
      mean: Math.round(results.reduce((a, b) => a + b, 0) / results.length),
      max: Math.max(...results),
    },
    largestPayloadBytes: largest,
    workflowTasks: catchUp.runs
      .flatMap((run) => run.history.events ?? [])
      .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length,
  };
}

/**
 * A ticket_events page with comments (include=comment_events) at each per_page, as fetchStreamPage hands it to the
 * history: its JSON, whether it stays inline (≤ 128 KiB of JSON) or is staged in the blob store, and the result's
 * payload after the gzip codec (inline: the rows; staged: the summary and the blob's name). The emulator's comments:
 * descriptions of 600-3000 bytes, each comment's text three times (body, html_body, plain_body).
 */
export async function commentPageSizes(tickets: number, perPages: number[]) {
  const emulator = await emulatorFor({ ticketCount: tickets, incrementalRequestsPerMinute: 0 });
  try {
    const zendesk = new ZendeskClient({
      baseUrl: emulator.url,
      auth: { mode: 'api_token', email: DEFAULT_CREDENTIALS.email, apiToken: DEFAULT_CREDENTIALS.apiToken },
    });
    const codec = new GzipPayloadCodec();
    const sizes = [];
    for (const perPage of perPages) {
      const outcome = await zendesk.fetchStreamPage({ stream: 'ticket_events', startTime: 0, perPage });
      if (outcome.kind !== 'page') throw new Error(`comment page sizes: ${outcome.kind} at per_page ${perPage}`);
      const page = { stream: 'ticket_events' as const, ...outcome };
      const json = streamPageJson(page);
      const jsonBytes = Buffer.byteLength(json, 'utf8');
      const summary = summarizeStreamPage(page, jsonBytes);
      const inline = jsonBytes <= INLINE_PAGE_MAX_BYTES;
      const content = inline ? inlineStreamPage(page) : { staged: randomUUID(), bytes: jsonBytes };
      const result = { kind: 'page', summary, content, requestedAt: Date.now(), completedAt: Date.now() };
      const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(result)]);
      sizes.push({
        perPage,
        events: page.rows.length,
        comments: summary.comments ?? 0,
        jsonBytes,
        inline,
        historyBytes: wireSize(encoded),
        underHistoryLimit: wireSize(encoded) <= HISTORY_PAYLOAD_LIMIT,
      });
    }
    // The largest page that stays inline, at these comments' size.
    const bytesPerEvent = sizes.reduce((n, s) => n + s.jsonBytes / s.events, 0) / sizes.length;
    return {
      sizes,
      jsonBytesPerEvent: Math.round(bytesPerEvent),
      inlineUpTo: Math.floor(INLINE_PAGE_MAX_BYTES / bytesPerEvent),
    };
  } finally {
    await emulator.close();
  }
}

function wireSize(payload: Payload | temporal.api.common.v1.IPayload): number {
  return temporal.api.common.v1.Payload.encode(payload).finish().length;
}
