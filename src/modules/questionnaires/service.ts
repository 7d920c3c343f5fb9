import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, ne, or, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { type Actor, memberOf, type OrgScope, requireRole, type ServiceContext, withTransaction } from '../../lib/context.js';
import { DomainError, badRequest, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, invalidCursor, toPage } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { addBlobRef, dropBlobRefs } from '../blobs/index.js';
import type { BlobStore } from '../../lib/storage.js';
import { emitEvent, emitEvents } from '../events/index.js';
import { controlVersionsOf } from '../controls/index.js';
import { evidenceStates } from '../evidence/index.js';
import { entryStates } from '../library/index.js';
import { factStates } from '../profile/index.js';
import { sourceVersions } from '../knowledge/index.js';
import {
  controlText,
  passageText,
  semanticPassages,
  draftPrepared,
  type DraftAnswer,
  type PreparedBatch,
  prepareBatch,
  loadCalibration,
  loadCorpus,
  refineWithLlm,
  semanticRanking,
  type Thesaurus,
} from './answering.js';
import { inList, listMeaning } from './decide.js';
import { failureFields, withLlmLog, type Llm } from './llm.js';
import { draftInPool, primeCorpus, type DraftRunner } from './draft-task.js';
import { thesaurusTerms } from './stemming.js';
import type { ParsedQuestion, ParsedQuestionnaire } from '../../formats/detect.js';
import { recordRevisions } from './history.js';
import {
  CHOICES,
  DEFAULT_PROSPECT_AUTO_RELEASE,
  answerRevisions,
  fillJobScopes,
  jobs,
  questionComments,
  questionnaires,
  questions,
  type AnswerSource,
  type AnswerStatus,
  type Choice,
  type ProspectAutoRelease,
  type ProspectInfo,
} from './tables.js';

// Which prospect answers show before a member approves them, for the trust page's settings (the modules above never import tables.ts).
export { DEFAULT_PROSPECT_AUTO_RELEASE, PROSPECT_AUTO_RELEASE, type ProspectAutoRelease } from './tables.js';

type QuestionRow = typeof questions.$inferSelect;
type PendingRow = Pick<QuestionRow, 'id' | 'ref' | 'position' | 'text' | 'section' | 'sheet' | 'allowedAnswers' | 'answerCells'>;

/** Yields to the event loop: a chain of PGlite queries resolves in microtasks and would starve it. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));
type QuestionnaireRow = typeof questionnaires.$inferSelect;

export function answerOf(q: QuestionRow, staleReasons: string[] = []) {
  if (q.status === null) return null;
  return {
    choice: q.choice,
    text: q.answerText,
    confidence: q.confidence ?? 0,
    status: q.status,
    sources: q.sources,
    reviewReason: q.status === 'needs_review' ? q.reviewReason : null,
    stale: staleReasons.length > 0,
    staleReasons,
  };
}

function questionView(q: QuestionRow, staleReasons?: string[]) {
  return {
    id: q.id,
    ref: q.ref,
    text: q.text,
    section: q.section,
    sheet: q.sheet,
    row: q.row,
    allowedAnswers: q.allowedAnswers,
    answer: answerOf(q, staleReasons),
    assigneeId: q.assigneeId,
    dueAt: q.dueAt?.toISOString() ?? null,
  };
}

/** The current state of everything some answers cite: one query per kind of source. */
async function sourceStates(scope: OrgScope, sources: AnswerSource[]) {
  const unique = (xs: string[]) => [...new Set(xs)];
  const ids = (kind: string) => unique(sources.filter((s) => s.kind === kind && s.id).map((s) => s.id!));
  const refs = unique(sources.filter((s) => s.kind === 'control' && s.ref).map((s) => s.ref!));
  const evidenceIds = ids('evidence');
  const factKeys = unique(sources.filter((s) => s.kind === 'fact' && s.key).map((s) => s.key!));
  const [library, controlRows, evidenceRows, facts, documents] = await Promise.all([
    entryStates(scope, ids('library')),
    controlVersionsOf(scope, refs),
    evidenceStates(scope, evidenceIds),
    factStates(scope, factKeys),
    sourceVersions(scope, ids('document')),
  ]);
  return {
    library,
    facts,
    documents,
    controls: new Map(controlRows.map((c) => [`${c.frameworkId}:${c.ref}`, c])),
    evidence: new Map(evidenceRows.map((e) => [e.id, e])),
  };
}

/**
 * Why each answer may no longer hold: a library entry it used went stale, changed or was deleted,
 * a control answer it cites is at a later version than the one it drew from (or, for answers
 * without versions, changed after it was written or reviewed), evidence it cites has a new
 * version or expired, or a profile fact it cites is at a later version or was deleted. Computed on
 * read, so it is never out of date itself.
 */
export async function staleness(scope: OrgScope, qs: QuestionRow[], now: Date): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const answered = qs.filter((q) => q.status !== null && q.sources.length > 0);
  if (answered.length === 0) return out;
  const current = await sourceStates(
    scope,
    answered.flatMap((q) => q.sources),
  );
  for (const q of answered) {
    const since = q.reviewedAt ?? q.answeredAt;
    const reasons: string[] = [];
    for (const src of q.sources) {
      if (src.kind === 'library') {
        const e = current.library.get(src.id!);
        if (!e) reasons.push(`library entry ${src.id} was deleted`);
        else if (e.stale) reasons.push(`library entry ${src.id}: ${e.reason ?? 'stale'}`);
        else if (src.version !== undefined && e.version > src.version) reasons.push(`library entry ${src.id} changed (version ${e.version})`);
      } else if (src.kind === 'control') {
        const c = current.controls.get(`${src.framework}:${src.ref}`);
        const changed = c && (src.version !== undefined ? c.version > src.version : since !== null && c.updatedAt > since);
        if (changed) reasons.push(`control ${src.ref} changed (version ${c.version})`);
      } else if (src.kind === 'evidence') {
        const e = current.evidence.get(src.id!);
        if (!e) reasons.push(`evidence ${src.id} was deleted`);
        else if (e.expiresAt && e.expiresAt <= now) reasons.push(`evidence "${e.title}" expired`);
        else if (src.version !== undefined && e.version > src.version) reasons.push(`evidence "${e.title}" has a new version (${e.version})`);
      } else if (src.kind === 'document') {
        const d = current.documents.get(src.id!);
        if (!d) reasons.push(`document ${src.title ? `"${src.title}"` : src.id} was deleted`);
        else if (src.version !== undefined && d.version > src.version) reasons.push(`document "${d.title}" has a new version (${d.version})`);
        else if (!d.useForAnswers) reasons.push(`document "${d.title}" is no longer used for answers`);
      } else if (src.kind === 'fact') {
        const f = current.facts.get(src.key!);
        if (!f) reasons.push(`fact ${src.key} was deleted`);
        else if (src.version !== undefined ? f.version > src.version : since !== null && f.updatedAt > since)
          reasons.push(`fact ${src.key} changed (version ${f.version})`);
      }
    }
    if (reasons.length > 0) out.set(q.id, reasons);
  }
  return out;
}

