import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROLES } from '../../lib/context.js';
import { SCOPES } from '../../lib/scopes.js';
import { PageQuery, pageOf } from '../../lib/pagination.js';
import { IdParam, Timestamp, withProblems } from '../../lib/schemas.js';
import * as identity from './service.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 256, description: 'New passwords: at least 12 characters and a zxcvbn strength of 3 or more (common passwords, keyboard patterns and your own email or organization name are refused).' });
const Role = Type.Enum(ROLES);
const Org = Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String() });

const Member = Type.Object({
  id: Type.String({ description: 'The user id.' }),
  email: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  role: Role,
  createdAt: Timestamp,
});

const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The visible start of the key, to recognise it.' }),
  role: Role,
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: everything the role allows.' }),
  createdBy: Type.String(),
  createdAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
});

const TokenAnswer = Type.Object({ accessToken: Type.String(), expiresAt: Timestamp });

export interface IdentityRouteOptions {
  deps: identity.IdentityDeps;
  authRateLimit: { max: number; timeWindow: number };
}

/** Public: signup, login, accepting an invitation. Rate-limited per client address. */
export const authRoutes: FastifyPluginAsyncTypebox<IdentityRouteOptions> = async (app, { deps, authRateLimit }) => {
  const config = { public: true, rateLimit: authRateLimit };

  app.post('/auth/signup', {
    config,
    schema: {
      tags: ['auth'],
      operationId: 'signup',
      summary: 'Create an organization and its owner; answers with an access token',
      security: [],
      body: Type.Object({
        organization: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          slug: Type.String({ pattern: identity.SLUG_PATTERN, description: 'Lowercase letters, digits and hyphens, 3-63 characters; used in /trust/{slug}.' }),
        }),
        user: Type.Object({ email: Email, password: Password, name: Type.Optional(Type.String({ maxLength: 200 })) }),
      }),
      response: withProblems({
        201: Type.Object({ organization: Org, user: Type.Object({ id: Type.String(), email: Type.String() }), accessToken: Type.String(), expiresAt: Timestamp }),
      }),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.signup(deps, req.body, String(req.id))),
  });

  app.post('/auth/login', {
    config,
    schema: {
      tags: ['auth'],
      operationId: 'login',
      summary: 'Exchange email and password for an access token',
      description: 'Repeated failures for one email (known or not) lock it for a while: 429 with Retry-After.',
      security: [],
      body: Type.Object({
        email: Email,
        password: Password,
        organization: Type.Optional(Type.String({ maxLength: 100, description: 'Slug or id, for people in several organizations; default: the first joined.' })),
      }),
      response: withProblems({ 200: Type.Object({ ...TokenAnswer.properties, organization: Type.Object({ id: Type.String(), slug: Type.String() }) }) }),
    },
    handler: async (req) => identity.login(deps, req.body),
  });

  app.post('/auth/accept-invitation', {
    config,
    schema: {
      tags: ['auth'],
      operationId: 'acceptInvitation',
      summary: 'Join an organization with an invitation token',
      description: 'A new person sets a password. Someone who already has an account gives its current password instead: an existing account never joins without its owner. Wrong passwords count towards the per-account lock-out (429).',
      security: [],
      body: Type.Object({ token: Type.String({ minLength: 10, maxLength: 200 }), password: Password, name: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: withProblems({ 201: TokenAnswer }),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.acceptInvitation(deps, req.body, String(req.id))),
  });
};

/** Authenticated: who am I, members, API keys. */
export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', {
    schema: {
      tags: ['auth'],
      operationId: 'getMe',
      summary: 'The caller: user, organization and role',
      response: withProblems({
        200: Type.Object({
          organization: Org,
          user: Type.Object({ id: Type.String(), email: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
          actor: Type.Object({ type: Type.Union([Type.Literal('user'), Type.Literal('api_key')]), id: Type.String() }),
          role: Role,
        }),
      }),
    },
    handler: async (req) => identity.me(req.ctx()),
  });

  app.get('/members', {
    schema: {
      tags: ['members'],
      operationId: 'listMembers',
      summary: 'Members of the organization',
      querystring: PageQuery,
      response: withProblems({ 200: pageOf(Member) }),
    },
    handler: async (req) => identity.listMembers(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.post('/members', {
    config: { role: 'admin' },
    schema: {
      tags: ['members'],
      operationId: 'addMember',
      summary: 'Invite a person (answers with a one-time invitation token); an existing account joins only when its owner accepts',
      description: 'A scoped API key cannot invite: a member\'s sign-in would not be limited to its scopes. The `added` status is no longer produced.',
      body: Type.Object({ email: Email, role: Role }),
      response: withProblems({
        201: Type.Object({
          status: Type.Union([Type.Literal('added'), Type.Literal('invited')]),
          member: Type.Optional(Member),
          invitation: Type.Optional(Type.Object({ id: Type.String(), email: Type.String(), role: Role, token: Type.String({ description: 'Shown once.' }), expiresAt: Timestamp })),
        }),
      }),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.addMember(req.ctx(), req.body)),
  });

  app.patch('/members/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['members'],
      operationId: 'changeMemberRole',
      summary: 'Change a member\'s role',
      description: 'Nobody grants a role above their own; a scoped API key may lower roles but not raise them.',
      params: IdParam,
      body: Type.Object({ role: Role }),
      response: withProblems({ 200: Member }),
    },
    handler: async (req) => identity.changeMemberRole(req.ctx(), req.params.id, req.body.role),
  });

  app.delete('/members/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['members'],
      operationId: 'removeMember',
      summary: 'Remove a member (their API keys go with them)',
      params: IdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await identity.removeMember(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.post('/api-keys', {
    config: { role: 'admin' },
    schema: {
      tags: ['api-keys'],
      operationId: 'createApiKey',
      summary: 'Create an API key for an integration; the key is shown once',
      description: 'The key acts for its creator: with the lower of its role and the creator\'s current role, and not at all once the creator leaves the organization. A scoped key creates only keys within its own scopes.',
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100 }),
        role: Role,
        scopes: Type.Optional(Type.Array(Type.Enum(SCOPES), { minItems: 1, maxItems: 50, description: 'Limit the key further than its role; `x:write` implies `x:read`.' })),
      }),
      response: withProblems({ 201: Type.Object({ ...ApiKey.properties, key: Type.String({ description: 'Shown once; use as "Authorization: Bearer <key>".' }) }) }),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.createApiKey(req.ctx(), req.body)),
  });

  app.get('/api-keys', {
    config: { role: 'admin' },
    schema: {
      tags: ['api-keys'],
      operationId: 'listApiKeys',
      summary: 'API keys of the organization (never the secret)',
      querystring: PageQuery,
      response: withProblems({ 200: pageOf(ApiKey) }),
    },
    handler: async (req) => identity.listApiKeys(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  app.delete('/api-keys/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['api-keys'],
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key; it stops working at once',
      params: IdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await identity.revokeApiKey(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
