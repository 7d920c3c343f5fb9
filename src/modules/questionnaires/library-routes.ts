import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { withProblems } from '../../lib/schemas.js';
import { LibraryEntry, Owner } from '../library/index.js';
import { saveFromAnswer } from './library-save.js';

/** Saving a reviewed answer to the library: the questionnaire reads its answer, the library stores the entry. */
export const saveToLibraryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/questionnaires/:id/questions/:questionId/library', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'],
      operationId: 'saveAnswerToLibrary',
      summary: 'Save an approved questionnaire answer to the library, with the controls it cites',
      description:
        "The entry is approved and records its source question; it carries the answer's profile facts, and the documents and evidence it quotes, " +
        'so that a later change to any of them makes it stale. An answer that is not approved is a 422.',
      params: Type.Object({ id: Type.String({ format: 'uuid' }), questionId: Type.String({ format: 'uuid' }) }),
      body: Type.Object(
        {
          question: Type.Optional(Type.String({ minLength: 1, maxLength: 5000, description: "A general wording to store instead of the buyer's." })),
          ownerId: Type.Optional(Owner),
          public: Type.Optional(Type.Boolean()),
          controls: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 40 }), {
              maxItems: 50,
              description: 'The controls the entry stands on, as the reviewer confirms or corrects them (default: the controls the answer cited).',
            }),
          ),
        },
        { examples: [{ question: 'Is customer data encrypted at rest?', public: true, controls: ['A.8.24'] }] },
      ),
      response: withProblems({ 201: { ...LibraryEntry, description: 'The new library entry, approved' } }),
    },
    handler: async (req, reply) => reply.code(201).send(await saveFromAnswer(req.ctx(), req.params.id, req.params.questionId, req.body)),
  });
};
