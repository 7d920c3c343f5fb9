import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParam, Timestamp, withProblems } from '../../lib/schemas.js';
import { PageQuery, pageOf } from '../../lib/pagination.js';
import { CERTIFICATION_KINDS } from './tables.js';
import * as certs from './service.js';

const VISIBILITIES = ['public', 'internal'] as const;

/** A date-time with an offset (RFC 3339), or a plain date read as 00:00 UTC. */
const DateInput = Type.Union([Type.String({ format: 'date-time' }), Type.String({ format: 'date' })], {
  description: 'RFC 3339 date-time with an offset (`2026-01-15T00:00:00Z`) or a plain date (`2026-01-15`, read as 00:00 UTC).',
});
const NullableDate = (description: string) => Type.Optional(Type.Union([DateInput, Type.Null()], { description }));
const NullableText = (max: number, description?: string) =>
  Type.Optional(Type.Union([Type.String({ maxLength: max }), Type.Null()], description ? { description } : {}));

const SurveillanceAuditInput = Type.Object({
  dueAt: DateInput,
  completedAt: Type.Optional(Type.Union([DateInput, Type.Null()])),
});

const Kind = Type.Enum(CERTIFICATION_KINDS, { description: 'iso27001 (certificate), soc2_type1 / soc2_type2 (attestation reports), or other.' });
const Name = Type.String({ minLength: 1, maxLength: 200, description: 'e.g. "ISO/IEC 27001:2022 certificate".' });

const InputFields = {
  issuer: NullableText(200, 'Certification body or audit firm.'),
  scope: NullableText(5000),
  certificateNumber: NullableText(200),
  includesIso27017: Type.Optional(Type.Boolean({ description: 'ISO/IEC 27017 controls are within the certificate\'s scope (iso27001 only).' })),
  issuedAt: NullableDate('Issue date (required for iso27001; for SOC 2, the report date).'),
  expiresAt: NullableDate('Expiry; for iso27001 defaults to issuedAt + 3 years - 1 day.'),
  periodStart: NullableDate('SOC 2 Type 2: start of the period of examination (required).'),
  periodEnd: NullableDate('SOC 2: end of the period (Type 2) or the "as of" date (Type 1); required for both.'),
  surveillanceAudits: Type.Optional(Type.Union([Type.Array(SurveillanceAuditInput, { maxItems: 20 }), Type.Null()], {
    description: 'iso27001 only; when empty, the two annual audits due 1 and 2 years after issue are generated.',
  })),
  evidenceId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'The certificate or report as evidence of this organization.' })),
};

const CreateBody = Type.Object({
  kind: Kind,
  name: Name,
  ...InputFields,
  visibility: Type.Optional(Type.Enum(VISIBILITIES, { default: 'internal' })),
});

const PatchBody = Type.Object({
  kind: Type.Optional(Kind),
  name: Type.Optional(Name),
  ...InputFields,
  visibility: Type.Optional(Type.Enum(VISIBILITIES)),
});

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const Certification = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.Enum(CERTIFICATION_KINDS),
  name: Type.String(),
  issuer: NullableString,
  scope: NullableString,
  certificateNumber: NullableString,
  includesIso27017: Type.Boolean(),
  issuedAt: NullableTimestamp,
  expiresAt: NullableTimestamp,
  periodStart: NullableTimestamp,
  periodEnd: NullableTimestamp,
  surveillanceAudits: Type.Array(Type.Object({ dueAt: Timestamp, completedAt: NullableTimestamp })),
  evidenceId: NullableString,
  visibility: Type.Enum(VISIBILITIES),
  status: Type.Enum(certs.CERTIFICATION_STATUSES, { description: 'Computed from the dates at request time: valid, due_soon, stale (e.g. missed surveillance audit, SOC 2 report needing a bridge letter) or expired.' }),
  statusReason: Type.String({ description: 'Why the status is what it is, in one sentence.' }),
  nextAuditDueAt: Type.Union([Timestamp, Type.Null()], { description: 'iso27001: the next uncompleted surveillance audit, else the recertification (by expiry); null for other kinds.' }),
  createdBy: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { description: 'A certificate or attestation report with its computed status.' });

export const certificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/certifications', {
    config: { role: 'editor' },
    schema: {
      tags: ['certifications'], operationId: 'createCertification',
      summary: 'Record a certificate or attestation report (ISO/IEC 27001 defaults: 3-year expiry and two annual surveillance audits)',
      body: CreateBody,
      response: withProblems({ 201: Certification }),
    },
    handler: async (req, reply) => {
      const view = await certs.createCertification(req.ctx(), req.body);
      return reply.code(201).send(view);
    },
  });

  app.get('/certifications', {
    schema: {
      tags: ['certifications'], operationId: 'listCertifications', summary: 'The organization\'s certifications and reports, newest first, with computed status',
      querystring: PageQuery,
      response: withProblems({ 200: pageOf(Certification) }),
    },
    handler: async (req) => certs.listCertifications(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.get('/certifications/:id', {
    schema: {
      tags: ['certifications'], operationId: 'getCertification', summary: 'One certification or report with its computed status',
      params: IdParam,
      response: withProblems({ 200: Certification }),
    },
    handler: async (req) => certs.getCertification(req.ctx(), req.params.id),
  });

  app.patch('/certifications/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['certifications'], operationId: 'updateCertification',
      summary: 'Change some fields (null clears one); the merged record is validated again',
      params: IdParam,
      body: PatchBody,
      response: withProblems({ 200: Certification }),
    },
    handler: async (req) => certs.updateCertification(req.ctx(), req.params.id, req.body),
  });

  app.delete('/certifications/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['certifications'], operationId: 'deleteCertification', summary: 'Delete a certification or report',
      params: IdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await certs.deleteCertification(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
