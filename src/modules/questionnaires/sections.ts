import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { requireRole, type ServiceContext, withTransaction } from '../../lib/context.js';
import { DomainError, badRequest, notFound } from '../../lib/errors.js';
import { recordAudit } from '../audit/index.js';
import { recordRevisions } from './history.js';
import { activeFill, choiceInList, enqueueFill, sourcesNow } from './service.js';
import { questionnaires, questions } from './tables.js';

export const SECTION_ACTIONS = ['not_applicable', 'approve', 'refill'] as const;
export type SectionAction = (typeof SECTION_ACTIONS)[number];

export interface SectionActionInput {
  section: string;
  action: SectionAction;
  reason?: string | undefined;
  force?: boolean | undefined;
}

interface Skipped {
  questionId: string;
  reason: string;
}

/**
 * One decision over every question of a section, in one short transaction (a re-fill only queues
 * its job). Each answer overwritten is kept in its history first.
 */
export async function sectionAction(ctx: ServiceContext, questionnaireId: string, input: SectionActionInput) {
  requireRole(ctx.actor, 'editor');
  if (input.action === 'not_applicable' && !input.reason?.trim())
    throw badRequest('not_applicable needs a reason: it becomes the answer text', [{ field: 'body/reason', message: 'required for not_applicable' }]);
  return withTransaction(ctx, async (tctx) => {
    const tx = tctx.db;
    // The questionnaire's row lock orders this against a fill being queued or a concurrent section action.
    const [row] = await tx
      .select({ id: questionnaires.id })
      .from(questionnaires)
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, questionnaireId)))
      .for('update');
    if (!row) throw notFound('questionnaire');
    const qs = await tx
      .select()
      .from(questions)
      .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, questionnaireId), eq(questions.section, input.section)))
      .orderBy(asc(questions.position))
      .for('update');
    if (qs.length === 0) throw notFound('section');
    const now = ctx.clock();
    const skipped: Skipped[] = [];
    let affected = 0;
    let jobId: string | undefined;

    if (input.action === 'not_applicable') {
      // Each question gets n/a in its own list's spelling (as a reviewer's choice is resolved); a list without one is left alone.
      const byChoice = new Map<string, string[]>();
      for (const q of qs) {
        const na = choiceInList('n/a', q.allowedAnswers);
        if (na === undefined) {
          skipped.push({ questionId: q.id, reason: `its allowed answers (${(q.allowedAnswers ?? []).join(', ')}) offer no n/a value` });
          continue;
        }
        byChoice.set(na, [...(byChoice.get(na) ?? []), q.id]);
      }
      const ids = new Set([...byChoice.values()].flat());
      await recordRevisions(
        tx,
        ctx.orgId,
        qs.filter((q) => ids.has(q.id)),
        { by: ctx.actor.id, at: now, cause: 'section_not_applicable' },
      );
      for (const [choice, group] of byChoice) {
        // The reviewer's own answer: it rests on no source, so nothing can make it stale.
        await tx
          .update(questions)
          .set({
            choice,
            answerText: input.reason!.trim(),
            status: 'approved',
            confidence: 1,
            sources: [],
            reviewReason: null,
            answerBasis: null,
            reviewedBy: ctx.actor.id,
            reviewedAt: now,
          })
          .where(and(eq(questions.orgId, ctx.orgId), inArray(questions.id, group)));
      }
      affected = ids.size;
    } else if (input.action === 'approve') {
      // As a single approval: only non-empty answers, vouched for as their sources stand now. A
      // rejected answer was judged wrong by a person: it is approved on its own, never in bulk.
      const todo = qs.filter((q) => {
        if (q.status === 'approved') return false;
        if (q.status === null || (q.choice === null && q.answerText === null)) {
          skipped.push({ questionId: q.id, reason: 'no answer to approve' });
          return false;
        }
        if (q.status === 'rejected') {
          skipped.push({ questionId: q.id, reason: 'rejected by a reviewer: approve it on its own' });
          return false;
        }
        return true;
      });
      if (todo.length > 0) {
        await recordRevisions(tx, ctx.orgId, todo, { by: ctx.actor.id, at: now, cause: 'section_approve' });
        const sources = await sourcesNow(tctx, todo);
        const rows = todo.map((q) => ({ id: q.id, sources: sources.get(q.id) ?? q.sources }));
        await tx.execute(sql`update ${questions} q set status = 'approved', review_reason = null, reviewed_by = ${ctx.actor.id}, reviewed_at = ${now},
            sources = v.sources
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, sources jsonb)
          where q.org_id = ${ctx.orgId} and q.id = v.id`);
      }
      affected = todo.length;
    } else {
      const force = input.force === true;
      const todo = qs.filter((q) => {
        if (q.status === 'approved' && !force) {
          skipped.push({ questionId: q.id, reason: 'approved: send force: true to re-draft it' });
          return false;
        }
        return true;
      });
      if (todo.length > 0) {
        // One fill at a time per questionnaire: a section's re-fill cannot join a whole fill under way.
        if (await activeFill(tx, ctx.orgId, questionnaireId))
          throw new DomainError('conflict', 'a fill of this questionnaire is queued or running; try again when it has finished');
        const job = await enqueueFill(tx, tctx, questionnaireId, { questionIds: todo.map((q) => q.id), force });
        jobId = job.id;
      }
      affected = todo.length;
    }

    await recordAudit(tx, tctx, {
      action: `questionnaire.section_${input.action}`,
      targetType: 'questionnaire',
      targetId: questionnaireId,
      summary: { section: input.section, affected, skipped: skipped.length, ...(jobId ? { jobId } : {}) },
    });
    return { section: input.section, action: input.action, affected, skipped, ...(jobId ? { jobId } : {}) };
  });
}
