import type { ReferenceList } from '../streams/names';
import {
  ACCOUNT_CREATED_AT,
  BRAND_ID,
  FIELD_AREA,
  FIELD_ORDER,
  FIELD_TIER,
  GROUP_ID_BASE,
  groupById,
  GROUPS,
  isoSeconds,
  PRODUCT_AREAS,
  slug,
  TIERS,
} from './data';

/**
 * The account's reference lists (docs/emulator.md): ticket fields (the system fields and the custom fields the
 * tickets carry, 360001-360004, with the drop-down options whose values the tickets hold), the groups the tickets name,
 * brands, ticket forms and custom statuses. Deterministic; a test changes them through the control API.
 */

export type ReferenceRow = Record<string, unknown> & { id: number };
export type ReferenceChange = 'add' | 'rename' | 'delete' | 'restore';

const FIELD_NOTES = 360004;
const SYSTEM_FIELD_ID_BASE = 359000000000;
const SECOND_BRAND_ID = BRAND_ID + 1;
const FORM_ID_BASE = 365000000000;
const CUSTOM_STATUS_ID_BASE = 366000000000;

const SYSTEM_FIELDS = [
  ['subject', 'Subject'],
  ['description', 'Description'],
  ['status', 'Status'],
  ['custom_status', 'Ticket status'],
  ['tickettype', 'Type'],
  ['priority', 'Priority'],
  ['group', 'Group'],
  ['assignee', 'Assignee'],
] as const;

/** More custom fields, as an account collects them: [title, type]. */
const OTHER_CUSTOM_FIELDS = [
  ['Contract renewal date', 'date'],
  ['Seats', 'integer'],
  ['Refund amount', 'decimal'],
  ['Needs follow-up', 'checkbox'],
  ['Account manager', 'text'],
  ['Region', 'text'],
  ['Browser', 'text'],
  ['Operating system', 'text'],
  ['App version', 'text'],
  ['Invoice number', 'regexp'],
  ['Escalation reason', 'textarea'],
  ['Partner', 'text'],
  ['Language', 'text'],
  ['Feature flag', 'text'],
  ['Error code', 'text'],
  ['Satisfaction follow-up', 'checkbox'],
  ['Onboarding stage', 'text'],
  ['Legal hold', 'checkbox'],
  ['Time spent (minutes)', 'integer'],
  ['Root cause', 'textarea'],
] as const;

const CUSTOM_STATUSES = [
  ['new', 'New', true],
  ['open', 'Open', true],
  ['pending', 'Pending', true],
  ['hold', 'On-hold', true],
  ['solved', 'Solved', true],
  ['pending', 'Waiting on customer', false],
  ['open', 'Escalated to engineering', false],
] as const;

export class ReferenceLists {
  private readonly lists: Record<ReferenceList, Map<number, ReferenceRow>>;
  /** Rows a test deleted, kept to be restored. */
  private readonly deleted: Record<ReferenceList, Map<number, ReferenceRow>>;
  private added = 0;

  constructor(private readonly baseUrl: () => string) {
    this.lists = {
      ticket_fields: byId(ticketFields()),
      groups: byId(GROUPS.map((_, index) => ({ ...groupById(GROUP_ID_BASE + index, '')! }))),
      brands: byId(brands()),
      ticket_forms: byId(ticketForms()),
      custom_statuses: byId(customStatuses()),
    };
    this.deleted = {
      ticket_fields: new Map(),
      groups: new Map(),
      brands: new Map(),
      ticket_forms: new Map(),
      custom_statuses: new Map(),
    };
  }

  /** The list as Zendesk serves it now, by id, with the emulator's URLs. */
  rows(list: ReferenceList): ReferenceRow[] {
    const origin = this.baseUrl();
    return [...this.lists[list].values()]
      .sort((a, b) => a.id - b.id)
      .map((row) => ({ ...row, url: `${origin}/api/v2/${list}/${row.id}.json` }));
  }

  /** Adds an item, renames or deletes one, or restores a deleted one; returns it, undefined when there is none. */
  change(list: ReferenceList, change: ReferenceChange, nowSeconds: number, id?: number): ReferenceRow | undefined {
    const rows = this.lists[list];
    const updatedAt = isoSeconds(nowSeconds);
    if (change === 'add') {
      this.added += 1;
      const newId = Math.max(0, ...rows.keys(), ...this.deleted[list].keys()) + 1;
      const last = [...rows.values()].reduce((a, b) => (b.id > a.id ? b : a));
      const row = renamed({ ...last, id: newId, created_at: updatedAt }, `added ${this.added}`);
      rows.set(newId, { ...row, updated_at: updatedAt });
      return rows.get(newId);
    }
    if (id === undefined) return undefined;
    if (change === 'restore') {
      const row = this.deleted[list].get(id);
      if (!row) return undefined;
      this.deleted[list].delete(id);
      rows.set(id, { ...row, updated_at: updatedAt });
      return rows.get(id);
    }
    const row = rows.get(id);
    if (!row) return undefined;
    if (change === 'delete') {
      rows.delete(id);
      this.deleted[list].set(id, row);
      return row;
    }
    rows.set(id, { ...renamed(row, 'renamed'), updated_at: updatedAt });
    return rows.get(id);
  }
}

