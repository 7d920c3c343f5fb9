import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../lib/errors.js';
import { field, readUpload, type Upload } from '../../lib/multipart.js';
import { PageQuery } from '../../lib/pagination.js';
import { CONTENT_TYPES } from '../../lib/tabular.js';
import { Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import { TextIndex, UseForAnswers } from '../knowledge/index.js';
import { reprDigest } from '../files/index.js';
import * as access from './access.js';
import { ANALYTICS_EVENT_KINDS, CSV_EVENT_ROWS, MAX_COMPANIES, analyticsEventsCsv, companyCsv, listAnalyticsEvents, trustAnalytics } from './analytics.js';
import * as docs from './documents.js';
import type { TrustPortal } from './portal.js';
import * as trust from './service.js';
import { trustUpdateRoutes } from './update-routes.js';
import { ACCESS_REQUEST_STATUSES, DOCUMENT_VISIBILITIES, TRUST_SECTIONS } from './tables.js';
import { PROSPECT_AUTO_RELEASE } from '../questionnaires/index.js';

// Example values shared by the schemas below, so the examples in the OpenAPI document agree.
const EX = {
  user: '01939f5a-1c2d-7e3f-8a4b-5c6d7e8f9a01',
  document: '0193a4e1-6a7b-7c8d-9e0f-2a3b4c5d6e7f',
  request: '0193a4f0-7b8c-7d9e-8f0a-1b2c3d4e5f6a',
  grant: '0193a4f2-9d0e-7f1a-8b2c-3d4e5f6a7b8c',
  ndaVersion: 'sha256:3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea',
  subprocessor: {
    name: 'Amazon Web Services',
    purpose: 'Cloud hosting of the platform and its backups',
    location: 'Ireland, United States',
    url: 'https://aws.amazon.com',
  },
};

// Null first: with type coercion on, a null tried against the other branch first would be coerced (to "" or [""]).
const Subprocessor = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    purpose: Type.String({ maxLength: 2000 }),
    location: Type.String({ maxLength: 500 }),
    url: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'http(s) link to the subprocessor' }))),
  },
  {
    $id: 'TrustSubprocessor',
    description: 'A third party that processes customer data, as listed on the trust page.',
    examples: [EX.subprocessor],
  },
);
const FaqFromLibrary = Type.Object({
  libraryEntryId: Type.String({
    format: 'uuid',
    description: 'An approved library entry marked public; it leaves the page while stale, unpublished or deleted.',
  }),
});
// No additionalProperties:false on union members: the body validator removes extra fields, and it
// would strip `question`/`answer` while trying the first branch.
const FaqWritten = Type.Object({ question: Type.String({ minLength: 1, maxLength: 1000 }), answer: Type.String({ minLength: 1, maxLength: 10000 }) });
const Faq = Type.Union([FaqFromLibrary, FaqWritten]);
const FaqStored = Type.Object({ libraryEntryId: Type.Optional(Type.String()), question: Type.Optional(Type.String()), answer: Type.Optional(Type.String()) });
const Sections = Type.Object(
  Object.fromEntries(TRUST_SECTIONS.map((s) => [s, Type.Boolean()])) as Record<(typeof TRUST_SECTIONS)[number], ReturnType<typeof Type.Boolean>>,
);

const PROSPECT_AUTO_RELEASE_DOC =
  "Which answers of a prospect's self-serve questionnaire show before a member approves them. " +
  'library_and_facts (default): answers settled by public profile facts and approved public library answers; ' +
  'confident_drafts: also every draft at or above the measured draft threshold; none: only answers a member approved. ' +
  'Everything else shows as awaiting review and waits in the review queue. It governs questionnaires uploaded afterwards; ' +
  'a stricter value also hides at once what it no longer allows.';

const SUBPROCESSOR_NOTICE_DOC =
  'A change to `subprocessors` (added, removed, purpose or location changed) drafts an update listing the changes (GET /trust-updates?status=draft), ' +
  'effective this many days after the change (default 30); nothing is sent until a person publishes it.';