/** Who uploaded a prospect's questionnaire, for the vendor's lists; null for the vendor's own. */
function prospectOf(r: Pick<QuestionnaireRow, 'origin' | 'prospect' | 'grantId'>) {
  if (r.origin !== 'prospect') return null;
  return { grantId: r.grantId, email: r.prospect?.email ?? null, name: r.prospect?.name ?? null, company: r.prospect?.company ?? null };
}

export function summaryView(r: QuestionnaireRow) {
  return {
    id: r.id,
    name: r.name,
    format: r.format,
    status: r.status,
    questionCount: r.questionCount,
    progress: { done: r.progressDone, total: r.questionCount },
    createdAt: r.createdAt.toISOString(),
    filledAt: r.filledAt?.toISOString() ?? null,
    origin: r.origin,
    prospect: prospectOf(r),
    ownerId: r.ownerId,
    dueAt: r.dueAt?.toISOString() ?? null,
  };
}

export interface ImportInput {
  name: string;
  parsed: ParsedQuestionnaire;
  /** The uploaded file (kept for the write-back); `lease` is the upload's claim, ended by the ref. */
  source?: { sha256: string; fileName: string; lease?: string | undefined };
}

export async function importQuestionnaire(ctx: ServiceContext, input: ImportInput) {
  requireRole(ctx.actor, 'editor');
  return createQuestionnaire(ctx, input);
}

/**
 * A prospect's upload through a trust-page grant: stored in the vendor's organization, marked as
 * the prospect's (with who they are and the trust page's prospectAutoRelease at that moment), and
 * queued at once to be answered from public sources only.
 */
export async function importFromProspect(ctx: ServiceContext, grant: { id: string } & ProspectInfo, autoRelease: ProspectAutoRelease, input: ImportInput) {
  const created = await createQuestionnaire(ctx, input, {
    origin: 'prospect',
    grantId: grant.id,
    prospect: { email: grant.email, name: grant.name, company: grant.company },
    autoRelease,
  });
  const job = await queueFill(ctx, created.id);
  return { ...created, status: job.status };
}

interface Origin {
  origin: 'vendor' | 'prospect';
  grantId?: string;
  prospect?: ProspectInfo;
  autoRelease?: ProspectAutoRelease;
}

async function createQuestionnaire(ctx: ServiceContext, input: ImportInput, origin: Origin = { origin: 'vendor' }) {
  const id = newId();
  const now = ctx.clock();
  const qs = input.parsed.questions;
  await ctx.db.transaction(async (tx) => {
    await tx.insert(questionnaires).values({
      orgId: ctx.orgId,
      id,
      name: input.name,
      format: input.parsed.format,
      sourceSha256: input.source?.sha256 ?? null,
      sourceFileName: input.source?.fileName ?? null,
      layout: { sheets: input.parsed.sheets, warnings: input.parsed.warnings },
      status: 'imported',
      origin: origin.origin,
      grantId: origin.grantId ?? null,
      prospect: origin.prospect ?? null,
      autoRelease: origin.autoRelease ?? null,
      questionCount: qs.length,
      createdBy: ctx.actor.id,
      createdAt: now,
      updatedAt: now,
    });
    if (input.source) await addBlobRef(tx, { orgId: ctx.orgId, ownerKind: 'questionnaire_source', ownerId: id }, input.source);
    for (let i = 0; i < qs.length; i += 500) {
      await tx.insert(questions).values(
        qs.slice(i, i + 500).map((q: ParsedQuestion, j) => ({
          orgId: ctx.orgId,
          questionnaireId: id,
          id: newId(),
          position: i + j + 1,
          ref: q.ref ?? null,
          text: q.text,
          section: q.section ?? null,
          sheet: q.sheet ?? null,
          row: q.row ?? null,
          answerCells: q.answerCells.map((c) => ({ ...c, ...(q.sheet ? { sheet: q.sheet } : {}) })),
          allowedAnswers: q.allowedAnswers ?? null,
        })),
      );
    }
    await recordAudit(tx, ctx, {
      action: 'questionnaire.imported',
      targetType: 'questionnaire',
      targetId: id,
      summary: { name: input.name, questions: qs.length, format: input.parsed.format },
    });
    await emitEvent(tx, ctx, 'questionnaire.imported', { id, name: input.name, questionCount: qs.length, origin: origin.origin });
  });
  return { id, name: input.name, questionCount: qs.length, format: input.parsed.format, status: 'imported' as const, warnings: input.parsed.warnings };
}

async function load(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select()
    .from(questionnaires)
    .where(and(eq(questionnaires.orgId, orgId), eq(questionnaires.id, id)));
  if (!row) throw notFound('questionnaire');
  return row;
}

