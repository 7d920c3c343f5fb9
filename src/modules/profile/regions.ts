import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Countries, cloud regions and country groups (seeds/cloud-regions.json): what "is data stored in
// China?" needs to be answered from `data.storage_countries` and `hosting.regions`.

interface RegionFile {
  regions: Record<string, Record<string, { country: string; location: string }>>;
  providers: Record<string, string[]>;
  countries: Record<string, string[]>;
  groups: Record<string, { aliases: string[]; members: string[]; partly?: string[] }>;
  withArticle: string[];
}

const REGIONS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../seeds/cloud-regions.json');

/** Case, spaces, dots and apostrophes do not matter ("West Europe" = "westeurope", "U.S." = "US"); hyphens do (us-east-1 is not us-east1). */
export const lookupKey = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/^the\s+/, '')
    .replace(/[\s.'’_]+/g, '');

interface Tables {
  /** provider -> normalized region -> country */
  regions: Map<string, Map<string, string>>;
  /** normalized region -> countries across providers (more than one: ambiguous without a provider) */
  anyRegion: Map<string, Set<string>>;
  /** Provider names as written before a region ("google cloud"), longest first. */
  providerPrefixes: [string, string][];
  countries: Map<string, string>;
  groups: Map<string, string>;
  groupMembers: Map<string, Set<string>>;
  /** Countries that lie only partly in a group (Russia and Europe): neither in nor out. */
  groupPartly: Map<string, Set<string>>;
  withArticle: Set<string>;
}

let tables: Tables | undefined;

export function regionTables(): Tables {
  if (tables) return tables;
  const raw = JSON.parse(fs.readFileSync(REGIONS_FILE, 'utf8')) as RegionFile;
  const t: Tables = {
    regions: new Map(),
    anyRegion: new Map(),
    providerPrefixes: [],
    countries: new Map(),
    groups: new Map(),
    groupMembers: new Map(),
    groupPartly: new Map(),
    withArticle: new Set(raw.withArticle),
  };
  for (const [provider, list] of Object.entries(raw.regions)) {
    const m = new Map<string, string>();
    for (const [code, r] of Object.entries(list)) {
      m.set(lookupKey(code), r.country);
      (t.anyRegion.get(lookupKey(code)) ?? t.anyRegion.set(lookupKey(code), new Set()).get(lookupKey(code))!).add(r.country);
    }
    t.regions.set(provider, m);
  }
  for (const [provider, names] of Object.entries(raw.providers)) {
    for (const n of [provider, ...names]) {
      t.providerPrefixes.push([n.toLowerCase(), provider]);
    }
  }
  t.providerPrefixes.sort((a, b) => b[0].length - a[0].length);
  for (const [country, aliases] of Object.entries(raw.countries)) for (const a of [country, ...aliases]) t.countries.set(lookupKey(a), country);
  for (const [group, g] of Object.entries(raw.groups)) {
    for (const a of [group, ...g.aliases]) t.groups.set(lookupKey(a), group);
    t.groupMembers.set(group, new Set(g.members));
    t.groupPartly.set(group, new Set(g.partly ?? []));
    // Every member is a country name in its own right, even without aliases.
    for (const c of [...g.members, ...(g.partly ?? [])]) if (!t.countries.has(lookupKey(c))) t.countries.set(lookupKey(c), c);
  }
  tables = t;
  return t;
}

/** "USA" -> "United States", "mainland China" -> "China", "EU" -> "European Union"; unknown names come back trimmed. */
export function normalizeCountry(name: string): string {
  const t = regionTables();
  const k = lookupKey(name.trim());
  return t.countries.get(k) ?? t.groups.get(k) ?? name.trim();
}

/** The group a name denotes ("EU", "EEA"), or undefined for a country. */
export function groupOf(name: string): string | undefined {
  return regionTables().groups.get(lookupKey(name.trim()));
}

/** Whether a country belongs to a group ("Germany" in "EU": true). */
export function inGroup(country: string, group: string): boolean {
  const g = groupOf(group);
  return g !== undefined && (regionTables().groupMembers.get(g)?.has(normalizeCountry(country)) ?? false);
}

/** Whether a country lies only partly in a group ("Russia" in "Europe"): whether it is "in" is not a yes or a no. */
export function partlyInGroup(country: string, group: string): boolean {
  const g = groupOf(group);
  return g !== undefined && (regionTables().groupPartly.get(g)?.has(normalizeCountry(country)) ?? false);
}

/**
 * The country of a cloud region, written as a code ("eu-central-1"), a display name ("West
 * Europe"), with a provider ("AWS eu-west-1", "gcp:europe-west1") or with a country in
 * parentheses ("eu-west-1 (Ireland)"). Undefined when unknown, or when the bare code means
 * different countries at different providers.
 */
export function regionCountry(region: string): string | undefined {
  const t = regionTables();
  const text = region.trim();
  if (!text) return undefined;
  const direct = (provider: string | undefined, code: string) => {
    const k = lookupKey(code);
    const tryKey = (key: string) => {
      if (provider) return t.regions.get(provider)?.get(key);
      const hits = t.anyRegion.get(key);
      return hits && hits.size === 1 ? [...hits][0] : undefined;
    };
    // OVH numbers its zones (GRA11, SBG5, DE1): the site is the part before the digits.
    return tryKey(k) ?? (/^[a-z-]+\d+$/.test(k) ? tryKey(k.replace(/-?\d+$/, '')) : undefined);
  };
  // "aws:eu-west-1", "AWS eu-west-1", "Google Cloud europe-west1", "Azure West Europe"
  const lower = text.toLowerCase();
  for (const [alias, provider] of t.providerPrefixes) {
    if (!lower.startsWith(alias)) continue;
    const rest = text.slice(alias.length);
    if (!/^\s*[:/]\s*|^\s+/.test(rest)) continue;
    const hit = direct(provider, rest.replace(/^\s*[:/]?\s*/, '').replace(/\s*\(.*\)\s*$/, ''));
    if (hit) return hit;
  }
  const bare = text.replace(/\s*\(.*\)\s*$/, '');
  const hit = direct(undefined, bare);
  if (hit) return hit;
  // "eu-west-1 (Ireland)", "Frankfurt, Germany": a country named in the text.
  const inParens = /\(([^)]+)\)/.exec(text)?.[1];
  for (const part of [inParens, ...text.split(/[,(]/).map((s) => s.replace(/\)/g, ''))]) {
    if (!part) continue;
    const c = t.countries.get(lookupKey(part.trim()));
    if (c) return c;
  }
  return undefined;
}

/** Anything with the two facts' values: the Map from loadFacts, or plain records. */
type FactSource = Map<string, { value: unknown }> | Record<string, { value: unknown } | unknown>;

function valueOf(facts: FactSource, key: string): unknown {
  const f = facts instanceof Map ? facts.get(key) : facts[key];
  return f && typeof f === 'object' && !Array.isArray(f) && 'value' in f ? (f as { value: unknown }).value : f;
}

/**
 * Every country customer data is in: `data.storage_countries` plus the countries of
 * `hosting.regions`, normalized ("USA" and "us-east-1" both give "United States"), without
 * duplicates, storage countries first. Groups ("EU") stay groups; unknown regions are left out.
 */
export function countriesOf(facts: FactSource): string[] {
  const out: string[] = [];
  const add = (c: string | undefined) => {
    if (c && !out.includes(c)) out.push(c);
  };
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  for (const c of list(valueOf(facts, 'data.storage_countries'))) add(normalizeCountry(c));
  for (const r of list(valueOf(facts, 'hosting.regions'))) add(regionCountry(r));
  return out;
}

/** "Ireland", "Ireland and Germany", "Ireland, the United States and Germany" (articles for countries that take one). */
export function formatList(items: string[], opts: { countries?: boolean } = {}): string {
  const art = regionTables().withArticle;
  const words = items.map((s) => (opts.countries && art.has(normalizeCountry(s)) && normalizeCountry(s) === s ? `the ${s}` : s));
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
