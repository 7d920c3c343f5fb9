import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { PageQuery } from '../../lib/pagination.js';
import { IdParam, Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import type { BlobStore } from '../../lib/storage.js';
import { CONTENT_TYPES } from '../../lib/tabular.js';
import { discardBlob } from '../blobs/service.js';
import { readQuestionnaireUpload } from './upload.js';
import { exportCsv, exportVsaq, exportXlsx } from './export.js';
import { badRequest } from '../../lib/errors.js';
import { ANSWER_STATUSES, CHOICES, QUESTIONNAIRE_STATUSES } from './tables.js';
import * as service from './service.js';
import { GAP_RULE, questionnaireGaps } from './gaps.js';

export const Answer = Type.Object({
  choice: Nullable(Type.String({ description: 'yes, no, partial or n/a; when the question has allowed answers (a dropdown, VSAQ options), one of them verbatim. Null: an open question, or not settled by the sources.' })),
  text: Nullable(Type.String()),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  status: Type.Enum(ANSWER_STATUSES),
  sources: Type.Array(Type.Object({
    kind: Type.Enum(['control', 'library', 'evidence', 'fact', 'document']),
    framework: Type.Optional(Type.String()), ref: Type.Optional(Type.String()), id: Type.Optional(Type.String()),
    key: Type.Optional(Type.String({ description: 'The profile fact key, for kind fact.' })),
    version: Type.Optional(Type.Integer({ description: 'The version of the control answer, library entry, fact, document or evidence drawn from: a later version makes the answer stale.' })),
    score: Type.Optional(Type.Number()),
    title: Type.Optional(Type.String({ description: 'Documents and evidence files quoted: the title.' })),
    page: Type.Optional(Type.Integer({ description: 'The PDF page of the quoted passage.' })),
    heading: Type.Optional(Type.String({ description: 'The heading the quoted passage sits under (DOCX, Markdown, HTML).' })),
  }), { description: 'Best first: the controls, library entries, facts, documents and evidence the answer comes from.' }),
  reviewReason: Type.Optional(Nullable(Type.String({ description: 'Why the answer waits for a person: what the sources did not settle.' }))),
  stale: Type.Optional(Type.Boolean({ description: 'A source changed or expired since the answer was written or reviewed.' })),
  staleReasons: Type.Optional(Type.Array(Type.String())),
});

const Question = Type.Object({
  id: Type.String(), ref: Nullable(Type.String()), text: Type.String(), section: Nullable(Type.String()),
  sheet: Nullable(Type.String()), row: Nullable(Type.Integer()), allowedAnswers: Nullable(Type.Array(Type.String())),
  answer: Nullable(Answer),
});

const Summary = Type.Object({
  id: Type.String(), name: Type.String(), format: Type.String(), status: Type.Enum(QUESTIONNAIRE_STATUSES), questionCount: Type.Integer(),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }), createdAt: Timestamp, filledAt: Nullable(Timestamp),
});

const JsonImport = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 300 }),
  questions: Type.Array(Type.Object({
    ref: Type.Optional(Type.String({ maxLength: 100 })),
    text: Type.String({ minLength: 1, maxLength: 5000 }),
    section: Type.Optional(Type.String({ maxLength: 300 })),
    allowedAnswers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100, description: 'The answers the buyer allows (a dropdown list): the choice will be one of them verbatim.' })),
  }), { minItems: 1, maxItems: 5000 }),
});

export const JsonImportSchema = JsonImport;

