import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERROR_CODES } from '../../lib/errors.js';
import { withProblems } from '../../lib/schemas.js';
import * as access from './access.js';
import type { TrustPortal } from './portal.js';
import {
  CSP, FAVICON_SVG, TRUST_CSS, renderErrorPage, renderGrantPage, renderLlmsTxt, renderRequestReceived, renderTheme, renderTrustPage, renderTrustProfile,
  type FormState,
} from './render.js';
import { attachment } from './routes.js';
import { etagOf, loadPage, orgBySlug, type CachedTrust } from './service.js';
import type { PageViewKind } from './tables.js';

const Slug = Type.Object({ slug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', maxLength: 63 }) });
const SlugDoc = Type.Object({ ...Slug.properties, id: Type.String({ format: 'uuid' }) });

const AccessRequestBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.String({ format: 'email', maxLength: 254 }),
  company: Type.String({ minLength: 1, maxLength: 200 }),
  reason: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 2000 })])),
  documentIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100, description: 'NDA documents wanted; empty or absent: all of them.' })),
  ndaAccepted: Type.Boolean({ description: 'Must be true: the requester accepts the NDA shown on the page (its version is recorded).' }),
});

const PublicTrustSchema = Type.Object({
  organization: Type.Object({ name: Type.String(), slug: Type.String() }),
  headline: Type.String(),
  overview: Type.Union([Type.String(), Type.Null()]),
  sections: Type.Array(Type.String()),
  certifications: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), status: Type.String(), statusReason: Type.String() }, { additionalProperties: true })),
  security: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  soc2: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  subprocessors: Type.Array(Type.Object({ name: Type.String(), purpose: Type.String(), location: Type.String() }, { additionalProperties: true })),
  documents: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), visibility: Type.Enum(['public', 'nda']) }, {
    additionalProperties: true, description: 'Public documents carry a downloadUrl; NDA documents are listed by title only; private ones never appear.',
  })),
  faq: Type.Array(Type.Object({ question: Type.String(), answer: Type.String() })),
  facts: Type.Array(Type.Object({
    key: Type.String(), label: Type.String(), type: Type.String(), value: Type.Unknown(), unit: Type.Union([Type.String(), Type.Null()]),
    display: Type.String({ description: 'The value as words.' }), statement: Type.String({ description: 'The fact as a sentence.' }),
  }), { description: 'Organization profile facts marked public.' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { additionalProperties: true });

const HTML = 'text/html; charset=utf-8';

function isFresh(req: FastifyRequest, etag: string) {
  const inm = req.headers['if-none-match'];
  if (!inm) return false;
  return inm === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * The public face of the trust portal, at the root: /trust/{slug}/... (HTML, assets, profile,
 * documents, grant links) and /api/v1/public/trust/{slug}/... (JSON). Every route is public and
 * rate-limited per address. Registered with fastify-plugin so the cache invalidation hook sees
 * every API write; the routes themselves live in an encapsulated child.
 */
export const trustPublicRoutes = fp<{ portal: TrustPortal }>(async (root, { portal }) => {
  // Any successful write through the API may change what the public sees (control answers,
  // certifications, documents, the page): drop that organization's cached page.
  root.addHook('onResponse', async (request, reply) => {
    if (request.principal && request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400) {
      portal.cache.invalidateOrg(request.principal.orgId);
    }
  });
  // preClose: the counters are saved while the database is still open.
  root.addHook('preClose', async () => { await portal.close(); });
  portal.onError = (err) => root.log.error({ err }, 'trust page-view counters could not be saved');
  await root.register(publicRoutes, { portal });
}, { name: 'trust-public', dependencies: ['auth', 'errors'] });

const publicRoutes: FastifyPluginAsyncTypebox<{ portal: TrustPortal }> = async (app, { portal }) => {
  const limit = portal.config.limits.publicPerMinute;
  const config = { public: true, rateLimit: { max: limit, timeWindow: 60_000 } };
  // Writing routes (access requests) get a twelfth of the budget: 10 a minute by default.
  const writeConfig = { public: true, rateLimit: { max: Math.max(1, Math.ceil(limit / 12)), timeWindow: 60_000 } };
  const deps = portal.access;

  // HTML forms post application/x-www-form-urlencoded: parsed here only, for these routes.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });

  const count = (orgId: string, kind: PageViewKind) => portal.views.add(orgId, kind);

  async function cached(slug: string): Promise<CachedTrust> {
    return portal.cache.get(slug);
  }

  /** Browsers get an HTML error page with the right status; nothing internal is shown. */
  function htmlError(reply: FastifyReply, slug: string | undefined, err: unknown) {
    if (!(err instanceof DomainError)) throw err;
    const titles: Partial<Record<number, string>> = {
      400: 'Please check the request', 401: 'This link is not valid', 403: 'Access withdrawn', 404: 'Page not found', 410: 'This link has expired', 422: 'Cannot release this file', 429: 'Too many requests',
    };
    reply.code(err.status).header('content-security-policy', CSP).header('cache-control', 'no-store').type(HTML);
    if (err.extras.headers) reply.headers(err.extras.headers);
    return reply.send(renderErrorPage(slug, err.status, titles[err.status] ?? ERROR_CODES[err.code].title, err.detail ?? ERROR_CODES[err.code].title));
  }

  function sendCachedRep(req: FastifyRequest, reply: FastifyReply, rep: { body: string; etag: string }, type: string, extra: Record<string, string> = {}) {
    reply.header('etag', rep.etag).header('cache-control', 'public, no-cache').header('vary', 'accept-encoding').headers(extra);
    if (isFresh(req, rep.etag)) return reply.code(304).send();
    return reply.type(type).send(rep.body);
  }

  // ----- static assets ------------------------------------------------------------------------

  const cssEtag = etagOf(TRUST_CSS);
  app.get('/trust/assets/trust.css', {
    config, schema: { tags: ['trust'], operationId: 'trustStylesheet', summary: 'The trust page stylesheet', security: [], hide: true },
    handler: async (req, reply) => sendCachedRep(req, reply, { body: TRUST_CSS, etag: cssEtag }, 'text/css; charset=utf-8'),
  });

  const iconEtag = etagOf(FAVICON_SVG);
  app.get('/trust/assets/favicon.svg', {
    config, schema: { tags: ['trust'], operationId: 'trustFavicon', summary: 'The trust page icon', security: [], hide: true },
    handler: async (req, reply) => sendCachedRep(req, reply, { body: FAVICON_SVG, etag: iconEtag }, 'image/svg+xml', { 'content-security-policy': "default-src 'none'; sandbox" }),
  });

  app.get('/trust/:slug/theme.css', {
    config, schema: { tags: ['trust'], operationId: 'trustTheme', summary: 'The organization\'s colours', params: Slug, security: [], hide: true },
    handler: async (req, reply) => {
      const org = await orgBySlug(portal.db, req.params.slug);
      if (!org) throw new DomainError('not_found', 'no such trust page');
      const page = await loadPage(portal.db, org.id);
      const css = renderTheme(page?.brandColor ?? null);
      return sendCachedRep(req, reply, { body: css, etag: etagOf(css) }, 'text/css; charset=utf-8');
    },
  });

  app.get('/trust/:slug/logo', {
    config, schema: { tags: ['trust'], operationId: 'trustLogo', summary: 'The organization\'s logo', params: Slug, security: [], hide: true },
    handler: async (req, reply) => {
      const org = await orgBySlug(portal.db, req.params.slug);
      const page = org ? await loadPage(portal.db, org.id) : undefined;
      if (!page?.logoSha256 || !page.logoContentType) throw new DomainError('not_found', 'no logo');
      const etag = `"${page.logoSha256.slice(0, 32)}"`;
      reply.header('etag', etag).header('cache-control', 'public, max-age=300').header('content-security-policy', "default-src 'none'; sandbox");
      if (isFresh(req, etag)) return reply.code(304).send();
      return reply.type(page.logoContentType).send(await portal.blobs.openVerified(page.logoSha256));
    },
  });

  // ----- the page, its JSON and the machine-readable profile ---------------------------------

  app.get('/trust/:slug', {
    config,
    schema: {
      tags: ['trust'], operationId: 'trustPageHtml', summary: 'The public trust page (HTML); 404 unless published', params: Slug, security: [],
      response: withProblems({ 200: { description: 'HTML', content: { 'text/html': { schema: Type.String() } } } }),
    },
    handler: async (req, reply) => {
      let entry: CachedTrust;
      try {
        entry = await cached(req.params.slug);
      } catch (err) {
        return htmlError(reply, undefined, err);
      }
      count(entry.orgId, 'html');
      const rep = portal.cache.rep(entry, 'html', (m) => renderTrustPage(m));
      return sendCachedRep(req, reply, rep, HTML, { 'content-security-policy': CSP });
    },
  });

  app.get('/api/v1/public/trust/:slug', {
    config,
    schema: {
      tags: ['trust'], operationId: 'publicTrustPage', summary: 'The public trust page as JSON (ETag / If-None-Match)', params: Slug, security: [],
      response: withProblems({ 200: PublicTrustSchema, 304: { description: 'Not modified', type: 'null' } }),
    },
    handler: async (req, reply) => {
      const entry = await cached(req.params.slug);
      count(entry.orgId, 'json');
      const rep = portal.cache.rep(entry, 'json', (m) => JSON.stringify(m));
      return sendCachedRep(req, reply, rep, 'application/json; charset=utf-8');
    },
  });

  app.get('/trust/:slug/trust.json', {
    config,
    schema: {
      tags: ['trust'], operationId: 'trustProfile', summary: 'Machine-readable trust profile (JSON)', params: Slug, security: [],
      response: withProblems({ 200: Type.Object({ profileVersion: Type.String() }, { additionalProperties: true }), 304: { description: 'Not modified', type: 'null' } }),
    },
    handler: async (req, reply) => {
      const entry = await cached(req.params.slug);
      count(entry.orgId, 'profile');
      const rep = portal.cache.rep(entry, 'profile', renderTrustProfile);
      return sendCachedRep(req, reply, rep, 'application/json; charset=utf-8', { 'access-control-allow-origin': '*' });
    },
  });

  app.get('/trust/:slug/llms.txt', {
    config,
    schema: {
      tags: ['trust'], operationId: 'trustLlmsTxt', summary: 'The trust page for language models (llms.txt, Markdown)', params: Slug, security: [],
      response: withProblems({ 200: { description: 'Markdown', content: { 'text/plain': { schema: Type.String() } } } }),
    },
    handler: async (req, reply) => {
      const entry = await cached(req.params.slug);
      count(entry.orgId, 'profile');
      const rep = portal.cache.rep(entry, 'llms', renderLlmsTxt);
      return sendCachedRep(req, reply, rep, 'text/plain; charset=utf-8', { 'access-control-allow-origin': '*' });
    },
  });

  app.get('/trust/:slug/documents/:id', {
    config,
    schema: {
      tags: ['trust'], operationId: 'downloadPublicDocument', summary: 'Download a public document (NDA ones need a grant; private ones do not exist here)', params: SlugDoc, security: [],
      response: withProblems({ 200: { description: 'The file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } } }),
    },
    handler: async (req, reply) => {
      let d: access.Download;
      try {
        d = await access.downloadPublic(deps, req.params.slug, req.params.id, String(req.id));
      } catch (err) {
        return htmlError(reply, req.params.slug, err);
      }
      return sendFile(reply, d, 'public, no-cache');
    },
  });

  function sendFile(reply: FastifyReply, d: access.Download, cacheControl: string) {
    reply.header('content-type', d.contentType).header('content-disposition', attachment(d.fileName)).header('cache-control', cacheControl)
      .header('x-content-type-options', 'nosniff').header('content-security-policy', "default-src 'none'; sandbox");
    if (!d.watermarked) reply.header('repr-digest', `sha-256=:${Buffer.from(d.sha256, 'hex').toString('base64')}:`);
    if (d.watermarked) reply.header('x-watermarked', 'true');
    return reply.send(d.body);
  }

  // ----- access requests ----------------------------------------------------------------------

  app.post('/api/v1/public/trust/:slug/access-requests', {
    config: writeConfig,
    schema: {
      tags: ['trust'], operationId: 'createAccessRequest', summary: 'Ask for access to NDA documents (ndaAccepted must be true)', params: Slug, security: [],
      description: 'Records the NDA version (SHA-256 of its text), the time, the client address and user agent. Every request is recorded on its own (201, a new id; `merged` is always false): a second request with the same email neither changes a pending one nor reveals it.',
      body: AccessRequestBody,
      response: withProblems({
        201: Type.Object({ id: Type.String(), status: Type.Enum(['pending', 'approved', 'denied']), merged: Type.Boolean({ description: 'Always false: kept for older clients.' }) }),
      }),
    },
    handler: async (req, reply) => {
      const request = await access.createAccessRequest(deps, req.params.slug, req.body, meta(req));
      return reply.code(201).send({ id: request.id, status: request.status, merged: false });
    },
  });

  const meta = (req: FastifyRequest) => ({ ip: req.ip ?? null, userAgent: req.headers['user-agent'] ?? null, requestId: String(req.id) });

  // The same request from the HTML form (no JavaScript needed).
  app.post('/trust/:slug/request-access', {
    config: writeConfig,
    schema: { tags: ['trust'], operationId: 'requestAccessForm', summary: 'The request-access form of the HTML page (form-urlencoded)', params: Slug, security: [], hide: true },
    handler: async (req, reply) => {
      let entry: CachedTrust;
      try {
        entry = await cached(req.params.slug);
      } catch (err) {
        return htmlError(reply, undefined, err);
      }
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | string[]>;
      const one = (k: string) => { const v = body[k]; return (Array.isArray(v) ? v[0] : v)?.slice(0, 5000); };
      const documentIds = ([] as string[]).concat(body.documentIds ?? []).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
      reply.header('content-security-policy', CSP).header('cache-control', 'no-store').type(HTML);
      try {
        const request = await access.createAccessRequest(deps, req.params.slug, {
          name: one('name') ?? '', email: one('email') ?? '', company: one('company') ?? '', reason: one('reason') ?? null,
          ndaAccepted: one('ndaAccepted') === 'true', documentIds,
        }, meta(req));
        return reply.code(201).send(renderRequestReceived(entry.model, { status: request.status }));
      } catch (err) {
        if (err instanceof DomainError && err.code === 'validation_failed') {
          const state: FormState = {
            values: body,
            errors: (err.extras.errors ?? []).map((e) => ({ field: e.field.replace(/^body\//, ''), message: e.message })),
          };
          return reply.code(400).send(renderTrustPage(entry.model, state));
        }
        return htmlError(reply, req.params.slug, err);
      }
    },
  });

  // ----- grant links --------------------------------------------------------------------------

  // Grant tokens are long JWTs: buildApp raises the router's path-parameter limit for them.
  const grantSchema = {
    tags: ['trust'], security: [],
    description: 'Expired links answer 410, revoked 403, tampered 401, another organization\'s or unknown 404.',
  };
  const grantHeaders = (reply: import('fastify').FastifyReply) =>
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex, nofollow').header('referrer-policy', 'no-referrer');

  app.get('/trust/:slug/access/:token', {
    config,
    schema: {
      ...grantSchema, operationId: 'grantPage', summary: 'A grant link: the page listing the granted documents',
      params: Type.Object({ ...Slug.properties, token: Type.String({ maxLength: 4000 }) }),
      response: withProblems({ 200: { description: 'HTML page', content: { 'text/html': { schema: Type.String() } } } }),
    },
    handler: async (req, reply) => {
      grantHeaders(reply);
      try {
        const g = await access.resolveGrant(deps, req.params.slug, req.params.token);
        count(g.org.id, 'grant');
        const page = await loadPage(portal.db, g.org.id);
        return reply.type(HTML).header('content-security-policy', CSP)
          .send(renderGrantPage(g, req.params.token, Boolean(page?.published && page.logoSha256)));
      } catch (err) {
        return htmlError(reply, req.params.slug, err);
      }
    },
  });

  app.get('/trust/:slug/access/:token/documents/:id', {
    config,
    schema: {
      ...grantSchema, operationId: 'grantDownload', summary: 'Download a granted document (PDFs stamped with the grantee and the time)',
      params: Type.Object({ ...Slug.properties, token: Type.String({ maxLength: 4000 }), id: Type.String({ format: 'uuid' }) }),
      response: withProblems({ 200: { description: 'The file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } } }),
    },
    handler: async (req, reply) => {
      grantHeaders(reply);
      let d: access.Download;
      try {
        const g = await access.resolveGrant(deps, req.params.slug, req.params.token);
        d = await access.downloadWithGrant(deps, g, req.params.id, String(req.id));
      } catch (err) {
        return htmlError(reply, req.params.slug, err);
      }
      return sendFile(reply, d, 'private, no-store');
    },
  });
};
