import { sql } from 'drizzle-orm';
import { bigint, boolean, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';
import { DEFAULT_PROSPECT_AUTO_RELEASE, PROSPECT_AUTO_RELEASE } from '../questionnaires/tables.js';
import { TRUST_UPDATE_AUDIENCES, TRUST_UPDATE_CATEGORIES } from '../events/vocabulary.js';

// ---------------------------------------------------------------------------------------------
// The trust page: one per organization, served publicly only once published.

export const TRUST_SECTIONS = ['certifications', 'security', 'soc2', 'subprocessors', 'documents', 'faq'] as const;
export type TrustSection = (typeof TRUST_SECTIONS)[number];
export type TrustSections = Record<TrustSection, boolean>;

export interface Subprocessor {
  name: string;
  purpose: string;
  location: string;
  url?: string | null;
}

/**
 * A FAQ entry: a chosen library answer (shown while it stays approved, public and fresh), or a
 * question and answer written for the page itself.
 */
export interface FaqEntry {
  libraryEntryId?: string;
  question?: string;
  answer?: string;
}

export const trustPages = pgTable(
  'trust_pages',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    published: boolean('published').notNull().default(false),
    headline: text('headline'),
    overview: text('overview'),
    /** `#rrggbb`, validated on write: it is written into the page's CSS. */
    brandColor: text('brand_color'),
    logoSha256: text('logo_sha256'),
    logoContentType: text('logo_content_type'),
    contactEmail: text('contact_email'),
    contactUrl: text('contact_url'),
    sections: jsonb('sections').$type<TrustSections>().notNull(),
    subprocessors: jsonb('subprocessors').$type<Subprocessor[]>().notNull().default([]),
    /** Question/answer pairs; will reference approved library answers once the library exists. */
    faq: jsonb('faq').$type<FaqEntry[]>().notNull().default([]),
    /** Null: every certification whose own visibility is public; otherwise only these (still public ones). */
    certificationIds: jsonb('certification_ids').$type<string[] | null>(),
    /** Null: every control answer marked public; otherwise only these refs (still public ones). */
    controlRefs: jsonb('control_refs').$type<string[] | null>(),
    /** The NDA a requester accepts; null means the built-in text. Its SHA-256 is the NDA version. */
    ndaText: text('nda_text'),
    /** Requests from these email domains are approved at once. */
    autoApproveDomains: text('auto_approve_domains')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    autoApproveExpiresInDays: integer('auto_approve_expires_in_days').notNull().default(30),
    /** Which answers of a prospect's self-serve questionnaire show before a member approves them. */
    prospectAutoRelease: text('prospect_auto_release', { enum: PROSPECT_AUTO_RELEASE }).notNull().default(DEFAULT_PROSPECT_AUTO_RELEASE),
    /** How far ahead a subprocessor change notice dates the change (its drafted effective date). */
    subprocessorNoticeDays: integer('subprocessor_notice_days').notNull().default(30),
    version: integer('version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.orgId] })],
);

// ---------------------------------------------------------------------------------------------
// Documents offered on the trust page. public: anyone downloads; nda: listed by title, downloaded
// through a grant; private: never shown publicly. Bytes live in the blob store by SHA-256.

export const DOCUMENT_VISIBILITIES = ['public', 'nda', 'private'] as const;
export type DocumentVisibility = (typeof DOCUMENT_VISIBILITIES)[number];

export const documents = pgTable(
  'documents',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    visibility: text('visibility', { enum: DOCUMENT_VISIBILITIES }).notNull(),
    currentVersion: integer('current_version').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('documents_visibility_idx').on(t.orgId, t.visibility)],
);

export const documentVersions = pgTable(
  'document_versions',
  {
    orgId: uuid('org_id').notNull(),
    documentId: uuid('document_id').notNull(),
    version: integer('version').notNull(),
    sha256: text('sha256').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    fileName: text('file_name').notNull(),
    contentType: text('content_type').notNull(),
    uploadedBy: text('uploaded_by').notNull(),
    uploadedAt: timestamp('uploaded_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.documentId, t.version] }),
    foreignKey({ name: 'document_versions_document_fk', columns: [t.orgId, t.documentId], foreignColumns: [documents.orgId, documents.id] }).onDelete(
      'cascade',
    ),
    index('document_versions_sha_idx').on(t.sha256),
  ],
);

// ---------------------------------------------------------------------------------------------
// Access requests and grants

export const ACCESS_REQUEST_STATUSES = ['pending', 'approved', 'denied'] as const;
export type AccessRequestStatus = (typeof ACCESS_REQUEST_STATUSES)[number];

export const accessRequests = pgTable(
  'access_requests',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    /** Stored lower-cased. */
    email: text('email').notNull(),
    company: text('company').notNull(),
    reason: text('reason'),
    /** Documents the requester asked for; empty: every NDA document. */
    documentIds: uuid('document_ids')
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    status: text('status', { enum: ACCESS_REQUEST_STATUSES }).notNull(),
    /** SHA-256 of the NDA text accepted, when, from which address and user agent. */
    ndaVersion: text('nda_version').notNull(),
    ndaAcceptedAt: timestamp('nda_accepted_at', { withTimezone: true }).notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /** Kept for older rows that merged duplicates; new requests are never merged (always 1). */
    requestCount: integer('request_count').notNull().default(1),
    autoApproved: boolean('auto_approved').notNull().default(false),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decisionNote: text('decision_note'),
    grantId: uuid('grant_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    // Not unique: each request is its own record (merging leaked that a pending one existed).
    index('access_requests_email_idx').on(t.orgId, t.email),
    index('access_requests_status_idx').on(t.orgId, t.status, t.id),
    // The list filters (CRM sync): the expressions are the ones the queries compare, so the index serves them.
    index('access_requests_domain_idx').on(t.orgId, sql`split_part(${t.email}, '@', 2)`),
    index('access_requests_company_idx').on(t.orgId, sql`lower(${t.company})`),
    index('access_requests_updated_idx').on(t.orgId, t.updatedAt),
  ],
);

/** A grant's id is the jti of its signed token: the row decides revocation and expiry. */
export const accessGrants = pgTable(
  'access_grants',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    requestId: uuid('request_id'),
    email: text('email').notNull(),
    name: text('name'),
    company: text('company'),
    documentIds: uuid('document_ids').array().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    /** Moved by every write to the row (use of the link, revocation, the expiry notice): `updatedSince` syncs on it. */
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    /** When access_grant.expired went out: set in the same transaction as the event, so it goes out once. */
    expiryNotifiedAt: timestamp('expiry_notified_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    foreignKey({ name: 'access_grants_request_fk', columns: [t.orgId, t.requestId], foreignColumns: [accessRequests.orgId, accessRequests.id] }),
    // A request's grants, and the foreign key check when a request is deleted.
    index('access_grants_request_idx').on(t.orgId, t.requestId),
    // The list filters (CRM sync); status active/expired compares expires_at.
    index('access_grants_email_idx').on(t.orgId, t.email),
    index('access_grants_domain_idx').on(t.orgId, sql`split_part(${t.email}, '@', 2)`),
    index('access_grants_company_idx').on(t.orgId, sql`lower(${t.company})`),
    index('access_grants_updated_idx').on(t.orgId, t.updatedAt),
    index('access_grants_expires_idx').on(t.orgId, t.expiresAt),
    // The expiry scan crosses organizations: only grants still owed their notice are in it.
    index('access_grants_expiry_due_idx')
      .on(t.expiresAt)
      .where(sql`${t.revokedAt} is null and ${t.expiryNotifiedAt} is null`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Analytics: downloads (per grant and document) and anonymous page-view counters.

export const documentDownloads = pgTable(
  'document_downloads',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    documentId: uuid('document_id').notNull(),
    documentTitle: text('document_title').notNull(),
    version: integer('version').notNull(),
    /** Null for an anonymous download of a public document. */
    grantId: uuid('grant_id'),
    email: text('email'),
    watermarked: boolean('watermarked').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('document_downloads_grant_idx').on(t.orgId, t.grantId),
    index('document_downloads_document_idx').on(t.orgId, t.documentId),
    // The analytics event list pages by (at, id) within a time range.
    index('document_downloads_at_idx').on(t.orgId, t.at, t.id),
  ],
);

/**
 * Visits of a grantee to their access link: one row when the link is used after a quiet spell
 * (see VISIT_GAP_MS), so a session of page views and downloads is one visit. Grantees are known
 * people (their downloads are logged by email already); anonymous visitors are only counted.
 */
export const grantVisits = pgTable(
  'grant_visits',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    grantId: uuid('grant_id').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('grant_visits_at_idx').on(t.orgId, t.at, t.id),
    index('grant_visits_grant_idx').on(t.orgId, t.grantId),
  ],
);

export const PAGE_VIEW_KINDS = ['html', 'json', 'profile', 'grant'] as const;
export type PageViewKind = (typeof PAGE_VIEW_KINDS)[number];

/** Counts only: no address, agent or cookie of anonymous visitors is kept. */
export const trustPageViews = pgTable(
  'trust_page_views',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    day: text('day').notNull(),
    kind: text('kind', { enum: PAGE_VIEW_KINDS }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.day, t.kind] })],
);

