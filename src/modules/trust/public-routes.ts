import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERROR_CODES } from '../../lib/errors.js';
import { withProblems } from '../../lib/schemas.js';
import { reprDigest } from '../files/index.js';
import * as access from './access.js';
import * as subscriptions from './subscriptions.js';
import { TRUST_UPDATE_CATEGORIES } from '../events/index.js';
import type { TrustPortal } from './portal.js';
import {
  CSP,
  FAVICON_SVG,
  SEARCH_MAX_LENGTH,
  TRUST_CSS,
  checkAccessForm,
  formErrorsOf,
  renderAccessFormPage,
  renderErrorPage,
  renderGrantPage,
  renderLlmsTxt,
  renderRequestReceived,
  renderSearchPage,
  renderTheme,
  renderTrustPage,
  renderTrustProfile,
  renderConfirmPage,
  renderSubscribeFormPage,
  renderSubscribeReceived,
  renderUnsubscribePage,
  renderUpdatesAtom,
  type FormState,
} from './render.js';
import { attachment } from './routes.js';
import { encodedBody, encodedEtag, preferredEncoding, worthEncoding, type Representation } from '../../lib/encoding.js';
import { etagOf, loadPage, orgBySlug, type CachedTrust } from './service.js';
import type { PageViewKind } from './tables.js';

const Slug = Type.Object({
  slug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', maxLength: 63, description: "The organization's slug.", examples: ['acme'] }),
});
const SlugDoc = Type.Object({
  ...Slug.properties,
  id: Type.String({ format: 'uuid', description: "The document id, from the page's document list.", examples: ['0193a4e0-5f6a-7b8c-9d0e-1f2a3b4c5d6e'] }),
});
// Grant tokens are signed JWTs; the example is shortened.
const Token = Type.String({
  maxLength: 4000,
  description: 'The grant token from the link the organization sent (treat it as a secret).',
  examples: ['eyJhbGciOiJFUzI1NiJ9.eyJnaWQiOiIwMTkzYTJjMCJ9.c2lnbmF0dXJl'],
});

const AccessRequestBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', maxLength: 254 }),
    company: Type.String({ minLength: 1, maxLength: 200 }),
    reason: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 2000 })])),
    documentIds: Type.Optional(
      Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100, description: 'NDA documents wanted; empty or absent: all of them.' }),
    ),
    ndaAccepted: Type.Boolean({ description: 'Must be true: the requester accepts the NDA shown on the page (its version is recorded).' }),
  },
  {
    examples: [
      {
        name: 'Jane Doe',
        email: 'jane.doe@globex.example',
        company: 'Globex',
        reason: 'Vendor security review before signing.',
        documentIds: [],
        ndaAccepted: true,
      },
    ],
  },
);

