// Identity's read API for the modules above it: organizations and memberships, read here only
// (one query for any number of ids), and the one write a seed needs (an organization with its owner).
import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { OrgScope } from '../../lib/context.js';
import { memberships, organizations, users } from './tables.js';

export interface OrganizationSummary {
  id: string;
  slug: string;
  name: string;
}

/** These organizations' id, slug and name, by id; an unknown id is absent. */
export async function organizationSummaries(db: Executor, orgIds: readonly string[]): Promise<Map<string, OrganizationSummary>> {
  if (orgIds.length === 0) return new Map();
  const rows = await db
    .select({ id: organizations.id, slug: organizations.slug, name: organizations.name })
    .from(organizations)
    .where(inArray(organizations.id, [...new Set(orgIds)]));
  return new Map(rows.map((r) => [r.id, r]));
}

/** Which of these users are members of the organization. */
export async function membersAmong({ db, orgId }: OrgScope, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), inArray(memberships.userId, [...new Set(userIds)])));
  return new Set(rows.map((r) => r.userId));
}

/** The e-mail addresses of those of these users who are members of the organization (others are left out). */
export async function memberEmails({ db, orgId }: OrgScope, userIds: readonly string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .select({ userId: memberships.userId, email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), inArray(memberships.userId, [...new Set(userIds)])));
  return new Map(rows.map((r) => [r.userId, r.email.toLowerCase()]));
}

/** The organization with this slug (id, slug, name), if there is one. */
export async function organizationBySlug(db: Executor, slug: string): Promise<OrganizationSummary | undefined> {
  const [org] = await db
    .select({ id: organizations.id, slug: organizations.slug, name: organizations.name })
    .from(organizations)
    .where(eq(organizations.slug, slug));
  return org;
}

/** An owner of the organization (whichever the database finds first), if it has one. */
export async function anOwnerOf({ db, orgId }: OrgScope): Promise<string | undefined> {
  const [owner] = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner')))
    .limit(1);
  return owner?.userId;
}

/**
 * Creates an organization, a user and the user's owner membership on the caller's transaction, each
 * row stamped by the clock when written; no audit event (the caller records its own). For seeds:
 * signup is the way in for everyone else.
 */
export async function insertOrganizationWithOwner(
  tx: Executor,
  org: { id: string; slug: string; name: string },
  owner: { id: string; email: string; name: string | null; passwordHash: string },
  clock: Clock,
): Promise<void> {
  await tx.insert(organizations).values({ id: org.id, slug: org.slug, name: org.name, createdAt: clock() });
  await tx.insert(users).values({ id: owner.id, email: owner.email, passwordHash: owner.passwordHash, name: owner.name, createdAt: clock() });
  await tx.insert(memberships).values({ orgId: org.id, userId: owner.id, role: 'owner', createdAt: clock() });
}
