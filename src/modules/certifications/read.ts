// Certifications' read API for the modules above it, read here only (one query for any number of ids).
import { and, eq, inArray } from 'drizzle-orm';
import type { OrgScope } from '../../lib/context.js';
import { certifications } from './tables.js';

/** Which of these ids are certifications of the organization. */
export async function existingCertificationIds({ db, orgId }: OrgScope, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: certifications.id })
    .from(certifications)
    .where(and(eq(certifications.orgId, orgId), inArray(certifications.id, [...new Set(ids)])));
  return new Set(rows.map((r) => r.id));
}
