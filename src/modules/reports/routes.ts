import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { withProblems, Nullable } from '../../lib/schemas.js';
import { CONTROL_STATUSES, RESPONSIBILITIES } from '../controls/index.js';
import { soc2Coverage } from './soc2.js';
import { iso27017Readiness } from './iso27017.js';
import { MATRIX_COLUMNS, responsibilityMatrix } from './responsibility.js';
import { CONTENT_TYPES, toCsv, toXlsx } from '../../lib/tabular.js';

const GENERATED = '2026-06-04T09:30:00.000Z';

const Soc2Criterion = Type.Object(
  {
    criterion: Type.String(),
    title: Type.String(),
    group: Nullable(Type.String()),
    groupName: Nullable(Type.String()),
    coverage: Type.Number({ minimum: 0, maximum: 1 }),
    controls: Type.Array(
      Type.Object({
        ref: Type.String(),
        title: Nullable(Type.String()),
        strength: Type.String(),
        sources: Type.Array(Type.String()),
        status: Nullable(Type.Enum(CONTROL_STATUSES)),
        applicable: Nullable(Type.Boolean()),
        evidence: Type.Object({ current: Type.Integer(), expired: Type.Integer() }),
      }),
    ),
    expiredEvidence: Type.Array(Type.String(), { description: 'Linked controls whose only evidence has expired.' }),
  },
  { $id: 'Soc2Criterion', description: 'One SOC 2 criterion: the ISO/IEC 27001 controls linked to it, their status and evidence, and its coverage.' },
);

const SOC2_CRITERION_EXAMPLE = {
  criterion: 'CC6.1',
  title: 'Logical access security architecture',
  group: 'CC6',
  groupName: 'Logical and Physical Access Controls',
  coverage: 0.83,
  controls: [
    {
      ref: 'A.8.5',
      title: 'Secure authentication',
      strength: 'strong',
      sources: ['csa-ccm', 'scf-strm', 'intuitem-ccf'],
      status: 'implemented',
      applicable: true,
      evidence: { current: 2, expired: 0 },
    },
    {
      ref: 'A.5.15',
      title: 'Access control',
      strength: 'moderate',
      sources: ['csa-ccm', 'scf-strm'],
      status: 'partially_implemented',
      applicable: true,
      evidence: { current: 1, expired: 1 },
    },
  ],
  expiredEvidence: [],
};

const Soc2Coverage = Type.Object(
  {
    framework: Type.String(),
    rule: Type.String(),
    summary: Type.Object({ criteria: Type.Integer(), covered: Type.Integer(), partial: Type.Integer(), uncovered: Type.Integer(), unmapped: Type.Integer() }),
    criteria: Type.Array(Soc2Criterion),
  },
  {
    $id: 'Soc2Coverage',
    description: 'SOC 2 coverage computed from your ISO/IEC 27001 answers through the crosswalk; `rule` states how.',
    examples: [
      {
        framework: 'soc2-2017',
        rule: 'For each criterion, the ISO/IEC 27001:2022 Annex A controls linked to it by the crosswalk are weighted by link strength ...',
        summary: { criteria: 61, covered: 38, partial: 17, uncovered: 4, unmapped: 2 },
        criteria: [SOC2_CRITERION_EXAMPLE],
      },
    ],
  },
);

const ReadinessCounts = Type.Object({
  total: Type.Integer(),
  answered: Type.Integer(),
  implemented: Type.Integer(),
  evidenced: Type.Integer(),
  ready: Type.Integer(),
});
const Iso27017ReadinessItem = Type.Object(
  {
    ref: Type.String(),
    kind: Type.String(),
    title: Type.String(),
    mapsTo: Type.Array(Type.String()),
    guidanceFor: Type.Array(Type.Enum(['provider', 'customer']), {
      description: 'The sides the standard gives implementation guidance to; a one-sided cloud-guidance item names one.',
    }),
    expectedEvidence: Type.Array(Type.String()),
    answered: Type.Boolean(),
    excluded: Type.Boolean(),
    implemented: Type.Boolean(),
    evidenced: Type.Boolean(),
    ready: Type.Boolean(),
    gaps: Type.Array(Type.String()),
    basis: Type.Array(
      Type.Object({
        framework: Type.String(),
        ref: Type.String(),
        status: Nullable(Type.String()),
        applicable: Nullable(Type.Boolean()),
        responsibility: Nullable(Type.String()),
        evidence: Type.Object({ current: Type.Integer(), expired: Type.Integer() }),
      }),
    ),
  },
  {
    $id: 'Iso27017ReadinessItem',
    description: 'One CLD control or cloud-guidance item: whether it is answered, implemented, evidenced and ready, and what is missing.',
  },
);

const Iso27017Readiness = Type.Object(
  {
    generatedAt: Type.String(),
    rule: Type.String(),
    summary: Type.Object({ cloudControls: ReadinessCounts, cloudGuidance: ReadinessCounts }),
    items: Type.Array(Iso27017ReadinessItem),
  },
  {
    $id: 'Iso27017Readiness',
    description: 'ISO/IEC 27017 readiness: the seven CLD controls and the cloud-guidance items, each with its gaps; `rule` states when an item is ready.',
    examples: [
      {
        generatedAt: GENERATED,
        rule: 'A CLD control is ready when answered, implemented (or excluded with a justification), backed by current (unexpired) evidence ...',
        summary: {
          cloudControls: { total: 7, answered: 6, implemented: 5, evidenced: 4, ready: 4 },
          cloudGuidance: { total: 37, answered: 30, implemented: 27, evidenced: 22, ready: 20 },
        },
        items: [
          {
            ref: 'CLD.6.3.1',
            kind: 'cloud_control',
            title: 'Shared roles and responsibilities within a cloud computing environment',
            mapsTo: [],
            guidanceFor: ['provider', 'customer'],
            expectedEvidence: ['RACI / shared-responsibility matrix for each cloud service and service model, published to customers'],
            answered: true,
            excluded: false,
            implemented: true,
            evidenced: false,
            ready: false,
            gaps: ['no current evidence'],
            basis: [
              {
                framework: 'iso27017-2015',
                ref: 'CLD.6.3.1',
                status: 'implemented',
                applicable: true,
                responsibility: 'shared',
                evidence: { current: 0, expired: 1 },
              },
            ],
          },
        ],
      },
    ],
  },
);