export async function listQuestionnaires(ctx: ServiceContext, q: { limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(questionnaires)
    .where(and(eq(questionnaires.orgId, ctx.orgId), after ? lt(questionnaires.id, after) : undefined))
    .orderBy(desc(questionnaires.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(summaryView), nextCursor: page.nextCursor };
}

export interface QuestionFilter {
  status?: AnswerStatus | 'unanswered';
  stale?: boolean;
  /** A member's user id, `me` (the caller) or `none` (unassigned questions). */
  assignee?: string;
  section?: string;
}

const assigneeIs = (actor: Actor | undefined, assignee: string | undefined) => {
  if (assignee === undefined) return undefined;
  if (assignee === 'none') return isNull(questions.assigneeId);
  if (assignee === 'me') return actor ? eq(questions.assigneeId, memberOf(actor)) : sql`false`;
  return eq(questions.assigneeId, assignee);
};

/** A questionnaire's questions with the status, assignee and section filters (staleness is judged in process). */
const ofQuestionnaire = (orgId: string, id: string, filter: QuestionFilter, actor?: Actor) =>
  and(
    eq(questions.orgId, orgId),
    eq(questions.questionnaireId, id),
    filter.status === 'unanswered' ? isNull(questions.status) : filter.status ? eq(questions.status, filter.status) : undefined,
    assigneeIs(actor, filter.assignee),
    filter.section !== undefined ? eq(questions.section, filter.section) : undefined,
  );

/**
 * A questionnaire's summary and one page of its questions in questionnaire order (keyset on the
 * position). The staleness filter is computed in process, so pages are read forward in chunks
 * until the page is full: a page never holds more than `limit` questions, and never skips any.
 */
export async function getQuestionnaire(ctx: ServiceContext, id: string, filter: QuestionFilter, page: { limit: number; cursor?: string | undefined }) {
  const after = decodeCursor(page.cursor);
  if (after !== undefined && !/^\d{1,9}$/.test(after)) throw invalidCursor();
  const row = await load(ctx.db, ctx.orgId, id);
  const kept: Array<{ q: QuestionRow; reasons: string[] | undefined }> = [];
  let from = after === undefined ? -1 : Number(after);
  const chunk = page.limit + 1;
  for (;;) {
    const qs = await ctx.db
      .select()
      .from(questions)
      .where(and(ofQuestionnaire(ctx.orgId, id, filter, ctx.actor), gt(questions.position, from)))
      .orderBy(asc(questions.position))
      .limit(chunk);
    const stale = await staleness(ctx, qs, ctx.clock());
    for (const q of qs) if (filter.stale === undefined || stale.has(q.id) === filter.stale) kept.push({ q, reasons: stale.get(q.id) });
    if (qs.length < chunk || kept.length > page.limit) break;
    from = qs[qs.length - 1]!.position;
  }
  const { items, nextCursor } = toPage(kept, page.limit, (k) => String(k.q.position));
  return { ...summaryView(row), questions: items.map((k) => questionView(k.q, k.reasons)), nextCursor };
}

/** The summary with every question (the JSON export): one query, however many questions. */
export async function wholeQuestionnaire(ctx: ServiceContext, id: string, filter: QuestionFilter = {}) {
  const row = await load(ctx.db, ctx.orgId, id);
  const qs = await ctx.db
    .select()
    .from(questions)
    .where(ofQuestionnaire(ctx.orgId, id, filter, ctx.actor))
    .orderBy(asc(questions.position));
  const stale = await staleness(ctx, qs, ctx.clock());
  return { ...summaryView(row), questions: qs.map((q) => questionView(q, stale.get(q.id))) };
}

/** Every answer waiting for a person, across questionnaires, in questionnaire then question order. */
export async function reviewQueue(ctx: ServiceContext, page: { limit: number; cursor?: string }) {
  const after = decodeCursor(page.cursor);
  const [afterQuestionnaire, afterPosition] = after ? after.split(':') : [];
  if (after && (!/^[0-9a-f-]{36}$/i.test(afterQuestionnaire ?? '') || !/^\d{1,9}$/.test(afterPosition ?? ''))) throw invalidCursor();
  const rows = await ctx.db
    .select({ q: questions, name: questionnaires.name, origin: questionnaires.origin, prospect: questionnaires.prospect, grantId: questionnaires.grantId })
    .from(questions)
    .innerJoin(questionnaires, and(eq(questionnaires.orgId, questions.orgId), eq(questionnaires.id, questions.questionnaireId)))
    .where(
      and(
        eq(questions.orgId, ctx.orgId),
        eq(questions.status, 'needs_review'),
        after ? sql`(${questions.questionnaireId}, ${questions.position}) > (${afterQuestionnaire}::uuid, ${Number(afterPosition)})` : undefined,
      ),
    )
    .orderBy(asc(questions.questionnaireId), asc(questions.position))
    .limit(page.limit + 1);
  const pageOf = toPage(rows, page.limit, (r) => `${r.q.questionnaireId}:${r.q.position}`);
  const stale = await staleness(
    ctx,
    pageOf.items.map((r) => r.q),
    ctx.clock(),
  );
  return {
    items: pageOf.items.map((r) => ({
      questionnaire: { id: r.q.questionnaireId, name: r.name, origin: r.origin, prospect: prospectOf(r) },
      question: questionView(r.q, stale.get(r.q.id)),
    })),
    nextCursor: pageOf.nextCursor,
  };
}

export async function deleteQuestionnaire(ctx: ServiceContext, id: string, blobs: BlobStore) {
  requireRole(ctx.actor, 'editor');
  const shas = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(questionnaires)
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)))
      .returning();
    if (!row) throw notFound('questionnaire');
    await tx.delete(questions).where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, id)));
    // The questions' comments and answer history go with them.
    await tx.delete(questionComments).where(and(eq(questionComments.orgId, ctx.orgId), eq(questionComments.questionnaireId, id)));
    await tx.delete(answerRevisions).where(and(eq(answerRevisions.orgId, ctx.orgId), eq(answerRevisions.questionnaireId, id)));
    await recordAudit(tx, ctx, { action: 'questionnaire.deleted', targetType: 'questionnaire', targetId: id, summary: { name: row.name } });
    return dropBlobRefs(tx, { orgId: ctx.orgId, ownerKind: 'questionnaire_source', ownerId: id });
  });
  // After commit: the source file goes unless another questionnaire or organization uses it.
  await blobs.collect(shas);
}

/** Queues a fill job (one at a time per questionnaire); approved answers are kept. */
export async function requestFill(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'editor');
  return queueFill(ctx, id);
}

async function queueFill(ctx: ServiceContext, id: string) {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(questionnaires)
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)))
      .for('update');
    if (!row) throw notFound('questionnaire');
    const active = await activeFill(tx, ctx.orgId, id);
    if (active) return { id: active.id, status: active.status, questionnaireId: id };
    return enqueueFill(tx, ctx, id);
  });
}

/** The questionnaire's fill job that is queued or running, if any. */
export async function activeFill(tx: Executor, orgId: string, id: string) {
  const [active] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.orgId, orgId), eq(jobs.subjectId, id), inArray(jobs.status, ['queued', 'running'])));
  return active;
}

/**
 * Queues a fill job on the caller's transaction (which holds the questionnaire's row lock and has
 * checked no fill is active). `only` limits it to some questions (a section's re-fill).
 */
export async function enqueueFill(tx: Executor, ctx: Omit<ServiceContext, 'db'>, id: string, only?: { questionIds: string[]; force: boolean }) {
  const now = ctx.clock();
  const jobId = newId();
  await tx.insert(jobs).values({
    orgId: ctx.orgId,
    id: jobId,
    kind: 'questionnaire.fill',
    subjectId: id,
    status: 'queued',
    requestedBy: ctx.actor.id,
    createdAt: now,
    updatedAt: now,
  });
  if (only) await tx.insert(fillJobScopes).values({ orgId: ctx.orgId, jobId, questionIds: only.questionIds, force: only.force });
  await tx
    .update(questionnaires)
    .set({ status: 'queued', updatedAt: now })
    .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)));
  await recordAudit(tx, ctx, {
    action: 'questionnaire.fill_requested',
    targetType: 'questionnaire',
    targetId: id,
    summary: { jobId, ...(only ? { questions: only.questionIds.length, force: only.force } : {}) },
  });
  return { id: jobId, status: 'queued' as const, questionnaireId: id };
}

export interface FillDeps {
  db: Db;
  clock: Clock;
  thesaurus: Thesaurus;
  /**
   * Where a finished fill reports what it did, and warnings (a model failure, a lost lease): ids,
   * counts and error classes only, never question or answer text.
   */
  log?: { info(obj: object, msg: string): void; warn?(obj: object, msg: string): void };
  /** The language model, when configured: semantic ranking and drafted prose (never for prospects). */
  llm?: Llm | undefined;
  /**
   * The worker pool that ranks and drafts each batch off the event loop (the app's parser pool).
   * Without one (unit tests of the job) the batch is drafted in process.
   */
  pool?: DraftRunner | undefined;
  batchSize?: number;
  /** How long a claim holds without renewal (default LEASE_MS); renewed every third of it while the job runs. */
  leaseMs?: number;
  /** Test seam: called after each committed batch (a crash here must lose nothing). */
  afterBatch?: (done: number) => Promise<void>;
}

