import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Problem } from '../lib/schemas.js';
import { EVENT_TYPES } from '../modules/events/tables.js';

const EVENT_DESCRIPTIONS: Record<(typeof EVENT_TYPES)[number], string> = {
  'questionnaire.imported': 'A questionnaire was imported.',
  'questionnaire.filled': 'A fill job finished; `data.id` is the questionnaire.',
  'answer.needs_review': 'An answer fell below the confidence threshold and waits for review.',
  'control.updated': 'A control answer changed (new version); `data` has framework, ref, version and changed fields.',
  'profile.fact_changed': 'A profile fact was created, changed or deleted; `data` has key, change, version, type, value (null when deleted), visibility and previousVersion.',
  'library.entry_stale': 'A library answer went stale: a control it rests on changed or its evidence expired; `data` has id, ownerId and reason.',
  'evidence.expiring': 'Evidence expires within 30 days.',
  'evidence.expired': 'Evidence expired.',
  'certification.expiring': 'A certification or report is due soon or stale.',
  'access_request.created': 'A prospect asked for NDA documents on the trust page.',
  'access_grant.created': 'An access request was approved and a grant issued.',
  'document.downloaded': 'A granted document was downloaded.',
  'webhook.test': 'Sent by POST /webhooks/{id}/test.',
};

/** The OpenAPI `webhooks` section: one entry per event type, with the Standard Webhooks headers. */
function webhookDocs() {
  const header = (name: string, description: string) => ({ name, in: 'header' as const, required: true, schema: { type: 'string' as const }, description });
  return Object.fromEntries(EVENT_TYPES.map((type) => [type, {
    post: {
      summary: EVENT_DESCRIPTIONS[type],
      operationId: `webhook_${type.replace(/\./g, '_')}`,
      tags: ['webhooks'],
      parameters: [
        header('webhook-id', 'The event id; the same on every retry.'),
        header('webhook-timestamp', 'Unix seconds of this attempt.'),
        header('webhook-signature', 'Space-separated `v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`; two during a secret rotation.'),
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object' as const, required: ['type', 'timestamp', 'data'],
              properties: { type: { type: 'string' as const, enum: [type] }, timestamp: { type: 'string' as const, format: 'date-time' }, data: { type: 'object' as const, additionalProperties: true } },
            },
          },
        },
      },
      responses: { '2XX': { description: 'Received. Any other answer, or none within 10 s, is retried with backoff for about a day.' } },
    },
  }]));
}

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
      webhooks: webhookDocs(),
      tags: [
        { name: 'auth', description: 'Signup, login, tokens' },
        { name: 'members', description: 'People in the organization and their roles' },
        { name: 'api-keys', description: 'Keys for integrations' },
        { name: 'audit', description: 'Append-only audit log' },
        { name: 'catalog', description: 'Frameworks, controls and the typed crosswalk (read-only content; your overrides)' },
        { name: 'controls', description: 'Your Statement of Applicability: one versioned answer per control' },
        { name: 'profile', description: 'The organization profile: typed, versioned facts (hosting, data locations, recovery targets, ...) that answer questions directly' },
        { name: 'reports', description: 'Coverage and readiness reports' },
        { name: 'evidence', description: 'Evidence files and links, content-addressed, versioned, with validity dates' },
        { name: 'certifications', description: 'Certificates and attestation reports with computed status' },
        { name: 'questionnaires', description: 'Import buyers\' questionnaires, answer them with citations and confidence, review, export into their own file' },
        { name: 'webhooks', description: 'Signed event deliveries (Standard Webhooks) with retries and a delivery log' },
        { name: 'trust', description: 'Trust page, public trust profile, access requests and NDA grants' },
        { name: 'documents', description: 'Trust-page documents: public, NDA-gated or private, versioned' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}, { name: 'swagger' });
