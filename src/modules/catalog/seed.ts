import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { RetireControls, RetirementRecord, RetiringControl } from './retirement.js';
import {
  catalogControls,
  controlAliases,
  crosswalkLinks,
  crosswalkSets,
  frameworks,
  type ControlGuidance,
  type Relationship,
  type Strength,
} from './tables.js';

interface CatalogFile {
  framework: { id: string; name: string; version: string; publisher: string };
  catalogVersion: number;
  aliases?: Record<string, string>;
  /** Controls earlier catalog versions held, with where an organization's data on them goes. */
  retired?: Array<{ ref: string; title: string; catalogVersion: number; movedTo: Array<{ framework: string; ref: string }>; reason: string }>;
  controls: Array<{
    ref: string;
    kind: string;
    title: string;
    theme?: string;
    summary?: string;
    keywords?: string[];
    providerGuidance?: string | null;
    customerGuidance?: string | null;
    guidanceNote?: string;
    expectedEvidence?: string[];
    source?: string;
    sourceNote?: string;
    [extra: string]: unknown;
  }>;
}

interface CrosswalkFile {
  from: string;
  to: string;
  rule: string;
  links: Array<{ from: string; to: string; relationship: Relationship; strength: Strength; sources: string[]; note?: string }>;
}

const GUIDANCE_KEYS = ['providerGuidance', 'customerGuidance', 'guidanceNote', 'expectedEvidence', 'source', 'sourceNote'] as const;
const CORE_KEYS = new Set(['ref', 'kind', 'title', 'theme', 'summary', 'keywords', ...GUIDANCE_KEYS]);

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

async function readJsonFiles(dir: string): Promise<Array<{ file: string; text: string }>> {
  const names = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(names.map(async (f) => ({ file: f, text: await fs.readFile(path.join(dir, f), 'utf8') })));
}

export interface SeedReport {
  loaded: string[];
  /** Controls a new catalog version dropped, per framework, with the homes their data goes to. */
  retired: Array<{ framework: string; catalogVersion: { from: number; to: number }; refs: string[] }>;
  /** Per organization and retired control: what was moved where and what stays as history. */
  retirements: RetirementRecord[];
}

/** Catalog loads one at a time: replicas starting together must not both move the same organization data. */
const CATALOG_LOCK = 727_027_002;

/**
 * Loads seeds/catalog and seeds/crosswalk. A file whose hash matches what is loaded is skipped, so
 * a normal start costs two small queries; a changed file is upserted in one transaction. Catalogs
 * load before crosswalks, so controls a new catalog version drops still have their old links then.
 */
export async function seedCatalogs(db: Db, seedsDir: string, opts: { clock?: Clock; retire?: RetireControls } = {}): Promise<SeedReport> {
  const report: SeedReport = { loaded: [], retired: [], retirements: [] };
  const { loaded } = report;
  const catalogs = await readJsonFiles(path.join(seedsDir, 'catalog'));
  const current = new Map((await db.select({ id: frameworks.id, hash: frameworks.contentHash }).from(frameworks)).map((r) => [r.id, r.hash]));
  for (const { file, text } of catalogs) {
    const data = JSON.parse(text) as CatalogFile;
    const hash = hashOf(text);
    if (current.get(data.framework.id) === hash) continue;
    const result = await loadCatalog(db, data, hash, (opts.clock ?? systemClock)(), opts.retire);
    if (!result) continue;
    loaded.push(file);
    if (result.retired) report.retired.push(result.retired);
    report.retirements.push(...result.retirements);
  }

  const crosswalks = await readJsonFiles(path.join(seedsDir, 'crosswalk'));
  const currentSets = new Map((await db.select({ id: crosswalkSets.id, hash: crosswalkSets.contentHash }).from(crosswalkSets)).map((r) => [r.id, r.hash]));
  for (const { file, text } of crosswalks) {
    const data = JSON.parse(text) as CrosswalkFile;
    const id = `${data.from}->${data.to}`;
    const hash = hashOf(text);
    if (currentSets.get(id) === hash) continue;
    await loadCrosswalk(db, id, data, hash);
    loaded.push(file);
  }
  return report;
}