export const questionnaireRoutes: FastifyPluginAsyncTypebox<{ config: Config; blobs: BlobStore }> = async (app, { config, blobs }) => {
  await app.register(multipart, { limits: { fileSize: config.limits.uploadBytes, files: 1 } });

  app.post('/questionnaires', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'], operationId: 'importQuestionnaire',
      summary: 'Import a questionnaire: JSON {name, questions}, or a file (XLSX, CSV, JSON, VSAQ) whose layout is detected',
      description: 'multipart/form-data: `file`, optional `name`, optional `mapping` (JSON: sheet, headerRow, questionColumn, idColumn, sectionColumn, answerColumns) to correct the detection.',
      body: { content: { 'application/json': { schema: JsonImport } } } as never,
      response: withProblems({
        201: Type.Object({ id: Type.String(), name: Type.String(), questionCount: Type.Integer(), format: Type.String(), status: Type.String(), warnings: Type.Array(Type.String()) }),
      }),
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
      tags: ['questionnaires'], operationId: 'listQuestionnaires', summary: 'Questionnaires, newest first', querystring: PageQuery,
      response: withProblems({ 200: Type.Object({ items: Type.Array(Summary), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => service.listQuestionnaires(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.get('/questionnaires/:id', {
    schema: {
      tags: ['questionnaires'], operationId: 'getQuestionnaire', summary: 'A questionnaire with its progress and one page of its questions and answers',
      description: 'The summary (status, progress) comes first on every page; `questions` holds up to `limit` questions in questionnaire order, and `nextCursor` continues with the same filters.',
      params: IdParam,
      querystring: Type.Object({
        status: Type.Optional(Type.Enum([...ANSWER_STATUSES, 'unanswered'], { description: 'Only questions whose answer has this status.' })),
        stale: Type.Optional(Type.Boolean({ description: 'Only answers whose sources changed or expired (true), or the others (false).' })),
        ...PageQuery.properties,
      }),
      response: withProblems({ 200: Type.Object({ ...Summary.properties, questions: Type.Array(Question), nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page of questions; null on the last page.' })) }) }),
    },
    handler: async (req) => {
      const { limit, cursor, ...filter } = req.query;
      return service.getQuestionnaire(req.ctx(), req.params.id, filter, { limit: limit ?? 50, cursor });
    },
  });

  app.get('/questionnaires/:id/gaps', {
    schema: {
      tags: ['questionnaires'], operationId: 'listQuestionnaireGaps',
      summary: 'The questions no source could answer, grouped by topic: what to add to the SoA, profile or library',
      description: GAP_RULE,
      params: IdParam,
      response: withProblems({
        200: Type.Object({
          questionnaireId: Type.String(),
          total: Type.Integer({ description: 'Gaps in all groups.' }),
          unfilled: Type.Integer({ description: 'Questions no fill has answered yet (not counted as gaps).' }),
          groups: Type.Array(Type.Object({
            topic: Type.String(),
            from: Type.Enum(['section', 'control', 'none'], { description: 'Where the topic comes from: the buyer\'s section, the best candidate control, or none ("Unsorted").' }),
            control: Nullable(Type.Object({ framework: Type.String(), ref: Type.String() })),
            questions: Type.Array(Type.Object({ id: Type.String(), ref: Nullable(Type.String()), text: Type.String(), reason: Type.String() })),
          }), { description: 'In questionnaire order of their first question; "Unsorted" last.' }),
        }),
      }),
    },
    handler: async (req) => questionnaireGaps(req.ctx(), req.params.id),
  });

  app.get('/review-queue', {
    schema: {
      tags: ['questionnaires'], operationId: 'listReviewQueue',
      summary: 'Answers waiting for a person across all questionnaires (needs_review), oldest questionnaire first',
      querystring: PageQuery,
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Type.Object({
            questionnaire: Type.Object({ id: Type.String(), name: Type.String(), origin: Type.Enum(['vendor', 'prospect']) }),
            question: Question,
          })),
          nextCursor: Nullable(Type.String()),
        }),
      }),
    },
    handler: async (req) => service.reviewQueue(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.delete('/questionnaires/:id', {
    config: { role: 'editor' },
    schema: { tags: ['questionnaires'], operationId: 'deleteQuestionnaire', summary: 'Delete a questionnaire and its answers', params: IdParam, response: withProblems({ 204: Type.Null() }) },
    handler: async (req, reply) => {
      await service.deleteQuestionnaire(req.ctx(), req.params.id, blobs);
      return reply.code(204).send(null);
    },
  });

  app.post('/questionnaires/:id/fill', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'], operationId: 'fillQuestionnaire',
      summary: 'Answer the questionnaire as a durable background job; approved answers are kept; progress shows in GET /questionnaires/{id}',
      params: IdParam,
      response: withProblems({ 202: Type.Object({ id: Type.String({ description: 'The job.' }), status: Type.String(), questionnaireId: Type.String() }) }),
    },
    handler: async (req, reply) => reply.code(202).send(await service.requestFill(req.ctx(), req.params.id)),
  });

  app.patch('/questionnaires/:id/questions/:questionId', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'], operationId: 'reviewAnswer', summary: 'Edit, approve or reject an answer',
      params: Type.Object({ id: Type.String({ format: 'uuid' }), questionId: Type.String({ format: 'uuid' }) }),
      body: Type.Object({
        choice: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 300, description: `One of ${CHOICES.join(', ')}, or one of the question's allowed answers.` }))),
        text: Type.Optional(Nullable(Type.String({ maxLength: 20000 }))),
        status: Type.Optional(Type.Enum(['approved', 'rejected', 'needs_review'])),
      }),
      response: withProblems({ 200: Question }),
    },
    handler: async (req) => service.reviewAnswer(req.ctx(), req.params.id, req.params.questionId, req.body),
  });

  app.post('/questionnaires/:id/approve', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'], operationId: 'bulkApproveAnswers', summary: 'Approve every drafted answer at or above a confidence', params: IdParam,
      description: 'Refused (422) below the measured draft threshold, where answers are right less than 95% of the time, unless `force` is true.',
      body: Type.Object({ minConfidence: Type.Number({ minimum: 0, maximum: 1 }), force: Type.Optional(Type.Boolean({ default: false })) }),
      response: withProblems({ 200: Type.Object({ approved: Type.Integer(), threshold: Type.Number({ description: 'The measured draft threshold.' }) }) }),
    },
    handler: async (req) => service.bulkApprove(req.ctx(), req.params.id, req.body.minConfidence, req.body.force ?? false),
  });

  app.post('/questionnaires/:id/release', {
    config: { role: 'editor' },
    schema: {
      tags: ['questionnaires'], operationId: 'releaseQuestionnaire',
      summary: 'Release a prospect\'s reviewed questionnaire: they then see every approved answer and can download the file',
      params: IdParam,
      response: withProblems({ 200: Type.Object({ id: Type.String(), releasedAt: Timestamp }) }),
    },
    handler: async (req) => service.releaseToProspect(req.ctx(), req.params.id),
  });

  app.get('/questionnaires/:id/export', {
    schema: {
      tags: ['questionnaires'], operationId: 'exportQuestionnaire',
      summary: 'The filled questionnaire: XLSX written into the buyer\'s own workbook (only answer cells change), CSV or JSON',
      params: IdParam,
      description: '`only=approved` writes approved answers only. By default drafted answers are written too and marked as unreviewed (a comment "Unreviewed draft."), and answers waiting for review leave the answer cell empty with the draft and its reason in the comment column. `format=vsaq` (VSAQ imports) answers in VSAQ\'s own format, which its tool loads back.',
      querystring: Type.Object({
        format: Type.Optional(Type.Enum(['xlsx', 'csv', 'json', 'vsaq'], { default: 'json' })),
        only: Type.Optional(Type.Enum(['approved'], { description: 'Only approved answers.' })),
      }),
      response: withProblems({
        200: {
          description: 'The file',
          content: {
            'application/json': { schema: Type.Union([Type.Object({ id: Type.String(), name: Type.String(), questions: Type.Array(Question) }), Type.Record(Type.String(), Type.String(), { description: 'format=vsaq: item or option id -> value' })]) },
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
        if (questionnaire.format !== 'vsaq') throw badRequest('format=vsaq is for questionnaires imported from a VSAQ template', [{ field: '/format', message: 'the questionnaire is not a VSAQ import' }]);
        reply.header('content-disposition', `attachment; filename="${base}-answers.json"`);
        return reply.type(CONTENT_TYPES.json).send(exportVsaq(questions, scope));
      }
      reply.header('content-disposition', `attachment; filename="${base}-answered.${format}"`);
      if (format === 'csv') return reply.type(CONTENT_TYPES.csv).send(exportCsv(questions, scope));
      return reply.type(CONTENT_TYPES.xlsx).send(await exportXlsx(blobs, questionnaire, questions, scope));
    },
  });
};
