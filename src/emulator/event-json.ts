import {
  AGENT_ID_BASE,
  AGENTS,
  description,
  END_USER_ID_BASE,
  FULL_STATUSES,
  GROUP_ID_BASE,
  isoSeconds,
  mulberry32,
  PRIORITIES,
  slug,
  SUBJECTS,
  TAGS,
  TICKET_TYPES,
  TIERS,
  VIA_CHANNELS,
  VIAS,
  type TicketStore,
} from './data';
import {
  CHILD_ID_STRIDE,
  EVENT_ID_BASE,
  FLAG_COMMENT,
  FLAG_PUBLIC,
  type EventKind,
  type EventState,
  type TicketEventLog,
} from './events';

export type ChildVia = string | null | { channel: string; source: { from: object; to: object; rel: null } };

/** A child event; Create and Change children carry the field they set as a key named after it. */
export type ChildEvent = {
  id: number;
  event_type: string;
  via: ChildVia;
  via_reference_id: number | null;
} & Record<string, unknown>;

export interface CommentChild {
  id: number;
  event_type: 'Comment';
  type: 'Comment';
  author_id: number;
  body: string;
  html_body: string;
  plain_body: string;
  public: boolean;
  attachments: [];
  audit_id: number;
  created_at: string;
  via: ChildVia;
  via_reference_id: null;
}

export interface TicketEvent {
  id: number;
  ticket_id: number;
  timestamp: number;
  created_at: string;
  updater_id: number;
  via: string;
  system: { client: string; location: string; latitude: number; longitude: number };
  metadata: Record<string, never>;
  event_type: 'Audit';
  child_events: Array<ChildEvent | CommentChild>;
  /** without include=comment_events only */
  comment_present?: boolean;
  comment_public?: boolean;
}

/** A row of /__emulator/truth/ticket_field_changes: one per Create or Change child. */
export interface FieldHistoryRow {
  ticket_id: number;
  event_id: number;
  child_id: number;
  field_name: string;
  value: unknown;
  previous_value: unknown;
  updated_at: string;
  updater_id: number;
}

export type CommentRow = CommentChild & { ticket_id: number };

/** The next child of an event, its via the given shape or else the usual mix. */
type ChildMaker = (eventType: string, fields: Record<string, unknown>, via?: ChildVia) => ChildEvent;

/** Keys of a Create or Change child that are not the field it sets. */
const CHILD_META_KEYS = new Set([
  'id',
  'event_type',
  'via',
  'via_reference_id',
  'previous_value',
  'added_tags',
  'removed_tags',
]);

/** The custom fields the events show: the ticket's "Customer tier", and "Escalation" whose value is an object. */
export const TIER_FIELD_KEY = '360001';
export const ESCALATION_FIELD_KEY = '360005';
const ESCALATION_TEAMS = ['Tier 2', 'Escalations', 'Engineering'] as const;
const SYSTEM_UPDATER_ID = -1;
const TRIGGER_ID = 360000200001;
const MACRO_ID = 360000300001;

const EVENT_VIAS: Readonly<Record<Exclude<EventKind, 'create'>, string>> = {
  agentUpdate: 'Web form',
  requesterReply: 'Mail',
  systemUpdate: 'Rule',
  delete: 'Web form',
  unusual: 'Web form',
};
const CHANNELS: Readonly<Record<string, string>> = { ...VIA_CHANNELS, Rule: 'rule' };
const CLIENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Zendesk Support for iOS',
] as const;
const LOCATIONS = [
  ['Berlin, BE, Germany', 52.52, 13.405],
  ['Austin, TX, United States', 30.2672, -97.7431],
  ['Tokyo, 13, Japan', 35.6895, 139.6917],
  ['Sao Paulo, SP, Brazil', -23.5505, -46.6333],
] as const;

const { floor, imul } = Math;

function hash(n: number): number {
  // The high and low halves both count: ids are larger than 2^32.
  return (imul(n % 0x100000000, 0x9e3779b1) ^ imul(floor(n / 0x100000000), 0x85ebca6b)) >>> 0;
}

function tagNames(bits: number): string[] {
  return TAGS.filter((_, bit) => bits & (1 << bit));
}

function lowerOrNull(value: string | null): string | null {
  return value === null ? null : value.toLowerCase();
}

function escalationValue(level: number): { level: number; team: string } | null {
  return level === 0 ? null : { level, team: ESCALATION_TEAMS[level - 1] };
}

function objectVia(eventVia: string): ChildVia {
  return { channel: CHANNELS[eventVia] ?? 'web', source: { from: {}, to: {}, rel: null } };
}

/** Mostly an object, now and then the event's via as a string or null: all three reach the export. */
function childVia(id: number, eventVia: string): ChildVia {
  const roll = hash(id) % 20;
  if (roll === 0) return eventVia;
  if (roll === 1) return null;
  return objectVia(eventVia);
}

