import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../lib/errors.js';
import { Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { profileCatalog } from './catalog.js';
import { FACT_TYPES, FACT_VISIBILITIES } from './tables.js';
import * as profile from './service.js';

const Key = Type.String({
  minLength: 3, maxLength: 100, pattern: '^[a-z][a-z0-9_]*\\.[a-z0-9_-]{1,64}$',
  description: 'A catalog key (`bcdr.rto_hours`) or `custom.<slug>` (slug: a-z, 0-9, _ and -).',
});
const Value = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.String())], {
  description: 'Typed by the key: string, number, boolean, list of strings, or a date as YYYY-MM-DD.',
});

const Fact = Type.Object({
  key: Type.String(),
  type: Type.Enum(FACT_TYPES),
  value: Value,
  visibility: Type.Enum(FACT_VISIBILITIES, { description: 'public: shown on the trust page and usable for prospects; private: internal answers only.' }),
  version: Type.Integer(),
  question: Nullable(Type.String({ description: 'The question the fact answers (required for custom keys).' })),
  label: Type.String(),
  custom: Type.Boolean(),
  updatedBy: Type.String(),
  updatedAt: Timestamp,
});

const CatalogItem = Type.Object({
  key: Type.String(),
  type: Type.Enum(FACT_TYPES),
  group: Type.String(),
  label: Type.String(),
  description: Type.String(),
  phrase: Type.String({ description: 'States the fact in an answer; {value} is replaced. Booleans: the sentence when true.' }),
  phraseFalse: Type.Optional(Type.String({ description: 'Booleans: the sentence when false.' })),
  unit: Type.Optional(Type.String()),
  integer: Type.Optional(Type.Boolean()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  format: Type.Optional(Type.Enum(['email', 'url'])),
  listOf: Type.Optional(Type.Enum(['countries'])),
  keywords: Type.Array(Type.String()),
});

/** If-Match: "3" or W/"3" or 3 -> 3. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m) throw new DomainError('validation_failed', 'If-Match must be the fact\'s version, e.g. "3"', { errors: [{ field: 'headers/if-match', message: 'not a version' }] });
  return Number(m[1]);
}

export const profileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/profile/catalog', {
    schema: {
      tags: ['profile'], operationId: 'getProfileCatalog', summary: 'The typed keys an organization profile may hold, with labels, units and answer phrases',
      response: withProblems({ 200: Type.Object({ items: Type.Array(CatalogItem), nextCursor: Type.Null() }) }),
    },
    handler: async () => ({ items: profileCatalog().items, nextCursor: null }),
  });

  app.get('/profile', {
    schema: {
      tags: ['profile'], operationId: 'getProfile', summary: 'The organization\'s facts, in catalog order, and the catalog keys still missing',
      querystring: Type.Object({ visibility: Type.Optional(Type.Enum(FACT_VISIBILITIES)) }),
      response: withProblems({ 200: Type.Object({ facts: Type.Array(Fact), missing: Type.Array(Type.String(), { description: 'Catalog keys without a value.' }) }) }),
    },
    handler: async (req) => profile.listFacts(req.ctx(), req.query),
  });

  app.get('/profile/facts/:key', {
    schema: {
      tags: ['profile'], operationId: 'getProfileFact', summary: 'One fact (ETag: its version)',
      params: Type.Object({ key: Key }),
      response: withProblems({ 200: Fact }),
    },
    handler: async (req, reply) => {
      const fact = await profile.getFact(req.ctx(), req.params.key);
      reply.header('etag', `"${fact.version}"`);
      return fact;
    },
  });

  app.put('/profile/facts/:key', {
    config: { role: 'editor' },
    schema: {
      tags: ['profile'], operationId: 'putProfileFact',
      summary: 'Set a fact (a new version each change). A value of the wrong type is 400, an unknown non-custom key 400. Changing an existing fact needs If-Match (or `version`): stale 409, none 428.',
      params: Type.Object({ key: Key }),
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 20 })) }),
      body: Type.Object({
        value: Value,
        visibility: Type.Optional(Type.Enum(FACT_VISIBILITIES, { description: 'Default: private on creation, unchanged on update.' })),
        question: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'The question this fact answers; required for custom keys.' }))),
        type: Type.Optional(Type.Enum(FACT_TYPES, { description: 'Custom keys: the type when the value does not imply it (a date is written as a string).' })),
        version: Type.Optional(Type.Integer({ minimum: 0, description: 'The version you read; alternative to If-Match (0: the fact must not exist).' })),
      }),
      response: withProblems({ 200: Fact }),
    },
    handler: async (req, reply) => {
      const fact = await profile.putFact(req.ctx(), req.params.key, req.body, parseIfMatch(req.headers['if-match']));
      reply.header('etag', `"${fact.version}"`);
      return fact;
    },
  });

  app.delete('/profile/facts/:key', {
    config: { role: 'editor' },
    schema: {
      tags: ['profile'], operationId: 'deleteProfileFact', summary: 'Delete a fact (recorded as a version of its own); with If-Match, only while still at that version',
      params: Type.Object({ key: Key }),
      headers: Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 20 })) }),
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await profile.deleteFact(req.ctx(), req.params.key, parseIfMatch(req.headers['if-match']));
      return reply.code(204).send(null);
    },
  });

  app.get('/profile/facts/:key/history', {
    schema: {
      tags: ['profile'], operationId: 'getProfileFactHistory', summary: 'Every version of a fact, deletions included, newest first',
      params: Type.Object({ key: Key }),
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 20 })),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Type.Object({
            version: Type.Integer(), deleted: Type.Boolean(), type: Type.Enum(FACT_TYPES), value: Nullable(Value), visibility: Type.Enum(FACT_VISIBILITIES),
            question: Nullable(Type.String()), changedFields: Type.Array(Type.String()), changedBy: Type.String(), changedAt: Timestamp, requestId: Nullable(Type.String()),
          })),
          nextCursor: Nullable(Type.String()),
        }),
      }),
    },
    handler: async (req) => profile.factHistory(req.ctx(), req.params.key, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });
};
