import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { PageQuery } from '../../lib/pagination.js';
import { Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import type { BlobStore } from '../../lib/storage.js';
import { CONTENT_TYPES } from '../../lib/tabular.js';
import { discardBlob } from '../blobs/index.js';
import { readQuestionnaireUpload } from './upload.js';
import { JsonImport, QuestionnaireUpload } from './upload-schemas.js';
import { exportCsv, exportVsaq, exportXlsx } from './export.js';
import { badRequest } from '../../lib/errors.js';
import { ANSWER_STATUSES, CHOICES, QUESTIONNAIRE_STATUSES } from './tables.js';
import * as service from './service.js';
import { GAP_RULE, questionnaireGaps } from './gaps.js';

// Example values shared by the schemas below, so the examples in the OpenAPI document agree.
const EXAMPLE_QUESTIONNAIRE_ID = '0193a1b0-3a4b-7c5d-8e6f-7a8b9c0d1e2f';
const EXAMPLE_QUESTION_ID = '0193a1b2-5c6d-7e8f-9a0b-1c2d3e4f5a6b';
const EXAMPLE_SOURCES = [
  { kind: 'control', framework: 'iso27001-2022', ref: 'A.8.24', version: 3, score: 0.84 },
  { kind: 'evidence', id: '01939f6e-4b2a-7c41-9d3e-2f8a6b1c5d70', version: 2, score: 0.61, title: 'Cryptography standard', page: 3 },
];
const EXAMPLE_ANSWER = {
  choice: 'Yes',
  text: 'Customer data is encrypted at rest with AES-256; keys are held in AWS KMS and rotated every year.',
  confidence: 0.91,
  status: 'draft',
  sources: EXAMPLE_SOURCES,
  reviewReason: null,
  stale: false,
  staleReasons: [],
};
const EXAMPLE_QUESTION = {
  id: EXAMPLE_QUESTION_ID,
  ref: 'CEK-03.1',
  text: 'Is customer data encrypted at rest?',
  section: 'Cryptography, Encryption & Key Management',
  sheet: 'Questions',
  row: 42,
  allowedAnswers: ['Yes', 'No', 'NA'],
  answer: EXAMPLE_ANSWER,
  assigneeId: '0193a0f1-2b3c-7d4e-8f50-617283940a1b',
  dueAt: '2026-10-08T17:00:00.000Z',
};
const EXAMPLE_SUMMARY = {
  id: EXAMPLE_QUESTIONNAIRE_ID,
  name: 'Acme Corp vendor security review 2026',
  format: 'xlsx',
  status: 'filled',
  questionCount: 261,
  progress: { done: 261, total: 261 },
  createdAt: '2026-10-01T09:00:00.000Z',
  filledAt: '2026-10-01T09:03:12.000Z',
  origin: 'vendor',
  prospect: null,
  ownerId: '0193a0f1-2b3c-7d4e-8f50-617283940a1b',
  dueAt: '2026-10-09T17:00:00.000Z',
};

export const AnswerSource = Type.Object(
  {
    kind: Type.Enum(['control', 'library', 'evidence', 'fact', 'document']),
    framework: Type.Optional(Type.String()),
    ref: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    key: Type.Optional(Type.String({ description: 'The profile fact key, for kind fact.' })),
    version: Type.Optional(
      Type.Integer({
        description: 'The version of the control answer, library entry, fact, document or evidence drawn from: a later version makes the answer stale.',
      }),
    ),
    score: Type.Optional(Type.Number()),
    title: Type.Optional(Type.String({ description: 'Documents and evidence files quoted: the title.' })),
    page: Type.Optional(Type.Integer({ description: 'The PDF page of the quoted passage.' })),
    heading: Type.Optional(Type.String({ description: 'The heading the quoted passage sits under (DOCX, Markdown, HTML).' })),
  },
  {
    $id: 'AnswerSource',
    description: 'One source of an answer: a control answer (framework, ref), a library entry, evidence or document (id), or a profile fact (key).',
    examples: EXAMPLE_SOURCES,
  },
);

export const Answer = Type.Object(
  {
    choice: Nullable(
      Type.String({
        description:
          'yes, no, partial or n/a; when the question has allowed answers (a dropdown, VSAQ options), one of them verbatim. Null: an open question, or not settled by the sources.',
      }),
    ),
    text: Nullable(Type.String()),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    status: Type.Enum(ANSWER_STATUSES),
    sources: Type.Array(AnswerSource, { description: 'Best first: the controls, library entries, facts, documents and evidence the answer comes from.' }),
    reviewReason: Type.Optional(Nullable(Type.String({ description: 'Why the answer waits for a person: what the sources did not settle.' }))),
    stale: Type.Optional(Type.Boolean({ description: 'A source changed or expired since the answer was written or reviewed.' })),
    staleReasons: Type.Optional(Type.Array(Type.String())),
  },
  {
    $id: 'Answer',
    description: 'An answer with its confidence, review status and the sources it cites.',
    examples: [EXAMPLE_ANSWER],
  },
);

const Question = Type.Object(
  {
    id: Type.String(),
    ref: Nullable(Type.String()),
    text: Type.String(),
    section: Nullable(Type.String()),
    sheet: Nullable(Type.String()),
    row: Nullable(Type.Integer()),
    allowedAnswers: Nullable(Type.Array(Type.String())),
    answer: Nullable(Answer),
    assigneeId: Nullable(Type.String({ format: 'uuid', description: 'The member the question is assigned to (a user id); null when unassigned.' })),
    dueAt: Nullable(Type.String({ format: 'date-time', description: 'When the question is due; null when it has no due date.' })),
  },
  {
    $id: 'QuestionnaireQuestion',
    description:
      "A question as the buyer's file asks it (ref, section, and for spreadsheets its sheet and row), with its answer; `answer` is null until a fill reaches it.",
    examples: [EXAMPLE_QUESTION],
  },
);

// Who uploaded a prospect's questionnaire, as their trust-page grant names them.
const Prospect = Type.Object(
  {
    grantId: Nullable(Type.String({ description: 'The access grant the questionnaire was uploaded under.' })),
    email: Nullable(Type.String()),
    name: Nullable(Type.String()),
    company: Nullable(Type.String({ description: 'As the prospect wrote it in their access request.' })),
  },
  { description: 'The prospect who uploaded it through a trust-page grant; null for questionnaires the organization imported.' },
);
const Origin = Type.Enum(['vendor', 'prospect'], {
  description: 'vendor: imported by the organization; prospect: uploaded through a trust-page grant (the prospect sees an answer once it is released).',
});

export const Summary = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    format: Type.String({ description: 'xlsx, csv, json or vsaq: how it was imported.' }),
    status: Type.Enum(QUESTIONNAIRE_STATUSES),
    questionCount: Type.Integer(),
    progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
    createdAt: Timestamp,
    filledAt: Nullable(Timestamp),
    origin: Origin,
    prospect: Nullable(Prospect),
    ownerId: Nullable(Type.String({ format: 'uuid', description: 'The member who owns the questionnaire (a user id); null when nobody does.' })),
    dueAt: Nullable(Type.String({ format: 'date-time', description: 'When the questionnaire is due; null when it has no due date.' })),
  },
  {
    $id: 'QuestionnaireSummary',
    description: 'A questionnaire without its questions: status and fill progress.',
    examples: [EXAMPLE_SUMMARY],
  },
);