const EXAMPLE_PUBLIC_TRUST = {
  organization: { name: 'Acme Corp', slug: 'acme' },
  headline: 'Security at Acme Corp',
  overview: 'Acme Corp runs on AWS in the EU and the US. We are certified to ISO/IEC 27001:2022.',
  branding: { brandColor: '#0b5fff', logoUrl: 'https://trust.acme.example/trust/acme/logo' },
  contact: { email: 'security@acme.example', url: null },
  sections: ['certifications', 'security', 'soc2', 'subprocessors', 'documents', 'faq'],
  certifications: [
    {
      id: '0193a4d0-1a2b-7c3d-8e4f-5a6b7c8d9e0f',
      kind: 'iso27001',
      kindLabel: 'ISO/IEC 27001 certificate',
      name: 'ISO/IEC 27001:2022',
      issuer: 'BSI',
      scope: 'The Acme platform and its operations',
      includesIso27017: true,
      issuedAt: '2025-03-01',
      expiresAt: '2028-02-29',
      periodStart: null,
      periodEnd: null,
      status: 'valid',
      statusLabel: 'Valid',
      statusReason: 'Valid until 2028-02-29.',
    },
  ],
  security: {
    frameworks: [{ id: 'iso27001-2022', name: 'ISO/IEC 27001:2022', inScope: true, attested: true, note: 'Certified by BSI.' }],
    domains: [
      {
        id: 'technological',
        name: 'Technological controls',
        framework: 'iso27001-2022',
        controls: [
          {
            framework: 'iso27001-2022',
            ref: 'A.8.24',
            title: 'Use of cryptography',
            status: 'implemented',
            statusLabel: 'Implemented',
            responsibility: 'provider',
            summary: 'Data is encrypted in transit and at rest.',
          },
        ],
      },
    ],
  },
  soc2: {
    criteria: 61,
    covered: 48,
    partial: 9,
    uncovered: 4,
    overall: 0.86,
    groups: [{ group: 'CC6', name: 'Logical and Physical Access Controls', criteria: 8, coverage: 0.94 }],
  },
  subprocessors: [{ name: 'Amazon Web Services', purpose: 'Hosting', location: 'Ireland, United States', url: 'https://aws.amazon.com' }],
  documents: [
    {
      id: '0193a4e0-5f6a-7b8c-9d0e-1f2a3b4c5d6e',
      title: 'ISO 27001 certificate',
      visibility: 'public',
      description: null,
      fileName: 'iso27001-certificate.pdf',
      contentType: 'application/pdf',
      size: 181233,
      downloadUrl: 'https://trust.acme.example/trust/acme/documents/0193a4e0-5f6a-7b8c-9d0e-1f2a3b4c5d6e',
      updatedAt: '2026-03-02T10:00:00.000Z',
    },
    { id: '0193a4e1-6a7b-7c8d-9e0f-2a3b4c5d6e7f', title: 'SOC 2 Type 2 report', visibility: 'nda' },
  ],
  faq: [{ question: 'Is customer data encrypted at rest?', answer: 'Yes. AES-256, with keys in AWS KMS.' }],
  facts: [
    {
      key: 'data.storage_countries',
      label: 'Data storage countries',
      type: 'string_list',
      value: ['Ireland', 'United States'],
      unit: null,
      display: 'Ireland, United States',
      statement: 'Customer data is stored in Ireland and the United States.',
    },
  ],
  access: {
    requestUrl: 'https://trust.acme.example/api/v1/public/trust/acme/access-requests',
    formUrl: 'https://trust.acme.example/trust/acme/request-access',
    ndaVersion: 'sha256:3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea',
    ndaText: 'By requesting access you agree to keep the documents confidential.',
  },
  updates: [
    {
      id: '0197a7d0-2e3f-7041-8b5c-6d7e8f9a0b1c',
      title: 'Changes to our subprocessors',
      category: 'subprocessor',
      body: 'We are making the following changes to our subprocessors, effective 2026-11-20:\n\n- Added: **Mailgun** (Transactional e-mail; United States)',
      bodyHtml:
        '<p>We are making the following changes to our subprocessors, effective 2026-11-20:</p>\n<ul><li>Added: <strong>Mailgun</strong> (Transactional e-mail; United States)</li></ul>',
      publishedAt: '2026-10-20T16:45:00.000Z',
      effectiveAt: '2026-11-20T16:45:00.000Z',
      url: 'https://trust.acme.example/trust/acme#update-0197a7d0-2e3f-7041-8b5c-6d7e8f9a0b1c',
    },
  ],
  subscribe: {
    requestUrl: 'https://trust.acme.example/api/v1/public/trust/acme/subscriptions',
    formUrl: 'https://trust.acme.example/trust/acme/subscribe',
  },
  updatedAt: '2026-10-20T16:45:00.000Z',
  links: {
    page: 'https://trust.acme.example/trust/acme',
    json: 'https://trust.acme.example/api/v1/public/trust/acme',
    trustJson: 'https://trust.acme.example/trust/acme/trust.json',
    llmsTxt: 'https://trust.acme.example/trust/acme/llms.txt',
    updatesAtom: 'https://trust.acme.example/trust/acme/updates.atom',
  },
};

