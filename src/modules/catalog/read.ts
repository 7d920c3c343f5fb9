// The catalog's read API for the modules above it: they read controls, aliases and crosswalk links
// through these functions (each one query, or one per table, whatever the number of controls).
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { ANSWERABLE, normalizeRef } from './service.js';
import { catalogControls, controlAliases, crosswalkLinks } from './tables.js';

/** A control of the catalog as stored. */
export type CatalogControl = typeof catalogControls.$inferSelect;
/** A link of the catalog's own crosswalk (no organization's additions or rejections). */
export type CatalogLink = typeof crosswalkLinks.$inferSelect;

/** The controls of these frameworks (of these kinds, when given), by framework, then in catalog order. */
export async function catalogControlsOf(db: Executor, frameworkIds: readonly string[], kinds?: readonly string[]): Promise<CatalogControl[]> {
  if (frameworkIds.length === 0) return [];
  return db
    .select()
    .from(catalogControls)
    .where(and(inArray(catalogControls.frameworkId, [...frameworkIds]), kinds ? inArray(catalogControls.kind, [...kinds]) : undefined))
    .orderBy(asc(catalogControls.frameworkId), asc(catalogControls.position));
}

/** The ref, title and position of every control of these frameworks, by framework, then in catalog order. */
export async function controlTitlesOf(
  db: Executor,
  frameworkIds: readonly string[],
): Promise<Array<{ frameworkId: string; ref: string; title: string; position: number }>> {
  if (frameworkIds.length === 0) return [];
  return db
    .select({ frameworkId: catalogControls.frameworkId, ref: catalogControls.ref, title: catalogControls.title, position: catalogControls.position })
    .from(catalogControls)
    .where(inArray(catalogControls.frameworkId, [...frameworkIds]))
    .orderBy(asc(catalogControls.frameworkId), asc(catalogControls.position));
}

/** The catalog's links from one framework to another, as the catalog states them (see effectiveCrosswalk for an organization's view). */
export async function catalogLinks(db: Executor, fromFramework: string, toFramework: string): Promise<CatalogLink[]> {
  return db
    .select()
    .from(crosswalkLinks)
    .where(and(eq(crosswalkLinks.fromFramework, fromFramework), eq(crosswalkLinks.toFramework, toFramework)));
}

/** Every answerable control in SoA order, and a resolver for refs and aliases that needs no further query. */
export async function answerableCatalog(db: Executor) {
  const ids = ANSWERABLE.map((a) => a.frameworkId);
  const [controls, aliases] = await Promise.all([
    db.select().from(catalogControls).where(inArray(catalogControls.frameworkId, ids)).orderBy(asc(catalogControls.position)),
    db.select().from(controlAliases).where(inArray(controlAliases.frameworkId, ids)),
  ]);
  const byKey = new Map(controls.map((c) => [`${c.frameworkId}|${c.ref}`, c]));
  const aliasOf = new Map(aliases.map((a) => [`${a.frameworkId}|${a.alias}`, a.ref]));
  const ordered = ANSWERABLE.flatMap(({ frameworkId, kinds }) => controls.filter((c) => c.frameworkId === frameworkId && kinds.includes(c.kind)));
  /** Mirrors resolveAnswerable: per answerable framework in order, alias first, then the ref itself. */
  const resolve = (raw: string): CatalogControl | undefined => {
    const ref = normalizeRef(raw);
    for (const { frameworkId, kinds } of ANSWERABLE) {
      const row = byKey.get(`${frameworkId}|${aliasOf.get(`${frameworkId}|${ref}`) ?? ref}`);
      if (row && kinds.includes(row.kind)) return row;
    }
    return undefined;
  };
  return { controls: ordered, resolve };
}

/**
 * Every answerable control (of the answerable frameworks, of any answerable kind) with its title,
 * summary and stored weighted vector as lexemes with their weights, in the vector's order; by
 * framework, then in catalog order. One query.
 */
export async function answerableControlTerms(
  db: Executor,
): Promise<Array<{ frameworkId: string; ref: string; title: string; summary: string | null; terms: Array<{ lexeme: string; weights: string[] }> }>> {
  const frameworks = ANSWERABLE.map((a) => a.frameworkId);
  const kinds = ANSWERABLE.flatMap((a) => a.kinds);
  return db
    .select({
      frameworkId: catalogControls.frameworkId,
      ref: catalogControls.ref,
      title: catalogControls.title,
      summary: catalogControls.summary,
      terms: sql<
        Array<{ lexeme: string; weights: string[] }>
      >`coalesce((select json_agg(json_build_object('lexeme', l.lexeme, 'weights', l.weights::text[])) from unnest(${catalogControls.search}) l), '[]'::json)`,
    })
    .from(catalogControls)
    .where(and(inArray(catalogControls.frameworkId, frameworks), inArray(catalogControls.kind, kinds)))
    .orderBy(catalogControls.frameworkId, catalogControls.position);
}

/** The title, theme and place in the catalog of these controls, by framework, then in catalog order; an unknown one is absent. */
export async function controlHeadingsOf(
  db: Executor,
  keys: ReadonlyArray<{ frameworkId: string; ref: string }>,
): Promise<Array<{ frameworkId: string; ref: string; title: string; theme: string | null; position: number }>> {
  if (keys.length === 0) return [];
  const wanted = new Set(keys.map((k) => `${k.frameworkId}|${k.ref}`));
  const rows = await db
    .select({
      frameworkId: catalogControls.frameworkId,
      ref: catalogControls.ref,
      title: catalogControls.title,
      theme: catalogControls.theme,
      position: catalogControls.position,
    })
    .from(catalogControls)
    .where(
      and(
        inArray(catalogControls.frameworkId, [...new Set(keys.map((k) => k.frameworkId))]),
        inArray(catalogControls.ref, [...new Set(keys.map((k) => k.ref))]),
      ),
    )
    .orderBy(asc(catalogControls.frameworkId), asc(catalogControls.position));
  return rows.filter((r) => wanted.has(`${r.frameworkId}|${r.ref}`));
}

/** The kind of each of these controls that the catalog holds (any framework); an unknown one is absent. */
export async function controlKindsOf(
  db: Executor,
  controls: ReadonlyArray<{ framework: string; ref: string }>,
): Promise<Array<{ frameworkId: string; ref: string; kind: string }>> {
  if (controls.length === 0) return [];
  return db
    .select({ frameworkId: catalogControls.frameworkId, ref: catalogControls.ref, kind: catalogControls.kind })
    .from(catalogControls)
    .where(or(...controls.map((c) => and(eq(catalogControls.frameworkId, c.framework), eq(catalogControls.ref, c.ref)))));
}
