import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

export const QUESTIONNAIRE_STATUSES = ['imported', 'queued', 'filling', 'filled', 'failed'] as const;
export const ANSWER_STATUSES = ['draft', 'needs_review', 'approved', 'rejected'] as const;
export type AnswerStatus = (typeof ANSWER_STATUSES)[number];
// The generic answers: the library keeps them, questionnaires speak them in each buyer's list.
export { CHOICES, type Choice } from '../library/tables.js';

/**
 * Which answers of a prospect's questionnaire the prospect sees before a member approves them (a
 * trust-page setting): `library_and_facts` approved library answers and public profile facts,
 * `confident_drafts` every draft at or above the calibrated draft bar too, `none` nothing.
 */
export const PROSPECT_AUTO_RELEASE = ['library_and_facts', 'confident_drafts', 'none'] as const;
export type ProspectAutoRelease = (typeof PROSPECT_AUTO_RELEASE)[number];
export const DEFAULT_PROSPECT_AUTO_RELEASE: ProspectAutoRelease = 'library_and_facts';

/** The prospect behind a questionnaire uploaded under a grant, as the grant named them. */
export interface ProspectInfo {
  email: string;
  name: string | null;
  company: string | null;
}

export interface AnswerCell {
  sheet?: string;
  cell: string;
  role: string;
  header?: string;
  allowed?: string[];
  /** VSAQ items (role 'vsaq'): the item type, its choices ({key: label}) and its gating condition. */
  vsaqType?: string;
  options?: { key: string; label: string }[];
  cond?: string;
}

export interface AnswerSource {
  kind: 'control' | 'library' | 'evidence' | 'fact' | 'document';
  framework?: string;
  ref?: string;
  id?: string;
  /** Facts: the profile key (`data.storage_countries`). */
  key?: string;
  /** The version of the control answer, library entry, evidence or fact the answer was drawn from. */
  version?: number;
  score?: number;
  /** Documents and evidence files quoted: their title, and the page or heading of the passage. */
  title?: string;
  page?: number;
  heading?: string;
}

/** How the fill reached an answer; `held`: a prospect's draft kept for a member's approval (prospectAutoRelease). */
export interface AnswerBasis {
  path: string;
  raw: number;
  held?: boolean;
}

export const questionnaires = pgTable(
  'questionnaires',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    format: text('format').notNull(),
    /** The buyer's original file, kept to write the answers back into it. */
    sourceSha256: text('source_sha256'),
    sourceFileName: text('source_file_name'),
    layout: jsonb('layout').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: QUESTIONNAIRE_STATUSES }).notNull(),
    /** `prospect`: uploaded from the trust page under a grant; answered from public sources only. */
    origin: text('origin', { enum: ['vendor', 'prospect'] })
      .notNull()
      .default('vendor'),
    grantId: uuid('grant_id'),
    /** Copied from the grant at upload, so the vendor's lists name the prospect without reading the trust module. */
    prospect: jsonb('prospect').$type<ProspectInfo>(),
    /** The trust page's prospectAutoRelease at upload: which answers the fill leaves visible to the prospect. */
    autoRelease: text('auto_release', { enum: PROSPECT_AUTO_RELEASE }),
    /** When the vendor released the reviewed answers to the prospect. */
    releasedAt: timestamp('released_at', { withTimezone: true }),
    questionCount: integer('question_count').notNull(),
    progressDone: integer('progress_done').notNull().default(0),
    error: text('error'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    filledAt: timestamp('filled_at', { withTimezone: true }),
    /** The member who owns the questionnaire as team work (a user id), and when it is due. */
    ownerId: uuid('owner_id'),
    dueAt: timestamp('due_at', { withTimezone: true }),
    /** The due date the questionnaire.due_soon notice was sent for: a later due date sends it again. */
    dueNoticeFor: timestamp('due_notice_for', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    // My work: the questionnaires a member owns, by due date.
    index('questionnaires_owner_due_idx').on(t.orgId, t.ownerId, t.dueAt),
    // The due-soon scan reads only questionnaires with a due date, across organizations.
    index('questionnaires_due_idx')
      .on(t.dueAt)
      .where(sql`${t.dueAt} is not null`),
  ],
);

