import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FieldError } from '../../lib/errors.js';
import { FACT_TYPES, type FactType, type FactValue } from './tables.js';

/** One typed key of the profile catalog (seeds/profile-catalog.json, our own words). */
export interface CatalogFact {
  key: string;
  type: FactType;
  group: string;
  label: string;
  description: string;
  /** States the fact in an answer; `{value}` is replaced. Booleans: the sentence when true. */
  phrase: string;
  /** Booleans: the sentence when false. */
  phraseFalse?: string;
  /** Numbers: hours, minutes, days, people, percent. */
  unit?: string;
  integer?: boolean;
  min?: number;
  max?: number;
  /** Strings: `email` or `url`, checked on write. */
  format?: 'email' | 'url';
  /** Lists: `countries` are written with their article ("the United States") in phrases. */
  listOf?: 'countries';
  /** Words a question about this fact tends to use (for routing questions to facts). */
  keywords: string[];
}

const CATALOG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../seeds/profile-catalog.json');

let loaded: { items: CatalogFact[]; byKey: Map<string, CatalogFact> } | undefined;

/** The catalog, read once; a malformed entry fails loudly at first use rather than at write time. */
export function profileCatalog(file = CATALOG_FILE) {
  if (loaded && file === CATALOG_FILE) return loaded;
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { facts: CatalogFact[] };
  const byKey = new Map<string, CatalogFact>();
  for (const f of raw.facts) {
    if (!KEY.test(f.key) || f.key.startsWith('custom.')) throw new Error(`profile catalog: bad key ${f.key}`);
    if (!FACT_TYPES.includes(f.type)) throw new Error(`profile catalog: ${f.key} has unknown type ${f.type}`);
    if (!f.label || !f.phrase || (f.type === 'boolean' && !f.phraseFalse)) throw new Error(`profile catalog: ${f.key} needs a label and phrases`);
    if (byKey.has(f.key)) throw new Error(`profile catalog: duplicate key ${f.key}`);
    byKey.set(f.key, { ...f, keywords: f.keywords ?? [] });
  }
  const result = { items: [...byKey.values()], byKey };
  if (file === CATALOG_FILE) loaded = result;
  return result;
}

/** Catalog keys: `group.name`; custom keys: `custom.<slug>`. */
export const KEY = /^[a-z][a-z0-9_]*\.[a-z0-9_-]{1,64}$/;
export const CUSTOM_KEY = /^custom\.[a-z0-9_-]{1,64}$/;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MAX_TEXT = 2000;
const MAX_ITEMS = 200;

/** The type a custom fact's value implies when the caller does not name one. */
export function inferType(value: unknown): FactType | undefined {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'number';
  if (Array.isArray(value)) return 'string_list';
  if (typeof value === 'string') return 'string';
  return undefined;
}

function isUrl(s: string) {
  // A bare domain ("example.com") is a fine answer to "what is your website?".
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`;
  try {
    const u = new URL(candidate);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname.includes('.') && !u.username && !u.password;
  } catch {
    return false;
  }
}

/**
 * Checks a value against a type (and the catalog entry's rules, if any) and returns it normalized
 * (strings trimmed, list items trimmed and de-duplicated), or the problems with `body/value`.
 */
export function checkValue(type: FactType, value: unknown, rules?: Partial<CatalogFact>): { value?: FactValue; errors: FieldError[] } {
  const field = 'body/value';
  const fail = (message: string) => ({ errors: [{ field, message }] });
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean' ? { value, errors: [] } : fail('must be a boolean (true or false)');
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail('must be a number');
      if (rules?.integer && !Number.isInteger(value)) return fail('must be a whole number');
      if (rules?.min !== undefined && value < rules.min) return fail(`must be at least ${rules.min}`);
      if (rules?.max !== undefined && value > rules.max) return fail(`must be at most ${rules.max}`);
      return { value, errors: [] };
    }
    case 'string': {
      if (typeof value !== 'string') return fail('must be a string');
      const s = value.trim();
      if (!s) return fail('must not be empty');
      if (s.length > MAX_TEXT) return fail(`must be at most ${MAX_TEXT} characters`);
      if (rules?.format === 'email' && !EMAIL.test(s)) return fail('must be an e-mail address');
      if (rules?.format === 'url' && !isUrl(s)) return fail('must be a web address (http or https)');
      return { value: s, errors: [] };
    }
    case 'date': {
      if (typeof value !== 'string') return fail('must be a date (YYYY-MM-DD)');
      const m = DATE.exec(value.trim());
      const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
      if (!m || !d || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return fail('must be a date (YYYY-MM-DD)');
      return { value: value.trim(), errors: [] };
    }
    case 'string_list': {
      if (!Array.isArray(value)) return fail('must be a list of strings');
      if (value.length > MAX_ITEMS) return fail(`must have at most ${MAX_ITEMS} items`);
      const out: string[] = [];
      const errors: FieldError[] = [];
      value.forEach((v, i) => {
        if (typeof v !== 'string' || !v.trim()) errors.push({ field: `${field}/${i}`, message: 'must be a non-empty string' });
        else if (v.length > 500) errors.push({ field: `${field}/${i}`, message: 'must be at most 500 characters' });
        else if (!out.some((o) => o.toLowerCase() === v.trim().toLowerCase())) out.push(v.trim());
      });
      return errors.length > 0 ? { errors } : { value: out, errors: [] };
    }
  }
}
