import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../lib/errors.js';
import { Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { profileCatalog } from './catalog.js';
import { FACT_TYPES, FACT_VISIBILITIES } from './tables.js';
import * as profile from './service.js';

const Key = Type.String({
  minLength: 3,
  maxLength: 100,
  pattern: '^[a-z][a-z0-9_]*\\.[a-z0-9_-]{1,64}$',
  description: 'A catalog key (`bcdr.rto_hours`) or `custom.<slug>` (slug: a-z, 0-9, _ and -).',
  examples: ['bcdr.rto_hours'],
});
const USER_ID = '0197a4a0-0b1c-7d2e-8f30-415263748596';
const Value = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.String())], {
  description: 'Typed by the key: string, number, boolean, list of strings, or a date as YYYY-MM-DD.',
});

const Fact = Type.Object(
  {
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
  },
  {
    $id: 'ProfileFact',
    description: 'A typed, versioned fact of the organization profile.',
    examples: [
      {
        key: 'bcdr.rto_hours',
        type: 'number',
        value: 4,
        visibility: 'public',
        version: 3,
        question: null,
        label: 'Recovery time objective',
        custom: false,
        updatedBy: USER_ID,
        updatedAt: '2026-05-18T13:05:00.000Z',
      },
    ],
  },
);

const FactVersion = Type.Object(
  {
    version: Type.Integer(),
    deleted: Type.Boolean(),
    type: Type.Enum(FACT_TYPES),
    value: Nullable(Value),
    visibility: Type.Enum(FACT_VISIBILITIES),
    question: Nullable(Type.String()),
    changedFields: Type.Array(Type.String()),
    changedBy: Type.String(),
    changedAt: Timestamp,
    requestId: Nullable(Type.String()),
  },
  {
    $id: 'ProfileFactVersion',
    description: 'One version of a fact; a deletion is a version with `deleted: true` and a null value.',
    examples: [
      {
        version: 3,
        deleted: false,
        type: 'number',
        value: 4,
        visibility: 'public',
        question: null,
        changedFields: ['value'],
        changedBy: USER_ID,
        changedAt: '2026-05-18T13:05:00.000Z',
        requestId: '0197a5c2-5b1e-7c3d-9f00-2a4b6c8d0e1f',
      },
    ],
  },
);

const CatalogItem = Type.Object(
  {
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
  },
  {
    $id: 'ProfileCatalogItem',
    description: 'A key the profile may hold: its type, limits, label and the phrase an answer states it with.',
    examples: [
      {
        key: 'bcdr.rto_hours',
        type: 'number',
        group: 'bcdr',
        label: 'Recovery time objective',
        description: 'The longest the service may be down after a disaster before it is restored (RTO).',
        phrase: 'Our recovery time objective is {value} hours.',
        unit: 'hours',
        min: 0,
        keywords: ['rto', 'recovery time objective', 'recovery time', 'restore service'],
      },
    ],
  },
);

