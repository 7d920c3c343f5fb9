// The library's read API for the modules above it: entries' review state, the public FAQ and the
// entries' stored search terms, read here only (one query for any number of ids).
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { OrgScope } from '../../lib/context.js';
import { libraryEntries, type Choice } from './tables.js';

/** Whether each of these entries of the organization is approved, public and stale; an unknown id is absent. */
export async function entryFlagsOf(
  { db, orgId }: OrgScope,
  ids: readonly string[],
): Promise<Array<{ id: string; status: string; public: boolean; stale: boolean }>> {
  if (ids.length === 0) return [];
  return db
    .select({ id: libraryEntries.id, status: libraryEntries.status, public: libraryEntries.public, stale: libraryEntries.stale })
    .from(libraryEntries)
    .where(and(eq(libraryEntries.orgId, orgId), inArray(libraryEntries.id, [...new Set(ids)])));
}

/** Of these entries, the ones prospects may read (approved, public, not stale): question and answer, by id. */
export async function publicFaqEntries(
  { db, orgId }: OrgScope,
  ids: readonly string[],
): Promise<Map<string, { id: string; question: string; choice: Choice | null; answerText: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: libraryEntries.id, question: libraryEntries.question, choice: libraryEntries.choice, answerText: libraryEntries.answerText })
    .from(libraryEntries)
    .where(
      and(
        eq(libraryEntries.orgId, orgId),
        inArray(libraryEntries.id, [...new Set(ids)]),
        eq(libraryEntries.status, 'approved'),
        eq(libraryEntries.public, true),
        eq(libraryEntries.stale, false),
      ),
    );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * The stored weighted vectors of these entries (question A, answer C) as one row per lexeme, in
 * the vector's order: what retrieval indexes an entry by.
 */
export async function entrySearchTerms({ db, orgId }: OrgScope, ids: readonly string[]): Promise<Array<{ id: string; lexeme: string; weights: string[] }>> {
  if (ids.length === 0) return [];
  const result = (await db.execute(sql`
    select ${libraryEntries.id} as id, l.lexeme, l.weights::text[] as weights
    from ${libraryEntries}, unnest(${libraryEntries.search}) l
    where ${libraryEntries.orgId} = ${orgId} and ${inArray(libraryEntries.id, [...ids])}`)) as unknown as {
    rows: Array<{ id: string; lexeme: string; weights: string[] }>;
  };
  return result.rows;
}
