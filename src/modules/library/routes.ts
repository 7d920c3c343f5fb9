import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { IdParam, Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { CHOICES } from '../questionnaires/tables.js';
import { LIBRARY_STATUSES } from './tables.js';
import * as service from './service.js';
import { listConflicts } from './hygiene.js';

const LibraryAnswer = Type.Object({
  choice: Type.Optional(Nullable(Type.Enum(CHOICES))),
  text: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
});

export const LibraryEntry = Type.Object({
  id: Type.String(),
  question: Type.String(),
  answer: Type.Object({ choice: Nullable(Type.String({ description: 'yes, no, partial or n/a; or a buyer\'s list value saved from an answer.' })), text: Nullable(Type.String()) }),
  status: Type.Enum(LIBRARY_STATUSES),
  public: Type.Boolean({ description: 'May be shown to prospects: trust-page FAQ and self-serve answers.' }),
  ownerId: Type.String(),
  controls: Type.Array(Type.Object({ framework: Type.String(), ref: Type.String() })),
  facts: Type.Array(Type.String(), { description: 'Profile fact keys the answer rests on: a change to one makes the entry stale.' }),
  stale: Type.Boolean({ description: 'A control it rests on changed, or that control\'s evidence expired, since it was last reviewed.' }),
  staleReason: Nullable(Type.String()),
  staleAt: Nullable(Timestamp),
  source: Nullable(Type.Object({ questionnaireId: Nullable(Type.String()), questionId: Type.String() })),
  controlsConfirmed: Type.Boolean({ description: 'False while `controls` are the ones retrieval suggested on import; setting the controls or approving the entry confirms them.' }),
  import: Nullable(Type.Object({ id: Type.String({ description: 'The library import (POST /library/import) it came from.' }), row: Nullable(Type.Integer({ description: 'Its row in the imported file.' })) })),
  version: Type.Integer(),
  approvedBy: Nullable(Type.String()),
  approvedAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const Refs = Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20, description: 'Annex A or CLD refs, e.g. A.8.5, CLD.9.5.1.' });
const FactKeys = Type.Array(Type.String({ minLength: 3, maxLength: 100 }), { maxItems: 20, description: 'Profile fact keys (e.g. data.storage_countries); each must exist in the profile.' });
const Owner = Type.String({ format: 'uuid', description: 'A member of the organization (default: the caller).' });

export const libraryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/library', {
    schema: {
      tags: ['library'], operationId: 'listLibraryEntries', summary: 'Answer library entries, newest first',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(Type.Enum(LIBRARY_STATUSES)),
        stale: Type.Optional(Type.Boolean()),
        public: Type.Optional(Type.Boolean()),
        q: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Full-text search over questions and answers (web-search syntax: "quoted phrase", or, -word).' })),
      }),
      response: withProblems({ 200: Type.Object({ items: Type.Array(LibraryEntry), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => {
      const { limit, cursor, status, stale, q } = req.query;
      return service.listEntries(req.ctx(), { limit: limit ?? 50, cursor, status, stale, public: req.query.public, q });
    },
  });

  app.post('/library', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'], operationId: 'createLibraryEntry', summary: 'Add an answer to the library (approved unless `status: draft`)',
      body: Type.Object({
        question: Type.String({ minLength: 1, maxLength: 5000 }),
        answer: LibraryAnswer,
        controls: Type.Optional(Refs),
        facts: Type.Optional(FactKeys),
        ownerId: Type.Optional(Owner),
        public: Type.Optional(Type.Boolean()),
        status: Type.Optional(Type.Enum(LIBRARY_STATUSES)),
      }),
      response: withProblems({ 201: LibraryEntry }),
    },
    handler: async (req, reply) => reply.code(201).send(await service.createEntry(req.ctx(), req.body)),
  });

  app.get('/library/conflicts', {
    schema: {
      tags: ['library'], operationId: 'listLibraryConflicts',
      summary: 'Entries that answer the same question differently (conflicts) or alike (duplicates)',
      description: 'Two entries ask the same question when their questions are identical once normalized (lower case, letters and digits) '
        + 'or share at least 80% of their lexemes (Jaccard) with the same negation and time words ("not", "before", "only", ...): the rule '
        + 'by which a fill reuses an entry. Entries connected that way form a group. A group is a `conflict` when its answers differ '
        + '(another choice; for answers without a choice, another text) or its entries cite different profile facts, and a `duplicate` '
        + 'when every entry says the same (redundant entries). Drafts and stale entries are included. Conflicts come first; the cursor is an offset.',
      querystring: Type.Object({
        ...PageQuery.properties,
        kind: Type.Optional(Type.Enum(['conflict', 'duplicate'], { description: 'Only groups of this kind.' })),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Type.Object({
            kind: Type.Enum(['conflict', 'duplicate']),
            question: Type.String({ description: 'The oldest entry\'s wording.' }),
            entries: Type.Array(Type.Object({
              id: Type.String(), question: Type.String(), choice: Nullable(Type.String()), answerText: Nullable(Type.String()),
              status: Type.Enum(LIBRARY_STATUSES), stale: Type.Boolean(), ownerId: Type.String(),
              facts: Type.Array(Type.String()), importId: Nullable(Type.String()),
            })),
          })),
          nextCursor: Nullable(Type.String()),
        }),
      }),
    },
    handler: async (req) => listConflicts(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor, kind: req.query.kind }),
  });

  app.get('/library/:id', {
    schema: {
      tags: ['library'], operationId: 'getLibraryEntry', summary: 'One library entry', params: IdParam,
      response: withProblems({ 200: LibraryEntry }),
    },
    handler: async (req) => service.getEntry(req.ctx(), req.params.id),
  });

  app.patch('/library/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'], operationId: 'updateLibraryEntry',
      summary: 'Edit, re-approve (clears staleness), publish or reassign a library entry',
      params: IdParam,
      body: Type.Object({
        question: Type.Optional(Type.String({ minLength: 1, maxLength: 5000 })),
        answer: Type.Optional(LibraryAnswer),
        controls: Type.Optional(Refs),
        facts: Type.Optional(FactKeys),
        ownerId: Type.Optional(Owner),
        public: Type.Optional(Type.Boolean()),
        status: Type.Optional(Type.Enum(LIBRARY_STATUSES)),
        version: Type.Optional(Type.Integer({ minimum: 1, description: 'The version you read: a concurrent edit is a 409.' })),
      }, { minProperties: 1 }),
      response: withProblems({ 200: LibraryEntry }),
    },
    handler: async (req) => service.updateEntry(req.ctx(), req.params.id, req.body),
  });

  app.delete('/library/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'], operationId: 'deleteLibraryEntry', summary: 'Remove a library entry; answers that used it are flagged stale',
      params: IdParam, response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await service.deleteEntry(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });

  app.post('/questionnaires/:id/questions/:questionId/library', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'], operationId: 'saveAnswerToLibrary',
      summary: 'Save an approved questionnaire answer to the library, with the controls it cites',
      params: Type.Object({ id: Type.String({ format: 'uuid' }), questionId: Type.String({ format: 'uuid' }) }),
      body: Type.Object({
        question: Type.Optional(Type.String({ minLength: 1, maxLength: 5000, description: 'A general wording to store instead of the buyer\'s.' })),
        ownerId: Type.Optional(Owner),
        public: Type.Optional(Type.Boolean()),
        controls: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 50, description: 'The controls the entry stands on, as the reviewer confirms or corrects them (default: the controls the answer cited).' })),
      }),
      response: withProblems({ 201: LibraryEntry }),
    },
    handler: async (req, reply) => reply.code(201).send(await service.saveFromAnswer(req.ctx(), req.params.id, req.params.questionId, req.body)),
  });
};
