import {
  ACCOUNT_CREATED_AT,
  AGENT_ID_BASE,
  AGENTS,
  END_USER_COUNT,
  END_USER_ID_BASE,
  endUserEmail,
  endUserName,
  isoSeconds,
  mulberry32,
  ORGANIZATION_ID_BASE,
  ORGANIZATIONS,
  slug,
  type ZendeskOrganization,
  type ZendeskUser,
} from './data';

/** A user as the users streams serve it: the sideloaded user and the organization it belongs to. */
export type StreamUser = ZendeskUser & { organization_id: number | null };

/** An organization as the organizations stream serves it; a deleted one carries its deletion time. */
export type StreamOrganization = ZendeskOrganization & { deleted_at: string | null };

interface UserRecord {
  id: number;
  name: string;
  email: string;
  role: ZendeskUser['role'];
  /** index into the organization table; -1: none */
  organization: number;
  timeZone: number;
  locale: number;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

interface OrganizationRecord {
  id: number;
  name: string;
  domain: string;
  details: number;
  notes: number;
  /** bit set over ORGANIZATION_TAGS */
  tags: number;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

/** A change the live ticker made to a user or an organization. */
export interface PeopleChange {
  kind: 'userUpdate' | 'userDelete' | 'organizationUpdate' | 'organizationDelete';
  id: number;
  at: number;
}

const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'] as const;
const LOCALES = ['en-US', 'de', 'fr', 'ja', 'pt-BR'] as const;
const ORGANIZATION_DETAILS = ['', 'Key account', 'Pays by invoice', 'Reseller in the EMEA region'] as const;
const ORGANIZATION_NOTES = ['', 'Renewal due next quarter', 'Prefers email', 'Escalate outages to the CTO'] as const;
const ORGANIZATION_TAGS = ['enterprise', 'partner', 'reseller', 'priority_support', 'trial', 'churn_risk'] as const;
const ACCOUNT_CREATED_SECONDS = Date.parse(ACCOUNT_CREATED_AT) / 1000;
const { floor, max, min } = Math;

function byUpdatedThenId(a: { updatedAt: number; id: number }, b: { updatedAt: number; id: number }): number {
  return a.updatedAt - b.updatedAt || a.id - b.id;
}

/**
 * The account's users and organizations: the ids the tickets refer to (requesters, assignees, organizations), each a
 * row with an updated_at that every change moves. Small tables (hundreds of rows), so they are plain objects.
 */
export class People {
  private readonly usersById = new Map<number, UserRecord>();
  private readonly organizations: OrganizationRecord[] = [];
  private readonly churnRng: () => number;
  private usersInOrder: UserRecord[] | undefined;
  private organizationsInOrder: OrganizationRecord[] | undefined;

  constructor(seed: number, rangeStart: number, rangeEnd: number) {
    const rng = mulberry32(seed ^ 0x1b873593);
    this.churnRng = mulberry32(seed ^ 0x2545f491);
    const createdAt = min(ACCOUNT_CREATED_SECONDS, rangeStart);
    const updatedAt = () => rangeStart + floor(rng() * (rangeEnd - rangeStart + 1));
    for (let index = 1; index < ORGANIZATIONS.length; index++) {
      const name = ORGANIZATIONS[index] as string;
      this.organizations.push({
        id: ORGANIZATION_ID_BASE + index,
        name,
        domain: `${slug(name).replace(/_/g, '')}.test`,
        details: floor(rng() * ORGANIZATION_DETAILS.length),
        notes: floor(rng() * ORGANIZATION_NOTES.length),
        tags: floor(rng() * (1 << ORGANIZATION_TAGS.length)) & floor(rng() * (1 << ORGANIZATION_TAGS.length)),
        createdAt,
        updatedAt: updatedAt(),
        deletedAt: null,
      });
    }
    const organization = () => (rng() < 0.3 ? -1 : floor(rng() * this.organizations.length));
    for (let index = 1; index < AGENTS.length; index++) {
      const name = AGENTS[index] as string;
      const email = `${slug(name).replace('_', '.')}@example-support.test`;
      this.addUser({ id: AGENT_ID_BASE + index, name, email, role: 'agent', organization: -1 }, createdAt, rng);
      this.usersById.get(AGENT_ID_BASE + index)!.updatedAt = updatedAt();
    }
    for (let index = 0; index < END_USER_COUNT; index++) {
      const user = { name: endUserName(index), email: endUserEmail(index), role: 'end-user' as const };
      this.addUser({ id: END_USER_ID_BASE + index, ...user, organization: organization() }, createdAt, rng);
      this.usersById.get(END_USER_ID_BASE + index)!.updatedAt = updatedAt();
    }
  }

