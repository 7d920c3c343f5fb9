// The library's response shapes, apart from its routes so that other modules (and the OpenAPI
// examples) can use them without loading the route plugins.
import { Type } from 'typebox';
import { Nullable, Timestamp } from '../../lib/schemas.js';
import { LIBRARY_STATUSES } from './tables.js';

// Example values shared by the schemas, so the examples in the OpenAPI document agree.
export const EXAMPLE_LIBRARY_ENTRY_ID = '0193a0f1-2b3c-7d4e-9f5a-6b7c8d9e0f1a';
export const EXAMPLE_USER_ID = '01939f5a-1c2d-7e3f-8a4b-5c6d7e8f9a01';
export const EXAMPLE_LIBRARY_ENTRY = {
  id: EXAMPLE_LIBRARY_ENTRY_ID,
  question: 'Is customer data encrypted at rest?',
  answer: { choice: 'yes', text: 'Customer data is encrypted at rest with AES-256; keys are held in AWS KMS and rotated every year.' },
  status: 'approved',
  public: true,
  ownerId: EXAMPLE_USER_ID,
  controls: [{ framework: 'iso27001-2022', ref: 'A.8.24' }],
  facts: ['hosting.providers'],
  stale: false,
  staleReason: null,
  staleAt: null,
  source: { questionnaireId: '0193a1b0-3a4b-7c5d-8e6f-7a8b9c0d1e2f', questionId: '0193a1b2-5c6d-7e8f-9a0b-1c2d3e4f5a6b' },
  controlsConfirmed: true,
  import: null,
  version: 3,
  approvedBy: EXAMPLE_USER_ID,
  approvedAt: '2026-10-02T11:00:00.000Z',
  createdAt: '2026-10-02T11:00:00.000Z',
  updatedAt: '2026-10-20T16:45:00.000Z',
};

export const LibraryEntry = Type.Object(
  {
    id: Type.String(),
    question: Type.String(),
    answer: Type.Object({
      choice: Nullable(Type.String({ description: "yes, no, partial or n/a; or a buyer's list value saved from an answer." })),
      text: Nullable(Type.String()),
    }),
    status: Type.Enum(LIBRARY_STATUSES),
    public: Type.Boolean({ description: 'May be shown to prospects: trust-page FAQ and self-serve answers.' }),
    ownerId: Type.String(),
    controls: Type.Array(Type.Object({ framework: Type.String(), ref: Type.String() })),
    facts: Type.Array(Type.String(), { description: 'Profile fact keys the answer rests on: a change to one makes the entry stale.' }),
    stale: Type.Boolean({ description: "A control it rests on changed, or that control's evidence expired, since it was last reviewed." }),
    staleReason: Nullable(Type.String()),
    staleAt: Nullable(Timestamp),
    source: Nullable(Type.Object({ questionnaireId: Nullable(Type.String()), questionId: Type.String() })),
    controlsConfirmed: Type.Boolean({
      description: 'False while `controls` are the ones retrieval suggested on import; setting the controls or approving the entry confirms them.',
    }),
    import: Nullable(
      Type.Object({
        id: Type.String({ description: 'The library import (POST /library/import) it came from.' }),
        row: Nullable(Type.Integer({ description: 'Its row in the imported file.' })),
      }),
    ),
    version: Type.Integer(),
    approvedBy: Nullable(Type.String()),
    approvedAt: Nullable(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    $id: 'LibraryEntry',
    description:
      'An approved (or draft) answer to a recurring question, with the controls and profile facts it rests on; fills reuse it for the same question.',
    examples: [EXAMPLE_LIBRARY_ENTRY],
  },
);

export const Owner = Type.String({ format: 'uuid', description: 'A member of the organization (default: the caller).' });
