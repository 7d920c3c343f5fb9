import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery, pageOf } from '../../lib/pagination.js';
import { Timestamp, withProblems } from '../../lib/schemas.js';
import { listAuditEvents } from './service.js';

const AuditEvent = Type.Object(
  {
    id: Type.String(),
    actor: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
    action: Type.String({ description: 'e.g. `member.added`, `api_key.revoked`' }),
    target: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
    requestId: Type.Union([Type.String(), Type.Null()]),
    summary: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Timestamp,
  },
  {
    $id: 'AuditEvent',
    description: 'One entry of the append-only audit log: who did what to which object, when, in which request.',
    examples: [
      {
        id: '0197a5c2-5b1f-7c3d-9f00-2a4b6c8d0e20',
        actor: { type: 'user', id: '0197a4a0-0b1c-7d2e-8f30-415263748596' },
        action: 'api_key.created',
        target: { type: 'api_key', id: '0197a4c2-2d3e-7f40-8152-637485960718' },
        requestId: '0197a5c2-5b1e-7c3d-9f00-2a4b6c8d0e1f',
        summary: { name: 'GRC sync', role: 'editor' },
        createdAt: '2026-05-20T14:00:00.000Z',
      },
    ],
  },
);

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/audit-events', {
    config: { role: 'admin' },
    schema: {
      tags: ['audit'],
      operationId: 'listAuditEvents',
      summary: "The organization's append-only audit log, newest first",
      description:
        'Every recorded change in the organization (members, keys, answers, evidence, documents, grants, webhooks), newest first, filtered by target, actor or action. Entries are never changed or deleted.',
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