/** If-Match: "3" or W/"3" or 3 -> 3. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m)
    throw new DomainError('validation_failed', 'If-Match must be the fact\'s version, e.g. "3"', {
      errors: [{ field: 'headers/if-match', message: 'not a version' }],
    });
  return Number(m[1]);
}

export const profileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/profile/catalog', {
    schema: {
      tags: ['profile'],
      operationId: 'getProfileCatalog',
      summary: 'The typed keys an organization profile may hold, with labels, units and answer phrases',
      description:
        'The fixed catalog of profile keys (the same for every organization), in one page. Any other key must be `custom.<slug>` and carry the question it answers.',
      response: withProblems({ 200: Type.Object({ items: Type.Array(CatalogItem), nextCursor: Type.Null() }) }),
    },
    handler: async () => ({ items: profileCatalog().items, nextCursor: null }),
  });

  app.get('/profile', {
    schema: {
      tags: ['profile'],
      operationId: 'getProfile',
      summary: "The organization's facts, in catalog order, and the catalog keys still missing",
      description:
        'Every current fact (custom ones after the catalog keys), optionally only the public or private ones, and the catalog keys that have no value yet: the gaps questionnaires will meet.',
      querystring: Type.Object({ visibility: Type.Optional(Type.Enum(FACT_VISIBILITIES)) }),
      response: withProblems({
        200: Type.Object(
          { facts: Type.Array(Fact), missing: Type.Array(Type.String(), { description: 'Catalog keys without a value.' }) },
          {
            description: 'The profile: facts and missing keys.',
            examples: [
              {
                facts: [
                  {
                    key: 'bcdr.rto_hours',
                    type: 'number',
                    value: 4,
                    visibility: 'public',
                    version: 3,
                    question: null,
                    label: 'Recovery time objective',
                    custom: false,
                    updatedBy: USER_ID,
                    updatedAt: '2026-05-18T13:05:00.000Z',
                  },
                ],
                missing: ['bcdr.rpo_minutes', 'pentest.frequency'],
              },
            ],
          },
        ),
      }),
    },
    handler: async (req) => profile.listFacts(req.ctx(), req.query),
  });

  app.get('/profile/facts/:key', {
    schema: {
      tags: ['profile'],
      operationId: 'getProfileFact',
      summary: 'One fact (ETag: its version)',
      description:
        'The current value of one fact with its version, also as ETag to send back as If-Match when changing it. A key without a value (or deleted) is 404.',
      params: Type.Object({ key: Key }),
      response: withProblems({ 200: { ...Fact, description: 'The fact (ETag: its version).' } }),
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
      tags: ['profile'],
      operationId: 'putProfileFact',
      summary:
        'Set a fact (a new version each change). A value of the wrong type is 400, an unknown non-custom key 400. Changing an existing fact needs If-Match (or `version`): stale 409, none 428.',
      description:
        'Creates or changes the fact as a new version (an identical write makes none), emits `profile.fact_changed`, and marks stale the library answers that cite it. Answers the stored fact with its version as ETag.',
      params: Type.Object({ key: Key }),
      headers: Type.Object({
        'if-match': Type.Optional(
          Type.String({ maxLength: 20, description: 'The version you read, as its ETag gave it (`"3"`); needed to change an existing fact.' }),
        ),
      }),
      body: Type.Object(
        {
          value: Value,
          visibility: Type.Optional(Type.Enum(FACT_VISIBILITIES, { description: 'Default: private on creation, unchanged on update.' })),
          question: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'The question this fact answers; required for custom keys.' }))),
          type: Type.Optional(
            Type.Enum(FACT_TYPES, { description: 'Custom keys: the type when the value does not imply it (a date is written as a string).' }),
          ),
          version: Type.Optional(Type.Integer({ minimum: 0, description: 'The version you read; alternative to If-Match (0: the fact must not exist).' })),
        },
        { examples: [{ value: 4, visibility: 'public', version: 2 }] },
      ),
      response: withProblems({ 200: { ...Fact, description: 'The stored fact (ETag: its version).' } }, ['version_conflict', 'precondition_required']),
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
      tags: ['profile'],
      operationId: 'deleteProfileFact',
      summary: 'Delete a fact (recorded as a version of its own); with If-Match, only while still at that version',
      description:
        'Removes the value: the history keeps a deletion version, `profile.fact_changed` is emitted with `change: deleted`, and library answers citing the fact go stale. With If-Match, a fact changed since is 409; an absent one is 404.',
      params: Type.Object({ key: Key }),
      headers: Type.Object({
        'if-match': Type.Optional(Type.String({ maxLength: 20, description: 'Delete only while the fact is still at this version (`"3"`).' })),
      }),
      response: withProblems({ 204: Type.Null() }, ['version_conflict']),
    },
    handler: async (req, reply) => {
      await profile.deleteFact(req.ctx(), req.params.key, parseIfMatch(req.headers['if-match']));
      return reply.code(204).send(null);
    },
  });

  app.get('/profile/facts/:key/history', {
    schema: {
      tags: ['profile'],
      operationId: 'getProfileFactHistory',
      summary: 'Every version of a fact, deletions included, newest first',
      description:
        'The append-only history of one key: each version with its value, visibility, the fields it changed, who changed it and when; the request id links it to the audit log.',
      params: Type.Object({ key: Key }),
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(FactVersion),
          nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.' })),
        }),
      }),
    },
    handler: async (req) => profile.factHistory(req.ctx(), req.params.key, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });
};
