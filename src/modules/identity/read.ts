// Identity's read API for the modules above it: organizations and memberships, read here only
// (one query for any number of ids).
import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { memberships, organizations } from './tables.js';

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
export async function membersAmong(db: Executor, orgId: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), inArray(memberships.userId, [...new Set(userIds)])));
  return new Set(rows.map((r) => r.userId));
}