const PublicTrustSchema = Type.Object(
  {
    organization: Type.Object({ name: Type.String(), slug: Type.String() }),
    headline: Type.String(),
    overview: Type.Union([Type.String(), Type.Null()]),
    sections: Type.Array(Type.String()),
    certifications: Type.Array(
      Type.Object({ name: Type.String(), kind: Type.String(), status: Type.String(), statusReason: Type.String() }, { additionalProperties: true }),
    ),
    security: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    soc2: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    subprocessors: Type.Array(Type.Object({ name: Type.String(), purpose: Type.String(), location: Type.String() }, { additionalProperties: true })),
    documents: Type.Array(
      Type.Object(
        { id: Type.String(), title: Type.String(), visibility: Type.Enum(['public', 'nda']) },
        {
          additionalProperties: true,
          description: 'Public documents carry a downloadUrl; NDA documents are listed by title only; private ones never appear.',
        },
      ),
    ),
    faq: Type.Array(Type.Object({ question: Type.String(), answer: Type.String() })),
    facts: Type.Array(
      Type.Object({
        key: Type.String(),
        label: Type.String(),
        type: Type.String(),
        value: Type.Unknown(),
        unit: Type.Union([Type.String(), Type.Null()]),
        display: Type.String({ description: 'The value as words.' }),
        statement: Type.String({ description: 'The fact as a sentence.' }),
      }),
      { description: 'Organization profile facts marked public.' },
    ),
    updates: Type.Array(
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        title: Type.String(),
        category: Type.Enum(TRUST_UPDATE_CATEGORIES),
        body: Type.String({ description: 'The Markdown source.' }),
        bodyHtml: Type.String({ description: 'The body as escaped HTML.' }),
        publishedAt: Type.String({ format: 'date-time' }),
        effectiveAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
        url: Type.String({ description: 'Where the update is on the page.' }),
      }),
      { description: 'Published updates for everyone, newest first (also /trust/{slug}/updates.atom).' },
    ),
    subscribe: Type.Object(
      { requestUrl: Type.String(), formUrl: Type.String() },
      { description: 'Where to subscribe to updates by e-mail (POST {email, topics?}; double opt-in).' },
    ),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  {
    additionalProperties: true,
    $id: 'PublicTrustProfile',
    description:
      'Everything a published trust page shows, as JSON: certifications, public control summaries, SOC 2 coverage, subprocessors, documents, FAQ and public profile facts. ' +
      'Also `branding`, `contact`, `access` (how to request NDA documents; null without any) and `links`.',
    examples: [EXAMPLE_PUBLIC_TRUST],
  },
);

