import { temporal } from '@temporalio/proto';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import path from 'node:path';
import { startBenchEnv, startEmulatorProcess } from './support/pipeline';
import { throughPipeline } from './scenarios/durability';
(async () => {
  const env = await startBenchEnv();
  const emulator = await startEmulatorProcess([
    '--tickets',
    process.argv[2] ?? '30000',
    '--window-seconds',
    '0',
    '--min-start-age-seconds',
    '0',
  ]);
  try {
    const r = await throughPipeline(
      env,
      emulator.url,
      `sqlite:${path.join(env.dir, 'p.db')}`,
      Number(process.argv[2] ?? 30000),
    );
    console.log(JSON.stringify(r.timing));
    const h = await env.client.workflow.getHandle(r.workflowId).fetchHistory();
    const ev = (h.events ?? []).map((e) => ({
      t: optionalTsToMs(e.eventTime)!,
      type: temporal.api.enums.v1.EventType[e.eventType!].replace('EVENT_TYPE_', ''),
      name: e.activityTaskScheduledEventAttributes?.activityType?.name,
    }));
    console.log('first', ev[0].t, 'last', ev.at(-1)!.t, 'span', ev.at(-1)!.t - ev[0].t, 'events', ev.length);
    const types: Record<string, number> = {};
    for (const e of ev) types[e.type] = (types[e.type] ?? 0) + 1;
    console.log(JSON.stringify(types));
    let prev = 0;
    const line: string[] = [];
    for (const e of ev.slice(0, 60)) {
      line.push(`${e.t - (prev || e.t)} ${e.type}${e.name ? ':' + e.name : ''}`);
      prev = e.t;
    }
    console.log(line.join('\n'));
  } finally {
    await emulator.stop();
    await env.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
