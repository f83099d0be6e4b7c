import {
  DELETED,
  GROUPS,
  mulberry32,
  PRIORITIES,
  TAGS,
  type MutationKind,
  type Ticket,
  type TicketFields,
  type TicketObserver,
} from './data';

/**
 * Ids of the ticket events and their children come from one sequence, as Zendesk's do: event `serial` has the id
 * EVENT_ID_BASE + serial * CHILD_ID_STRIDE and its children the ids right after it. Serials follow (timestamp, ticket)
 * for the seeded history and the order of emission after it, so ids increase with time.
 */
export const EVENT_ID_BASE = 370_000_000_000;
export const CHILD_ID_STRIDE = 32;

export const EVENT_KINDS = ['create', 'agentUpdate', 'requesterReply', 'systemUpdate', 'delete', 'unusual'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
const KIND_CODE: Readonly<Record<EventKind, number>> = {
  create: 0,
  agentUpdate: 1,
  requesterReply: 2,
  systemUpdate: 3,
  delete: 4,
  unusual: 5,
};

export const FLAG_COMMENT = 1;
export const FLAG_PUBLIC = 2;
/** the ticket's first public agent comment (it fulfils reply_time) */
export const FLAG_FIRST_REPLY = 4;

/** A ticket's fields after an event, with the two its events show and the ticket export does not change. */
export interface EventState extends TicketFields {
  tier: number;
  /** the "Escalation" custom field, 0 = none: seen only in ticket events, its value an object */
  escalation: number;
}

export const ESCALATION_LEVELS = 3;

const { floor, imul, min } = Math;
const OPEN = 0;

// States are built field by field: spreading objects costs a second per million seeded tickets.
function stateOf(ticket: Ticket, escalation: number): EventState {
  const { status, priority, assignee, group, subject, tags, tier } = ticket;
  return { status, priority, assignee, group, subject, tags, tier, escalation };
}

function copyState(from: EventState): EventState {
  const { status, priority, assignee, group, subject, tags, tier, escalation } = from;
  return { status, priority, assignee, group, subject, tags, tier, escalation };
}

/**
 * Every ticket event, as columns of typed arrays (23 bytes an event): a million seeded tickets make about three
 * million events, too many for one object each. An event stores the ticket's fields after it; what changed is the
 * difference to the ticket's previous event, whose serial it keeps.
 */
export class TicketEventLog {
  length = 0;
  private capacity = 0;
  timestamp = new Uint32Array(0);
  ticket = new Uint32Array(0);
  /** the serial of the same ticket's previous event; -1 for none */
  previous = new Int32Array(0);
  kind = new Uint8Array(0);
  flags = new Uint8Array(0);
  status = new Uint8Array(0);
  priority = new Uint8Array(0);
  assignee = new Uint8Array(0);
  group = new Uint8Array(0);
  subject = new Uint8Array(0);
  tier = new Uint8Array(0);
  escalation = new Uint8Array(0);
  tags = new Uint16Array(0);
  /** serials ordered by (timestamp, serial): the order the ticket events export serves */
  private order = new Uint32Array(0);
  /** the newest serial per ticket (index: ticket id - 1); -1 for none */
  private newest = new Int32Array(0);
  /**
   * The fields before a change whose ticket has no earlier event (only without the seeded history), by serial: what
   * its Change children differ from.
   */
  private readonly baselines = new Map<number, EventState>();

  /** Makes room for `count` events in all (the seeding knows how many it writes). */
  reserve(count: number): void {
    if (count <= this.capacity) return;
    const capacity = Math.max(count, this.capacity * 2, 1024);
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(old: T, make: (n: number) => T) => {
      const next = make(capacity);
      next.set(old.subarray(0, this.length));
      return next;
    };
    this.timestamp = grow(this.timestamp, (n) => new Uint32Array(n));
    this.ticket = grow(this.ticket, (n) => new Uint32Array(n));
    this.previous = grow(this.previous, (n) => new Int32Array(n));
    this.order = grow(this.order, (n) => new Uint32Array(n));
    for (const key of ['kind', 'flags', 'status', 'priority', 'assignee', 'group', 'subject', 'tier'] as const) {
      this[key] = grow(this[key], (n) => new Uint8Array(n));
    }
    this.escalation = grow(this.escalation, (n) => new Uint8Array(n));
    this.tags = grow(this.tags, (n) => new Uint16Array(n));
    this.capacity = capacity;
  }

  private newestOf(ticketId: number): number {
    return ticketId <= this.newest.length ? this.newest[ticketId - 1] : -1;
  }

  /** The ticket's newest event, or -1. */
  latest(ticketId: number): number {
    return this.newestOf(ticketId);
  }

  append(
    ticketId: number,
    timestamp: number,
    kind: EventKind,
    flags: number,
    state: EventState,
    before?: EventState,
  ): number {
    const serial = this.appendUnordered(ticketId, timestamp, kind, flags, state);
    if (before && this.previous[serial] < 0) this.baselines.set(serial, before);
    // A burst or an event at a past second goes in the middle; everything else at the end.
    const at = this.search(timestamp, serial, serial);
    this.order.copyWithin(at + 1, at, serial);
    this.order[at] = serial;
    return serial;
  }

  /** Appends without placing the event in the order: the seeding does that once for all (reorder). */
  appendUnordered(ticketId: number, timestamp: number, kind: EventKind, flags: number, state: EventState): number {
    this.reserve(this.length + 1);
    if (ticketId > this.newest.length) {
      const next = new Int32Array(Math.max(ticketId, this.newest.length * 2, 1024)).fill(-1);
      next.set(this.newest);
      this.newest = next;
    }
    const serial = this.length++;
    this.timestamp[serial] = timestamp;
    this.ticket[serial] = ticketId;
    this.previous[serial] = this.newest[ticketId - 1];
    this.newest[ticketId - 1] = serial;
    this.kind[serial] = KIND_CODE[kind];
    this.flags[serial] = flags;
    this.status[serial] = state.status;
    this.priority[serial] = state.priority;
    this.assignee[serial] = state.assignee;
    this.group[serial] = state.group;
    this.subject[serial] = state.subject;
    this.tier[serial] = state.tier;
    this.escalation[serial] = state.escalation;
    this.tags[serial] = state.tags;
    return serial;
  }

  /**
   * Renumbers every event: the new serial n is the old serial order[n], and the order becomes n itself. Each event
   * keeps its ticket's previous event; a ticket's events must keep their relative order.
   */
  reorder(order: ArrayLike<number>): void {
    const count = this.length;
    const renumbered = new Int32Array(count);
    for (let n = 0; n < count; n++) renumbered[order[n]] = n;
    const gather = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(old: T, make: (n: number) => T) => {
      const next = make(count);
      for (let n = 0; n < count; n++) next[n] = old[order[n]];
      return next;
    };
    const previous = gather(this.previous, (n) => new Int32Array(n));
    for (let n = 0; n < count; n++) if (previous[n] >= 0) previous[n] = renumbered[previous[n]];
    this.previous = previous;
    this.timestamp = gather(this.timestamp, (n) => new Uint32Array(n));
    this.ticket = gather(this.ticket, (n) => new Uint32Array(n));
    for (const key of ['kind', 'flags', 'status', 'priority', 'assignee', 'group', 'subject', 'tier'] as const) {
      this[key] = gather(this[key], (n) => new Uint8Array(n));
    }
    this.escalation = gather(this.escalation, (n) => new Uint8Array(n));
    this.tags = gather(this.tags, (n) => new Uint16Array(n));
    this.order = new Uint32Array(count);
    for (let n = 0; n < count; n++) this.order[n] = n;
    for (let t = 0; t < this.newest.length; t++) if (this.newest[t] >= 0) this.newest[t] = renumbered[this.newest[t]];
    this.capacity = count;
  }

  kindOf(serial: number): EventKind {
    return EVENT_KINDS[this.kind[serial]];
  }

  state(serial: number): EventState {
    return {
      status: this.status[serial],
      priority: this.priority[serial],
      assignee: this.assignee[serial],
      group: this.group[serial],
      subject: this.subject[serial],
      tags: this.tags[serial],
      tier: this.tier[serial],
      escalation: this.escalation[serial],
    };
  }

  /** The ticket's fields before this event; undefined for a creation (and a change nothing is known before). */
  stateBefore(serial: number): EventState | undefined {
    const previous = this.previous[serial];
    return previous >= 0 ? this.state(previous) : this.baselines.get(serial);
  }

  /** The serial at this place of the (timestamp, serial) order. */
  serialAt(position: number): number {
    return this.order[position];
  }

  /** The first place in the order at or after (timestamp, serial). */
  lowerBound(timestamp: number, serial = 0): number {
    return this.search(timestamp, serial, this.length);
  }

  /** lowerBound over the first `count` places of the order. */
  private search(timestamp: number, serial: number, count: number): number {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.order[mid];
      const t = this.timestamp[s];
      if (t < timestamp || (t === timestamp && s < serial)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether an event before this one gave the ticket a public agent comment. */
  hadAgentReply(ticketId: number): boolean {
    for (let s = this.newestOf(ticketId); s >= 0; s = this.previous[s]) {
      if (this.flags[s] & FLAG_FIRST_REPLY) return true;
      if (this.kind[s] === KIND_CODE.agentUpdate && this.flags[s] & FLAG_PUBLIC) return true;
    }
    return false;
  }
}

/** An event of a seeded ticket's history, before it has a serial. */
interface PlannedEvent {
  timestamp: number;
  kind: EventKind;
  flags: number;
  state: EventState;
}

function randomFields(from: EventState, rng: () => number): EventState {
  const next = copyState(from);
  // open, pending or on hold
  if (rng() < 0.6) next.status = floor(rng() * 3);
  if (rng() < 0.3) next.priority = floor(rng() * PRIORITIES.length);
  if (rng() < 0.3) next.assignee = 1 + floor(rng() * 12);
  if (rng() < 0.15) next.group = floor(rng() * GROUPS.length);
  if (rng() < 0.4) next.tags ^= 1 << floor(rng() * TAGS.length);
  if (rng() < 0.1) next.escalation = next.escalation ? 0 : 1 + floor(rng() * ESCALATION_LEVELS);
  return next;
}

/**
 * A seeded ticket's history, ending in its state: a Create at created_at; agent updates and requester replies up to
 * updated_at (the last one sets the ticket's fields); a deletion at updated_at for a deleted ticket; and a system
 * update (a trigger's notification) at generated_timestamp when that is later than updated_at.
 */
export function seededHistory(ticket: Ticket, seed: number): PlannedEvent[] {
  const rng = mulberry32(imul(seed ^ 0x3c6ef372, 0x27d4eb2f) ^ imul(ticket.id, 0x85ebca77));
  const deleted = ticket.status === DELETED;
  const final = stateOf(ticket, 0);
  // A deleted ticket's fields before the deletion: its own, with a status it could be deleted from.
  const closing = final;
  if (deleted) closing.status = floor(rng() * 4);
  let updates = ticket.updatedAt > ticket.createdAt ? 1 + floor(rng() * 3) : 0;
  if (deleted) updates = Math.max(0, updates - 1);
  const times: number[] = [];
  const span = ticket.updatedAt - ticket.createdAt;
  for (let i = 0; i < updates + (deleted ? 1 : 0); i++) {
    // insertion sort: at most four times
    const time = ticket.createdAt + floor(rng() * (span + 1));
    let at = times.length;
    while (at > 0 && times[at - 1] > time) at--;
    times.splice(at, 0, time);
  }
  if (times.length > 0) times[times.length - 1] = ticket.updatedAt;

  let state = copyState(closing);
  if (updates > 0) {
    state.status = OPEN;
    if (rng() >= 0.5) state.priority = floor(rng() * PRIORITIES.length);
    if (rng() < 0.4) state.assignee = 0;
    if (rng() >= 0.7) state.group = floor(rng() * GROUPS.length);
    state.tags &= floor(rng() * 0x10000);
  }
  const events: PlannedEvent[] = [
    { timestamp: ticket.createdAt, kind: 'create', flags: FLAG_COMMENT | FLAG_PUBLIC, state },
  ];
  let replied = false;
  for (let i = 1; i <= updates; i++) {
    const last = i === updates;
    const requester = !last && rng() < 0.3;
    let flags = 0;
    if (requester) flags = FLAG_COMMENT | FLAG_PUBLIC;
    else if (rng() < 0.7) flags = FLAG_COMMENT | (rng() < 0.85 ? FLAG_PUBLIC : 0);
    if (!requester && flags & FLAG_PUBLIC && !replied) {
      flags |= FLAG_FIRST_REPLY;
      replied = true;
    }
    if (last) {
      const escalation = rng() < 0.1 ? 1 + floor(rng() * ESCALATION_LEVELS) : state.escalation;
      state = copyState(closing);
      state.escalation = escalation;
    } else if (requester) {
      state = copyState(state);
      state.status = OPEN;
    } else {
      state = randomFields(state, rng);
    }
    events.push({ timestamp: times[i - 1], kind: requester ? 'requesterReply' : 'agentUpdate', flags, state });
  }
  if (deleted) {
    state = copyState(state);
    state.status = DELETED;
    events.push({ timestamp: ticket.updatedAt, kind: 'delete', flags: 0, state });
  }
  if (ticket.gts > ticket.updatedAt) events.push({ timestamp: ticket.gts, kind: 'systemUpdate', flags: 0, state });
  return events;
}

/**
 * Writes the seeded history of every ticket into an empty log, then puts it in (timestamp, ticket) order so that
 * serials (and ids) increase with time.
 */
export function seedLog(log: TicketEventLog, tickets: readonly Ticket[], seed: number): void {
  if (log.length > 0) throw new Error('the seeded history goes into an empty log');
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const ticket of tickets) {
    minTime = min(minTime, ticket.createdAt);
    maxTime = Math.max(maxTime, ticket.gts);
  }
  log.reserve(tickets.length * 3);
  for (const ticket of tickets) {
    for (const event of seededHistory(ticket, seed)) {
      log.appendUnordered(ticket.id, event.timestamp, event.kind, event.flags, event.state);
    }
  }
  const total = log.length;
  let order: ArrayLike<number>;
  if ((maxTime - minTime + 1) * total < Number.MAX_SAFE_INTEGER) {
    // One float key per event sorts several times faster than a comparator.
    const keys = new Float64Array(total);
    for (let n = 0; n < total; n++) keys[n] = (log.timestamp[n] - minTime) * total + n;
    keys.sort();
    for (let n = 0; n < total; n++) keys[n] = keys[n] % total;
    order = keys;
  } else {
    order = Array.from({ length: total }, (_, n) => n).sort((a, b) => log.timestamp[a] - log.timestamp[b] || a - b);
  }
  log.reorder(order);
}

/** The live part of the history: every change of the ticket store becomes an event. */
export class TicketHistory implements TicketObserver {
  private readonly rng: () => number;

  constructor(
    readonly log: TicketEventLog,
    seed: number,
  ) {
    this.rng = mulberry32(seed ^ 0x7f4a7c15);
  }

  private escalationOf(ticketId: number): number {
    const newest = this.log.latest(ticketId);
    return newest < 0 ? 0 : this.log.escalation[newest];
  }

  created(ticket: Ticket): void {
    this.log.append(ticket.id, ticket.createdAt, 'create', FLAG_COMMENT | FLAG_PUBLIC, stateOf(ticket, 0));
  }

  changed(kind: Exclude<MutationKind, 'create'>, ticket: Ticket, before: TicketFields, at: number): void {
    let escalation = this.escalationOf(ticket.id);
    const { status, priority, assignee, group, subject, tags } = before;
    const beforeState: EventState = { status, priority, assignee, group, subject, tags, tier: ticket.tier, escalation };
    if (kind !== 'agentUpdate') {
      this.log.append(ticket.id, at, kind, 0, stateOf(ticket, escalation), beforeState);
      return;
    }
    const rng = this.rng;
    let flags = 0;
    if (rng() < 0.6) flags = FLAG_COMMENT | (rng() < 0.85 ? FLAG_PUBLIC : 0);
    if (flags & FLAG_PUBLIC && !this.log.hadAgentReply(ticket.id)) flags |= FLAG_FIRST_REPLY;
    if (rng() < 0.08) escalation = escalation ? 0 : 1 + floor(rng() * ESCALATION_LEVELS);
    this.log.append(ticket.id, at, 'agentUpdate', flags, stateOf(ticket, escalation), beforeState);
  }

  /** An event that changes no field: a macro reference and notifications with each shape of `via`. */
  unusual(ticket: Ticket, at: number): number {
    return this.log.append(ticket.id, at, 'unusual', 0, stateOf(ticket, this.escalationOf(ticket.id)));
  }
}
