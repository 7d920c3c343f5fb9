import { and, asc, count, eq, gt, isNotNull, isNull, lte, or } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { SCAN_BATCH, emitEvent } from '../events/index.js';
import { questionOpen, questionnaireOpen } from './assignments.js';
import { questionnaires, questions } from './tables.js';
import { mailDueSoon } from './team-mail.js';

/** How close a due date comes before questionnaire.due_soon goes out. */
export const DUE_SOON_MS = 48 * 3_600_000;

/**
 * Emits questionnaire.due_soon once per questionnaire and due date, for questionnaires not done
 * (DONE_RULE) due within 48 hours. `due_notice_for` records the due date the notice went out for:
 * a due date moved later sends it again when it comes close; one moved earlier does not.
 */
export async function scanQuestionnairesDueSoon(db: Db, clock: Clock, limit = SCAN_BATCH): Promise<number> {
  const now = clock();
  const notNoticed = or(isNull(questionnaires.dueNoticeFor), gt(questionnaires.dueAt, questionnaires.dueNoticeFor));
  const due = await db
    .select({ orgId: questionnaires.orgId, id: questionnaires.id })
    .from(questionnaires)
    .where(
      and(
        isNotNull(questionnaires.dueAt),
        gt(questionnaires.dueAt, now),
        lte(questionnaires.dueAt, new Date(now.getTime() + DUE_SOON_MS)),
        notNoticed,
        questionnaireOpen(),
      ),
    )
    .orderBy(asc(questionnaires.dueAt))
    .limit(limit);
  let sent = 0;
  for (const d of due) {
    // Claimed and announced in one transaction: another replica's scan finds the claim and skips it.
    const emitted = await db.transaction(async (tx) => {
      const [q] = await tx
        .update(questionnaires)
        .set({ dueNoticeFor: questionnaires.dueAt })
        .where(and(eq(questionnaires.orgId, d.orgId), eq(questionnaires.id, d.id), isNotNull(questionnaires.dueAt), notNoticed))
        .returning();
      if (!q) return false;
      const [open] = await tx
        .select({ n: count() })
        .from(questions)
        .where(and(eq(questions.orgId, q.orgId), eq(questions.questionnaireId, q.id), questionOpen()));
      await emitEvent(tx, { orgId: q.orgId, clock }, 'questionnaire.due_soon', {
        questionnaireId: q.id,
        name: q.name,
        ownerId: q.ownerId,
        dueAt: q.dueAt!.toISOString(),
        openQuestions: open?.n ?? 0,
      });
      await mailDueSoon(tx, { orgId: q.orgId, clock }, { ownerId: q.ownerId, name: q.name, dueAt: q.dueAt!, openQuestions: open?.n ?? 0 });
      return true;
    });
    if (emitted) sent++;
  }
  return sent;
}
