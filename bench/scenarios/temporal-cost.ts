import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { startEmulator } from '../../src/emulator';
import { ExportApi, WORKFLOW_TYPE } from '../../src/shared';
import { exportStartOptions } from '../../src/temporal/start-options';
import { WATCH_INTERVAL_SECONDS } from '../../src/cli/commands';
import { statusQuery } from '../../src/workflows/messages';
import { EXPORT_DEFAULTS } from '../../src/workflows/settings';
import {
  Action,
  ACTION_RULE,
  ActionTally,
  eventActions,
  markerTask,
  historyBytes,
  noOpUpserts,
  summaryBytes,
  tally,
  timersOf,
} from '../support/actions';
import { fetchRunHistories, localActivityType, RunHistory } from '../support/histories';
import { BenchEnv, openSink, startBenchWorker, stopExport, waitForTickets, waitUntil } from '../support/pipeline';
import { round } from '../support/stats';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const ENDPOINT_FAMILIES: readonly ExportApi[] = ['exports', 'incremental', 'cursor'];

/**
 * What production runs with: one idle poll per default poll interval (300 s), and a run continued as new at the
 * server's suggestion (`limit.historyCount.suggestContinueAsNew` 4,096 events, `limit.historySize.suggestContinueAsNew`
 * 4 MiB: the server's defaults, in temporalio/temporal common/dynamicconfig/constants.go) or after `pagesPerRun`
 * pages, whichever comes first.
 */
const PRODUCTION = {
  pollIntervalSeconds: EXPORT_DEFAULTS.pollIntervalSeconds,
  idlePollsPerHour: 3600 / EXPORT_DEFAULTS.pollIntervalSeconds,
  pagesPerRun: EXPORT_DEFAULTS.pagesPerRun,
  /** Tickets in a full page, on every endpoint (the specified one's page, the incremental ones' per_page). */
  pageSize: EXPORT_DEFAULTS.pageSize,
  suggestContinueAsNewEvents: 4096,
  suggestContinueAsNewBytes: 4 * 1024 * 1024,
};

/** A timer this short was started with nothing left to wait for (export-run.ts MIN_TIMER_MS). */
const NOTHING_TO_WAIT_MS = 1;

export interface TemporalCostOptions {
  /** Tickets in the emulator: the catch-up. */
  tickets: number;
  /**
   * The poll interval: the specified endpoint's pacing while catching up, and every endpoint's idle interval. Above
   * the incremental endpoints' pacing (60 / requestsPerMinute), as the defaults are (300 s, 6 s).
   */
  intervalSeconds: number;
  /** Incremental endpoints: the pacing while catching up (production: 10 a minute). */
  requestsPerMinute: number;
  /** How long to watch the caught-up export poll an account where nothing changes. */
  idleSeconds: number;
  /** Continue-as-new after this many pages (a small number), so that what a run costs by itself is measured. */
  pagesPerRun: number;
  /** After the idle window, on the first endpoint: status queries and metadata queries sent, then one slow call. */
  queries: number;
  slowCallMs: number;
}

/**
 * Temporal Cloud's billable actions, history events and history bytes of an export, per endpoint family: per 1000
 * tickets while catching up, and per hour of polling a caught-up account where nothing changes. Counted from the
 * workflow's histories (bench/support/actions.ts has the rule and its sources) and checked against the dev server's
 * own `action` metric; queries and heartbeats, which leave no event, are measured from that metric.
 *
 * The idle hour is measured at a short interval and scaled: the events and actions of one idle poll (the wait, the
 * call) do not depend on the interval's length, so per hour = per poll × 3600 / 300 (the default interval), plus the
 * continue-as-new that the history's growth brings about (the formulas are in the result's `scaling`).
 */
