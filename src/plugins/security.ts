import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { DomainError } from '../lib/errors.js';

/** Security headers everywhere; rate limits only where routes opt in (auth and public routes). */
export default fp(async (app) => {
  await app.register(helmet, {
    // /docs serves Swagger UI from its own files; nothing here needs inline scripts.
    contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null } },
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new DomainError('rate_limited', `rate limit of ${ctx.max} requests per ${ctx.after} exceeded; retry later`), { statusCode: 429 }),
  });
}, { name: 'security' });