const MatrixRow = Type.Object(
  {
    framework: Type.String(),
    ref: Type.String(),
    title: Type.String(),
    responsibility: Nullable(Type.Enum(RESPONSIBILITIES)),
    provider: Type.String({ description: 'RACI letters for the provider (empty while unanswered).' }),
    customer: Type.String({ description: 'RACI letters for the customer.' }),
    providerStatement: Nullable(Type.String()),
    customerStatement: Nullable(Type.String()),
    status: Nullable(Type.String()),
    evidenceCurrent: Type.Integer(),
    evidenceExpired: Type.Integer(),
  },
  { $id: 'ResponsibilityMatrixRow', description: 'Who does what for one applicable control (unanswered controls have blank RACI cells).' },
);

const ResponsibilityMatrix = Type.Object(
  {
    generatedAt: Type.String(),
    legend: Type.Record(Type.String(), Type.String()),
    summary: Type.Object({ provider: Type.Integer(), customer: Type.Integer(), shared: Type.Integer(), unanswered: Type.Integer() }),
    rows: Type.Array(MatrixRow),
  },
  {
    $id: 'ResponsibilityMatrix',
    description: 'The shared-responsibility (RACI) matrix of CLD.6.3.1 over the Annex A and CLD controls.',
    examples: [
      {
        generatedAt: GENERATED,
        legend: { R: 'responsible: does the work', A: 'accountable: answers for it', C: 'consulted', I: 'informed' },
        summary: { provider: 61, customer: 4, shared: 21, unanswered: 8 },
        rows: [
          {
            framework: 'iso27001-2022',
            ref: 'A.8.5',
            title: 'Secure authentication',
            responsibility: 'shared',
            provider: 'R,A (own side)',
            customer: 'R,A (own side)',
            providerStatement: 'We enforce MFA for every workforce and administrator account.',
            customerStatement: 'Customers enable SSO or MFA for their own users.',
            status: 'implemented',
            evidenceCurrent: 2,
            evidenceExpired: 0,
          },
        ],
      },
    ],
  },
);

export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/reports/soc2', {
    schema: {
      tags: ['reports'],
      operationId: 'getSoc2Coverage',
      summary: 'SOC 2 coverage: for each of the 61 criteria, the linked ISO 27001 controls, their status, and a coverage number (rule included in the answer)',
      description:
        'Computed at request time from your control answers, your crosswalk overrides and your evidence; nothing is entered twice. Controls marked not applicable are left out of a criterion; expired evidence is counted apart so it shows.',
      response: withProblems({ 200: Soc2Coverage }),
    },
    handler: async (req) => soc2Coverage(req.ctx()),
  });

  app.get('/reports/iso27017-readiness', {
    schema: {
      tags: ['reports'],
      operationId: 'getIso27017Readiness',
      summary: 'ISO/IEC 27017 readiness: each CLD control and cloud-guidance item answered, implemented, evidenced, with its gaps',
      description:
        'Computed at request time from your answers and evidence. A cloud-guidance item is judged through the ISO/IEC 27001:2022 controls it maps to (`basis`); `gaps` says in words what keeps an item from being ready.',
      response: withProblems({ 200: Iso27017Readiness }),
    },
    handler: async (req) => iso27017Readiness(req.ctx()),
  });

  app.get('/reports/responsibility-matrix', {
    schema: {
      tags: ['reports'],
      operationId: 'getResponsibilityMatrix',
      summary: 'The shared-responsibility (RACI) matrix of CLD.6.3.1: who does what for every control, as JSON, CSV or XLSX',
      description:
        "One row per applicable ISO/IEC 27001:2022 Annex A and ISO/IEC 27017 CLD control (not-applicable ones are left out, unanswered ones have blank RACI cells), with both sides' statements and evidence counts. `format=csv` and `format=xlsx` are downloads named responsibility-matrix-<yyyy-mm-dd>.<ext>.",
      querystring: Type.Object({ format: Type.Optional(Type.Enum(['json', 'csv', 'xlsx'], { default: 'json' })) }),
      response: withProblems({
        200: {
          description: 'The matrix: JSON, or a CSV or XLSX attachment.',
          content: {
            'application/json': { schema: ResponsibilityMatrix },
            'text/csv': { schema: Type.String() },
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: Type.String({ format: 'binary' }) },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      const matrix = await responsibilityMatrix(req.ctx());
      const format = req.query.format ?? 'json';
      if (format === 'json') return reply.type(CONTENT_TYPES.json).send(matrix);
      const stamp = matrix.generatedAt.slice(0, 10);
      reply.header('content-disposition', `attachment; filename="responsibility-matrix-${stamp}.${format}"`);
      if (format === 'csv') return reply.type(CONTENT_TYPES.csv).send(toCsv(MATRIX_COLUMNS, matrix.rows));
      return reply.type(CONTENT_TYPES.xlsx).send(
        await toXlsx('Responsibility matrix', MATRIX_COLUMNS, matrix.rows, {
          generatedAt: matrix.generatedAt,
          legend: 'R responsible, A accountable, C consulted, I informed',
        }),
      );
    },
  });
};
