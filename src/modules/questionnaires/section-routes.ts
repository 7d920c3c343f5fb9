import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { answerHistory } from './history.js';
import { AnswerSource } from './routes.js';
import { SECTION_ACTIONS, sectionAction } from './sections.js';
import { ANSWER_STATUSES, REVISION_CAUSES } from './tables.js';

const EXAMPLE_QUESTIONNAIRE_ID = '0193a1b0-3a4b-7c5d-8e6f-7a8b9c0d1e2f';
const EXAMPLE_QUESTION_ID = '0193a1b2-5c6d-7e8f-9a0b-1c2d3e4f5a6b';

const QuestionnaireIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The questionnaire id.', examples: [EXAMPLE_QUESTIONNAIRE_ID] }) });

const SectionActionResult = Type.Object(
  {
    section: Type.String(),
    action: Type.Enum(SECTION_ACTIONS),
    affected: Type.Integer({ description: 'Questions answered n/a, approved, or queued to be re-drafted.' }),
    skipped: Type.Array(Type.Object({ questionId: Type.String(), reason: Type.String() }), {
      description: 'Questions of the section left unchanged, and why.',
    }),
    jobId: Type.Optional(Type.String({ description: 'refill: the fill job queued for the section (poll GET /questionnaires/{id}).' })),
  },
  {
    $id: 'SectionActionResult',
    description: 'What a section action did.',
    examples: [
      {
        section: 'Physical Security',
        action: 'not_applicable',
        affected: 11,
        skipped: [{ questionId: EXAMPLE_QUESTION_ID, reason: 'its allowed answers (Yes, No) offer no n/a value' }],
      },
    ],
  },
);

const AnswerRevision = Type.Object(
  {
    id: Type.String(),
    questionId: Type.String(),
    questionnaireId: Type.String(),
    choice: Nullable(Type.String()),
    text: Nullable(Type.String()),
    status: Nullable(Type.Enum(ANSWER_STATUSES)),
    confidence: Nullable(Type.Number()),
    sources: Type.Array(AnswerSource),
    changedBy: Type.String({ description: 'Who replaced this answer: a member, an API key, or the member who requested the fill.' }),
    changedAt: Timestamp,
    cause: Type.Enum(REVISION_CAUSES, { description: 'What replaced it: a review, a section action, a section re-fill or a whole fill.' }),
  },
  {
    $id: 'AnswerRevision',
    description: 'An earlier answer to a question, as it stood before it was replaced.',
    examples: [
      {
        id: '0193a1c5-2b3c-7d4e-8f50-6172839a0b1c',
        questionId: EXAMPLE_QUESTION_ID,
        questionnaireId: EXAMPLE_QUESTIONNAIRE_ID,
        choice: 'Yes',
        text: 'Customer data is encrypted at rest with AES-256.',
        status: 'draft',
        confidence: 0.91,
        sources: [{ kind: 'control', framework: 'iso27001-2022', ref: 'A.8.24', version: 3, score: 0.84 }],
        changedBy: '0193a0f0-0b1c-7d2e-8f30-415263748596',
        changedAt: '2026-10-01T11:02:00.000Z',
        cause: 'review',
      },
    ],
  },
);

/** Decisions over a whole section of a questionnaire, and each answer's history. */
export const sectionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/questionnaires/:id/section-actions', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'questionnaireSectionAction',
      summary: 'Act on every question of a section: answer it n/a, approve its answers, or re-draft it',
      description:
        "`not_applicable` (needs `reason`, which becomes the answer text) approves n/a in each question's own list spelling; a question whose list has no n/a value is skipped. " +
        '`approve` approves the non-empty answers not yet approved (rejected ones are skipped). `refill` queues a fill job for the section only; approved answers are kept unless `force` is true, ' +
        'and while another fill is queued or running it is a 409. Every answer replaced is kept in its history. A section no question has is a 404.',
      params: QuestionnaireIdParam,
      body: Type.Object(
        {
          section: Type.String({ minLength: 1, maxLength: 1000, description: "The section, exactly as the questions' `section` reads." }),
          action: Type.Enum(SECTION_ACTIONS),
          reason: Type.Optional(Type.String({ minLength: 1, maxLength: 20000, description: 'not_applicable: why; it becomes the answer text.' })),
          force: Type.Optional(Type.Boolean({ default: false, description: 'refill: re-draft approved answers too.' })),
        },
        { examples: [{ section: 'Physical Security', action: 'not_applicable', reason: 'We run no premises of our own: everything is hosted on AWS.' }] },
      ),
      response: withProblems({ 200: SectionActionResult }, ['conflict']),
    },
    handler: async (req) => sectionAction(req.ctx(), req.params.id, req.body),
  });

  app.get('/questionnaires/:id/questions/:questionId/history', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'listAnswerHistory',
      summary: "A question's earlier answers, newest first",
      description: 'Each entry is the answer as it stood before a review, a section action or a fill replaced it; the current answer is on the question.',
      params: Type.Object({ id: Type.String({ format: 'uuid' }), questionId: Type.String({ format: 'uuid' }) }),
      querystring: PageQuery,
      response: withProblems({ 200: Type.Object({ items: Type.Array(AnswerRevision), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => answerHistory(req.ctx(), req.params.id, req.params.questionId, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });
};