// trust.json: a stable, versioned shape for machines (procurement tools, crawlers); see renderTrustProfile.
const MachineTrustProfile = Type.Object(
  { profileVersion: Type.String() },
  {
    additionalProperties: true,
    $id: 'MachineTrustProfile',
    description:
      'The trust profile for machines: organization, frameworks, certifications, public controls, SOC 2 coverage, subprocessors, documents, FAQ, public facts, ' +
      'how to request access, and links. `profileVersion` changes only with an incompatible shape.',
    examples: [
      {
        profileVersion: '1.0',
        kind: 'trust-profile',
        organization: {
          name: 'Acme Corp',
          slug: 'acme',
          trustCenter: 'https://trust.acme.example/trust/acme',
          contact: { email: 'security@acme.example', url: null },
        },
        updatedAt: '2026-10-20T16:45:00.000Z',
        frameworks: [{ id: 'iso27001-2022', name: 'ISO/IEC 27001:2022', inScope: true, attested: true }],
        certifications: [
          {
            name: 'ISO/IEC 27001:2022',
            kind: 'iso27001',
            issuer: 'BSI',
            status: 'valid',
            statusReason: 'Valid until 2028-02-29.',
            issuedAt: '2025-03-01',
            expiresAt: '2028-02-29',
            periodStart: null,
            periodEnd: null,
            includesIso27017: true,
            scope: 'The Acme platform and its operations',
          },
        ],
        controls: [
          {
            framework: 'iso27001-2022',
            ref: 'A.8.24',
            title: 'Use of cryptography',
            domain: 'Technological controls',
            status: 'implemented',
            responsibility: 'provider',
            summary: 'Data is encrypted in transit and at rest.',
          },
        ],
        soc2Coverage: { criteria: 61, covered: 48, partial: 9, uncovered: 4, overall: 0.86, groups: [] },
        subprocessors: [{ name: 'Amazon Web Services', purpose: 'Hosting', location: 'Ireland, United States', url: 'https://aws.amazon.com' }],
        documents: [{ title: 'SOC 2 Type 2 report', access: 'nda' }],
        faq: [{ question: 'Is customer data encrypted at rest?', answer: 'Yes. AES-256, with keys in AWS KMS.' }],
        facts: [{ key: 'data.storage_countries', label: 'Data storage countries', type: 'string_list', value: ['Ireland', 'United States'], unit: null }],
        accessRequests: {
          method: 'POST',
          url: 'https://trust.acme.example/api/v1/public/trust/acme/access-requests',
          contentType: 'application/json',
          fields: ['name', 'email', 'company', 'reason', 'documentIds', 'ndaAccepted'],
          ndaVersion: 'sha256:3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea',
        },
        links: {
          page: 'https://trust.acme.example/trust/acme',
          json: 'https://trust.acme.example/api/v1/public/trust/acme',
          trustJson: 'https://trust.acme.example/trust/acme/trust.json',
          llmsTxt: 'https://trust.acme.example/trust/acme/llms.txt',
        },
      },
    ],
  },
);

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
export const trustPublicRoutes = fp<{ portal: TrustPortal }>(
  async (root, { portal }) => {
    // Any successful write through the API may change what the public sees (control answers,
    // certifications, documents, the page): drop that organization's cached page.
    root.addHook('onResponse', async (request, reply) => {
      if (request.principal && request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400) {
        portal.cache.invalidateOrg(request.principal.orgId);
      }
    });
    // preClose: the counters are saved while the database is still open.
    root.addHook('preClose', async () => {
      await portal.close();
    });
    portal.onError = (err) => root.log.error({ err }, 'trust page-view counters could not be saved');
    await root.register(publicRoutes, { portal });
  },
  { name: 'trust-public', dependencies: ['auth', 'errors'] },
);

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

  // RFC 8058 one-click unsubscribes SHOULD come as multipart/form-data: their only field is a constant, so the body is read and dropped.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, _body, done) => done(null, {}));

  const count = (orgId: string, kind: PageViewKind) => portal.views.add(orgId, kind);

  async function cached(slug: string): Promise<CachedTrust> {
    return portal.cache.get(slug);
  }

  /** Browsers get an HTML error page with the right status; nothing internal is shown. */
  function htmlError(reply: FastifyReply, slug: string | undefined, err: unknown) {
    if (!(err instanceof DomainError)) throw err;
    const titles: Partial<Record<number, string>> = {
      400: 'Please check the request',
      401: 'This link is not valid',
      403: 'Access withdrawn',
      404: 'Page not found',
      410: 'This link has expired',
      422: 'Cannot release this file',
      429: 'Too many requests',
    };
    reply.code(err.status).header('content-security-policy', CSP).header('cache-control', 'no-store').type(HTML);
    if (err.extras.headers) reply.headers(err.extras.headers);
    return reply.send(renderErrorPage(slug, err.status, titles[err.status] ?? ERROR_CODES[err.code].title, err.detail ?? ERROR_CODES[err.code].title));
  }

  /**
   * A cached representation, br- or gzip-encoded when the client accepts it (encoded once per
   * representation, see lib/encoding.ts), with that encoding's own ETag for 304s.
   */
  async function sendCachedRep(req: FastifyRequest, reply: FastifyReply, rep: Representation, type: string, extra: Record<string, string> = {}) {
    const encoding = worthEncoding(rep) ? preferredEncoding(req.headers['accept-encoding']) : null;
    const etag = encoding ? encodedEtag(rep.etag, encoding) : rep.etag;
    reply.header('etag', etag).header('cache-control', 'public, no-cache').header('vary', 'accept-encoding').headers(extra);
    if (isFresh(req, etag)) return reply.code(304).send();
    if (encoding)
      return reply
        .type(type)
        .header('content-encoding', encoding)
        .send(await encodedBody(rep, encoding));
    return reply.type(type).send(rep.body);
  }

  // ----- static assets ------------------------------------------------------------------------

  // One object for the life of the app: its encoded bodies are kept with it.
  const trustCss = { body: TRUST_CSS, etag: etagOf(TRUST_CSS) };
  app.get('/trust/assets/trust.css', {
    config,
    schema: { tags: ['trust'], operationId: 'trustStylesheet', summary: 'The trust page stylesheet', security: [], hide: true },
    handler: async (req, reply) => sendCachedRep(req, reply, trustCss, 'text/css; charset=utf-8'),
  });

  const iconEtag = etagOf(FAVICON_SVG);
  app.get('/trust/assets/favicon.svg', {
    config,
    schema: { tags: ['trust'], operationId: 'trustFavicon', summary: 'The trust page icon', security: [], hide: true },
    handler: async (req, reply) =>
      sendCachedRep(req, reply, { body: FAVICON_SVG, etag: iconEtag }, 'image/svg+xml', { 'content-security-policy': "default-src 'none'; sandbox" }),
  });

  app.get('/trust/:slug/theme.css', {
    config,
    schema: { tags: ['trust'], operationId: 'trustTheme', summary: "The organization's colours", params: Slug, security: [], hide: true },
    handler: async (req, reply) => {
      const org = await orgBySlug(portal.db, req.params.slug);
      if (!org) throw new DomainError('not_found', 'no such trust page');
      const page = await loadPage({ db: portal.db, orgId: org.id });
      const css = renderTheme(page?.brandColor ?? null);
      return sendCachedRep(req, reply, { body: css, etag: etagOf(css) }, 'text/css; charset=utf-8');
    },
  });

  app.get('/trust/:slug/logo', {
    config,
    schema: { tags: ['trust'], operationId: 'trustLogo', summary: "The organization's logo", params: Slug, security: [], hide: true },
    handler: async (req, reply) => {
      const org = await orgBySlug(portal.db, req.params.slug);
      const page = org ? await loadPage({ db: portal.db, orgId: org.id }) : undefined;
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
      tags: ['trust'],
      operationId: 'trustPageHtml',
      summary: 'The public trust page (HTML); 404 unless published',
      params: Slug,
      security: [],
      description:
        'The page as a browser shows it, without scripts: certifications, controls marked public, SOC 2 coverage, subprocessors, documents, FAQ and the request-access form. ' +
        'Cached per organization and revalidated with ETag / If-None-Match (304); each view is counted per day, nothing about the visitor is kept. Errors are HTML pages too.',
      response: withProblems({
        200: { description: 'The trust page (HTML)', content: { 'text/html': { schema: Type.String() } } },
        304: { description: 'Not modified', type: 'null' },
      }),
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

  app.get('/trust/:slug/search', {
    config,
    schema: {
      tags: ['trust'],
      operationId: 'trustPageSearch',
      summary: 'Search the public trust page (HTML)',
      params: Slug,
      security: [],
      description:
        'Finds the certifications, controls, FAQ entries, subprocessors and documents of the published page whose text holds every word of `q` ' +
        '(case and accents ignored), grouped by kind, each linking to its place on the page. Only what the public page shows is searched; ' +
        'NDA documents by their title. A plain GET form, so it works without scripts.',
      querystring: Type.Object({
        q: Type.Optional(
          Type.String({
            maxLength: SEARCH_MAX_LENGTH,
            description: `The words to find (at most ${SEARCH_MAX_LENGTH} characters; the first 8 words count).`,
            examples: ['encryption at rest'],
          }),
        ),
      }),
      response: withProblems({ 200: { description: 'The results page (HTML), grouped by kind', content: { 'text/html': { schema: Type.String() } } } }),
    },
    handler: async (req, reply) => {
      let entry: CachedTrust;
      try {
        entry = await cached(req.params.slug);
      } catch (err) {
        return htmlError(reply, undefined, err);
      }
      // Rendered per query from the cached model; compressed per response by the compress plugin.
      return reply
        .header('content-security-policy', CSP)
        .header('cache-control', 'public, no-cache')
        .header('x-robots-tag', 'noindex')
        .type(HTML)
        .send(renderSearchPage(entry.model, req.query.q ?? ''));
    },
  });

  app.get('/api/v1/public/trust/:slug', {
    config,
    schema: {
      tags: ['trust'],
      operationId: 'publicTrustPage',
      summary: 'The public trust page as JSON (ETag / If-None-Match)',
      params: Slug,
      security: [],
      description:
        'The same content as the HTML page. NDA documents are listed by title only and private ones not at all; only control answers and facts marked public appear. ' +
        'An unpublished or unknown page is a 404.',
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
      tags: ['trust'],
      operationId: 'trustProfile',
      summary: 'Machine-readable trust profile (JSON)',
      params: Slug,
      security: [],
      description:
        "What the public page shows, in a stable shape for tools that collect vendors' security profiles; served with `Access-Control-Allow-Origin: *` " +
        'and ETag / If-None-Match. An unpublished or unknown page is a 404.',
      response: withProblems({ 200: MachineTrustProfile, 304: { description: 'Not modified', type: 'null' } }),
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
      tags: ['trust'],
      operationId: 'trustLlmsTxt',
      summary: 'The trust page for language models (llms.txt, Markdown)',
      params: Slug,
      security: [],
      description:
        "The public page as plain Markdown (the llms.txt convention), with the organization's words escaped so they cannot inject markup or links. " +
        'Served with `Access-Control-Allow-Origin: *` and ETag / If-None-Match; an unpublished or unknown page is a 404.',
      response: withProblems({
        200: { description: 'The page as Markdown (text/plain)', content: { 'text/plain': { schema: Type.String() } } },
        304: { description: 'Not modified', type: 'null' },
      }),
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
      tags: ['trust'],
      operationId: 'downloadPublicDocument',
      summary: 'Download a public document (NDA ones need a grant; private ones do not exist here)',
      params: SlugDoc,
      security: [],
      description:
        "The current version, as uploaded, with its SHA-256 in Repr-Digest; each download is recorded without the visitor's identity. " +
        'An NDA document is a 403 (request access on the page), a private or unknown one a 404; errors are HTML pages.',
      response: withProblems({
        200: {
          description: 'The file (attachment, with its own content type)',
          content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
        },
      }),
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
    reply
      .header('content-type', d.contentType)
      .header('content-disposition', attachment(d.fileName))
      .header('cache-control', cacheControl)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox");
    if (!d.watermarked) reply.header('repr-digest', reprDigest(d.sha256));
    if (d.watermarked) reply.header('x-watermarked', 'true');
    return reply.send(d.body);
  }

  // ----- access requests ----------------------------------------------------------------------

  app.post('/api/v1/public/trust/:slug/access-requests', {
    config: writeConfig,
    schema: {
      tags: ['trust'],
      operationId: 'createAccessRequest',
      summary: 'Ask for access to NDA documents (ndaAccepted must be true)',
      params: Slug,
      security: [],
      description:
        'Records the NDA version (SHA-256 of its text), the time, the client address and user agent. Every request is recorded on its own (201, a new id; `merged` is always false): a second request with the same email neither changes a pending one nor reveals it. ' +
        'An address whose domain the page auto-approves is approved at once (status approved); its link is e-mailed to the requester (the mail outbox), never in this answer. ' +
        'Rate-limited to a twelfth of the public budget per client address.',
      body: AccessRequestBody,
      response: withProblems({
        201: Type.Object(
          {
            id: Type.String(),
            status: Type.Enum(['pending', 'approved', 'denied']),
            merged: Type.Boolean({ description: 'Always false: kept for older clients.' }),
          },
          {
            description: 'The request, recorded',
            examples: [{ id: '0193a4f0-7b8c-7d9e-8f0a-1b2c3d4e5f6a', status: 'pending', merged: false }],
          },
        ),
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
    schema: {
      tags: ['trust'],
      operationId: 'requestAccessForm',
      summary: 'The request-access form of the HTML page (form-urlencoded)',
      params: Slug,
      security: [],
      hide: true,
    },
    handler: async (req, reply) => {
      let entry: CachedTrust;
      try {
        entry = await cached(req.params.slug);
      } catch (err) {
        return htmlError(reply, undefined, err);
      }
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | string[]>;
      const one = (k: string) => {
        const v = body[k];
        return (Array.isArray(v) ? v[0] : v)?.slice(0, 5000);
      };
      const documentIds = ([] as string[]).concat(body.documentIds ?? []).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
      reply.header('content-security-policy', CSP).header('cache-control', 'no-store').type(HTML);
      const input = {
        name: one('name') ?? '',
        email: one('email') ?? '',
        company: one('company') ?? '',
        reason: one('reason') ?? null,
        ndaAccepted: one('ndaAccepted') === 'true',
        documentIds,
      };
      // A refused submit gets the form on a page of its own, the problems first, in the page's words.
      const refused = (errors: FormState['errors']) => reply.code(400).send(renderAccessFormPage(entry.model, { values: body, errors }));
      const problems = checkAccessForm(input);
      if (problems.length > 0) return refused(problems);
      try {
        const request = await access.createAccessRequest(deps, req.params.slug, input, meta(req));
        return reply.code(201).send(renderRequestReceived(entry.model, { status: request.status }));
      } catch (err) {
        if (err instanceof DomainError && err.code === 'validation_failed') return refused(formErrorsOf(err.extras.errors ?? []));
        return htmlError(reply, req.params.slug, err);
      }
    },
  });

  // ----- updates: the Atom feed and e-mail subscriptions ---------------------------------------

  app.get('/trust/:slug/updates.atom', {
    config,
    schema: {
      tags: ['trust'],
      operationId: 'trustUpdatesAtom',
      summary: 'Published updates as an Atom feed',
      params: Slug,
      security: [],
      description:
        'The updates published for everyone (audience public), newest first, as an Atom 1.0 feed (RFC 4287): each entry with its category, publication time and body as escaped HTML. ' +
        'Served with ETag / If-None-Match; an unpublished or unknown page is a 404.',
      response: withProblems({
        200: { description: 'The feed (application/atom+xml)', content: { 'application/atom+xml': { schema: Type.String() } } },
        304: { description: 'Not modified', type: 'null' },
      }),
    },
    handler: async (req, reply) => {
      const entry = await cached(req.params.slug);
      const rep = portal.cache.rep(entry, 'atom', renderUpdatesAtom);
      return sendCachedRep(req, reply, rep, 'application/atom+xml; charset=utf-8', { 'access-control-allow-origin': '*' });
    },
  });

  const subs = portal.subscriptions;
  const Topics = Type.Array(Type.Enum(TRUST_UPDATE_CATEGORIES), {
    maxItems: TRUST_UPDATE_CATEGORIES.length,
    uniqueItems: true,
    description: 'Categories to follow; empty or absent: all.',
  });
  const SubscriptionAnswer = Type.Object(
    { status: Type.Literal('confirmation_sent'), message: Type.String() },
    {
      description: 'Accepted: the same answer whether or not the address was already subscribed',
      examples: [{ status: 'confirmation_sent', message: 'If this address is not subscribed yet, a confirmation link is on its way.' }],
    },
  );

  app.post('/api/v1/public/trust/:slug/subscriptions', {
    config: writeConfig,
    schema: {
      tags: ['trust'],
      operationId: 'subscribeToTrustUpdates',
      summary: 'Follow the trust page by e-mail (double opt-in)',
      params: Slug,
      security: [],
      description:
        'Queues a confirmation e-mail with a signed link that expires after 7 days; updates are sent only once the address is confirmed, and every message carries a one-click unsubscribe link. ' +
        'The answer is the same (202) whether the address is new, waiting, confirmed or unsubscribed, so nobody learns who follows the page; a confirmed address gets no mail, a waiting one ' +
        'at most one confirmation a minute. Rate-limited like access requests (a twelfth of the public budget per client address).',
      body: Type.Object(
        { email: Type.String({ format: 'email', maxLength: 254 }), topics: Type.Optional(Topics) },
        { examples: [{ email: 'dana@example.com', topics: ['security', 'subprocessor'] }] },
      ),
      response: withProblems({ 202: SubscriptionAnswer }),
    },
    handler: async (req, reply) => {
      await subscriptions.subscribe(subs, req.params.slug, req.body, String(req.id));
      return reply
        .code(202)
        .send({ status: 'confirmation_sent' as const, message: 'If this address is not subscribed yet, a confirmation link is on its way.' });
    },
  });

  const formBody = (req: FastifyRequest) => (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | string[]>;
  const noStore = (reply: FastifyReply) =>
    reply.header('content-security-policy', CSP).header('cache-control', 'no-store').header('x-robots-tag', 'noindex').type(HTML);

  // The subscribe form of the HTML page (no JavaScript needed).
  app.post('/trust/:slug/subscribe', {
    config: writeConfig,
    schema: {
      tags: ['trust'],
      operationId: 'subscribeForm',
      summary: 'The subscribe form of the HTML page (form-urlencoded)',
      params: Slug,
      security: [],
      hide: true,
    },
    handler: async (req, reply) => {
      let entry: CachedTrust;
      try {
        entry = await cached(req.params.slug);
      } catch (err) {
        return htmlError(reply, undefined, err);
      }
      const body = formBody(req);
      const email = String(([] as string[]).concat(body.email ?? [])[0] ?? '').slice(0, 300);
      const topics = ([] as string[])
        .concat(body.topics ?? [])
        .filter((x): x is (typeof TRUST_UPDATE_CATEGORIES)[number] => (TRUST_UPDATE_CATEGORIES as readonly string[]).includes(x));
      noStore(reply);
      try {
        await subscriptions.subscribe(subs, req.params.slug, { email, topics }, String(req.id));
      } catch (err) {
        if (err instanceof DomainError && err.code === 'validation_failed')
          return reply.code(400).send(renderSubscribeFormPage(entry.model, email, 'Enter an e-mail address, such as name@example.com'));
        return htmlError(reply, req.params.slug, err);
      }
      return reply.code(202).send(renderSubscribeReceived(entry.model));
    },
  });

  const LinkQuery = Type.Object({
    token: Type.String({ maxLength: 1000, description: 'The signed token from the e-mail.', examples: ['eyJwIjoiYyJ9.c2lnbmF0dXJlMTIzNDU2'] }),
  });
  const linkSchema = {
    tags: ['trust'],
    security: [],
    params: Slug,
    querystring: LinkQuery,
    response: withProblems({ 200: { description: 'The page (HTML)', content: { 'text/html': { schema: Type.String() } } } }),
  };

  /** A subscription link's page: not cached, no referrer, drawn on the page's model; errors as HTML pages. */
  async function linkPage(reply: FastifyReply, slug: string, page: (model: CachedTrust['model']) => Promise<string>) {
    noStore(reply).header('referrer-policy', 'no-referrer');
    try {
      const entry = await cached(slug);
      return reply.send(await page(entry.model));
    } catch (err) {
      return htmlError(reply, slug, err);
    }
  }

  app.get('/trust/:slug/subscriptions/confirm', {
    config,
    schema: {
      ...linkSchema,
      operationId: 'subscriptionConfirmPage',
      summary: 'The confirmation link of a subscription e-mail: a page with a button to confirm',
      description:
        'Opening the link changes nothing (mail scanners open links): the page asks to confirm, and its button posts back. A link older than 7 days is a 410, ' +
        'a tampered one a 401; a link superseded by a newer confirmation e-mail says so. Errors are HTML pages.',
    },
    handler: async (req, reply) =>
      linkPage(reply, req.params.slug, async (model) => {
        const { state } = await subscriptions.confirmationState(subs, req.params.slug, req.query.token);
        return renderConfirmPage(model, state, req.query.token);
      }),
  });

  app.post('/trust/:slug/subscriptions/confirm', {
    config: writeConfig,
    schema: { ...linkSchema, operationId: 'subscriptionConfirm', summary: 'Confirm a subscription (the button of the confirmation page)', hide: true },
    handler: async (req, reply) =>
      linkPage(reply, req.params.slug, async (model) => {
        const { state, changed } = await subscriptions.confirmSubscription(subs, req.params.slug, req.query.token, String(req.id));
        return renderConfirmPage(model, state, req.query.token, changed);
      }),
  });

  app.get('/trust/:slug/subscriptions/unsubscribe', {
    config,
    schema: {
      ...linkSchema,
      operationId: 'unsubscribePage',
      summary: 'The unsubscribe link of every update e-mail: a page with a one-click button',
      description:
        'The page has one button; mail clients that honour `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) post to the same URL without showing it. ' +
        'Unsubscribe links do not expire; a tampered one is a 401. Errors are HTML pages.',
    },
    handler: async (req, reply) =>
      linkPage(reply, req.params.slug, async (model) => {
        const { state } = await subscriptions.unsubscribeState(subs, req.params.slug, req.query.token);
        return renderUnsubscribePage(model, state, req.query.token);
      }),
  });

  // RFC 8058 one-click: a POST to the List-Unsubscribe URL (body List-Unsubscribe=One-Click), also the page's button.
  app.post('/trust/:slug/subscriptions/unsubscribe', {
    // The whole public budget: mail providers post these from few addresses.
    config,
    schema: { ...linkSchema, operationId: 'unsubscribe', summary: "Unsubscribe (RFC 8058 one-click POST, or the page's button)", hide: true },
    handler: async (req, reply) =>
      linkPage(reply, req.params.slug, async (model) => {
        await subscriptions.unsubscribe(subs, req.params.slug, req.query.token, String(req.id));
        return renderUnsubscribePage(model, 'unsubscribed', req.query.token, true);
      }),
  });

  // ----- grant links --------------------------------------------------------------------------

  // Grant tokens are long JWTs: buildApp raises the router's path-parameter limit for them.
  const grantSchema = {
    tags: ['trust'],
    security: [],
    description: "Expired links answer 410, revoked 403, tampered 401, another organization's or unknown 404.",
  };
  const grantHeaders = (reply: FastifyReply) =>
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex, nofollow').header('referrer-policy', 'no-referrer');

  app.get('/trust/:slug/access/:token', {
    config,
    schema: {
      ...grantSchema,
      operationId: 'grantPage',
      summary: 'A grant link: the page listing the granted documents',
      description:
        'The page lists the documents the grant covers, each with its download link, and a form to send a security questionnaire (answered from public sources). ' +
        'Each use is recorded on the grant (lastUsedAt) and counted. ' +
        grantSchema.description +
        ' Errors are HTML pages.',
      params: Type.Object({ ...Slug.properties, token: Token }),
      response: withProblems({ 200: { description: "The grant's page (HTML)", content: { 'text/html': { schema: Type.String() } } } }),
    },
    handler: async (req, reply) => {
      grantHeaders(reply);
      try {
        const g = await access.resolveGrant(deps, req.params.slug, req.params.token);
        count(g.org.id, 'grant');
        const page = await loadPage({ db: portal.db, orgId: g.org.id });
        return reply
          .type(HTML)
          .header('content-security-policy', CSP)
          .send(renderGrantPage(g, req.params.token, Boolean(page?.published && page.logoSha256)));
      } catch (err) {
        return htmlError(reply, req.params.slug, err);
      }
    },
  });

  app.get('/trust/:slug/access/:token/documents/:id', {
    config,
    schema: {
      ...grantSchema,
      operationId: 'grantDownload',
      summary: 'Download a granted document (PDFs stamped with the grantee and the time)',
      description:
        'Each download is recorded with the grant (GET /access-grants, analytics). A PDF comes watermarked (`X-Watermarked: true`, no Repr-Digest); ' +
        'a PDF that cannot be watermarked is a 422 and is not released. A document outside the grant is a 404. ' +
        grantSchema.description +
        ' Errors are HTML pages.',
      params: Type.Object({ ...Slug.properties, token: Token, id: SlugDoc.properties.id }),
      response: withProblems({
        200: {
          description: 'The file (attachment, with its own content type)',
          content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
        },
      }),
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
