import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { field, readUpload, type Upload } from '../../lib/multipart.js';
import { PageQuery } from '../../lib/pagination.js';
import { Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import type { BlobStore } from '../../lib/storage.js';
import { DomainError } from '../../lib/errors.js';
import type { FastifyRequest } from 'fastify';
import { TextIndex, UseForAnswers } from '../knowledge/index.js';
import { reprDigest } from '../files/index.js';
import * as service from './service.js';

// Example values shared by the schemas below, so the examples in the OpenAPI document agree.
const EXAMPLE_EVIDENCE_ID = '01939f6e-4b2a-7c41-9d3e-2f8a6b1c5d70';
const EXAMPLE_USER_ID = '01939f5a-1c2d-7e3f-8a4b-5c6d7e8f9a01';
const EXAMPLE_VERSION = {
  version: 2,
  sha256: '5d41402abc4b2a76b9719d911017c592ae8f3c1e6f0b7a3d2c9e8f1a4b6d3c2e',
  size: 482113,
  fileName: 'backup-restore-test-2026-q3.pdf',
  contentType: 'application/pdf',
  url: null,
  uploadedBy: EXAMPLE_USER_ID,
  uploadedAt: '2026-09-16T08:12:44.000Z',
};

const EvidenceVersion = Type.Object(
  {
    version: Type.Integer(),
    sha256: Nullable(Type.String()),
    size: Nullable(Type.Integer()),
    fileName: Nullable(Type.String()),
    contentType: Nullable(Type.String()),
    url: Nullable(Type.String()),
    uploadedBy: Type.String(),
    uploadedAt: Timestamp,
  },
  {
    $id: 'EvidenceVersion',
    description: 'One version of a piece of evidence: a file (sha256, size, fileName, contentType; url null) or a link (url; the file fields null).',
    examples: [EXAMPLE_VERSION],
  },
);

const Evidence = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    description: Nullable(Type.String()),
    kind: Type.Enum(['file', 'link']),
    url: Nullable(Type.String()),
    visibility: Type.Enum(['public', 'internal']),
    validFrom: Nullable(Timestamp),
    expiresAt: Nullable(Timestamp),
    status: Type.Enum(service.EVIDENCE_STATUSES, { description: `expired once expiresAt passes; expiring within ${service.EXPIRING_SOON_DAYS} days of it` }),
    currentVersion: Type.Integer(),
    controls: Type.Array(Type.Object({ framework: Type.String(), ref: Type.String() })),
    createdBy: Type.String(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    useForAnswers: UseForAnswers('this file'),
    textIndex: TextIndex('this file'),
    versions: Type.Optional(Type.Array(EvidenceVersion, { description: 'Newest first; in answers about one item only, not in lists.' })),
  },
  {
    $id: 'Evidence',
    description: 'A piece of evidence (a file or a link) with its validity dates and the controls it supports.',
    examples: [
      {
        id: EXAMPLE_EVIDENCE_ID,
        title: 'Backup restore test, Q3 2026',
        description: 'Quarterly restore of the production database into an isolated account.',
        kind: 'file',
        url: null,
        visibility: 'internal',
        validFrom: '2026-09-15T00:00:00.000Z',
        expiresAt: '2027-09-15T00:00:00.000Z',
        status: 'valid',
        currentVersion: 2,
        controls: [
          { framework: 'iso27001-2022', ref: 'A.8.13' },
          { framework: 'iso27017-2015', ref: 'CLD.12.1.5' },
        ],
        createdBy: EXAMPLE_USER_ID,
        createdAt: '2026-06-02T10:05:00.000Z',
        updatedAt: '2026-09-16T08:12:44.000Z',
        useForAnswers: true,
        textIndex: { status: 'indexed', passages: 14, version: 2, detail: null },
        versions: [
          EXAMPLE_VERSION,
          {
            ...EXAMPLE_VERSION,
            version: 1,
            sha256: '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
            size: 455020,
            fileName: 'backup-restore-test-2026-q2.pdf',
            uploadedAt: '2026-06-02T10:05:00.000Z',
          },
        ],
      },
    ],
  },
);

