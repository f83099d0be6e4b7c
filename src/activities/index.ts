import { TicketSink } from '../storage/sink';
import type { PageStaging } from '../codec/staged-pages';
import type { StreamSink } from '../streams/contract';
import { ZendeskClient } from '../zendesk/client';
import { createFetchPage } from './fetch-page';
import { createFetchStreamPage } from './fetch-stream-page';
import { createLoadCheckpoint, createPersist } from './persist';
import { createLoadStreamCheckpoint, createPersistStream } from './persist-stream';

export * from './types';

export interface ActivityDeps {
  /** A Zendesk client per account this worker exports. */
  zendesk: ReadonlyMap<string, ZendeskClient>;
  sink: TicketSink;
  /** Pages too big for the history wait here between fetchPage and persist (the blob store next to the sink). */
  staging: PageStaging;
}

export function createActivities(deps: ActivityDeps) {
  // TicketSink extends StreamSink once both sinks implement the streams (branch s23-store); drop the cast then.
  const streamSink = { ...deps, sink: deps.sink as TicketSink & StreamSink };
  return {
    fetchPage: createFetchPage(deps),
    persist: createPersist(deps),
    loadCheckpoint: createLoadCheckpoint(deps),
    fetchStreamPage: createFetchStreamPage(deps),
    persistStream: createPersistStream(streamSink),
    loadStreamCheckpoint: createLoadStreamCheckpoint(streamSink),
  };
}

export type Activities = ReturnType<typeof createActivities>;