export async function measureTemporalCost(env: BenchEnv, options: TemporalCostOptions) {
  const endpoints = [];
  for (const api of ENDPOINT_FAMILIES) {
    endpoints.push(await measureEndpoint(env, api, options, api === ENDPOINT_FAMILIES[0]));
  }
  return {
    rule: ACTION_RULE,
    production: PRODUCTION,
    scaling: {
      idleHour:
        'per idle poll × 3600 / pollIntervalSeconds (300 s: 12 polls) + per continue-as-new × runs per hour, where ' +
        'runs per hour = 12 × max(events per poll / 4096, bytes per poll / 4 MiB, pages stored per poll / 500)',
      per1000Tickets:
        'per page of 1000 tickets: the loop from one persist to the next (every event but those of a run start: ' +
        "WorkflowExecutionStarted, ContinuedAsNew, the run's first workflow task, markers, TemporalChangeVersion " +
        'upserts) per page + ' +
        'per continue-as-new / pages per run, where pages per run = min(pagesPerRun 500, 4096 / events per page, ' +
        '4 MiB / bytes per page)',
    },
    options,
    endpoints,
  };
}

async function measureEndpoint(env: BenchEnv, api: ExportApi, options: TemporalCostOptions, probes: boolean) {
  const emulator = await startEmulator({
    ticketCount: options.tickets,
    // No rate limit and no minimum age beyond a second: the workflow's own pacing is what is measured.
    windowSeconds: 0,
    minStartAgeSeconds: 1,
    incrementalRequestsPerMinute: 0,
    incrementalMinStartAgeSeconds: 1,
  });
  const sinkUrl = `sqlite:${path.join(env.dir, `cost-${api}-${randomUUID()}.db`)}`;
  const sink = await openSink(sinkUrl);
  const worker = await startBenchWorker(env, { baseUrl: emulator.url, sinkUrl });
  const account = new URL(emulator.url).host;
  try {
    const before = await serverActions(env);
    // Started as `client start` does: the search attributes it sets at the start are not billed.
    const start = exportStartOptions(
      {
        account,
        api,
        startTime: 0,
        pollIntervalSeconds: options.intervalSeconds,
        minStartAgeSeconds: 1,
        pagesPerRun: options.pagesPerRun,
        ...(api === 'exports' ? {} : { requestsPerMinute: options.requestsPerMinute }),
      },
      worker.taskQueue,
    );
    await env.client.workflow.start(WORKFLOW_TYPE, start);
    const { workflowId } = start;
    const catchUpCalls = Math.ceil(options.tickets / 1000) + 1;
    const caughtUpAt = await waitForTickets(
      sink,
      account,
      options.tickets,
      catchUpCalls * (options.intervalSeconds + 3) * 1000 + 60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, options.idleSeconds * 1000));
    const idleEndsAt = Date.now();

    let probed: Awaited<ReturnType<typeof probe>> | undefined;
    if (probes) probed = await probe(env, workflowId, options, emulator);

    await stopExport(env, workflowId);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const metric = difference(await serverActions(env), before);
    const runs = await fetchRunHistories(env.client, workflowId);
    // BENCH_COST_HISTORIES=<dir>: the histories measured, as replay tests load them, for a closer look.
    const keep = process.env.BENCH_COST_HISTORIES;
    if (keep) {
      fs.mkdirSync(keep, { recursive: true });
      runs.forEach((run, i) =>
        fs.writeFileSync(path.join(keep, `${api}-run-${String(i + 1).padStart(2, '0')}.json`), run.json),
      );
    }
    const analysis = analyse(runs, options.tickets, caughtUpAt, idleEndsAt);
    const fromHistories = runs.reduce(
      (sum, run) => sum + tally(eventActions(run.history.events ?? [], 'server-metric')).total,
      0,
    );
    const outsideHistory = (metric['grpc_QueryWorkflow'] ?? 0) + (metric['grpc_RecordActivityTaskHeartbeat'] ?? 0);
    const metricTotal = Object.values(metric).reduce((a, b) => a + b, 0);
    return {
      api,
      ...analysis,
      probes: probed ?? null,
      serverMetricCheck: {
        // The server's `action` counter over the workflow's whole life, by action type.
        metric,
        metricWithoutQueriesAndHeartbeats: metricTotal - outsideHistory,
        countedFromHistoriesByItsRule: fromHistories,
        match: metricTotal - outsideHistory === fromHistories,
      },
      emulatorCalls: emulator.stats().calls,
      rateLimited: emulator.stats().byStatus['429'] ?? 0,
    };
  } finally {
    await worker.stop();
    await sink.close();
    await emulator.close();
  }
}

/**
 * What leaves no event: `queries` status queries and as many `__temporal_workflow_metadata` queries (the Web UI's,
 * which Cloud does not bill), then one call to Zendesk that takes `slowCallMs` (the activity heartbeats every 2 s).
 */
