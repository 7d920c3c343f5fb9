// The controls' read API for the modules above it: answers as the trust page, the fill and answer
// staleness see them, read here only (one query whatever the number of controls).
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { OrgScope } from '../../lib/context.js';
import { controlAnswers, type ControlStatus, type Responsibility } from './tables.js';

/** The organization's answers marked public, with their public summary only (never the implementation text). */
export async function publicControlAnswers({ db, orgId }: OrgScope): Promise<
  Array<{
    frameworkId: string;
    ref: string;
    applicable: boolean;
    status: ControlStatus;
    responsibility: Responsibility;
    publicSummary: string | null;
    updatedAt: Date;
  }>
> {
  return db
    .select({
      frameworkId: controlAnswers.frameworkId,
      ref: controlAnswers.ref,
      applicable: controlAnswers.applicable,
      status: controlAnswers.status,
      responsibility: controlAnswers.responsibility,
      publicSummary: controlAnswers.publicSummary,
      updatedAt: controlAnswers.updatedAt,
    })
    .from(controlAnswers)
    .where(and(eq(controlAnswers.orgId, orgId), eq(controlAnswers.visibility, 'public')));
}

/** The version and last change of the organization's answers on these refs (in any framework). */
export async function controlVersionsOf(
  { db, orgId }: OrgScope,
  refs: readonly string[],
): Promise<Array<{ frameworkId: string; ref: string; updatedAt: Date; version: number }>> {
  if (refs.length === 0) return [];
  return db
    .select({ frameworkId: controlAnswers.frameworkId, ref: controlAnswers.ref, updatedAt: controlAnswers.updatedAt, version: controlAnswers.version })
    .from(controlAnswers)
    .where(and(eq(controlAnswers.orgId, orgId), inArray(controlAnswers.ref, [...new Set(refs)])));
}

/** An answer as retrieval reads it: its statement and the statement's lexemes with their counts, stemmed by Postgres. */
export interface RetrievalAnswer {
  frameworkId: string;
  ref: string;
  applicable: boolean;
  status: ControlStatus;
  visibility: string;
  version: number;
  /** The implementation text; on the public path the public summary. */
  statement: string | null;
  /** Null on the public path. */
  customerStatement: string | null;
  /** Lexeme and term frequency, in the vector's order. */
  terms: Array<[lexeme: string, tf: number]>;
}

/**
 * The organization's answers for retrieval, in one query. The terms come from the implementation,
 * provider and customer statements; `publicOnly` (the prospect path) reads public answers only and
 * their public summaries only: no internal text is read.
 */
export async function answersForRetrieval({ db, orgId }: OrgScope, opts: { publicOnly?: boolean } = {}): Promise<RetrievalAnswer[]> {
  const text = opts.publicOnly
    ? sql`coalesce(${controlAnswers.publicSummary}, '')`
    : sql`${controlAnswers.implementation} || ' ' || coalesce(${controlAnswers.providerStatement}, '') || ' ' || coalesce(${controlAnswers.customerStatement}, '')`;
  const rows = await db
    .select({
      frameworkId: controlAnswers.frameworkId,
      ref: controlAnswers.ref,
      applicable: controlAnswers.applicable,
      status: controlAnswers.status,
      visibility: controlAnswers.visibility,
      version: controlAnswers.version,
      statement: opts.publicOnly ? controlAnswers.publicSummary : controlAnswers.implementation,
      customerStatement: opts.publicOnly ? sql<string | null>`null` : controlAnswers.customerStatement,
      terms: sql<
        Array<[string, number]>
      >`coalesce((select json_agg(json_build_array(l.lexeme, coalesce(array_length(l.positions, 1), 1))) from unnest(to_tsvector('english', ${text})) l), '[]'::json)`,
    })
    .from(controlAnswers)
    .where(and(eq(controlAnswers.orgId, orgId), opts.publicOnly ? eq(controlAnswers.visibility, 'public') : undefined));
  return rows.map((r) => ({ ...r, terms: r.terms.map(([lexeme, tf]) => [lexeme, Number(tf)] as [string, number]) }));
}
