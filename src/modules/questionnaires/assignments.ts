import { and, asc, eq, gt, inArray, isNotNull, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { memberOf, requireRole, type ServiceContext } from '../../lib/context.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { emitEvents } from '../events/index.js';
import { membersAmong } from '../identity/index.js';
import { summaryView } from './service.js';
import { questionnaires, questions } from './tables.js';
import { mailAssignment } from './team-mail.js';

/** Questions per question.assigned event: a 5,000-question assignment sends five, each a modest webhook body. */
export const ASSIGNED_EVENT_CHUNK = 1000;

/**
 * The "done" rule for questionnaires. QUESTIONNAIRE_STATUSES only track the fill (imported ...
 * filled, failed), so a questionnaire is done when it was released to its prospect, or when every
 * one of its questions has an approved answer (its final export holds approved answers only).
 */
export const DONE_RULE =
  'A questionnaire is done once released to its prospect, or once every one of its questions has an approved answer; a question is done once its answer is approved.';

/** A question still needs work: its answer is not approved. */
export const questionOpen = (): SQL => or(isNull(questions.status), ne(questions.status, 'approved'))!;

/** A questionnaire still needs work (DONE_RULE), for queries over the questionnaires table. */
export const questionnaireOpen = (): SQL =>
  and(
    isNull(questionnaires.releasedAt),
    sql`exists (select 1 from ${questions} where ${questions.orgId} = ${questionnaires.orgId} and ${questions.questionnaireId} = ${questionnaires.id} and (${questions.status} is null or ${questions.status} <> 'approved'))`,
  )!;

/** A 400 unless the user is a member of the caller's organization (another organization's member included). */
async function requireMember(ctx: ServiceContext, userId: string, field: string) {
  const members = await membersAmong(ctx, [userId]);
  if (!members.has(userId)) throw badRequest(`${userId} is not a member of the organization`, [{ field, message: 'not a member of the organization' }]);
}

export interface QuestionnaireUpdate {
  name?: string;
  ownerId?: string | null;
  dueAt?: string | null;
}

/** Renames a questionnaire, or sets its owner and due date; a later due date lets questionnaire.due_soon go out again. */
export async function updateQuestionnaire(ctx: ServiceContext, id: string, input: QuestionnaireUpdate) {
  requireRole(ctx.actor, 'editor');
  if (input.ownerId) await requireMember(ctx, input.ownerId, 'body/ownerId');
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(questionnaires)
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)))
      .for('update');
    if (!before) throw notFound('questionnaire');
    const set = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}),
      ...(input.dueAt !== undefined ? { dueAt: input.dueAt === null ? null : new Date(input.dueAt) } : {}),
    };
    const [after] = await tx
      .update(questionnaires)
      .set({ ...set, updatedAt: now })
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)))
      .returning();
    const changed = Object.fromEntries(
      (Object.keys(set) as (keyof typeof set)[]).map((k) => [k, { from: before[k] instanceof Date ? before[k].toISOString() : before[k], to: input[k] }]),
    );
    await recordAudit(tx, ctx, { action: 'questionnaire.updated', targetType: 'questionnaire', targetId: id, summary: { changed } });
    return summaryView(after!);
  });
}

export interface AssignmentInput {
  questionIds?: string[];
  section?: string;
  assigneeId: string | null;
  dueAt?: string | null;
}

/**
 * Assigns the listed questions, or every question of a section, to a member (null: unassigns
 * them) in one transaction of one update. An omitted dueAt leaves each question's due date as it
 * is; null clears it. Unknown question ids roll the whole assignment back.
 */
export async function assignQuestions(ctx: ServiceContext, id: string, input: AssignmentInput) {
  requireRole(ctx.actor, 'editor');
  const byIds = input.questionIds !== undefined;
  if (byIds === (input.section !== undefined)) {
    throw badRequest('give exactly one of questionIds and section', [{ field: 'body', message: 'exactly one of questionIds and section' }]);
  }
  if (input.assigneeId !== null) await requireMember(ctx, input.assigneeId, 'body/assigneeId');
  const ids = [...new Set(input.questionIds ?? [])];
  if (byIds && ids.length === 0) throw badRequest('questionIds is empty', [{ field: 'body/questionIds', message: 'must list at least one question' }]);
  const dueAt = input.dueAt === undefined ? undefined : input.dueAt === null ? null : new Date(input.dueAt);
  const assigned = await ctx.db.transaction(async (tx) => {
    const [q] = await tx
      .select({ id: questionnaires.id, name: questionnaires.name })
      .from(questionnaires)
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)));
    if (!q) throw notFound('questionnaire');
    const rows = await tx
      .update(questions)
      .set({ assigneeId: input.assigneeId, ...(dueAt !== undefined ? { dueAt } : {}) })
      .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, id), byIds ? inArray(questions.id, ids) : eq(questions.section, input.section!)))
      .returning({ id: questions.id, position: questions.position, ref: questions.ref, text: questions.text });
    // The update ran in this transaction: throwing rolls it back, so nothing is half-assigned.
    if (byIds && rows.length < ids.length) throw notFound(`${ids.length - rows.length} of the questions`);
    if (!byIds && rows.length === 0) throw notFound('section');
    rows.sort((a, b) => a.position - b.position);
    const questionIds = rows.map((r) => r.id);
    await recordAudit(tx, ctx, {
      action: 'question.assigned',
      targetType: 'questionnaire',
      targetId: id,
      summary: {
        assigneeId: input.assigneeId,
        ...(dueAt !== undefined ? { dueAt: input.dueAt } : {}),
        assigned: questionIds.length,
        ...(byIds ? { questionIds: questionIds.slice(0, 100) } : { section: input.section }),
      },
    });
    if (input.assigneeId !== null) {
      const assigneeId = input.assigneeId;
      const events = [];
      for (let i = 0; i < questionIds.length; i += ASSIGNED_EVENT_CHUNK) {
        events.push({
          type: 'question.assigned' as const,
          data: {
            questionnaireId: id,
            questionIds: questionIds.slice(i, i + ASSIGNED_EVENT_CHUNK),
            assigneeId,
            assignedBy: ctx.actor.id,
            dueAt: input.dueAt ?? null,
          },
        });
      }
      await emitEvents(tx, ctx, events);
      await mailAssignment(tx, ctx, {
        assigneeId,
        byMember: ctx.actor.kind === 'user' || ctx.actor.kind === 'apiKey' ? ctx.actor.userId : null,
        questionnaire: q.name,
        questions: rows,
        dueAt: dueAt ?? null,
      });
    }
    return questionIds.length;
  });
  return { assigned, assigneeId: input.assigneeId, dueAt: input.dueAt ?? null };
}