async function probe(
  env: BenchEnv,
  workflowId: string,
  options: TemporalCostOptions,
  emulator: Awaited<ReturnType<typeof startEmulator>>,
) {
  const handle = env.client.workflow.getHandle(workflowId);
  const measure = async (what: () => Promise<void>) => {
    const before = await serverActions(env);
    await what();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return difference(await serverActions(env), before);
  };
  const status = await measure(async () => {
    for (let i = 0; i < options.queries; i++) await handle.query(statusQuery);
  });
  const metadata = await measure(async () => {
    for (let i = 0; i < options.queries; i++) await handle.query('__temporal_workflow_metadata');
  });
  const slow = await measure(async () => {
    const calls = emulator.stats().calls;
    emulator.injectFaults([{ kind: 'slow', delayMs: options.slowCallMs }]);
    // The slow call, then the next one: the slow call's activity has completed by then.
    await waitUntil(
      'the slow call and the next',
      () => emulator.stats().calls >= calls + 2,
      60_000 + options.slowCallMs,
    );
  });
  const perStatusQuery = (status['grpc_QueryWorkflow'] ?? 0) / options.queries;
  return {
    queries: options.queries,
    actionsPerStatusQuery: perStatusQuery,
    actionsPerMetadataQuery: (metadata['grpc_QueryWorkflow'] ?? 0) / options.queries,
    // `client status --watch` queries every WATCH_INTERVAL_SECONDS (2 s); the demo's view every second.
    statusWatchPerHour: (perStatusQuery * 3600) / WATCH_INTERVAL_SECONDS,
    slowCallMs: options.slowCallMs,
    heartbeatsOfTheSlowCall: slow['grpc_RecordActivityTaskHeartbeat'] ?? 0,
  };
}

interface Cost {
  events: number;
  bytes: number;
  actions: ActionTally;
}

interface Item {
  run: number;
  event: HistoryEvent;
  actions: Action[];
  /**
   * A run's own cost, not the loop's: its start and first workflow task (a fresh start: all before the first call),
   * its ContinuedAsNew event, patch markers, TemporalChangeVersion upserts.
   */
  runOverhead: boolean;
}

