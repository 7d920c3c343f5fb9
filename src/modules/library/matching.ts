// When two library questions are the same question, and when two answers say the same thing.
// The rule is the fill's library-reuse rule (findReusable in questionnaires/answering.ts), kept
// here because the library sits below questionnaires and may not import it: the same words once
// normalized, or a Jaccard of at least 0.8 over the questions' lexemes with the same polarity words.
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { polarityOf } from './pure.js';

/** Lower case, letters and digits of any script, single spaces (as retrieval's normalize). */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Jaccard of lexeme sets from which two questions count as the same (as answering's NEAR_IDENTICAL). */
export const NEAR_IDENTICAL = 0.8;

/** A question as matching sees it. */
export interface QuestionKey {
  normalized: string;
  polarity: string;
  lexemes: Set<string>;
}

export function questionKey(text: string, lexemes: Iterable<string>): QuestionKey {
  const normalized = normalizeText(text);
  return {
    normalized,
    polarity: polarityOf(normalized),
    lexemes: new Set(lexemes),
  };
}

/** Same question: identical once normalized, or nearly the same lexemes with the same polarity words. */
export function sameQuestion(a: QuestionKey, b: QuestionKey): boolean {
  if (a.normalized === '' || b.normalized === '') return false;
  if (a.normalized === b.normalized) return true;
  if (a.polarity !== b.polarity) return false;
  // |A∩B| / |A∪B| ≥ 0.8 needs the smaller set to be at least 0.8 of the larger: skip the count otherwise.
  const [small, large] = a.lexemes.size <= b.lexemes.size ? [a.lexemes, b.lexemes] : [b.lexemes, a.lexemes];
  if (large.size === 0 || small.size < NEAR_IDENTICAL * large.size) return false;
  let shared = 0;
  for (const t of small) if (large.has(t)) shared++;
  return shared / (small.size + large.size - shared) >= NEAR_IDENTICAL;
}

/**
 * What an answer says, for comparison: its choice when it has one, else its text once normalized.
 * Two answers are the same when their keys are equal; a choice against no choice differs.
 */
export function answerKey(a: { choice: string | null; text: string | null }): string {
  return a.choice !== null ? `choice:${a.choice.toLowerCase()}` : `text:${normalizeText(a.text ?? '')}`;
}

/** The lexemes of each text (Postgres's english configuration, as the stored search vectors), in one query. */
export async function lexemesOf(db: Executor, texts: string[]): Promise<Set<string>[]> {
  const out = texts.map(() => new Set<string>());
  if (texts.length === 0) return out;
  const result = (await db.execute(sql`
    select t.idx, l.lexeme
    from unnest(${sql.param(texts)}::text[]) with ordinality as t(txt, idx),
         unnest(to_tsvector('english', t.txt)) as l`)) as unknown as { rows: Array<{ idx: string | number; lexeme: string }> };
  for (const r of result.rows) out[Number(r.idx) - 1]!.add(r.lexeme);
  return out;
}

/**
 * Groups items asking the same question (connected through sameQuestion), in the items' order;
 * only groups of two or more. Exact matches are bucketed first; near matches compare pairs.
 */
export function groupSameQuestion<T extends { key: QuestionKey }>(items: T[]): T[][] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const union = (a: number, b: number) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      if (sameQuestion(items[i]!.key, items[j]!.key)) union(i, j);
    }
  }
  const groups = new Map<number, T[]>();
  items.forEach((item, i) => {
    const root = find(i);
    (groups.get(root) ?? groups.set(root, []).get(root)!).push(item);
  });
  return [...groups.values()].filter((g) => g.length > 1);
}