/** The values of the fields a Create child sets, in Zendesk's order. */
function createFields(state: EventState, type: number, requesterId: number): Array<[string, unknown]> {
  const tier = TIERS[state.tier];
  return [
    ['subject', SUBJECTS[state.subject]],
    ['status', FULL_STATUSES[state.status]],
    ['priority', lowerOrNull(PRIORITIES[state.priority])],
    ['type', lowerOrNull(TICKET_TYPES[type])],
    ['requester_id', requesterId],
    ['assignee_id', state.assignee === 0 ? null : AGENT_ID_BASE + state.assignee],
    ['group_id', GROUP_ID_BASE + state.group],
    ['tags', tagNames(state.tags)],
    [TIER_FIELD_KEY, tier === null ? null : slug(tier)],
  ];
}

/** What changed from one state to the next: [field, new value, previous value]. */
function changedFields(before: EventState, after: EventState): Array<[string, unknown, unknown]> {
  const changes: Array<[string, unknown, unknown]> = [];
  const add = (field: string, next: unknown, previous: unknown) => changes.push([field, next, previous]);
  if (before.status !== after.status) add('status', FULL_STATUSES[after.status], FULL_STATUSES[before.status]);
  if (before.priority !== after.priority) {
    add('priority', lowerOrNull(PRIORITIES[after.priority]), lowerOrNull(PRIORITIES[before.priority]));
  }
  if (before.assignee !== after.assignee) {
    const id = (index: number) => (index === 0 ? null : AGENT_ID_BASE + index);
    add('assignee_id', id(after.assignee), id(before.assignee));
  }
  if (before.group !== after.group) add('group_id', GROUP_ID_BASE + after.group, GROUP_ID_BASE + before.group);
  if (before.subject !== after.subject) add('subject', SUBJECTS[after.subject], SUBJECTS[before.subject]);
  if (before.tags !== after.tags) add('tags', tagNames(after.tags), tagNames(before.tags));
  if (before.escalation !== after.escalation) {
    add(ESCALATION_FIELD_KEY, escalationValue(after.escalation), escalationValue(before.escalation));
  }
  return changes;
}

/** Ticket events as the export serves them, built from the event log on each read. */
export class TicketEventJson {
  /** comment id → its body since a redaction (Zendesk emits no event for one) */
  private readonly redactions = new Map<number, string>();

  constructor(
    private readonly log: TicketEventLog,
    private readonly store: TicketStore,
    private readonly seed: number,
  ) {}

  /** The ticket event with this serial; the Comment child only `withComments`. */
  event(serial: number, withComments: boolean): TicketEvent {
    const { log } = this;
    const id = EVENT_ID_BASE + serial * CHILD_ID_STRIDE;
    const ticketId = log.ticket[serial];
    const ticket = this.store.ticket(ticketId);
    if (!ticket) throw new Error(`event ${serial} names ticket ${ticketId}, which does not exist`);
    const kind = log.kindOf(serial);
    const timestamp = log.timestamp[serial];
    const state = log.state(serial);
    const flags = log.flags[serial];
    const via = kind === 'create' ? VIAS[ticket.via] : EVENT_VIAS[kind];
    const requesterId = END_USER_ID_BASE + ticket.requester;
    const agentId = AGENT_ID_BASE + (state.assignee || 1 + (hash(id) % (AGENTS.length - 1)));
    const updaterId =
      kind === 'create' || kind === 'requesterReply'
        ? requesterId
        : kind === 'systemUpdate'
          ? SYSTEM_UPDATER_ID
          : agentId;
    const system = hash(id + 1);
    const [location, latitude, longitude] = LOCATIONS[system % LOCATIONS.length];

    let childId = id;
    const children: Array<ChildEvent | CommentChild> = [];
    const hasComment = (flags & FLAG_COMMENT) !== 0;
    const isPublic = (flags & FLAG_PUBLIC) !== 0;
    if (hasComment) {
      const commentId = ++childId;
      if (withComments) {
        const authorId = kind === 'agentUpdate' ? agentId : requesterId;
        const body = kind === 'create' ? this.store.descriptionOf(ticketId) : this.replyText(commentId);
        children.push(this.comment(commentId, id, authorId, body, isPublic, childVia(commentId, via), timestamp));
      }
    }
    const child: ChildMaker = (eventType, fields, viaShape) => {
      const childIdNow = ++childId;
      const shape = viaShape === undefined ? childVia(childIdNow, via) : viaShape;
      return { id: childIdNow, event_type: eventType, via: shape, via_reference_id: null, ...fields };
    };
    const before = log.stateBefore(serial);
    if (kind === 'create') {
      for (const [field, value] of createFields(state, ticket.type, requesterId)) {
        children.push(child('Create', { [field]: value }));
      }
    } else if (before) {
      for (const [field, value, previousValue] of changedFields(before, state)) {
        const extra: Record<string, unknown> = {};
        if (field === 'tags') {
          const [now, before] = [value as string[], previousValue as string[]];
          extra.added_tags = now.filter((tag) => !before.includes(tag));
          extra.removed_tags = before.filter((tag) => !now.includes(tag));
        }
        children.push(child('Change', { [field]: value, previous_value: previousValue, ...extra }));
      }
    }
    if (kind === 'systemUpdate') children.push(this.notification(child, requesterId));
    if (kind === 'unusual') {
      children.push(
        child(
          'AgentMacroReference',
          { macro_id: MACRO_ID + (hash(id) % 7), macro_title: 'Close and thank', macro_deleted: false },
          via,
        ),
      );
      children.push(this.notification(child, requesterId, null));
      children.push(child('TicketSharingEvent', { agreement_id: 360000400001, action: 'shared' }, objectVia(via)));
    }
    const event: TicketEvent = {
      id,
      ticket_id: ticketId,
      timestamp,
      created_at: isoSeconds(timestamp),
      updater_id: updaterId,
      via,
      system: { client: CLIENTS[system % CLIENTS.length], location, latitude, longitude },
      metadata: {},
      event_type: 'Audit',
      child_events: children,
    };
    if (!withComments) {
      event.comment_present = hasComment;
      event.comment_public = hasComment && isPublic;
    }
    return event;
  }