const TrustPageBody = Type.Object(
  {
    published: Type.Optional(Type.Boolean({ description: 'The page is served at /trust/{slug} only once published.' })),
    headline: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    overview: Type.Optional(Nullable(Type.String({ maxLength: 10000, description: 'Plain text; blank lines separate paragraphs.' }))),
    brandColor: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb' }))),
    contactEmail: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    contactUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    sections: Type.Optional(Type.Partial(Sections, { description: 'Which sections show; omitted ones keep their value (all show by default).' })),
    subprocessors: Type.Optional(Type.Array(Subprocessor, { maxItems: 200 })),
    faq: Type.Optional(
      Type.Array(Faq, { maxItems: 100, description: 'Chosen library answers ({libraryEntryId}), or question/answer pairs written for the page.' }),
    ),
    certificationIds: Type.Optional(
      Nullable(
        Type.Array(Type.String({ format: 'uuid' }), {
          maxItems: 100,
          description: 'null: every certification whose visibility is public; otherwise only these (still public ones).',
        }),
      ),
    ),
    controlRefs: Type.Optional(
      Nullable(
        Type.Array(Type.String({ maxLength: 50 }), {
          maxItems: 500,
          description: 'null: every control answer marked public; otherwise only these refs (still public ones).',
        }),
      ),
    ),
    ndaText: Type.Optional(
      Nullable(Type.String({ maxLength: 50000, description: 'Your NDA; null restores the built-in text. Its SHA-256 is recorded with each request.' })),
    ),
    autoApproveDomains: Type.Optional(
      Type.Array(Type.String({ maxLength: 253 }), { maxItems: 100, description: 'Requests from these email domains are approved at once.' }),
    ),
    autoApproveExpiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
    prospectAutoRelease: Type.Optional(Type.Enum(PROSPECT_AUTO_RELEASE, { description: PROSPECT_AUTO_RELEASE_DOC })),
    subprocessorNoticeDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365, description: SUBPROCESSOR_NOTICE_DOC })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        published: true,
        headline: 'Security at Acme Corp',
        contactEmail: 'security@acme.example',
        brandColor: '#0b5fff',
        sections: { soc2: false },
        subprocessors: [EX.subprocessor],
        faq: [
          { libraryEntryId: '0193a0f1-2b3c-7d4e-9f5a-6b7c8d9e0f1a' },
          { question: 'Where is customer data stored?', answer: 'In AWS data centres in Ireland and the United States.' },
        ],
        autoApproveDomains: ['globex.example'],
        autoApproveExpiresInDays: 30,
      },
    ],
  },
);

const TrustPage = Type.Object(
  {
    slug: Type.String(),
    url: Type.String(),
    published: Type.Boolean(),
    headline: Nullable(Type.String()),
    overview: Nullable(Type.String()),
    brandColor: Nullable(Type.String()),
    logoUrl: Nullable(Type.String()),
    contactEmail: Nullable(Type.String()),
    contactUrl: Nullable(Type.String()),
    sections: Sections,
    subprocessors: Type.Array(Subprocessor),
    faq: Type.Array(FaqStored),
    certificationIds: Nullable(Type.Array(Type.String())),
    controlRefs: Nullable(Type.Array(Type.String())),
    ndaText: Type.String(),
    ndaVersion: Type.String({ description: 'sha256:<hex> of the NDA text' }),
    autoApproveDomains: Type.Array(Type.String()),
    autoApproveExpiresInDays: Type.Integer(),
    prospectAutoRelease: Type.Enum(PROSPECT_AUTO_RELEASE, { description: PROSPECT_AUTO_RELEASE_DOC }),
    subprocessorNoticeDays: Type.Integer({ description: SUBPROCESSOR_NOTICE_DOC }),
    version: Type.Integer(),
    createdAt: Nullable(Timestamp),
    updatedAt: Nullable(Timestamp),
    publishedAt: Nullable(Timestamp),
  },
  {
    $id: 'TrustPageSettings',
    description: "The organization's trust-page settings: what the public page shows, the NDA, auto-approval of access requests and of prospects' answers.",
    examples: [
      {
        slug: 'acme',
        url: 'https://trust.acme.example/trust/acme',
        published: true,
        headline: 'Security at Acme Corp',
        overview: 'Acme Corp runs on AWS in the EU and the US. We are certified to ISO/IEC 27001:2022.',
        brandColor: '#0b5fff',
        logoUrl: 'https://trust.acme.example/trust/acme/logo',
        contactEmail: 'security@acme.example',
        contactUrl: null,
        sections: Object.fromEntries(TRUST_SECTIONS.map((s) => [s, true])),
        subprocessors: [EX.subprocessor],
        faq: [
          { libraryEntryId: '0193a0f1-2b3c-7d4e-9f5a-6b7c8d9e0f1a' },
          { question: 'Where is customer data stored?', answer: 'In AWS data centres in Ireland and the United States.' },
        ],
        certificationIds: null,
        controlRefs: null,
        ndaText: 'By requesting access you agree to keep the documents confidential.',
        ndaVersion: EX.ndaVersion,
        autoApproveDomains: ['globex.example'],
        autoApproveExpiresInDays: 30,
        prospectAutoRelease: 'library_and_facts',
        subprocessorNoticeDays: 30,
        version: 7,
        createdAt: '2026-05-04T09:00:00.000Z',
        updatedAt: '2026-10-20T16:45:00.000Z',
        publishedAt: '2026-05-06T12:00:00.000Z',
      },
    ],
  },
);

