export type TicketRow = Record<string, unknown> & {
  id: number;
  generated_timestamp: number;
  updated_at: string;
  status: string;
};

export type MutationKind = 'create' | 'agentUpdate' | 'systemUpdate' | 'delete';

export interface MutationRecord {
  kind: MutationKind;
  id: number;
  /** the ticket's new generated_timestamp */
  at: number;
}

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is a slow global access
// (seeding a million tickets took 15 s instead of 1 s).
const { floor, imul, max, min } = Math;

/** mulberry32: tiny, fast, good enough for test data; the same seed always gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['Open', 'Pending', 'Hold', 'Solved', 'Closed', 'Deleted'] as const;
const DELETED = 5;
const PRIORITIES = [null, 'Low', 'Normal', 'High', 'Urgent'] as const;
const TICKET_TYPES = [null, 'Question', 'Incident', 'Problem', 'Task'] as const;
const GROUPS = ['Support', 'Billing', 'Tier 2', 'Escalations', 'Onboarding'] as const;
const AGENTS = [
  null,
  'Alice Moreau',
  'Bilal Haddad',
  'Chen Wei',
  'Dana Kowalski',
  'Emeka Obi',
  'Farah Nasser',
  'Gustavo Lima',
  'Hana Sato',
  'Ivan Petrov',
  'Julia Becker',
  'Kofi Mensah',
  'Lena Johansson',
] as const;
const FIRST_NAMES = [
  'Ada', 'Ben', 'Carla', 'Dev', 'Elif', 'Femi', 'Greta', 'Hugo', 'Iris', 'Jonas', 'Kira', 'Luca', 'Maya', 'Nils',
  'Olga', 'Pablo', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Umar', 'Vera', 'Wim', 'Xenia', 'Yusuf', 'Zoe',
]; // prettier-ignore
const LAST_NAMES = [
  'Adams', 'Brandt', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jansen', 'Khan', 'Larsen',
  'Meyer', 'Novak', 'Okafor', 'Patel', 'Quist', 'Rossi', 'Silva', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Young',
]; // prettier-ignore
const ORGANIZATIONS = [
  null,
  'Acme Corp',
  'Globex',
  'Initech',
  'Umbrella Health',
  'Stark Logistics',
  'Wayne Retail',
  'Hooli',
  'Soylent Foods',
  'Wonka Industries',
  'Tyrell Systems',
  'Vandelay Imports',
] as const;
const SUBJECTS = [
  'Cannot log in to my account',
  'Password reset email never arrives',
  'Invoice shows the wrong amount',
  'Refund request for duplicate charge',
  'App crashes when uploading a photo',
  'How do I export my data?',
  'Feature request: dark mode',
  'API returns 500 on bulk update',
  'Order has not arrived yet',
  'Change the billing address',
  'Two-factor code rejected',
  'Sync between mobile and web is broken',
  'Question about the enterprise plan',
  'Report is missing last week',
  'Webhook deliveries are delayed',
  'Cancel my subscription',
  'Integration with Slack stopped working',
  'Slow page loads in the dashboard',
  'Need an extra admin seat',
  'Data import failed halfway',
] as const;
const TAGS = [
  'vip', 'billing', 'refund', 'bug', 'feature_request', 'mobile', 'web', 'api', 'urgent', 'churn_risk',
  'onboarding', 'invoice', 'password_reset', 'sla_breach', 'escalated', 'feedback',
]; // prettier-ignore
const VIAS = ['Web form', 'Mail', 'Chat', 'Phone call (incoming)', 'API', 'Web Widget'] as const;
const TIERS = [null, 'Enterprise', 'Business', 'Starter'] as const;
const PRODUCT_AREAS = [null, 'Billing', 'Mobile app', 'API', 'Reporting', 'Integrations'] as const;

export const FIELD_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  url: 'Url',
  id: 'Id',
  created_at: 'Created at',
  updated_at: 'Updated at',
  generated_timestamp: 'Generated timestamp',
  subject: 'Subject',
  status: 'Status',
  priority: 'Priority',
  ticket_type: 'Ticket type',
  group_name: 'Group',
  assignee_name: 'Assignee',
  req_name: 'Requester',
  organization_name: 'Organization',
  current_tags: 'Tags',
  via: 'Via',
  field_360001: 'Customer tier',
  field_360002: 'Product area',
  field_360003: 'Order number',
});

/** Compact in-memory ticket: pool indexes instead of strings keeps a million of them affordable. */
interface Ticket {
  id: number;
  createdAt: number;
  updatedAt: number;
  gts: number;
  subject: number;
  status: number;
  priority: number;
  type: number;
  group: number;
  assignee: number;
  requester: number;
  organization: number;
  tags: number;
  via: number;
  tier: number;
  area: number;
  order: number;
}