/** Catch-up and idle cost of one export, from its runs' histories (oldest first). */
export function analyse(runs: RunHistory[], tickets: number, caughtUpAt: number, idleEndsAt: number) {
  const items: Item[] = runs.flatMap((run, r) => {
    const events = run.history.events ?? [];
    const actions = eventActions(events);
    // A workflow task that stored a page bills its markers once for the loop, patch markers beside it or not.
    const storingTasks = new Set(events.filter((e) => localActivityType(e) !== undefined).map((e) => markerTask(e)));
    // A fresh start: everything before the first call (its first timer included). A continued run: its start and
    // first workflow task (the loop's wait that follows belongs to the page before).
    const startEnd =
      r === 0
        ? events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchPage') - 1
        : events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    return events.map((event, i) => ({
      run: r,
      event,
      actions: actions[i],
      runOverhead:
        i <= startEnd ||
        event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW ||
        // Patch markers; the markers of a task that ran the persist (a local activity) are the loop's.
        (event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && !storingTasks.has(markerTask(event))) ||
        isChangeVersionUpsert(event),
    }));
  });
  // A remote activity's scheduling, or (persist since the 'persist-locally' patch) a local activity's marker.
  const activity = (item: Item) =>
    item.event.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityType(item.event);
  const at = (item: Item) => optionalTsToMs(item.event.eventTime) ?? 0;
  // The idle polls: from the first call after the sink held every ticket to the last call before the idle window
  // ended. (On the specified endpoint an idle poll may store a page too: the tickets of the cursor's second again.)
  const idleStart = items.findIndex((item) => activity(item) === 'fetchPage' && at(item) > caughtUpAt);
  const idleEnd = items.findLastIndex((item) => activity(item) === 'fetchPage' && at(item) < idleEndsAt);
  if (idleStart < 0 || idleEnd <= idleStart) {
    const outline = items.map(
      ({ run, event }) =>
        `${run}:${event.eventId} ${optionalTsToMs(event.eventTime)} ${EventType[event.eventType ?? 0]} ${
          event.activityTaskScheduledEventAttributes?.activityType?.name ?? ''
        }`,
    );
    throw new Error(
      `temporal-cost: no idle polls seen (idle ${idleStart}-${idleEnd}, ${caughtUpAt}-${idleEndsAt})\n${outline.join('\n')}`,
    );
  }

  const catchUp = items.slice(0, idleStart);
  const idle = items.slice(idleStart, idleEnd);
  const pages = catchUp.filter((item) => activity(item) === 'persist').length;
  const idlePolls = idle.filter((item) => activity(item) === 'fetchPage').length;
  const idlePages = idle.filter((item) => activity(item) === 'persist').length;
  const continued = runs.slice(1).map((_, i) => i + 1);

  // A page's steady cost: from one persist to the next (its cursor upsert, the pacing wait, the call, the persist).
  // Before the first: the start; after the last: the step to caught up (its state upsert, the first idle wait).
  const persists = catchUp.flatMap((item, i) => (activity(item) === 'persist' ? [i] : []));
  const steady =
    persists.length > 1
      ? { items: catchUp.slice(persists[0] + 1, persists.at(-1)! + 1), pages: persists.length - 1 }
      : { items: catchUp, pages };
  const loop = costOf(steady.items.filter((item) => !item.runOverhead));
  const idleLoop = costOf(idle.filter((item) => !item.runOverhead));
  // A continue-as-new: the ContinuedAsNew event of the run it ends, and the new run's start.
  const perContinueAsNew = continued.length
    ? scale(
        costOf(items.filter((item) => item.runOverhead && (item.run > 0 || isContinuedAsNew(item.event)))),
        1 / continued.length,
      )
    : null;
  const freshStart = costOf(
    items.filter((item) => item.run === 0 && item.runOverhead && !isContinuedAsNew(item.event)),
  );

  const perPage = scale(loop, 1 / steady.pages);
  const perIdlePoll = scale(idleLoop, 1 / idlePolls);
  const ticketsPerPage = tickets / pages;
  const pagesPerRun = Math.max(
    1,
    Math.min(
      PRODUCTION.pagesPerRun,
      Math.floor(PRODUCTION.suggestContinueAsNewEvents / perPage.events),
      Math.floor(PRODUCTION.suggestContinueAsNewBytes / perPage.bytes),
    ),
  );
  const can = perContinueAsNew ?? freshStart;
  // A long catch-up's pages are full: 1000 tickets each (the last ones of a short catch-up are not).
  const pagesPer1000 = 1000 / PRODUCTION.pageSize;
  const projectedPer1000 = add(scale(perPage, pagesPer1000), scale(can, pagesPer1000 / pagesPerRun));
  const runsPerIdleHour =
    PRODUCTION.idlePollsPerHour *
    Math.max(
      perIdlePoll.events / PRODUCTION.suggestContinueAsNewEvents,
      perIdlePoll.bytes / PRODUCTION.suggestContinueAsNewBytes,
      idlePages / idlePolls / PRODUCTION.pagesPerRun,
    );
  const projectedIdleHour = add(scale(perIdlePoll, PRODUCTION.idlePollsPerHour), scale(can, runsPerIdleHour));

  const timerCatalogue = (part: Item[]) => {
    const timers = timersOf(part.map((item) => item.event));
    const bySummary: Record<string, { count: number; nothingToWait: number }> = {};
    for (const timer of timers) {
      const key = timer.summary.replace(/\d+(\.\d+)? s/g, 'N s');
      const entry = (bySummary[key] ??= { count: 0, nothingToWait: 0 });
      entry.count++;
      if (timer.ms <= NOTHING_TO_WAIT_MS) entry.nothingToWait++;
    }
    return {
      timers: timers.length,
      nothingToWait: timers.filter((timer) => timer.ms <= NOTHING_TO_WAIT_MS).length,
      bySummary,
    };
  };
  const upsertsByKeys = (part: Item[]) => {
    const counts: Record<string, number> = {};
    for (const { event } of part) {
      const keys = Object.keys(
        event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
      );
      if (keys.length) counts[keys.sort().join('+')] = (counts[keys.sort().join('+')] ?? 0) + 1;
    }
    return counts;
  };
  const markers = items.filter((item) => item.event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);

  return {
    tickets,
    runs: runs.length,
    measured: {
      catchUp: {
        pages,
        ticketsPerPage: round(ticketsPerPage, 1),
        runs: new Set(catchUp.map((i) => i.run)).size,
        ...costOf(catchUp),
      },
      idle: {
        polls: idlePolls,
        // Polls that stored a page: on the specified endpoint, the tickets of the cursor's second, again.
        pagesStored: idlePages,
        seconds: round(
          ((optionalTsToMs(items[idleEnd].event.eventTime) ?? 0) -
            (optionalTsToMs(items[idleStart].event.eventTime) ?? 0)) /
            1000,
          1,
        ),
        ...costOf(idle),
      },
    },
    loopPerPage: rounded(perPage),
    perIdlePoll: rounded(perIdlePoll),
    perContinueAsNew: perContinueAsNew && rounded(perContinueAsNew),
    freshStart,
    projected: {
      pagesPerRun,
      per1000Tickets: rounded(projectedPer1000),
      runsPerIdleHour: round(runsPerIdleHour, 3),
      perIdleHour: rounded(projectedIdleHour),
    },
    details: {
      catchUpTimers: timerCatalogue(catchUp),
      idleTimers: timerCatalogue(idle),
      catchUpUpserts: upsertsByKeys(catchUp),
      idleUpserts: upsertsByKeys(idle),
      noOpUpserts: runs.flatMap((run) => noOpUpserts(run.history.events ?? [])).length,
      markersPerRun: round(markers.length / runs.length, 2),
      markerNames: [...new Set(markers.map((item) => item.event.markerRecordedEventAttributes?.markerName ?? ''))],
      summaryBytes: {
        catchUpPerPage: Math.round(summaryBytes(catchUp.filter((i) => !i.runOverhead).map((i) => i.event)) / pages),
        perIdlePoll: Math.round(summaryBytes(idle.filter((i) => !i.runOverhead).map((i) => i.event)) / idlePolls),
      },
    },
  };
}

