import { invalidCursor } from '../../lib/pagination.js';
import { and, desc, eq, getTableColumns, gte, inArray, sql } from 'drizzle-orm';
import { type OrgScope, requireRole, type ServiceContext, type TxContext, withTransaction } from '../../lib/context.js';
import { DomainError, isUniqueViolation, notFound, type FieldError } from '../../lib/errors.js';
import { recordAudits } from '../audit/index.js';
import { emitEvents, type EventInput } from '../events/index.js';
import { resolveAnswerable } from '../catalog/index.js';
import { controlTitlesOf, type CatalogControl } from '../catalog/index.js';
import { controlAnswerVersions, controlAnswers, type ControlAnswerSnapshot, type ControlStatus, type Responsibility, type Visibility } from './tables.js';

// The closed lists of an answer and their types, for the modules above (they never import tables.ts).
export { CONTROL_STATUSES, RESPONSIBILITIES, VISIBILITIES, type ControlStatus, type Responsibility, type Visibility } from './tables.js';

export interface ControlAnswerInput {
  applicable: boolean;
  status: ControlStatus;
  implementation: string;
  responsibility: Responsibility;
  justification?: string | null;
  providerStatement?: string | null;
  customerStatement?: string | null;
  owner?: string | null;
  reviewDueAt?: string | null;
  visibility?: Visibility;
  publicSummary?: string | null;
  /** The version the caller last read; alternative to If-Match. */
  version?: number;
}

export type AnswerRow = typeof controlAnswers.$inferSelect;

