import { invalidCursor } from '../../lib/pagination.js';
import { and, asc, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { OrgScope, ServiceContext } from '../../lib/context.js';
import { DomainError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { requireRole } from '../../lib/context.js';
import { recordAudit } from '../audit/index.js';
import { catalogControls, controlAliases, crosswalkLinks, crosswalkOverrides, crosswalkSets, frameworks, type Relationship, type Strength } from './tables.js';

/** Frameworks whose controls an organization answers in its Statement of Applicability. */
export const ANSWERABLE: ReadonlyArray<{ frameworkId: string; kinds: string[] }> = [
  { frameworkId: 'iso27001-2022', kinds: ['annex_a'] },
  { frameworkId: 'iso27017-2015', kinds: ['cloud_control'] },
];

type CatalogRow = typeof catalogControls.$inferSelect;

export function controlView(c: CatalogRow) {
  return {
    framework: c.frameworkId,
    ref: c.ref,
    kind: c.kind,
    title: c.title,
    theme: c.theme,
    summary: c.summary,
    keywords: c.keywords,
    guidance: c.guidance,
    attributes: c.attributes,
  };
}

/** Refs as people type them: "a.5.1", " CLD.13.1.4 " and aliases all find the control. */
export function normalizeRef(ref: string): string {
  return ref
    .trim()
    .replace(/^a\./i, 'A.')
    .replace(/^cld\./i, 'CLD.')
    .replace(/^(cc|pi|[acp])(\d)/i, (m) => m.toUpperCase());
}

export async function listFrameworks(db: Executor) {
  const rows = await db
    .select({
      id: frameworks.id,
      name: frameworks.name,
      version: frameworks.version,
      publisher: frameworks.publisher,
      catalogVersion: frameworks.catalogVersion,
      loadedAt: frameworks.loadedAt,
      controlCount: sql<number>`(select count(*)::int from ${catalogControls} c where c.framework_id = ${frameworks.id})`,
    })
    .from(frameworks)
    .orderBy(asc(frameworks.id));
  return { items: rows.map((r) => ({ ...r, loadedAt: r.loadedAt.toISOString() })), nextCursor: null };
}

async function requireFramework(db: Executor, id: string) {
  const [fw] = await db.select({ id: frameworks.id }).from(frameworks).where(eq(frameworks.id, id));
  if (!fw) throw notFound(`framework "${id}"`);
}

export async function listControls(db: Executor, frameworkId: string, q: { q?: string; kind?: string; limit: number; cursor?: string }) {
  await requireFramework(db, frameworkId);
  const offset = q.cursor ? Number.parseInt(q.cursor, 10) : 0;
  if (!Number.isInteger(offset) || offset < 0) {
    throw invalidCursor();
  }
  const text = q.q?.trim();
  const tsq = text ? sql`websearch_to_tsquery('english', ${text})` : undefined;
  const match = text
    ? or(sql`${catalogControls.search} @@ ${tsq}`, sql`${catalogControls.ref} ilike ${normalizeRef(text).replace(/[%_\\]/g, '\\$&') + '%'}`)
    : undefined;
  const rows = await db
    .select()
    .from(catalogControls)
    .where(and(eq(catalogControls.frameworkId, frameworkId), q.kind ? eq(catalogControls.kind, q.kind) : undefined, match))
    .orderBy(...(text ? [sql`ts_rank(${catalogControls.search}, ${tsq}) desc`, asc(catalogControls.position)] : [asc(catalogControls.position)]))
    .limit(q.limit + 1)
    .offset(offset);
  const items = rows.slice(0, q.limit).map(controlView);
  // The catalog is read-only between deploys, so an offset cursor is stable here.
  return { items, nextCursor: rows.length > q.limit ? String(offset + q.limit) : null };
}

/** Finds a control by ref or alias within one framework. */
export async function findControl(db: Executor, frameworkId: string, rawRef: string): Promise<CatalogRow | undefined> {
  const ref = normalizeRef(rawRef);
  const [alias] = await db
    .select({ ref: controlAliases.ref })
    .from(controlAliases)
    .where(and(eq(controlAliases.frameworkId, frameworkId), eq(controlAliases.alias, ref)));
  const [row] = await db
    .select()
    .from(catalogControls)
    .where(and(eq(catalogControls.frameworkId, frameworkId), eq(catalogControls.ref, alias?.ref ?? ref)));
  return row;
}

/**
 * Looks up many refs in one query, each as resolveAnswerable would: per answerable framework in
 * order, alias first, then the ref itself. The answer is aligned with `rawRefs`; undefined where a
 * ref names no answerable control.
 */
export async function lookupAnswerable(db: Executor, rawRefs: readonly string[]): Promise<Array<CatalogRow | undefined>> {
  if (rawRefs.length === 0) return [];
  const refs = [...new Set(rawRefs.map(normalizeRef))];
  const ids = ANSWERABLE.map((a) => a.frameworkId);
  // A control comes back when its ref is asked for, or when one of its aliases is (then with that alias).
  const rows = await db
    .select({ control: catalogControls, alias: controlAliases.alias })
    .from(catalogControls)
    .leftJoin(
      controlAliases,
      and(eq(controlAliases.frameworkId, catalogControls.frameworkId), eq(controlAliases.ref, catalogControls.ref), inArray(controlAliases.alias, refs)),
    )
    .where(and(inArray(catalogControls.frameworkId, ids), or(inArray(catalogControls.ref, refs), isNotNull(controlAliases.alias))));
  const byKey = new Map(rows.map((r) => [`${r.control.frameworkId}|${r.control.ref}`, r.control]));
  const aliasOf = new Map(rows.filter((r) => r.alias !== null).map((r) => [`${r.control.frameworkId}|${r.alias}`, r.control.ref]));
  return rawRefs.map((raw) => {
    const ref = normalizeRef(raw);
    for (const { frameworkId, kinds } of ANSWERABLE) {
      const row = byKey.get(`${frameworkId}|${aliasOf.get(`${frameworkId}|${ref}`) ?? ref}`);
      if (row && kinds.includes(row.kind)) return row;
    }
    return undefined;
  });
}

const unknownAnswerable = (rawRef: string) => new DomainError('not_found', `no ISO/IEC 27001:2022 Annex A or ISO/IEC 27017 CLD control "${rawRef}"`);

/** Resolves refs to the answerable controls they name, in order, in one query; the first unknown ref is a 404. */
export async function resolveAnswerableMany(db: Executor, rawRefs: readonly string[]): Promise<CatalogRow[]> {
  const found = await lookupAnswerable(db, rawRefs);
  return found.map((row, i) => {
    if (!row) throw unknownAnswerable(rawRefs[i]!);
    return row;
  });
}

/** Resolves a ref to the one answerable control it names (ISO 27001 Annex A or a CLD control). */
export async function resolveAnswerable(db: Executor, rawRef: string): Promise<CatalogRow> {
  const [row] = await resolveAnswerableMany(db, [rawRef]);
  return row!;
}

export interface CrosswalkLink {
  fromFramework: string;
  from: string;
  toFramework: string;
  to: string;
  relationship: Relationship;
  strength: Strength | 'organization';
  sources: string[];
  note: string | null;
  origin: 'catalog' | 'organization';
}

/** The catalog crosswalk with the organization's own additions and rejections applied. */
export async function effectiveCrosswalk({ db, orgId }: OrgScope, filter: { from?: string; to?: string; ref?: string }): Promise<CrosswalkLink[]> {
  const linkWhere = and(
    filter.from ? eq(crosswalkLinks.fromFramework, filter.from) : undefined,
    filter.to ? eq(crosswalkLinks.toFramework, filter.to) : undefined,
    filter.ref ? or(eq(crosswalkLinks.fromRef, filter.ref), eq(crosswalkLinks.toRef, filter.ref)) : undefined,
  );
  const [links, overrides] = await Promise.all([
    db.select().from(crosswalkLinks).where(linkWhere),
    db
      .select()
      .from(crosswalkOverrides)
      .where(
        and(
          eq(crosswalkOverrides.orgId, orgId),
          filter.from ? eq(crosswalkOverrides.fromFramework, filter.from) : undefined,
          filter.to ? eq(crosswalkOverrides.toFramework, filter.to) : undefined,
          filter.ref ? or(eq(crosswalkOverrides.fromRef, filter.ref), eq(crosswalkOverrides.toRef, filter.ref)) : undefined,
        ),
      ),
  ]);
  const key = (a: string, b: string, c: string, d: string) => `${a}|${b}|${c}|${d}`;
  const rejected = new Set(overrides.filter((o) => o.action === 'reject').map((o) => key(o.fromFramework, o.fromRef, o.toFramework, o.toRef)));
  const out: CrosswalkLink[] = links
    .filter((l) => !rejected.has(key(l.fromFramework, l.fromRef, l.toFramework, l.toRef)))
    .map((l) => ({
      fromFramework: l.fromFramework,
      from: l.fromRef,
      toFramework: l.toFramework,
      to: l.toRef,
      relationship: l.relationship,
      strength: l.strength,
      sources: l.sources,
      note: l.note,
      origin: 'catalog' as const,
    }));
  const present = new Set(out.map((l) => key(l.fromFramework, l.from, l.toFramework, l.to)));
  for (const o of overrides) {
    if (o.action !== 'add' || present.has(key(o.fromFramework, o.fromRef, o.toFramework, o.toRef))) continue;
    out.push({
      fromFramework: o.fromFramework,
      from: o.fromRef,
      toFramework: o.toFramework,
      to: o.toRef,
      relationship: o.relationship ?? 'intersect',
      strength: 'organization',
      sources: ['organization'],
      note: o.note,
      origin: 'organization',
    });
  }
  return out.sort((a, b) => a.from.localeCompare(b.from, 'en', { numeric: true }) || a.to.localeCompare(b.to, 'en', { numeric: true }));
}

export async function getControlDetail(ctx: ServiceContext, frameworkId: string, rawRef: string) {
  await requireFramework(ctx.db, frameworkId);
  const row = await findControl(ctx.db, frameworkId, rawRef);
  if (!row) throw notFound(`control "${rawRef}" in ${frameworkId}`);
  const links = await effectiveCrosswalk(ctx, { ref: row.ref });
  const aliases = await ctx.db
    .select({ alias: controlAliases.alias })
    .from(controlAliases)
    .where(and(eq(controlAliases.frameworkId, frameworkId), eq(controlAliases.ref, row.ref)));
  return {
    ...controlView(row),
    aliases: aliases.map((a) => a.alias),
    crosswalk: links.filter((l) => (l.fromFramework === frameworkId && l.from === row.ref) || (l.toFramework === frameworkId && l.to === row.ref)),
  };
}

export async function crosswalkRules(db: Executor, from?: string, to?: string) {
  return db
    .select()
    .from(crosswalkSets)
    .where(and(from ? eq(crosswalkSets.fromFramework, from) : undefined, to ? eq(crosswalkSets.toFramework, to) : undefined));
}

export async function addCrosswalkOverride(
  ctx: ServiceContext,
  input: {
    from: { framework: string; ref: string };
    to: { framework: string; ref: string };
    action: 'add' | 'reject';
    relationship?: Relationship;
    note?: string;
  },
) {
  requireRole(ctx.actor, 'editor');
  const from = await findControl(ctx.db, input.from.framework, input.from.ref);
  const to = await findControl(ctx.db, input.to.framework, input.to.ref);
  if (!from)
    throw new DomainError('validation_failed', `unknown control ${input.from.framework} ${input.from.ref}`, {
      errors: [{ field: 'body/from', message: 'unknown control' }],
    });
  if (!to)
    throw new DomainError('validation_failed', `unknown control ${input.to.framework} ${input.to.ref}`, {
      errors: [{ field: 'body/to', message: 'unknown control' }],
    });
  const [catalogLink] = await ctx.db
    .select()
    .from(crosswalkLinks)
    .where(
      and(
        eq(crosswalkLinks.fromFramework, from.frameworkId),
        eq(crosswalkLinks.fromRef, from.ref),
        eq(crosswalkLinks.toFramework, to.frameworkId),
        eq(crosswalkLinks.toRef, to.ref),
      ),
    );
  if (input.action === 'reject' && !catalogLink) throw new DomainError('unprocessable', 'there is no catalog link between these controls to reject');
  if (input.action === 'add' && catalogLink) throw new DomainError('conflict', 'the catalog already links these controls');
  const id = newId();
  return ctx.db.transaction(async (tx) => {
    const existing = await tx
      .select({ id: crosswalkOverrides.id })
      .from(crosswalkOverrides)
      .where(
        and(
          eq(crosswalkOverrides.orgId, ctx.orgId),
          eq(crosswalkOverrides.fromFramework, from.frameworkId),
          eq(crosswalkOverrides.fromRef, from.ref),
          eq(crosswalkOverrides.toFramework, to.frameworkId),
          eq(crosswalkOverrides.toRef, to.ref),
        ),
      );
    if (existing.length > 0) throw new DomainError('conflict', 'this pair already has an override; delete it first');
    const [row] = await tx
      .insert(crosswalkOverrides)
      .values({
        orgId: ctx.orgId,
        id,
        fromFramework: from.frameworkId,
        fromRef: from.ref,
        toFramework: to.frameworkId,
        toRef: to.ref,
        action: input.action,
        relationship: input.relationship ?? null,
        note: input.note ?? null,
        createdBy: ctx.actor.id,
        createdAt: ctx.clock(),
      })
      .returning();
    await recordAudit(tx, ctx, {
      action: `crosswalk.${input.action === 'add' ? 'link_added' : 'link_rejected'}`,
      targetType: 'crosswalk_override',
      targetId: id,
      summary: { from: from.ref, to: to.ref },
    });
    return overrideView(row!);
  });
}

export function overrideView(o: typeof crosswalkOverrides.$inferSelect) {
  return {
    id: o.id,
    action: o.action,
    relationship: o.relationship,
    note: o.note,
    from: { framework: o.fromFramework, ref: o.fromRef },
    to: { framework: o.toFramework, ref: o.toRef },
    createdBy: o.createdBy,
    createdAt: o.createdAt.toISOString(),
  };
}

export async function listCrosswalkOverrides(ctx: ServiceContext) {
  const rows = await ctx.db.select().from(crosswalkOverrides).where(eq(crosswalkOverrides.orgId, ctx.orgId)).orderBy(asc(crosswalkOverrides.id));
  return { items: rows.map(overrideView), nextCursor: null };
}

export async function deleteCrosswalkOverride(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'editor');
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(crosswalkOverrides)
      .where(and(eq(crosswalkOverrides.orgId, ctx.orgId), eq(crosswalkOverrides.id, id)))
      .returning();
    if (!row) throw notFound('crosswalk override');
    await recordAudit(tx, ctx, {
      action: 'crosswalk.override_deleted',
      targetType: 'crosswalk_override',
      targetId: id,
      summary: { from: row.fromRef, to: row.toRef, action: row.action },
    });
  });
}