type JobRow = typeof jobs.$inferSelect;

/** This claim of the job was superseded: another worker re-claimed it after the lease lapsed. */
class LeaseLost extends Error {
  constructor() {
    super('the fill job was claimed by another worker');
  }
}

/**
 * The fence, run first in every transaction that writes for a job: renews the lease only while the
 * job is still running under this claim's token (`attempts`, which every claim increments; the
 * webhook worker fences on its attempts counter the same way). Otherwise it throws and the
 * transaction rolls back. Its row lock also keeps a concurrent claim (SKIP LOCKED) out until commit.
 */
async function holdLease(tx: Executor, job: JobRow, now: Date, leaseMs: number): Promise<void> {
  const [held] = await tx
    .update(jobs)
    .set({ lockedUntil: new Date(now.getTime() + leaseMs), updatedAt: now })
    .where(and(eq(jobs.orgId, job.orgId), eq(jobs.id, job.id), eq(jobs.attempts, job.attempts), eq(jobs.status, 'running')))
    .returning({ id: jobs.id });
  if (!held) throw new LeaseLost();
}

/** Marks the job done under the same fence (inside a transaction that called holdLease). */
async function finishJob(tx: Executor, job: JobRow, now: Date): Promise<void> {
  await tx
    .update(jobs)
    .set({ status: 'done', finishedAt: now, updatedAt: now, lockedUntil: null })
    .where(and(eq(jobs.orgId, job.orgId), eq(jobs.id, job.id), eq(jobs.attempts, job.attempts)));
}

/**
 * Runs one fill job: answers the questions not yet answered by this job and not approved, in
 * batches; retrieval and drafting happen outside transactions, each batch is written in one short
 * transaction with the progress. A job resumed after a crash skips what it already wrote. A worker
 * whose claim was superseded stops at its next write, writing nothing, and returns normally.
 */
export async function runFillJob(deps: FillDeps, job: JobRow): Promise<void> {
  // The lease is short, so a fill cut off by a crash resumes soon after a restart; a heartbeat
  // renews it between batches too (a slow model call can outlast it). A lost lease shows at the next write.
  const heartbeat = setInterval(
    () => {
      deps.db.transaction((tx) => holdLease(tx, job, deps.clock(), leaseOf(deps))).catch(() => {});
    },
    leaseOf(deps) / 3,
  );
  heartbeat.unref();
  try {
    await fill(deps, job);
  } catch (err) {
    if (!(err instanceof LeaseLost)) throw err;
    deps.log?.warn?.(
      { jobId: job.id, orgId: job.orgId, questionnaireId: job.subjectId, claim: job.attempts },
      'fill job lease lost to another worker; stopping without writing',
    );
  } finally {
    clearInterval(heartbeat);
  }
}

/** One batch's answers, events and progress, in one short fenced transaction of a few statements. */
async function writeBatch(deps: FillDeps, job: JobRow, batch: PendingRow[], drafts: Map<string, DraftAnswer>, only?: FillScope): Promise<void> {
  const { db, clock } = deps;
  const orgId = job.orgId;
  const qid = job.subjectId;
  const now = clock();
  await db.transaction(async (tx) => {
    // Fenced first: a superseded worker writes no answer, event or progress. The renewal keeps a
    // long fill (a slow model) from being taken over meanwhile.
    await holdLease(tx, job, now, leaseOf(deps));
    // The answers about to be replaced are kept in their history first.
    const previous = await tx
      .select()
      .from(questions)
      .where(
        and(
          eq(questions.orgId, orgId),
          inArray(
            questions.id,
            batch.map((q) => q.id),
          ),
          sql`${questions.status} is not null`,
        ),
      );
    await recordRevisions(tx, orgId, previous, { by: job.requestedBy, at: now, cause: only ? 'section_refill' : 'fill' });
    const rows = batch.map((q) => {
      const d = drafts.get(q.id)!;
      return {
        id: q.id,
        choice: d.choice,
        answer_text: d.text,
        confidence: d.confidence,
        status: d.status,
        sources: d.sources,
        review_reason: d.status === 'needs_review' ? (d.reason ?? null) : null,
        answer_basis: d.basis ?? null,
      };
    });
    await tx.execute(sql`
      update ${questions} as q set
        choice = x.choice, answer_text = x.answer_text, confidence = x.confidence, status = x.status, sources = x.sources,
        review_reason = x.review_reason, answer_basis = x.answer_basis, filled_by_job = ${job.id}, answered_at = ${now},
        reviewed_by = null, reviewed_at = null
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id uuid, choice text, answer_text text, confidence real, status text, sources jsonb, review_reason text, answer_basis jsonb)
      where q.org_id = ${orgId} and q.id = x.id`);
    await emitEvents(
      tx,
      { orgId, clock },
      batch.flatMap((q) => {
        const d = drafts.get(q.id)!;
        return d.status === 'needs_review'
          ? [{ type: 'answer.needs_review' as const, data: { questionnaireId: qid, questionId: q.id, ref: q.ref, confidence: d.confidence } }]
          : [];
      }),
    );
    await setProgress(tx, orgId, qid, job.id, now, only);
  });
}

type FillScope = typeof fillJobScopes.$inferSelect;

