import { and, asc, eq, gt } from 'drizzle-orm';
import { memberOf, roleAtLeast, type ServiceContext, withTransaction } from '../../lib/context.js';
import { DomainError, badRequest, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { emitEvent } from '../events/index.js';
import { membersAmong } from '../identity/index.js';
import { questionComments, questionnaires, questions } from './tables.js';
import { mailMentions } from './team-mail.js';

type CommentRow = typeof questionComments.$inferSelect;

export interface CommentInput {
  body: string;
  parentId?: string | undefined;
  mentions?: string[] | undefined;
}

function commentView(c: CommentRow) {
  const deleted = c.deletedAt !== null;
  return {
    id: c.id,
    questionId: c.questionId,
    questionnaireId: c.questionnaireId,
    parentId: c.parentId,
    authorId: c.authorId,
    // A deleted comment keeps its place in the thread, without its text or mentions.
    body: deleted ? null : c.body,
    mentions: deleted ? [] : c.mentions,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    editedAt: c.editedAt?.toISOString() ?? null,
    deleted,
  };
}

/** The question, in this questionnaire of the organization; anything else is a 404. */
async function questionOf(ctx: Pick<ServiceContext, 'db' | 'orgId'>, questionnaireId: string, questionId: string) {
  const [q] = await ctx.db
    .select({ id: questions.id, ref: questions.ref, text: questions.text, questionnaire: questionnaires.name })
    .from(questions)
    .innerJoin(questionnaires, and(eq(questionnaires.orgId, questions.orgId), eq(questionnaires.id, questions.questionnaireId)))
    .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, questionnaireId), eq(questions.id, questionId)));
  if (!q) throw notFound('question');
  return q;
}

async function commentOf(ctx: Pick<ServiceContext, 'db' | 'orgId'>, questionnaireId: string, questionId: string, commentId: string) {
  const [c] = await ctx.db
    .select()
    .from(questionComments)
    .where(
      and(
        eq(questionComments.orgId, ctx.orgId),
        eq(questionComments.questionnaireId, questionnaireId),
        eq(questionComments.questionId, questionId),
        eq(questionComments.id, commentId),
      ),
    );
  if (!c) throw notFound('comment');
  return c;
}

/** Any member may comment (viewers too: reviewing is team work); the author is the member, an API key's creator. */
export async function addComment(ctx: ServiceContext, questionnaireId: string, questionId: string, input: CommentInput) {
  const authorId = memberOf(ctx.actor);
  const question = await questionOf(ctx, questionnaireId, questionId);
  if (input.parentId !== undefined) {
    const [parent] = await ctx.db
      .select({ id: questionComments.id })
      .from(questionComments)
      .where(and(eq(questionComments.orgId, ctx.orgId), eq(questionComments.questionId, questionId), eq(questionComments.id, input.parentId)));
    if (!parent) throw badRequest('parentId must be a comment on the same question', [{ field: 'body/parentId', message: 'not a comment on this question' }]);
  }
  const mentions = [...new Set(input.mentions ?? [])];
  const members = await membersAmong(ctx, mentions);
  const strangers = mentions.flatMap((m) =>
    members.has(m) ? [] : [{ field: `body/mentions/${input.mentions!.indexOf(m)}`, message: 'not a member of the organization' }],
  );
  if (strangers.length > 0) throw badRequest('every mention must be a member of the organization', strangers);
  const now = ctx.clock();
  const row: CommentRow = {
    orgId: ctx.orgId,
    id: newId(),
    questionnaireId,
    questionId,
    parentId: input.parentId ?? null,
    authorId,
    body: input.body,
    mentions,
    createdAt: now,
    updatedAt: now,
    editedAt: null,
    deletedAt: null,
  };
  await withTransaction(ctx, async (tctx) => {
    await tctx.db.insert(questionComments).values(row);
    // Ids only: a comment's text stays out of the audit log and the webhooks.
    await recordAudit(tctx.db, tctx, {
      action: 'comment.created',
      targetType: 'comment',
      targetId: row.id,
      summary: { questionnaireId, questionId, parentId: row.parentId, mentions },
    });
    await emitEvent(tctx.db, tctx, 'comment.created', {
      commentId: row.id,
      questionnaireId,
      questionId,
      authorId,
      mentions,
      createdAt: now.toISOString(),
    });
    await mailMentions(tctx.db, tctx, { authorId, mentions, questionnaire: question.questionnaire, question, body: input.body });
  });
  return commentView(row);
}

/** A question's comments oldest first (keyset on the time-ordered id), deleted ones in their place. */
export async function listComments(ctx: ServiceContext, questionnaireId: string, questionId: string, page: { limit: number; cursor?: string | undefined }) {
  const after = decodeCursor(page.cursor, ['uuid']);
  await questionOf(ctx, questionnaireId, questionId);
  const rows = await ctx.db
    .select()
    .from(questionComments)
    .where(
      and(
        eq(questionComments.orgId, ctx.orgId),
        eq(questionComments.questionId, questionId),
        eq(questionComments.questionnaireId, questionnaireId),
        after ? gt(questionComments.id, after) : undefined,
      ),
    )
    .orderBy(asc(questionComments.id))
    .limit(page.limit + 1);
  const { items, nextCursor } = toPage(rows, page.limit, (r) => r.id);
  return { items: items.map(commentView), nextCursor };
}

/** Only the author rewrites a comment; a deleted one stays deleted. */
export async function editComment(ctx: ServiceContext, questionnaireId: string, questionId: string, commentId: string, body: string) {
  const me = memberOf(ctx.actor);
  const c = await commentOf(ctx, questionnaireId, questionId, commentId);
  if (c.authorId !== me) throw new DomainError('forbidden', 'only the author may edit a comment');
  if (c.deletedAt !== null) throw new DomainError('conflict', 'the comment was deleted');
  const now = ctx.clock();
  return withTransaction(ctx, async (tctx) => {
    const [saved] = await tctx.db
      .update(questionComments)
      .set({ body, editedAt: now, updatedAt: now })
      .where(and(eq(questionComments.orgId, ctx.orgId), eq(questionComments.id, commentId), eq(questionComments.authorId, me)))
      .returning();
    await recordAudit(tctx.db, tctx, { action: 'comment.edited', targetType: 'comment', targetId: commentId, summary: { questionnaireId, questionId } });
    return commentView(saved!);
  });
}

/** The author or an admin deletes a comment: its text goes, its place in the thread stays. Deleting twice is a no-op. */
export async function deleteComment(ctx: ServiceContext, questionnaireId: string, questionId: string, commentId: string) {
  const me = memberOf(ctx.actor);
  const c = await commentOf(ctx, questionnaireId, questionId, commentId);
  if (c.authorId !== me && !roleAtLeast(ctx.actor.role, 'admin')) throw new DomainError('forbidden', 'only the author or an admin may delete a comment');
  if (c.deletedAt !== null) return;
  const now = ctx.clock();
  await withTransaction(ctx, async (tctx) => {
    await tctx.db
      .update(questionComments)
      .set({ body: null, mentions: [], deletedAt: now, updatedAt: now })
      .where(and(eq(questionComments.orgId, ctx.orgId), eq(questionComments.id, commentId)));
    await recordAudit(tctx.db, tctx, {
      action: 'comment.deleted',
      targetType: 'comment',
      targetId: commentId,
      summary: { questionnaireId, questionId, byAuthor: c.authorId === me },
    });
  });
}