const QuestionnairePage = Type.Object(
  {
    ...Summary.properties,
    questions: Type.Array(Question),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page of questions; null on the last page.' })),
  },
  {
    $id: 'Questionnaire',
    description: "A questionnaire's summary with one page of its questions, in questionnaire order.",
    examples: [{ ...EXAMPLE_SUMMARY, questions: [EXAMPLE_QUESTION], nextCursor: 'eyJrIjoiNDIifQ' }],
  },
);

const ImportResult = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    questionCount: Type.Integer(),
    format: Type.String(),
    status: Type.String(),
    warnings: Type.Array(Type.String(), { description: 'What the layout detection assumed or skipped; worth reading before a fill.' }),
  },
  {
    $id: 'QuestionnaireImportResult',
    description: 'The imported questionnaire (status imported), with the detected format.',
    examples: [
      {
        id: EXAMPLE_QUESTIONNAIRE_ID,
        name: 'Acme Corp vendor security review 2026',
        questionCount: 261,
        format: 'xlsx',
        status: 'imported',
        warnings: ['Sheet "Instructions" has no question column; skipped.'],
      },
    ],
  },
);

const FillJob = Type.Object(
  {
    id: Type.String({ description: 'The job.' }),
    status: Type.String({ description: 'queued, or running when a fill was already under way.' }),
    questionnaireId: Type.String(),
  },
  {
    $id: 'FillJob',
    description: 'A questionnaire fill job.',
    examples: [{ id: '0193a1b4-7e8f-7a9b-8c0d-2e3f4a5b6c7d', status: 'queued', questionnaireId: EXAMPLE_QUESTIONNAIRE_ID }],
  },
);

