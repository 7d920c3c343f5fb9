import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { withProblems, Nullable } from '../../lib/schemas.js';
import { CONTROL_STATUSES } from '../controls/tables.js';
import { soc2Coverage } from './soc2.js';
import { iso27017Readiness } from './iso27017.js';
import { MATRIX_COLUMNS, responsibilityMatrix } from './responsibility.js';
import { CONTENT_TYPES, toCsv, toXlsx } from '../../lib/tabular.js';
import { RESPONSIBILITIES } from '../controls/tables.js';

export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/reports/soc2', {
    schema: {
      tags: ['reports'], operationId: 'getSoc2Coverage',
      summary: 'SOC 2 coverage: for each of the 61 criteria, the linked ISO 27001 controls, their status, and a coverage number (rule included in the answer)',
      response: withProblems({
        200: Type.Object({
          framework: Type.String(),
          rule: Type.String(),
          summary: Type.Object({ criteria: Type.Integer(), covered: Type.Integer(), partial: Type.Integer(), uncovered: Type.Integer(), unmapped: Type.Integer() }),
          criteria: Type.Array(Type.Object({
            criterion: Type.String(),
            title: Type.String(),
            group: Nullable(Type.String()),
            groupName: Nullable(Type.String()),
            coverage: Type.Number({ minimum: 0, maximum: 1 }),
            controls: Type.Array(Type.Object({
              ref: Type.String(), title: Nullable(Type.String()), strength: Type.String(), sources: Type.Array(Type.String()),
              status: Nullable(Type.Enum(CONTROL_STATUSES)), applicable: Nullable(Type.Boolean()),
              evidence: Type.Object({ current: Type.Integer(), expired: Type.Integer() }),
            })),
            expiredEvidence: Type.Array(Type.String(), { description: 'Linked controls whose only evidence has expired.' }),
          })),
        }),
      }),
    },
    handler: async (req) => soc2Coverage(req.ctx()),
  });

  app.get('/reports/iso27017-readiness', {
    schema: {
      tags: ['reports'], operationId: 'getIso27017Readiness',
      summary: 'ISO/IEC 27017 readiness: each CLD control and cloud-guidance item answered, implemented, evidenced, with its gaps',
      response: withProblems({
        200: Type.Object({
          generatedAt: Type.String(),
          rule: Type.String(),
          summary: Type.Object({
            cloudControls: Type.Object({ total: Type.Integer(), answered: Type.Integer(), implemented: Type.Integer(), evidenced: Type.Integer(), ready: Type.Integer() }),
            cloudGuidance: Type.Object({ total: Type.Integer(), answered: Type.Integer(), implemented: Type.Integer(), evidenced: Type.Integer(), ready: Type.Integer() }),
          }),
          items: Type.Array(Type.Object({
            ref: Type.String(), kind: Type.String(), title: Type.String(), mapsTo: Type.Array(Type.String()),
            guidanceFor: Type.Array(Type.Enum(['provider', 'customer']), { description: 'The sides the standard gives implementation guidance to; a one-sided cloud-guidance item names one.' }),
            expectedEvidence: Type.Array(Type.String()),
            answered: Type.Boolean(), excluded: Type.Boolean(), implemented: Type.Boolean(), evidenced: Type.Boolean(), ready: Type.Boolean(),
            gaps: Type.Array(Type.String()),
            basis: Type.Array(Type.Object({
              framework: Type.String(), ref: Type.String(), status: Nullable(Type.String()), applicable: Nullable(Type.Boolean()),
              responsibility: Nullable(Type.String()), evidence: Type.Object({ current: Type.Integer(), expired: Type.Integer() }),
            })),
          })),
        }),
      }),
    },
    handler: async (req) => iso27017Readiness(req.ctx()),
  });

  app.get('/reports/responsibility-matrix', {
    schema: {
      tags: ['reports'], operationId: 'getResponsibilityMatrix',
      summary: 'The shared-responsibility (RACI) matrix of CLD.6.3.1: who does what for every control, as JSON, CSV or XLSX',
      querystring: Type.Object({ format: Type.Optional(Type.Enum(['json', 'csv', 'xlsx'], { default: 'json' })) }),
      response: withProblems({
        200: {
          description: 'The matrix',
          content: {
            'application/json': {
              schema: Type.Object({
                generatedAt: Type.String(),
                legend: Type.Record(Type.String(), Type.String()),
                summary: Type.Object({ provider: Type.Integer(), customer: Type.Integer(), shared: Type.Integer(), unanswered: Type.Integer() }),
                rows: Type.Array(Type.Object({
                  framework: Type.String(), ref: Type.String(), title: Type.String(), responsibility: Nullable(Type.Enum(RESPONSIBILITIES)),
                  provider: Type.String(), customer: Type.String(), providerStatement: Nullable(Type.String()), customerStatement: Nullable(Type.String()),
                  status: Nullable(Type.String()),
                  evidenceCurrent: Type.Integer(), evidenceExpired: Type.Integer(),
                })),
              }),
            },
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
      return reply.type(CONTENT_TYPES.xlsx).send(await toXlsx('Responsibility matrix', MATRIX_COLUMNS, matrix.rows, { generatedAt: matrix.generatedAt, legend: 'R responsible, A accountable, C consulted, I informed' }));
    },
  });
};
