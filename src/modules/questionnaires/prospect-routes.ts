import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServiceContext } from '../../lib/context.js';
import { DomainError } from '../../lib/errors.js';
import { withProblems } from '../../lib/schemas.js';
import { CONTENT_TYPES } from '../../lib/tabular.js';
import { discardBlob } from '../blobs/service.js';
import { eq } from 'drizzle-orm';
import { resolveGrant } from '../trust/access.js';
import { CSP, renderProspectQuestionnaire } from '../trust/render.js';
import { trustPages } from '../trust/tables.js';
import type { TrustPortal } from '../trust/portal.js';
import { exportCsv, exportXlsx } from './export.js';
import { JsonImportSchema } from './routes.js';
import * as service from './service.js';
import { CHOICES } from './tables.js';
import { readQuestionnaireUpload } from './upload.js';

/** Browsers ask for HTML first; API clients for JSON. */
const wantsHtml = (accept: string | undefined) => /^text\/html/i.test(accept ?? '');

const Params = Type.Object({ slug: Type.String({ maxLength: 63 }), token: Type.String({ maxLength: 4000 }) });
const QParams = Type.Object({ ...Params.properties, id: Type.String({ format: 'uuid' }) });

const ProspectView = Type.Object({
  id: Type.String(), name: Type.String(), status: Type.String(), released: Type.Boolean(),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
  questions: Type.Array(Type.Object({
    ref: Type.Union([Type.String(), Type.Null()]), text: Type.String(), section: Type.Union([Type.String(), Type.Null()]),
    answer: Type.Union([Type.Object({ choice: Type.Union([Type.Enum(CHOICES), Type.Null()]), text: Type.Union([Type.String(), Type.Null()]), status: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
    pending: Type.Boolean({ description: 'Waiting for the vendor\'s review.' }),
  })),
});

/**
 * Prospect self-serve questionnaires, under a trust-page grant link: upload, follow the answers,
 * and download the file once the vendor releases it. Answers come from public control summaries
 * only, and weak ones wait for the vendor's review instead of being shown.
 */
export const prospectQuestionnaireRoutes: FastifyPluginAsyncTypebox<{ portal: TrustPortal }> = async (app, { portal }) => {
  await app.register(multipart, { limits: { fileSize: portal.config.limits.uploadBytes, files: 1 } });
  const limit = Math.max(1, Math.floor(portal.config.limits.publicPerMinute / 12));
  const config = { public: true, rateLimit: { max: limit, timeWindow: 60_000 } };
  const grantOf = (slug: string, token: string) => resolveGrant(portal.access, slug, token);

  app.post('/trust/:slug/access/:token/questionnaires', {
    config,
    schema: {
      tags: ['trust'], operationId: 'prospectUploadQuestionnaire', security: [],
      summary: 'A prospect with a grant uploads a questionnaire; it is answered from the vendor\'s public sources only',
      description: 'JSON {name, questions} or multipart `file` (XLSX, CSV, JSON). Weak answers wait for the vendor\'s review.',
      params: Params,
      body: { content: { 'application/json': { schema: JsonImportSchema } } } as never,
      response: withProblems({
        201: Type.Object({ id: Type.String(), name: Type.String(), questionCount: Type.Integer(), status: Type.String() }),
        303: { description: 'Browser form post: see the questionnaire page', type: 'null' },
      }),
    },
    handler: async (req, reply) => {
      const g = await grantOf(req.params.slug, req.params.token);
      const { input, created } = await readQuestionnaireUpload(req, portal.db, portal.blobs, portal.config.limits.uploadBytes, 'prospect');
      const ctx: ServiceContext = {
        orgId: g.org.id, actor: { type: 'public', id: `grant:${g.grant.id}`, role: 'viewer', userId: g.grant.id }, requestId: String(req.id), db: portal.db, clock: portal.clock,
      };
      try {
        const r = await service.importFromProspect(ctx, g.grant.id, { ...input, name: `${input.name} (from ${g.grant.email})` });
        // A browser's form post goes on to the page that follows the answers.
        if (wantsHtml(req.headers.accept)) return reply.code(303).header('location', `/trust/${g.org.slug}/access/${req.params.token}/questionnaires/${r.id}`).send(null);
        return reply.code(201).send({ id: r.id, name: r.name, questionCount: r.questionCount, status: r.status });
      } catch (err) {
        await discardBlob(portal.db, portal.blobs, created);
        throw err;
      }
    },
  });

  app.get('/trust/:slug/access/:token/questionnaires/:id', {
    config,
    schema: {
      tags: ['trust'], operationId: 'prospectGetQuestionnaire', security: [],
      summary: 'The prospect\'s questionnaire: confident answers, and which questions are pending the vendor\'s review',
      description: 'JSON by default; a browser asking for text/html gets the page, which refreshes itself until the answers are in.',
      params: QParams, response: withProblems({ 200: { description: 'The questionnaire', content: { 'application/json': { schema: ProspectView }, 'text/html': { schema: Type.String() } } } }),
    },
    handler: async (req, reply) => {
      const g = await grantOf(req.params.slug, req.params.token);
      reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex, nofollow').header('referrer-policy', 'no-referrer');
      const { view } = await service.prospectView(portal.db, g.org.id, g.grant.id, req.params.id);
      if (wantsHtml(req.headers.accept)) {
        const [page] = await portal.db.select({ logo: trustPages.logoSha256, published: trustPages.published }).from(trustPages).where(eq(trustPages.orgId, g.org.id));
        return reply.type('text/html; charset=utf-8').header('content-security-policy', CSP)
          .send(renderProspectQuestionnaire(g, req.params.token, view, Boolean(page?.published && page.logo)));
      }
      return view;
    },
  });

  app.get('/trust/:slug/access/:token/questionnaires/:id/export', {
    config,
    schema: {
      tags: ['trust'], operationId: 'prospectExportQuestionnaire', security: [],
      summary: 'The answered file, once the vendor has released it (XLSX into the prospect\'s own workbook, or CSV)',
      params: QParams,
      querystring: Type.Object({ format: Type.Optional(Type.Enum(['xlsx', 'csv'], { default: 'xlsx' })) }),
      response: withProblems({
        200: { description: 'The file', content: { 'text/csv': { schema: Type.String() }, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: Type.String({ format: 'binary' }) } } },
      }),
    },
    handler: async (req, reply) => {
      const g = await grantOf(req.params.slug, req.params.token);
      const { row, questions } = await service.prospectView(portal.db, g.org.id, g.grant.id, req.params.id);
      if (!row.releasedAt) throw new DomainError('conflict', 'the vendor is still reviewing this questionnaire');
      const format = req.query.format ?? 'xlsx';
      reply.header('cache-control', 'no-store').header('content-disposition', `attachment; filename="questionnaire-answered.${format}"`);
      if (format === 'csv') return reply.type(CONTENT_TYPES.csv).send(exportCsv(questions));
      return reply.type(CONTENT_TYPES.xlsx).send(await exportXlsx(portal.blobs, row, questions));
    },
  });
};
