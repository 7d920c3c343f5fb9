import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROLES } from '../../lib/context.js';
import { SCOPES } from '../../lib/scopes.js';
import { PageQuery, pageOf } from '../../lib/pagination.js';
import { Timestamp, withProblems } from '../../lib/schemas.js';
import * as identity from './service.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({
  minLength: 1,
  maxLength: 256,
  description:
    'New passwords: at least 12 characters and a zxcvbn strength of 3 or more (common passwords, keyboard patterns and your own email or organization name are refused).',
});
const Role = Type.Enum(ROLES);

// Example values, consistent across the examples of this module.
const ORG_ID = '0197a4a0-0a1b-7c2d-8e3f-405162738495';
const USER_ID = '0197a4a0-0b1c-7d2e-8f30-415263748596';
const MEMBER_ID = '0197a4b1-1c2d-7e3f-9041-526374859607';
const KEY_ID = '0197a4c2-2d3e-7f40-8152-637485960718';
const TOKEN = 'eyJhbGciOiJFUzI1NiIsImtpZCI6IjIwMjYtMDYifQ.eyJzdWIiOiIwMTk3YTRhMC0wYjFjIn0.c2lnbmF0dXJl';
const EXPIRES = '2026-06-04T10:30:00.000Z';

const Org = Type.Object(
  { id: Type.String(), slug: Type.String(), name: Type.String() },
  {
    $id: 'Organization',
    description: 'An organization (tenant): everything else belongs to one.',
    examples: [{ id: ORG_ID, slug: 'acme', name: 'Acme Cloud Ltd' }],
  },
);

const Member = Type.Object(
  {
    id: Type.String({ description: 'The user id.' }),
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    role: Role,
    createdAt: Timestamp,
  },
  {
    $id: 'Member',
    description: 'A person in the organization and their role.',
    examples: [{ id: MEMBER_ID, email: 'sam.lee@acme.example', name: 'Sam Lee', role: 'editor', createdAt: '2026-05-12T08:15:00.000Z' }],
  },
);

const API_KEY_EXAMPLE = {
  id: KEY_ID,
  name: 'GRC sync',
  prefix: 'tck_3fA9',
  role: 'editor',
  scopes: ['controls:write', 'evidence:read'],
  createdBy: USER_ID,
  createdAt: '2026-05-20T14:00:00.000Z',
  lastUsedAt: '2026-06-03T22:10:04.000Z',
  revokedAt: null,
};
const ApiKeyFields = {
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The visible start of the key, to recognise it.' }),
  role: Role,
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: everything the role allows.' }),
  createdBy: Type.String(),
  createdAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
};
const ApiKey = Type.Object(ApiKeyFields, {
  $id: 'ApiKey',
  description: 'An API key for an integration; the secret itself is shown only when the key is created.',
  examples: [API_KEY_EXAMPLE],
});
const NewApiKey = Type.Object(
  { ...ApiKeyFields, key: Type.String({ description: 'Shown once; use as "Authorization: Bearer <key>".' }) },
  {
    $id: 'NewApiKey',
    description: 'A key just created, with its secret (shown this once).',
    examples: [{ ...API_KEY_EXAMPLE, lastUsedAt: null, key: 'tck_3fA9kQ2mZx7Lw0pR8sTuV5yB1cD4eF6g' }],
  },
);

const Invitation = Type.Object(
  { id: Type.String(), email: Type.String(), role: Role, token: Type.String({ description: 'Shown once.' }), expiresAt: Timestamp },
  {
    $id: 'Invitation',
    description: 'An invitation to join the organization; the person accepts it with the token (POST /api/v1/auth/accept-invitation).',
    examples: [
      {
        id: '0197a4d3-3e4f-7051-8263-748596071829',
        email: 'riley@acme.example',
        role: 'viewer',
        token: 'inv_Q2xhaW1NZU9uY2VfOGY0YjJh',
        expiresAt: '2026-06-11T09:30:00.000Z',
      },
    ],
  },
);

const TokenAnswer = Type.Object(
  { accessToken: Type.String(), expiresAt: Timestamp },
  {
    $id: 'AccessToken',
    description: 'An access token (JWT, ES256) and when it expires; send it as "Authorization: Bearer <accessToken>".',
    examples: [{ accessToken: TOKEN, expiresAt: EXPIRES }],
  },
);