function byId(rows: ReferenceRow[]): Map<number, ReferenceRow> {
  return new Map(rows.map((row) => [row.id, row]));
}

/** The row with its name (or title, or agent label) changed by `suffix`. */
function renamed(row: ReferenceRow, suffix: string): ReferenceRow {
  const next: ReferenceRow = { ...row };
  for (const key of ['name', 'title', 'raw_title', 'display_name', 'raw_name', 'agent_label', 'raw_agent_label']) {
    if (typeof next[key] === 'string') next[key] = `${String(next[key]).replace(/ \(.*\)$/, '')} (${suffix})`;
  }
  return next;
}

const stamps = { created_at: ACCOUNT_CREATED_AT, updated_at: ACCOUNT_CREATED_AT };

function field(id: number, type: string, title: string, position: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    type,
    title,
    raw_title: title,
    description: '',
    raw_description: '',
    position,
    active: true,
    required: false,
    collapsed_for_agents: false,
    regexp_for_validation: type === 'regexp' ? '^INV-\\d+$' : null,
    title_in_portal: title,
    raw_title_in_portal: title,
    visible_in_portal: false,
    editable_in_portal: false,
    required_in_portal: false,
    tag: null,
    removable: true,
    agent_description: null,
    ...stamps,
    ...extra,
  };
}

/** A drop-down's options: the value is the slug the tickets carry in custom_fields. */
function options(fieldId: number, names: readonly (string | null)[]) {
  return names
    .filter((name): name is string => name !== null)
    .map((name, position) => ({
      id: fieldId * 100 + position + 1,
      name,
      raw_name: name,
      value: slug(name),
      default: false,
      position,
    }));
}

function ticketFields(): ReferenceRow[] {
  const system = SYSTEM_FIELDS.map(([type, title], index) =>
    field(SYSTEM_FIELD_ID_BASE + index + 1, type, title, index, { removable: false }),
  );
  const tagger = (id: number, title: string, names: readonly (string | null)[], position: number) =>
    field(id, 'tagger', title, position, { custom_field_options: options(id, names) });
  const custom = [
    tagger(FIELD_TIER, 'Customer tier', TIERS, 100),
    tagger(FIELD_AREA, 'Product area', PRODUCT_AREAS, 101),
    field(FIELD_ORDER, 'text', 'Order number', 102),
    field(FIELD_NOTES, 'textarea', 'Notes', 103),
    ...OTHER_CUSTOM_FIELDS.map(([title, type], index) => field(FIELD_NOTES + 1 + index, type, title, 104 + index)),
  ];
  return [...system, ...custom];
}

function brands(): ReferenceRow[] {
  const brand = (id: number, name: string, subdomain: string, isDefault: boolean) => ({
    id,
    name,
    subdomain,
    brand_url: `https://${subdomain}.zendesk.com`,
    host_mapping: null,
    has_help_center: isDefault,
    help_center_state: isDefault ? 'enabled' : 'disabled',
    active: true,
    default: isDefault,
    is_deleted: false,
    logo: null,
    ticket_form_ids: [FORM_ID_BASE + 1, FORM_ID_BASE + 2, FORM_ID_BASE + 3],
    signature_template: '{{agent.signature}}',
    ...stamps,
  });
  return [brand(BRAND_ID, 'Example', 'example', true), brand(SECOND_BRAND_ID, 'Example Labs', 'examplelabs', false)];
}

function ticketForms(): ReferenceRow[] {
  const fieldIds = [...ticketFields().map((f) => f.id)];
  const form = (index: number, name: string, ids: number[]) => ({
    id: FORM_ID_BASE + index,
    name,
    raw_name: name,
    display_name: name,
    raw_display_name: name,
    position: index,
    active: true,
    end_user_visible: true,
    default: index === 1,
    in_all_brands: true,
    restricted_brand_ids: [],
    ticket_field_ids: ids,
    end_user_conditions: [],
    agent_conditions: [],
    ...stamps,
  });
  const systemIds = fieldIds.filter((id) => id > SYSTEM_FIELD_ID_BASE);
  return [
    form(1, 'Default Ticket Form', fieldIds),
    form(2, 'Billing request', [...systemIds, FIELD_TIER, FIELD_ORDER]),
    form(3, 'Bug report', [...systemIds, FIELD_AREA, FIELD_NOTES]),
  ];
}

function customStatuses(): ReferenceRow[] {
  return CUSTOM_STATUSES.map(([category, label, isDefault], index) => ({
    id: CUSTOM_STATUS_ID_BASE + index + 1,
    status_category: category,
    agent_label: label,
    raw_agent_label: label,
    end_user_label: category === 'solved' ? 'Solved' : category === 'new' || category === 'open' ? 'Open' : label,
    raw_end_user_label: label,
    description: isDefault ? `The default ${category} status` : '',
    raw_description: '',
    end_user_description: '',
    raw_end_user_description: '',
    active: true,
    default: isDefault,
    ...stamps,
  }));
}
