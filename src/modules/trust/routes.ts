import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../lib/errors.js';
import { field, readUpload, type Upload } from '../../lib/multipart.js';
import { PageQuery } from '../../lib/pagination.js';
import { IdParam, Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import { TextIndex, UseForAnswers } from '../knowledge/schemas.js';
import * as access from './access.js';
import { trustAnalytics } from './analytics.js';
import * as docs from './documents.js';
import type { TrustPortal } from './portal.js';
import * as trust from './service.js';
import { ACCESS_REQUEST_STATUSES, DOCUMENT_VISIBILITIES, TRUST_SECTIONS } from './tables.js';

// Null first: with type coercion on, a null tried against the other branch first would be coerced (to "" or [""]).
const Subprocessor = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  purpose: Type.String({ maxLength: 2000 }),
  location: Type.String({ maxLength: 500 }),
  url: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'http(s) link to the subprocessor' }))),
});
const FaqFromLibrary = Type.Object({
  libraryEntryId: Type.String({ format: 'uuid', description: 'An approved library entry marked public; it leaves the page while stale, unpublished or deleted.' }),
});
// No additionalProperties:false on union members: the body validator removes extra fields, and it
// would strip `question`/`answer` while trying the first branch.
const FaqWritten = Type.Object({ question: Type.String({ minLength: 1, maxLength: 1000 }), answer: Type.String({ minLength: 1, maxLength: 10000 }) });
const Faq = Type.Union([FaqFromLibrary, FaqWritten]);
const FaqStored = Type.Object({ libraryEntryId: Type.Optional(Type.String()), question: Type.Optional(Type.String()), answer: Type.Optional(Type.String()) });
const Sections = Type.Object(Object.fromEntries(TRUST_SECTIONS.map((s) => [s, Type.Boolean()])) as Record<(typeof TRUST_SECTIONS)[number], ReturnType<typeof Type.Boolean>>);

const TrustPageBody = Type.Object({
  published: Type.Optional(Type.Boolean({ description: 'The page is served at /trust/{slug} only once published.' })),
  headline: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  overview: Type.Optional(Nullable(Type.String({ maxLength: 10000, description: 'Plain text; blank lines separate paragraphs.' }))),
  brandColor: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb' }))),
  contactEmail: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  contactUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  sections: Type.Optional(Type.Partial(Sections, { description: 'Which sections show; omitted ones keep their value (all show by default).' })),
  subprocessors: Type.Optional(Type.Array(Subprocessor, { maxItems: 200 })),
  faq: Type.Optional(Type.Array(Faq, { maxItems: 100, description: 'Chosen library answers ({libraryEntryId}), or question/answer pairs written for the page.' })),
  certificationIds: Type.Optional(Nullable(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100, description: 'null: every certification whose visibility is public; otherwise only these (still public ones).' }))),
  controlRefs: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 500, description: 'null: every control answer marked public; otherwise only these refs (still public ones).' }))),
  ndaText: Type.Optional(Nullable(Type.String({ maxLength: 50000, description: 'Your NDA; null restores the built-in text. Its SHA-256 is recorded with each request.' }))),
  autoApproveDomains: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 100, description: 'Requests from these email domains are approved at once.' })),
  autoApproveExpiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
}, { additionalProperties: false });

const TrustPage = Type.Object({
  slug: Type.String(), url: Type.String(), published: Type.Boolean(), headline: Nullable(Type.String()), overview: Nullable(Type.String()),
  brandColor: Nullable(Type.String()), logoUrl: Nullable(Type.String()), contactEmail: Nullable(Type.String()), contactUrl: Nullable(Type.String()),
  sections: Sections, subprocessors: Type.Array(Subprocessor), faq: Type.Array(FaqStored),
  certificationIds: Nullable(Type.Array(Type.String())), controlRefs: Nullable(Type.Array(Type.String())),
  ndaText: Type.String(), ndaVersion: Type.String({ description: 'sha256:<hex> of the NDA text' }),
  autoApproveDomains: Type.Array(Type.String()), autoApproveExpiresInDays: Type.Integer(),
  version: Type.Integer(), createdAt: Nullable(Timestamp), updatedAt: Nullable(Timestamp), publishedAt: Nullable(Timestamp),
});

const Version = Type.Object({
  version: Type.Integer(), sha256: Type.String(), size: Type.Integer(), fileName: Type.String(), contentType: Type.String(), uploadedBy: Type.String(), uploadedAt: Timestamp,
});
const Document = Type.Object({
  id: Type.String(), title: Type.String(), description: Nullable(Type.String()), visibility: Type.Enum(DOCUMENT_VISIBILITIES),
  currentVersion: Type.Integer(), fileName: Nullable(Type.String()), contentType: Nullable(Type.String()), size: Nullable(Type.Integer()), sha256: Nullable(Type.String()),
  createdBy: Type.String(), createdAt: Timestamp, updatedAt: Timestamp,
  useForAnswers: UseForAnswers('this document'),
  textIndex: TextIndex('this document'),
  versions: Type.Optional(Type.Array(Version)),
});

