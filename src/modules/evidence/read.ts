// Evidence's read API for the modules above it: which evidence exists and the controls it
// supports, read here only (one query for any number of ids).
import { and, eq, inArray } from 'drizzle-orm';
import type { OrgScope } from '../../lib/context.js';
import { evidence, evidenceControls } from './tables.js';

/** Which of these ids are evidence of the organization. */
export async function existingEvidenceIds({ db, orgId }: OrgScope, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: evidence.id })
    .from(evidence)
    .where(and(eq(evidence.orgId, orgId), inArray(evidence.id, [...new Set(ids)])));
  return new Set(rows.map((r) => r.id));
}

/** The controls these evidence items support (framework and ref), each with the evidence it comes from. */
export async function controlsOfEvidence(
  { db, orgId }: OrgScope,
  evidenceIds: readonly string[],
): Promise<Array<{ evidenceId: string; framework: string; ref: string }>> {
  if (evidenceIds.length === 0) return [];
  return db
    .select({ evidenceId: evidenceControls.evidenceId, framework: evidenceControls.frameworkId, ref: evidenceControls.ref })
    .from(evidenceControls)
    .where(and(eq(evidenceControls.orgId, orgId), inArray(evidenceControls.evidenceId, [...new Set(evidenceIds)])));
}

/** The title, current version and expiry of these evidence items of the organization; an unknown id is absent. */
export async function evidenceStates(
  { db, orgId }: OrgScope,
  ids: readonly string[],
): Promise<Array<{ id: string; title: string; version: number; expiresAt: Date | null }>> {
  if (ids.length === 0) return [];
  return db
    .select({ id: evidence.id, title: evidence.title, version: evidence.currentVersion, expiresAt: evidence.expiresAt })
    .from(evidence)
    .where(and(eq(evidence.orgId, orgId), inArray(evidence.id, [...new Set(ids)])));
}
