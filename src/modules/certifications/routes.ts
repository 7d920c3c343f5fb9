import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Timestamp, withProblems } from '../../lib/schemas.js';
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
  includesIso27017: Type.Optional(Type.Boolean({ description: "ISO/IEC 27017 controls are within the certificate's scope (iso27001 only)." })),
  issuedAt: NullableDate('Issue date (required for iso27001; for SOC 2, the report date).'),
  expiresAt: NullableDate('Expiry; for iso27001 defaults to issuedAt + 3 years - 1 day.'),
  periodStart: NullableDate('SOC 2 Type 2: start of the period of examination (required).'),
  periodEnd: NullableDate('SOC 2: end of the period (Type 2) or the "as of" date (Type 1); required for both.'),
  surveillanceAudits: Type.Optional(
    Type.Union([Type.Array(SurveillanceAuditInput, { maxItems: 20 }), Type.Null()], {
      description: 'iso27001 only; when empty, the two annual audits due 1 and 2 years after issue are generated.',
    }),
  ),
  evidenceId: Type.Optional(
    Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'The certificate or report as evidence of this organization.' }),
  ),
};

const CERT_ID = '0197a603-7283-7495-8a0b-1c2d3e4f5061';

const CreateBody = Type.Object(
  {
    kind: Kind,
    name: Name,
    ...InputFields,
    visibility: Type.Optional(Type.Enum(VISIBILITIES, { default: 'internal' })),
  },
  {
    examples: [
      {
        kind: 'iso27001',
        name: 'ISO/IEC 27001:2022 certificate',
        issuer: 'BSI Group',
        scope: 'Development and operation of the Acme Cloud platform',
        certificateNumber: 'IS 771234',
        includesIso27017: true,
        issuedAt: '2025-08-15',
        visibility: 'public',
      },
    ],
  },
);

const PatchBody = Type.Object(
  {
    kind: Type.Optional(Kind),
    name: Type.Optional(Name),
    ...InputFields,
    visibility: Type.Optional(Type.Enum(VISIBILITIES)),
  },
  {
    examples: [
      {
        surveillanceAudits: [
          { dueAt: '2026-08-15', completedAt: '2026-08-04' },
          { dueAt: '2027-08-15', completedAt: null },
        ],
      },
    ],
  },
);

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const Certification = Type.Object(
  {
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
    status: Type.Enum(certs.CERTIFICATION_STATUSES, {
      description:
        'Computed from the dates at request time: valid, due_soon, stale (e.g. missed surveillance audit, SOC 2 report needing a bridge letter) or expired.',
    }),
    statusReason: Type.String({ description: 'Why the status is what it is, in one sentence.' }),
    nextAuditDueAt: Type.Union([Timestamp, Type.Null()], {
      description: 'iso27001: the next uncompleted surveillance audit, else the recertification (by expiry); null for other kinds.',
    }),
    createdBy: Type.String(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    $id: 'Certification',
    description: 'A certificate or attestation report with its computed status.',
    examples: [
      {
        id: CERT_ID,
        kind: 'iso27001',
        name: 'ISO/IEC 27001:2022 certificate',
        issuer: 'BSI Group',
        scope: 'Development and operation of the Acme Cloud platform',
        certificateNumber: 'IS 771234',
        includesIso27017: true,
        issuedAt: '2025-08-15T00:00:00.000Z',
        expiresAt: '2028-08-14T00:00:00.000Z',
        periodStart: null,
        periodEnd: null,
        surveillanceAudits: [
          { dueAt: '2026-08-15T00:00:00.000Z', completedAt: null },
          { dueAt: '2027-08-15T00:00:00.000Z', completedAt: null },
        ],
        evidenceId: '0197a5f2-6172-7384-9f9a-0b1c2d3e4f50',
        visibility: 'public',
        status: 'due_soon',
        statusReason: 'The next surveillance audit is due on 2026-08-15, within 60 days.',
        nextAuditDueAt: '2026-08-15T00:00:00.000Z',
        createdBy: '0197a4a0-0b1c-7d2e-8f30-415263748596',
        createdAt: '2025-08-20T10:00:00.000Z',
        updatedAt: '2025-08-20T10:00:00.000Z',
      },
    ],
  },
);

const CertificationIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The certification id.', examples: [CERT_ID] }) });

export const certificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/certifications', {
    config: { role: 'editor' },
    schema: {
      tags: ['certifications'],
      operationId: 'createCertification',
      summary: 'Record a certificate or attestation report (ISO/IEC 27001 defaults: 3-year expiry and two annual surveillance audits)',
      description:
        'Stores the record and answers it with its status computed for today. The dates each kind needs are checked together (400 naming each field): an ISO/IEC 27001 certificate needs its issue date, a SOC 2 report its period. Public ones appear on the trust page; the expiry scan emits `certification.expiring` as dates approach.',
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
      tags: ['certifications'],
      operationId: 'listCertifications',
      summary: "The organization's certifications and reports, newest first, with computed status",
      description:
        'Every certificate and report, public and internal, each with its status (valid, due soon, stale or expired) computed at request time from its dates.',
      querystring: PageQuery,
      response: withProblems({ 200: pageOf(Certification) }),
    },
    handler: async (req) => certs.listCertifications(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.get('/certifications/:id', {
    schema: {
      tags: ['certifications'],
      operationId: 'getCertification',
      summary: 'One certification or report with its computed status',
      description:
        "The record with its status computed at request time and the reason for it, and when the next audit is due. Another organization's record is 404.",
      params: CertificationIdParam,
      response: withProblems({ 200: Certification }),
    },
    handler: async (req) => certs.getCertification(req.ctx(), req.params.id),
  });

  app.patch('/certifications/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['certifications'],
      operationId: 'updateCertification',
      summary: 'Change some fields (null clears one); the merged record is validated again',
      description:
        'Applies the fields sent to the stored record and checks the result as on creation (400 naming each field); fields not sent are kept. Marking a surveillance audit completed moves the next audit date on.',
      params: CertificationIdParam,
      body: PatchBody,
      response: withProblems({ 200: Certification }),
    },
    handler: async (req) => certs.updateCertification(req.ctx(), req.params.id, req.body),
  });

  app.delete('/certifications/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['certifications'],
      operationId: 'deleteCertification',
      summary: 'Delete a certification or report',
      description: 'Removes the record; it disappears from the trust page at once. The evidence it pointed to is kept.',
      params: CertificationIdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await certs.deleteCertification(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