// ---------------------------------------------------------------------------------------------
// Subscribers and updates: people who follow the page by e-mail (double opt-in), and the notices
// published to them, on the page and in its Atom feed.

export const SUBSCRIBER_STATUSES = ['pending', 'confirmed', 'unsubscribed'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];
export type TrustUpdateCategory = (typeof TRUST_UPDATE_CATEGORIES)[number];
export type TrustUpdateAudience = (typeof TRUST_UPDATE_AUDIENCES)[number];

export const trustSubscribers = pgTable(
  'trust_subscribers',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    /** Stored lower-cased; one row per address and organization. */
    email: text('email').notNull(),
    /** Categories followed; empty: all. */
    topics: text('topics', { enum: TRUST_UPDATE_CATEGORIES })
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    status: text('status', { enum: SUBSCRIBER_STATUSES }).notNull(),
    /** Moves with every confirmation e-mail: a confirmation link is valid only for the latest one. */
    confirmNonce: text('confirm_nonce').notNull(),
    confirmSentAt: timestamp('confirm_sent_at', { withTimezone: true }),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    uniqueIndex('trust_subscribers_email_idx').on(t.orgId, t.email),
    index('trust_subscribers_status_idx').on(t.orgId, t.status, t.id),
  ],
);

/**
 * Addresses that asked, through the link in an update notice sent to grant holders, to receive
 * no more of them: grantees are not subscribers, so their one-click opt-out is kept here.
 */