// The same check as the route's params; its own copy only to carry an example id into the document.
const EvidenceIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The evidence id.', examples: [EXAMPLE_EVIDENCE_ID] }) });

const DateLike = Type.String({ maxLength: 40, description: 'ISO 8601 date or date-time' });
const JsonEvidence = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 300 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
    url: Type.String({ maxLength: 2000, description: 'Link evidence (a dashboard, a ticket, a report in another system).' }),
    visibility: Type.Optional(Type.Enum(['public', 'internal'])),
    validFrom: Type.Optional(Nullable(DateLike)),
    expiresAt: Type.Optional(Nullable(DateLike)),
    controls: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 200 })),
  },
  {
    examples: [
      {
        title: 'Vulnerability scan dashboard',
        url: 'https://scanner.acme.example/dashboards/production',
        visibility: 'internal',
        validFrom: '2026-09-01',
        expiresAt: '2026-12-01',
        controls: ['A.8.8', 'CLD.12.1.5'],
      },
    ],
  },
);

// What the handler reads from a multipart body (inputFromUpload): for the OpenAPI document only, not validated here.
const MultipartDates = {
  validFrom: Type.Optional(Type.String({ description: 'ISO 8601 date or date-time from which the evidence is valid.' })),
  expiresAt: Type.Optional(Type.String({ description: 'ISO 8601 date or date-time at which the evidence expires; after validFrom.' })),
};
const EvidenceUpload = Type.Object({
  file: Type.Optional(
    Type.String({ format: 'binary', description: 'The evidence file (at most the upload limit, 25 MiB by default). Required unless `url` is sent instead.' }),
  ),
  url: Type.Optional(Type.String({ description: 'Link evidence instead of a file (http or https); not together with `file`.' })),
  title: Type.String({ maxLength: 300, description: 'A short name for the evidence.' }),
  description: Type.Optional(Type.String({ description: 'What the evidence shows.' })),
  visibility: Type.Optional(
    Type.Enum(['public', 'internal'], { default: 'internal', description: 'internal: members only; public: its text may also answer prospects.' }),
  ),
  ...MultipartDates,
  controls: Type.Optional(
    Type.Array(Type.String(), {
      description: 'Control refs the evidence supports, such as A.8.5 or CLD.12.1.5: repeat the field, or comma-separate refs in one value.',
    }),
  ),
  useForAnswers: Type.Optional(
    Type.Boolean({
      default: true,
      description:
        'true or false: whether the text of a PDF, DOCX, Markdown, HTML or plain-text file is split into passages that questionnaire answers quote and cite.',
    }),
  ),
});
const EvidenceVersionUpload = Type.Object({
  file: Type.Optional(Type.String({ format: 'binary', description: 'The new file. Required for file evidence; link evidence takes a new `url` instead.' })),
  url: Type.Optional(Type.String({ description: 'The new link, for link evidence (http or https).' })),
  ...MultipartDates,
});

