import { boolean, customType, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';
import { FACT_TYPES, FACT_VISIBILITIES } from '../events/vocabulary.js';

export { FACT_TYPES, FACT_VISIBILITIES };
export type FactType = (typeof FACT_TYPES)[number];
export type FactVisibility = (typeof FACT_VISIBILITIES)[number];
export type FactValue = string | number | boolean | string[];

/**
 * A fact's value as jsonb. Drizzle's own jsonb JSON-parses any string the driver hands back, but
 * both drivers have parsed jsonb already, so the string fact "1.2" came back as the number 1.2.
 */
const factValue = customType<{ data: FactValue; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (v) => JSON.stringify(v),
  fromDriver: (v) => v as FactValue,
});

/** The organization's current profile: one typed fact per key (catalog keys and `custom.<slug>`). */
export const profileFacts = pgTable(
  'profile_facts',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    type: text('type', { enum: FACT_TYPES }).notNull(),
    value: factValue('value').notNull(),
    visibility: text('visibility', { enum: FACT_VISIBILITIES }).notNull(),
    /** The question the fact answers: required for custom keys, optional wording for catalog keys. */
    question: text('question'),
    version: integer('version').notNull(),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.key] })],
);

/**
 * Every version of every fact, append-only, deletions included: version numbers keep counting
 * across a delete and a re-create, so an answer that cited version 2 never looks current again.
 */
export const profileFactVersions = pgTable(
  'profile_fact_versions',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    version: integer('version').notNull(),
    type: text('type', { enum: FACT_TYPES }).notNull(),
    /** Null for the version that deleted the fact. */
    value: factValue('value'),
    visibility: text('visibility', { enum: FACT_VISIBILITIES }).notNull(),
    question: text('question'),
    deleted: boolean('deleted').notNull().default(false),
    changedFields: text('changed_fields').array().notNull(),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull(),
    requestId: text('request_id'),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.key, t.version] }), index('profile_fact_versions_time_idx').on(t.orgId, t.changedAt)],
);