// Path parameters with an example id (the same check as IdParam in lib/schemas.ts).
const MemberIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: "The member's user id.", examples: [MEMBER_ID] }) });
const ApiKeyIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The API key id.', examples: [KEY_ID] }) });

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
      description:
        'Creates the organization and its first member with the `owner` role, and signs that person in. The slug must be free (409 `slug_taken`) and the email not yet registered (409 `email_taken`); a weak password is 400 `weak_password`. Limited per client address.',
      security: [],
      body: Type.Object(
        {
          organization: Type.Object({
            name: Type.String({ minLength: 1, maxLength: 200 }),
            slug: Type.String({
              pattern: identity.SLUG_PATTERN,
              description: 'Lowercase letters, digits and hyphens, 3-63 characters; used in /trust/{slug}.',
            }),
          }),
          user: Type.Object({ email: Email, password: Password, name: Type.Optional(Type.String({ maxLength: 200 })) }),
        },
        {
          examples: [
            {
              organization: { name: 'Acme Cloud Ltd', slug: 'acme' },
              user: { email: 'alex.morgan@acme.example', password: 'lantern-Orbit-quarry-57', name: 'Alex Morgan' },
            },
          ],
        },
      ),
      response: withProblems(
        {
          201: Type.Object(
            { organization: Org, user: Type.Object({ id: Type.String(), email: Type.String() }), accessToken: Type.String(), expiresAt: Timestamp },
            {
              description: 'Created: the organization, its owner, and an access token for the owner.',
              examples: [
                {
                  organization: { id: ORG_ID, slug: 'acme', name: 'Acme Cloud Ltd' },
                  user: { id: USER_ID, email: 'alex.morgan@acme.example' },
                  accessToken: TOKEN,
                  expiresAt: EXPIRES,
                },
              ],
            },
          ),
        },
        ['weak_password', 'slug_taken', 'email_taken'],
      ),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.signup(deps, req.body, String(req.id))),
  });

  app.post('/auth/login', {
    config,
    schema: {
      tags: ['auth'],
      operationId: 'login',
      summary: 'Exchange email and password for an access token',
      description:
        'Answers an access token for the organization named (or the first one joined). A wrong email or password is 401 `invalid_credentials`, the same for known and unknown emails. Repeated failures for one email (known or not) lock it for a while: 429 with Retry-After.',
      security: [],
      body: Type.Object(
        {
          email: Email,
          password: Password,
          organization: Type.Optional(
            Type.String({ maxLength: 100, description: 'Slug or id, for people in several organizations; default: the first joined.' }),
          ),
        },
        { examples: [{ email: 'alex.morgan@acme.example', password: 'lantern-Orbit-quarry-57', organization: 'acme' }] },
      ),
      response: withProblems(
        {
          200: Type.Object(
            { ...TokenAnswer.properties, organization: Type.Object({ id: Type.String(), slug: Type.String() }) },
            {
              description: 'Signed in: an access token for the organization.',
              examples: [{ accessToken: TOKEN, expiresAt: EXPIRES, organization: { id: ORG_ID, slug: 'acme' } }],
            },
          ),
        },
        ['invalid_credentials'],
      ),
    },
    handler: async (req) => identity.login(deps, req.body),
  });

  app.post('/auth/accept-invitation', {
    config,
    schema: {
      tags: ['auth'],
      operationId: 'acceptInvitation',
      summary: 'Join an organization with an invitation token',
      description:
        'A new person sets a password. Someone who already has an account gives its current password instead: an existing account never joins without its owner. An unknown, used or expired token is 404. Wrong passwords count towards the per-account lock-out (429).',
      security: [],
      body: Type.Object(
        { token: Type.String({ minLength: 10, maxLength: 200 }), password: Password, name: Type.Optional(Type.String({ maxLength: 200 })) },
        {
          examples: [{ token: 'inv_Q2xhaW1NZU9uY2VfOGY0YjJh', password: 'copper-Meadow-tundra-19', name: 'Riley Chen' }],
        },
      ),
      response: withProblems({ 201: { ...TokenAnswer, description: 'Joined: an access token for the new member.' } }, [
        'weak_password',
        'invalid_credentials',
        'not_found',
        'email_taken',
        'conflict',
      ]),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.acceptInvitation(deps, req.body, String(req.id))),
  });
};

