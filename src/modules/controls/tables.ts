import { boolean, foreignKey, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid, index } from 'drizzle-orm/pg-core';
import { catalogControls } from '../catalog/tables.js';
import { organizations } from '../identity/tables.js';
import { CONTROL_STATUSES } from '../events/vocabulary.js';

export { CONTROL_STATUSES };
export type ControlStatus = (typeof CONTROL_STATUSES)[number];
export const RESPONSIBILITIES = ['provider', 'customer', 'shared'] as const;
export type Responsibility = (typeof RESPONSIBILITIES)[number];
export const VISIBILITIES = ['public', 'internal'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** The organization's current answer per control: its Statement of Applicability row. */
export const controlAnswers = pgTable(
  'control_answers',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    frameworkId: text('framework_id').notNull(),
    ref: text('ref').notNull(),
    version: integer('version').notNull(),
    applicable: boolean('applicable').notNull(),
    status: text('status', { enum: CONTROL_STATUSES }).notNull(),
    implementation: text('implementation').notNull(),
    responsibility: text('responsibility', { enum: RESPONSIBILITIES }).notNull(),
    providerStatement: text('provider_statement'),
    customerStatement: text('customer_statement'),
    justification: text('justification'),
    owner: text('owner'),
    reviewDueAt: timestamp('review_due_at', { withTimezone: true }),
    visibility: text('visibility', { enum: VISIBILITIES }).notNull(),
    publicSummary: text('public_summary'),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.frameworkId, t.ref] }),
    foreignKey({ name: 'control_answers_catalog_fk', columns: [t.frameworkId, t.ref], foreignColumns: [catalogControls.frameworkId, catalogControls.ref] }),
    // The foreign key check when a catalog control changes or goes (the primary key leads with org_id).
    index('control_answers_catalog_idx').on(t.frameworkId, t.ref),
  ],
);

export type ControlAnswerSnapshot = Omit<typeof controlAnswers.$inferSelect, 'orgId' | 'frameworkId' | 'ref' | 'reviewDueAt' | 'updatedAt'> & {
  reviewDueAt: string | null;
  updatedAt: string;
};

/** Every version ever written, append-only: the history of the record. */
export const controlAnswerVersions = pgTable(
  'control_answer_versions',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    frameworkId: text('framework_id').notNull(),
    ref: text('ref').notNull(),
    version: integer('version').notNull(),
    snapshot: jsonb('snapshot').$type<ControlAnswerSnapshot>().notNull(),
    changedFields: text('changed_fields').array().notNull(),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull(),
    requestId: text('request_id'),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.frameworkId, t.ref, t.version] }), index('control_answer_versions_time_idx').on(t.orgId, t.changedAt)],
);