async function fill(deps: FillDeps, job: JobRow): Promise<void> {
  const { db, clock } = deps;
  const orgId = job.orgId;
  const qid = job.subjectId;
  // The job's organization: what the reads below are scoped to.
  const scope = { db, orgId };
  const target = await db.transaction(async (tx) => {
    const now = clock();
    await holdLease(tx, job, now, leaseOf(deps));
    const [row] = await tx
      .update(questionnaires)
      .set({ status: 'filling', updatedAt: now })
      .where(and(eq(questionnaires.orgId, orgId), eq(questionnaires.id, qid)))
      .returning();
    if (!row) await finishJob(tx, job, now); // deleted while queued: nothing to fill
    return row;
  });
  if (!target) return;
  // A job limited to some questions (a section's re-fill) reads only those; `force` takes approved ones too.
  const [only] = await db
    .select()
    .from(fillJobScopes)
    .where(and(eq(fillJobScopes.orgId, orgId), eq(fillJobScopes.jobId, job.id)));
  // A prospect's questionnaire is answered from public control summaries only: no internal text.
  const publicOnly = target.origin === 'prospect';
  // The questions still to answer, a batch at a time in questionnaire order (keyset on the
  // position): no read holds all of a big questionnaire, and none blocks PGlite for long.
  const readBatch = (after: number, limit: number) =>
    db
      .select({
        id: questions.id,
        ref: questions.ref,
        position: questions.position,
        text: questions.text,
        section: questions.section,
        sheet: questions.sheet,
        allowedAnswers: questions.allowedAnswers,
        answerCells: questions.answerCells,
      })
      .from(questions)
      .where(
        and(
          eq(questions.orgId, orgId),
          eq(questions.questionnaireId, qid),
          gt(questions.position, after),
          only ? inArray(questions.id, only.questionIds) : undefined,
          only?.force ? undefined : or(isNull(questions.status), ne(questions.status, 'approved')),
          or(isNull(questions.filledByJob), ne(questions.filledByJob, job.id)),
        ),
      )
      .orderBy(asc(questions.position))
      .limit(limit);
  await breathe();
  const corpus = await loadCorpus(scope, clock(), { publicOnly });
  await breathe();
  const context = { previous: [] };
  // Names this job's corpus in the pool's workers (a new one per run: the corpus is read per run).
  const corpusKey = newId();
  // The prospect path never reaches the model: its answers come from public text alone.
  const llm = publicOnly ? undefined : deps.llm;
  // Offline a batch is a few milliseconds of ranking: larger batches mean fewer round trips. With a
  // model a batch waits on its calls, and the lease is renewed after each one.
  const size = deps.batchSize ?? (llm ? 25 : 200);
  const usageBefore = llm ? { ...llm.usage } : undefined;
  // A model that is down or refuses degrades the fill to offline answers rather than failing it,
  // and after the first failure the job stops asking: no timeout is waited out twice.
  let llmDown = false;
  // Each failure is logged once: failures the client swallows (a draft batch) by llm.ts under this
  // job's scope, failures that escape (embeddings, anything else) here.
  const degrade = async <T>(operation: 'embed' | 'draft', call: () => Promise<T>): Promise<T | undefined> => {
    if (llmDown) return undefined;
    const failedBefore = llm!.usage.failedBatches;
    try {
      const result = await withLlmLog({ jobId: job.id, log: deps.log }, call);
      if (llm!.usage.failedBatches > failedBefore) llmDown = true;
      return result;
    } catch (err) {
      llm!.usage.failedBatches++;
      llmDown = true;
      deps.log?.warn?.({ jobId: job.id, orgId, operation, ...failureFields(err) }, 'language model call failed; the fill continues with offline answers');
      return undefined;
    }
  };
  const first = await readBatch(-1, size);
  await breathe();
  const controlVectors = llm && first.length > 0 ? await degrade('embed', () => llm.embed(scope, corpus.controls.map(controlText))) : undefined;
  const passageVectors =
    llm && controlVectors && corpus.passages.docs.length > 0 && !llmDown
      ? await degrade('embed', () => llm.embed(scope, corpus.passages.docs.map(passageText)))
      : undefined;
  const inputsOf = (batch: PendingRow[]) =>
    batch.map((q) => ({ id: q.id, text: q.text, section: q.section, sheet: q.sheet, allowedAnswers: q.allowedAnswers, options: vsaqOptions(q) }));
  // The pipeline: while a worker ranks batch k, the main thread reads and stems batch k+1 and
  // writes batch k-1 (one short transaction). The worker gets the corpus before the first batch.
  const primed =
    deps.pool && first.length > 0 ? thesaurusTerms(db, deps.thesaurus).then((groups) => primeCorpus(deps.pool!, corpusKey, corpus, groups)) : undefined;
  primed?.catch(() => {});
  const readAhead = async (after: number) => {
    const rows = await readBatch(after, size);
    return { rows, prepared: rows.length > 0 ? await prepareBatch(db, inputsOf(rows), deps.thesaurus) : undefined };
  };
  let answered = 0;
  let writing: Promise<void> | undefined;
  let next: ReturnType<typeof readAhead> | undefined;
  try {
    let batch = first;
    let prepared = batch.length > 0 ? await prepareBatch(db, inputsOf(batch), deps.thesaurus) : undefined;
    while (batch.length > 0 && prepared) {
      const inputs = inputsOf(batch);
      next = readAhead(batch[batch.length - 1]!.position);
      // Awaited at the end of this batch; until then its failure is not an unhandled one.
      next.catch(() => {});
      const questionVectors =
        llm && controlVectors && !llmDown
          ? await degrade('embed', () =>
              llm.embed(
                scope,
                inputs.map((q) => q.text),
              ),
            )
          : undefined;
      const extra = controlVectors && questionVectors ? semanticRanking(corpus, controlVectors, inputs, questionVectors) : undefined;
      const extraPassages = passageVectors && questionVectors ? semanticPassages(corpus, passageVectors, inputs, questionVectors) : undefined;
      const rankOpts = { context, ...(extra ? { extra } : {}), ...(extraPassages ? { extraPassages } : {}) };
      await primed;
      const drafts = deps.pool
        ? await draftInPool(deps.pool, corpusKey, corpus, inputs, prepared, rankOpts)
        : draftPrepared(corpus, inputs, prepared, rankOpts);
      if (llm) await degrade('draft', () => refineWithLlm(llm, scope, corpus, inputs, drafts));
      if (publicOnly) holdForRelease(drafts, target.autoRelease ?? DEFAULT_PROSPECT_AUTO_RELEASE);
      await writing;
      answered += batch.length;
      const done = answered;
      writing = writeBatch(deps, job, batch, drafts, only).then(() => deps.afterBatch?.(done));
      // Its failure is thrown where it is awaited (the next batch, or the end); until then it is not unhandled.
      writing.catch(() => {});
      ({ rows: batch, prepared } = await next);
      // On PGlite the queries run on this thread: let waiting requests through between batches.
      await breathe();
    }
    await writing;
  } catch (err) {
    // The first failure is the one reported; work still in flight must not be left unawaited.
    await Promise.allSettled([writing, next]);
    throw err;
  }
  const inScope = (id: string) => !only || only.questionIds.includes(id);
  const hidden = target.format === 'vsaq' ? (await hiddenByConditions(db, orgId, qid)).filter(inScope) : [];
  const finished = await db.transaction(async (tx) => {
    const now = clock();
    // Completion is fenced and the job is marked done in the same transaction: it completes once.
    await holdLease(tx, job, now, leaseOf(deps));
    // VSAQ items whose own `cond` is false given our answers are never shown to the buyer: no answer is given.
    if (hidden.length > 0) {
      await tx
        .update(questions)
        .set({ choice: null, answerText: null, confidence: 1, status: 'draft', sources: [], reviewReason: null, answerBasis: { path: 'vsaq_hidden', raw: 1 } })
        .where(and(eq(questions.orgId, orgId), inArray(questions.id, hidden), ne(questions.status, 'approved')));
    }
    await setProgress(tx, orgId, qid, job.id, now, only);
    const [row] = await tx
      .update(questionnaires)
      .set({ status: 'filled', filledAt: now, updatedAt: now })
      .where(and(eq(questionnaires.orgId, orgId), eq(questionnaires.id, qid)))
      .returning();
    const counts = await tx
      .select({ status: questions.status, n: sql<number>`count(*)::int` })
      .from(questions)
      .where(and(eq(questions.orgId, orgId), eq(questions.questionnaireId, qid)))
      .groupBy(questions.status);
    const byStatus = Object.fromEntries(counts.map((c) => [c.status ?? 'unanswered', c.n]));
    await emitEvent(tx, { orgId, clock }, 'questionnaire.filled', { id: qid, name: row?.name, questionCount: row?.questionCount, byStatus });
    await finishJob(tx, job, now);
    return byStatus;
  });
  deps.log?.info(
    {
      orgId,
      questionnaireId: qid,
      jobId: job.id,
      answered,
      byStatus: finished,
      publicOnly,
      // The client is shared by every job: report this job's share of its counters.
      ...(llm && usageBefore
        ? { llm: Object.fromEntries(Object.entries(llm.usage).map(([k, v]) => [k, v - usageBefore[k as keyof typeof usageBefore]])) }
        : {}),
    },
    'questionnaire fill finished',
  );
}