function compareTickets(a: Ticket, b: Ticket): number {
  return a.gts - b.gts || a.id - b.id;
}

/**
 * Orders tickets (given by id: tickets[id - 1]) by (gts, id). Packs both into one float key when it fits,
 * which sorts several times faster than a comparator.
 */
function sortByGeneratedTimestamp(tickets: readonly Ticket[]): Ticket[] {
  if (tickets.length === 0) return [];
  let minGts = Infinity;
  let maxGts = -Infinity;
  for (const t of tickets) {
    if (t.gts < minGts) minGts = t.gts;
    if (t.gts > maxGts) maxGts = t.gts;
  }
  const idSpan = tickets.length + 1;
  if ((maxGts - minGts + 1) * idSpan >= Number.MAX_SAFE_INTEGER) return tickets.slice().sort(compareTickets);
  const keys = new Float64Array(tickets.length);
  for (let i = 0; i < tickets.length; i++) keys[i] = (tickets[i].gts - minGts) * idSpan + tickets[i].id;
  keys.sort();
  const out = new Array<Ticket>(tickets.length);
  for (let i = 0; i < keys.length; i++) out[i] = tickets[(keys[i] % idSpan) - 1];
  return out;
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface TicketStoreOptions {
  seed: number;
  ticketCount: number;
  /** seeded generated_timestamps fall in [rangeStart, rangeEnd] (epoch seconds) */
  rangeStart: number;
  rangeEnd: number;
  bursts?: ReadonlyArray<{ size: number; timestamp: number }>;
}

export class TicketStore {
  /** byId[id - 1] */
  private readonly byId: Ticket[] = [];
  /** every ticket ordered by (generated_timestamp, id) */
  private ordered: Ticket[] = [];
  private readonly generatorRng: () => number;
  private readonly mutationRng: () => number;

  constructor(options: TicketStoreOptions) {
    this.generatorRng = mulberry32(options.seed);
    this.mutationRng = mulberry32(options.seed ^ 0x5bd1e995);
    const rangeEnd = floor(options.rangeEnd);
    const rangeStart = min(floor(options.rangeStart), rangeEnd);
    this.seed(options.ticketCount, rangeStart, rangeEnd);
    for (const burst of options.bursts ?? []) this.createBurst(burst.size, burst.timestamp);
    this.ordered = sortByGeneratedTimestamp(this.byId);
  }

  get size(): number {
    return this.byId.length;
  }

  private pick(pool: { length: number }, rng = this.generatorRng): number {
    return floor(rng() * pool.length);
  }

  private randomTicket(id: number, createdAt: number, rng: () => number): Ticket {
    let tags = 0;
    const tagCount = floor(rng() * 4);
    for (let i = 0; i < tagCount; i++) tags |= 1 << floor(rng() * TAGS.length);
    return {
      id,
      createdAt,
      updatedAt: createdAt,
      gts: createdAt,
      subject: this.pick(SUBJECTS, rng),
      status: 0,
      priority: this.pick(PRIORITIES, rng),
      type: this.pick(TICKET_TYPES, rng),
      group: this.pick(GROUPS, rng),
      assignee: this.pick(AGENTS, rng),
      requester: floor(rng() * FIRST_NAMES.length * LAST_NAMES.length),
      organization: this.pick(ORGANIZATIONS, rng),
      tags,
      via: this.pick(VIAS, rng),
      tier: this.pick(TIERS, rng),
      area: this.pick(PRODUCT_AREAS, rng),
      order: rng() < 0.4 ? 100000 + floor(rng() * 900000) : 0,
    };
  }

  private seed(count: number, rangeStart: number, rangeEnd: number): void {
    const rng = this.generatorRng;
    const span = rangeEnd - rangeStart + 1;
    // Sorted creation times so that ids ascend in creation order.
    const created = new Float64Array(count);
    for (let i = 0; i < count; i++) created[i] = rangeStart + floor(rng() * span);
    created.sort();
    for (let i = 0; i < count; i++) {
      const createdAt = created[i];
      const ticket = this.randomTicket(i + 1, createdAt, rng);
      const life = rng();
      ticket.gts = createdAt + floor(life * life * (rangeEnd - createdAt + 1));
      // Some tickets were last touched by a system update: generated_timestamp moved, updated_at did not.
      ticket.updatedAt = rng() < 0.3 ? createdAt + floor(rng() * (ticket.gts - createdAt + 1)) : ticket.gts;
      const roll = rng();
      const age = (rangeEnd - ticket.gts) / span;
      if (roll < 0.01) {
        ticket.status = DELETED;
        ticket.updatedAt = ticket.gts;
      } else if (roll < 0.01 + age * 0.8) {
        ticket.status = rng() < 0.7 ? 4 : 3;
      } else {
        ticket.status = floor(rng() * 4);
      }
      this.byId.push(ticket);
    }
  }

  private createBurst(size: number, timestamp: number): Ticket[] {
    const created: Ticket[] = [];
    for (let i = 0; i < size; i++) {
      const ticket = this.randomTicket(this.byId.length + 1, timestamp, this.generatorRng);
      this.byId.push(ticket);
      created.push(ticket);
    }
    return created;
  }

  /** New tickets all sharing one generated_timestamp (also their created_at and updated_at). */
  addBurst(size: number, timestamp: number): number {
    const ts = floor(timestamp);
    const created = this.createBurst(size, ts);
    // The new ids are the largest, so they go right after every existing ticket at this timestamp.
    const at = this.lowerBound(ts + 1);
    this.ordered = this.ordered.slice(0, at).concat(created, this.ordered.slice(at));
    return ts;
  }

  /** Index of the first ticket with (gts, id) >= (gts, id) in the ordered index. */
  private lowerBound(gts: number, id = 0): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.ordered[mid];
      if (t.gts < gts || (t.gts === gts && t.id < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insert(ticket: Ticket): void {
    const last = this.ordered[this.ordered.length - 1];
    if (!last || compareTickets(last, ticket) < 0) this.ordered.push(ticket);
    else this.ordered.splice(this.lowerBound(ticket.gts, ticket.id), 0, ticket);
  }

  private moveTo(ticket: Ticket, gts: number): void {
    const at = this.lowerBound(ticket.gts, ticket.id);
    if (this.ordered[at] !== ticket) throw new Error(`index corrupt for ticket ${ticket.id}`);
    this.ordered.splice(at, 1);
    ticket.gts = gts;
    this.insert(ticket);
  }

  /** Tickets with startTime <= generated_timestamp <= upTo, ordered by (generated_timestamp, id). */
  page(startTime: number, upTo: number, limit: number): Ticket[] {
    const out: Ticket[] = [];
    for (let i = this.lowerBound(startTime); i < this.ordered.length && out.length < limit; i++) {
      const ticket = this.ordered[i];
      if (ticket.gts > upTo) break;
      out.push(ticket);
    }
    return out;
  }

  toRow(ticket: Ticket, baseUrl: string): TicketRow {
    const tagNames: string[] = [];
    for (let bit = 0; bit < TAGS.length; bit++) if (ticket.tags & (1 << bit)) tagNames.push(TAGS[bit]);
    const requester = ticket.requester;
    return {
      url: `${baseUrl}/api/v2/tickets/${ticket.id}.json`,
      id: ticket.id,
      created_at: isoSeconds(ticket.createdAt),
      updated_at: isoSeconds(ticket.updatedAt),
      generated_timestamp: ticket.gts,
      subject: SUBJECTS[ticket.subject],
      status: STATUSES[ticket.status],
      priority: PRIORITIES[ticket.priority],
      ticket_type: TICKET_TYPES[ticket.type],
      group_name: GROUPS[ticket.group],
      assignee_name: AGENTS[ticket.assignee],
      req_name: `${FIRST_NAMES[requester % FIRST_NAMES.length]} ${LAST_NAMES[floor(requester / FIRST_NAMES.length)]}`,
      organization_name: ORGANIZATIONS[ticket.organization],
      current_tags: tagNames.join(' '),
      via: VIAS[ticket.via],
      field_360001: TIERS[ticket.tier],
      field_360002: PRODUCT_AREAS[ticket.area],
      field_360003: ticket.order ? `ORD-${ticket.order}` : null,
    };
  }

  rows(tickets: readonly Ticket[], baseUrl: string): TicketRow[] {
    return tickets.map((ticket) => this.toRow(ticket, baseUrl));
  }

  /** Every ticket's latest version, sorted by id (deleted ones included). */
  truth(baseUrl: string): TicketRow[] {
    return this.rows(this.byId, baseUrl);
  }

  /** A random non-deleted ticket, or undefined when a few tries find only deleted ones. */
  private randomLiveTicket(): Ticket | undefined {
    const rng = this.mutationRng;
    for (let attempt = 0; attempt < 32 && this.byId.length > 0; attempt++) {
      const ticket = this.byId[floor(rng() * this.byId.length)];
      if (ticket.status !== DELETED) return ticket;
    }
    return undefined;
  }

  /** Applies one mutation at nowSeconds; `kind` forces the kind instead of the random mix. */
  mutateOne(nowSeconds: number, kind?: MutationKind): MutationRecord {
    const rng = this.mutationRng;
    let chosen: MutationKind = kind ?? 'create';
    if (!kind) {
      const roll = rng();
      chosen = roll < 0.25 ? 'create' : roll < 0.65 ? 'agentUpdate' : roll < 0.9 ? 'systemUpdate' : 'delete';
    }
    const target = chosen === 'create' ? undefined : this.randomLiveTicket();
    if (!target) {
      const ticket = this.randomTicket(this.byId.length + 1, nowSeconds, rng);
      this.byId.push(ticket);
      this.insert(ticket);
      return { kind: 'create', id: ticket.id, at: ticket.gts };
    }
    // Never move a ticket back in time, even if the injected clock does.
    const at = max(nowSeconds, target.gts);
    switch (chosen) {
      case 'agentUpdate': {
        let changed = false;
        if (rng() < 0.5) {
          target.status = (target.status + 1 + floor(rng() * 4)) % 5;
          changed = true;
        }
        if (rng() < 0.3) {
          target.priority = this.pick(PRIORITIES, rng);
          changed = true;
        }
        if (rng() < 0.3) {
          target.assignee = this.pick(AGENTS, rng);
          changed = true;
        }
        if (rng() < 0.1) {
          target.subject = (target.subject + 1 + floor(rng() * (SUBJECTS.length - 1))) % SUBJECTS.length;
          changed = true;
        }
        if (!changed || rng() < 0.5) target.tags ^= 1 << floor(rng() * TAGS.length);
        target.updatedAt = at;
        break;
      }
      case 'delete':
        target.status = DELETED;
        target.updatedAt = at;
        break;
      case 'systemUpdate':
      case 'create':
        break;
    }
    this.moveTo(target, at);
    return { kind: chosen, id: target.id, at };
  }

  mutate(count: number, nowSeconds: number, kind?: MutationKind): MutationRecord[] {
    const records: MutationRecord[] = [];
    for (let i = 0; i < count; i++) records.push(this.mutateOne(nowSeconds, kind));
    return records;
  }
}