export function answerView(r: AnswerRow, title?: string) {
  return {
    framework: r.frameworkId,
    ref: r.ref,
    title: title ?? null,
    version: r.version,
    applicable: r.applicable,
    status: r.status,
    implementation: r.implementation,
    responsibility: r.responsibility,
    providerStatement: r.providerStatement,
    customerStatement: r.customerStatement,
    justification: r.justification,
    owner: r.owner,
    reviewDueAt: r.reviewDueAt?.toISOString() ?? null,
    visibility: r.visibility,
    publicSummary: r.publicSummary,
    updatedBy: r.updatedBy,
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** Fields whose change alters what an answer built on the control may claim. */
export const STATEMENT_FIELDS: ReadonlySet<string> = new Set([
  'applicable',
  'status',
  'implementation',
  'responsibility',
  'providerStatement',
  'customerStatement',
  'publicSummary',
  'visibility',
]);
/** The answer fields, in the order a first write lists them in changed_fields. */
export const ANSWER_FIELDS = [
  'applicable',
  'status',
  'implementation',
  'responsibility',
  'providerStatement',
  'customerStatement',
  'justification',
  'owner',
  'reviewDueAt',
  'visibility',
  'publicSummary',
] as const;

function snapshotOf(r: AnswerRow): ControlAnswerSnapshot {
  const { orgId: _o, frameworkId: _f, ref: _r, ...rest } = r;
  return { ...rest, reviewDueAt: r.reviewDueAt?.toISOString() ?? null, updatedAt: r.updatedAt.toISOString() };
}

/** Field rules a JSON schema cannot say, as {field, message} with the bare field name. */
export function answerRuleProblems(input: Pick<ControlAnswerInput, 'applicable' | 'justification' | 'visibility' | 'publicSummary'>): FieldError[] {
  const errors: FieldError[] = [];
  if (!input.applicable && !input.justification?.trim()) {
    errors.push({ field: 'justification', message: 'is required when the control is not applicable (the SoA must say why it is excluded)' });
  }
  if (input.publicSummary && input.visibility !== 'public') {
    errors.push({ field: 'publicSummary', message: 'only makes sense with visibility "public"' });
  }
  return errors;
}

function validate(input: ControlAnswerInput) {
  const errors = answerRuleProblems(input).map((e) => ({ field: `body/${e.field}`, message: e.message }));
  if (errors.length > 0) throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

/** The stored values an input becomes (who and when included). */
export function answerValues(ctx: Pick<TxContext, 'actor' | 'clock'>, input: ControlAnswerInput) {
  return {
    applicable: input.applicable,
    status: input.status,
    implementation: input.implementation,
    responsibility: input.responsibility,
    providerStatement: input.providerStatement ?? null,
    customerStatement: input.customerStatement ?? null,
    justification: input.applicable ? (input.justification ?? null) : input.justification!.trim(),
    owner: input.owner ?? null,
    reviewDueAt: input.reviewDueAt ? new Date(input.reviewDueAt) : null,
    visibility: input.visibility ?? 'internal',
    publicSummary: input.publicSummary ?? null,
    updatedBy: ctx.actor.id,
    updatedAt: ctx.clock(),
  };
}

type AnswerValues = ReturnType<typeof answerValues>;

/** The answer fields that differ between the current row and new values (all of them for a first answer). */
export function changedAnswerFields(current: AnswerRow | undefined, values: AnswerValues): string[] {
  const str = (v: unknown) => String(v instanceof Date ? v.toISOString() : v);
  return current ? ANSWER_FIELDS.filter((f) => str(current[f]) !== str(values[f])) : [...ANSWER_FIELDS];
}

export type WriteOutcome = 'created' | 'updated' | 'unchanged';

export interface WriteOptions {
  /**
   * Without an expected version, an existing answer is normally refused (428). A bulk import,
   * whose file is itself the caller's statement of the whole record, may overwrite it.
   */
  overwrite?: boolean;
  /** Added to the audit summary, e.g. 'import'. */
  via?: string;
}

/** One decided write: the row before it (none for a first answer), the values it stores and the fields that change. */
export interface AnswerWrite {
  control: CatalogControl;
  current: AnswerRow | undefined;
  values: AnswerValues;
  changed: string[];
}

/**
 * Decides one control's write against its current row: the version rules (428 without a version
 * unless overwriting, 409 on a stale one) and what changed. An empty `changed` on an existing
 * row means an identical write, which makes no new version.
 */
export function planAnswerWrite(
  ctx: Pick<TxContext, 'actor' | 'clock'>,
  control: CatalogControl,
  current: AnswerRow | undefined,
  input: ControlAnswerInput,
  expected: number | undefined,
  opts: WriteOptions = {},
): AnswerWrite {
  if (current && expected === undefined && !opts.overwrite) {
    throw new DomainError(
      'precondition_required',
      `control ${control.ref} already has an answer (version ${current.version}); send If-Match: "${current.version}" or "version" to change it`,
    );
  }
  if (expected !== undefined && (current?.version ?? 0) !== expected) {
    throw new DomainError(
      'version_conflict',
      `control ${control.ref} is at version ${current?.version ?? 0}, not ${expected}; re-read it and apply your change again`,
    );
  }
  const values = answerValues(ctx, input);
  return { control, current, values, changed: changedAnswerFields(current, values) };
}

const answerKey = (frameworkId: string, ref: string) => `${frameworkId}:${ref}`;

/** The current answers of these controls, by `framework:ref`, in one query; locked for update on request. */
export async function currentAnswers({ db, orgId }: OrgScope, controls: readonly CatalogControl[], opts: { lock?: boolean } = {}) {
  const refs = [...new Set(controls.map((c) => c.ref))];
  if (refs.length === 0) return new Map<string, AnswerRow>();
  const q = db
    .select()
    .from(controlAnswers)
    .where(and(eq(controlAnswers.orgId, orgId), inArray(controlAnswers.ref, refs)));
  const rows = opts.lock ? await q.for('update') : await q;
  return new Map(rows.map((r) => [answerKey(r.frameworkId, r.ref), r]));
}

/** Rows per insert, under PostgreSQL's 65,535 bind parameters (an import has at most 1,000 rows: one statement each). */
const CHUNK_ROWS = 1000;
function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) yield rows.slice(i, i + CHUNK_ROWS);
}

/** Every stored column but the key, set from the proposed row: the update half of the batched upsert. */
const UPSERT_SET = Object.fromEntries(
  Object.entries(getTableColumns(controlAnswers))
    .filter(([k]) => !['orgId', 'frameworkId', 'ref'].includes(k))
    .map(([k, col]) => [k, sql.raw(`excluded."${col.name}"`)]),
);

/**
 * Stores decided writes (changed ones only) on an open transaction in a fixed number of
 * statements, however many there are: the answers, their version rows, their audit entries, the
 * control.updated events (to which consumers react: the library marks what rested on it stale). Rows that
 * exist must have been read under a lock by the caller. Returns the saved rows in order.
 */
export async function applyAnswerWrites(ctx: TxContext, writes: readonly AnswerWrite[], opts: WriteOptions = {}): Promise<AnswerRow[]> {
  if (writes.length === 0) return [];
  const tx = ctx.db;
  const rowOf = (w: AnswerWrite) => ({
    orgId: ctx.orgId,
    frameworkId: w.control.frameworkId,
    ref: w.control.ref,
    version: (w.current?.version ?? 0) + 1,
    ...w.values,
  });
  const fresh = writes.filter((w) => !w.current).map(rowOf);
  const existing = writes.filter((w) => w.current).map(rowOf);
  const saved = new Map<string, AnswerRow>();
  // First answers: a plain insert, so a concurrent first answer fails on the primary key (a version conflict).
  for (const part of chunks(fresh)) for (const r of await tx.insert(controlAnswers).values(part).returning()) saved.set(answerKey(r.frameworkId, r.ref), r);
  // Changed answers: rows the caller holds locked, all set to their new values in one statement.
  for (const part of chunks(existing)) {
    const rows = await tx
      .insert(controlAnswers)
      .values(part)
      .onConflictDoUpdate({ target: [controlAnswers.orgId, controlAnswers.frameworkId, controlAnswers.ref], set: UPSERT_SET })
      .returning();
    for (const r of rows) saved.set(answerKey(r.frameworkId, r.ref), r);
  }
  const rows = writes.map((w) => saved.get(answerKey(w.control.frameworkId, w.control.ref))!);

  for (const part of chunks(
    writes.map((w, i) => ({
      orgId: ctx.orgId,
      frameworkId: w.control.frameworkId,
      ref: w.control.ref,
      version: rows[i]!.version,
      snapshot: snapshotOf(rows[i]!),
      changedFields: w.changed,
      changedBy: ctx.actor.id,
      changedAt: w.values.updatedAt,
      requestId: ctx.requestId,
    })),
  ))
    await tx.insert(controlAnswerVersions).values(part);
  await recordAudits(
    tx,
    ctx,
    writes.map((w, i) => ({
      action: w.current ? 'control.updated' : 'control.answered',
      targetType: 'control',
      targetId: answerKey(w.control.frameworkId, w.control.ref),
      summary: {
        ref: w.control.ref,
        version: rows[i]!.version,
        changed: w.changed,
        status: w.values.status,
        applicable: w.values.applicable,
        ...(opts.via ? { via: opts.via } : {}),
      },
    })),
  );

  // Consumers react to each control.updated (the library marks the entries resting on what changed stale).
  const list: EventInput[] = writes.map((w, i) => ({
    type: 'control.updated' as const,
    data: {
      framework: w.control.frameworkId,
      ref: w.control.ref,
      version: rows[i]!.version,
      changed: w.changed,
      status: w.values.status,
      applicable: w.values.applicable,
    },
  }));
  await emitEvents(tx, ctx, list);
  return rows;
}

/**
 * Writes one control's answer on an open transaction: rules, version check (under a row lock),
 * the new version row and its audit event. An identical write makes no new version.
 */
export async function writeControlAnswer(
  ctx: TxContext,
  control: CatalogControl,
  input: ControlAnswerInput,
  expected: number | undefined,
  opts: WriteOptions = {},
): Promise<{ row: AnswerRow; outcome: WriteOutcome; changed: string[] }> {
  validate(input);
  const current = (await currentAnswers(ctx, [control], { lock: true })).get(answerKey(control.frameworkId, control.ref));
  const write = planAnswerWrite(ctx, control, current, input, expected, opts);
  if (current && write.changed.length === 0) return { row: current, outcome: 'unchanged', changed: [] }; // nothing changed: no new version
  const [row] = await applyAnswerWrites(ctx, [write], opts);
  return { row: row!, outcome: current ? 'updated' : 'created', changed: write.changed };
}

/**
 * Writes the organization's answer for one control as a new version. Creating needs no version;
 * changing an existing answer needs the version the caller read (If-Match or `version`), and a
 * stale one is a 409: two editors never overwrite each other silently.
 */
export async function putControlAnswer(ctx: ServiceContext, rawRef: string, input: ControlAnswerInput, ifMatch?: number) {
  requireRole(ctx.actor, 'editor');
  validate(input);
  const control = await resolveAnswerable(ctx.db, rawRef);
  const expected = ifMatch ?? input.version;
  try {
    const { row } = await withTransaction(ctx, (tctx) => writeControlAnswer(tctx, control, input, expected));
    return answerView(row, control.title);
  } catch (err) {
    // Two first writes racing: the loser sees the primary key, which is the same conflict.
    if (isUniqueViolation(err)) throw new DomainError('version_conflict', `control ${control.ref} was answered concurrently; re-read it`);
    throw err;
  }
}

export async function getControlAnswer(ctx: ServiceContext, rawRef: string) {
  const control = await resolveAnswerable(ctx.db, rawRef);
  const [row] = await ctx.db
    .select()
    .from(controlAnswers)
    .where(and(eq(controlAnswers.orgId, ctx.orgId), eq(controlAnswers.frameworkId, control.frameworkId), eq(controlAnswers.ref, control.ref)));
  if (!row) throw notFound(`answer for control ${control.ref}`);
  return answerView(row, control.title);
}

export async function getControlHistory(ctx: ServiceContext, rawRef: string, q: { limit: number; cursor?: string }) {
  const control = await resolveAnswerable(ctx.db, rawRef);
  const before = q.cursor !== undefined ? Number.parseInt(q.cursor, 10) : undefined;
  if (before !== undefined && (!Number.isInteger(before) || before < 1)) {
    throw invalidCursor();
  }
  const rows = await ctx.db
    .select()
    .from(controlAnswerVersions)
    .where(
      and(
        eq(controlAnswerVersions.orgId, ctx.orgId),
        eq(controlAnswerVersions.frameworkId, control.frameworkId),
        eq(controlAnswerVersions.ref, control.ref),
        before !== undefined ? sql`${controlAnswerVersions.version} < ${before}` : undefined,
      ),
    )
    .orderBy(desc(controlAnswerVersions.version))
    .limit(q.limit + 1);
  if (rows.length === 0 && before === undefined) throw notFound(`answer for control ${control.ref}`);
  const items = rows.slice(0, q.limit).map((r) => ({
    version: r.version,
    changedFields: r.changedFields,
    changedBy: r.changedBy,
    changedAt: r.changedAt.toISOString(),
    requestId: r.requestId,
    answer: r.snapshot,
  }));
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > q.limit && last ? String(last.version) : null };
}

