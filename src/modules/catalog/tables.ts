import { sql } from 'drizzle-orm';
import { customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

export const RELATIONSHIPS = ['equal', 'subset', 'superset', 'intersect'] as const;
export type Relationship = (typeof RELATIONSHIPS)[number];
export const STRENGTHS = ['strong', 'moderate', 'weak'] as const;
export type Strength = (typeof STRENGTHS)[number];

/** Read-only content loaded from seeds/ (shared by all tenants, so no org_id). */
export const frameworks = pgTable('frameworks', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  version: text('version').notNull(),
  publisher: text('publisher').notNull(),
  catalogVersion: integer('catalog_version').notNull(),
  /** SHA-256 of the seed file: a changed file reloads on the next start. */
  contentHash: text('content_hash').notNull(),
  loadedAt: timestamp('loaded_at', { withTimezone: true }).notNull().defaultNow(),
});

export interface ControlGuidance {
  /** null: the standard gives this side no additional implementation guidance (guidanceNote says so). */
  providerGuidance?: string | null;
  customerGuidance?: string | null;
  /** Present when one side is null, e.g. "No additional implementation guidance for the cloud service provider." */
  guidanceNote?: string;
  expectedEvidence?: string[];
  /** The clause the item rests on, e.g. `x1631:9.2.2`. */
  source?: string;
  /** Whether that clause was read in the standard's text or rests on a secondary reading. */
  sourceNote?: string;
}

export const catalogControls = pgTable(
  'catalog_controls',
  {
    frameworkId: text('framework_id')
      .notNull()
      .references(() => frameworks.id),
    ref: text('ref').notNull(),
    kind: text('kind').notNull(),
    position: integer('position').notNull(),
    title: text('title').notNull(),
    theme: text('theme'),
    summary: text('summary'),
    keywords: text('keywords')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    guidance: jsonb('guidance').$type<ControlGuidance>().notNull().default({}),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    /** Weighted full-text vector (ref and title A, keywords B, summary C), set by the seeder. */
    search: tsvector('search'),
  },
  (t) => [primaryKey({ columns: [t.frameworkId, t.ref] }), index('catalog_controls_search_idx').using('gin', t.search)],
);

/** Other names a control is known by, e.g. CLD.15.1.3 for CLD.13.1.4. */
export const controlAliases = pgTable(
  'control_aliases',
  {
    frameworkId: text('framework_id')
      .notNull()
      .references(() => frameworks.id),
    alias: text('alias').notNull(),
    ref: text('ref').notNull(),
  },
  (t) => [primaryKey({ columns: [t.frameworkId, t.alias] })],
);

export const crosswalkSets = pgTable(
  'crosswalk_sets',
  {
    id: text('id').primaryKey(),
    fromFramework: text('from_framework')
      .notNull()
      .references(() => frameworks.id),
    toFramework: text('to_framework')
      .notNull()
      .references(() => frameworks.id),
    rule: text('rule').notNull(),
    contentHash: text('content_hash').notNull(),
  },
  (t) => [
    // Foreign key checks when a framework is replaced or removed.
    index('crosswalk_sets_from_idx').on(t.fromFramework),
    index('crosswalk_sets_to_idx').on(t.toFramework),
  ],
);

export const crosswalkLinks = pgTable(
  'crosswalk_links',
  {
    fromFramework: text('from_framework').notNull(),
    fromRef: text('from_ref').notNull(),
    toFramework: text('to_framework').notNull(),
    toRef: text('to_ref').notNull(),
    relationship: text('relationship', { enum: RELATIONSHIPS }).notNull(),
    strength: text('strength', { enum: STRENGTHS }).notNull(),
    /** The public mapping routes that back this link. */
    sources: text('sources').array().notNull(),
    note: text('note'),
  },
  (t) => [primaryKey({ columns: [t.fromFramework, t.fromRef, t.toFramework, t.toRef] }), index('crosswalk_links_to_idx').on(t.toFramework, t.toRef)],
);

/** An organization's own view of the crosswalk: links it adds, and catalog links it rejects. */
export const crosswalkOverrides = pgTable(
  'crosswalk_overrides',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    fromFramework: text('from_framework').notNull(),
    fromRef: text('from_ref').notNull(),
    toFramework: text('to_framework').notNull(),
    toRef: text('to_ref').notNull(),
    action: text('action', { enum: ['add', 'reject'] }).notNull(),
    relationship: text('relationship', { enum: RELATIONSHIPS }),
    note: text('note'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('crosswalk_overrides_pair_idx').on(t.orgId, t.fromFramework, t.fromRef, t.toFramework, t.toRef)],
);