const EXAMPLE_DOCUMENT_VERSION = {
  version: 1,
  sha256: 'a3f1c2d4e5b6978812ab34cd56ef7890a1b2c3d4e5f60718293a4b5c6d7e8f90',
  size: 2483112,
  fileName: 'acme-soc2-type2-2026.pdf',
  contentType: 'application/pdf',
  uploadedBy: EX.user,
  uploadedAt: '2026-10-15T08:00:00.000Z',
};
const Version = Type.Object(
  {
    version: Type.Integer(),
    sha256: Type.String(),
    size: Type.Integer(),
    fileName: Type.String(),
    contentType: Type.String(),
    uploadedBy: Type.String(),
    uploadedAt: Timestamp,
  },
  {
    $id: 'TrustDocumentVersion',
    description: 'One uploaded version of a trust-page document.',
    examples: [EXAMPLE_DOCUMENT_VERSION],
  },
);
const Document = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    description: Nullable(Type.String()),
    visibility: Type.Enum(DOCUMENT_VISIBILITIES),
    currentVersion: Type.Integer(),
    fileName: Nullable(Type.String()),
    contentType: Nullable(Type.String()),
    size: Nullable(Type.Integer()),
    sha256: Nullable(Type.String()),
    createdBy: Type.String(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    useForAnswers: UseForAnswers('this document'),
    textIndex: TextIndex('this document'),
    versions: Type.Optional(Type.Array(Version, { description: 'Newest first; in answers about one document only, not in lists.' })),
  },
  {
    $id: 'TrustDocument',
    description:
      'A trust-page document (a report, a certificate, a policy): public, NDA-gated or private, versioned; the file fields describe the current version.',
    examples: [
      {
        id: EX.document,
        title: 'SOC 2 Type 2 report 2026',
        description: 'Period 2025-10-01 to 2026-09-30.',
        visibility: 'nda',
        currentVersion: 1,
        fileName: EXAMPLE_DOCUMENT_VERSION.fileName,
        contentType: 'application/pdf',
        size: EXAMPLE_DOCUMENT_VERSION.size,
        sha256: EXAMPLE_DOCUMENT_VERSION.sha256,
        createdBy: EX.user,
        createdAt: '2026-10-15T08:00:00.000Z',
        updatedAt: '2026-10-15T08:00:00.000Z',
        useForAnswers: true,
        textIndex: { status: 'indexed', passages: 212, version: 1, detail: null },
        versions: [EXAMPLE_DOCUMENT_VERSION],
      },
    ],
  },
);

const AccessRequest = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    email: Type.String(),
    company: Type.String(),
    reason: Nullable(Type.String()),
    documentIds: Type.Array(Type.String()),
    status: Type.Enum(ACCESS_REQUEST_STATUSES),
    ndaVersion: Type.String(),
    ndaAcceptedAt: Timestamp,
    ip: Nullable(Type.String()),
    userAgent: Nullable(Type.String()),
    requestCount: Type.Integer(),
    autoApproved: Type.Boolean(),
    decidedBy: Nullable(Type.String()),
    decidedAt: Nullable(Timestamp),
    decisionNote: Nullable(Type.String()),
    grantId: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    $id: 'AccessRequest',
    description: "A prospect's request for the NDA documents, with the NDA record (version accepted, time, client address and user agent) and the decision.",
    examples: [
      {
        id: EX.request,
        name: 'Jane Doe',
        email: 'jane.doe@globex.example',
        company: 'Globex',
        reason: 'Vendor security review before signing.',
        documentIds: [EX.document],
        status: 'approved',
        ndaVersion: EX.ndaVersion,
        ndaAcceptedAt: '2026-10-21T09:12:00.000Z',
        ip: '203.0.113.24',
        userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
        requestCount: 1,
        autoApproved: false,
        decidedBy: EX.user,
        decidedAt: '2026-10-21T10:02:00.000Z',
        decisionNote: null,
        grantId: EX.grant,
        createdAt: '2026-10-21T09:12:00.000Z',
        updatedAt: '2026-10-21T10:02:00.000Z',
      },
    ],
  },
);
const Grant = Type.Object(
  {
    id: Type.String(),
    accessRequestId: Nullable(Type.String({ description: 'The access request this grant answered.' })),
    requestId: Type.Union([Type.String(), Type.Null()], {
      deprecated: true,
      description: 'Deprecated, removed in the next release: the same value as `accessRequestId` (the name clashed with the error `requestId`).',
    }),
    email: Type.String(),
    name: Nullable(Type.String()),
    company: Nullable(Type.String()),
    documentIds: Type.Array(Type.String()),
    status: Type.Enum(access.GRANT_STATUSES),
    expiresAt: Timestamp,
    revokedAt: Nullable(Timestamp),
    revokedBy: Nullable(Type.String()),
    createdBy: Type.String(),
    createdAt: Timestamp,
    updatedAt: Type.String({
      format: 'date-time',
      description: 'Moves on every change of the grant: revocation, use of the link (lastUsedAt), the expiry notice.',
    }),
    lastUsedAt: Nullable(Timestamp),
    downloads: Type.Optional(Type.Integer()),
  },
  {
    $id: 'AccessGrant',
    description: 'Access to NDA documents for one person until it expires or is revoked; its link is signed and never stored.',
    examples: [
      {
        id: EX.grant,
        accessRequestId: EX.request,
        requestId: EX.request,
        email: 'jane.doe@globex.example',
        name: 'Jane Doe',
        company: 'Globex',
        documentIds: [EX.document],
        status: 'active',
        expiresAt: '2026-11-20T10:02:00.000Z',
        revokedAt: null,
        revokedBy: null,
        createdBy: EX.user,
        createdAt: '2026-10-21T10:02:00.000Z',
        updatedAt: '2026-10-22T07:41:00.000Z',
        lastUsedAt: '2026-10-22T07:41:00.000Z',
        downloads: 2,
      },
    ],
  },
);
const GrantLink = Type.Object(
  {
    grantId: Type.String(),
    url: Type.String({ description: 'Opens the granted documents until expiry or revocation. Treat it as a secret.' }),
    expiresAt: Timestamp,
    documentIds: Type.Array(Type.String()),
    email: Type.String(),
  },
  {
    $id: 'AccessGrantLink',
    description: "A grant's link, to hand to the grantee.",
    examples: [
      {
        grantId: EX.grant,
        url: 'https://trust.acme.example/trust/acme/access/eyJhbGciOiJFUzI1NiJ9.eyJnaWQiOiIwMTkzYTRmMiJ9.c2lnbmF0dXJl',
        expiresAt: '2026-11-20T10:02:00.000Z',
        documentIds: [EX.document],
        email: 'jane.doe@globex.example',
      },
    ],
  },
);

