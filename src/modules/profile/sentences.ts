// Facts as words, for answers: no database, so the worker pool's drafting can load it (pure.ts).
import { formatList } from './regions.js';
import type { FactType, FactValue, FactVisibility } from './tables.js';

export interface LoadedFact {
  key: string;
  type: FactType;
  value: FactValue;
  version: number;
  visibility: FactVisibility;
  question?: string;
  label: string;
  unit?: string;
  phrase?: string;
  phraseFalse?: string;
  listOf?: 'countries';
  updatedAt: Date;
}

const DATE_FMT = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' });

/** A value as words: lists joined ("Ireland, the United States and Germany"), dates written out, numbers as they are. */
export function formatFactValue(f: Pick<LoadedFact, 'type' | 'value' | 'listOf'>): string {
  if (f.type === 'boolean') return f.value ? 'Yes' : 'No';
  if (f.type === 'string_list') return formatList(f.value as string[], { countries: f.listOf === 'countries' });
  if (f.type === 'date') return DATE_FMT.format(new Date(`${String(f.value)}T00:00:00Z`));
  return String(f.value);
}

/**
 * The fact stated as a sentence an answer can lead with: the catalog phrase with the value in
 * it (booleans: the phrase for true or false); custom facts without a phrase, the value itself.
 */
export function factSentence(f: Pick<LoadedFact, 'type' | 'value' | 'listOf' | 'phrase' | 'phraseFalse' | 'label' | 'unit'>): string {
  if (f.type === 'boolean') {
    const s = f.value ? f.phrase : f.phraseFalse;
    return s ?? (f.value ? 'Yes.' : 'No.');
  }
  const words = formatFactValue(f);
  if (f.phrase) return f.phrase.replace('{value}', () => words);
  return `${f.label}: ${words}${f.unit && f.type === 'number' ? ` ${f.unit}` : ''}.`;
}