/** A VSAQ item's offered options with their keys (radio and check groups). */
function vsaqOptions(q: Pick<QuestionRow, 'answerCells'>): Array<{ key: string; label: string }> | undefined {
  const cell = q.answerCells.find((c) => c.role === 'vsaq');
  return cell?.options;
}

/**
 * The VSAQ items that the questionnaire's own conditions hide given the answers: a `cond` names
 * item ids and option keys joined by &&, || and !. A chosen option's key is true and its
 * siblings false; a yes/no item is true when answered yes; an item nobody answered is unknown,
 * and an unknown never hides anything (three-valued logic).
 */
async function hiddenByConditions(db: Executor, orgId: string, qid: string): Promise<string[]> {
  const rows = await db
    .select({ id: questions.id, ref: questions.ref, choice: questions.choice, text: questions.answerText, cells: questions.answerCells })
    .from(questions)
    .where(and(eq(questions.orgId, orgId), eq(questions.questionnaireId, qid)));
  const truth = new Map<string, boolean>();
  for (const r of rows) {
    const cell = r.cells.find((c) => c.role === 'vsaq');
    if (!cell) continue;
    if (cell.options?.length) {
      const picked = cell.options.find((o) => o.label === r.choice);
      if (picked) for (const o of cell.options) truth.set(o.key, o === picked);
    } else if (r.ref && r.choice) {
      truth.set(r.ref, r.choice.toLowerCase() === 'yes');
    } else if (r.ref && r.text) {
      truth.set(r.ref, true);
    }
  }
  const hidden: string[] = [];
  for (const r of rows) {
    const cond = r.cells.find((c) => c.role === 'vsaq')?.cond;
    if (cond && evalCondition(cond, truth) === false) hidden.push(r.id);
  }
  return hidden;
}

/** Evaluates a VSAQ condition over known truths; undefined when unknown or unreadable (then nothing is hidden). */
export function evalCondition(cond: string, truth: Map<string, boolean>): boolean | undefined {
  const tokens = cond.match(/\(|\)|&&|\|\||!|[A-Za-z0-9_\-.]+/g) ?? [];
  if (tokens.join('').length !== cond.replace(/\s+/g, '').length) return undefined;
  let i = 0;
  let broken = false;
  // Kleene's logic: false && unknown is false, true || unknown is true.
  const or = (): boolean | undefined => {
    let v = and_();
    while (tokens[i] === '||') {
      i++;
      const w = and_();
      v = v === true || w === true ? true : v === undefined || w === undefined ? undefined : false;
    }
    return v;
  };
  const and_ = (): boolean | undefined => {
    let v = not();
    while (tokens[i] === '&&') {
      i++;
      const w = not();
      v = v === false || w === false ? false : v === undefined || w === undefined ? undefined : true;
    }
    return v;
  };
  const not = (): boolean | undefined => {
    if (tokens[i] === '!') {
      i++;
      const v = not();
      return v === undefined ? undefined : !v;
    }
    if (tokens[i] === '(') {
      i++;
      const v = or();
      if (tokens[i] !== ')') broken = true;
      i++;
      return v;
    }
    const t = tokens[i++];
    if (t === undefined || t === ')' || t === '&&' || t === '||') {
      broken = true;
      return undefined;
    }
    return truth.get(t);
  };
  const v = or();
  return broken || i !== tokens.length ? undefined : v;
}

async function setProgress(tx: Executor, orgId: string, qid: string, jobId: string, now: Date, only?: FillScope) {
  // Done = answered by this job, or approved before it (kept as is), or outside a limited job's questions.
  const outside = only ? sql` or q.id::text not in (select jsonb_array_elements_text(${JSON.stringify(only.questionIds)}::jsonb))` : sql``;
  await tx
    .update(questionnaires)
    .set({
      progressDone: sql`(select count(*)::int from ${questions} q where q.org_id = ${orgId} and q.questionnaire_id = ${qid} and (q.filled_by_job = ${jobId} or q.status = 'approved'${outside}))`,
      updatedAt: now,
    })
    .where(and(eq(questionnaires.orgId, orgId), eq(questionnaires.id, qid)));
}

/** How long a claim holds without renewal: what a job cut off by a crash waits before another run takes it. */
export const LEASE_MS = 30_000;
const leaseOf = (deps: FillDeps) => deps.leaseMs ?? LEASE_MS;

/** Claims one due job (queued, or running with a lapsed lease after a crash) and runs it. */
export async function runNextJob(deps: FillDeps): Promise<boolean> {
  const { db, clock } = deps;
  const now = clock();
  const job = await db.transaction(async (tx) => {
    const [due] = await tx
      .select()
      .from(jobs)
      .where(or(eq(jobs.status, 'queued'), and(eq(jobs.status, 'running'), lte(jobs.lockedUntil, now))))
      .orderBy(asc(jobs.id))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!due) return undefined;
    // A fresh claim token: `attempts` + 1. Every write of this run is fenced on it (holdLease).
    const [claimed] = await tx
      .update(jobs)
      .set({ status: 'running', attempts: due.attempts + 1, lockedUntil: new Date(now.getTime() + leaseOf(deps)), updatedAt: now })
      .where(and(eq(jobs.orgId, due.orgId), eq(jobs.id, due.id)))
      .returning();
    return claimed;
  });
  if (!job) return false;
  try {
    // Marks the job done itself, in its fenced completion; a superseded claim returns having written nothing.
    await runFillJob(deps, job);
  } catch (err) {
    const failed = job.attempts >= 3;
    await db.transaction(async (tx) => {
      // Fenced too: a superseded worker's error must not requeue or fail the new owner's run.
      const [mine] = await tx
        .update(jobs)
        .set({
          status: failed ? 'failed' : 'queued',
          error: err instanceof Error ? err.message : String(err),
          updatedAt: clock(),
          lockedUntil: null,
        })
        .where(and(eq(jobs.orgId, job.orgId), eq(jobs.id, job.id), eq(jobs.attempts, job.attempts), eq(jobs.status, 'running')))
        .returning({ id: jobs.id });
      if (mine && failed) {
        await tx
          .update(questionnaires)
          .set({ status: 'failed', error: 'the fill job failed three times', updatedAt: clock() })
          .where(and(eq(questionnaires.orgId, job.orgId), eq(questionnaires.id, job.subjectId)));
      }
    });
    throw err;
  }
  return true;
}

