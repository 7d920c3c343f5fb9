// Questionnaires as the accounts read model sees them, read here only: summaries with their answer
// counts, for any number of ids or prospect e-mail domains, in two queries whatever the number.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { OrgScope } from '../../lib/context.js';
import { type QUESTIONNAIRE_STATUSES, questionnaires, questions } from './tables.js';

export interface QuestionnaireSummary {
  id: string;
  name: string;
  status: (typeof QUESTIONNAIRE_STATUSES)[number];
  origin: 'vendor' | 'prospect';
  /** The grantee who uploaded it (prospect questionnaires), as the grant named them. */
  prospect: { email: string; name: string | null; company: string | null } | null;
  counts: { total: number; answered: number; approved: number; needsReview: number };
  releasedAt: Date | null;
  /** The questionnaire's due date (PATCH /questionnaires/{id}), if it has one. */
  dueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Rows one call answers at most (newest first): an account view is a summary, not an export. */
export const MAX_ACCOUNT_QUESTIONNAIRES = 200;

type Row = typeof questionnaires.$inferSelect;

async function withCounts({ db, orgId }: OrgScope, rows: Row[]): Promise<QuestionnaireSummary[]> {
  if (rows.length === 0) return [];
  const counts = await db
    .select({
      questionnaireId: questions.questionnaireId,
      answered: sql<number>`count(*) filter (where ${questions.status} is not null)::int`,
      approved: sql<number>`count(*) filter (where ${questions.status} = 'approved')::int`,
      needsReview: sql<number>`count(*) filter (where ${questions.status} = 'needs_review')::int`,
    })
    .from(questions)
    .where(
      and(
        eq(questions.orgId, orgId),
        inArray(
          questions.questionnaireId,
          rows.map((r) => r.id),
        ),
      ),
    )
    .groupBy(questions.questionnaireId);
  const byId = new Map(counts.map((c) => [c.questionnaireId, c]));
  return rows.map((r) => {
    const c = byId.get(r.id);
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      origin: r.origin,
      prospect: r.prospect ?? null,
      counts: { total: r.questionCount, answered: Number(c?.answered ?? 0), approved: Number(c?.approved ?? 0), needsReview: Number(c?.needsReview ?? 0) },
      releasedAt: r.releasedAt,
      dueAt: r.dueAt,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  });
}

/** The organization's questionnaires among these ids (others' and unknown ids are left out), newest first. */
export async function questionnairesByIds(scope: OrgScope, ids: readonly string[]): Promise<QuestionnaireSummary[]> {
  if (ids.length === 0) return [];
  const rows = await scope.db
    .select()
    .from(questionnaires)
    .where(and(eq(questionnaires.orgId, scope.orgId), inArray(questionnaires.id, [...new Set(ids)])))
    .orderBy(desc(questionnaires.id))
    .limit(MAX_ACCOUNT_QUESTIONNAIRES);
  return withCounts(scope, rows);
}

/**
 * Questionnaires prospects uploaded under a grant whose e-mail domain is one of `domains`
 * (lower-cased, exact: a subdomain is another domain), newest first.
 */
export async function prospectQuestionnairesByDomains(scope: OrgScope, domains: readonly string[]): Promise<QuestionnaireSummary[]> {
  if (domains.length === 0) return [];
  const rows = await scope.db
    .select()
    .from(questionnaires)
    .where(
      and(
        eq(questionnaires.orgId, scope.orgId),
        eq(questionnaires.origin, 'prospect'),
        inArray(sql`lower(split_part(${questionnaires.prospect}->>'email', '@', 2))`, [...domains]),
      ),
    )
    .orderBy(desc(questionnaires.id))
    .limit(MAX_ACCOUNT_QUESTIONNAIRES);
  return withCounts(scope, rows);
}
