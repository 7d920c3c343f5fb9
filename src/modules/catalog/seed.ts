import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import {
  catalogControls, controlAliases, crosswalkLinks, crosswalkSets, frameworks,
  type ControlGuidance, type Relationship, type Strength,
} from './tables.js';

interface CatalogFile {
  framework: { id: string; name: string; version: string; publisher: string };
  catalogVersion: number;
  aliases?: Record<string, string>;
  controls: Array<{
    ref: string; kind: string; title: string; theme?: string; summary?: string; keywords?: string[];
    providerGuidance?: string; customerGuidance?: string; expectedEvidence?: string[]; source?: string;
    [extra: string]: unknown;
  }>;
}

interface CrosswalkFile {
  from: string;
  to: string;
  rule: string;
  links: Array<{ from: string; to: string; relationship: Relationship; strength: Strength; sources: string[]; note?: string }>;
}

const GUIDANCE_KEYS = ['providerGuidance', 'customerGuidance', 'expectedEvidence', 'source'] as const;
const CORE_KEYS = new Set(['ref', 'kind', 'title', 'theme', 'summary', 'keywords', ...GUIDANCE_KEYS]);

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

async function readJsonFiles(dir: string): Promise<Array<{ file: string; text: string }>> {
  const names = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(names.map(async (f) => ({ file: f, text: await fs.readFile(path.join(dir, f), 'utf8') })));
}

/**
 * Loads seeds/catalog and seeds/crosswalk. A file whose hash matches what is loaded is skipped, so
 * a normal start costs two small queries; a changed file is upserted in one transaction.
 */
export async function seedCatalogs(db: Db, seedsDir: string): Promise<{ loaded: string[] }> {
  const loaded: string[] = [];
  const catalogs = await readJsonFiles(path.join(seedsDir, 'catalog'));
  const current = new Map((await db.select({ id: frameworks.id, hash: frameworks.contentHash }).from(frameworks)).map((r) => [r.id, r.hash]));
  for (const { file, text } of catalogs) {
    const data = JSON.parse(text) as CatalogFile;
    const hash = hashOf(text);
    if (current.get(data.framework.id) === hash) continue;
    await loadCatalog(db, data, hash);
    loaded.push(file);
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
  return { loaded };
}

async function loadCatalog(db: Db, data: CatalogFile, hash: string) {
  const fw = data.framework;
  await db.transaction(async (tx) => {
    await tx.insert(frameworks)
      .values({ id: fw.id, name: fw.name, version: fw.version, publisher: fw.publisher, catalogVersion: data.catalogVersion, contentHash: hash })
      .onConflictDoUpdate({ target: frameworks.id, set: { name: fw.name, version: fw.version, publisher: fw.publisher, catalogVersion: data.catalogVersion, contentHash: hash, loadedAt: new Date() } });
    const rows = data.controls.map((c, position) => {
      const guidance: ControlGuidance = {};
      for (const k of GUIDANCE_KEYS) if (c[k] !== undefined) (guidance as Record<string, unknown>)[k] = c[k];
      const attributes = Object.fromEntries(Object.entries(c).filter(([k]) => !CORE_KEYS.has(k)));
      const keywords = c.keywords ?? [];
      return {
        frameworkId: fw.id, ref: c.ref, kind: c.kind, position, title: c.title, theme: c.theme ?? null, summary: c.summary ?? null,
        keywords, guidance, attributes,
        search: sql`setweight(to_tsvector('english', ${`${c.ref} ${c.title}`}), 'A') || setweight(to_tsvector('english', ${keywords.join(' ')}), 'B') || setweight(to_tsvector('english', ${[c.summary ?? '', guidance.providerGuidance ?? '', guidance.customerGuidance ?? ''].join(' ')}), 'C')`,
      };
    });
    for (let i = 0; i < rows.length; i += 200) {
      await tx.insert(catalogControls).values(rows.slice(i, i + 200)).onConflictDoUpdate({
        target: [catalogControls.frameworkId, catalogControls.ref],
        set: {
          kind: sql`excluded.kind`, position: sql`excluded.position`, title: sql`excluded.title`, theme: sql`excluded.theme`,
          summary: sql`excluded.summary`, keywords: sql`excluded.keywords`, guidance: sql`excluded.guidance`,
          attributes: sql`excluded.attributes`, search: sql`excluded.search`,
        },
      });
    }
    // Controls dropped from the seed go too; one that an organization answered blocks this (FK): loudly.
    await tx.delete(catalogControls).where(and(eq(catalogControls.frameworkId, fw.id), notInArray(catalogControls.ref, data.controls.map((c) => c.ref))));
    await tx.delete(controlAliases).where(eq(controlAliases.frameworkId, fw.id));
    const aliases = Object.entries(data.aliases ?? {}).map(([alias, ref]) => ({ frameworkId: fw.id, alias, ref }));
    if (aliases.length > 0) await tx.insert(controlAliases).values(aliases);
  });
}

async function loadCrosswalk(db: Db, id: string, data: CrosswalkFile, hash: string) {
  await db.transaction(async (tx) => {
    await tx.insert(crosswalkSets)
      .values({ id, fromFramework: data.from, toFramework: data.to, rule: data.rule, contentHash: hash })
      .onConflictDoUpdate({ target: crosswalkSets.id, set: { rule: data.rule, contentHash: hash } });
    await tx.delete(crosswalkLinks).where(and(eq(crosswalkLinks.fromFramework, data.from), eq(crosswalkLinks.toFramework, data.to)));
    const rows = data.links.map((l) => ({
      fromFramework: data.from, fromRef: l.from, toFramework: data.to, toRef: l.to,
      relationship: l.relationship, strength: l.strength, sources: l.sources, note: l.note ?? null,
    }));
    for (let i = 0; i < rows.length; i += 500) await tx.insert(crosswalkLinks).values(rows.slice(i, i + 500));
  });
}
