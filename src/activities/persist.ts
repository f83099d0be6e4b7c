import { TicketSink } from '../sinks/sink';
import { PersistInput, PersistOutput } from './types';

export function createPersist({ sink }: { sink: TicketSink }) {
  return async function persist(input: PersistInput): Promise<PersistOutput> {
    return sink.persistPage(input);
  };
}

export function createLoadCheckpoint({ sink }: { sink: TicketSink }) {
  /** The cursor the sink last stored for this account, the recovery point of a new workflow. */
  return async function loadCheckpoint(account: string): Promise<number | null> {
    return (await sink.readCheckpoint(account)) ?? null;
  };
}
