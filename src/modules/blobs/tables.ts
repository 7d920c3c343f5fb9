import { index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

/** What may own a stored file; the owner's id is the evidence, document, questionnaire or organization id. */
export const BLOB_OWNER_KINDS = ['evidence_version', 'document_version', 'questionnaire_source', 'trust_logo'] as const;
export type BlobOwnerKind = (typeof BLOB_OWNER_KINDS)[number];

/**
 * One row per (organization, owner, file): written in the owner's own transaction, so a file is
 * in use exactly while some organization has a row for its hash. Only the GC pass deletes bytes.
 */
export const blobRefs = pgTable(
  'blob_refs',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    sha256: text('sha256').notNull(),
    ownerKind: text('owner_kind', { enum: BLOB_OWNER_KINDS }).notNull(),
    ownerId: text('owner_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.ownerKind, t.ownerId, t.sha256] }), index('blob_refs_sha256_idx').on(t.sha256)],
);

/**
 * An upload in flight: taken under the per-hash lock when the bytes land, released when the owner's
 * row (and its ref) commits or the request fails. Protects a file between upload and owner row;
 * not tenant data (a hash and a time), and swept when older than the grace period (a crash).
 */
export const blobLeases = pgTable(
  'blob_leases',
  {
    id: uuid('id').primaryKey(),
    sha256: text('sha256').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('blob_leases_sha256_idx').on(t.sha256)],
);
