import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery, pageOf } from '../../lib/pagination.js';
import { Timestamp, withProblems } from '../../lib/schemas.js';
import { listAuditEvents } from './service.js';

const AuditEvent = Type.Object({
  id: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  action: Type.String({ description: 'e.g. `member.added`, `api_key.revoked`' }),
  target: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  requestId: Type.Union([Type.String(), Type.Null()]),
  summary: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Timestamp,
});

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/audit-events', {
    config: { role: 'admin' },
    schema: {
      tags: ['audit'],
      operationId: 'listAuditEvents',
      summary: 'The organization\'s append-only audit log, newest first',
      querystring: Type.Object({
        ...PageQuery.properties,
        targetType: Type.Optional(Type.String({ maxLength: 100 })),
        targetId: Type.Optional(Type.String({ maxLength: 200 })),
        actorId: Type.Optional(Type.String({ maxLength: 200 })),
        action: Type.Optional(Type.String({ maxLength: 100 })),
      }),
      response: withProblems({ 200: pageOf(AuditEvent) }),
    },
    handler: async (req) => listAuditEvents(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });
};