const AccessRequest = Type.Object({
  id: Type.String(), name: Type.String(), email: Type.String(), company: Type.String(), reason: Nullable(Type.String()), documentIds: Type.Array(Type.String()),
  status: Type.Enum(ACCESS_REQUEST_STATUSES), ndaVersion: Type.String(), ndaAcceptedAt: Timestamp, ip: Nullable(Type.String()), userAgent: Nullable(Type.String()),
  requestCount: Type.Integer(), autoApproved: Type.Boolean(), decidedBy: Nullable(Type.String()), decidedAt: Nullable(Timestamp), decisionNote: Nullable(Type.String()),
  grantId: Nullable(Type.String()), createdAt: Timestamp, updatedAt: Timestamp,
});
const Grant = Type.Object({
  id: Type.String(), requestId: Nullable(Type.String()), email: Type.String(), name: Nullable(Type.String()), company: Nullable(Type.String()),
  documentIds: Type.Array(Type.String()), status: Type.Enum(['active', 'expired', 'revoked']), expiresAt: Timestamp, revokedAt: Nullable(Timestamp),
  revokedBy: Nullable(Type.String()), createdBy: Type.String(), createdAt: Timestamp, lastUsedAt: Nullable(Timestamp), downloads: Type.Optional(Type.Integer()),
});
const GrantLink = Type.Object({
  grantId: Type.String(), url: Type.String({ description: 'Opens the granted documents until expiry or revocation. Treat it as a secret.' }),
  expiresAt: Timestamp, documentIds: Type.Array(Type.String()), email: Type.String(),
});
const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

const Count = Type.Integer();
const Analytics = Type.Object({
  from: Type.String(), to: Type.String(),
  pageViews: Type.Object({
    total: Count, html: Count, json: Count, profile: Count, grantPages: Count,
    byDay: Type.Array(Type.Object({ day: Type.String(), html: Count, json: Count, profile: Count, grant: Count })),
  }, { description: 'Counts only: nothing about anonymous visitors is kept.' }),
  accessRequests: Type.Object({ total: Count, pending: Count, approved: Count, denied: Count, autoApproved: Count }),
  grants: Type.Object({ total: Count, active: Count, expired: Count, revoked: Count }),
  downloads: Type.Object({
    total: Count,
    byDocument: Type.Array(Type.Object({ documentId: Type.String(), title: Type.String(), downloads: Count, viaGrant: Count })),
    byGrant: Type.Array(Type.Object({
      grantId: Type.String(), email: Nullable(Type.String()), downloads: Count,
      documents: Type.Array(Type.Object({ documentId: Type.String(), title: Type.String(), downloads: Count, lastDownloadAt: Timestamp })),
    })),
  }),
});

const DOC_UPLOAD = 'multipart/form-data: `file` (the document), `title`, `visibility` (public: anyone downloads it; nda: listed by title, downloaded through an access grant, PDFs watermarked; private: never shown publicly), optional `description` and `useForAnswers` (`true` by default: the text of a PDF, DOCX, Markdown, HTML or plain-text file is split into passages that questionnaire answers quote and cite; public documents alone answer prospects).';

function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new DomainError('validation_failed', `body/${name} must be true or false`, { errors: [{ field: `body/${name}`, message: 'must be true or false' }] });
}

const DateParam = Type.String({ format: 'date', description: 'YYYY-MM-DD (UTC)' });

