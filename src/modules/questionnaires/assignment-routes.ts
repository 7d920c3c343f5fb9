import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { Nullable, withProblems } from '../../lib/schemas.js';
import { DONE_RULE, assignQuestions, myWork, updateQuestionnaire } from './assignments.js';
import { QuestionnaireIdParam, Summary } from './routes.js';

// Example values shared by the schemas below, so the examples in the OpenAPI document agree.
const EXAMPLE_QUESTIONNAIRE_ID = '0193a1b0-3a4b-7c5d-8e6f-7a8b9c0d1e2f';
const EXAMPLE_QUESTION_ID = '0193a1b2-5c6d-7e8f-9a0b-1c2d3e4f5a6b';
const EXAMPLE_MEMBER_ID = '0193a0f1-2b3c-7d4e-8f50-617283940a1b';
const EXAMPLE_DUE = '2026-10-08T17:00:00.000Z';

const MemberId = (description: string) => Nullable(Type.String({ format: 'uuid', description }));
const DueAt = (description: string) => Nullable(Type.String({ format: 'date-time', description }));

const Assignment = Type.Object(
  {
    assigned: Type.Integer({ minimum: 0, description: 'How many questions were assigned (or unassigned).' }),
    assigneeId: MemberId('The member they are assigned to; null when they were unassigned.'),
    dueAt: DueAt('The due date set; null when cleared, or when the request left the due dates as they were.'),
  },
  { $id: 'QuestionAssignment', description: 'What an assignment changed.', examples: [{ assigned: 12, assigneeId: EXAMPLE_MEMBER_ID, dueAt: EXAMPLE_DUE }] },
);

const WorkItem = Type.Object(
  {
    kind: Type.Enum(['question', 'questionnaire'], { description: 'question: assigned to the caller; questionnaire: owned by the caller.' }),
    questionnaireId: Type.String({ format: 'uuid' }),
    questionnaireName: Type.String(),
    questionId: Type.Optional(Type.String({ format: 'uuid' })),
    ref: Type.Optional(Nullable(Type.String())),
    text: Type.Optional(Type.String()),
    section: Type.Optional(Nullable(Type.String())),
    status: Type.String({
      description:
        "Questions: the answer's status (draft, needs_review, rejected) or unanswered; questionnaires: the questionnaire's status (imported ... filled, failed).",
    }),
    dueAt: DueAt('When it is due; null when it has no due date (listed last).'),
  },
  {
    $id: 'WorkItem',
    description: 'An open question assigned to the caller, or an open questionnaire they own.',
    examples: [
      {
        kind: 'question',
        questionnaireId: EXAMPLE_QUESTIONNAIRE_ID,
        questionnaireName: 'Acme Corp vendor security review 2026',
        questionId: EXAMPLE_QUESTION_ID,
        ref: 'CEK-03.1',
        text: 'Is customer data encrypted at rest?',
        section: 'Cryptography, Encryption & Key Management',
        status: 'needs_review',
        dueAt: EXAMPLE_DUE,
      },
      {
        kind: 'questionnaire',
        questionnaireId: EXAMPLE_QUESTIONNAIRE_ID,
        questionnaireName: 'Acme Corp vendor security review 2026',
        status: 'filled',
        dueAt: null,
      },
    ],
  },
);

/** Questionnaires as team work: owners and due dates, question assignments, and each member's own list. */
export const assignmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.patch('/questionnaires/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'updateQuestionnaire',
      summary: 'Rename a questionnaire, or set its owner and due date',
      description:
        'Only the fields sent change; null clears the owner or the due date. The owner must be a member of the organization (else 400 on `body/ownerId`). ' +
        'questionnaire.due_soon goes out once when the due date is within 48 hours and the questionnaire is not done; moving the due date later sends it again when it comes close.',
      params: QuestionnaireIdParam,
      body: Type.Object(
        {
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
          ownerId: Type.Optional(MemberId('The member who owns the questionnaire (a user id); null: nobody.')),
          dueAt: Type.Optional(DueAt('When it is due; null: no due date.')),
        },
        { minProperties: 1, additionalProperties: false, examples: [{ ownerId: EXAMPLE_MEMBER_ID, dueAt: EXAMPLE_DUE }] },
      ),
      response: withProblems({ 200: Summary }),
    },
    handler: async (req) => updateQuestionnaire(req.ctx(), req.params.id, req.body),
  });

  app.post('/questionnaires/:id/assignments', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'assignQuestions',
      summary: 'Assign questions, or every question of a section, to a member',
      description:
        "Send exactly one of `questionIds` and `section` (else 400). All the questions change in one transaction: a question id that is not one of this questionnaire's is a 404 and nothing changes, and so is a section with no questions. " +
        "`assigneeId` null unassigns them; an assignee who is not a member of the organization is a 400. An omitted `dueAt` leaves each question's due date as it is, null clears it. " +
        'An assignment to a member sends question.assigned (one event per 1,000 questions).',
      params: QuestionnaireIdParam,
      body: Type.Object(
        {
          questionIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 5000 })),
          section: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: "The section, as the buyer's file names it." })),
          assigneeId: MemberId('The member (a user id); null unassigns the questions.'),
          dueAt: Type.Optional(DueAt('When the questions are due; null clears their due date.')),
        },
        {
          additionalProperties: false,
          examples: [
            { section: 'Cryptography, Encryption & Key Management', assigneeId: EXAMPLE_MEMBER_ID, dueAt: EXAMPLE_DUE },
            { questionIds: [EXAMPLE_QUESTION_ID], assigneeId: null },
          ],
        },
      ),
      response: withProblems({ 200: Assignment }),
    },
    handler: async (req) => assignQuestions(req.ctx(), req.params.id, req.body),
  });

  app.get('/my-work', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'listMyWork',
      summary: "The caller's open work: questions assigned to them and questionnaires they own, soonest due first",
      description:
        `Open items only. ${DONE_RULE} Ordered by due date (items without one last), then id; \`nextCursor\` continues. ` +
        'An API key lists the work of the member who created it.',
      querystring: PageQuery,
      response: withProblems({ 200: Type.Object({ items: Type.Array(WorkItem), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => myWork(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });
};
