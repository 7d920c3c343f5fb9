import { sql } from 'drizzle-orm';
import { boolean, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';
import { CERTIFICATION_KINDS } from '../events/vocabulary.js';

export { CERTIFICATION_KINDS };
export type CertificationKind = (typeof CERTIFICATION_KINDS)[number];

export interface SurveillanceAudit {
  dueAt: string;
  completedAt?: string | null;
}

/** Certificates and attestation reports; their status (valid, due_soon, stale, expired) is computed from dates. */
export const certifications = pgTable(
  'certifications',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    kind: text('kind', { enum: CERTIFICATION_KINDS }).notNull(),
    name: text('name').notNull(),
    issuer: text('issuer'),
    scope: text('scope'),
    certificateNumber: text('certificate_number'),
    /** ISO/IEC 27017 controls are within the certificate's scope. */
    includesIso27017: boolean('includes_iso27017').notNull().default(false),
    issuedAt: timestamp('issued_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    periodStart: timestamp('period_start', { withTimezone: true }),
    periodEnd: timestamp('period_end', { withTimezone: true }),
    surveillanceAudits: jsonb('surveillance_audits').$type<SurveillanceAudit[]>().notNull().default([]),
    evidenceId: uuid('evidence_id'),
    visibility: text('visibility', { enum: ['public', 'internal'] }).notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    /**
     * When the expiry scan must look at this row next: when its status may need a notice (now,
     * after a write that leaves it not valid) or next changes; null when it never changes again.
     * Set on every write and after each scan, so the scan reads only due rows. A row written
     * without it is due at once, and the scan works it out.
     */
    attentionAt: timestamp('attention_at', { withTimezone: true }).defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('certifications_attention_idx')
      .on(t.attentionAt)
      .where(sql`${t.attentionAt} is not null`),
  ],
);
