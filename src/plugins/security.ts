import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { actorKey } from '../lib/context.js';
import { DomainError } from '../lib/errors.js';

export interface SecurityOptions {
  /** Requests a minute per credential (organization and actor) on every authenticated /api/v1 route. */
  apiPerMinute: number;
  /** Counters in Redis, shared by every replica (an ioredis client); absent: counted in this process. */
  redis?: { client: unknown; keyPrefix: string };
}

const WINDOW_MS = 60_000;

/** "1 minute", "10 seconds": how people read a duration. */
function duration(ms: number): string {
  const [n, unit] =
    ms % 3_600_000 === 0 ? [ms / 3_600_000, 'hour'] : ms % 60_000 === 0 ? [ms / 60_000, 'minute'] : [Math.max(1, Math.ceil(ms / 1000)), 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The 429: the budget and its window, then when to retry (the Retry-After header, in words). */
function rateLimited(max: number, windowMs: number, ttlMs: number): DomainError {
  return Object.assign(new DomainError('rate_limited', `rate limit of ${max} requests per ${duration(windowMs)} exceeded; retry after ${duration(ttlMs)}`), {
    statusCode: 429,
  });
}

/** A route's own window (auth and public routes set a number), else the default one. */
function windowOf(req: FastifyRequest): number {
  const own = (req.routeOptions.config as { rateLimit?: { timeWindow?: unknown } }).rateLimit?.timeWindow;
  return typeof own === 'number' ? own : WINDOW_MS;
}

/**
 * Security headers everywhere. Rate limits: auth and public routes set their own (per client
 * address); every other /api/v1 route shares one budget per credential.
 */
export default fp<SecurityOptions>(
  async (app, { apiPerMinute, redis }) => {
    await app.register(helmet, {
      // /docs serves Swagger UI from its own files; nothing here needs inline scripts.
      contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null } },
    });
    await app.register(rateLimit, {
      global: false,
      timeWindow: WINDOW_MS,
      // With Redis, every replica counts against one budget. If Redis fails, requests go through
      // (logged) rather than the API going down; logins stay throttled per account in the database.
      ...(redis ? { redis: redis.client, nameSpace: `${redis.keyPrefix}rate-limit:`, skipOnError: true } : {}),
      errorResponseBuilder: (req, ctx) => rateLimited(ctx.max, windowOf(req), ctx.ttl),
    });

    // One limiter (one counter per credential) for all routes: a route's own `rateLimit` config would count per route.
    const perCredential = app.rateLimit({
      max: apiPerMinute,
      timeWindow: WINDOW_MS,
      keyGenerator: (req) => (req.principal ? `${req.principal.orgId}:${actorKey(req.principal.actor)}` : `ip:${req.ip}`),
      errorResponseBuilder: (_req, ctx) => rateLimited(ctx.max, WINDOW_MS, ctx.ttl),
    }) as unknown as onRequestHookHandler;
    app.addHook('onRoute', (route) => {
      const config = route.config as { public?: boolean; rateLimit?: unknown } | undefined;
      // The same test as the auth plugin's: these routes always carry a principal.
      if (!route.url.startsWith('/api/v1/') || config?.public || config?.rateLimit !== undefined) return;
      // Route-level hooks run after the app-level ones, so auth's onRequest has set request.principal;
      // and before the body is parsed, so a client over its budget costs little.
      route.onRequest = [...(Array.isArray(route.onRequest) ? route.onRequest : route.onRequest ? [route.onRequest] : []), perCredential];
    });
  },
  { name: 'security' },
);