  private addUser(
    user: Pick<UserRecord, 'id' | 'name' | 'email' | 'role' | 'organization'>,
    createdAt: number,
    rng: () => number,
  ): void {
    this.usersById.set(user.id, {
      ...user,
      timeZone: rng() < 0.6 ? 0 : floor(rng() * TIME_ZONES.length),
      locale: rng() < 0.7 ? 0 : floor(rng() * LOCALES.length),
      active: true,
      createdAt,
      updatedAt: createdAt,
    });
  }

  get userCount(): number {
    return this.usersById.size;
  }

  get organizationCount(): number {
    return this.organizations.length;
  }

  /** Users ordered by (updated_at, id): the order of both users exports. */
  usersByUpdate(): readonly UserRecord[] {
    this.usersInOrder ??= [...this.usersById.values()].sort(byUpdatedThenId);
    return this.usersInOrder;
  }

  organizationsByUpdate(): readonly OrganizationRecord[] {
    this.organizationsInOrder ??= [...this.organizations].sort(byUpdatedThenId);
    return this.organizationsInOrder;
  }

  userJson(user: UserRecord, baseUrl: string): StreamUser {
    const org = user.organization < 0 ? undefined : this.organizations[user.organization];
    return {
      id: user.id,
      url: `${baseUrl}/api/v2/users/${user.id}.json`,
      name: user.name,
      email: user.email,
      role: user.role,
      organization_id: org ? org.id : null,
      active: user.active,
      verified: true,
      time_zone: TIME_ZONES[user.timeZone],
      locale: LOCALES[user.locale],
      created_at: isoSeconds(user.createdAt),
      updated_at: isoSeconds(user.updatedAt),
    };
  }

  organizationJson(org: OrganizationRecord, baseUrl: string): StreamOrganization {
    const tags = ORGANIZATION_TAGS.filter((_, bit) => org.tags & (1 << bit));
    return {
      id: org.id,
      url: `${baseUrl}/api/v2/organizations/${org.id}.json`,
      name: org.name,
      domain_names: [org.domain],
      details: ORGANIZATION_DETAILS[org.details],
      notes: ORGANIZATION_NOTES[org.notes],
      group_id: null,
      shared_tickets: false,
      shared_comments: false,
      external_id: null,
      tags,
      created_at: isoSeconds(org.createdAt),
      updated_at: isoSeconds(org.updatedAt),
      deleted_at: org.deletedAt === null ? null : isoSeconds(org.deletedAt),
    };
  }

  /** Every user's newest version, by id. */
  truthUsers(baseUrl: string): StreamUser[] {
    return [...this.usersById.values()].sort((a, b) => a.id - b.id).map((user) => this.userJson(user, baseUrl));
  }

  truthOrganizations(baseUrl: string): StreamOrganization[] {
    return this.organizations.map((org) => this.organizationJson(org, baseUrl));
  }

  private organizationById(id: number): OrganizationRecord | undefined {
    const index = id - ORGANIZATION_ID_BASE - 1;
    return Number.isInteger(index) && index >= 0 ? this.organizations[index] : undefined;
  }

  /** Moves another field of a user (organization, time zone or locale); undefined for an unknown id. */
  updateUser(id: number, nowSeconds: number): UserRecord | undefined {
    const user = this.usersById.get(id);
    if (!user) return undefined;
    const rng = this.churnRng;
    const roll = rng();
    if (roll < 0.5) {
      const count = this.organizations.length;
      let next = floor(rng() * (count + 1)) - 1;
      if (next === user.organization) next = next + 1 < count ? next + 1 : -1;
      user.organization = next;
    } else if (roll < 0.75) {
      user.timeZone = (user.timeZone + 1 + floor(rng() * (TIME_ZONES.length - 1))) % TIME_ZONES.length;
    } else {
      user.locale = (user.locale + 1 + floor(rng() * (LOCALES.length - 1))) % LOCALES.length;
    }
    return this.touchUser(user, nowSeconds);
  }

