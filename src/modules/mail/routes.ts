import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { IdParam, Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { listMail, retryMail } from './service.js';
import { MAIL_KINDS, MAIL_STATUSES } from './tables.js';

const OutboxMail = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: Type.Enum(MAIL_KINDS, { description: 'What the message is: an invitation, a grant link, a subscription confirmation or a trust-page update.' }),
    to: Type.String({ description: 'The recipient, lowercased.' }),
    subject: Type.String(),
    text: Nullable(Type.String({ description: 'The plain-text part while the message waits or failed; null once sent (it may hold one-time links).' })),
    headers: Type.Record(Type.String(), Type.String(), { description: 'Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post.' }),
    status: Type.Enum(MAIL_STATUSES, {
      description:
        'pending: waiting (always, without SMTP_URL); retrying: a temporary failure, tried again at nextAttemptAt; sent; failed: refused for good or out of retries.',
    }),
    attempts: Type.Integer({ minimum: 0 }),
    nextAttemptAt: Nullable(Timestamp),
    lastAttemptAt: Nullable(Timestamp),
    lastError: Nullable(Type.String({ description: 'A coarse reason: `SMTP 451`, `connection failed`, `timed out`, `authentication failed`.' })),
    sentAt: Nullable(Timestamp),
    createdAt: Timestamp,
  },
  {
    $id: 'OutboxMail',
    description: 'A message in the mail outbox.',
    examples: [
      {
        id: '0197a7c0-1d2e-7f30-8a4b-5c6d7e8f9a0b',
        kind: 'subscription_confirmation',
        to: 'dana@example.com',
        subject: 'Confirm your subscription to Acme Corp trust center updates',
        text: 'Confirm your subscription: https://trust.acme.example/trust/acme/subscriptions/confirm?token=...',
        headers: {},
        status: 'pending',
        attempts: 0,
        nextAttemptAt: '2026-06-04T09:30:00.000Z',
        lastAttemptAt: null,
        lastError: null,
        sentAt: null,
        createdAt: '2026-06-04T09:30:00.000Z',
      },
    ],
  },
);

/** The organization's mail outbox: what was sent, what waits (all of it without SMTP_URL) and what failed. */
export const mailRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/outbox/mail', {
    config: { role: 'admin' },
    schema: {
      tags: ['mail'],
      operationId: 'listOutboxMail',
      summary: 'The mail outbox: messages waiting, sent and failed, newest first',
      description:
        'Every e-mail the organization caused (invitations, grant links, subscription confirmations, update notices). Without `SMTP_URL` nothing is sent: ' +
        'messages wait here as `pending`, with their text, so an admin can pass them on by hand; they are sent once SMTP is configured. ' +
        'Sent messages keep their subject and recipient but not their body. Admins only.',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(Type.Enum(MAIL_STATUSES)),
        to: Type.Optional(Type.String({ maxLength: 254, description: 'Only messages to this address (case ignored).' })),
      }),
      response: withProblems({ 200: Type.Object({ items: Type.Array(OutboxMail), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => listMail(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.post('/outbox/mail/:id/retry', {
    config: { role: 'admin' },
    schema: {
      tags: ['mail'],
      operationId: 'retryOutboxMail',
      summary: 'Send a failed message again',
      description:
        'A failed message (refused for good, or out of retries) goes back to `pending` with its attempts reset, for a new round of tries on the retry schedule. ' +
        'Any other status is a 409: waiting messages are tried anyway, and sent ones no longer hold their body. Audited as mail.retried. Admins only.',
      params: IdParam,
      response: withProblems({ 200: OutboxMail }, ['conflict']),
    },
    handler: async (req) => retryMail(req.ctx(), req.params.id),
  });
};