export interface ReviewInput {
  /** yes/no/partial/n/a, or one of the question's allowed values (matched case-insensitively, stored verbatim). */
  choice?: string | null;
  text?: string | null;
  status?: 'approved' | 'rejected' | 'needs_review';
}

/** A reviewer's edit or decision; an edited answer is the reviewer's own and stays approved on re-fill. */
export async function reviewAnswer(ctx: ServiceContext, questionnaireId: string, questionId: string, input: ReviewInput) {
  requireRole(ctx.actor, 'editor');
  await load(ctx.db, ctx.orgId, questionnaireId);
  const now = ctx.clock();
  return withTransaction(ctx, async (tctx) => {
    const [q] = await tctx.db
      .select()
      .from(questions)
      .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, questionnaireId), eq(questions.id, questionId)))
      .for('update');
    if (!q) throw notFound('question');
    if (input.choice !== undefined && input.choice !== null) input = { ...input, choice: reviewChoice(input.choice, q.allowedAnswers) };
    const status: AnswerStatus = input.status ?? (q.status === 'needs_review' || q.status === null ? 'draft' : q.status);
    if (
      status === 'approved' &&
      (input.text === undefined ? q.answerText : input.text) === null &&
      (input.choice === undefined ? q.choice : input.choice) === null
    ) {
      throw new DomainError('unprocessable', 'an empty answer cannot be approved; give a choice or a text first');
    }
    // A person who approves or rewrites the answer vouches for it as the sources stand now.
    const vouched = status === 'approved' || input.text !== undefined || input.choice !== undefined;
    await recordRevisions(tctx.db, ctx.orgId, [q], { by: ctx.actor.id, at: now, cause: 'review' });
    const [saved] = await tctx.db
      .update(questions)
      .set({
        ...(input.choice !== undefined ? { choice: input.choice } : {}),
        ...(input.text !== undefined ? { answerText: input.text } : {}),
        ...(vouched ? { sources: await currentVersions(tctx, q.sources) } : {}),
        status,
        ...(input.text !== undefined || input.choice !== undefined ? { confidence: 1 } : {}),
        reviewedBy: ctx.actor.id,
        reviewedAt: now,
      })
      .where(and(eq(questions.orgId, ctx.orgId), eq(questions.id, questionId)))
      .returning();
    await recordAudit(tctx.db, tctx, {
      action: `answer.${status}`,
      targetType: 'question',
      targetId: questionId,
      summary: { questionnaireId, fields: Object.keys(input) },
    });
    return questionView(saved!, (await staleness(tctx, [saved!], ctx.clock())).get(saved!.id));
  });
}

/** A reviewer's choice in the question's own list: a value of it (any case), or yes/no/... in the list's spelling. */
function reviewChoice(choice: string, allowed: string[] | null): string {
  const resolved = choiceInList(choice, allowed);
  if (resolved !== undefined) return resolved;
  const list = listMeaning(allowed);
  if (!list) throw badRequest(`choice must be one of ${CHOICES.join(', ')}`, [{ field: '/choice', message: `must be one of ${CHOICES.join(', ')}` }]);
  throw badRequest(`choice must be one of this question's allowed answers: ${list.values.join(', ')}`, [
    { field: '/choice', message: `must be one of: ${list.values.join(', ')}` },
  ]);
}

/** reviewChoice's resolution without the error: the stored choice, or undefined when the list has no such value. */
export function choiceInList(choice: string, allowed: string[] | null): string | undefined {
  const list = listMeaning(allowed);
  const generic = (CHOICES as readonly string[]).find((c) => c === choice.trim().toLowerCase()) as Choice | undefined;
  if (!list) return generic;
  const exact = list.values.find((v) => v.toLowerCase() === choice.trim().toLowerCase());
  if (exact) return exact;
  return generic ? inList(generic, list) : undefined;
}

/** Each answer's sources at the versions their subjects have now, by question id: one read for all (approval vouches for them). */
export async function sourcesNow(scope: OrgScope, rows: readonly { id: string; sources: AnswerSource[] }[]): Promise<Map<string, AnswerSource[]>> {
  const current = await sourceStates(
    scope,
    rows.flatMap((r) => r.sources),
  );
  return new Map(rows.map((r) => [r.id, atVersions(current, r.sources)]));
}

/** The sources with the versions their subjects have now (deleted ones keep what they had). */
function atVersions(current: Awaited<ReturnType<typeof sourceStates>>, sources: AnswerSource[]): AnswerSource[] {
  return sources.map((s) => {
    const version =
      s.kind === 'library'
        ? current.library.get(s.id!)?.version
        : s.kind === 'evidence'
          ? current.evidence.get(s.id!)?.version
          : s.kind === 'fact'
            ? current.facts.get(s.key!)?.version
            : s.kind === 'document'
              ? current.documents.get(s.id!)?.version
              : current.controls.get(`${s.framework}:${s.ref}`)?.version;
    return version === undefined ? s : { ...s, version };
  });
}

async function currentVersions(scope: OrgScope, sources: AnswerSource[]): Promise<AnswerSource[]> {
  return atVersions(await sourceStates(scope, sources), sources);
}

/**
 * Approves every drafted answer at or above a confidence (with a prospect's drafts held for
 * approval, which are drafts the setting kept back). Below the measured draft threshold (where
 * precision on the labelled set falls under 95%) it refuses unless the request says `force`.
 */
export async function bulkApprove(ctx: ServiceContext, questionnaireId: string, minConfidence: number, force = false) {
  requireRole(ctx.actor, 'editor');
  await load(ctx.db, ctx.orgId, questionnaireId);
  const threshold = loadCalibration().draftThreshold;
  if (minConfidence < threshold && !force) {
    throw new DomainError(
      'unprocessable',
      `minConfidence ${minConfidence} is below the measured draft threshold ${threshold}: answers below it are right less than 95% of the time. Review them one by one, or send force: true.`,
    );
  }
  return withTransaction(ctx, async (tctx) => {
    const drafted = or(eq(questions.status, 'draft'), and(eq(questions.status, 'needs_review'), sql`(${questions.answerBasis} ->> 'held') = 'true'`));
    const rows = await tctx.db
      .update(questions)
      .set({ status: 'approved', reviewReason: null, reviewedBy: ctx.actor.id, reviewedAt: ctx.clock() })
      .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, questionnaireId), drafted, gte(questions.confidence, minConfidence)))
      .returning({ id: questions.id, sources: questions.sources });
    // Approval vouches for each answer as its sources stand now, as a single approval does: one
    // read of the sources' versions and one statement for the answers whose sources moved.
    const current = await sourceStates(
      tctx,
      rows.flatMap((r) => r.sources),
    );
    const moved = rows
      .map((r) => ({ id: r.id, before: r.sources, sources: atVersions(current, r.sources) }))
      .filter((r) => JSON.stringify(r.sources) !== JSON.stringify(r.before))
      .map(({ id, sources }) => ({ id, sources }));
    if (moved.length > 0) {
      await tctx.db.execute(sql`update ${questions} q set sources = v.sources
        from jsonb_to_recordset(${JSON.stringify(moved)}::jsonb) as v(id uuid, sources jsonb)
        where q.org_id = ${ctx.orgId} and q.id = v.id`);
    }
    await recordAudit(tctx.db, tctx, {
      action: 'answer.bulk_approved',
      targetType: 'questionnaire',
      targetId: questionnaireId,
      summary: { minConfidence, force, approved: rows.length },
    });
    return { approved: rows.length, threshold };
  });
}