export const trustNoticeOptOuts = pgTable(
  'trust_notice_opt_outs',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** Stored lower-cased, as grants store it. */
    email: text('email').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.email] })],
);

export const TRUST_UPDATE_STATUSES = ['draft', 'published'] as const;
export type TrustUpdateStatus = (typeof TRUST_UPDATE_STATUSES)[number];

/** One subprocessor change in a drafted notice. */
export interface SubprocessorChange {
  change: 'added' | 'removed' | 'changed';
  name: string;
  before?: { purpose: string; location: string } | null;
  after?: { purpose: string; location: string } | null;
}

export const trustUpdates = pgTable(
  'trust_updates',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    title: text('title').notNull(),
    /** A small Markdown subset, rendered escaped (see markdown.ts). */
    body: text('body').notNull(),
    category: text('category', { enum: TRUST_UPDATE_CATEGORIES }).notNull(),
    audience: text('audience', { enum: TRUST_UPDATE_AUDIENCES }).notNull(),
    status: text('status', { enum: TRUST_UPDATE_STATUSES }).notNull(),
    effectiveAt: timestamp('effective_at', { withTimezone: true }),
    /** manual, or drafted from a change to the subprocessor list. */
    origin: text('origin', { enum: ['manual', 'subprocessor_change'] }).notNull(),
    /** Subprocessor notices: the list before the first unpublished change, and the changes since. */
    baseline: jsonb('baseline').$type<Subprocessor[] | null>(),
    changes: jsonb('changes').$type<SubprocessorChange[] | null>(),
    notify: text('notify', { enum: ['all', 'none'] }),
    recipients: integer('recipients'),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    publishedBy: text('published_by'),
    createdBy: text('created_by').notNull(),
    version: integer('version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('trust_updates_status_idx').on(t.orgId, t.status, t.id),
    index('trust_updates_published_idx').on(t.orgId, t.publishedAt),
  ],
);