const QuestionnaireExport = Type.Union(
  [
    Type.Object({ id: Type.String(), name: Type.String(), questions: Type.Array(Question) }),
    Type.Record(Type.String(), Type.String(), { description: 'format=vsaq: item or option id -> value' }),
  ],
  {
    $id: 'QuestionnaireExport',
    description: "format=json: the questionnaire with every question and answer; format=vsaq: the answers in VSAQ's own format (item or option id -> value).",
    examples: [{ id: EXAMPLE_QUESTIONNAIRE_ID, name: 'Acme Corp vendor security review 2026', questions: [EXAMPLE_QUESTION] }],
  },
);

// The same checks as IdParam; its own copy only to carry an example id into the document.
export const QuestionnaireIdParam = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The questionnaire id.', examples: [EXAMPLE_QUESTIONNAIRE_ID] }),
});

export const questionnaireRoutes: FastifyPluginAsyncTypebox<{ config: Config; blobs: BlobStore }> = async (app, { config, blobs }) => {
  await app.register(multipart, { limits: { fileSize: config.limits.uploadBytes, files: 1 } });

  app.post('/questionnaires', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'importQuestionnaire',
      summary: 'Import a questionnaire: JSON {name, questions}, or a file (XLSX, CSV, JSON, VSAQ) whose layout is detected',
      description:
        "Send JSON {name, questions}, or the buyer's file as multipart/form-data. A file is kept so that the export can write the answers back into it; " +
        'nothing is answered until POST /questionnaires/{id}/fill. A file that is not a spreadsheet is a 415, an encrypted or corrupt one a 400, ' +
        "one beyond the parser's limits (size, cells, 5,000 questions) a 413, and one without recognisable questions a 422.",
      body: { content: { 'application/json': { schema: JsonImport } } } as never,
      'x-multipart': QuestionnaireUpload,
      response: withProblems({ 201: { ...ImportResult, description: 'The questionnaire, imported and not yet answered' } }),
    },
    handler: async (req, reply) => {
      const { input, created } = await readQuestionnaireUpload(req, app.database.db, blobs, config.limits.uploadBytes);
      try {
        return reply.code(201).send(await service.importQuestionnaire(req.ctx(), input));
      } catch (err) {
        await discardBlob(app.database.db, blobs, created);
        throw err;
      }
    },
  });

  app.get('/questionnaires', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'listQuestionnaires',
      summary: 'Questionnaires, newest first',
      querystring: PageQuery,
      description:
        "Summaries only (status and progress); the questions and answers come from GET /questionnaires/{id}. Prospects' uploads through a trust-page grant are listed too.",
      response: withProblems({ 200: Type.Object({ items: Type.Array(Summary), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => service.listQuestionnaires(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.get('/questionnaires/:id', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'getQuestionnaire',
      summary: 'A questionnaire with its progress and one page of its questions and answers',
      description:
        'The summary (status, progress) comes first on every page; `questions` holds up to `limit` questions in questionnaire order, and `nextCursor` continues with the same filters. ' +
        'Poll it after POST /questionnaires/{id}/fill: `status` becomes filled (or failed) when the job ends.',
      params: QuestionnaireIdParam,
      querystring: Type.Object({
        status: Type.Optional(
          Type.Enum([...ANSWER_STATUSES, 'unanswered'], { description: 'Only questions whose answer has this status.', examples: ['needs_review'] }),
        ),
        stale: Type.Optional(Type.Boolean({ description: 'Only answers whose sources changed or expired (true), or the others (false).' })),
        assignee: Type.Optional(
          Type.Union([Type.Enum(['me', 'none']), Type.String({ format: 'uuid' })], {
            description: 'Only questions assigned to this member (a user id), to the caller (`me`), or to nobody (`none`).',
            examples: ['me'],
          }),
        ),
        section: Type.Optional(
          Type.String({
            maxLength: 500,
            description: "Only the questions of this section, as the buyer's file names it.",
            examples: ['Cryptography, Encryption & Key Management'],
          }),
        ),
        ...PageQuery.properties,
      }),
      response: withProblems({ 200: QuestionnairePage }),
    },
    handler: async (req) => {
      const { limit, cursor, ...filter } = req.query;
      return service.getQuestionnaire(req.ctx(), req.params.id, filter, { limit: limit ?? 50, cursor });
    },
  });

  app.get('/questionnaires/:id/gaps', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'listQuestionnaireGaps',
      summary: 'The questions no source could answer, grouped by topic: what to add to the SoA, profile or library',
      description: GAP_RULE,
      params: QuestionnaireIdParam,
      response: withProblems({
        200: Type.Object(
          {
            questionnaireId: Type.String(),
            total: Type.Integer({ description: 'Gaps in all groups.' }),
            unfilled: Type.Integer({ description: 'Questions no fill has answered yet (not counted as gaps).' }),
            groups: Type.Array(
              Type.Object({
                topic: Type.String(),
                from: Type.Enum(['section', 'control', 'none'], {
                  description: 'Where the topic comes from: the buyer\'s section, the best candidate control, or none ("Unsorted").',
                }),
                control: Nullable(Type.Object({ framework: Type.String(), ref: Type.String() })),
                questions: Type.Array(Type.Object({ id: Type.String(), ref: Nullable(Type.String()), text: Type.String(), reason: Type.String() })),
              }),
              { description: 'In questionnaire order of their first question; "Unsorted" last.' },
            ),
          },
          {
            $id: 'QuestionnaireGaps',
            description: 'The questions no source could answer, grouped by topic.',
            examples: [
              {
                questionnaireId: EXAMPLE_QUESTIONNAIRE_ID,
                total: 2,
                unfilled: 0,
                groups: [
                  {
                    topic: 'Business Continuity',
                    from: 'section',
                    control: { framework: 'iso27001-2022', ref: 'A.5.30' },
                    questions: [{ id: EXAMPLE_QUESTION_ID, ref: 'BCR-08.1', text: 'How often are backups restored in a test?', reason: 'no source answered' }],
                  },
                  {
                    topic: 'Unsorted',
                    from: 'none',
                    control: null,
                    questions: [
                      { id: '0193a1b2-5c6d-7e8f-9a0b-1c2d3e4f5a70', ref: '9.4', text: 'Do you hold cyber insurance?', reason: 'the answer cites no source' },
                    ],
                  },
                ],
              },
            ],
          },
        ),
      }),
    },
    handler: async (req) => questionnaireGaps(req.ctx(), req.params.id),
  });

  app.get('/review-queue', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'listReviewQueue',
      summary: 'Answers waiting for a person across all questionnaires (needs_review), oldest questionnaire first',
      description:
        'Each item names its questionnaire; `origin` prospect marks a questionnaire uploaded through a trust-page grant, whose prospect sees the answer only once it is approved. ' +
        'Decide an answer with PATCH /questionnaires/{id}/questions/{questionId}.',
      querystring: PageQuery,
      response: withProblems({
        200: Type.Object({
          items: Type.Array(
            Type.Object(
              {
                questionnaire: Type.Object({ id: Type.String(), name: Type.String(), origin: Origin, prospect: Nullable(Prospect) }),
                question: Question,
              },
              {
                $id: 'ReviewQueueItem',
                description: 'An answer waiting for review, with the questionnaire it belongs to.',
                examples: [
                  {
                    questionnaire: { id: EXAMPLE_QUESTIONNAIRE_ID, name: 'Acme Corp vendor security review 2026', origin: 'vendor', prospect: null },
                    question: {
                      ...EXAMPLE_QUESTION,
                      answer: {
                        ...EXAMPLE_ANSWER,
                        choice: null,
                        confidence: 0.42,
                        status: 'needs_review',
                        reviewReason: 'The sources do not say how often keys are rotated.',
                      },
                    },
                  },
                ],
              },
            ),
          ),
          nextCursor: Nullable(Type.String()),
        }),
      }),
    },
    handler: async (req) => service.reviewQueue(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.delete('/questionnaires/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'deleteQuestionnaire',
      summary: 'Delete a questionnaire and its answers',
      params: QuestionnaireIdParam,
      description:
        'Removes the questionnaire and every question and answer; the uploaded file is removed once nothing else refers to it. Library entries saved from its answers stay.',
      response: withProblems({ 204: { description: 'Deleted', type: 'null' } }),
    },
    handler: async (req, reply) => {
      await service.deleteQuestionnaire(req.ctx(), req.params.id, blobs);
      return reply.code(204).send(null);
    },
  });

  app.post('/questionnaires/:id/fill', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'fillQuestionnaire',
      summary: 'Answer the questionnaire as a durable background job; approved answers are kept; progress shows in GET /questionnaires/{id}',
      description:
        'The job is stored in the database and survives a restart; it answers from the library, the profile facts, control answers, documents and evidence ' +
        '(and the language model, when one is configured), and sends answers below the confidence threshold to review. ' +
        'While a fill is queued or running, calling this again answers that job instead of starting another.',
      params: QuestionnaireIdParam,
      response: withProblems({ 202: { ...FillJob, description: 'The fill job, queued (or the one already under way)' } }),
    },
    handler: async (req, reply) => reply.code(202).send(await service.requestFill(req.ctx(), req.params.id)),
  });

  app.patch('/questionnaires/:id/questions/:questionId', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'reviewAnswer',
      summary: 'Edit, approve or reject an answer',
      description:
        "An edited choice or text becomes the reviewer's own (confidence 1); without `status`, an edit turns a needs_review answer into a draft. " +
        "A choice outside the question's allowed answers is a 400; approving an answer with neither choice nor text a 422.",
      params: Type.Object({ id: Type.String({ format: 'uuid' }), questionId: Type.String({ format: 'uuid' }) }),
      body: Type.Object(
        {
          choice: Type.Optional(
            Nullable(Type.String({ minLength: 1, maxLength: 300, description: `One of ${CHOICES.join(', ')}, or one of the question's allowed answers.` })),
          ),
          text: Type.Optional(Nullable(Type.String({ maxLength: 20000 }))),
          status: Type.Optional(Type.Enum(['approved', 'rejected', 'needs_review'])),
        },
        { examples: [{ choice: 'Yes', text: 'Customer data is encrypted at rest with AES-256 (AWS KMS).', status: 'approved' }] },
      ),
      response: withProblems({ 200: Question }),
    },
    handler: async (req) => service.reviewAnswer(req.ctx(), req.params.id, req.params.questionId, req.body),
  });

  app.post('/questionnaires/:id/approve', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'bulkApproveAnswers',
      summary: 'Approve every drafted answer at or above a confidence',
      params: QuestionnaireIdParam,
      description:
        "Answers waiting for review are left alone, except a prospect's drafts that the trust page's prospectAutoRelease held for approval (approving them shows them to the prospect). " +
        'Refused (422) below the measured draft threshold, where answers are right less than 95% of the time, unless `force` is true.',
      body: Type.Object(
        { minConfidence: Type.Number({ minimum: 0, maximum: 1 }), force: Type.Optional(Type.Boolean({ default: false })) },
        { examples: [{ minConfidence: 0.85 }] },
      ),
      response: withProblems({ 200: Type.Object({ approved: Type.Integer(), threshold: Type.Number({ description: 'The measured draft threshold.' }) }) }),
    },
    handler: async (req) => service.bulkApprove(req.ctx(), req.params.id, req.body.minConfidence, req.body.force ?? false),
  });

  app.post('/questionnaires/:id/release', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'],
      operationId: 'releaseQuestionnaire',
      summary: "Release a prospect's reviewed questionnaire: they can then download the file of its released answers",
      description:
        "The prospect sees each answer once it is released (approved here, or released at once by the trust page's prospectAutoRelease); " +
        'this lets them download the file through their grant link, holding the released answers with the others left empty. ' +
        'A questionnaire the organization imported itself is a 422.',
      params: QuestionnaireIdParam,
      response: withProblems({
        200: Type.Object(
          { id: Type.String(), releasedAt: Timestamp },
          { examples: [{ id: EXAMPLE_QUESTIONNAIRE_ID, releasedAt: '2026-10-02T14:20:00.000Z' }] },
        ),
      }),
    },
    handler: async (req) => service.releaseToProspect(req.ctx(), req.params.id),
  });

  app.get('/questionnaires/:id/export', {
    schema: {
      tags: ['questionnaires'],
      operationId: 'exportQuestionnaire',
      summary: "The filled questionnaire: XLSX written into the buyer's own workbook (only answer cells change), CSV or JSON",
      params: QuestionnaireIdParam,
      description:
        '`only=approved` writes approved answers only. By default drafted answers are written too and marked as unreviewed (a comment "Unreviewed draft."), and answers waiting for review leave the answer cell empty with the draft and its reason in the comment column. `format=vsaq` (VSAQ imports) answers in VSAQ\'s own format, which its tool loads back.',
      querystring: Type.Object({
        format: Type.Optional(
          Type.Enum(['xlsx', 'csv', 'json', 'vsaq'], {
            default: 'json',
            description: "xlsx: the buyer's own workbook when the questionnaire came from one, else a new workbook; vsaq: VSAQ imports only (else 400).",
            examples: ['xlsx'],
          }),
        ),
        only: Type.Optional(Type.Enum(['approved'], { description: 'Only approved answers.' })),
      }),
      response: withProblems({
        200: {
          description: 'The file',
          content: {
            'application/json': { schema: QuestionnaireExport },
            'text/csv': { schema: Type.String() },
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: Type.String({ format: 'binary' }) },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      const { questionnaire, questions } = await service.exportData(req.ctx(), req.params.id);
      const format = req.query.format ?? 'json';
      const scope = req.query.only === 'approved' ? 'approved' : 'all';
      const base = (questionnaire.sourceFileName ?? questionnaire.name).replace(/\.[a-z0-9]+$/i, '').replace(/[^\w.\- ]+/g, '_');
      reply.header('cache-control', 'no-store');
      if (format === 'json') {
        const full = await service.wholeQuestionnaire(req.ctx(), req.params.id, scope === 'approved' ? { status: 'approved' } : {});
        return reply.type(CONTENT_TYPES.json).send({ id: full.id, name: full.name, questions: full.questions });
      }
      if (format === 'vsaq') {
        if (questionnaire.format !== 'vsaq')
          throw badRequest('format=vsaq is for questionnaires imported from a VSAQ template', [
            { field: '/format', message: 'the questionnaire is not a VSAQ import' },
          ]);
        reply.header('content-disposition', `attachment; filename="${base}-answers.json"`);
        return reply.type(CONTENT_TYPES.json).send(exportVsaq(questions, scope));
      }
      reply.header('content-disposition', `attachment; filename="${base}-answered.${format}"`);
      if (format === 'csv') return reply.type(CONTENT_TYPES.csv).send(exportCsv(questions, scope));
      return reply.type(CONTENT_TYPES.xlsx).send(await exportXlsx(blobs, questionnaire, questions, scope));
    },
  });
};
