import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { memberOf, type OrgScope, requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { resolveAnswerableMany } from '../catalog/index.js';
import { emitEvents, type EventInput } from '../events/index.js';
import { controlsOfEvidence } from '../evidence/index.js';
import { membersAmong } from '../identity/index.js';
import { existingFactKeys } from '../profile/index.js';
import { libraryEntries, libraryEntryControls, libraryEntryDocuments, libraryEntryFacts, type Choice, type LibraryStatus } from './tables.js';
import type { ControlRef, ReusableEntry } from './pure.js';

export type { ControlRef, ReusableEntry } from './pure.js';

// An entry's choice, for the modules above (they never import tables.ts).
export type { Choice } from './tables.js';

type EntryRow = typeof libraryEntries.$inferSelect;

export function entryView(e: EntryRow, controls: ControlRef[], facts: string[] = []) {
  return {
    id: e.id,
    question: e.question,
    answer: { choice: e.choice, text: e.answerText },
    status: e.status,
    public: e.public,
    ownerId: e.ownerId,
    controls,
    facts,
    stale: e.stale,
    staleReason: e.staleReason,
    staleAt: e.staleAt?.toISOString() ?? null,
    source: e.sourceQuestionId ? { questionnaireId: e.sourceQuestionnaireId, questionId: e.sourceQuestionId } : null,
    controlsConfirmed: e.controlsConfirmed,
    import: e.importId ? { id: e.importId, row: e.importRow } : null,
    version: e.version,
    approvedBy: e.approvedBy,
    approvedAt: e.approvedAt?.toISOString() ?? null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

export async function controlsOf({ db, orgId }: OrgScope, ids: string[]): Promise<Map<string, ControlRef[]>> {
  const out = new Map<string, ControlRef[]>();
  if (ids.length === 0) return out;
  const rows = await db
    .select()
    .from(libraryEntryControls)
    .where(and(eq(libraryEntryControls.orgId, orgId), inArray(libraryEntryControls.entryId, ids)))
    .orderBy(asc(libraryEntryControls.position));
  for (const r of rows) (out.get(r.entryId) ?? out.set(r.entryId, []).get(r.entryId)!).push({ framework: r.frameworkId, ref: r.ref });
  return out;
}

export async function factsOf({ db, orgId }: OrgScope, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (ids.length === 0) return out;
  const rows = await db
    .select()
    .from(libraryEntryFacts)
    .where(and(eq(libraryEntryFacts.orgId, orgId), inArray(libraryEntryFacts.entryId, ids)))
    .orderBy(asc(libraryEntryFacts.position));
  for (const r of rows) (out.get(r.entryId) ?? out.set(r.entryId, []).get(r.entryId)!).push(r.key);
  return out;
}

async function load(db: Executor, orgId: string, id: string, lock = false) {
  const q = db
    .select()
    .from(libraryEntries)
    .where(and(eq(libraryEntries.orgId, orgId), eq(libraryEntries.id, id)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound('library entry');
  return row;
}

export interface ListQuery {
  limit: number;
  cursor?: string;
  status?: LibraryStatus;
  stale?: boolean;
  public?: boolean;
  q?: string;
}

export async function listEntries(ctx: ServiceContext, q: ListQuery) {
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(libraryEntries)
    .where(
      and(
        eq(libraryEntries.orgId, ctx.orgId),
        q.status ? eq(libraryEntries.status, q.status) : undefined,
        q.stale !== undefined ? eq(libraryEntries.stale, q.stale) : undefined,
        q.public !== undefined ? eq(libraryEntries.public, q.public) : undefined,
        q.q ? sql`${libraryEntries.search} @@ websearch_to_tsquery('english', ${q.q})` : undefined,
        after ? lt(libraryEntries.id, after) : undefined,
      ),
    )
    .orderBy(desc(libraryEntries.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  const ids = page.items.map((r) => r.id);
  const [controls, facts] = await Promise.all([controlsOf(ctx, ids), factsOf(ctx, ids)]);
  return { items: page.items.map((r) => entryView(r, controls.get(r.id) ?? [], facts.get(r.id) ?? [])), nextCursor: page.nextCursor };
}

export async function getEntry(ctx: ServiceContext, id: string) {
  const row = await load(ctx.db, ctx.orgId, id);
  return entryView(row, (await controlsOf(ctx, [id])).get(id) ?? [], (await factsOf(ctx, [id])).get(id) ?? []);
}

export interface EntryInput {
  question: string;
  answer: { choice?: Choice | null; text?: string | null };
  controls?: string[];
  /** Profile fact keys the answer rests on. */
  facts?: string[];
  /** Documents and evidence files it quotes, at the version quoted (from a reviewed answer). */
  documents?: Array<{ kind: 'document' | 'evidence'; id: string; version: number }>;
  ownerId?: string;
  public?: boolean;
  status?: LibraryStatus;
}

/** The owner is a member of the organization; default: whoever creates the entry. */
export async function checkOwner(scope: OrgScope, ownerId: string) {
  const members = await membersAmong(scope, [ownerId]);
  if (!members.has(ownerId)) throw new DomainError('unprocessable', `owner ${ownerId} is not a member of this organization`);
}

async function resolveControls(db: Executor, refs: string[]): Promise<ControlRef[]> {
  let rows;
  try {
    rows = await resolveAnswerableMany(db, refs);
  } catch (err) {
    if (err instanceof DomainError && err.code === 'not_found') throw new DomainError('unprocessable', err.message);
    throw err;
  }
  const out: ControlRef[] = [];
  for (const row of rows) {
    if (!out.some((c) => c.framework === row.frameworkId && c.ref === row.ref)) out.push({ framework: row.frameworkId, ref: row.ref });
  }
  return out;
}

function requireContent(answer: { choice?: Choice | null; text?: string | null }) {
  if ((answer.choice ?? null) === null && !(answer.text ?? '').trim()) {
    throw new DomainError('unprocessable', 'a library answer needs a choice or a text');
  }
}

/** Cited facts must exist in the organization's profile; duplicates collapse, order kept. */
async function resolveFacts(db: Executor, orgId: string, keys: string[]): Promise<string[]> {
  const unique = [...new Set(keys.map((k) => k.trim()))];
  const known = await existingFactKeys({ db, orgId }, unique);
  const unknown = unique.filter((k) => !known.has(k));
  if (unknown.length > 0) throw new DomainError('unprocessable', `no profile fact ${unknown.join(', ')} in this organization`);
  return unique;
}

async function writeFacts(tx: Executor, orgId: string, entryId: string, keys: string[]) {
  await tx.delete(libraryEntryFacts).where(and(eq(libraryEntryFacts.orgId, orgId), eq(libraryEntryFacts.entryId, entryId)));
  if (keys.length > 0) await tx.insert(libraryEntryFacts).values(keys.map((key, position) => ({ orgId, entryId, key, position })));
}

async function writeControls(tx: Executor, orgId: string, entryId: string, controls: ControlRef[]) {
  await tx.delete(libraryEntryControls).where(and(eq(libraryEntryControls.orgId, orgId), eq(libraryEntryControls.entryId, entryId)));
  if (controls.length > 0) {
    await tx.insert(libraryEntryControls).values(controls.map((c, position) => ({ orgId, entryId, frameworkId: c.framework, ref: c.ref, position })));
  }
}

export async function createEntry(ctx: ServiceContext, input: EntryInput, source?: { questionnaireId: string; questionId: string }) {
  requireRole(ctx.actor, 'editor');
  requireContent(input.answer);
  const ownerId = input.ownerId ?? memberOf(ctx.actor);
  await checkOwner(ctx, ownerId);
  const controls = await resolveControls(ctx.db, input.controls ?? []);
  const facts = await resolveFacts(ctx.db, ctx.orgId, input.facts ?? []);
  const now = ctx.clock();
  const status = input.status ?? 'approved';
  const id = newId();
  const row = await ctx.db.transaction(async (tx) => {
    const [saved] = await tx
      .insert(libraryEntries)
      .values({
        orgId: ctx.orgId,
        id,
        question: input.question.trim(),
        choice: input.answer.choice ?? null,
        answerText: input.answer.text ?? null,
        status,
        public: input.public ?? false,
        ownerId,
        sourceQuestionnaireId: source?.questionnaireId ?? null,
        sourceQuestionId: source?.questionId ?? null,
        ...(status === 'approved' ? { approvedBy: ctx.actor.id, approvedAt: now } : {}),
        createdBy: ctx.actor.id,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await writeControls(tx, ctx.orgId, id, controls);
    await writeFacts(tx, ctx.orgId, id, facts);
    const documents = [...new Map((input.documents ?? []).map((d) => [`${d.kind}:${d.id}`, d])).values()];
    if (documents.length > 0) {
      await tx
        .insert(libraryEntryDocuments)
        .values(documents.map((d) => ({ orgId: ctx.orgId, entryId: id, kind: d.kind, sourceId: d.id, version: d.version })));
    }
    await recordAudit(tx, ctx, {
      action: 'library.created',
      targetType: 'library_entry',
      targetId: id,
      summary: { status, controls: controls.map((c) => c.ref), facts, ...(source ? { source } : {}) },
    });
    return saved!;
  });
  return entryView(row, controls, facts);
}

export type EntryPatch = Partial<EntryInput> & { version?: number };

/**
 * Edits an entry. Approving it (again), or changing what it says, clears its staleness: a person
 * has looked at it since its sources changed. A `version` guards against overwriting a concurrent edit.
 */
export async function updateEntry(ctx: ServiceContext, id: string, patch: EntryPatch) {
  requireRole(ctx.actor, 'editor');
  if (patch.ownerId) await checkOwner(ctx, patch.ownerId);
  const controls = patch.controls ? await resolveControls(ctx.db, patch.controls) : undefined;
  const facts = patch.facts ? await resolveFacts(ctx.db, ctx.orgId, patch.facts) : undefined;
  const now = ctx.clock();
  const row = await ctx.db.transaction(async (tx) => {
    const current = await load(tx, ctx.orgId, id, true);
    if (patch.version !== undefined && patch.version !== current.version) {
      throw new DomainError('version_conflict', `library entry is at version ${current.version}, not ${patch.version}; re-read it and apply your change again`);
    }
    const answer = { choice: current.choice, text: current.answerText, ...(patch.answer ?? {}) };
    requireContent(answer);
    const reviewed = patch.status === 'approved' || patch.answer !== undefined || patch.question !== undefined;
    const status = patch.status ?? current.status;
    const [saved] = await tx
      .update(libraryEntries)
      .set({
        ...(patch.question !== undefined ? { question: patch.question.trim() } : {}),
        choice: answer.choice ?? null,
        answerText: answer.text ?? null,
        status,
        ...(patch.public !== undefined ? { public: patch.public } : {}),
        ...(patch.ownerId ? { ownerId: patch.ownerId } : {}),
        ...(status === 'approved' && (patch.status === 'approved' || current.status !== 'approved') ? { approvedBy: ctx.actor.id, approvedAt: now } : {}),
        ...(reviewed || controls || facts ? { stale: false, staleReason: null, staleAt: null } : {}),
        // Imported entries carry retrieval's suggested controls until a person sets or approves them.
        ...(controls || patch.status === 'approved' ? { controlsConfirmed: true } : {}),
        version: current.version + 1,
        updatedAt: now,
      })
      .where(and(eq(libraryEntries.orgId, ctx.orgId), eq(libraryEntries.id, id)))
      .returning();
    if (controls) await writeControls(tx, ctx.orgId, id, controls);
    if (facts) await writeFacts(tx, ctx.orgId, id, facts);
    await recordAudit(tx, ctx, { action: 'library.updated', targetType: 'library_entry', targetId: id, summary: { fields: Object.keys(patch), status } });
    return saved!;
  });
  return entryView(row, controls ?? (await controlsOf(ctx, [id])).get(id) ?? [], facts ?? (await factsOf(ctx, [id])).get(id) ?? []);
}

export async function deleteEntry(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'editor');
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(libraryEntries)
      .where(and(eq(libraryEntries.orgId, ctx.orgId), eq(libraryEntries.id, id)))
      .returning();
    if (!row) throw notFound('library entry');
    await tx.delete(libraryEntryControls).where(and(eq(libraryEntryControls.orgId, ctx.orgId), eq(libraryEntryControls.entryId, id)));
    await tx.delete(libraryEntryFacts).where(and(eq(libraryEntryFacts.orgId, ctx.orgId), eq(libraryEntryFacts.entryId, id)));
    await tx.delete(libraryEntryDocuments).where(and(eq(libraryEntryDocuments.orgId, ctx.orgId), eq(libraryEntryDocuments.entryId, id)));
    await recordAudit(tx, ctx, { action: 'library.deleted', targetType: 'library_entry', targetId: id, summary: { question: row.question.slice(0, 200) } });
  });
}

export interface StaleCause extends ControlRef {
  reason: string;
}

/**
 * markStale for several controls at once, each with its own reason, in one statement (a bulk
 * import changes many). An entry resting on several of them takes the reason of the first in
 * the list, as successive markStale calls would give it. Emits nothing: returns the
 * library.entry_stale events with the index of their cause, for the caller's batch.
 */
export async function markStaleMany(
  tx: Executor,
  ctx: { orgId: string; clock: Clock },
  causes: readonly StaleCause[],
): Promise<Array<{ cause: number; event: EventInput }>> {
  if (causes.length === 0) return [];
  const now = ctx.clock().toISOString();
  const list = sql.join(
    causes.map((c, i) => sql`(${c.framework}::text, ${c.ref}::text, ${c.reason}::text, ${i}::int)`),
    sql`, `,
  );
  const result = await tx.execute(sql`
    update ${libraryEntries} e set stale = true, stale_reason = m.reason, stale_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
    from (
      select distinct on (lec.entry_id) lec.entry_id, v.reason, v.ord
      from ${libraryEntryControls} lec
      join (values ${list}) as v(framework_id, ref, reason, ord) on lec.framework_id = v.framework_id and lec.ref = v.ref
      where lec.org_id = ${ctx.orgId}
      order by lec.entry_id, v.ord
    ) m
    where e.org_id = ${ctx.orgId} and e.id = m.entry_id and e.stale = false and e.status = 'approved'
    returning e.id, e.owner_id, e.question, m.reason, m.ord`);
  const rows = (result as unknown as { rows: Array<{ id: string; owner_id: string; question: string; reason: string; ord: number }> }).rows;
  return [...rows]
    .sort((a, b) => a.ord - b.ord)
    .map((r) => ({
      cause: r.ord,
      event: staleEvents([{ id: r.id, ownerId: r.owner_id, question: r.question }], r.reason)[0]!,
    }));
}

/** library.entry_stale for each entry that went stale, for the owner to hear of it. */
function staleEvents(rows: Array<{ id: string; ownerId: string; question: string }>, reason: string): EventInput[] {
  return rows.map((r) => ({ type: 'library.entry_stale' as const, data: { id: r.id, ownerId: r.ownerId, question: r.question.slice(0, 500), reason } }));
}

/**
 * Marks approved, not yet stale entries that cite these profile facts as stale, on the caller's
 * transaction (a reaction to profile.fact_changed), and returns library.entry_stale for each.
 */
export async function markStaleForFacts(
  tx: Executor,
  ctx: { orgId: string; clock: Clock; requestId?: string },
  keys: string[],
  reason: string,
): Promise<EventInput[]> {
  if (keys.length === 0) return [];
  const now = ctx.clock();
  const rows = await tx
    .update(libraryEntries)
    .set({ stale: true, staleReason: reason, staleAt: now, updatedAt: now })
    .where(
      and(
        eq(libraryEntries.orgId, ctx.orgId),
        eq(libraryEntries.stale, false),
        eq(libraryEntries.status, 'approved'),
        sql`${libraryEntries.id} in (select ${libraryEntryFacts.entryId} from ${libraryEntryFacts} where ${libraryEntryFacts.orgId} = ${ctx.orgId} and ${inArray(libraryEntryFacts.key, keys)})`,
      ),
    )
    .returning({ id: libraryEntries.id, ownerId: libraryEntries.ownerId, question: libraryEntries.question });
  return staleEvents(rows, reason);
}

/**
 * Entries resting on a control that this evidence supports go stale when the evidence expires (a
 * reaction to evidence.expired): returns library.entry_stale for each.
 */
export async function markStaleForEvidence(tx: Executor, ctx: { orgId: string; clock: Clock }, evidenceId: string, title: string): Promise<EventInput[]> {
  const links = await controlsOfEvidence({ db: tx, orgId: ctx.orgId }, [evidenceId]);
  const reason = `evidence "${title}" expired`;
  return (
    await markStaleMany(
      tx,
      ctx,
      links.map((l) => ({ framework: l.framework, ref: l.ref, reason })),
    )
  ).map((x) => x.event);
}

/**
 * A document or evidence file has a new version: approved entries that quote an older one are
 * stale until someone confirms them. Runs in the caller's transaction.
 */
export async function markStaleForSource(
  tx: Executor,
  ctx: { orgId: string; clock: Clock },
  kind: 'document' | 'evidence',
  id: string,
  version: number,
  title: string,
): Promise<number> {
  const rows = await tx
    .select({ entryId: libraryEntryDocuments.entryId })
    .from(libraryEntryDocuments)
    .where(
      and(
        eq(libraryEntryDocuments.orgId, ctx.orgId),
        eq(libraryEntryDocuments.kind, kind),
        eq(libraryEntryDocuments.sourceId, id),
        lt(libraryEntryDocuments.version, version),
      ),
    );
  const ids = [...new Set(rows.map((r) => r.entryId))];
  if (ids.length === 0) return 0;
  const now = ctx.clock();
  const reason = `${kind} "${title}" has a new version (${version})`;
  const stale = await tx
    .update(libraryEntries)
    .set({ stale: true, staleReason: reason, staleAt: now })
    .where(and(eq(libraryEntries.orgId, ctx.orgId), inArray(libraryEntries.id, ids), eq(libraryEntries.stale, false)))
    .returning({ id: libraryEntries.id, ownerId: libraryEntries.ownerId, question: libraryEntries.question });
  await emitEvents(tx, { orgId: ctx.orgId, clock: ctx.clock }, staleEvents(stale, reason));
  return stale.length;
}

/** The current state of these entries (absent: deleted), to tell whether answers that used them still hold. */
export async function entryStates({ db, orgId }: OrgScope, ids: string[]): Promise<Map<string, { version: number; stale: boolean; reason: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: libraryEntries.id, version: libraryEntries.version, stale: libraryEntries.stale, reason: libraryEntries.staleReason })
    .from(libraryEntries)
    .where(and(eq(libraryEntries.orgId, orgId), inArray(libraryEntries.id, ids)));
  return new Map(rows.map((r) => [r.id, { version: r.version, stale: r.stale, reason: r.reason }]));
}

/**
 * Entries a fill may reuse: approved and not stale; for the prospect path also public. Stale
 * entries wait for their owner: reusing them would repeat a claim whose basis changed.
 */
export async function reusableEntries(scope: OrgScope, opts: { publicOnly?: boolean } = {}): Promise<ReusableEntry[]> {
  const { db, orgId } = scope;
  const rows = await db
    .select()
    .from(libraryEntries)
    .where(
      and(
        eq(libraryEntries.orgId, orgId),
        eq(libraryEntries.status, 'approved'),
        eq(libraryEntries.stale, false),
        opts.publicOnly ? eq(libraryEntries.public, true) : undefined,
      ),
    )
    .orderBy(asc(libraryEntries.id));
  const controls = await controlsOf(
    scope,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ id: r.id, version: r.version, question: r.question, choice: r.choice, text: r.answerText, controls: controls.get(r.id) ?? [] }));
}
