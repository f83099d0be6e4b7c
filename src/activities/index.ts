import { TicketSink } from '../storage/sink';
import { ZendeskClient } from '../zendesk/client';
import { createFetchPage } from './fetch-page';
import { createLoadCheckpoint, createPersist } from './persist';

export * from './types';

export interface ActivityDeps {
  /** A Zendesk client per account this worker exports. */
  zendesk: ReadonlyMap<string, ZendeskClient>;
  sink: TicketSink;
}

export function createActivities(deps: ActivityDeps) {
  return {
    fetchPage: createFetchPage(deps),
    persist: createPersist(deps),
    loadCheckpoint: createLoadCheckpoint(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
