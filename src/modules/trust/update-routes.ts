import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { TRUST_UPDATE_AUDIENCES, TRUST_UPDATE_CATEGORIES } from '../events/index.js';
import type { TrustPortal } from './portal.js';
import { listSubscribers, removeSubscriber } from './subscriptions.js';
import { SUBSCRIBER_STATUSES, TRUST_UPDATE_STATUSES } from './tables.js';
import { createUpdate, deleteUpdate, getUpdate, listUpdates, patchUpdate, publishUpdate } from './updates.js';

const EX = {
  update: '0197a7d0-2e3f-7041-8b5c-6d7e8f9a0b1c',
  subscriber: '0197a7e0-3f40-7152-9c6d-7e8f9a0b1c2d',
};

const Category = Type.Enum(TRUST_UPDATE_CATEGORIES, { description: 'security, subprocessor, certification, incident or general.' });
const Audience = Type.Enum(TRUST_UPDATE_AUDIENCES, {
  description:
    'public: on the trust page, its JSON and Atom feed, and mailed to subscribers; grantees: mailed to holders of active grants only, never shown publicly.',
});
const MARKDOWN_DOC =
  'A small Markdown subset: paragraphs, line breaks, `- ` lists, `#` headings, **bold**, *emphasis*, `code` and [links](https://...) (http, https and mailto only). ' +
  'Everything else shows as written: HTML is escaped.';

const SubprocessorChange = Type.Object({
  change: Type.Enum(['added', 'removed', 'changed']),
  name: Type.String(),
  before: Type.Optional(Nullable(Type.Object({ purpose: Type.String(), location: Type.String() }))),
  after: Type.Optional(Nullable(Type.Object({ purpose: Type.String(), location: Type.String() }))),
});

const TrustUpdate = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String(),
    body: Type.String({ description: MARKDOWN_DOC }),
    bodyHtml: Type.String({ description: 'The body rendered to HTML, escaped.' }),
    category: Category,
    audience: Audience,
    status: Type.Enum(TRUST_UPDATE_STATUSES),
    origin: Type.Enum(['manual', 'subprocessor_change'], { description: "subprocessor_change: drafted from a change to the trust page's subprocessor list." }),
    effectiveAt: Nullable(Timestamp),
    changes: Nullable(Type.Array(SubprocessorChange, { description: 'Subprocessor notices: the changes listed.' })),
    notify: Nullable(Type.Enum(['all', 'none'])),
    recipients: Nullable(Type.Integer({ minimum: 0, description: 'Messages queued when it was published.' })),
    publishedAt: Nullable(Timestamp),
    version: Type.Integer(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    $id: 'TrustUpdate',
    description:
      'A notice on the trust page: a draft until published; then on the page and in its Atom feed (audience public) and mailed when published with notify all.',
    examples: [
      {
        id: EX.update,
        title: 'Changes to our subprocessors',
        body: 'We are making the following changes to our subprocessors, effective 2026-07-04:\n\n- Added: **Mailgun** (Transactional e-mail; United States)',
        bodyHtml:
          '<p>We are making the following changes to our subprocessors, effective 2026-07-04:</p>\n<ul><li>Added: <strong>Mailgun</strong> (Transactional e-mail; United States)</li></ul>',
        category: 'subprocessor',
        audience: 'public',
        status: 'draft',
        origin: 'subprocessor_change',
        effectiveAt: '2026-07-04T09:30:00.000Z',
        changes: [{ change: 'added', name: 'Mailgun', before: null, after: { purpose: 'Transactional e-mail', location: 'United States' } }],
        notify: null,
        recipients: null,
        publishedAt: null,
        version: 1,
        createdAt: '2026-06-04T09:30:00.000Z',
        updatedAt: '2026-06-04T09:30:00.000Z',
      },
    ],
  },
);

const Subscriber = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    topics: Type.Array(Category, { description: 'Categories followed; empty: all.' }),
    status: Type.Enum(SUBSCRIBER_STATUSES, { description: 'pending: waiting for the address to be confirmed; only confirmed subscribers receive updates.' }),
    confirmedAt: Nullable(Timestamp),
    unsubscribedAt: Nullable(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    $id: 'TrustSubscriber',
    description: 'Someone who follows the trust page by e-mail (double opt-in).',
    examples: [
      {
        id: EX.subscriber,
        email: 'dana@example.com',
        topics: [],
        status: 'confirmed',
        confirmedAt: '2026-06-04T09:35:00.000Z',
        unsubscribedAt: null,
        createdAt: '2026-06-04T09:30:00.000Z',
        updatedAt: '2026-06-04T09:35:00.000Z',
      },
    ],
  },
);

const UpdateIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The update.', examples: [EX.update] }) });
const SubscriberIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The subscriber.', examples: [EX.subscriber] }) });
const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });
const Title = Type.String({ minLength: 1, maxLength: 200 });
const Body = Type.String({ minLength: 1, maxLength: 20000, description: MARKDOWN_DOC });
const EffectiveAt = Nullable(Type.String({ format: 'date-time', description: 'When the change takes effect, if it is one.' }));