async function loadCatalog(db: Db, data: CatalogFile, hash: string, now: Date, retire: RetireControls | undefined) {
  const fw = data.framework;
  const keep = data.controls.map((c) => c.ref);
  const declared = new Map((data.retired ?? []).map((r) => [r.ref, r]));
  const both = keep.filter((ref) => declared.has(ref));
  if (both.length > 0) throw new Error(`catalog ${fw.id}: ${both.join(', ')} both listed and retired`);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CATALOG_LOCK})`);
    const [before] = await tx
      .select({ hash: frameworks.contentHash, catalogVersion: frameworks.catalogVersion })
      .from(frameworks)
      .where(eq(frameworks.id, fw.id));
    if (before?.hash === hash) return undefined; // another instance loaded this file meanwhile
    const dropped = await tx
      .select({ ref: catalogControls.ref, title: catalogControls.title })
      .from(catalogControls)
      .where(and(eq(catalogControls.frameworkId, fw.id), notInArray(catalogControls.ref, keep)))
      .orderBy(catalogControls.position);
    // Dropping controls moves organization data: only a deliberate new catalog version may do it.
    if (before && dropped.length > 0 && data.catalogVersion <= before.catalogVersion) {
      throw new Error(`catalog ${fw.id}: the seed drops ${dropped.map((d) => d.ref).join(', ')} without raising catalogVersion above ${before.catalogVersion}`);
    }
    await tx
      .insert(frameworks)
      .values({ id: fw.id, name: fw.name, version: fw.version, publisher: fw.publisher, catalogVersion: data.catalogVersion, contentHash: hash })
      .onConflictDoUpdate({
        target: frameworks.id,
        set: { name: fw.name, version: fw.version, publisher: fw.publisher, catalogVersion: data.catalogVersion, contentHash: hash, loadedAt: new Date() },
      });
    const rows = data.controls.map((c, position) => {
      const guidance: ControlGuidance = {};
      for (const k of GUIDANCE_KEYS) if (c[k] !== undefined) (guidance as Record<string, unknown>)[k] = c[k];
      const attributes = Object.fromEntries(Object.entries(c).filter(([k]) => !CORE_KEYS.has(k)));
      const keywords = c.keywords ?? [];
      return {
        frameworkId: fw.id,
        ref: c.ref,
        kind: c.kind,
        position,
        title: c.title,
        theme: c.theme ?? null,
        summary: c.summary ?? null,
        keywords,
        guidance,
        attributes,
        search: sql`setweight(to_tsvector('english', ${`${c.ref} ${c.title}`}), 'A') || setweight(to_tsvector('english', ${keywords.join(' ')}), 'B') || setweight(to_tsvector('english', ${[c.summary ?? '', guidance.providerGuidance ?? '', guidance.customerGuidance ?? ''].join(' ')}), 'C')`,
      };
    });
    for (let i = 0; i < rows.length; i += 200) {
      await tx
        .insert(catalogControls)
        .values(rows.slice(i, i + 200))
        .onConflictDoUpdate({
          target: [catalogControls.frameworkId, catalogControls.ref],
          set: {
            kind: sql`excluded.kind`,
            position: sql`excluded.position`,
            title: sql`excluded.title`,
            theme: sql`excluded.theme`,
            summary: sql`excluded.summary`,
            keywords: sql`excluded.keywords`,
            guidance: sql`excluded.guidance`,
            attributes: sql`excluded.attributes`,
            search: sql`excluded.search`,
          },
        });
    }
    // Controls dropped from the seed go too, once every organization's data on them has moved or
    // become history (the foreign keys from answers and evidence links have no cascade).
    let retirements: RetirementRecord[] = [];
    let retired: SeedReport['retired'][number] | undefined;
    if (dropped.length > 0) {
      const refs = dropped.map((d) => d.ref);
      // A seed without a `retired` entry for a control falls back to the catalog crosswalk still loaded.
      const links = await tx
        .select({ fromRef: crosswalkLinks.fromRef, toFramework: crosswalkLinks.toFramework, toRef: crosswalkLinks.toRef })
        .from(crosswalkLinks)
        .where(and(eq(crosswalkLinks.fromFramework, fw.id), inArray(crosswalkLinks.fromRef, refs)));
      const controls: RetiringControl[] = dropped.map((d) => ({
        ref: d.ref,
        title: d.title,
        reason: declared.get(d.ref)?.reason ?? 'dropped from the catalog seed',
        movedTo: declared.get(d.ref)?.movedTo ?? links.filter((l) => l.fromRef === d.ref).map((l) => ({ framework: l.toFramework, ref: l.toRef })),
      }));
      const versions = { from: before?.catalogVersion ?? data.catalogVersion, to: data.catalogVersion };
      // Without a retire handler the data would be left on controls about to be deleted.
      if (!retire) throw new Error(`catalog ${fw.id} drops ${refs.join(', ')} and no retire handler was given to move organizations' data`);
      retirements = await retire(tx, { frameworkId: fw.id, fromVersion: versions.from, toVersion: versions.to, controls, now });
      retired = { framework: fw.id, catalogVersion: versions, refs };
      await tx.delete(catalogControls).where(and(eq(catalogControls.frameworkId, fw.id), inArray(catalogControls.ref, refs)));
    }
    await tx.delete(controlAliases).where(eq(controlAliases.frameworkId, fw.id));
    const aliases = Object.entries(data.aliases ?? {}).map(([alias, ref]) => ({ frameworkId: fw.id, alias, ref }));
    if (aliases.length > 0) await tx.insert(controlAliases).values(aliases);
    return { retired, retirements };
  });
}

async function loadCrosswalk(db: Db, id: string, data: CrosswalkFile, hash: string) {
  await db.transaction(async (tx) => {
    await tx
      .insert(crosswalkSets)
      .values({ id, fromFramework: data.from, toFramework: data.to, rule: data.rule, contentHash: hash })
      .onConflictDoUpdate({ target: crosswalkSets.id, set: { rule: data.rule, contentHash: hash } });
    await tx.delete(crosswalkLinks).where(and(eq(crosswalkLinks.fromFramework, data.from), eq(crosswalkLinks.toFramework, data.to)));
    const rows = data.links.map((l) => ({
      fromFramework: data.from,
      fromRef: l.from,
      toFramework: data.to,
      toRef: l.to,
      relationship: l.relationship,
      strength: l.strength,
      sources: l.sources,
      note: l.note ?? null,
    }));
    for (let i = 0; i < rows.length; i += 500) await tx.insert(crosswalkLinks).values(rows.slice(i, i + 500));
  });
}
