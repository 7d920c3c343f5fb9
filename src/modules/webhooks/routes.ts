import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import { EVENT_TYPES } from '../events/index.js';
import { DELIVERY_STATUSES } from './tables.js';
import * as service from './service.js';

const EventName = Type.Enum([...EVENT_TYPES, '*'], { description: '`*` subscribes to every event type.' });

const ENDPOINT_ID = '0197a614-8394-75a6-9b1c-2d3e4f506172';
const DELIVERY_ID = '0197a625-94a5-76b7-8c2d-3e4f50617283';
const EVENT_ID = '0197a625-94a4-76b7-8c2d-3e4f50617282';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const EndpointFields = {
  id: Type.String(),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};
const ENDPOINT_EXAMPLE = {
  id: ENDPOINT_ID,
  url: 'https://hooks.acme.example/trustcenter',
  description: 'CRM: new access requests',
  events: ['access_request.created', 'access_grant.created'],
  enabled: true,
  createdAt: '2026-05-21T09:00:00.000Z',
  updatedAt: '2026-05-21T09:00:00.000Z',
};
const Endpoint = Type.Object(EndpointFields, {
  $id: 'WebhookEndpoint',
  description: 'A URL subscribed to event types; its secret is shown only when created or rotated.',
  examples: [ENDPOINT_EXAMPLE],
});
const NewEndpoint = Type.Object(
  { ...EndpointFields, secret: Type.String({ description: 'whsec_..., shown once: verify webhook-signature with it.' }) },
  {
    $id: 'NewWebhookEndpoint',
    description: 'An endpoint just created, with its signing secret (shown this once).',
    examples: [{ ...ENDPOINT_EXAMPLE, secret: SECRET }],
  },
);

const Attempt = Type.Object(
  { attempt: Type.Integer(), at: Timestamp, statusCode: Nullable(Type.Integer()), durationMs: Type.Integer(), error: Nullable(Type.String()) },
  {
    $id: 'WebhookAttempt',
    description: 'One try to deliver: the status the endpoint answered (null when it did not answer), and the error unless it answered 2xx.',
  },
);
const Delivery = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String(),
    eventType: Type.String(),
    status: Type.Enum(DELIVERY_STATUSES),
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(Timestamp),
    lastAttemptAt: Nullable(Timestamp),
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    createdAt: Timestamp,
    attemptLog: Type.Array(Attempt),
  },
  {
    $id: 'WebhookDelivery',
    description: 'One event delivered (or being delivered) to one endpoint, with every attempt.',
    examples: [
      {
        id: DELIVERY_ID,
        eventId: EVENT_ID,
        eventType: 'access_request.created',
        status: 'retrying',
        attempts: 2,
        nextAttemptAt: '2026-06-04T09:35:00.000Z',
        lastAttemptAt: '2026-06-04T09:30:30.000Z',
        lastStatusCode: 502,
        lastError: 'HTTP 502',
        createdAt: '2026-06-04T09:30:00.000Z',
        attemptLog: [
          { attempt: 1, at: '2026-06-04T09:30:00.500Z', statusCode: null, durationMs: 0, error: 'timed out' },
          { attempt: 2, at: '2026-06-04T09:30:30.000Z', statusCode: 502, durationMs: 184, error: 'HTTP 502' },
        ],
      },
    ],
  },
);

const EndpointIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The endpoint id.', examples: [ENDPOINT_ID] }) });

