import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { field, readUpload, type Upload } from '../../lib/multipart.js';
import { PageQuery } from '../../lib/pagination.js';
import { IdParam, Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import type { BlobStore } from '../../lib/storage.js';
import { DomainError } from '../../lib/errors.js';
import type { FastifyRequest } from 'fastify';
import { TextIndex, UseForAnswers } from '../knowledge/schemas.js';
import * as service from './service.js';

const Version = Type.Object({
  version: Type.Integer(), sha256: Nullable(Type.String()), size: Nullable(Type.Integer()), fileName: Nullable(Type.String()),
  contentType: Nullable(Type.String()), url: Nullable(Type.String()), uploadedBy: Type.String(), uploadedAt: Timestamp,
});

const Evidence = Type.Object({
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
  versions: Type.Optional(Type.Array(Version)),
});

const DateLike = Type.String({ maxLength: 40, description: 'ISO 8601 date or date-time' });
const JsonEvidence = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 300 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
  url: Type.String({ maxLength: 2000, description: 'Link evidence (a dashboard, a ticket, a report in another system).' }),
  visibility: Type.Optional(Type.Enum(['public', 'internal'])),
  validFrom: Type.Optional(Nullable(DateLike)),
  expiresAt: Type.Optional(Nullable(DateLike)),
  controls: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 200 })),
});

const MULTIPART_DOC =
  'multipart/form-data: `file` (the evidence), `title`, optional `description`, `visibility` (public|internal), `validFrom`, `expiresAt`, `controls` (repeat the field or comma-separate refs such as A.8.5,CLD.12.1.5) and `useForAnswers` (`true` by default: the text of a PDF, DOCX, Markdown, HTML or plain-text file is split into passages that questionnaire answers quote and cite; internal files never answer prospects). application/json: link evidence with `url`.';

function inputFromUpload(u: Upload): service.EvidenceInput {
  const controls = (u.fields.controls ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const visibility = field(u.fields, 'visibility');
  const useForAnswers = field(u.fields, 'useForAnswers');
  if (useForAnswers !== undefined && useForAnswers !== 'true' && useForAnswers !== 'false') {
    throw new DomainError('validation_failed', 'body/useForAnswers must be true or false', { errors: [{ field: 'body/useForAnswers', message: 'must be true or false' }] });
  }
  if (visibility !== undefined && visibility !== 'public' && visibility !== 'internal') {
    throw new DomainError('validation_failed', 'body/visibility must be public or internal', { errors: [{ field: 'body/visibility', message: 'must be public or internal' }] });
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
      tags: ['evidence'], operationId: 'createEvidence', summary: 'Upload evidence (a file, or a link) and link it to controls', description: MULTIPART_DOC,
      body: { content: { 'application/json': { schema: JsonEvidence } } } as never,
      response: withProblems({ 201: Evidence }),
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
      tags: ['evidence'], operationId: 'listEvidence', summary: 'Evidence, newest first; filter by status, control, or expiry within N days',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(Type.Enum(service.EVIDENCE_STATUSES)),
        control: Type.Optional(Type.String({ maxLength: 50 })),
        expiringWithinDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
      }),
      response: withProblems({ 200: Type.Object({ items: Type.Array(Evidence), nextCursor: Nullable(Type.String()) }) }),
    },
    handler: async (req) => service.listEvidence(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/evidence/:id', {
    schema: {
      tags: ['evidence'], operationId: 'getEvidence', summary: 'One piece of evidence with its versions', params: IdParam,
      response: withProblems({ 200: Evidence }),
    },
    handler: async (req) => service.getEvidence(req.ctx(), req.params.id),
  });

  app.patch('/evidence/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['evidence'], operationId: 'updateEvidence', summary: 'Change title, description, visibility, validity dates, linked controls or use for answers', params: IdParam,
      body: Type.Object({
        title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
        description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
        visibility: Type.Optional(Type.Enum(['public', 'internal'])),
        validFrom: Type.Optional(Nullable(DateLike)),
        expiresAt: Type.Optional(Nullable(DateLike)),
        controls: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 200 })),
        useForAnswers: Type.Optional(UseForAnswers('this file')),
      }),
      response: withProblems({ 200: Evidence }),
    },
    handler: async (req) => service.updateEvidence(req.ctx(), req.params.id, req.body),
  });

  app.post('/evidence/:id/versions', {
    config: { role: 'editor' },
    schema: {
      tags: ['evidence'], operationId: 'addEvidenceVersion', summary: 'Upload a new version (file evidence: multipart `file`; link evidence: JSON `url`)', params: IdParam,
      description: 'Optional `validFrom` and `expiresAt` move with the new version.',
      body: { content: { 'application/json': { schema: Type.Object({ url: Type.String({ maxLength: 2000 }), validFrom: Type.Optional(Nullable(DateLike)), expiresAt: Type.Optional(Nullable(DateLike)) }) } } } as never,
      response: withProblems({ 201: Evidence }),
    },
    handler: async (req, reply) => {
      await withUpload(req, (input, file) => service.addEvidenceVersion(req.ctx(), req.params.id, input, file));
      return reply.code(201).send(await service.indexEvidence(req.ctx(), { parsers: app.parsers, blobs }, req.params.id));
    },
  });

  app.get('/evidence/:id/download', {
    schema: {
      tags: ['evidence'], operationId: 'downloadEvidence', summary: 'The file, after checking it still matches its SHA-256 (Repr-Digest header)', params: IdParam,
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: withProblems({ 200: { description: 'The file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } } }),
    },
    handler: async (req, reply) => {
      const { stream, version } = await service.openEvidenceFile(req.ctx(), blobs, req.params.id, req.query.version);
      const name = (version.fileName ?? 'evidence').replace(/[^\w.\- ]+/g, '_');
      reply.header('content-type', version.contentType ?? 'application/octet-stream');
      reply.header('content-disposition', `attachment; filename="${name}"`);
      reply.header('repr-digest', `sha-256=:${Buffer.from(version.sha256!, 'hex').toString('base64')}:`);
      reply.header('x-content-sha256', version.sha256!);
      return reply.send(stream);
    },
  });

  app.delete('/evidence/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['evidence'], operationId: 'deleteEvidence', summary: 'Delete evidence and its versions; unshared files are removed', params: IdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await service.deleteEvidence(req.ctx(), blobs, req.params.id);
      return reply.code(204).send(null);
    },
  });
};
