import { sql } from 'drizzle-orm';
import { bigint, foreignKey, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { catalogControls } from '../catalog/tables.js';
import { organizations } from '../identity/tables.js';

export const EVIDENCE_KINDS = ['file', 'link'] as const;
export const EVIDENCE_VISIBILITIES = ['public', 'internal'] as const;

/** A piece of evidence: its metadata and validity; the bytes live in the blob store, by SHA-256. */
export const evidence = pgTable(
  'evidence',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    kind: text('kind', { enum: EVIDENCE_KINDS }).notNull(),
    url: text('url'),
    visibility: text('visibility', { enum: EVIDENCE_VISIBILITIES }).notNull(),
    validFrom: timestamp('valid_from', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    currentVersion: integer('current_version').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('evidence_expiry_idx').on(t.orgId, t.expiresAt),
    // The expiry scan looks across organizations for what expires soon: a range on expires_at alone.
    index('evidence_expires_at_idx')
      .on(t.expiresAt)
      .where(sql`${t.expiresAt} is not null`),
  ],
);

export const evidenceVersions = pgTable(
  'evidence_versions',
  {
    orgId: uuid('org_id').notNull(),
    evidenceId: uuid('evidence_id').notNull(),
    version: integer('version').notNull(),
    sha256: text('sha256'),
    size: bigint('size', { mode: 'number' }),
    fileName: text('file_name'),
    contentType: text('content_type'),
    url: text('url'),
    uploadedBy: text('uploaded_by').notNull(),
    uploadedAt: timestamp('uploaded_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.evidenceId, t.version] }),
    foreignKey({ name: 'evidence_versions_evidence_fk', columns: [t.orgId, t.evidenceId], foreignColumns: [evidence.orgId, evidence.id] }).onDelete('cascade'),
    index('evidence_versions_sha_idx').on(t.sha256),
  ],
);

export const evidenceControls = pgTable(
  'evidence_controls',
  {
    orgId: uuid('org_id').notNull(),
    evidenceId: uuid('evidence_id').notNull(),
    frameworkId: text('framework_id').notNull(),
    ref: text('ref').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.evidenceId, t.frameworkId, t.ref] }),
    foreignKey({ name: 'evidence_controls_evidence_fk', columns: [t.orgId, t.evidenceId], foreignColumns: [evidence.orgId, evidence.id] }).onDelete('cascade'),
    foreignKey({ name: 'evidence_controls_catalog_fk', columns: [t.frameworkId, t.ref], foreignColumns: [catalogControls.frameworkId, catalogControls.ref] }),
    index('evidence_controls_control_idx').on(t.orgId, t.frameworkId, t.ref),
    // The foreign key check when a catalog control changes or goes (the indexes above lead with org_id).
    index('evidence_controls_catalog_idx').on(t.frameworkId, t.ref),
  ],
);
