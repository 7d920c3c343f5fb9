import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { withProblems } from '../../lib/schemas.js';
import { CONTROL_STATUSES } from '../controls/tables.js';
import { soc2Coverage } from './soc2.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

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
            })),
          })),
        }),
      }),
    },
    handler: async (req) => soc2Coverage(req.ctx()),
  });
};
