import { sql } from 'drizzle-orm';
import { boolean, customType, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** What a passage was read from: a trust-page document or an evidence file. */
export const KNOWLEDGE_KINDS = ['document', 'evidence'] as const;
export type KnowledgeKind = (typeof KNOWLEDGE_KINDS)[number];
/** Who may read a source's passages: public (prospects too), nda (grantees), private (members only). */
export const KNOWLEDGE_VISIBILITIES = ['public', 'nda', 'private'] as const;
export type KnowledgeVisibility = (typeof KNOWLEDGE_VISIBILITIES)[number];
export const INDEX_STATUSES = ['pending', 'indexed', 'scanned', 'unsupported', 'failed'] as const;
export type IndexStatus = (typeof INDEX_STATUSES)[number];

/**
 * One source of passages and the state of its text: the version read, whether it may answer
 * questions and who may see it (kept in step by the module that owns the document or evidence).
 */
export const knowledgeSources = pgTable(
  'knowledge_sources',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: KNOWLEDGE_KINDS }).notNull(),
    sourceId: uuid('source_id').notNull(),
    title: text('title').notNull(),
    version: integer('version').notNull(),
    visibility: text('visibility', { enum: KNOWLEDGE_VISIBILITIES }).notNull(),
    useForAnswers: boolean('use_for_answers').notNull().default(true),
    status: text('status', { enum: INDEX_STATUSES }).notNull(),
    /** Why a file has no passages (a scanned PDF, an unsupported format), for the uploader. */
    detail: text('detail'),
    passages: integer('passages').notNull().default(0),
    indexedAt: timestamp('indexed_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.kind, t.sourceId] })],
);

/** A passage of a source's current version, with the page or heading it sits under. */
export const knowledgePassages = pgTable(
  'knowledge_passages',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: KNOWLEDGE_KINDS }).notNull(),
    sourceId: uuid('source_id').notNull(),
    position: integer('position').notNull(),
    page: integer('page'),
    heading: text('heading'),
    text: text('text').notNull(),
    /** Heading weighted A, text C: the same weighting scheme as catalog controls. */
    search: tsvector('search').generatedAlwaysAs(
      sql`setweight(to_tsvector('english', coalesce(heading, '')), 'A') || setweight(to_tsvector('english', text), 'C')`,
    ),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.kind, t.sourceId, t.position] }), index('knowledge_passages_search_idx').using('gin', t.search)],
);