/** Lets the prospect who uploaded it download the file: its released answers, the others left empty. */
export async function releaseToProspect(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'editor');
  const row = await load(ctx.db, ctx.orgId, id);
  if (row.origin !== 'prospect') throw new DomainError('unprocessable', 'only questionnaires uploaded by a prospect are released');
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(questionnaires)
      .set({ releasedAt: now, updatedAt: now })
      .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)));
    await recordAudit(tx, ctx, { action: 'questionnaire.released', targetType: 'questionnaire', targetId: id, summary: { grantId: row.grantId } });
  });
  return { id, releasedAt: now.toISOString() };
}

/**
 * Why a prospect sees an answer: a member approved it, or the trust page's prospectAutoRelease
 * lets the fill's own draft show at once.
 */
export const RELEASED_BY = ['review', 'public_profile', 'approved_library', 'confident_draft', 'questionnaire_condition'] as const;
export type ReleasedBy = (typeof RELEASED_BY)[number];

/** Decision paths settled by profile facts alone (on the prospect path, public facts only). */
const PROFILE_PATHS = new Set(['fact_settle', 'fact_state', 'fact_option', 'gate']);

/** Whether a draft on this decision path may show before a member approves it, under the setting. */
export function autoReleaseOf(path: string | undefined, policy: ProspectAutoRelease): ReleasedBy | undefined {
  if (policy === 'none' || path === undefined) return undefined;
  if (path.startsWith('library_')) return 'approved_library';
  if (PROFILE_PATHS.has(path)) return 'public_profile';
  // A VSAQ item the buyer's own conditions hide: it carries no answer, so nothing is claimed.
  if (path === 'vsaq_hidden') return 'questionnaire_condition';
  return policy === 'confident_drafts' ? 'confident_draft' : undefined;
}

// Under confident_drafts every draft shows at once, so only the two stricter settings hold any.
const heldReason = (policy: ProspectAutoRelease) =>
  policy === 'none'
    ? 'the prospect sees it once you approve it (trust-page setting prospectAutoRelease: none)'
    : `the prospect sees it once you approve it: prospectAutoRelease ${policy} shows only public profile facts and approved library answers at once`;

/**
 * A prospect's drafts the setting does not show at once wait for a member like weak answers do
 * (in the review queue, with the reason), marked `held` so bulk approval still takes them.
 */
function holdForRelease(drafts: Map<string, DraftAnswer>, policy: ProspectAutoRelease) {
  for (const [id, d] of drafts) {
    if (d.status !== 'draft' || autoReleaseOf(d.basis?.path, policy) !== undefined) continue;
    drafts.set(id, {
      ...d,
      status: 'needs_review',
      reason: heldReason(policy),
      basis: { path: d.basis?.path ?? 'unknown', raw: d.basis?.raw ?? 0, held: true },
    });
  }
}

/**
 * Whether the prospect sees this answer. Approved: always. Otherwise only the fill's own draft,
 * untouched by a person and at or above the draft threshold, on a path the trust page's current
 * setting releases; a stricter setting thus hides at once what it no longer allows.
 */
export function releaseOf(
  q: Pick<QuestionRow, 'status' | 'reviewedAt' | 'confidence' | 'answerBasis'>,
  policy: ProspectAutoRelease,
  threshold = loadCalibration().draftThreshold,
): ReleasedBy | undefined {
  if (q.status === 'approved') return 'review';
  if (q.status !== 'draft' || q.reviewedAt !== null || (q.confidence ?? 0) < threshold) return undefined;
  return autoReleaseOf(q.answerBasis?.path, policy);
}

export type ProspectState = 'being_prepared' | 'released' | 'awaiting_review';

/** How far answering of a prospect's questionnaire has got: one row read, for polling. Another grant's is a 404. */
export async function prospectProgress({ db, orgId }: OrgScope, grantId: string, id: string) {
  const [row] = await db
    .select({ status: questionnaires.status, done: questionnaires.progressDone, total: questionnaires.questionCount })
    .from(questionnaires)
    .where(and(eq(questionnaires.orgId, orgId), eq(questionnaires.id, id), eq(questionnaires.grantId, grantId)));
  if (!row) throw notFound('questionnaire');
  return row;
}

/**
 * What the prospect sees: released answers, and every other question as being prepared (no answer
 * yet while the fill runs) or awaiting review. `questions` is the released file's content: every
 * question, with the answers not released left empty.
 */
export async function prospectView({ db, orgId }: OrgScope, grantId: string, id: string, policy: ProspectAutoRelease = DEFAULT_PROSPECT_AUTO_RELEASE) {
  const [row] = await db
    .select()
    .from(questionnaires)
    .where(and(eq(questionnaires.orgId, orgId), eq(questionnaires.id, id), eq(questionnaires.grantId, grantId)));
  if (!row) throw notFound('questionnaire');
  const qs = await db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, orgId), eq(questions.questionnaireId, id)))
    .orderBy(asc(questions.position));
  const working = row.status === 'imported' || row.status === 'queued' || row.status === 'filling';
  const threshold = loadCalibration().draftThreshold;
  const judged = qs.map((q) => {
    const by = releaseOf(q, policy, threshold);
    const state: ProspectState = by ? 'released' : q.status === null && working ? 'being_prepared' : 'awaiting_review';
    return { q, by, state };
  });
  const count = (s: ProspectState) => judged.filter((j) => j.state === s).length;
  return {
    row,
    view: {
      id: row.id,
      name: row.name,
      status: row.status,
      released: row.releasedAt !== null,
      progress: { done: row.progressDone, total: row.questionCount },
      counts: { released: count('released'), awaitingReview: count('awaiting_review'), beingPrepared: count('being_prepared') },
      questions: judged.map(({ q, by, state }) => ({
        ref: q.ref,
        text: q.text,
        section: q.section,
        state,
        answer: by ? { choice: q.choice, text: q.answerText, status: q.status, releasedBy: by } : null,
        pending: state !== 'released',
      })),
    },
    // Released answers go into the file as final; the rest leave their cells empty, with no draft or reason.
    questions: judged.map(({ q, by }): QuestionRow =>
      by ? { ...q, status: 'approved' } : { ...q, status: null, choice: null, answerText: null, confidence: null, sources: [], reviewReason: null },
    ),
  };
}

export async function exportData(ctx: ServiceContext, id: string) {
  const row = await load(ctx.db, ctx.orgId, id);
  const qs = await ctx.db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, id)))
    .orderBy(asc(questions.position));
  return { questionnaire: row, questions: qs };
}
