import { boolean, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

export const CERTIFICATION_KINDS = ['iso27001', 'soc2_type1', 'soc2_type2', 'other'] as const;
export type CertificationKind = (typeof CERTIFICATION_KINDS)[number];

export interface SurveillanceAudit {
  dueAt: string;
  completedAt?: string | null;
}

/** Certificates and attestation reports; their status (valid, due_soon, stale, expired) is computed from dates. */
export const certifications = pgTable('certifications', {
  orgId: uuid('org_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
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
}, (t) => [primaryKey({ columns: [t.orgId, t.id] })]);