// The same checks as IdParam; their own copies only to carry example ids into the document.
const DocumentIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The document id.', examples: [EX.document] }) });
const AccessRequestIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The access request id.', examples: [EX.request] }) });
const GrantIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The grant id.', examples: [EX.grant] }) });
const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

const Count = Type.Integer();
const TrustAnalyticsCompany = Type.Object(
  {
    company: Nullable(Type.String({ description: 'As the requester or grantee wrote it (the latest spelling seen).' })),
    domain: Nullable(Type.String({ description: 'The domain of their e-mail addresses.' })),
    visits: Type.Integer({ description: 'Visits through their access links (a use after 30 minutes without one starts a visit).' }),
    downloads: Type.Integer({ description: 'Documents downloaded through their access links.' }),
    requests: Type.Integer({ description: 'Access requests made.' }),
    lastSeenAt: Type.String({ format: 'date-time', description: 'Their latest visit, download or request in the range.' }),
  },
  {
    $id: 'TrustAnalyticsCompany',
    description:
      'Activity of one company (company name, case aside, and e-mail domain) in the range. Only known people count: requesters and grantees; anonymous page views and public downloads have no company.',
    examples: [{ company: 'Buyer Inc', domain: 'buyer.example.com', visits: 3, downloads: 5, requests: 1, lastSeenAt: '2026-06-01T12:30:00.000Z' }],
  },
);
const TrustAnalyticsEvent = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    at: Type.String({ format: 'date-time' }),
    kind: Type.Enum(ANALYTICS_EVENT_KINDS, {
      description: 'visit: a grantee used their access link after 30 minutes without; download: a document was downloaded.',
    }),
    company: Nullable(Type.String({ description: 'From the grant; null for anonymous downloads of public documents.' })),
    domain: Nullable(Type.String({ description: 'The domain of `email`.' })),
    email: Nullable(Type.String({ description: 'The grantee; null for anonymous downloads.' })),
    grantId: Nullable(Type.String({ format: 'uuid' })),
    documentId: Nullable(Type.String({ format: 'uuid', description: 'Downloads only.' })),
    documentTitle: Nullable(Type.String({ description: 'The title when downloaded (downloads only).' })),
  },
  {
    $id: 'TrustAnalyticsEvent',
    description: 'One visit or download on the trust portal. Anonymous page views are only counted per day (GET /trust-page/analytics), never listed.',
    examples: [
      {
        id: '01890a5d-ac96-774b-bcce-b302099a8057',
        at: '2026-06-01T12:01:00.000Z',
        kind: 'download',
        company: 'Buyer Inc',
        domain: 'buyer.example.com',
        email: 'pat@buyer.example.com',
        grantId: '01890a5d-ac96-774b-bcce-b302099a8050',
        documentId: '01890a5d-ac96-774b-bcce-b302099a8040',
        documentTitle: 'SOC 2 Type II Report',
      },
    ],
  },
);
const Analytics = Type.Object(
  {
    from: Type.String(),
    to: Type.String(),
    pageViews: Type.Object(
      {
        total: Count,
        html: Count,
        json: Count,
        profile: Count,
        grantPages: Count,
        byDay: Type.Array(Type.Object({ day: Type.String(), html: Count, json: Count, profile: Count, grant: Count })),
      },
      { description: 'Counts only: nothing about anonymous visitors is kept.' },
    ),
    accessRequests: Type.Object({ total: Count, pending: Count, approved: Count, denied: Count, autoApproved: Count }),
    grants: Type.Object({ total: Count, active: Count, expired: Count, revoked: Count }),
    downloads: Type.Object({
      total: Count,
      byDocument: Type.Array(Type.Object({ documentId: Type.String(), title: Type.String(), downloads: Count, viaGrant: Count })),
      byGrant: Type.Array(
        Type.Object({
          grantId: Type.String(),
          email: Nullable(Type.String()),
          downloads: Count,
          documents: Type.Array(Type.Object({ documentId: Type.String(), title: Type.String(), downloads: Count, lastDownloadAt: Timestamp })),
        }),
      ),
    }),
    byCompany: Type.Array(TrustAnalyticsCompany, { description: `Per company, the most recently seen first; at most ${MAX_COMPANIES}.` }),
    byCompanyTruncated: Type.Boolean({ description: `More than ${MAX_COMPANIES} companies were seen in the range: byCompany holds the most recent.` }),
  },
  {
    $id: 'TrustAnalytics',
    description: 'Trust-portal activity over a range of whole UTC days.',
    examples: [
      {
        from: '2026-10-01',
        to: '2026-10-30',
        pageViews: {
          total: 412,
          html: 380,
          json: 20,
          profile: 9,
          grantPages: 3,
          byDay: [{ day: '2026-10-01', html: 14, json: 1, profile: 0, grant: 0 }],
        },
        accessRequests: { total: 6, pending: 1, approved: 4, denied: 1, autoApproved: 2 },
        grants: { total: 4, active: 3, expired: 0, revoked: 1 },
        downloads: {
          total: 9,
          byDocument: [{ documentId: EX.document, title: 'SOC 2 Type 2 report 2026', downloads: 5, viaGrant: 5 }],
          byGrant: [
            {
              grantId: EX.grant,
              email: 'jane.doe@globex.example',
              downloads: 2,
              documents: [{ documentId: EX.document, title: 'SOC 2 Type 2 report 2026', downloads: 2, lastDownloadAt: '2026-10-22T07:41:00.000Z' }],
            },
          ],
        },
        byCompany: [{ company: 'Globex', domain: 'globex.example', visits: 3, downloads: 2, requests: 1, lastSeenAt: '2026-10-22T07:41:00.000Z' }],
        byCompanyTruncated: false,
      },
    ],
  },
);

