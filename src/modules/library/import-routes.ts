import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { DomainError, type ErrorCode } from '../../lib/errors.js';
import { field, readUpload } from '../../lib/multipart.js';
import { Nullable, withProblems } from '../../lib/schemas.js';
import type { BlobStore } from '../../lib/storage.js';
import { QuestionnaireParseError } from '../../formats/errors.js';
import type { MappingOverride } from '../../formats/questionnaire.js';
import { importLibrary, type ControlSuggester } from './import.js';
import { EXAMPLE_LIBRARY_ENTRY, LibraryEntry } from './schemas.js';

const PARSE_ERRORS: Record<string, ErrorCode> = {
  not_a_spreadsheet: 'unsupported_media_type',
  encrypted: 'bad_request',
  corrupt: 'bad_request',
  too_large: 'payload_too_large',
  no_questions: 'unprocessable',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const invalid = (name: string, message: string) => new DomainError('validation_failed', `${name} ${message}`, { errors: [{ field: `body/${name}`, message }] });

function booleanField(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw invalid(name, 'must be true or false');
}

const ImportResult = Type.Object(
  {
    importId: Type.String(),
    fileName: Type.String(),
    sha256: Type.String(),
    replayed: Type.Boolean({
      description: 'True when this file (same SHA-256) was imported before: nothing changed, and every row it had counts as a duplicate.',
    }),
    imported: Type.Integer({ description: 'Rows that became new entries.' }),
    duplicates: Type.Integer({ description: 'Rows the library already answers the same way (not created again).' }),
    conflicts: Type.Integer({ description: 'Rows the library answers differently: created as drafts, listed in GET /library/conflicts.' }),
    skipped: Type.Integer({ description: 'Questions without an answer in the file.' }),
    entries: Type.Array(LibraryEntry, { description: 'The entries created (imported and conflicting rows), with their suggested controls.' }),
    rows: Type.Array(
      Type.Object({
        row: Type.Integer(),
        ref: Nullable(Type.String()),
        question: Type.String(),
        outcome: Type.Enum(['imported', 'duplicate', 'conflict']),
        entryId: Type.String({ description: 'The entry created for the row; for a duplicate, the entry that already answers it.' }),
        conflictsWith: Type.Array(Type.String(), { description: 'Conflicts: the entries that answer the same question differently.' }),
      }),
    ),
  },
  {
    $id: 'LibraryImportResult',
    description: 'What a library import did with each answered row of the file.',
    examples: [
      {
        importId: '0193a3cf-1a2b-7c3d-8e4f-5a6b7c8d9e0f',
        fileName: 'acme-corp-security-review-2025-answered.xlsx',
        sha256: '8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4',
        replayed: false,
        imported: 1,
        duplicates: 1,
        conflicts: 0,
        skipped: 2,
        entries: [
          {
            ...EXAMPLE_LIBRARY_ENTRY,
            id: '0193a3d1-4c5d-7e6f-8a7b-9c0d1e2f3a4b',
            question: 'Do you run an annual penetration test by an independent firm?',
            answer: { choice: 'yes', text: 'Yes, every year by an independent firm; the summary letter is available under NDA.' },
            status: 'draft',
            public: false,
            controls: [{ framework: 'iso27001-2022', ref: 'A.8.8' }],
            facts: [],
            source: null,
            controlsConfirmed: false,
            import: { id: '0193a3cf-1a2b-7c3d-8e4f-5a6b7c8d9e0f', row: 14 },
            version: 1,
            approvedBy: null,
            approvedAt: null,
            createdAt: '2026-10-21T09:30:00.000Z',
            updatedAt: '2026-10-21T09:30:00.000Z',
          },
        ],
        rows: [
          {
            row: 14,
            ref: '4.2',
            question: 'Do you run an annual penetration test by an independent firm?',
            outcome: 'imported',
            entryId: '0193a3d1-4c5d-7e6f-8a7b-9c0d1e2f3a4b',
            conflictsWith: [],
          },
          { row: 15, ref: '4.3', question: 'Is customer data encrypted at rest?', outcome: 'duplicate', entryId: EXAMPLE_LIBRARY_ENTRY.id, conflictsWith: [] },
        ],
      },
    ],
  },
);

// What the handler reads from the multipart body: for the OpenAPI document only, not validated here.
const LibraryUpload = Type.Object({
  file: Type.String({ format: 'binary', description: 'A past, answered questionnaire: XLSX, CSV or JSON with question and answer columns.' }),
  approve: Type.Optional(Type.Boolean({ default: false, description: 'true: new entries are approved at once (true/false, 1/0, yes/no, on/off).' })),
  ownerId: Type.Optional(Type.String({ format: 'uuid', description: 'The member who owns the new entries (default: the caller).' })),
  mapping: Type.Optional(
    Type.String({
      description:
        'JSON object correcting the detected layout, as for POST /questionnaires: sheet, headerRow, questionColumn, idColumn, sectionColumn, ' +
        'answerColumns [{column, role: choice, text or comment}].',
      examples: ['{"sheet":"Answers","headerRow":1,"questionColumn":"B","answerColumns":[{"column":"C","role":"choice"},{"column":"D","role":"text"}]}'],
    }),
  ),
});

export interface LibraryImportRouteOptions {
  config: Config;
  blobs: BlobStore;
  /** Retrieval's controls for each question (from the questionnaires module, wired in app.ts). */
  suggestControls?: ControlSuggester;
}

// Its own plugin so that only this route takes multipart bodies.
export const libraryImportRoutes: FastifyPluginAsyncTypebox<LibraryImportRouteOptions> = async (app, { config, blobs, suggestControls }) => {
  await app.register(multipart, { limits: { fileSize: config.limits.uploadBytes, files: 1 } });

  app.post('/library/import', {
    config: { role: 'editor' },
    schema: {
      tags: ['library'],
      operationId: 'importLibrary',
      summary: 'Import a past, answered questionnaire (XLSX, CSV or JSON) into the answer library',
      description:
        "multipart/form-data with the file and optional `approve`, `ownerId` and `mapping`. The layout is detected as for a buyer's questionnaire; " +
        'each question with an answer becomes an entry: a Yes/No/Partial/N/A value (or a text opening with one) is the choice, answer ' +
        'texts and comments are the text. A row whose question the library already has (same words once normalized, or 80% of the same ' +
        'lexemes with the same negation words) with the same answer is a duplicate and is not created; with another answer it is ' +
        'created as a draft and reported as a conflict. New entries are drafts unless `approve`, carry the top 3 controls retrieval ' +
        'suggests (`controlsConfirmed: false` until someone sets the controls or approves the entry), and record the import and row. ' +
        'The same file again (same SHA-256, whatever its name) changes nothing and answers 200 with `replayed: true`, `imported: 0`, ' +
        'every row the first import had counted in `duplicates`, and empty `entries` and `rows`. One audit record (library.imported) per import. ' +
        'A file with no answered question is 422; an unreadable one 400/415, too large 413.',
      'x-multipart': LibraryUpload,
      response: withProblems({
        201: { ...ImportResult, description: 'The file was imported: the entries created and the outcome of each row' },
        200: { ...ImportResult, description: 'The same file was imported before (`replayed: true`): nothing changed' },
      }),
    },
    handler: async (req, reply) => {
      const upload = await readUpload(req, blobs, config.limits.uploadBytes);
      let bytes: Buffer;
      let approve: boolean | undefined;
      let ownerId: string | undefined;
      let mapping: MappingOverride | undefined;
      // The file is read, not kept: the import records its hash and name only.
      try {
        if (!upload.file) throw invalid('file', 'is required');
        approve = booleanField(field(upload.fields, 'approve'), 'approve');
        ownerId = field(upload.fields, 'ownerId');
        if (ownerId !== undefined && !UUID.test(ownerId)) throw invalid('ownerId', 'must be a user id (uuid)');
        const rawMapping = field(upload.fields, 'mapping');
        if (rawMapping) {
          try {
            const m = JSON.parse(rawMapping) as unknown;
            if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error('not an object');
            mapping = m as MappingOverride;
          } catch {
            throw invalid('mapping', 'must be a JSON object');
          }
        }
        bytes = await blobs.readVerified(upload.file.stored.sha256);
      } finally {
        if (upload.file) await blobs.discard(upload.file.stored);
      }
      const file = upload.file!;
      const result = await importLibrary(
        req.ctx(),
        {
          sha256: file.stored.sha256,
          fileName: file.fileName.slice(0, 300),
          ...(approve !== undefined ? { approve } : {}),
          ...(ownerId ? { ownerId } : {}),
          parse: async () => {
            try {
              return await req.server.parsers.parseQuestionnaire({
                fileName: file.fileName,
                bytes,
                profile: 'editor',
                mapping: { ...mapping, withValues: true },
              });
            } catch (err) {
              if (err instanceof QuestionnaireParseError) throw new DomainError(PARSE_ERRORS[err.code] ?? 'bad_request', err.message);
              throw err;
            }
          },
        },
        suggestControls,
      );
      return reply.code(result.created ? 201 : 200).send(result.body);
    },
  });
};
