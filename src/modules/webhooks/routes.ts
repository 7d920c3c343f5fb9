import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { IdParam, Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import { EVENT_TYPES } from '../events/tables.js';
import { DELIVERY_STATUSES } from './tables.js';
import * as service from './service.js';

const EventName = Type.Enum([...EVENT_TYPES, '*'], { description: '`*` subscribes to every event type.' });

const Endpoint = Type.Object({
  id: Type.String(), url: Type.String(), description: Nullable(Type.String()), events: Type.Array(Type.String()), enabled: Type.Boolean(),
  createdAt: Timestamp, updatedAt: Timestamp,
});

export const webhookRoutes: FastifyPluginAsyncTypebox<{ policy: service.WebhookPolicy }> = async (app, { policy }) => {
  app.post('/webhooks', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], operationId: 'createWebhook',
      summary: 'Subscribe a URL to events; deliveries follow the Standard Webhooks spec and retry with backoff for about a day',
      body: Type.Object({
        url: Type.String({ maxLength: 2000 }),
        events: Type.Array(EventName, { minItems: 1, maxItems: 50 }),
        description: Type.Optional(Type.String({ maxLength: 500 })),
        enabled: Type.Optional(Type.Boolean()),
      }),
      response: withProblems({ 201: Type.Object({ ...Endpoint.properties, secret: Type.String({ description: 'whsec_..., shown once: verify webhook-signature with it.' }) }) }),
    },
    handler: async (req, reply) => reply.code(201).send(await service.createEndpoint(req.ctx(), policy, req.body)),
  });

  app.get('/webhooks', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], operationId: 'listWebhooks', summary: 'Webhook endpoints (never their secrets)', querystring: PageQuery,
      response: withProblems({ 200: Type.Object({ items: Type.Array(Endpoint), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => service.listEndpoints(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.get('/webhooks/:id', {
    config: { role: 'admin' },
    schema: { tags: ['webhooks'], operationId: 'getWebhook', summary: 'One webhook endpoint', params: IdParam, response: withProblems({ 200: Endpoint }) },
    handler: async (req) => service.getEndpoint(req.ctx(), req.params.id),
  });

  app.patch('/webhooks/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], operationId: 'updateWebhook', summary: 'Change URL, events, description or enable/disable', params: IdParam,
      body: Type.Object({
        url: Type.Optional(Type.String({ maxLength: 2000 })),
        events: Type.Optional(Type.Array(EventName, { minItems: 1, maxItems: 50 })),
        description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
        enabled: Type.Optional(Type.Boolean()),
      }),
      response: withProblems({ 200: Endpoint }),
    },
    handler: async (req) => service.updateEndpoint(req.ctx(), policy, req.params.id, req.body),
  });

  app.delete('/webhooks/:id', {
    config: { role: 'admin' },
    schema: { tags: ['webhooks'], operationId: 'deleteWebhook', summary: 'Delete an endpoint and its pending deliveries', params: IdParam, response: withProblems({ 204: Type.Null() }) },
    handler: async (req, reply) => {
      await service.deleteEndpoint(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.post('/webhooks/:id/rotate-secret', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], operationId: 'rotateWebhookSecret', summary: 'New secret, shown once; the old one also signs for 24 hours', params: IdParam,
      response: withProblems({ 200: Type.Object({ id: Type.String(), secret: Type.String(), previousSecretExpiresAt: Timestamp }) }),
    },
    handler: async (req) => service.rotateSecret(req.ctx(), req.params.id),
  });

  app.post('/webhooks/:id/test', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], operationId: 'testWebhook', summary: 'Queue a webhook.test event to this endpoint', params: IdParam,
      response: withProblems({ 202: Type.Object({ deliveryId: Type.String(), eventId: Type.String() }) }),
    },
    handler: async (req, reply) => reply.code(202).send(await service.sendTest(req.ctx(), req.params.id)),
  });

  app.get('/webhooks/:id/deliveries', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], operationId: 'listWebhookDeliveries', summary: 'Deliveries to this endpoint with every attempt, newest first', params: IdParam, querystring: PageQuery,
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Type.Object({
            id: Type.String(), eventId: Type.String(), eventType: Type.String(), status: Type.Enum(DELIVERY_STATUSES), attempts: Type.Integer(),
            nextAttemptAt: Nullable(Timestamp), lastAttemptAt: Nullable(Timestamp), lastStatusCode: Nullable(Type.Integer()), lastError: Nullable(Type.String()),
            createdAt: Timestamp,
            attemptLog: Type.Array(Type.Object({ attempt: Type.Integer(), at: Timestamp, statusCode: Nullable(Type.Integer()), durationMs: Type.Integer(), error: Nullable(Type.String()) })),
          })),
          nextCursor: Nullable(Type.String()),
        }),
      }),
    },
    handler: async (req) => service.listDeliveries(req.ctx(), req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/redeliver', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], operationId: 'redeliverWebhook', summary: 'Send a delivery again from the start of the retry schedule',
      params: Type.Object({ id: Type.String({ format: 'uuid' }), deliveryId: Type.String({ format: 'uuid' }) }),
      response: withProblems({ 202: Type.Object({ id: Type.String(), status: Type.String() }) }),
    },
    handler: async (req, reply) => reply.code(202).send(await service.redeliver(req.ctx(), req.params.id, req.params.deliveryId)),
  });
};
