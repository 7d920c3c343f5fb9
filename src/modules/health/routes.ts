import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../db/client.js';
import { DomainError } from '../../lib/errors.js';
import { withProblems } from '../../lib/schemas.js';
import type { KeyRing } from '../identity/keys.js';

export const healthRoutes: FastifyPluginAsyncTypebox<{ database: Database; keys: KeyRing }> = async (app, { database, keys }) => {
  app.get('/healthz', {
    schema: {
      tags: ['health'], operationId: 'healthz', summary: 'Liveness: the process answers', security: [],
      response: withProblems({ 200: Type.Object({ status: Type.Literal('ok') }) }),
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    schema: {
      tags: ['health'], operationId: 'readyz', summary: 'Readiness: the database answers', security: [],
      response: withProblems({ 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }) }),
    },
    handler: async () => {
      try {
        await database.ping();
      } catch {
        throw new DomainError('service_unavailable', 'database not reachable');
      }
      return { status: 'ready' as const, database: database.kind };
    },
  });

  app.get('/.well-known/jwks.json', {
    schema: {
      tags: ['auth'], operationId: 'jwks', summary: 'Public keys that verify access tokens (JWKS)', security: [],
      response: withProblems({ 200: Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }) }),
    },
    handler: async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return keys.jwks();
    },
  });
};