/** Trust-page updates and subscribers: the organization's side. */
export const trustUpdateRoutes: FastifyPluginAsyncTypebox<{ portal: TrustPortal }> = async (app, { portal }) => {
  app.post('/trust-updates', {
    config: { role: 'editor' },
    schema: {
      tags: ['trust'],
      operationId: 'createTrustUpdate',
      summary: 'Draft a trust-page update',
      description: 'A draft shows nowhere and is mailed to nobody until POST /trust-updates/{id}/publish.',
      body: Type.Object(
        { title: Title, body: Body, category: Category, audience: Type.Optional(Audience), effectiveAt: Type.Optional(EffectiveAt) },
        {
          additionalProperties: false,
          examples: [
            {
              title: 'Penetration test 2026 completed',
              body: 'An external firm tested the platform in May; **no critical finding** remains open.',
              category: 'security',
            },
          ],
        },
      ),
      response: withProblems({ 201: TrustUpdate }),
    },
    handler: async (req, reply) => reply.code(201).send(await createUpdate(req.ctx(), req.body)),
  });

  app.get('/trust-updates', {
    schema: {
      tags: ['trust'],
      operationId: 'listTrustUpdates',
      summary: 'Trust-page updates, drafts and published, newest first',
      description: 'Drafts include the subprocessor change notices drafted from trust-page saves, waiting for a person to publish them.',
      querystring: Type.Object({ ...PageQuery.properties, status: Type.Optional(Type.Enum(TRUST_UPDATE_STATUSES)) }),
      response: withProblems({ 200: Page(TrustUpdate) }),
    },
    handler: async (req) => listUpdates(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/trust-updates/:id', {
    schema: {
      tags: ['trust'],
      operationId: 'getTrustUpdate',
      summary: 'One trust-page update',
      description: 'A draft or a published update, with its body as written and rendered, and for subprocessor notices the changes it lists.',
      params: UpdateIdParam,
      response: withProblems({ 200: TrustUpdate }),
    },
    handler: async (req) => getUpdate(req.ctx(), req.params.id),
  });

  app.patch('/trust-updates/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['trust'],
      operationId: 'updateTrustUpdate',
      summary: 'Edit a draft, or correct a published update',
      description: 'Fields sent replace the stored ones. A published update shows the correction on the page and in the feed; nobody is mailed again.',
      params: UpdateIdParam,
      body: Type.Object(
        {
          title: Type.Optional(Title),
          body: Type.Optional(Body),
          category: Type.Optional(Category),
          audience: Type.Optional(Audience),
          effectiveAt: Type.Optional(EffectiveAt),
        },
        { additionalProperties: false, examples: [{ title: 'Changes to our subprocessors from July' }] },
      ),
      response: withProblems({ 200: TrustUpdate }),
    },
    handler: async (req) => patchUpdate(req.ctx(), req.params.id, req.body),
  });

  app.delete('/trust-updates/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['trust'],
      operationId: 'deleteTrustUpdate',
      summary: 'Delete a draft update',
      description:
        'Drafts only, including a drafted subprocessor change notice (a later change to the list drafts a new one). A published update is a 409: correct it with PATCH.',
      params: UpdateIdParam,
      response: withProblems({ 204: { description: 'Deleted', type: 'null' } }, ['conflict']),
    },
    handler: async (req, reply) => {
      await deleteUpdate(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.post('/trust-updates/:id/publish', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'],
      operationId: 'publishTrustUpdate',
      summary: 'Publish an update, and mail it (notify all) or not (notify none)',
      description:
        'Audience public: the update shows on the trust page, in its JSON and in the Atom feed (/trust/{slug}/updates.atom); with notify all, each confirmed subscriber ' +
        'following its category gets one e-mail with a one-click unsubscribe link (List-Unsubscribe, List-Unsubscribe-Post). Audience grantees: with notify all, ' +
        'each holder of an active grant gets one e-mail with the same one-click link, except those who used it on an earlier one; nothing shows publicly. Messages are queued with the publication and sent after it (GET /outbox/mail). ' +
        'Emits trust.update_published. An update already published is a 409.',
      params: UpdateIdParam,
      body: Type.Object({ notify: Type.Enum(['all', 'none']) }, { additionalProperties: false, examples: [{ notify: 'all' }] }),
      response: withProblems({ 200: TrustUpdate }, ['conflict']),
    },
    handler: async (req) => publishUpdate(portal.subscriptions, req.ctx(), req.params.id, req.body),
  });

  app.get('/subscribers', {
    schema: {
      tags: ['trust'],
      operationId: 'listSubscribers',
      summary: 'People following the trust page by e-mail, newest first',
      description: 'Pending ones have not confirmed their address yet and receive nothing but the confirmation; unsubscribed ones receive nothing.',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(Type.Enum(SUBSCRIBER_STATUSES)),
        email: Type.Optional(Type.String({ maxLength: 254, description: 'Only this address (case ignored).' })),
      }),
      response: withProblems({ 200: Page(Subscriber) }),
    },
    handler: async (req) => listSubscribers(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.delete('/subscribers/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'],
      operationId: 'deleteSubscriber',
      summary: 'Remove a subscriber and forget the address',
      params: SubscriberIdParam,
      description: 'The row is deleted, so its links stop working; a confirmed subscriber emits subscriber.removed (reason removed).',
      response: withProblems({ 204: { description: 'Removed', type: 'null' } }),
    },
    handler: async (req, reply) => {
      await removeSubscriber(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