  /** Deactivates a user (what a deletion looks like in the users exports). */
  deleteUser(id: number, nowSeconds: number): UserRecord | undefined {
    const user = this.usersById.get(id);
    if (!user) return undefined;
    user.active = false;
    return this.touchUser(user, nowSeconds);
  }

  private touchUser(user: UserRecord, nowSeconds: number): UserRecord {
    user.updatedAt = max(nowSeconds, user.updatedAt);
    this.usersInOrder = undefined;
    return user;
  }

  /** Moves the details, the notes or the tags of an organization; undefined for an unknown id. */
  updateOrganization(id: number, nowSeconds: number): OrganizationRecord | undefined {
    const org = this.organizationById(id);
    if (!org) return undefined;
    const rng = this.churnRng;
    const roll = rng();
    if (roll < 0.3) org.details = (org.details + 1) % ORGANIZATION_DETAILS.length;
    else if (roll < 0.6) org.notes = (org.notes + 1) % ORGANIZATION_NOTES.length;
    else org.tags ^= 1 << floor(rng() * ORGANIZATION_TAGS.length);
    return this.touchOrganization(org, nowSeconds);
  }

  /** Sets deleted_at (once) and moves updated_at. */
  deleteOrganization(id: number, nowSeconds: number): OrganizationRecord | undefined {
    const org = this.organizationById(id);
    if (!org) return undefined;
    this.touchOrganization(org, nowSeconds);
    org.deletedAt ??= org.updatedAt;
    return org;
  }

  private touchOrganization(org: OrganizationRecord, nowSeconds: number): OrganizationRecord {
    org.updatedAt = max(nowSeconds, org.updatedAt);
    this.organizationsInOrder = undefined;
    return org;
  }

  /** `count` new organizations, all created (and updated) at `timestamp`. */
  addOrganizations(count: number, timestamp: number): void {
    for (let i = 0; i < count; i++) {
      const name = `Burst Customer ${this.organizations.length + 1}`;
      this.organizations.push({
        id: ORGANIZATION_ID_BASE + this.organizations.length + 1,
        name,
        domain: `${slug(name).replace(/_/g, '')}.test`,
        details: 0,
        notes: 0,
        tags: 0,
        createdAt: timestamp,
        updatedAt: timestamp,
        deletedAt: null,
      });
    }
    this.organizationsInOrder = undefined;
  }

  /** The live ticker's share of user and organization changes: one in ten of its ticket changes. */
  churnSometimes(nowSeconds: number): PeopleChange | undefined {
    return this.churnRng() < 0.1 ? this.churn(nowSeconds) : undefined;
  }

  /** One random change as the live ticker makes them: mostly updates, now and then a deletion. */
  churn(nowSeconds: number): PeopleChange | undefined {
    const rng = this.churnRng;
    const roll = rng();
    const kind: PeopleChange['kind'] =
      roll < 0.6
        ? 'userUpdate'
        : roll < 0.68
          ? 'userDelete'
          : roll < 0.98
            ? 'organizationUpdate'
            : 'organizationDelete';
    if (kind === 'userUpdate' || kind === 'userDelete') {
      const users = [...this.usersById.values()].filter((user) => user.active);
      if (users.length === 0) return undefined;
      const { id } = users[floor(rng() * users.length)];
      const user = kind === 'userUpdate' ? this.updateUser(id, nowSeconds) : this.deleteUser(id, nowSeconds);
      return { kind, id, at: user!.updatedAt };
    }
    const organizations = this.organizations.filter((org) => org.deletedAt === null);
    if (organizations.length === 0) return undefined;
    const { id } = organizations[floor(rng() * organizations.length)];
    const org =
      kind === 'organizationUpdate' ? this.updateOrganization(id, nowSeconds) : this.deleteOrganization(id, nowSeconds);
    return { kind, id, at: org!.updatedAt };
  }
}

export type { OrganizationRecord, UserRecord };