// My-work cursors: the last item's due date (epoch ms, `-` for none) and id, as nulls sort last.
const NO_DUE = '-';

interface WorkKey {
  dueAt: Date | null;
  id: string;
}

/** Rows after the cursor in (due date nulls last, id) order, on one table's due and id columns. */
function after(key: WorkKey | undefined, due: typeof questions.dueAt | typeof questionnaires.dueAt, id: typeof questions.id | typeof questionnaires.id) {
  if (!key) return undefined;
  if (key.dueAt === null) return and(isNull(due), gt(id, key.id));
  return or(gt(due, key.dueAt), and(eq(due, key.dueAt), gt(id, key.id)), isNull(due));
}

const byDueThenId = (a: WorkKey, b: WorkKey) => {
  if (a.dueAt && b.dueAt && a.dueAt.getTime() !== b.dueAt.getTime()) return a.dueAt.getTime() - b.dueAt.getTime();
  if (a.dueAt === null && b.dueAt !== null) return 1;
  if (a.dueAt !== null && b.dueAt === null) return -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

/**
 * The caller's open work: questions assigned to them and questionnaires they own (DONE_RULE),
 * by due date (none last), then id. Each kind is read through its own (org, member, due) index
 * with the same keyset, and the two pages are merged.
 */
export async function myWork(ctx: ServiceContext, page: { limit: number; cursor?: string | undefined }) {
  const me = memberOf(ctx.actor);
  const raw = decodeCursor(page.cursor, ['due:uuid']);
  const key: WorkKey | undefined = raw
    ? { dueAt: raw.startsWith(NO_DUE) ? null : new Date(Number(raw.slice(0, raw.indexOf(':')))), id: raw.slice(raw.indexOf(':') + 1) }
    : undefined;
  const take = page.limit + 1;
  const [qs, qns] = await Promise.all([
    ctx.db
      .select({
        id: questions.id,
        questionnaireId: questions.questionnaireId,
        questionnaireName: questionnaires.name,
        ref: questions.ref,
        text: questions.text,
        section: questions.section,
        status: questions.status,
        dueAt: questions.dueAt,
      })
      .from(questions)
      .innerJoin(questionnaires, and(eq(questionnaires.orgId, questions.orgId), eq(questionnaires.id, questions.questionnaireId)))
      .where(
        and(
          eq(questions.orgId, ctx.orgId),
          eq(questions.assigneeId, me),
          isNotNull(questions.assigneeId),
          questionOpen(),
          after(key, questions.dueAt, questions.id),
        ),
      )
      .orderBy(sql`${questions.dueAt} asc nulls last`, asc(questions.id))
      .limit(take),
    ctx.db
      .select({ id: questionnaires.id, name: questionnaires.name, status: questionnaires.status, dueAt: questionnaires.dueAt })
      .from(questionnaires)
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.ownerId, me), questionnaireOpen(), after(key, questionnaires.dueAt, questionnaires.id)))
      .orderBy(sql`${questionnaires.dueAt} asc nulls last`, asc(questionnaires.id))
      .limit(take),
  ]);
  const items = [
    ...qs.map((q) => ({
      key: { dueAt: q.dueAt, id: q.id },
      item: {
        kind: 'question' as const,
        questionnaireId: q.questionnaireId,
        questionnaireName: q.questionnaireName,
        questionId: q.id,
        ref: q.ref,
        text: q.text,
        section: q.section,
        status: q.status ?? 'unanswered',
        dueAt: q.dueAt?.toISOString() ?? null,
      },
    })),
    ...qns.map((q) => ({
      key: { dueAt: q.dueAt, id: q.id },
      item: { kind: 'questionnaire' as const, questionnaireId: q.id, questionnaireName: q.name, status: q.status, dueAt: q.dueAt?.toISOString() ?? null },
    })),
  ]
    .sort((a, b) => byDueThenId(a.key, b.key))
    .slice(0, take);
  const pageOf = toPage(items, page.limit, (r) => `${r.key.dueAt ? r.key.dueAt.getTime() : NO_DUE}:${r.key.id}`);
  return { items: pageOf.items.map((r) => r.item), nextCursor: pageOf.nextCursor };
}