// The filters an integration (a CRM) syncs with; they combine with AND and with the paging.
const ListFilters = {
  email: Type.Optional(Type.String({ maxLength: 254, description: 'Only this e-mail address: exact match, case-insensitive.' })),
  domain: Type.Optional(
    Type.String({
      maxLength: 253,
      description: 'Only addresses at this domain (the part after the @): exact match, case-insensitive; subdomains are other domains.',
    }),
  ),
  company: Type.Optional(
    Type.String({ maxLength: 200, description: 'Only this company name as the requester wrote it: case-insensitive exact match (no partial or fuzzy match).' }),
  ),
};
const UpdatedSince = (moves: string) =>
  Type.Optional(Type.String({ format: 'date-time', description: `Only rows whose updatedAt is at or after this time. updatedAt moves on ${moves}.` }));

// What the upload handlers read from a multipart body: for the OpenAPI document only, not validated here.
const DocumentUpload = Type.Object({
  file: Type.String({ format: 'binary', description: 'The document (at most the upload limit, 25 MiB by default).' }),
  title: Type.String({ maxLength: 300, description: 'The title shown on the trust page.' }),
  visibility: Type.Enum(DOCUMENT_VISIBILITIES, {
    description: 'public: anyone downloads it; nda: listed by title, downloaded through an access grant, PDFs watermarked; private: never shown publicly.',
  }),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
  useForAnswers: Type.Optional(
    Type.Boolean({
      default: true,
      description:
        'true or false: whether the text of a PDF, DOCX, Markdown, HTML or plain-text file is split into passages that questionnaire answers quote and cite; public documents alone answer prospects.',
    }),
  ),
});
const DocumentVersionUpload = Type.Object({
  file: Type.String({ format: 'binary', description: 'The new version of the document.' }),
});
const LogoUpload = Type.Object({
  file: Type.String({ format: 'binary', description: 'PNG, JPEG, WebP or GIF (recognised by its bytes, not its name), at most 512 KB.' }),
});

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
  await app.register(trustUpdateRoutes, { portal });

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
    schema: {
      tags: ['trust'],
      operationId: 'getTrustPage',
      summary: 'Your trust-page settings (defaults until first saved)',
      description:
        'Before the first save: the defaults (unpublished, every section shown, the built-in NDA, version 0). `url` is where the page is served once published.',
      response: withProblems({ 200: TrustPage }),
    },
    handler: async (req) => trust.getTrustPage(req.ctx(), publicUrl),
  });

  app.put('/trust-page', {
    config: { role: 'editor' },
    schema: {
      tags: ['trust'],
      operationId: 'putTrustPage',
      summary: 'Save the trust page: publish, content, sections, subprocessors, FAQ, what is public, NDA, auto-approval',
      description:
        'Fields you send replace the stored ones; fields you leave out keep their values. The page is served at /trust/{slug} only while `published` is true. ' +
        'The public page reflects the change at once. An unknown certification, control ref or library entry (or one not approved and public), a bad colour or URL is a 400 naming each field.',
      body: TrustPageBody,
      response: withProblems({ 200: TrustPage }),
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
      tags: ['trust'],
      operationId: 'putTrustPageLogo',
      summary: 'Upload the logo (multipart `file`: PNG, JPEG, WebP or GIF, at most 512 KB)',
      description:
        "Replaces the previous logo, which is served from /trust/{slug}/logo (`logoUrl`). The image type is read from the file's bytes: anything else is a 415, " +
        'a file over 512 KB a 413.',
      'x-multipart': LogoUpload,
      response: withProblems({ 200: TrustPage }),
    },
    handler: async (req) =>
      withUpload(req, async (u) => {
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
      tags: ['trust'],
      operationId: 'getTrustAnalytics',
      summary: 'Page views, access requests, grants, downloads per grant and document, and activity per company',
      description:
        'The range is whole UTC days, `from` and `to` included (default: the last 30 days). `format=csv` answers the per-company breakdown ' +
        '(`byCompany`) as RFC 4180 CSV with a header row (company, domain, visits, downloads, requests, lastSeenAt); text starting with = + - @ tab or CR ' +
        'is prefixed with an apostrophe so spreadsheets do not run it as a formula.',
      querystring: Type.Object({
        from: Type.Optional(DateParam),
        to: Type.Optional(DateParam),
        format: Type.Optional(Type.Enum(['json', 'csv'], { default: 'json', description: 'json: everything; csv: the per-company breakdown.' })),
      }),
      response: withProblems({
        200: {
          description: 'The analytics; csv comes as an attachment named trust-companies-<from>-<to>.csv.',
          content: {
            'application/json': { schema: Analytics },
            'text/csv': { schema: Type.String({ description: 'RFC 4180 CSV, UTF-8 with BOM, a header row, one row per company.' }) },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      const { format, ...range } = req.query;
      if (format === 'csv') {
        const csv = await companyCsv(req.ctx(), range);
        const now = req.ctx().clock().toISOString().slice(0, 10);
        reply.header('content-disposition', `attachment; filename="trust-companies-${range.from ?? 'last-30-days'}-${range.to ?? now}.csv"`);
        return reply.type(CONTENT_TYPES.csv).header('cache-control', 'no-store').send(csv);
      }
      return reply.type(CONTENT_TYPES.json).send(await trustAnalytics(req.ctx(), portal.views, range));
    },
  });

  app.get('/trust-page/analytics/events', {
    schema: {
      tags: ['trust'],
      operationId: 'listTrustAnalyticsEvents',
      summary: 'Visits and downloads one by one, newest first',
      description:
        "Grantees' visits (a use of their access link after 30 minutes without one) and every document download (anonymous ones of public " +
        'documents included), newest first in the order they were recorded, paged with `limit` and `cursor`. Filters combine with AND; `domain` and ' +
        '`company` come from the grant, so anonymous downloads match neither. Anonymous page views are only counted (GET /trust-page/analytics). ' +
        `\`format=csv\` streams the same rows as RFC 4180 CSV (UTF-8 with BOM) with a header row (at, kind, company, domain, email, documentId, documentTitle, grantId, id): ` +
        `at most ${CSV_EVENT_ROWS.toLocaleString('en-US')} rows, from \`cursor\` on when given (\`limit\` applies to JSON pages only). When more rows match, ` +
        'the answer carries `x-truncated: true` and `x-next-cursor`, the cursor that goes on after its last row (send it as `cursor` for the next export or JSON page). ' +
        'Cells starting with = + - @ tab or CR are prefixed with an apostrophe.',
      querystring: Type.Object({
        ...PageQuery.properties,
        since: Type.Optional(Type.String({ format: 'date-time', description: 'Only events at or after this time.' })),
        until: Type.Optional(Type.String({ format: 'date-time', description: 'Only events before this time.' })),
        kind: Type.Optional(Type.Enum(ANALYTICS_EVENT_KINDS)),
        domain: ListFilters.domain,
        company: ListFilters.company,
        format: Type.Optional(Type.Enum(['json', 'csv'], { default: 'json' })),
      }),
      response: withProblems({
        200: {
          description: 'A page of events, or the CSV export (an attachment named trust-events.csv).',
          headers: {
            'x-truncated': {
              description: `CSV only: \`true\` when more than ${CSV_EVENT_ROWS.toLocaleString('en-US')} rows matched and the export holds the newest of them.`,
              schema: { type: 'string', enum: ['true'] },
            },
            'x-next-cursor': {
              description: 'CSV only, with `x-truncated`: the `cursor` that continues after the last row of this export.',
              schema: { type: 'string' },
            },
          },
          content: {
            'application/json': { schema: Page(TrustAnalyticsEvent) },
            'text/csv': { schema: Type.String({ description: 'RFC 4180 CSV, UTF-8 with BOM, a header row, one row per event.' }) },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      const { format, limit, ...q } = req.query;
      if (format === 'csv') {
        const { body, truncated, nextCursor } = await analyticsEventsCsv(req.ctx(), q);
        if (truncated) reply.header('x-truncated', 'true');
        if (nextCursor) reply.header('x-next-cursor', req.signCursor(nextCursor));
        reply.header('content-disposition', 'attachment; filename="trust-events.csv"');
        return reply.type(CONTENT_TYPES.csv).header('cache-control', 'no-store').send(body);
      }
      return reply.type(CONTENT_TYPES.json).send(await listAnalyticsEvents(req.ctx(), { ...q, limit: limit ?? 50 }));
    },
  });

  // ----- documents ----------------------------------------------------------------------------

  app.post('/documents', {
    config: { role: 'editor' },
    schema: {
      tags: ['documents'],
      operationId: 'createDocument',
      summary: 'Upload a trust-page document',
      description:
        'multipart/form-data only. The file is stored content-addressed (SHA-256) and, unless `useForAnswers` is false, its text is indexed before the answer ' +
        'so questionnaire answers can quote it. Public and NDA documents appear on the trust page at once. A missing file, title or visibility is a 400; a file over the upload limit a 413.',
      'x-multipart': DocumentUpload,
      response: withProblems({ 201: { ...Document, description: 'The document with its first version and the state of its text index' } }),
    },
    handler: async (req, reply) => {
      let useForAnswers: boolean | undefined;
      const created = await withUpload(req, (u) => {
        useForAnswers = flag(field(u.fields, 'useForAnswers'), 'useForAnswers');
        return docs.createDocument(
          req.ctx(),
          {
            title: field(u.fields, 'title'),
            description: field(u.fields, 'description') ?? null,
            visibility: field(u.fields, 'visibility'),
          },
          u.file,
        );
      });
      portal.cache.invalidateOrg(req.ctx().orgId);
      return reply.code(201).send(await docs.indexDocument(req.ctx(), { parsers: app.parsers, blobs }, created.id, useForAnswers));
    },
  });

  app.get('/documents', {
    schema: {
      tags: ['documents'],
      operationId: 'listDocuments',
      summary: 'Documents, newest first',
      description: 'Every visibility unless `visibility` is given; items describe their current version and carry no `versions`.',
      querystring: Type.Object({ ...PageQuery.properties, visibility: Type.Optional(Type.Enum(DOCUMENT_VISIBILITIES, { examples: ['nda'] })) }),
      response: withProblems({ 200: Page(Document) }),
    },
    handler: async (req) => docs.listDocuments(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/documents/:id', {
    schema: {
      tags: ['documents'],
      operationId: 'getDocument',
      summary: 'One document with its versions',
      params: DocumentIdParam,
      description: "The document with every version, newest first, and the state of its text index. Another organization's document is a 404.",
      response: withProblems({ 200: Document }),
    },
    handler: async (req) => docs.getDocument(req.ctx(), req.params.id),
  });

  app.patch('/documents/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['documents'],
      operationId: 'updateDocument',
      summary: 'Change title, description, visibility or use for answers',
      params: DocumentIdParam,
      description:
        'Only the fields sent change; the public page reflects them at once (a document made private leaves it, one made nda is listed by title only). ' +
        "Only public documents answer prospects' questionnaires.",
      body: Type.Object(
        {
          title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
          description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
          visibility: Type.Optional(Type.Enum(DOCUMENT_VISIBILITIES)),
          useForAnswers: Type.Optional(UseForAnswers('this document')),
        },
        { additionalProperties: false, examples: [{ title: 'SOC 2 Type 2 report 2026', visibility: 'nda' }] },
      ),
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
    schema: {
      tags: ['documents'],
      operationId: 'addDocumentVersion',
      summary: 'Upload a new version (multipart `file`)',
      params: DocumentIdParam,
      description:
        'The new version becomes current: the trust page and grant links serve it, and its text replaces the old passages. Earlier versions stay downloadable by members; ' +
        'questionnaire answers and library entries that quoted the previous version are flagged stale.',
      'x-multipart': DocumentVersionUpload,
      response: withProblems({ 201: { ...Document, description: 'The document with the new version as current' } }),
    },
    handler: async (req, reply) => {
      await withUpload(req, (u) => docs.addDocumentVersion(req.ctx(), req.params.id, u.file));
      portal.cache.invalidateOrg(req.ctx().orgId);
      return reply.code(201).send(await docs.indexDocument(req.ctx(), { parsers: app.parsers, blobs }, req.params.id));
    },
  });

  app.get('/documents/:id/download', {
    schema: {
      tags: ['documents'],
      operationId: 'downloadDocument',
      summary: 'The file as uploaded (members only; not watermarked)',
      params: DocumentIdParam,
      description:
        'Served with its content type, file name and SHA-256 (Repr-Digest). A stored file that no longer matches its SHA-256 is a 500 `integrity_failed`, never sent; ' +
        'an unknown version a 404.',
      querystring: Type.Object({
        version: Type.Optional(Type.Integer({ minimum: 1, description: 'A version number (default: the current one).', examples: [1] })),
      }),
      response: withProblems({ 200: { description: 'The file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } } }),
    },
    handler: async (req, reply) => {
      const { stream, version } = await docs.openDocumentFile(req.ctx(), blobs, req.params.id, req.query.version);
      reply.header('content-type', version.contentType);
      reply.header('content-disposition', attachment(version.fileName));
      reply.header('repr-digest', reprDigest(version.sha256));
      return reply.send(stream);
    },
  });

  app.delete('/documents/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['documents'],
      operationId: 'deleteDocument',
      summary: 'Delete a document and its versions',
      params: DocumentIdParam,
      description:
        'The document leaves the trust page and grant links at once, and its passages leave the answer index; answers that quoted it are flagged stale. ' +
        'A stored file is removed once nothing else refers to it.',
      response: withProblems({ 204: { description: 'Deleted', type: 'null' } }),
    },
    handler: async (req, reply) => {
      await docs.deleteDocument(req.ctx(), blobs, req.params.id);
      portal.cache.invalidateOrg(req.ctx().orgId);
      return reply.code(204).send(null);
    },
  });

  // ----- access requests and grants -----------------------------------------------------------

  app.get('/access-requests', {
    schema: {
      tags: ['trust'],
      operationId: 'listAccessRequests',
      summary: 'Access requests, newest first',
      description:
        'Pending requests wait for POST /access-requests/{id}/approve or /deny; auto-approved ones are already approved. ' +
        'The filters combine with AND; with `updatedSince` an integration can sync what changed since its last run.',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(Type.Enum(ACCESS_REQUEST_STATUSES)),
        ...ListFilters,
        updatedSince: UpdatedSince('creation and on the decision (approve, deny)'),
      }),
      response: withProblems({ 200: Page(AccessRequest) }),
    },
    handler: async (req) => access.listAccessRequests(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/access-requests/:id', {
    schema: {
      tags: ['trust'],
      operationId: 'getAccessRequest',
      summary: 'One access request with its NDA record',
      params: AccessRequestIdParam,
      description: 'The NDA record is the version accepted (SHA-256 of its text), the time, and the client address and user agent of the request.',
      response: withProblems({ 200: AccessRequest }),
    },
    handler: async (req) => access.getAccessRequest(req.ctx(), req.params.id),
  });

  app.post('/access-requests/:id/approve', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'],
      operationId: 'approveAccessRequest',
      summary: 'Approve: issue a signed, expiring, revocable grant and its link',
      params: AccessRequestIdParam,
      description:
        'Without `documentIds` the grant covers the documents requested, or every NDA document. The `url` is a bearer link; it is also e-mailed to the requester (the mail outbox: GET /outbox/mail while SMTP_URL is unset). ' +
        'A request already decided is a 409; with no NDA document to share, a 422. Emits access_grant.created.',
      body: Type.Object(
        {
          expiresInDays: Type.Integer({ minimum: 1, maximum: 365 }),
          documentIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 200 })),
          note: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
        },
        { additionalProperties: false, examples: [{ expiresInDays: 30, note: 'Approved for the Globex procurement review.' }] },
      ),
      response: withProblems({ 200: GrantLink }),
    },
    handler: async (req) => access.approveAccessRequest(portal.access, req.ctx(), req.params.id, req.body),
  });

  app.post('/access-requests/:id/deny', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'],
      operationId: 'denyAccessRequest',
      summary: 'Deny a pending request',
      params: AccessRequestIdParam,
      description: 'Records the decision and the optional note (kept with the request, for members). A request already decided is a 409.',
      body: Type.Optional(Type.Object({ note: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))) }, { additionalProperties: false })),
      response: withProblems({ 200: AccessRequest }),
    },
    handler: async (req) => access.denyAccessRequest(req.ctx(), req.params.id, req.body ?? {}),
  });

  app.get('/access-grants', {
    schema: {
      tags: ['trust'],
      operationId: 'listAccessGrants',
      summary: 'Grants with their status and download counts, newest first',
      description:
        'Every grant, active, expired or revoked, with the number of documents downloaded through it. ' +
        'The filters combine with AND; with `updatedSince` an integration can sync what changed since its last run.',
      querystring: Type.Object({
        ...PageQuery.properties,
        status: Type.Optional(
          Type.Enum(access.GRANT_STATUSES, { description: 'As computed now: revoked, else expired once expiresAt has passed, else active.' }),
        ),
        ...ListFilters,
        updatedSince: UpdatedSince(
          'creation, revocation, use of the link (lastUsedAt, at most once a minute) and the expiry notice (access_grant.expired, within about a minute of expiresAt)',
        ),
      }),
      response: withProblems({ 200: Page(Grant) }),
    },
    handler: async (req) => access.listGrants(req.ctx(), { ...req.query, limit: req.query.limit ?? 50 }),
  });

  app.get('/access-grants/:id', {
    schema: {
      tags: ['trust'],
      operationId: 'getAccessGrant',
      summary: 'One grant',
      params: GrantIdParam,
      description:
        'Its status as of now, when its link was last used and how many downloads it has served. The link itself is not stored: see POST /access-grants/{id}/link.',
      response: withProblems({ 200: Grant }),
    },
    handler: async (req) => access.getGrant(req.ctx(), req.params.id),
  });

  app.post('/access-grants/:id/link', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'],
      operationId: 'reissueAccessGrantLink',
      summary: 'A fresh link for an active grant (same grant, same expiry)',
      params: GrantIdParam,
      description:
        'For integrations that deliver links, e.g. after an auto-approved request (event access_grant.created). Earlier links keep working until the grant expires or is revoked; ' +
        'an expired or revoked grant is a 410.',
      response: withProblems({ 200: GrantLink }),
    },
    handler: async (req) => access.reissueGrantLink(portal.access, req.ctx(), req.params.id),
  });

  app.delete('/access-grants/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['trust'],
      operationId: 'revokeAccessGrant',
      summary: 'Revoke a grant: its link stops working at once',
      params: GrantIdParam,
      description: 'Every link of the grant answers 403 from then on. Revoking a revoked grant changes nothing (204 again).',
      response: withProblems({ 204: { description: 'Revoked', type: 'null' } }),
    },
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