  /** A trigger's email to the requester. */
  private notification(child: ChildMaker, to: number, via?: ChildVia): ChildEvent {
    const fields = {
      subject: 'Your request has been updated',
      body: 'Your request was updated. Reply to this email to add a comment.',
      recipients: [to],
    };
    return { ...child('Notification', fields, via), via_reference_id: TRIGGER_ID };
  }

  private replyText(commentId: number): string {
    const rng = mulberry32(this.seed ^ hash(commentId));
    return description(rng, 120 + floor(rng() * 480));
  }

  private comment(
    id: number,
    auditId: number,
    authorId: number,
    text: string,
    isPublic: boolean,
    via: ChildVia,
    timestamp: number,
  ): CommentChild {
    const body = this.redactions.get(id) ?? text;
    return {
      id,
      event_type: 'Comment',
      type: 'Comment',
      author_id: authorId,
      body,
      html_body: `<div class="zd-comment" dir="auto"><p>${escapeHtml(body)}</p></div>`,
      plain_body: body,
      public: isPublic,
      attachments: [],
      audit_id: auditId,
      created_at: isoSeconds(timestamp),
      via,
      via_reference_id: null,
    };
  }

  /** The serial of the event a comment id belongs to, when it names a comment. */
  commentSerial(commentId: number): number | undefined {
    const offset = commentId - EVENT_ID_BASE;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % CHILD_ID_STRIDE !== 1) return undefined;
    const serial = (offset - 1) / CHILD_ID_STRIDE;
    return serial < this.log.length && this.log.flags[serial] & FLAG_COMMENT ? serial : undefined;
  }

  /**
   * Replaces `text` in a comment's body with "▇" (the whole body without `text`), as Zendesk's redaction does; the
   * comment's event is not re-emitted. Returns the comment as the export now serves it, or undefined if no such comment.
   */
  redact(commentId: number, text?: string): CommentChild | undefined {
    const serial = this.commentSerial(commentId);
    if (serial === undefined) return undefined;
    const current = this.commentOf(serial);
    if (!current) return undefined;
    const redacted = text ? current.body.split(text).join('▇'.repeat(text.length)) : '▇'.repeat(current.body.length);
    this.redactions.set(commentId, redacted);
    return this.commentOf(serial);
  }

  private commentOf(serial: number): CommentChild | undefined {
    return this.event(serial, true).child_events.find((c): c is CommentChild => c.event_type === 'Comment');
  }
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The comment of an event served with include=comment_events, with its ticket. */
export function commentRows(event: TicketEvent): CommentRow[] {
  return event.child_events
    .filter((child): child is CommentChild => child.event_type === 'Comment')
    .map((comment) => ({ ...comment, ticket_id: event.ticket_id }));
}

/**
 * One row per Create or Change child: the field is the child's one key besides id, event_type, via,
 * via_reference_id, previous_value, added_tags and removed_tags.
 */
export function fieldHistoryRows(event: TicketEvent): FieldHistoryRow[] {
  const rows: FieldHistoryRow[] = [];
  for (const child of event.child_events) {
    if (child.event_type !== 'Create' && child.event_type !== 'Change') continue;
    const record = child as Record<string, unknown>;
    for (const field of Object.keys(record).filter((key) => !CHILD_META_KEYS.has(key))) {
      rows.push({
        ticket_id: event.ticket_id,
        event_id: event.id,
        child_id: child.id,
        field_name: field,
        value: record[field],
        previous_value: record.previous_value ?? null,
        updated_at: event.created_at,
        updater_id: event.updater_id,
      });
    }
  }
  return rows;
}