/** The organization's side of the trust portal: page settings, documents, requests, grants, analytics. */
export const trustRoutes: FastifyPluginAsyncTypebox<{ portal: TrustPortal }> = async (app, { portal }) => {
  const { blobs, config } = portal;
  const maxBytes = config.limits.uploadBytes;
  const publicUrl = config.publicUrl;
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 1 } });

  /** Runs fn with the upload; all-or-nothing: a refused upload leaves no blob behind. */
  async function withUpload<T>(req: FastifyRequest, fn: (u: Upload) => Promise<T>): Promise<T> {
    const upload = await readUpload(req, blobs, maxBytes);
    try {
      return await fn(upload);
    } catch (err) {
      await docs.discardBlob(portal.db, blobs, upload.file?.stored);
      throw err;
    }
  }

  // ----- the trust page -----------------------------------------------------------------------

  app.get('/trust-page', {
    schema: { tags: ['trust'], operationId: 'getTrustPage', summary: 'Your trust-page settings (defaults until first saved)', response: withProblems({ 200: TrustPage }) },
    handler: async (req) => trust.getTrustPage(req.ctx(), publicUrl),
  });

  app.put('/trust-page', {
    config: { role: 'editor' },
    schema: {
      tags: ['trust'], operationId: 'putTrustPage', summary: 'Save the trust page: publish, content, sections, subprocessors, FAQ, what is public, NDA, auto-approval',
      description: 'Fields you send replace the stored ones; fields you leave out keep their values. The page is served at /trust/{slug} only while `published` is true.',
      body: TrustPageBody, response: withProblems({ 200: TrustPage }),
    },
    handler: async (req) => {
      const page = await trust.putTrustPage(req.ctx(), req.body, publicUrl);
      portal.cache.invalidateOrg(req.ctx().orgId);
      return page;
    },
  });

  app.put('/trust-page/logo', {
    config: { role: 'editor' },
    schema: {
      tags: ['trust'], operationId: 'putTrustPageLogo', summary: 'Upload the logo (multipart `file`: PNG, JPEG, WebP or GIF, at most 512 KB)',
      response: withProblems({ 200: TrustPage }),
    },
    handler: async (req) => withUpload(req, async (u) => {
      if (!u.file) throw new DomainError('validation_failed', 'body/file is required', { errors: [{ field: 'body/file', message: 'is required' }] });
      if (u.file.stored.size > 512 * 1024) throw new DomainError('payload_too_large', 'the logo must be at most 512 KB');
      const head = await readHead(u.file.stored.sha256);
      const page = await trust.setLogo(req.ctx(), blobs, u.file.stored, head, publicUrl);
      portal.cache.invalidateOrg(req.ctx().orgId);
      return page;
    }),
  });

  async function readHead(sha: string): Promise<Buffer> {
    const stream = await blobs.openVerified(sha);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of stream) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= 16) break;
    }
    stream.destroy();
    return Buffer.concat(chunks);
  }

  app.get('/trust-page/analytics', {
    schema: {
      tags: ['trust'], operationId: 'getTrustAnalytics', summary: 'Page views, access requests, grants and downloads per grant and document',
      querystring: Type.Object({ from: Type.Optional(DateParam), to: Type.Optional(DateParam) }),
      response: withProblems({ 200: Analytics }),
    },
    handler: async (req) => trustAnalytics(req.ctx(), portal.views, req.query),
  });

  // ----- documents ----------------------------------------------------------------------------

  app.post('/documents', {
    config: { role: 'editor' },
    schema: {
      tags: ['documents'], operationId: 'createDocument', summary: 'Upload a trust-page document', description: DOC_UPLOAD,
      response: withProblems({ 201: Document }),
    },
    handler: async (req, reply) => {
      let useForAnswers: boolean | undefined;
      const created = await withUpload(req, (u) => {
        useForAnswers = flag(field(u.fields, 'useForAnswers'), 'useForAnswers');
        return docs.createDocument(req.ctx(), {
          title: field(u.fields, 'title'), description: field(u.fields, 'description') ?? null, visibility: field(u.fields, 'visibility'),
        }, u.file);
      });
      portal.cache.invalidateOrg(req.ctx().orgId);
      return reply.code(201).send(await docs.indexDocument(req.ctx(), { parsers: app.parsers, blobs }, created.id, useForAnswers));
    },
  });

  app.get('/documents', {
    schema: {
      tags: ['documents'], operationId: 'listDocuments', summary: 'Documents, newest first',
      querystring: Type.Object({ ...PageQuery.properties, visibility: Type.Optional(Type.Enum(DOCUMENT_VISIBILITIES)) }),
      response: withProblems({ 200: Page(Document) }),
    },
    handler: async (req) => docs.listDocuments(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/documents/:id', {
    schema: { tags: ['documents'], operationId: 'getDocument', summary: 'One document with its versions', params: IdParam, response: withProblems({ 200: Document }) },
    handler: async (req) => docs.getDocument(req.ctx(), req.params.id),
  });

  app.patch('/documents/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['documents'], operationId: 'updateDocument', summary: 'Change title, description, visibility or use for answers', params: IdParam,
      body: Type.Object({
        title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
        description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
        visibility: Type.Optional(Type.Enum(DOCUMENT_VISIBILITIES)),
        useForAnswers: Type.Optional(UseForAnswers('this document')),
      }, { additionalProperties: false }),
      response: withProblems({ 200: Document }),
    },
    handler: async (req) => {
      const d = await docs.updateDocument(req.ctx(), req.params.id, req.body);
      portal.cache.invalidateOrg(req.ctx().orgId);
      return d;
    },
  });

  app.post('/documents/:id/versions', {
    config: { role: 'editor' },
    schema: { tags: ['documents'], operationId: 'addDocumentVersion', summary: 'Upload a new version (multipart `file`)', params: IdParam, response: withProblems({ 201: Document }) },
    handler: async (req, reply) => {
      await withUpload(req, (u) => docs.addDocumentVersion(req.ctx(), req.params.id, u.file));
      portal.cache.invalidateOrg(req.ctx().orgId);
      return reply.code(201).send(await docs.indexDocument(req.ctx(), { parsers: app.parsers, blobs }, req.params.id));
    },
  });

  app.get('/documents/:id/download', {
    schema: {
      tags: ['documents'], operationId: 'downloadDocument', summary: 'The file as uploaded (members only; not watermarked)', params: IdParam,
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: withProblems({ 200: { description: 'The file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } } }),
    },
    handler: async (req, reply) => {
      const { stream, version } = await docs.openDocumentFile(req.ctx(), blobs, req.params.id, req.query.version);
      reply.header('content-type', version.contentType);
      reply.header('content-disposition', attachment(version.fileName));
      reply.header('repr-digest', `sha-256=:${Buffer.from(version.sha256, 'hex').toString('base64')}:`);
      return reply.send(stream);
    },
  });

  app.delete('/documents/:id', {
    config: { role: 'editor' },
    schema: { tags: ['documents'], operationId: 'deleteDocument', summary: 'Delete a document and its versions', params: IdParam, response: withProblems({ 204: Type.Null() }) },
    handler: async (req, reply) => {
      await docs.deleteDocument(req.ctx(), blobs, req.params.id);
      portal.cache.invalidateOrg(req.ctx().orgId);
      return reply.code(204).send(null);
    },
  });

  // ----- access requests and grants -----------------------------------------------------------

  app.get('/access-requests', {
    schema: {
      tags: ['trust'], operationId: 'listAccessRequests', summary: 'Access requests, newest first',
      querystring: Type.Object({ ...PageQuery.properties, status: Type.Optional(Type.Enum(ACCESS_REQUEST_STATUSES)) }),
      response: withProblems({ 200: Page(AccessRequest) }),
    },
    handler: async (req) => access.listAccessRequests(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/access-requests/:id', {
    schema: { tags: ['trust'], operationId: 'getAccessRequest', summary: 'One access request with its NDA record', params: IdParam, response: withProblems({ 200: AccessRequest }) },
    handler: async (req) => access.getAccessRequest(req.ctx(), req.params.id),
  });

  app.post('/access-requests/:id/approve', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'], operationId: 'approveAccessRequest', summary: 'Approve: issue a signed, expiring, revocable grant and its link', params: IdParam,
      description: 'Without `documentIds` the grant covers the documents requested, or every NDA document. The `url` is a bearer link: send it to the requester.',
      body: Type.Object({
        expiresInDays: Type.Integer({ minimum: 1, maximum: 365 }),
        documentIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 200 })),
        note: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
      }, { additionalProperties: false }),
      response: withProblems({ 200: GrantLink }),
    },
    handler: async (req) => access.approveAccessRequest(portal.access, req.ctx(), req.params.id, req.body),
  });

  app.post('/access-requests/:id/deny', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'], operationId: 'denyAccessRequest', summary: 'Deny a pending request', params: IdParam,
      body: Type.Optional(Type.Object({ note: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))) }, { additionalProperties: false })),
      response: withProblems({ 200: AccessRequest }),
    },
    handler: async (req) => access.denyAccessRequest(req.ctx(), req.params.id, req.body ?? {}),
  });

  app.get('/access-grants', {
    schema: {
      tags: ['trust'], operationId: 'listAccessGrants', summary: 'Grants with their status and download counts, newest first',
      querystring: PageQuery, response: withProblems({ 200: Page(Grant) }),
    },
    handler: async (req) => access.listGrants(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/access-grants/:id', {
    schema: { tags: ['trust'], operationId: 'getAccessGrant', summary: 'One grant', params: IdParam, response: withProblems({ 200: Grant }) },
    handler: async (req) => access.getGrant(req.ctx(), req.params.id),
  });

  app.post('/access-grants/:id/link', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'], operationId: 'reissueAccessGrantLink', summary: 'A fresh link for an active grant (same grant, same expiry)', params: IdParam,
      description: 'For integrations that deliver links, e.g. after an auto-approved request (event access_grant.created).',
      response: withProblems({ 200: GrantLink }),
    },
    handler: async (req) => access.reissueGrantLink(portal.access, req.ctx(), req.params.id),
  });

  app.delete('/access-grants/:id', {
    config: { role: 'admin' },
    schema: { tags: ['trust'], operationId: 'revokeAccessGrant', summary: 'Revoke a grant: its link stops working at once', params: IdParam, response: withProblems({ 204: Type.Null() }) },
    handler: async (req, reply) => {
      await access.revokeGrant(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
export function attachment(fileName: string) {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
