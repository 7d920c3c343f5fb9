import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../lib/errors.js';
import { Timestamp, withProblems } from '../../lib/schemas.js';
import { CONTROL_STATUSES, RESPONSIBILITIES, VISIBILITIES } from './tables.js';
import * as controls from './service.js';

const Ref = Type.String({ minLength: 1, maxLength: 50, description: 'An ISO/IEC 27001:2022 Annex A ref (`A.8.5`) or an ISO/IEC 27017 CLD ref (`CLD.13.1.4`; alias `CLD.15.1.3`).' });
const NullableText = (max: number) => Type.Optional(Type.Union([Type.String({ maxLength: max }), Type.Null()]));

const AnswerFields = {
  applicable: Type.Boolean(),
  status: Type.Enum(CONTROL_STATUSES),
  implementation: Type.String({ maxLength: 20000, description: 'How the control is met, in your words.' }),
  responsibility: Type.Enum(RESPONSIBILITIES, { description: 'Who operates the control in the cloud service: provider, customer, or shared.' }),
};

const Answer = Type.Object({
  framework: Type.String(),
  ref: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer(),
  ...AnswerFields,
  providerStatement: Type.Union([Type.String(), Type.Null()]),
  customerStatement: Type.Union([Type.String(), Type.Null()]),
  justification: Type.Union([Type.String(), Type.Null()]),
  owner: Type.Union([Type.String(), Type.Null()]),
  reviewDueAt: Type.Union([Timestamp, Type.Null()]),
  visibility: Type.Enum(VISIBILITIES),
  publicSummary: Type.Union([Type.String(), Type.Null()]),
  updatedBy: Type.String(),
  updatedAt: Timestamp,
});

/** If-Match: "3" or W/"3" or 3 -> 3. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m) throw new DomainError('validation_failed', 'If-Match must be the answer\'s version, e.g. "3"', { errors: [{ field: 'headers/if-match', message: 'not a version' }] });
  return Number(m[1]);
}

export const controlRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.put('/controls/:ref', {
    config: { role: 'editor' },
    schema: {
      tags: ['controls'], operationId: 'putControlAnswer',
      summary: 'Record how the organization meets a control (a new version each change). Changing an existing answer needs If-Match (or `version`); a stale one is 409.',
      params: Type.Object({ ref: Ref }),
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 20 })) }),
      body: Type.Object({
        ...AnswerFields,
        justification: NullableText(5000),
        providerStatement: NullableText(5000),
        customerStatement: NullableText(5000),
        owner: NullableText(200),
        reviewDueAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
        visibility: Type.Optional(Type.Enum(VISIBILITIES, { default: 'internal' })),
        publicSummary: NullableText(2000),
        version: Type.Optional(Type.Integer({ minimum: 0, description: 'The version you read; alternative to If-Match.' })),
      }),
      response: withProblems({ 200: Answer }),
    },
    handler: async (req, reply) => {
      const answer = await controls.putControlAnswer(req.ctx(), req.params.ref, req.body, parseIfMatch(req.headers['if-match']));
      reply.header('etag', `"${answer.version}"`);
      return answer;
    },
  });

  app.get('/controls', {
    schema: {
      tags: ['controls'], operationId: 'listControlAnswers', summary: 'The organization\'s answers (its Statement of Applicability), in catalog order',
      querystring: Type.Object({
        framework: Type.Optional(Type.Enum(['iso27001-2022', 'iso27017-2015'])),
        status: Type.Optional(Type.Enum(CONTROL_STATUSES)),
        applicable: Type.Optional(Type.Boolean()),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 200 })),
        cursor: Type.Optional(Type.String({ maxLength: 100 })),
      }),
      response: withProblems({ 200: Type.Object({ items: Type.Array(Answer), nextCursor: Type.Union([Type.String(), Type.Null()]) }) }),
    },
    handler: async (req) => controls.listControlAnswers(req.ctx(), { ...req.query, limit: req.query.limit ?? 200 }),
  });

  app.get('/controls/:ref', {
    schema: {
      tags: ['controls'], operationId: 'getControlAnswer', summary: 'The organization\'s current answer for one control',
      params: Type.Object({ ref: Ref }),
      response: withProblems({ 200: Answer }),
    },
    handler: async (req, reply) => {
      const answer = await controls.getControlAnswer(req.ctx(), req.params.ref);
      reply.header('etag', `"${answer.version}"`);
      return answer;
    },
  });

  app.get('/controls/:ref/history', {
    schema: {
      tags: ['controls'], operationId: 'getControlHistory', summary: 'Every version of an answer, newest first, with author, time and changed fields',
      params: Type.Object({ ref: Ref }),
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 20 })),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Type.Object({
            version: Type.Integer(), changedFields: Type.Array(Type.String()), changedBy: Type.String(), changedAt: Timestamp,
            requestId: Type.Union([Type.String(), Type.Null()]), answer: Type.Record(Type.String(), Type.Unknown()),
          })),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
      }),
    },
    handler: async (req) => controls.getControlHistory(req.ctx(), req.params.ref, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });
};
