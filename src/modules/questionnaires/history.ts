import { and, desc, eq, lt } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { ServiceContext } from '../../lib/context.js';
import { notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { answerRevisions, questions, type RevisionCause } from './tables.js';

type Previous = Pick<typeof questions.$inferSelect, 'id' | 'questionnaireId' | 'choice' | 'answerText' | 'status' | 'confidence' | 'sources'>;

/**
 * Keeps the answers about to be overwritten, on the caller's transaction (before its update).
 * Questions never answered have nothing to keep.
 */
export async function recordRevisions(
  tx: Executor,
  orgId: string,
  previous: readonly Previous[],
  change: { by: string; at: Date; cause: RevisionCause },
): Promise<void> {
  const rows = previous
    .filter((q) => q.status !== null)
    .map((q) => ({
      orgId,
      id: newId(),
      questionId: q.id,
      questionnaireId: q.questionnaireId,
      choice: q.choice,
      text: q.answerText,
      status: q.status,
      confidence: q.confidence,
      sources: q.sources,
      changedBy: change.by,
      changedAt: change.at,
      cause: change.cause,
    }));
  for (let i = 0; i < rows.length; i += 1000) await tx.insert(answerRevisions).values(rows.slice(i, i + 1000));
}

/** A question's earlier answers, newest first (keyset on the time-ordered id). */
export async function answerHistory(ctx: ServiceContext, questionnaireId: string, questionId: string, page: { limit: number; cursor?: string | undefined }) {
  const after = decodeCursor(page.cursor, ['uuid']);
  const [q] = await ctx.db
    .select({ id: questions.id })
    .from(questions)
    .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, questionnaireId), eq(questions.id, questionId)));
  if (!q) throw notFound('question');
  const rows = await ctx.db
    .select()
    .from(answerRevisions)
    .where(and(eq(answerRevisions.orgId, ctx.orgId), eq(answerRevisions.questionId, questionId), after ? lt(answerRevisions.id, after) : undefined))
    .orderBy(desc(answerRevisions.id))
    .limit(page.limit + 1);
  const { items, nextCursor } = toPage(rows, page.limit, (r) => r.id);
  return {
    items: items.map((r) => ({
      id: r.id,
      questionId: r.questionId,
      questionnaireId: r.questionnaireId,
      choice: r.choice,
      text: r.text,
      status: r.status,
      confidence: r.confidence,
      sources: r.sources,
      changedBy: r.changedBy,
      changedAt: r.changedAt.toISOString(),
      cause: r.cause,
    })),
    nextCursor,
  };
}