export const questions = pgTable(
  'questionnaire_questions',
  {
    orgId: uuid('org_id').notNull(),
    questionnaireId: uuid('questionnaire_id').notNull(),
    id: uuid('id').notNull(),
    position: integer('position').notNull(),
    ref: text('ref'),
    text: text('text').notNull(),
    section: text('section'),
    sheet: text('sheet'),
    row: integer('row'),
    answerCells: jsonb('answer_cells').$type<AnswerCell[]>().notNull().default([]),
    allowedAnswers: text('allowed_answers').array(),
    /** yes/no/partial/n/a, or the buyer's allowed value verbatim when the question has a list. */
    choice: text('choice'),
    answerText: text('answer_text'),
    confidence: real('confidence'),
    status: text('status', { enum: ANSWER_STATUSES }),
    sources: jsonb('sources').$type<AnswerSource[]>().notNull().default([]),
    /** Why the answer waits for a person (the abstain rule's reason), null otherwise. */
    reviewReason: text('review_reason'),
    /** The decision path and raw score behind the confidence, for calibration. */
    answerBasis: jsonb('answer_basis').$type<AnswerBasis>(),
    /** The fill job that wrote this answer: a resumed job skips what it already answered. */
    filledByJob: uuid('filled_by_job'),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    /** The member the question is assigned to (a user id), and when it is due. */
    assigneeId: uuid('assignee_id'),
    dueAt: timestamp('due_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('questionnaire_questions_order_idx').on(t.orgId, t.questionnaireId, t.position),
    // My work: a member's assigned questions by due date (assigned questions only).
    index('questionnaire_questions_assignee_idx')
      .on(t.orgId, t.assigneeId, t.dueAt)
      .where(sql`${t.assigneeId} is not null`),
  ],
);

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;

/** Durable background jobs: progress and state live here, so a restart resumes them. */
export const jobs = pgTable(
  'jobs',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    kind: text('kind').notNull(),
    subjectId: uuid('subject_id').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    error: text('error'),
    requestedBy: text('requested_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('jobs_due_idx').on(t.status, t.lockedUntil),
    // The fill job of a questionnaire, looked up by its subject.
    index('jobs_subject_idx').on(t.orgId, t.subjectId),
  ],
);

/**
 * Embedding vectors by content hash, per organization and model: a text is embedded once.
 * A plain real[] (pgvector is not available on every PostgreSQL here); ranking happens in process.
 */
export const embeddings = pgTable(
  'embeddings',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    contentHash: text('content_hash').notNull(),
    vector: real('vector').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.model, t.contentHash] })],
);

/** Drafted answer prose by the hash of model, prompt, question and sources: an unchanged question costs no new call. */
export const llmDrafts = pgTable(
  'llm_drafts',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    cacheKey: text('cache_key').notNull(),
    model: text('model').notNull(),
    text: text('text').notNull(),
    citations: jsonb('citations').$type<string[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.cacheKey] })],
);

/**
 * Internal comments on a question, in threads (`parentId`): team work only, so no export, prospect
 * view or question view ever reads this table. A deleted comment keeps its row (and its place in
 * the thread) with the body cleared.
 */
export const questionComments = pgTable(
  'question_comments',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    questionnaireId: uuid('questionnaire_id').notNull(),
    questionId: uuid('question_id').notNull(),
    parentId: uuid('parent_id'),
    /** The member who wrote it (an API key's creator). */
    authorId: text('author_id').notNull(),
    body: text('body'),
    /** Members the comment names (user ids, checked to be members when written). */
    mentions: text('mentions').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    editedAt: timestamp('edited_at', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('question_comments_question_idx').on(t.orgId, t.questionId, t.id)],
);

export const REVISION_CAUSES = ['review', 'section_not_applicable', 'section_approve', 'section_refill', 'fill'] as const;
export type RevisionCause = (typeof REVISION_CAUSES)[number];

/**
 * An answer's history: each row is the answer as it stood before it was overwritten, with who
 * overwrote it, when and how (`cause`). The current answer lives on the question itself.
 */
export const answerRevisions = pgTable(
  'answer_revisions',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    questionId: uuid('question_id').notNull(),
    questionnaireId: uuid('questionnaire_id').notNull(),
    choice: text('choice'),
    text: text('text'),
    status: text('status', { enum: ANSWER_STATUSES }),
    confidence: real('confidence'),
    sources: jsonb('sources').$type<AnswerSource[]>().notNull().default([]),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull(),
    cause: text('cause', { enum: REVISION_CAUSES }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('answer_revisions_question_idx').on(t.orgId, t.questionId, t.id)],
);

/**
 * A fill job limited to some questions (a section's re-fill); a job without a row here fills the
 * whole questionnaire. Kept beside `jobs` so the job table stays generic.
 */
export const fillJobScopes = pgTable(
  'fill_job_scopes',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id').notNull(),
    questionIds: uuid('question_ids').array().notNull(),
    /** Re-draft approved answers among them too. */
    force: boolean('force').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.jobId] })],
);