function inputFromUpload(u: Upload): service.EvidenceInput {
  const controls = (u.fields.controls ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const visibility = field(u.fields, 'visibility');
  const useForAnswers = field(u.fields, 'useForAnswers');
  if (useForAnswers !== undefined && useForAnswers !== 'true' && useForAnswers !== 'false') {
    throw new DomainError('validation_failed', 'body/useForAnswers must be true or false', {
      errors: [{ field: 'body/useForAnswers', message: 'must be true or false' }],
    });
  }
  if (visibility !== undefined && visibility !== 'public' && visibility !== 'internal') {
    throw new DomainError('validation_failed', 'body/visibility must be public or internal', {
      errors: [{ field: 'body/visibility', message: 'must be public or internal' }],
    });
  }
  return {
    title: field(u.fields, 'title'),
    description: field(u.fields, 'description') ?? null,
    url: field(u.fields, 'url') ?? null,
    visibility,
    validFrom: field(u.fields, 'validFrom'),
    expiresAt: field(u.fields, 'expiresAt'),
    controls,
    ...(useForAnswers !== undefined ? { useForAnswers: useForAnswers === 'true' } : {}),
  };
}

export const evidenceRoutes: FastifyPluginAsyncTypebox<{ config: Config; blobs: BlobStore }> = async (app, opts) => {
  const blobs = opts.blobs;
  const maxBytes = opts.config.limits.uploadBytes;
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 1 } });

  /** JSON (link) or multipart (file) into one input; the caller discards the blob on failure. */
  async function readInput(req: FastifyRequest): Promise<{ input: service.EvidenceInput; upload?: Upload }> {
    if (req.isMultipart()) {
      const upload = await readUpload(req, blobs, maxBytes);
      try {
        return { input: inputFromUpload(upload), upload };
      } catch (err) {
        await service.discardBlob(app.database.db, blobs, upload.file?.stored);
        throw err;
      }
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      throw new DomainError('unsupported_media_type', 'send multipart/form-data with a `file`, or application/json for link evidence');
    }
    return { input: (req.body ?? {}) as service.EvidenceInput };
  }

  async function withUpload<T>(req: FastifyRequest, fn: (input: service.EvidenceInput, file: Upload['file']) => Promise<T>): Promise<T> {
    const { input, upload } = await readInput(req);
    try {
      return await fn(input, upload?.file);
    } catch (err) {
      // All-or-nothing: a refused or failed upload leaves no blob behind.
      await service.discardBlob(app.database.db, blobs, upload?.file?.stored);
      throw err;
    }
  }

  app.post('/evidence', {
    config: { role: 'editor' },
    schema: {
      tags: ['evidence'],
      operationId: 'createEvidence',
      summary: 'Upload evidence (a file, or a link) and link it to controls',
      description:
        'Send a file as multipart/form-data, or link evidence as application/json with `url`. The file is stored content-addressed ' +
        '(SHA-256) and, unless `useForAnswers` is false, its text is indexed before the answer so questionnaire answers can quote it; ' +
        'internal evidence never answers prospects. An unknown control ref or an `expiresAt` not after `validFrom` is a 400; a file over the upload limit a 413.',
      body: { content: { 'application/json': { schema: JsonEvidence } } } as never,
      'x-multipart': EvidenceUpload,
      response: withProblems({ 201: { ...Evidence, description: 'The evidence item with its first version and the state of its text index' } }),
    },
    handler: async (req, reply) => {
      let useForAnswers: boolean | undefined;
      const created = await withUpload(req, (input, file) => {
        useForAnswers = input.useForAnswers;
        return service.createEvidence(req.ctx(), input, file);
      });
      return reply.code(201).send(await service.indexEvidence(req.ctx(), { parsers: app.parsers, blobs }, created.id, useForAnswers));
    },
  });

  app.get('/evidence', {
    schema: {
      tags: ['evidence'],
      operationId: 'listEvidence',
      summary: 'Evidence, newest first; filter by status, control, or expiry within N days',
      description:
        'Filters combine. `status` is computed from the validity dates at the time of the request, so the same item moves from valid to expiring to expired without any write. ' +
        'Items in the list carry no `versions`; an unknown `control` ref is a 404.',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(Type.Enum(service.EVIDENCE_STATUSES, { examples: ['expiring'] })),
        control: Type.Optional(Type.String({ maxLength: 50, description: 'Only evidence linked to this control (A.8.13, CLD.12.1.5).', examples: ['A.8.13'] })),
        expiringWithinDays: Type.Optional(
          Type.Integer({ minimum: 0, maximum: 3650, description: 'Only evidence that has not expired yet and expires within this many days.', examples: [30] }),
        ),
      }),
      response: withProblems({ 200: Type.Object({ items: Type.Array(Evidence), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => service.listEvidence(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/evidence/:id', {
    schema: {
      tags: ['evidence'],
      operationId: 'getEvidence',
      summary: 'One piece of evidence with its versions',
      params: EvidenceIdParam,
      description: "The item with every version, newest first, and the state of its text index. Another organization's evidence is a 404.",
      response: withProblems({ 200: Evidence }),
    },
    handler: async (req) => service.getEvidence(req.ctx(), req.params.id),
  });

  app.patch('/evidence/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['evidence'],
      operationId: 'updateEvidence',
      summary: 'Change title, description, visibility, validity dates, linked controls or use for answers',
      params: EvidenceIdParam,
      description:
        'Only the fields sent change; `controls` replaces the whole list and null clears a date. The file itself is changed with POST /evidence/{id}/versions. ' +
        'An unknown control ref, or an `expiresAt` not after `validFrom` (as stored or sent), is a 400.',
      body: Type.Object(
        {
          title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
          description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
          visibility: Type.Optional(Type.Enum(['public', 'internal'])),
          validFrom: Type.Optional(Nullable(DateLike)),
          expiresAt: Type.Optional(Nullable(DateLike)),
          controls: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 200 })),
          useForAnswers: Type.Optional(UseForAnswers('this file')),
        },
        { examples: [{ expiresAt: '2027-12-31', controls: ['A.8.13', 'A.5.30'], visibility: 'public' }] },
      ),
      response: withProblems({ 200: Evidence }),
    },
    handler: async (req) => service.updateEvidence(req.ctx(), req.params.id, req.body),
  });

  app.post('/evidence/:id/versions', {
    config: { role: 'editor' },
    schema: {
      tags: ['evidence'],
      operationId: 'addEvidenceVersion',
      summary: 'Upload a new version (file evidence: multipart `file`; link evidence: JSON `url`)',
      params: EvidenceIdParam,
      description:
        'The new version becomes current; earlier versions stay downloadable. Optional `validFrom` and `expiresAt` move with the new version. ' +
        'Questionnaire answers that cited the previous version, and library entries that quoted its text, are flagged stale. ' +
        'File evidence needs a new `file`, link evidence a new `url` and no file (else 400).',
      body: {
        content: {
          'application/json': {
            schema: Type.Object(
              { url: Type.String({ maxLength: 2000 }), validFrom: Type.Optional(Nullable(DateLike)), expiresAt: Type.Optional(Nullable(DateLike)) },
              {
                examples: [{ url: 'https://scanner.acme.example/reports/2026-10', expiresAt: '2027-01-31' }],
              },
            ),
          },
        },
      } as never,
      'x-multipart': EvidenceVersionUpload,
      response: withProblems({ 201: { ...Evidence, description: 'The evidence item with the new version as current' } }),
    },
    handler: async (req, reply) => {
      await withUpload(req, (input, file) => service.addEvidenceVersion(req.ctx(), req.params.id, input, file));
      return reply.code(201).send(await service.indexEvidence(req.ctx(), { parsers: app.parsers, blobs }, req.params.id));
    },
  });

  app.get('/evidence/:id/download', {
    schema: {
      tags: ['evidence'],
      operationId: 'downloadEvidence',
      summary: 'The file, after checking it still matches its SHA-256 (Repr-Digest header)',
      params: EvidenceIdParam,
      description:
        'Served as uploaded, with its content type and file name. A stored file that no longer matches its recorded SHA-256 is a 500 `integrity_failed`, never sent; ' +
        'link evidence is a 409 (open its url); an unknown version a 404.',
      querystring: Type.Object({
        version: Type.Optional(Type.Integer({ minimum: 1, description: 'A version number (default: the current one).', examples: [1] })),
      }),
      response: withProblems({ 200: { description: 'The file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } } }),
    },
    handler: async (req, reply) => {
      const { stream, version } = await service.openEvidenceFile(req.ctx(), blobs, req.params.id, req.query.version);
      const name = (version.fileName ?? 'evidence').replace(/[^\w.\- ]+/g, '_');
      reply.header('content-type', version.contentType ?? 'application/octet-stream');
      reply.header('content-disposition', `attachment; filename="${name}"`);
      reply.header('repr-digest', reprDigest(version.sha256!));
      reply.header('x-content-sha256', version.sha256!);
      return reply.send(stream);
    },
  });

  app.delete('/evidence/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['evidence'],
      operationId: 'deleteEvidence',
      summary: 'Delete evidence and its versions; unshared files are removed',
      params: EvidenceIdParam,
      description:
        'Removes the item, its versions, its control links and its passages from the answer index. Answers that cited it are flagged stale; ' +
        'a stored file is removed once no other item or organization refers to it.',
      response: withProblems({ 204: { description: 'Deleted', type: 'null' } }),
    },
    handler: async (req, reply) => {
      await service.deleteEvidence(req.ctx(), blobs, req.params.id);
      return reply.code(204).send(null);
    },
  });
};