/** Authenticated: who am I, members, API keys. */
export const accountRoutes: FastifyPluginAsyncTypebox<{ publicUrl: string }> = async (app, { publicUrl }) => {
  app.get('/me', {
    schema: {
      tags: ['auth'],
      operationId: 'getMe',
      summary: 'The caller: user, organization and role',
      description:
        'Who the credential acts for: the organization, the person (for an API key, its creator), the actor (user or API key) and the effective role. Useful to check a token or key before using it.',
      response: withProblems({
        200: Type.Object(
          {
            organization: Org,
            user: Type.Object({ id: Type.String(), email: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
            actor: Type.Object({ type: Type.Union([Type.Literal('user'), Type.Literal('api_key')]), id: Type.String() }),
            role: Role,
          },
          {
            description: 'The caller.',
            examples: [
              {
                organization: { id: ORG_ID, slug: 'acme', name: 'Acme Cloud Ltd' },
                user: { id: USER_ID, email: 'alex.morgan@acme.example', name: 'Alex Morgan' },
                actor: { type: 'api_key', id: KEY_ID },
                role: 'editor',
              },
            ],
          },
        ),
      }),
    },
    handler: async (req) => identity.me(req.ctx()),
  });

  app.get('/members', {
    schema: {
      tags: ['members'],
      operationId: 'listMembers',
      summary: 'Members of the organization',
      description:
        'Every person with access to the organization and their role, oldest first, one page at a time. Pending invitations are not members and are not listed.',
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
      description:
        "Creates an invitation with a one-time token for the person to accept, and e-mails it to them (the mail outbox); nobody can grant a role above their own, and someone already a member is 409. A scoped API key cannot invite: a member's sign-in would not be limited to its scopes. The `added` status is no longer produced.",
      body: Type.Object({ email: Email, role: Role }, { examples: [{ email: 'riley@acme.example', role: 'viewer' }] }),
      response: withProblems(
        {
          201: Type.Object(
            {
              status: Type.Union([Type.Literal('added'), Type.Literal('invited')]),
              member: Type.Optional(Member),
              invitation: Type.Optional(Invitation),
            },
            {
              description: 'Created: the invitation (its token is shown this once).',
              examples: [
                {
                  status: 'invited',
                  invitation: {
                    id: '0197a4d3-3e4f-7051-8263-748596071829',
                    email: 'riley@acme.example',
                    role: 'viewer',
                    token: 'inv_Q2xhaW1NZU9uY2VfOGY0YjJh',
                    expiresAt: '2026-06-11T09:30:00.000Z',
                  },
                },
              ],
            },
          ),
        },
        ['conflict'],
      ),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.addMember(req.ctx(), req.body, { publicUrl })),
  });

  app.patch('/members/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['members'],
      operationId: 'changeMemberRole',
      summary: "Change a member's role",
      description:
        "Sets the member's role; it applies to their next request. Nobody grants a role above their own; a scoped API key may lower roles but not raise them; the last owner cannot be demoted (409).",
      params: MemberIdParam,
      body: Type.Object({ role: Role }, { examples: [{ role: 'admin' }] }),
      response: withProblems({ 200: Member }, ['conflict']),
    },
    handler: async (req) => identity.changeMemberRole(req.ctx(), req.params.id, req.body.role),
  });

  app.delete('/members/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['members'],
      operationId: 'removeMember',
      summary: 'Remove a member (their API keys go with them)',
      description:
        "Ends the person's membership at once: their tokens for this organization and every API key they created stop working. The last owner cannot be removed (409).",
      params: MemberIdParam,
      response: withProblems({ 204: Type.Null() }, ['conflict']),
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
      description:
        "The key acts for its creator: with the lower of its role and the creator's current role, and not at all once the creator leaves the organization. A scoped key creates only keys within its own scopes.",
      body: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100 }),
          role: Role,
          scopes: Type.Optional(
            Type.Array(Type.Enum(SCOPES), { minItems: 1, maxItems: 50, description: 'Limit the key further than its role; `x:write` implies `x:read`.' }),
          ),
        },
        { examples: [{ name: 'GRC sync', role: 'editor', scopes: ['controls:write', 'evidence:read'] }] },
      ),
      response: withProblems({ 201: NewApiKey }),
    },
    handler: async (req, reply) => reply.code(201).send(await identity.createApiKey(req.ctx(), req.body)),
  });

  app.get('/api-keys', {
    config: { role: 'admin' },
    schema: {
      tags: ['api-keys'],
      operationId: 'listApiKeys',
      summary: 'API keys of the organization (never the secret)',
      description:
        'Every key of the organization, revoked ones included, with its role, scopes and when it was last used; the secret is never shown again after creation.',
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
      description: 'Marks the key revoked: the next request with it is 401. The key stays listed with `revokedAt` for the record; revoking is not undone.',
      params: ApiKeyIdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await identity.revokeApiKey(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
