import { and, asc, desc, eq, inArray, max, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { type OrgScope, requireRole, type ServiceContext, type TxContext, withTransaction } from '../../lib/context.js';
import { DomainError, isUniqueViolation, notFound, type FieldError } from '../../lib/errors.js';
import { invalidCursor } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { emitEvent } from '../events/index.js';
import { CUSTOM_KEY, KEY, checkValue, inferType, profileCatalog, type CatalogFact } from './catalog.js';
import type { LoadedFact } from './sentences.js';
import { profileFactVersions, profileFacts, type FactType, type FactValue, type FactVisibility } from './tables.js';

type FactRow = typeof profileFacts.$inferSelect;

export interface FactInput {
  value: unknown;
  visibility?: FactVisibility;
  question?: string | null;
  /** Custom keys only: the type, when the value alone does not say it (a date is written as a string). */
  type?: FactType;
  /** The version the caller last read; alternative to If-Match. */
  version?: number;
}

/** A fact as the answering code uses it: the stored value with the catalog's wording. */

export function factView(r: FactRow) {
  const entry = profileCatalog().byKey.get(r.key);
  return {
    key: r.key,
    type: r.type,
    value: r.value,
    visibility: r.visibility,
    version: r.version,
    question: r.question,
    label: entry?.label ?? r.question ?? r.key,
    custom: !entry,
    updatedBy: r.updatedBy,
    updatedAt: r.updatedAt.toISOString(),
  };
}

export const catalogView = (f: CatalogFact) => f;

const MAX_QUESTION = 2000;

/** The rules for a key: its catalog entry, or the custom-key rules. Unknown catalog keys are a 400. */
function ruleFor(key: string): { entry?: CatalogFact; custom: boolean } {
  const entry = profileCatalog().byKey.get(key);
  if (entry) return { entry, custom: false };
  if (CUSTOM_KEY.test(key)) return { custom: true };
  throw new DomainError(
    'validation_failed',
    `"${key}" is not a profile catalog key; use a key from GET /profile/catalog or custom.<slug> (a-z, 0-9, _ and -)`,
    {
      errors: [{ field: 'params/key', message: 'is not a catalog key or custom.<slug>' }],
    },
  );
}

function fail(errors: FieldError[]): never {
  throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

/** Type and value checked against the catalog (or the custom rules); the question kept or required. */
function validate(key: string, input: FactInput, current: FactRow | undefined) {
  const { entry, custom } = ruleFor(key);
  let type: FactType;
  if (entry) {
    if (input.type !== undefined && input.type !== entry.type) fail([{ field: 'body/type', message: `${key} is a ${entry.type} fact` }]);
    type = entry.type;
  } else {
    const inferred = input.type ?? inferType(input.value);
    if (!inferred) fail([{ field: 'body/value', message: 'must be a string, number, boolean or list of strings' }]);
    type = inferred;
  }
  const checked = checkValue(type, input.value, entry);
  if (checked.errors.length > 0) fail(checked.errors.map((e) => ({ ...e, message: `${e.message} for ${key} (${type})` })));
  const question = input.question === undefined ? (current?.question ?? null) : input.question?.trim() || null;
  if (question && question.length > MAX_QUESTION) fail([{ field: 'body/question', message: `must be at most ${MAX_QUESTION} characters` }]);
  if (custom && !question) fail([{ field: 'body/question', message: 'is required for a custom fact: the question this fact answers' }]);
  return { type, value: checked.value!, question };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function lastVersion(tx: Executor, orgId: string, key: string): Promise<number> {
  const [row] = await tx
    .select({ v: max(profileFactVersions.version) })
    .from(profileFactVersions)
    .where(and(eq(profileFactVersions.orgId, orgId), eq(profileFactVersions.key, key)));
  return row?.v ?? 0;
}

/**
 * Everything a change to a fact sets off, on the caller's transaction: the audit event with the
 * old and new value, the outbox event, and library entries resting on the fact going stale.
 */
async function announce(
  ctx: TxContext,
  key: string,
  change: 'created' | 'updated' | 'deleted',
  before: FactRow | undefined,
  after: { version: number; value: FactValue | null; visibility: FactVisibility; type: FactType },
  changed: string[],
) {
  await recordAudit(ctx.db, ctx, {
    action: `profile.fact_${change}`,
    targetType: 'profile_fact',
    targetId: key,
    summary: {
      key,
      version: after.version,
      changed,
      old: before ? { value: before.value, visibility: before.visibility, version: before.version } : null,
      new: change === 'deleted' ? null : { value: after.value, visibility: after.visibility },
    },
  });
  await emitEvent(ctx.db, ctx, 'profile.fact_changed', {
    key,
    change,
    version: after.version,
    type: after.type,
    value: after.value,
    visibility: after.visibility,
    previousVersion: before?.version ?? null,
    changed,
  });
}

/**
 * Writes one fact as a new version. Creating needs no version; changing an existing fact needs
 * the version the caller read (If-Match or `version`): a stale one is 409, none at all 428.
 * An identical write makes no new version.
 */
export async function putFact(ctx: ServiceContext, key: string, input: FactInput, ifMatch?: number) {
  requireRole(ctx.actor, 'editor');
  ruleFor(key);
  const expected = ifMatch ?? input.version;
  try {
    return await withTransaction(ctx, async (tctx) => {
      const [current] = await tctx.db
        .select()
        .from(profileFacts)
        .where(and(eq(profileFacts.orgId, ctx.orgId), eq(profileFacts.key, key)))
        .for('update');
      if (current && expected === undefined) {
        throw new DomainError(
          'precondition_required',
          `fact ${key} already exists (version ${current.version}); send If-Match: "${current.version}" or "version" to change it`,
        );
      }
      if (expected !== undefined && (current?.version ?? 0) !== expected) {
        throw new DomainError(
          'version_conflict',
          `fact ${key} is at version ${current?.version ?? 0}${current ? '' : ' (absent)'}, not ${expected}; re-read it and apply your change again`,
        );
      }
      const { type, value, question } = validate(key, input, current);
      const visibility = input.visibility ?? current?.visibility ?? 'private';
      const changed = current
        ? (['type', 'value', 'visibility', 'question'] as const).filter((f) => !same(current[f], { type, value, visibility, question }[f]))
        : ['type', 'value', 'visibility', 'question'];
      if (current && changed.length === 0) return factView(current);
      const version = Math.max(current?.version ?? 0, await lastVersion(tctx.db, ctx.orgId, key)) + 1;
      const now = ctx.clock();
      const values = { type, value, visibility, question, version, updatedBy: ctx.actor.id, updatedAt: now };
      const [saved] = current
        ? await tctx.db
            .update(profileFacts)
            .set(values)
            .where(and(eq(profileFacts.orgId, ctx.orgId), eq(profileFacts.key, key)))
            .returning()
        : await tctx.db
            .insert(profileFacts)
            .values({ orgId: ctx.orgId, key, ...values })
            .returning();
      await tctx.db.insert(profileFactVersions).values({
        orgId: ctx.orgId,
        key,
        version,
        type,
        value,
        visibility,
        question,
        deleted: false,
        changedFields: [...changed],
        changedBy: ctx.actor.id,
        changedAt: now,
        requestId: ctx.requestId,
      });
      await announce(tctx, key, current ? 'updated' : 'created', current, { version, value, visibility, type }, [...changed]);
      return factView(saved!);
    });
  } catch (err) {
    // Two first writes racing: the loser meets the primary key, which is the same conflict.
    if (isUniqueViolation(err)) throw new DomainError('version_conflict', `fact ${key} was written concurrently; re-read it`);
    throw err;
  }
}

/** Deletes a fact (a version of its own in the history). With If-Match, only if still at that version. */
export async function deleteFact(ctx: ServiceContext, key: string, ifMatch?: number) {
  requireRole(ctx.actor, 'editor');
  await withTransaction(ctx, async (tctx) => {
    const [current] = await tctx.db
      .select()
      .from(profileFacts)
      .where(and(eq(profileFacts.orgId, ctx.orgId), eq(profileFacts.key, key)))
      .for('update');
    if (!current) throw notFound(`fact ${key}`);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new DomainError('version_conflict', `fact ${key} is at version ${current.version}, not ${ifMatch}; re-read it`);
    }
    const version = Math.max(current.version, await lastVersion(tctx.db, ctx.orgId, key)) + 1;
    const now = ctx.clock();
    await tctx.db.delete(profileFacts).where(and(eq(profileFacts.orgId, ctx.orgId), eq(profileFacts.key, key)));
    await tctx.db.insert(profileFactVersions).values({
      orgId: ctx.orgId,
      key,
      version,
      type: current.type,
      value: null,
      visibility: current.visibility,
      question: current.question,
      deleted: true,
      changedFields: ['deleted'],
      changedBy: ctx.actor.id,
      changedAt: now,
      requestId: ctx.requestId,
    });
    await announce(tctx, key, 'deleted', current, { version, value: null, visibility: current.visibility, type: current.type }, ['deleted']);
  });
}

export async function getFact(ctx: ServiceContext, key: string) {
  const [row] = await ctx.db
    .select()
    .from(profileFacts)
    .where(and(eq(profileFacts.orgId, ctx.orgId), eq(profileFacts.key, key)));
  if (!row) throw notFound(`fact ${key}`);
  return factView(row);
}

/** Catalog order first, then custom keys alphabetically. */
function order(a: { key: string }, b: { key: string }) {
  const items = profileCatalog().items;
  const at = (k: string) => {
    const i = items.findIndex((f) => f.key === k);
    return i === -1 ? Infinity : i;
  };
  const ia = at(a.key);
  const ib = at(b.key);
  if (ia !== ib) return ia - ib;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export async function listFacts(ctx: ServiceContext, q: { visibility?: FactVisibility } = {}) {
  const rows = await ctx.db
    .select()
    .from(profileFacts)
    .where(and(eq(profileFacts.orgId, ctx.orgId), q.visibility ? eq(profileFacts.visibility, q.visibility) : undefined));
  const facts = rows.map(factView).sort(order);
  const have = new Set(rows.map((r) => r.key));
  return {
    facts,
    missing: profileCatalog()
      .items.filter((f) => !have.has(f.key))
      .map((f) => f.key),
  };
}

export async function factHistory(ctx: ServiceContext, key: string, q: { limit: number; cursor?: string }) {
  const before = q.cursor !== undefined ? Number.parseInt(q.cursor, 10) : undefined;
  if (before !== undefined && (!Number.isInteger(before) || before < 1 || String(before) !== q.cursor)) throw invalidCursor();
  const rows = await ctx.db
    .select()
    .from(profileFactVersions)
    .where(
      and(
        eq(profileFactVersions.orgId, ctx.orgId),
        eq(profileFactVersions.key, key),
        before !== undefined ? sql`${profileFactVersions.version} < ${before}` : undefined,
      ),
    )
    .orderBy(desc(profileFactVersions.version))
    .limit(q.limit + 1);
  if (rows.length === 0 && before === undefined) throw notFound(`fact ${key}`);
  const items = rows.slice(0, q.limit).map((r) => ({
    version: r.version,
    deleted: r.deleted,
    type: r.type,
    value: r.value,
    visibility: r.visibility,
    question: r.question,
    changedFields: r.changedFields,
    changedBy: r.changedBy,
    changedAt: r.changedAt.toISOString(),
    requestId: r.requestId,
  }));
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > q.limit && last ? String(last.version) : null };
}

/**
 * The organization's facts for answering questions, by key, with the catalog's label, unit and
 * phrases. The prospect path passes `publicOnly`: private facts never reach it.
 */
export async function loadFacts({ db, orgId }: OrgScope, opts: { publicOnly?: boolean } = {}): Promise<Map<string, LoadedFact>> {
  const rows = await db
    .select()
    .from(profileFacts)
    .where(and(eq(profileFacts.orgId, orgId), opts.publicOnly ? eq(profileFacts.visibility, 'public') : undefined))
    .orderBy(asc(profileFacts.key));
  const catalog = profileCatalog().byKey;
  const out = new Map<string, LoadedFact>();
  for (const r of rows.sort(order)) {
    const e = catalog.get(r.key);
    out.set(r.key, {
      key: r.key,
      type: r.type,
      value: r.value,
      version: r.version,
      visibility: r.visibility,
      ...(r.question ? { question: r.question } : {}),
      label: e?.label ?? r.question ?? r.key,
      ...(e?.unit ? { unit: e.unit } : {}),
      ...(e?.phrase ? { phrase: e.phrase } : {}),
      ...(e?.phraseFalse ? { phraseFalse: e.phraseFalse } : {}),
      ...(e?.listOf ? { listOf: e.listOf } : {}),
      updatedAt: r.updatedAt,
    });
  }
  return out;
}

/** Current versions of these facts (absent: deleted or never set), to tell whether answers citing them still hold. */
export async function factStates({ db, orgId }: OrgScope, keys: string[]): Promise<Map<string, { version: number; updatedAt: Date }>> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return new Map();
  const rows = await db
    .select({ key: profileFacts.key, version: profileFacts.version, updatedAt: profileFacts.updatedAt })
    .from(profileFacts)
    .where(and(eq(profileFacts.orgId, orgId), inArray(profileFacts.key, unique)));
  return new Map(rows.map((r) => [r.key, { version: r.version, updatedAt: r.updatedAt }]));
}

/** Which of these keys the organization has a fact for (library entries may cite only those). */
export async function existingFactKeys(scope: OrgScope, keys: string[]): Promise<Set<string>> {
  return new Set((await factStates(scope, keys)).keys());
}
