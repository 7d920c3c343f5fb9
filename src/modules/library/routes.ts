import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery } from '../../lib/pagination.js';
import { Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import { CHOICES, LIBRARY_STATUSES } from './tables.js';
import { EXAMPLE_LIBRARY_ENTRY_ID, EXAMPLE_USER_ID, LibraryEntry, Owner } from './schemas.js';
import * as service from './service.js';
import { listConflicts } from './hygiene.js';

const LibraryAnswer = Type.Object({
  choice: Type.Optional(Nullable(Type.Enum(CHOICES))),
  text: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
});

// The same checks as IdParam; its own copy only to carry an example id into the document.
const EntryIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The library entry id.', examples: [EXAMPLE_LIBRARY_ENTRY_ID] }) });

const Refs = Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20, description: 'Annex A or CLD refs, e.g. A.8.5, CLD.9.5.1.' });
const FactKeys = Type.Array(Type.String({ minLength: 3, maxLength: 100 }), {
  maxItems: 20,
  description: 'Profile fact keys (e.g. data.storage_countries); each must exist in the profile.',
});

export const libraryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/library', {
    schema: {
      tags: ['library'],
      operationId: 'listLibraryEntries',
      summary: 'Answer library entries, newest first',
      description: 'Filters combine. With `q`, entries match the search words in their question or answer; the order stays newest first.',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(Type.Enum(LIBRARY_STATUSES)),
        stale: Type.Optional(Type.Boolean({ description: 'Only entries whose sources changed since review (true), or the others (false).', examples: [true] })),
        public: Type.Optional(Type.Boolean({ description: 'Only entries prospects may see (true), or the others (false).' })),
        q: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 500,
            description: 'Full-text search over questions and answers (web-search syntax: "quoted phrase", or, -word).',
          }),
        ),
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
      tags: ['library'],
      operationId: 'createLibraryEntry',
      summary: 'Add an answer to the library (approved unless `status: draft`)',
      description:
        'The entry answers later fills of the same question. An answer needs a choice or a text; an unknown control ref, a fact key missing from the profile, ' +
        'or an owner who is not a member is a 422. Entries are private unless `public` is true.',
      body: Type.Object(
        {
          question: Type.String({ minLength: 1, maxLength: 5000 }),
          answer: LibraryAnswer,
          controls: Type.Optional(Refs),
          facts: Type.Optional(FactKeys),
          ownerId: Type.Optional(Owner),
          public: Type.Optional(Type.Boolean()),
          status: Type.Optional(Type.Enum(LIBRARY_STATUSES)),
        },
        {
          examples: [
            {
              question: 'Is customer data encrypted at rest?',
              answer: { choice: 'yes', text: 'Customer data is encrypted at rest with AES-256; keys are held in AWS KMS.' },
              controls: ['A.8.24'],
              facts: ['hosting.providers'],
              public: true,
            },
          ],
        },
      ),
      response: withProblems({ 201: { ...LibraryEntry, description: 'The new library entry' } }),
    },
    handler: async (req, reply) => reply.code(201).send(await service.createEntry(req.ctx(), req.body)),
  });

  app.get('/library/conflicts', {
    schema: {
      tags: ['library'],
      operationId: 'listLibraryConflicts',
      summary: 'Entries that answer the same question differently (conflicts) or alike (duplicates)',
      description:
        'Two entries ask the same question when their questions are identical once normalized (lower case, letters and digits) ' +
        'or share at least 80% of their lexemes (Jaccard) with the same negation and time words ("not", "before", "only", ...): the rule ' +
        'by which a fill reuses an entry. Entries connected that way form a group. A group is a `conflict` when its answers differ ' +
        '(another choice; for answers without a choice, another text) or its entries cite different profile facts, and a `duplicate` ' +
        'when every entry says the same (redundant entries). Drafts and stale entries are included. Conflicts come first; the cursor is an offset.',
      querystring: Type.Object({
        ...PageQuery.properties,
        kind: Type.Optional(Type.Enum(['conflict', 'duplicate'], { description: 'Only groups of this kind.', examples: ['conflict'] })),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(
            Type.Object(
              {
                kind: Type.Enum(['conflict', 'duplicate']),
                question: Type.String({ description: "The oldest entry's wording." }),
                entries: Type.Array(
                  Type.Object({
                    id: Type.String(),
                    question: Type.String(),
                    choice: Nullable(Type.String()),
                    answerText: Nullable(Type.String()),
                    status: Type.Enum(LIBRARY_STATUSES),
                    stale: Type.Boolean(),
                    ownerId: Type.String(),
                    facts: Type.Array(Type.String()),
                    importId: Nullable(Type.String()),
                  }),
                ),
              },
              {
                $id: 'LibraryConflictGroup',
                description: 'Library entries that ask the same question: answered differently (conflict) or alike (duplicate).',
                examples: [
                  {
                    kind: 'conflict',
                    question: 'Is customer data encrypted at rest?',
                    entries: [
                      {
                        id: EXAMPLE_LIBRARY_ENTRY_ID,
                        question: 'Is customer data encrypted at rest?',
                        choice: 'yes',
                        answerText: 'AES-256 with keys in AWS KMS.',
                        status: 'approved',
                        stale: false,
                        ownerId: EXAMPLE_USER_ID,
                        facts: [],
                        importId: null,
                      },
                      {
                        id: '0193a3d0-8e9f-7a0b-9c1d-2e3f4a5b6c7d',
                        question: 'Is all customer data encrypted at rest?',
                        choice: 'partial',
                        answerText: 'Databases are encrypted; backups are not yet.',
                        status: 'draft',
                        stale: false,
                        ownerId: EXAMPLE_USER_ID,
                        facts: [],
                        importId: '0193a3cf-1a2b-7c3d-8e4f-5a6b7c8d9e0f',
                      },
                    ],
                  },
                ],
              },
            ),
          ),
          nextCursor: Nullable(Type.String()),
        }),
      }),
    },
    handler: async (req) => listConflicts(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor, kind: req.query.kind }),
  });

  app.get('/library/:id', {
    schema: {
      tags: ['library'],
      operationId: 'getLibraryEntry',
      summary: 'One library entry',
      params: EntryIdParam,
      description:
        "The entry with its controls, facts, staleness and where it came from (a questionnaire answer or an import row). Another organization's entry is a 404.",
      response: withProblems({ 200: LibraryEntry }),
    },
    handler: async (req) => service.getEntry(req.ctx(), req.params.id),
  });

  app.patch('/library/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'],
      operationId: 'updateLibraryEntry',
      summary: 'Edit, re-approve (clears staleness), publish or reassign a library entry',
      description:
        'Only the fields sent change, and the version goes up by one. Changing the question, the answer, the controls or the facts, or approving, clears staleness; ' +
        'setting the controls or approving confirms suggested controls. Send the `version` you read to get a 409 instead of overwriting a concurrent edit.',
      params: EntryIdParam,
      body: Type.Object(
        {
          question: Type.Optional(Type.String({ minLength: 1, maxLength: 5000 })),
          answer: Type.Optional(LibraryAnswer),
          controls: Type.Optional(Refs),
          facts: Type.Optional(FactKeys),
          ownerId: Type.Optional(Owner),
          public: Type.Optional(Type.Boolean()),
          status: Type.Optional(Type.Enum(LIBRARY_STATUSES)),
          version: Type.Optional(Type.Integer({ minimum: 1, description: 'The version you read: a concurrent edit is a 409.' })),
        },
        { minProperties: 1, examples: [{ status: 'approved', controls: ['A.8.24', 'A.5.31'], version: 3 }] },
      ),
      response: withProblems({ 200: LibraryEntry }),
    },
    handler: async (req) => service.updateEntry(req.ctx(), req.params.id, req.body),
  });

  app.delete('/library/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'],
      operationId: 'deleteLibraryEntry',
      summary: 'Remove a library entry; answers that used it are flagged stale',
      description:
        'Questionnaire answers that cited it report "library entry ... was deleted" among their stale reasons; a trust-page FAQ item that chose it leaves the page.',
      params: EntryIdParam,
      response: withProblems({ 204: { description: 'Deleted', type: 'null' } }),
    },
    handler: async (req, reply) => {
      await service.deleteEntry(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
