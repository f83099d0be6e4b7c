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

export const STATUSES = ['Open', 'Pending', 'Hold', 'Solved', 'Closed', 'Deleted'] as const;
export const DELETED = 5;
export const PRIORITIES = [null, 'Low', 'Normal', 'High', 'Urgent'] as const;
export const TICKET_TYPES = [null, 'Question', 'Incident', 'Problem', 'Task'] as const;
export const GROUPS = ['Support', 'Billing', 'Tier 2', 'Escalations', 'Onboarding'] as const;
export const AGENTS = [
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
export const FIRST_NAMES = [
  'Ada', 'Ben', 'Carla', 'Dev', 'Elif', 'Femi', 'Greta', 'Hugo', 'Iris', 'Jonas', 'Kira', 'Luca', 'Maya', 'Nils',
  'Olga', 'Pablo', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Umar', 'Vera', 'Wim', 'Xenia', 'Yusuf', 'Zoe',
]; // prettier-ignore
export const LAST_NAMES = [
  'Adams', 'Brandt', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jansen', 'Khan', 'Larsen',
  'Meyer', 'Novak', 'Okafor', 'Patel', 'Quist', 'Rossi', 'Silva', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Young',
]; // prettier-ignore
export const ORGANIZATIONS = [
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
export const SUBJECTS = [
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
export const TAGS = [
  'vip', 'billing', 'refund', 'bug', 'feature_request', 'mobile', 'web', 'api', 'urgent', 'churn_risk',
  'onboarding', 'invoice', 'password_reset', 'sla_breach', 'escalated', 'feedback',
]; // prettier-ignore
export const VIAS = ['Web form', 'Mail', 'Chat', 'Phone call (incoming)', 'API', 'Web Widget'] as const;
export const TIERS = [null, 'Enterprise', 'Business', 'Starter'] as const;
export const PRODUCT_AREAS = [null, 'Billing', 'Mobile app', 'API', 'Reporting', 'Integrations'] as const;

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

/** The header of the long-text custom field that `notesBytes` adds. */
export const NOTES_FIELD_HEADER = Object.freeze({ field_360004: 'Notes' });

/** Compact in-memory ticket: pool indexes instead of strings keeps a million of them affordable. */
export interface Ticket {
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

export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface TicketStoreOptions {
  seed: number;
  ticketCount: number;
  /** seeded generated_timestamps fall in [rangeStart, rangeEnd] (epoch seconds) */
  rangeStart: number;
  rangeEnd: number;
  bursts?: ReadonlyArray<{ size: number; timestamp: number }>;
  /** [min, max] size of a full ticket's description; default [600, 3000] */
  descriptionBytes?: readonly [number, number];
  /** size of the "Notes" long-text custom field (field_360004) of the specified endpoint's rows; 0: no such field */
  notesBytes?: number;
}

/** The fields of a ticket that its events record. */
export interface TicketFields {
  status: number;
  priority: number;
  assignee: number;
  group: number;
  subject: number;
  tags: number;
}

export function fieldsOf(ticket: Ticket): TicketFields {
  const { status, priority, assignee, group, subject, tags } = ticket;
  return { status, priority, assignee, group, subject, tags };
}

/** Hears every ticket change after the store was built (the seeded tickets are there to read). */
export interface TicketObserver {
  /** a new ticket, created at its createdAt: a live create or a burst */
  created(ticket: Ticket): void;
  /** a live change at `at`; `before` holds the fields as they were */
  changed(kind: Exclude<MutationKind, 'create'>, ticket: Ticket, before: TicketFields, at: number): void;
}

/** A place in the (generated_timestamp, id) order; id 0 is before every ticket of that second. */
export interface StreamPosition {
  gts: number;
  id: number;
}

export class TicketStore {
  /** byId[id - 1] */
  private readonly byId: Ticket[] = [];
  /** every ticket ordered by (generated_timestamp, id) */
  private ordered: Ticket[] = [];
  private readonly generatorRng: () => number;
  private readonly mutationRng: () => number;
  /** group changes draw from their own generator, so the mutations' sequence stays what it was without them */
  private readonly groupRng: () => number;
  observer: TicketObserver | undefined;
  private readonly seedValue: number;
  private readonly descriptionBytes: readonly [number, number];
  readonly notesBytes: number;

  constructor(options: TicketStoreOptions) {
    this.seedValue = options.seed >>> 0;
    this.descriptionBytes = options.descriptionBytes ?? [600, 3000];
    this.notesBytes = options.notesBytes ?? 0;
    this.generatorRng = mulberry32(options.seed);
    this.mutationRng = mulberry32(options.seed ^ 0x5bd1e995);
    this.groupRng = mulberry32(options.seed ^ 0x68e31da4);
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
    for (const ticket of created) this.observer?.created(ticket);
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
      ...(this.notesBytes > 0 && {
        field_360004: description(mulberry32(this.seedValue ^ imul(ticket.id, 0x85ebca6b)), this.notesBytes),
      }),
    };
  }

  /**
   * Up to `limit` tickets strictly after `after` with generated_timestamp <= upTo, in (generated_timestamp, id)
   * order, deleted ones skipped when asked; `more` tells whether another such ticket follows the last one.
   */
  scan(
    after: StreamPosition,
    upTo: number,
    limit: number,
    excludeDeleted: boolean,
  ): { tickets: Ticket[]; more: boolean } {
    const tickets: Ticket[] = [];
    for (let i = this.lowerBound(after.gts, after.id + 1); i < this.ordered.length; i++) {
      const ticket = this.ordered[i];
      if (ticket.gts > upTo) break;
      if (excludeDeleted && ticket.status === DELETED) continue;
      if (tickets.length === limit) return { tickets, more: true };
      tickets.push(ticket);
    }
    return { tickets, more: false };
  }

  /**
   * The full ticket object. What mutations change comes from the ticket's state; everything else comes from a
   * generator seeded by (store seed, id), so it stays the same across mutations and runs.
   */
  toFull(ticket: Ticket, baseUrl: string): FullTicket {
    const {
      externalRoll,
      externalNumber,
      ccCount,
      cc,
      followerRoll,
      follower,
      isPublic,
      ratingRoll,
      dueInSeconds,
      hasIncidents,
      descriptionText,
    } = this.fixedDraws(ticket.id);

    const tagNames: string[] = [];
    for (let bit = 0; bit < TAGS.length; bit++) if (ticket.tags & (1 << bit)) tagNames.push(TAGS[bit]);
    const viaName = VIAS[ticket.via];
    const channel = VIA_CHANNELS[viaName];
    const requesterId = END_USER_ID_BASE + ticket.requester;
    const assigneeId = ticket.assignee === 0 ? null : AGENT_ID_BASE + ticket.assignee;
    const emailCcIds = cc
      .slice(0, ccCount)
      .filter((index, i, all) => index !== ticket.requester && all.indexOf(index) === i)
      .map((index) => END_USER_ID_BASE + index);
    const followerIds = followerRoll < 0.25 ? [AGENT_ID_BASE + follower] : [];
    const status = FULL_STATUSES[ticket.status];
    const type = TICKET_TYPES[ticket.type];
    const priority = PRIORITIES[ticket.priority];
    const tier = TIERS[ticket.tier];
    const area = PRODUCT_AREAS[ticket.area];
    const customFields = (): CustomFieldValue[] => [
      { id: FIELD_TIER, value: tier === null ? null : slug(tier) },
      { id: FIELD_AREA, value: area === null ? null : slug(area) },
      { id: FIELD_ORDER, value: ticket.order ? `ORD-${ticket.order}` : null },
    ];
    const subject = SUBJECTS[ticket.subject];
    const requesterName = endUserName(ticket.requester);
    return {
      url: `${baseUrl}/api/v2/tickets/${ticket.id}.json`,
      id: ticket.id,
      external_id: externalRoll < 0.2 ? `EXT-${externalNumber}` : null,
      created_at: isoSeconds(ticket.createdAt),
      updated_at: isoSeconds(ticket.updatedAt),
      generated_timestamp: ticket.gts,
      type: type === null ? null : (type.toLowerCase() as FullTicket['type']),
      subject,
      raw_subject: subject,
      description: descriptionText,
      priority: priority === null ? null : (priority.toLowerCase() as FullTicket['priority']),
      status,
      recipient: channel === 'email' ? SUPPORT_ADDRESS : null,
      requester_id: requesterId,
      submitter_id: channel === 'api' && assigneeId !== null ? assigneeId : requesterId,
      assignee_id: assigneeId,
      organization_id: ticket.organization === 0 ? null : ORGANIZATION_ID_BASE + ticket.organization,
      group_id: GROUP_ID_BASE + ticket.group,
      collaborator_ids: [...followerIds, ...emailCcIds],
      follower_ids: followerIds,
      email_cc_ids: emailCcIds,
      forum_topic_id: null,
      problem_id: null,
      has_incidents: type === 'Problem' && hasIncidents,
      is_public: isPublic,
      due_at: type === 'Task' ? isoSeconds(ticket.createdAt + dueInSeconds) : null,
      tags: tagNames,
      custom_fields: customFields(),
      satisfaction_rating:
        status === 'solved' || status === 'closed'
          ? { score: ratingRoll < 0.55 ? 'good' : ratingRoll < 0.65 ? 'bad' : 'offered' }
          : null,
      sharing_agreement_ids: [],
      fields: customFields(),
      followup_ids: [],
      brand_id: BRAND_ID,
      allow_channelback: false,
      allow_attachments: true,
      from_messaging_channel: MESSAGING_VIAS.has(viaName),
      via: {
        channel,
        source:
          channel === 'email'
            ? {
                from: { address: endUserEmail(ticket.requester), name: requesterName },
                to: { address: SUPPORT_ADDRESS, name: 'Example Support' },
                rel: null,
              }
            : { from: {}, to: {}, rel: null },
      },
    };
  }

  /** What no mutation changes: drawn from a generator seeded by (store seed, id), always in this order. */
  private fixedDraws(id: number) {
    const rng = mulberry32(imul(this.seedValue ^ 0x27d4eb2f, 0x165667b1) ^ imul(id, 0x9e3779b1));
    const externalRoll = rng();
    const externalNumber = floor(rng() * 1_000_000);
    const ccCount = floor(rng() * 3);
    const cc = [floor(rng() * END_USER_COUNT), floor(rng() * END_USER_COUNT)];
    const followerRoll = rng();
    const follower = 1 + floor(rng() * (AGENTS.length - 1));
    const isPublic = rng() < 0.96;
    const ratingRoll = rng();
    const dueInSeconds = (1 + floor(rng() * 14)) * 86400 + floor(rng() * 8) * 3600;
    const hasIncidents = rng() < 0.4;
    const [minBytes, maxBytes] = this.descriptionBytes;
    const descriptionText = description(rng, minBytes + floor(rng() * (maxBytes - minBytes + 1)));
    return {
      externalRoll,
      externalNumber,
      ccCount,
      cc,
      followerRoll,
      follower,
      isPublic,
      ratingRoll,
      dueInSeconds,
      hasIncidents,
      descriptionText,
    };
  }

  /** The full ticket's description: the body of the comment its creation made. */
  descriptionOf(id: number): string {
    return this.fixedDraws(id).descriptionText;
  }

  /** The ticket with this id, if any. */
  ticket(id: number): Ticket | undefined {
    return Number.isInteger(id) && id >= 1 ? this.byId[id - 1] : undefined;
  }

  /** Every ticket, by id. */
  all(): readonly Ticket[] {
    return this.byId;
  }

  fullTickets(tickets: readonly Ticket[], baseUrl: string): FullTicket[] {
    return tickets.map((ticket) => this.toFull(ticket, baseUrl));
  }

  /** Every ticket's latest version as the full object, sorted by id (deleted ones included). */
  truthFull(baseUrl: string): FullTicket[] {
    return this.fullTickets(this.byId, baseUrl);
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
      this.observer?.created(ticket);
      return { kind: 'create', id: ticket.id, at: ticket.gts };
    }
    // Never move a ticket back in time, even if the injected clock does.
    const at = max(nowSeconds, target.gts);
    const before = fieldsOf(target);
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
        if (this.groupRng() < 0.1) {
          target.group = (target.group + 1 + floor(this.groupRng() * (GROUPS.length - 1))) % GROUPS.length;
        }
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
    if (chosen !== 'create') this.observer?.changed(chosen, target, before, at);
    return { kind: chosen, id: target.id, at };
  }

  mutate(count: number, nowSeconds: number, kind?: MutationKind): MutationRecord[] {
    const records: MutationRecord[] = [];
    for (let i = 0; i < count; i++) records.push(this.mutateOne(nowSeconds, kind));
    return records;
  }
}

// ---- The full ticket object of the incremental endpoints ----

export type FullTicketStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed' | 'deleted';
export type ViaChannel = 'web' | 'email' | 'api';

export interface CustomFieldValue {
  id: number;
  value: string | null;
}

export interface FullTicket {
  url: string;
  id: number;
  external_id: string | null;
  created_at: string;
  updated_at: string;
  generated_timestamp: number;
  type: 'question' | 'incident' | 'problem' | 'task' | null;
  subject: string;
  raw_subject: string;
  description: string;
  priority: 'low' | 'normal' | 'high' | 'urgent' | null;
  status: FullTicketStatus;
  recipient: string | null;
  requester_id: number;
  submitter_id: number;
  assignee_id: number | null;
  organization_id: number | null;
  group_id: number | null;
  collaborator_ids: number[];
  follower_ids: number[];
  email_cc_ids: number[];
  forum_topic_id: number | null;
  problem_id: number | null;
  has_incidents: boolean;
  is_public: boolean;
  due_at: string | null;
  tags: string[];
  custom_fields: CustomFieldValue[];
  satisfaction_rating: { score: 'offered' | 'good' | 'bad' } | null;
  sharing_agreement_ids: number[];
  fields: CustomFieldValue[];
  followup_ids: number[];
  brand_id: number;
  allow_channelback: boolean;
  allow_attachments: boolean;
  from_messaging_channel: boolean;
  via: {
    channel: ViaChannel;
    source: { from: Record<string, string>; to: Record<string, string>; rel: null };
  };
}

export interface ZendeskUser {
  id: number;
  url: string;
  name: string;
  email: string;
  role: 'agent' | 'end-user';
  active: boolean;
  verified: boolean;
  time_zone: string;
  locale: string;
  created_at: string;
  updated_at: string;
}

export interface ZendeskGroup {
  id: number;
  url: string;
  name: string;
  description: string;
  default: boolean;
  deleted: boolean;
  created_at: string;
  updated_at: string;
}

export interface ZendeskOrganization {
  id: number;
  url: string;
  name: string;
  domain_names: string[];
  details: string;
  notes: string;
  group_id: number | null;
  shared_tickets: boolean;
  shared_comments: boolean;
  external_id: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export type SideloadName = 'users' | 'groups' | 'organizations';

export interface Sideloads {
  users?: ZendeskUser[];
  groups?: ZendeskGroup[];
  organizations?: ZendeskOrganization[];
}

export const FULL_STATUSES: readonly FullTicketStatus[] = ['open', 'pending', 'hold', 'solved', 'closed', 'deleted'];
export const VIA_CHANNELS: Readonly<Record<(typeof VIAS)[number], ViaChannel>> = {
  'Web form': 'web',
  Mail: 'email',
  Chat: 'web',
  'Phone call (incoming)': 'api',
  API: 'api',
  'Web Widget': 'web',
};
const MESSAGING_VIAS: ReadonlySet<string> = new Set(['Chat', 'Web Widget']);
export const SUPPORT_ADDRESS = 'support@example.zendesk.com';
export const ACCOUNT_CREATED_AT = '2019-03-01T09:00:00Z';
export const BRAND_ID = 360000012345;
// Id ranges per kind: an id alone tells which pool entry it names, so sideloads need no lookup table.
export const AGENT_ID_BASE = 361000000000;
export const END_USER_ID_BASE = 362000000000;
export const GROUP_ID_BASE = 363000000000;
export const ORGANIZATION_ID_BASE = 364000000000;
export const FIELD_TIER = 360001;
export const FIELD_AREA = 360002;
export const FIELD_ORDER = 360003;
export const END_USER_COUNT = FIRST_NAMES.length * LAST_NAMES.length;

const DESCRIPTION_SENTENCES = [
  'Hello, I am writing because something stopped working for our team this morning.',
  'We have not changed anything on our side as far as I can tell.',
  'I already tried logging out, clearing the browser cache and using a different browser.',
  'The problem happens for several people in the office, not only for me.',
  'Could you please look into this as soon as possible?',
  'It worked fine last week, so I suspect a recent update on your side.',
  'I attached a screenshot of the error message that appears on the screen.',
  'Our account is on the annual plan and we renewed it last month.',
  'The same thing happened once before and support fixed it within a day.',
  'This is blocking our month-end reporting, so it is fairly urgent for us.',
  'When I open the page it loads for about thirty seconds and then shows an error.',
  'I checked the status page and it says that all systems are operational.',
  'Please let me know if you need any more information from us to investigate.',
  'We use the mobile app on Android and the web app on Windows and macOS.',
  'The invoice number is on the PDF we received by email at the start of the month.',
  'I would also like to know whether there is a way to avoid this in the future.',
  'One of my colleagues mentioned that the issue disappears after a restart, but only for a while.',
  'Thanks in advance for your help, we really appreciate the quick responses.',
  'If it is easier, I am available for a short call tomorrow between nine and noon.',
  'Our administrator has full permissions, and the error still appears for her.',
  'The export finished but about half of the rows were missing from the file.',
  'I followed the steps in the help center article, but the last step fails.',
  'We are evaluating whether to add more seats, so a quick answer would help.',
  'Kind regards, and have a nice day.',
] as const;

export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

export function endUserName(index: number): string {
  return `${FIRST_NAMES[index % FIRST_NAMES.length]} ${LAST_NAMES[floor(index / FIRST_NAMES.length)]}`;
}

export function endUserEmail(index: number): string {
  return `${slug(endUserName(index)).replace('_', '.')}@customer.test`;
}

/** The user a user id names, or undefined when it names none. */
export function userById(id: number, baseUrl: string): ZendeskUser | undefined {
  let name: string;
  let email: string;
  let role: ZendeskUser['role'];
  if (id > AGENT_ID_BASE && id < AGENT_ID_BASE + AGENTS.length) {
    name = AGENTS[id - AGENT_ID_BASE] as string;
    email = `${slug(name).replace('_', '.')}@example-support.test`;
    role = 'agent';
  } else if (id >= END_USER_ID_BASE && id < END_USER_ID_BASE + END_USER_COUNT) {
    name = endUserName(id - END_USER_ID_BASE);
    email = endUserEmail(id - END_USER_ID_BASE);
    role = 'end-user';
  } else {
    return undefined;
  }
  return {
    id,
    url: `${baseUrl}/api/v2/users/${id}.json`,
    name,
    email,
    role,
    active: true,
    verified: true,
    time_zone: 'UTC',
    locale: 'en-US',
    created_at: ACCOUNT_CREATED_AT,
    updated_at: ACCOUNT_CREATED_AT,
  };
}

export function groupById(id: number, baseUrl: string): ZendeskGroup | undefined {
  const index = id - GROUP_ID_BASE;
  if (!Number.isInteger(index) || index < 0 || index >= GROUPS.length) return undefined;
  return {
    id,
    url: `${baseUrl}/api/v2/groups/${id}.json`,
    name: GROUPS[index],
    description: `${GROUPS[index]} team`,
    default: index === 0,
    deleted: false,
    created_at: ACCOUNT_CREATED_AT,
    updated_at: ACCOUNT_CREATED_AT,
  };
}

export function organizationById(id: number, baseUrl: string): ZendeskOrganization | undefined {
  const index = id - ORGANIZATION_ID_BASE;
  if (!Number.isInteger(index) || index < 1 || index >= ORGANIZATIONS.length) return undefined;
  const name = ORGANIZATIONS[index] as string;
  return {
    id,
    url: `${baseUrl}/api/v2/organizations/${id}.json`,
    name,
    domain_names: [`${slug(name).replace(/_/g, '')}.test`],
    details: '',
    notes: '',
    group_id: null,
    shared_tickets: false,
    shared_comments: false,
    external_id: null,
    tags: [],
    created_at: ACCOUNT_CREATED_AT,
    updated_at: ACCOUNT_CREATED_AT,
  };
}

/** The users, groups and organizations the tickets refer to, each once, in order of first mention. */
export function sideloadsFor(tickets: readonly FullTicket[], include: ReadonlySet<SideloadName>, baseUrl: string) {
  const out: Sideloads = {};
  if (include.has('users')) {
    const ids = new Set<number>();
    for (const t of tickets) {
      for (const id of [t.requester_id, t.submitter_id, t.assignee_id, ...t.collaborator_ids, ...t.follower_ids]) {
        if (id !== null) ids.add(id);
      }
    }
    out.users = [...ids].map((id) => userById(id, baseUrl)).filter((u): u is ZendeskUser => u !== undefined);
  }
  if (include.has('groups')) {
    const ids = new Set(tickets.map((t) => t.group_id).filter((id): id is number => id !== null));
    out.groups = [...ids].map((id) => groupById(id, baseUrl)).filter((g): g is ZendeskGroup => g !== undefined);
  }
  if (include.has('organizations')) {
    const ids = new Set(tickets.map((t) => t.organization_id).filter((id): id is number => id !== null));
    out.organizations = [...ids]
      .map((id) => organizationById(id, baseUrl))
      .filter((o): o is ZendeskOrganization => o !== undefined);
  }
  return out;
}

/** Text of `bytes` ASCII characters made of whole sentences. */
export function description(rng: () => number, bytes: number): string {
  let text = '';
  while (text.length < bytes) {
    text += (text === '' ? '' : ' ') + DESCRIPTION_SENTENCES[floor(rng() * DESCRIPTION_SENTENCES.length)];
  }
  // The sentences are ASCII, so characters are bytes.
  return text.length === bytes ? text : `${text.slice(0, bytes - 1).trimEnd()}.`.padEnd(bytes, '.');
}
