import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { prospectActor, type ServiceContext } from '../../lib/context.js';
import { DomainError } from '../../lib/errors.js';
import { Nullable, withProblems } from '../../lib/schemas.js';
import { CONTENT_TYPES } from '../../lib/tabular.js';
import { discardBlob } from '../blobs/index.js';
import { exportForProspect } from '../questionnaires/index.js';
import { JsonImport, QuestionnaireUpload } from '../questionnaires/index.js';
import * as questionnairesApi from '../questionnaires/index.js';
import { readQuestionnaireUpload } from '../questionnaires/index.js';
import { resolveGrant, type ResolvedGrant } from './access.js';
import { PROSPECT_CSP, isAnswering, progressMessage, renderProspectQuestionnaire } from './render.js';
import { loadPage, prospectAutoReleaseOf } from './service.js';
import type { TrustPortal } from './portal.js';

/** Browsers ask for HTML first; API clients for JSON. */
const wantsHtml = (accept: string | undefined) => /^text\/html/i.test(accept ?? '');

const EXAMPLE_QUESTIONNAIRE_ID = '0193a2c4-1d2e-7f3a-8b4c-5d6e7f8a9b0c';
const Params = Type.Object({
  slug: Type.String({ maxLength: 63, description: "The organization's trust-page slug.", examples: ['acme'] }),
  token: Type.String({
    maxLength: 4000,
    description: 'The grant token from the link the organization sent (a signed JWT; treat it as a secret).',
    examples: ['eyJhbGciOiJFUzI1NiJ9.eyJnaWQiOiIwMTkzYTJjMCJ9.c2lnbmF0dXJl'],
  }),
});
const QParams = Type.Object({
  ...Params.properties,
  id: Type.String({ format: 'uuid', description: 'The questionnaire id from the upload.', examples: [EXAMPLE_QUESTIONNAIRE_ID] }),
});

