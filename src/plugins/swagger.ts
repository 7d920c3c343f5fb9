import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Problem } from '../lib/schemas.js';

export const API_INFO = {
  title: 'Trust Center API',
  version: '1.0.0',
  description:
    'Record ISO/IEC 27001:2022 and ISO/IEC 27017 once; map it to SOC 2, answer security questionnaires with citations, and publish a trust page. Errors are application/problem+json with a machine `code`.',
};

/** OpenAPI generated from the route schemas; the committed copy in openapi/ is checked by a test. */
export default fp(async (app) => {
  app.addSchema(Problem);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: API_INFO,
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) from signup or login, or an API key (tck_...).' },
        },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'auth', description: 'Signup, login, tokens' },
        { name: 'members', description: 'People in the organization and their roles' },
        { name: 'api-keys', description: 'Keys for integrations' },
        { name: 'audit', description: 'Append-only audit log' },
        { name: 'catalog', description: 'Frameworks, controls and the typed crosswalk (read-only content; your overrides)' },
        { name: 'controls', description: 'Your Statement of Applicability: one versioned answer per control' },
        { name: 'reports', description: 'Coverage and readiness reports' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}, { name: 'swagger' });