export const webhookRoutes: FastifyPluginAsyncTypebox<{ policy: service.WebhookPolicy }> = async (app, { policy }) => {
  app.post('/webhooks', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'createWebhook',
      summary: 'Subscribe a URL to events; deliveries follow the Standard Webhooks spec and retry with backoff for about a day',
      description:
        'Creates the endpoint with a new signing secret, shown once in this answer. URLs that resolve to private or loopback addresses are refused (400) unless the server allows them, and plain http is refused when WEBHOOK_REQUIRE_HTTPS is set. The payload of each event type is in the `webhooks` section of this document.',
      body: Type.Object(
        {
          url: Type.String({ maxLength: 2000 }),
          events: Type.Array(EventName, { minItems: 1, maxItems: 50 }),
          description: Type.Optional(Type.String({ maxLength: 500 })),
          enabled: Type.Optional(Type.Boolean()),
        },
        {
          examples: [
            {
              url: 'https://hooks.acme.example/trustcenter',
              events: ['access_request.created', 'access_grant.created'],
              description: 'CRM: new access requests',
            },
          ],
        },
      ),
      response: withProblems({ 201: NewEndpoint }),
    },
    handler: async (req, reply) => reply.code(201).send(await service.createEndpoint(req.ctx(), policy, req.body)),
  });

  app.get('/webhooks', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'listWebhooks',
      summary: 'Webhook endpoints (never their secrets)',
      querystring: PageQuery,
      description:
        "The organization's endpoints, enabled or not, with the event types each receives; secrets are never shown again after creation or rotation.",
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Endpoint),
          nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.' })),
        }),
      }),
    },
    handler: async (req) => service.listEndpoints(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.get('/webhooks/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'getWebhook',
      summary: 'One webhook endpoint',
      params: EndpointIdParam,
      description: "The endpoint's URL, event types and state, without its secret. Another organization's endpoint is 404.",
      response: withProblems({ 200: Endpoint }),
    },
    handler: async (req) => service.getEndpoint(req.ctx(), req.params.id),
  });

  app.patch('/webhooks/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'updateWebhook',
      summary: 'Change URL, events, description or enable/disable',
      params: EndpointIdParam,
      description:
        'Changes only the fields sent; a new URL is checked as on creation. A disabled endpoint gets no new deliveries; those already queued are still sent.',
      body: Type.Object(
        {
          url: Type.Optional(Type.String({ maxLength: 2000 })),
          events: Type.Optional(Type.Array(EventName, { minItems: 1, maxItems: 50 })),
          description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
          enabled: Type.Optional(Type.Boolean()),
        },
        { examples: [{ events: ['*'], enabled: true }] },
      ),
      response: withProblems({ 200: Endpoint }),
    },
    handler: async (req) => service.updateEndpoint(req.ctx(), policy, req.params.id, req.body),
  });

  app.delete('/webhooks/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'deleteWebhook',
      summary: 'Delete an endpoint and its pending deliveries',
      params: EndpointIdParam,
      description: "Removes the endpoint with its delivery log; deliveries not yet sent are dropped. Events stay recorded in the organization's outbox.",
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await service.deleteEndpoint(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.post('/webhooks/:id/rotate-secret', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'rotateWebhookSecret',
      summary: 'New secret, shown once; the old one also signs for 24 hours',
      params: EndpointIdParam,
      description:
        'Generates a new signing secret. For 24 hours each delivery carries two signatures (new and old), so the receiver can switch without missing one.',
      response: withProblems({
        200: Type.Object(
          { id: Type.String(), secret: Type.String({ description: 'whsec_..., shown once.' }), previousSecretExpiresAt: Timestamp },
          {
            description: 'The new secret (shown this once) and when the old one stops signing.',
            examples: [{ id: ENDPOINT_ID, secret: 'whsec_2jTq0vX8kPzN4bRmYc7LdWs9HfGe1UaK', previousSecretExpiresAt: '2026-06-05T09:30:00.000Z' }],
          },
        ),
      }),
    },
    handler: async (req) => service.rotateSecret(req.ctx(), req.params.id),
  });

  app.post('/webhooks/:id/test', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'testWebhook',
      summary: 'Queue a webhook.test event to this endpoint',
      params: EndpointIdParam,
      description:
        'Queues a `webhook.test` event for this endpoint only (other subscribers do not get it), signed and retried like any delivery; follow it in the delivery log.',
      response: withProblems({
        202: Type.Object(
          { deliveryId: Type.String(), eventId: Type.String() },
          {
            description: 'Accepted: the test delivery is queued.',
            examples: [{ deliveryId: DELIVERY_ID, eventId: EVENT_ID }],
          },
        ),
      }),
    },
    handler: async (req, reply) => reply.code(202).send(await service.sendTest(req.ctx(), req.params.id)),
  });

  app.get('/webhooks/:id/deliveries', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'listWebhookDeliveries',
      summary: 'Deliveries to this endpoint with every attempt, newest first',
      params: EndpointIdParam,
      querystring: PageQuery,
      description:
        'The delivery log of one endpoint: each event sent to it with its status (pending, retrying, succeeded, failed), the next try, and every attempt with the status code or error.',
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Delivery),
          nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.' })),
        }),
      }),
    },
    handler: async (req) => service.listDeliveries(req.ctx(), req.params.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/redeliver', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'],
      operationId: 'redeliverWebhook',
      summary: 'Send a delivery again now',
      description:
        'Puts the delivery back in the queue (status `pending`, due now), e.g. for a receiver that was down longer than the retries lasted. Its attempt count is kept: a delivery that had used up the retry schedule gets this one attempt. The same event id is sent, so receivers can deduplicate.',
      params: Type.Object({
        id: Type.String({ format: 'uuid', examples: [ENDPOINT_ID] }),
        deliveryId: Type.String({ format: 'uuid', examples: [DELIVERY_ID] }),
      }),
      response: withProblems({
        202: Type.Object(
          { id: Type.String(), status: Type.String() },
          { description: 'Accepted: the delivery is queued again.', examples: [{ id: DELIVERY_ID, status: 'pending' }] },
        ),
      }),
    },
    handler: async (req, reply) => reply.code(202).send(await service.redeliver(req.ctx(), req.params.id, req.params.deliveryId)),
  });
};
