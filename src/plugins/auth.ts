import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import { requireRole, scopesOf, type Actor, type Role, type ServiceContext } from '../lib/context.js';
import { DomainError } from '../lib/errors.js';
import { hasScope, requiredScope } from '../lib/scopes.js';
import { authenticate, type IdentityDeps } from '../modules/identity/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes under /api/v1 need a bearer token unless they set `public: true`. */
    public?: boolean;
    /** Least role the route needs; checked before the body is read. */
    role?: Role;
  }
  interface FastifyRequest {
    principal: { orgId: string; actor: Actor } | null;
    /** The service context of an authenticated request. */
    ctx(): ServiceContext;
  }
}

export interface AuthPluginOptions {
  identity: IdentityDeps;
  db: Db;
  clock: Clock;
}

/**
 * Authenticates every /api/v1 request in onRequest, before parsing and validation, so a caller
 * without credentials learns nothing about the body it sent. The organization always comes from
 * the credential, never from the request.
 */
export default fp<AuthPluginOptions>(
  async (app, opts) => {
    app.decorateRequest('principal', null);
    app.decorateRequest('ctx', function (this: FastifyRequest): ServiceContext {
      if (!this.principal) throw new DomainError('unauthenticated', 'authentication required');
      return { orgId: this.principal.orgId, actor: this.principal.actor, requestId: String(this.id), db: opts.db, clock: opts.clock };
    });

    app.addHook('onRequest', async (request) => {
      const config = request.routeOptions.config;
      const guarded = request.routeOptions.url?.startsWith('/api/v1/') && !config.public;
      if (!guarded) return;
      const header = request.headers.authorization;
      const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match) {
        throw new DomainError('unauthenticated', 'send an access token or API key as "Authorization: Bearer <token>"', {
          headers: { 'www-authenticate': 'Bearer realm="api"' },
        });
      }
      try {
        request.principal = await authenticate(opts.identity, match[1]!);
      } catch (err) {
        if (err instanceof DomainError) {
          err.extras.headers = { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' };
        }
        throw err;
      }
      if (config.role) requireRole(request.principal.actor, config.role);
      const granted = scopesOf(request.principal.actor);
      if (granted) {
        const tags = (request.routeOptions.schema as { tags?: string[] } | undefined)?.tags;
        const needed = requiredScope(tags?.[0], request.method);
        if (needed && !hasScope(granted, needed)) {
          throw new DomainError('forbidden', `this API key lacks the scope ${needed}`);
        }
      }
    });
  },
  { name: 'auth', dependencies: ['errors'] },
);