function isContinuedAsNew(event: HistoryEvent): boolean {
  return event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW;
}

function isChangeVersionUpsert(event: HistoryEvent): boolean {
  const keys = Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
  return keys.length > 0 && keys.every((key) => key === 'TemporalChangeVersion');
}

function costOf(items: Item[]): Cost {
  return {
    events: items.length,
    bytes: historyBytes(items.map((item) => item.event)),
    actions: tally(items.map((item) => item.actions)),
  };
}

function scale(cost: Cost, factor: number): Cost {
  const byKind = Object.fromEntries(Object.entries(cost.actions.byKind).map(([kind, n]) => [kind, n * factor]));
  return {
    events: cost.events * factor,
    bytes: cost.bytes * factor,
    actions: { total: cost.actions.total * factor, byKind },
  };
}

function add(a: Cost, b: Cost): Cost {
  const byKind = { ...a.actions.byKind };
  for (const [kind, n] of Object.entries(b.actions.byKind)) byKind[kind] = (byKind[kind] ?? 0) + n;
  return {
    events: a.events + b.events,
    bytes: a.bytes + b.bytes,
    actions: { total: a.actions.total + b.actions.total, byKind },
  };
}

function rounded(cost: Cost): Cost {
  return {
    events: round(cost.events, 2),
    bytes: Math.round(cost.bytes),
    actions: {
      total: round(cost.actions.total, 3),
      byKind: Object.fromEntries(Object.entries(cost.actions.byKind).map(([kind, n]) => [kind, round(n, 3)])),
    },
  };
}

/** The dev server's `action` counter in the default namespace, by action type. */
async function serverActions(env: BenchEnv): Promise<Record<string, number>> {
  if (!env.server.metricsUrl) throw new Error('temporal-cost: the dev server runs without metrics');
  const text = await (await fetch(env.server.metricsUrl)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^action\{([^}]*)\} (\S+)$/gm)) {
    const labels = match[1];
    if (!labels.includes('namespace="default"')) continue;
    const type = /action_type="([^"]+)"/.exec(labels)?.[1] ?? 'unknown';
    counts[type] = (counts[type] ?? 0) + Number(match[2]);
  }
  return counts;
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [type, n] of Object.entries(after)) {
    const d = n - (before[type] ?? 0);
    if (d !== 0) delta[type] = d;
  }
  return delta;
}
