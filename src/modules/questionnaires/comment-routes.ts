import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { addComment, deleteComment, editComment, listComments } from './comments.js';

const EXAMPLE_COMMENT = {
  id: '0193a1c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f',
  questionId: '0193a1b2-5c6d-7e8f-9a0b-1c2d3e4f5a6b',
  questionnaireId: '0193a1b0-3a4b-7c5d-8e6f-7a8b9c0d1e2f',
  parentId: null,
  authorId: '0193a0f0-0b1c-7d2e-8f30-415263748596',
  body: 'Is KMS rotation yearly for every key, or only the customer data keys?',
  mentions: ['0193a0f0-1c2d-7e3f-9041-526374859607'],
  createdAt: '2026-10-01T10:15:00.000Z',
  updatedAt: '2026-10-01T10:15:00.000Z',
  editedAt: null,
  deleted: false,
};

const Comment = Type.Object(
  {
    id: Type.String(),
    questionId: Type.String(),
    questionnaireId: Type.String(),
    parentId: Nullable(Type.String({ description: 'The comment this one answers (a thread); null for a thread of its own.' })),
    authorId: Type.String({ description: 'The member who wrote it (for an API key, the member who created the key).' }),
    body: Nullable(Type.String({ description: 'Null once deleted.' })),
    mentions: Type.Array(Type.String(), { description: 'The members it mentions (user ids); empty once deleted.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    editedAt: Nullable(Timestamp),
    deleted: Type.Boolean({ description: 'A deleted comment keeps its place in the thread, without its text.' }),
  },
  {
    $id: 'QuestionComment',
    description: "An internal comment on a question: never exported, never shown to a prospect, never in the question's own view.",
    examples: [EXAMPLE_COMMENT],
  },
);

const QuestionParams = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The questionnaire id.', examples: [EXAMPLE_COMMENT.questionnaireId] }),
  questionId: Type.String({ format: 'uuid', examples: [EXAMPLE_COMMENT.questionId] }),
});
const CommentParams = Type.Object({ ...QuestionParams.properties, commentId: Type.String({ format: 'uuid', examples: [EXAMPLE_COMMENT.id] }) });
const Body = Type.String({ minLength: 1, maxLength: 10000 });

/** Internal comments per question: team work, so viewers take part too (the routes' role is viewer). */
export const questionCommentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/questionnaires/:id/questions/:questionId/comments', {
    config: { role: 'viewer' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'addQuestionComment',
      summary: 'Comment on a question (internal), or reply to a comment on it',
      description:
        'Any member may comment, viewers included. `parentId` answers a comment on the same question (else a 400); `mentions` names members by user id ' +
        '(anyone who is not a member is a 400 naming the field). Sends the `comment.created` event, without the text. Comments never appear in an export or on the prospect path.',
      params: QuestionParams,
      body: Type.Object(
        {
          body: Body,
          parentId: Type.Optional(Type.String({ format: 'uuid' })),
          mentions: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 20, description: 'Members to notify (user ids).' })),
        },
        { examples: [{ body: EXAMPLE_COMMENT.body, mentions: EXAMPLE_COMMENT.mentions }] },
      ),
      response: withProblems({ 201: { ...Comment, description: 'The comment' } }),
    },
    handler: async (req, reply) => reply.code(201).send(await addComment(req.ctx(), req.params.id, req.params.questionId, req.body)),
  });

  app.get('/questionnaires/:id/questions/:questionId/comments', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'listQuestionComments',
      summary: "A question's comments, oldest first",
      description: 'Threads are read through `parentId`; a deleted comment keeps its place with `deleted` true and no body.',
      params: QuestionParams,
      querystring: PageQuery,
      response: withProblems({ 200: Type.Object({ items: Type.Array(Comment), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => listComments(req.ctx(), req.params.id, req.params.questionId, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.patch('/questionnaires/:id/questions/:questionId/comments/:commentId', {
    config: { role: 'viewer' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'editQuestionComment',
      summary: 'Rewrite a comment (its author only)',
      description: 'Anyone but the author is a 403; a deleted comment is a 409. `editedAt` records the edit.',
      params: CommentParams,
      body: Type.Object({ body: Body }, { examples: [{ body: 'Is KMS rotation yearly for every key?' }] }),
      response: withProblems({ 200: Comment }, ['conflict']),
    },
    handler: async (req) => editComment(req.ctx(), req.params.id, req.params.questionId, req.params.commentId, req.body.body),
  });

  app.delete('/questionnaires/:id/questions/:questionId/comments/:commentId', {
    config: { role: 'viewer' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'deleteQuestionComment',
      summary: 'Delete a comment (its author or an admin)',
      description: 'The text goes; the comment keeps its place in the thread, marked deleted. Anyone else is a 403; deleting again changes nothing.',
      params: CommentParams,
      response: withProblems({ 204: { description: 'Deleted', type: 'null' } }),
    },
    handler: async (req, reply) => {
      await deleteComment(req.ctx(), req.params.id, req.params.questionId, req.params.commentId);
      return reply.code(204).send(null);
    },
  });
};
