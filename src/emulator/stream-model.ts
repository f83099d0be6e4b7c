import { DELETED, type StreamPosition, type TicketStore } from './data';
import {
  commentRows,
  fieldHistoryRows,
  TicketEventJson,
  type CommentRow,
  type FieldHistoryRow,
  type TicketEvent,
} from './event-json';
import { seedLog, TicketEventLog, TicketHistory } from './events';
import { METRIC_ID_BASE, METRIC_STRIDE, metricRows, type TicketMetricEvent } from './metric-events';
import { People, type StreamOrganization, type StreamUser } from './people';

/** A row of a stream with the time it is ordered and filtered by (epoch seconds). */
export interface Timed<T> {
  time: number;
  row: T;
}

export interface StreamModelOptions {
  seed: number;
  rangeStart: number;
  rangeEnd: number;
  /** write the seeded tickets' history as events (else the events start with the first live change) */
  seedEvents: boolean;
}

const { floor } = Math;

/**
 * The streams around the ticket, from one model: the ticket events (and the comments, field changes and metric events
 * derived from them) record every change of the ticket store; users and organizations are the rows the tickets refer
 * to. What the truth routes show is what a full read of each stream returns.
 */
export class StreamModel {
  readonly log = new TicketEventLog();
  readonly history: TicketHistory;
  readonly events: TicketEventJson;
  readonly people: People;

  constructor(
    readonly store: TicketStore,
    options: StreamModelOptions,
  ) {
    if (options.seedEvents) seedLog(this.log, store.all(), options.seed);
    this.history = new TicketHistory(this.log, options.seed);
    this.events = new TicketEventJson(this.log, store, options.seed);
    this.people = new People(options.seed, options.rangeStart, options.rangeEnd);
    store.observer = this.history;
  }

  /**
   * `count` events at `second` on the first tickets that existed then and are not deleted, each with an unknown child
   * type and children with every shape of via. They change no field.
   */
  addUnusualEvents(count: number, second: number): void {
    let added = 0;
    for (const ticket of this.store.all()) {
      if (added === count) return;
      if (ticket.createdAt > second || ticket.status === DELETED) continue;
      this.history.unusual(ticket, second);
      added++;
    }
  }

  /** Event serials with startTime <= timestamp <= upTo, in (timestamp, id) order. */
  *eventsFrom(startTime: number, upTo: number): Generator<Timed<number>> {
    const { log } = this;
    for (let position = log.lowerBound(startTime); position < log.length; position++) {
      const serial = log.serialAt(position);
      const time = log.timestamp[serial];
      if (time > upTo) return;
      yield { time, row: serial };
    }
  }

  /** Metric events strictly after `after` (time, id) with time <= upTo, in that order. */
  *metricsAfter(after: StreamPosition, upTo: number): Generator<Timed<TicketMetricEvent>> {
    const { log } = this;
    const fromSerial = after.id >= METRIC_ID_BASE ? floor((after.id - METRIC_ID_BASE) / METRIC_STRIDE) : 0;
    for (let position = log.lowerBound(after.gts, fromSerial); position < log.length; position++) {
      const serial = log.serialAt(position);
      const time = log.timestamp[serial];
      if (time > upTo) return;
      for (const row of metricRows(log, this.store, serial)) {
        if (time === after.gts && row.id <= after.id) continue;
        yield { time, row };
      }
    }
  }

  /** Up to `count` metric events right before (time, id) `before`, oldest first. */
  metricsBefore(before: StreamPosition, count: number): Array<Timed<TicketMetricEvent>> {
    const { log } = this;
    const out: Array<Timed<TicketMetricEvent>> = [];
    const fromSerial = before.id >= METRIC_ID_BASE ? floor((before.id - METRIC_ID_BASE) / METRIC_STRIDE) + 1 : 0;
    for (let position = log.lowerBound(before.gts, fromSerial) - 1; position >= 0 && out.length < count; position--) {
      const serial = log.serialAt(position);
      const time = log.timestamp[serial];
      const rows = metricRows(log, this.store, serial).filter((row) => time < before.gts || row.id <= before.id);
      for (let k = rows.length - 1; k >= 0 && out.length < count; k--) out.push({ time, row: rows[k] });
    }
    return out.reverse();
  }

  private allEvents(): TicketEvent[] {
    const out: TicketEvent[] = [];
    for (let position = 0; position < this.log.length; position++) {
      out.push(this.events.event(this.log.serialAt(position), true));
    }
    return out;
  }

  truthTicketEvents(): TicketEvent[] {
    return this.allEvents();
  }

  /** Every comment as the export now serves it, by id. */
  truthComments(): CommentRow[] {
    return this.allEvents()
      .flatMap(commentRows)
      .sort((a, b) => a.id - b.id);
  }

  truthFieldHistory(): FieldHistoryRow[] {
    return this.allEvents()
      .flatMap(fieldHistoryRows)
      .sort((a, b) => a.child_id - b.child_id);
  }

  truthMetricEvents(): TicketMetricEvent[] {
    return [...this.metricsAfter({ gts: 0, id: 0 }, Infinity)].map((timed) => timed.row);
  }

  truthUsers(baseUrl: string): StreamUser[] {
    return this.people.truthUsers(baseUrl);
  }

  truthOrganizations(baseUrl: string): StreamOrganization[] {
    return this.people.truthOrganizations(baseUrl);
  }
}
