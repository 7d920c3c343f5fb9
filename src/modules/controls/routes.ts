import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../lib/errors.js';
import { Timestamp, withProblems } from '../../lib/schemas.js';
import { CONTROL_STATUSES, RESPONSIBILITIES, VISIBILITIES } from './tables.js';
import * as controls from './service.js';

const Ref = Type.String({
  minLength: 1,
  maxLength: 50,
  description: 'An ISO/IEC 27001:2022 Annex A ref (`A.8.5`) or an ISO/IEC 27017 CLD ref (`CLD.13.1.4`; alias `CLD.15.1.3`).',
  examples: ['A.8.5'],
});
const NullableText = (max: number) => Type.Optional(Type.Union([Type.String({ maxLength: max }), Type.Null()]));

const AnswerFields = {
  applicable: Type.Boolean(),
  status: Type.Enum(CONTROL_STATUSES),
  implementation: Type.String({ maxLength: 20000, description: 'How the control is met, in your words.' }),
  responsibility: Type.Enum(RESPONSIBILITIES, { description: 'Who operates the control in the cloud service: provider, customer, or shared.' }),
};

const Answer = Type.Object(
  {
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
  },
  {
    $id: 'ControlAnswer',
    description: 'How the organization meets one control: the current version of its answer.',
    examples: [
      {
        framework: 'iso27001-2022',
        ref: 'A.8.5',
        title: 'Secure authentication',
        version: 4,
        applicable: true,
        status: 'implemented',
        implementation: 'All staff sign in through Okta with phishing-resistant MFA (WebAuthn); production consoles require SSO and a hardware key.',
        responsibility: 'shared',
        providerStatement: 'We enforce MFA for every workforce and administrator account.',
        customerStatement: 'Customers enable SSO or MFA for their own users in the tenant settings.',
        justification: null,
        owner: 'Head of IT',
        reviewDueAt: '2027-01-31T00:00:00.000Z',
        visibility: 'public',
        publicSummary: 'Multi-factor authentication protects every workforce account.',
        updatedBy: '0197a4a0-0b1c-7d2e-8f30-415263748596',
        updatedAt: '2026-05-30T15:42:10.000Z',
      },
    ],
  },
);

const AnswerVersion = Type.Object(
  {
    version: Type.Integer(),
    changedFields: Type.Array(Type.String()),
    changedBy: Type.String(),
    changedAt: Timestamp,
    requestId: Type.Union([Type.String(), Type.Null()]),
    answer: Type.Record(Type.String(), Type.Unknown(), { description: 'The answer as it was at this version.' }),
  },
  {
    $id: 'ControlAnswerVersion',
    description: 'One version of a control answer: who changed which fields, when, and the answer as it then was.',
    examples: [
      {
        version: 4,
        changedFields: ['status', 'implementation'],
        changedBy: '0197a4a0-0b1c-7d2e-8f30-415263748596',
        changedAt: '2026-05-30T15:42:10.000Z',
        requestId: '0197a5c2-5b1e-7c3d-9f00-2a4b6c8d0e1f',
        answer: { applicable: true, status: 'implemented', responsibility: 'shared' },
      },
    ],
  },
);

/** If-Match: "3" or W/"3" or 3 -> 3. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m)
    throw new DomainError('validation_failed', 'If-Match must be the answer\'s version, e.g. "3"', {
      errors: [{ field: 'headers/if-match', message: 'not a version' }],
    });
  return Number(m[1]);
}

export const controlRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.put('/controls/:ref', {
    config: { role: 'editor' },
    schema: {
      tags: ['controls'],
      operationId: 'putControlAnswer',
      summary:
        'Record how the organization meets a control (a new version each change). Changing an existing answer needs If-Match (or `version`); a stale one is 409.',
      description:
        'Creates or changes the answer as a new version (an identical write makes none) and answers it with its version as ETag. Changing an existing answer without If-Match or `version` is 428; a version that is no longer current is 409 `version_conflict`. A change to what the answer says marks library answers resting on it stale and emits `control.updated`.',
      params: Type.Object({ ref: Ref }),
      headers: Type.Object({
        'if-match': Type.Optional(
          Type.String({ maxLength: 20, description: 'The version you read, as its ETag gave it (`"3"`); needed to change an existing answer.' }),
        ),
      }),
      body: Type.Object(
        {
          ...AnswerFields,
          justification: NullableText(5000),
          providerStatement: NullableText(5000),
          customerStatement: NullableText(5000),
          owner: NullableText(200),
          reviewDueAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
          visibility: Type.Optional(Type.Enum(VISIBILITIES, { default: 'internal' })),
          publicSummary: NullableText(2000),
          version: Type.Optional(Type.Integer({ minimum: 0, description: 'The version you read; alternative to If-Match.' })),
        },
        {
          examples: [
            {
              applicable: true,
              status: 'implemented',
              responsibility: 'shared',
              implementation: 'All staff sign in through Okta with phishing-resistant MFA (WebAuthn); production consoles require SSO and a hardware key.',
              visibility: 'public',
              publicSummary: 'Multi-factor authentication protects every workforce account.',
              version: 3,
            },
          ],
        },
      ),
      response: withProblems({ 200: { ...Answer, description: 'The stored answer (ETag: its version).' } }, ['version_conflict', 'precondition_required']),
    },
    handler: async (req, reply) => {
      const answer = await controls.putControlAnswer(req.ctx(), req.params.ref, req.body, parseIfMatch(req.headers['if-match']));
      reply.header('etag', `"${answer.version}"`);
      return answer;
    },
  });

  app.get('/controls', {
    schema: {
      tags: ['controls'],
      operationId: 'listControlAnswers',
      summary: "The organization's answers (its Statement of Applicability), in catalog order",
      description:
        'The current answers of the organization, ISO/IEC 27001:2022 first, then ISO/IEC 27017, filtered by framework, status or applicability; unanswered controls are not listed (the SoA export lists them).',
      querystring: Type.Object({
        framework: Type.Optional(Type.Enum(['iso27001-2022', 'iso27017-2015'])),
        status: Type.Optional(Type.Enum(CONTROL_STATUSES)),
        applicable: Type.Optional(Type.Boolean()),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 200 })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Answer),
          nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
        }),
      }),
    },
    handler: async (req) => controls.listControlAnswers(req.ctx(), { ...req.query, limit: req.query.limit ?? 200 }),
  });

  app.get('/controls/:ref', {
    schema: {
      tags: ['controls'],
      operationId: 'getControlAnswer',
      summary: "The organization's current answer for one control",
      description:
        'The current version of the answer, with its version as ETag to send back as If-Match when changing it. A control without an answer (or not in the catalog) is 404.',
      params: Type.Object({ ref: Ref }),
      response: withProblems({ 200: { ...Answer, description: 'The current answer (ETag: its version).' } }),
    },
    handler: async (req, reply) => {
      const answer = await controls.getControlAnswer(req.ctx(), req.params.ref);
      reply.header('etag', `"${answer.version}"`);
      return answer;
    },
  });

  app.get('/controls/:ref/history', {
    schema: {
      tags: ['controls'],
      operationId: 'getControlHistory',
      summary: 'Every version of an answer, newest first, with author, time and changed fields',
      description:
        "The append-only history of one control's answer: each version with who changed which fields and when, and the answer as it then was; the request id links a version to the audit log.",
      params: Type.Object({ ref: Ref }),
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(AnswerVersion),
          nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
        }),
      }),
    },
    handler: async (req) => controls.getControlHistory(req.ctx(), req.params.ref, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });
};
