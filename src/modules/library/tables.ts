import { sql } from 'drizzle-orm';
import { boolean, customType, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** The generic answers an entry (and a questionnaire answer, in the buyer's own spelling) gives. */
export const CHOICES = ['yes', 'no', 'partial', 'n/a'] as const;
export type Choice = (typeof CHOICES)[number];

export const LIBRARY_STATUSES = ['draft', 'approved'] as const;
export type LibraryStatus = (typeof LIBRARY_STATUSES)[number];

/**
 * The answer library: reviewed answers to recurring questions, each with an owner and the
 * controls it rests on. An entry goes stale when one of those controls' answers changes or its
 * evidence expires, until someone confirms or edits it; stale entries are not reused.
 */
export const libraryEntries = pgTable(
  'library_entries',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    question: text('question').notNull(),
    choice: text('choice', { enum: CHOICES }),
    answerText: text('answer_text'),
    status: text('status', { enum: LIBRARY_STATUSES }).notNull(),
    /** May be shown to prospects: on the trust page FAQ and in self-serve answers. */
    public: boolean('public').notNull().default(false),
    ownerId: uuid('owner_id').notNull(),
    stale: boolean('stale').notNull().default(false),
    staleReason: text('stale_reason'),
    staleAt: timestamp('stale_at', { withTimezone: true }),
    /** The reviewed questionnaire answer it was saved from, if any. */
    sourceQuestionnaireId: uuid('source_questionnaire_id'),
    sourceQuestionId: uuid('source_question_id'),
    version: integer('version').notNull().default(1),
    /** The past questionnaire it was imported from (library_imports) and its row there. */
    importId: uuid('import_id'),
    importRow: integer('import_row'),
    /** False while its controls are retrieval's suggestions (imports); a person confirms them by editing the controls or approving. */
    controlsConfirmed: boolean('controls_confirmed').notNull().default(true),
    approvedBy: text('approved_by'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    /** Question weighted A, answer C: retrieval finds entries by what they answer first. */
    search: tsvector('search').generatedAlwaysAs(
      sql`setweight(to_tsvector('english', question), 'A') || setweight(to_tsvector('english', coalesce(answer_text, '')), 'C')`,
    ),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('library_entries_search_idx').using('gin', t.search),
    index('library_entries_import_idx').on(t.orgId, t.importId),
  ],
);

/**
 * A past questionnaire read into the library: the file by its hash (the same file twice is one
 * import) and what came of its rows. The file itself is not kept.
 */
export const libraryImports = pgTable(
  'library_imports',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    sha256: text('sha256').notNull(),
    fileName: text('file_name').notNull(),
    format: text('format').notNull(),
    importedBy: text('imported_by').notNull(),
    importedAt: timestamp('imported_at', { withTimezone: true }).notNull(),
    /** Rows with a question and an answer. */
    rowCount: integer('row_count').notNull(),
    imported: integer('imported').notNull(),
    duplicates: integer('duplicates').notNull(),
    conflicts: integer('conflicts').notNull(),
    /** Question rows without an answer. */
    skipped: integer('skipped').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), uniqueIndex('library_imports_org_sha256_idx').on(t.orgId, t.sha256)],
);

/** The controls an entry rests on: a change to one of them makes the entry stale. */
export const libraryEntryControls = pgTable(
  'library_entry_controls',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    entryId: uuid('entry_id').notNull(),
    frameworkId: text('framework_id').notNull(),
    ref: text('ref').notNull(),
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.entryId, t.frameworkId, t.ref] }), index('library_entry_controls_control_idx').on(t.orgId, t.frameworkId, t.ref)],
);

/** The profile facts an entry rests on (by key): a change to one of them makes the entry stale. */
export const libraryEntryFacts = pgTable(
  'library_entry_facts',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    entryId: uuid('entry_id').notNull(),
    key: text('key').notNull(),
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.entryId, t.key] }), index('library_entry_facts_key_idx').on(t.orgId, t.key)],
);

/** Documents and evidence files whose passages an entry quotes, at the version quoted: a new version makes the entry stale. */
export const libraryEntryDocuments = pgTable(
  'library_entry_documents',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    entryId: uuid('entry_id').notNull(),
    kind: text('kind', { enum: ['document', 'evidence'] }).notNull(),
    sourceId: uuid('source_id').notNull(),
    version: integer('version').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.entryId, t.kind, t.sourceId] }), index('library_entry_documents_source_idx').on(t.orgId, t.kind, t.sourceId)],
);
