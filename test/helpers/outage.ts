import type { BlobStore } from '../../src/codec/blob-store';
import { TicketSink } from '../../src/storage/sink';

const REFUSED = 'connect ECONNREFUSED 127.0.0.1:5432 (simulated outage)';

/**
 * A real sink behind a switch: while `down` (or for the next `failNext` calls of an operation), its calls fail as a
 * database that is unreachable would, without touching the database itself. `wrapBlobStore` puts the blob store that
 * lives in the same database behind the same switch.
 */
export class SinkOutage {
  down = false;
  readonly failNext = { persistPage: 0, readFullCheckpoint: 0 };
  readonly failures = { persistPage: 0, readFullCheckpoint: 0, blobStore: 0 };
  /**
   * The switch goes down by itself, once, when this many pages are stored: a case that needs "page N stored, then the
   * outage" cannot miss page N, however fast the next page follows.
   */
  downAfterPersists = Infinity;
  private persisted = 0;

  wrap(sink: TicketSink): TicketSink {
    const gate = (operation: 'persistPage' | 'readFullCheckpoint') => {
      if (!this.down && this.failNext[operation] === 0) return;
      if (this.failNext[operation] > 0) this.failNext[operation]--;
      this.failures[operation]++;
      throw new Error(REFUSED);
    };
    return new Proxy(sink, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'persistPage' && property !== 'readFullCheckpoint') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (...args: unknown[]) => {
          gate(property);
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (property === 'persistPage' && ++this.persisted === this.downAfterPersists) this.down = true;
          return result;
        };
      },
    });
  }

  wrapBlobStore(store: BlobStore): BlobStore {
    const gate = () => {
      if (!this.down) return;
      this.failures.blobStore++;
      throw new Error(REFUSED);
    };
    return {
      put: async (id, data) => (gate(), store.put(id, data)),
      get: async (id, maxBytes) => (gate(), store.get(id, maxBytes)),
      deleteOlderThan: async (olderThan, keep) => (gate(), store.deleteOlderThan(olderThan, keep)),
      close: () => store.close(),
    };
  }
}