export async function listControlAnswers(
  ctx: ServiceContext,
  q: { framework?: string; status?: ControlStatus; applicable?: boolean; limit: number; cursor?: string },
) {
  // Cursor: "<framework>|<position>" of the last row, in catalog order.
  let after: { fw: string; pos: number } | undefined;
  if (q.cursor) {
    const m = /^([a-z0-9-]+)\|(\d+)$/.exec(Buffer.from(q.cursor, 'base64url').toString('utf8'));
    if (!m) throw invalidCursor();
    after = { fw: m[1]!, pos: Number(m[2]) };
  }
  // The answers from the cursor's framework on, then in catalog order from the catalog (an answer
  // to a control no longer in the catalog is not listed).
  const answers = await ctx.db
    .select()
    .from(controlAnswers)
    .where(
      and(
        eq(controlAnswers.orgId, ctx.orgId),
        q.framework ? eq(controlAnswers.frameworkId, q.framework) : undefined,
        q.status ? eq(controlAnswers.status, q.status) : undefined,
        q.applicable !== undefined ? eq(controlAnswers.applicable, q.applicable) : undefined,
        after ? gte(controlAnswers.frameworkId, after.fw) : undefined,
      ),
    );
  const byKey = new Map(answers.map((a) => [answerKey(a.frameworkId, a.ref), a]));
  const catalog = await controlTitlesOf(ctx.db, [...new Set(answers.map((a) => a.frameworkId))]);
  const rows = catalog
    .filter((c) => byKey.has(answerKey(c.frameworkId, c.ref)) && !(after && c.frameworkId === after.fw && c.position <= after.pos))
    .slice(0, q.limit + 1)
    .map((c) => ({ answer: byKey.get(answerKey(c.frameworkId, c.ref))!, title: c.title, position: c.position }));
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r) => answerView(r.answer, r.title)),
    nextCursor: rows.length > q.limit && last ? Buffer.from(`${last.answer.frameworkId}|${last.position}`).toString('base64url') : null,
  };
}

/** Every answerable control with the organization's answer or null: the basis of reports. */
export async function answersByControl({ db, orgId }: OrgScope) {
  const rows = await db.select().from(controlAnswers).where(eq(controlAnswers.orgId, orgId));
  return new Map(rows.map((r) => [`${r.frameworkId}:${r.ref}`, r]));
}