const ProspectView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    status: Type.String(),
    released: Type.Boolean({ description: 'The vendor released the file: the export holds the released answers.' }),
    progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
    counts: Type.Object({
      released: Type.Integer({ description: 'Questions with an answer shown.' }),
      awaitingReview: Type.Integer({ description: "Answered questions waiting for the vendor's review." }),
      beingPrepared: Type.Integer({ description: 'Questions the fill has not reached yet.' }),
    }),
    questions: Type.Array(
      Type.Object({
        ref: Nullable(Type.String()),
        text: Type.String(),
        section: Nullable(Type.String()),
        state: Type.Enum(['being_prepared', 'released', 'awaiting_review'], {
          description: 'released: the answer shows; awaiting_review: the vendor reviews it first; being_prepared: not answered yet.',
        }),
        answer: Nullable(
          Type.Object(
            {
              choice: Nullable(Type.String({ description: "yes, no, partial or n/a, or one of the question's allowed answers." })),
              text: Nullable(Type.String()),
              status: Nullable(
                Type.String({
                  description: "The vendor's status of the answer: approved (reviewed by a person) or draft (released at once by the vendor's setting).",
                }),
              ),
              releasedBy: Type.Enum(questionnairesApi.RELEASED_BY, {
                description:
                  "review: a person at the vendor approved it; public_profile: settled by the vendor's public company facts; approved_library: an answer the vendor approved before; confident_draft: drafted from public sources at or above the measured draft threshold; questionnaire_condition: your questionnaire's own conditions skip it.",
              }),
            },
            { description: 'Only for released answers; null otherwise.' },
          ),
        ),
        pending: Type.Boolean({ description: 'No answer shows yet (state is not released).' }),
      }),
    ),
  },
  {
    $id: 'ProspectQuestionnaire',
    description:
      "What a prospect sees of their questionnaire: released answers (approved by the vendor, or released at once by the trust page's prospectAutoRelease), the questions awaiting the vendor's review, and those still being prepared.",
    examples: [
      {
        id: EXAMPLE_QUESTIONNAIRE_ID,
        name: 'Security review (from jane.doe@globex.example)',
        status: 'filled',
        released: false,
        progress: { done: 2, total: 2 },
        counts: { released: 1, awaitingReview: 1, beingPrepared: 0 },
        questions: [
          {
            ref: '1.1',
            text: 'Is customer data stored in China?',
            section: 'Data protection',
            state: 'released',
            answer: { choice: 'no', text: 'No. Customer data is stored in Ireland and the United States.', status: 'draft', releasedBy: 'public_profile' },
            pending: false,
          },
          { ref: '1.2', text: 'Do you hold cyber insurance?', section: 'Legal', state: 'awaiting_review', answer: null, pending: true },
        ],
      },
    ],
  },
);

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
  // The grant's organization: where the prospect's questionnaires and the page are read.
  const scopeOf = (g: ResolvedGrant) => ({ db: portal.db, orgId: g.org.id });

  app.post('/trust/:slug/access/:token/questionnaires', {
    config,
    schema: {
      tags: ['trust'],
      operationId: 'prospectUploadQuestionnaire',
      security: [],
      summary: "A prospect with a grant uploads a questionnaire; it is answered from the vendor's public sources only",
      description:
        'JSON {name, questions} or multipart `file` (XLSX, CSV, JSON), under lower file limits than members have (at most 1,000 questions). ' +
        "The questionnaire is stored in the vendor's organization, named after the grantee, and queued for a fill at once; answers come only from approved public library entries, " +
        "public control summaries and public facts and documents, never from a language model, by the same rules as the vendor's own fills. " +
        "Only released answers show: those the vendor approves, and at once those the trust page's prospectAutoRelease allows (by default answers settled by public profile facts or approved library answers); the rest await the vendor's review. " +
        'An expired link is a 410, a revoked one a 403.',
      params: Params,
      body: { content: { 'application/json': { schema: JsonImport } } } as never,
      'x-multipart': QuestionnaireUpload,
      response: withProblems({
        201: Type.Object(
          { id: Type.String(), name: Type.String(), questionCount: Type.Integer(), status: Type.String() },
          {
            description: 'The questionnaire, queued for answering',
            examples: [{ id: EXAMPLE_QUESTIONNAIRE_ID, name: 'Security review (from jane.doe@globex.example)', questionCount: 2, status: 'queued' }],
          },
        ),
        303: { description: 'Browser form post (Accept: text/html): see the questionnaire page at the Location header', type: 'null' },
      }),
    },
    handler: async (req, reply) => {
      const g = await grantOf(req.params.slug, req.params.token);
      const { input, created } = await readQuestionnaireUpload(req, portal.db, portal.blobs, portal.config.limits.uploadBytes, 'prospect');
      const ctx: ServiceContext = {
        orgId: g.org.id,
        actor: prospectActor(g.grant.id),
        requestId: String(req.id),
        db: portal.db,
        clock: portal.clock,
      };
      try {
        const autoRelease = prospectAutoReleaseOf(await loadPage(scopeOf(g)));
        const grant = { id: g.grant.id, email: g.grant.email, name: g.grant.name, company: g.grant.company };
        const r = await questionnairesApi.importFromProspect(ctx, grant, autoRelease, { ...input, name: `${input.name} (from ${g.grant.email})` });
        // A browser's form post goes on to the page that follows the answers.
        if (wantsHtml(req.headers.accept))
          return reply.code(303).header('location', `/trust/${g.org.slug}/access/${req.params.token}/questionnaires/${r.id}`).send(null);
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
      tags: ['trust'],
      operationId: 'prospectGetQuestionnaire',
      security: [],
      summary: "The prospect's questionnaire: released answers, and which questions await the vendor's review or are being prepared",
      description:
        'JSON by default; a browser asking for text/html gets the page, which refreshes itself until the answers are in. ' +
        'Only the questionnaires uploaded with this grant are found (another one is a 404); an expired link is a 410, a revoked one a 403.',
      params: QParams,
      response: withProblems({
        200: {
          description: 'The questionnaire (JSON), or its HTML page for a browser',
          content: { 'application/json': { schema: ProspectView }, 'text/html': { schema: Type.String() } },
        },
      }),
    },
    handler: async (req, reply) => {
      const g = await grantOf(req.params.slug, req.params.token);
      reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex, nofollow').header('referrer-policy', 'no-referrer');
      const page = await loadPage(scopeOf(g));
      const { view } = await questionnairesApi.prospectView(scopeOf(g), g.grant.id, req.params.id, prospectAutoReleaseOf(page));
      if (wantsHtml(req.headers.accept)) {
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', PROSPECT_CSP)
          .send(renderProspectQuestionnaire(g, req.params.token, view, Boolean(page?.published && page.logoSha256)));
      }
      return view;
    },
  });

  // The page's live region polls this while answering runs: one row read, so it gets the full
  // public budget rather than the upload's twelfth.
  const progressConfig = { public: true, rateLimit: { max: portal.config.limits.publicPerMinute, timeWindow: 60_000 } };
  app.get('/trust/:slug/access/:token/questionnaires/:id/progress', {
    config: progressConfig,
    schema: {
      tags: ['trust'],
      operationId: 'prospectQuestionnaireProgress',
      security: [],
      summary: "How far answering of the prospect's questionnaire has got (polled by its page)",
      description:
        'A small answer for polling: the status, questions answered so far and in all, whether answering still runs, and the progress as the sentence the page shows. ' +
        'Only the questionnaires uploaded with this grant are found (another one is a 404); an expired link is a 410, a revoked one a 403.',
      params: QParams,
      response: withProblems({
        200: Type.Object(
          {
            status: Type.String(),
            done: Type.Integer(),
            total: Type.Integer(),
            answering: Type.Boolean({ description: 'True while the fill is queued or running.' }),
            message: Type.String({ description: "The progress as a sentence, in the page's words." }),
          },
          {
            $id: 'ProspectQuestionnaireProgress',
            description: "How far answering of a prospect's questionnaire has got.",
            examples: [{ status: 'filling', done: 12, total: 40, answering: true, message: 'Answering: 12 of 40 questions so far.' }],
          },
        ),
      }),
    },
    handler: async (req, reply) => {
      const g = await grantOf(req.params.slug, req.params.token);
      reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex, nofollow').header('referrer-policy', 'no-referrer');
      const row = await questionnairesApi.prospectProgress(scopeOf(g), g.grant.id, req.params.id);
      return { ...row, answering: isAnswering(row.status), message: progressMessage(row) };
    },
  });

  app.get('/trust/:slug/access/:token/questionnaires/:id/export', {
    config,
    schema: {
      tags: ['trust'],
      operationId: 'prospectExportQuestionnaire',
      security: [],
      summary: "The answered file, once the vendor has released it (XLSX into the prospect's own workbook, or CSV)",
      description:
        'Holds the released answers only (the others are left empty). Before the vendor releases the questionnaire this is a 409; an expired link is a 410, a revoked one a 403.',
      params: QParams,
      querystring: Type.Object({ format: Type.Optional(Type.Enum(['xlsx', 'csv'], { default: 'xlsx', examples: ['xlsx'] })) }),
      response: withProblems({
        200: {
          description: 'The answered file (attachment)',
          content: {
            'text/csv': { schema: Type.String() },
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: Type.String({ format: 'binary' }) },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      const g = await grantOf(req.params.slug, req.params.token);
      const { row, questions } = await questionnairesApi.prospectView(scopeOf(g), g.grant.id, req.params.id, prospectAutoReleaseOf(await loadPage(scopeOf(g))));
      if (!row.releasedAt) throw new DomainError('conflict', 'the vendor is still reviewing this questionnaire');
      const format = req.query.format ?? 'xlsx';
      reply.header('cache-control', 'no-store').header('content-disposition', `attachment; filename="questionnaire-answered.${format}"`);
      return reply.type(format === 'csv' ? CONTENT_TYPES.csv : CONTENT_TYPES.xlsx).send(await exportForProspect(portal.blobs, row, questions, format));
    },
  });
};
