import { TicketSink } from '../storage/sink';
import type { PageStaging } from '../codec/staged-pages';
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
  return {
    fetchPage: createFetchPage(deps),
    persist: createPersist(deps),
    loadCheckpoint: createLoadCheckpoint(deps),
    fetchStreamPage: createFetchStreamPage(deps),
    persistStream: createPersistStream(deps),
    loadStreamCheckpoint: createLoadStreamCheckpoint(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
