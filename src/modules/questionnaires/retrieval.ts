/** Groups of words that mean the same in a question, with the controls they point to (seeds/thesaurus.json). */
export interface Thesaurus {
  version: number;
  groups: Array<{ id: string; terms: string[]; controls: string[] }>;
}

/**
 * Lexical retrieval over an organization's answer corpus. Postgres does the language work
 * (the `english` text-search configuration stems words and drops stop words, in the stored
 * weighted vectors and in `to_tsvector` of each question); the ranking is BM25F in process,
 * because `ts_rank` has no inverse document frequency: questionnaire boilerplate ("defined,
 * documented, implemented, evaluated") would otherwise outweigh the one word that matters.
 */

/** Fields of a document, each with its own weight; a catalog vector's A/B/C weights map to title/keywords/body. */
export const FIELDS = ['title', 'keywords', 'body', 'answer'] as const;
export type Field = (typeof FIELDS)[number];
const FIELD_WEIGHT: Record<Field, number> = { title: 3, keywords: 2, body: 1, answer: 1 };
const K1 = 1.2;
const B = 0.75;

export interface TermDoc {
  key: string;
  /** Term frequency per field. */
  fields: Partial<Record<Field, Map<string, number>>>;
}

export type Query = Map<string, number>;

export class Bm25Index<D extends TermDoc> {
  private readonly idf = new Map<string, number>();
  /**
   * Inverted index: per term, the documents holding it (in document order) with the term's
   * saturated-length-normalised field-weighted frequency, computed once. A question then touches
   * only the documents sharing a word with it instead of every document.
   */
  private readonly postings = new Map<string, Array<{ at: number; tf: number }>>();

  constructor(
    readonly docs: readonly D[],
    weights: Partial<Record<Field, number>> = {},
  ) {
    const weight = { ...FIELD_WEIGHT, ...weights };
    const df = new Map<string, number>();
    const totals: Record<Field, number> = { title: 0, keywords: 0, body: 0, answer: 0 };
    const lengths: Array<Record<Field, number>> = [];
    for (const d of docs) {
      const seen = new Set<string>();
      const len: Record<Field, number> = { title: 0, keywords: 0, body: 0, answer: 0 };
      for (const f of FIELDS) {
        for (const [term, tf] of d.fields[f] ?? []) {
          seen.add(term);
          len[f] += tf;
        }
        totals[f] += len[f];
      }
      lengths.push(len);
      for (const t of seen) df.set(t, (df.get(t) ?? 0) + 1);
    }
    const n = docs.length;
    for (const [t, k] of df) this.idf.set(t, Math.log(1 + (n - k + 0.5) / (k + 0.5)));
    const avgLen = Object.fromEntries(FIELDS.map((f) => [f, n > 0 ? totals[f] / n || 1 : 1])) as Record<Field, number>;
    docs.forEach((d, at) => {
      const len = lengths[at]!;
      const terms = new Set<string>();
      for (const f of FIELDS) for (const term of d.fields[f]?.keys() ?? []) terms.add(term);
      for (const term of terms) {
        let tf = 0;
        for (const f of FIELDS) {
          const raw = d.fields[f]?.get(term);
          if (raw && weight[f] > 0) tf += (weight[f] * raw) / (1 - B + (B * len[f]) / avgLen[f]);
        }
        if (tf > 0) (this.postings.get(term) ?? this.postings.set(term, []).get(term)!).push({ at, tf });
      }
    });
  }

  /**
   * Documents with a positive score, best first, each with its coverage: the share of the
   * query's weighted IDF mass that it matches (how much of the question it speaks to).
   */
  search(query: Query): Array<{ doc: D; score: number; coverage: number }> {
    let mass = 0;
    for (const [term, qw] of query) mass += qw * (this.idf.get(term) ?? 0);
    const score = new Map<number, { score: number; matched: number }>();
    // Terms in query order, so each document's sum is added up in the same order as term by term.
    for (const [term, qw] of query) {
      const idf = this.idf.get(term);
      if (idf === undefined) continue;
      for (const { at, tf } of this.postings.get(term) ?? []) {
        const s = score.get(at) ?? score.set(at, { score: 0, matched: 0 }).get(at)!;
        s.score += qw * idf * (tf / (K1 + tf));
        s.matched += qw * idf;
      }
    }
    const out: Array<{ at: number; doc: D; score: number; coverage: number }> = [];
    for (const [at, s] of score) if (s.score > 0) out.push({ at, doc: this.docs[at]!, score: s.score, coverage: mass > 0 ? s.matched / mass : 0 });
    // Ties keep document order, as a scan of the documents would.
    return out.sort((a, b) => b.score - a.score || a.at - b.at).map(({ doc, score: sc, coverage }) => ({ doc, score: sc, coverage }));
  }
}

/** A text's lexemes in order, with their positions (a dropped stop word leaves a gap). */
export type Tokens = Array<[position: number, lexeme: string]>;

export function termCounts(tokens: Tokens): Map<string, number> {
  const out = new Map<string, number>();
  for (const [, lexeme] of tokens) out.set(lexeme, (out.get(lexeme) ?? 0) + 1);
  return out;
}

/**
 * Whether a term's lexemes occur in the text in the same order, each at most as far after the
 * previous one as in the term (at least 2 positions: one dropped stop word). Stems make
 * "employment agreements" find "employment agreement"; order and distance keep "test plan" from
 * matching "is the plan tested".
 */
export function containsPhrase(text: Tokens, term: Tokens): boolean {
  if (term.length === 0) return false;
  const starts = text.filter(([, l]) => l === term[0]![1]);
  return starts.some(([start]) => {
    let at = start;
    for (let k = 1; k < term.length; k++) {
      const gap = Math.max(2, term[k]![0] - term[k - 1]![0]);
      const next = text.find(([p, l]) => l === term[k]![1] && p > at && p - at <= gap);
      if (!next) return false;
      at = next[0];
    }
    return true;
  });
}

/** Splits a stored weighted vector's lexemes into fields: A title, B keywords, C/D body. */
export function fieldsFromWeights(rows: Array<{ lexeme: string; weights: string[] }>): Partial<Record<Field, Map<string, number>>> {
  const fields: Partial<Record<Field, Map<string, number>>> = {};
  for (const r of rows) {
    for (const w of r.weights) {
      const f: Field = w === 'A' ? 'title' : w === 'B' ? 'keywords' : 'body';
      const m = (fields[f] ??= new Map());
      m.set(r.lexeme, (m.get(r.lexeme) ?? 0) + 1);
    }
  }
  return fields;
}

export interface Expansion {
  group: Thesaurus['groups'][number];
  /** One-word terms with their inflections, and terms stemming loses ("24/7", "ci/cd"). */
  match: RegExp;
  /** Each term of two or more words as its lexemes in order. */
  stems: Tokens[];
  /** Every stem of every term: the synonyms a matching question is expanded with. */
  lexemes: Set<string>;
  /** Each term alone: its normalized words, its pattern (global: occurrences are counted) and, of two or more words, its stems. */
  terms: Array<{ words: string; match: RegExp; stems?: Tokens }>;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A term as a pattern: several words as written; one word with its English inflections, built
 * from its base form ("monitoring" also finds "monitored", "utilities" finds "utility" but not
 * "utilizing", which a stemmer would conflate).
 */
export function termPattern(term: string): string {
  const word = normalize(term);
  if (!/^[a-z0-9]+$/.test(word) || word.length < 4) return escape(word).replace(/ /g, '[^a-z0-9]+');
  let base = word;
  if (word.endsWith('ies')) base = `${word.slice(0, -3)}y`;
  else if (/(sh|ch|x|z)es$/.test(word)) base = word.slice(0, -2);
  else if (/[^su]s$/.test(word)) base = word.slice(0, -1);
  else if (word.endsWith('ing') && word.length > 5) base = word.slice(0, -3);
  else if (word.endsWith('ed') && word.length > 4) base = word.slice(0, -2);
  const bases = new Set([base]);
  if (/([b-df-hj-np-tv-z])\1$/.test(base)) bases.add(base.slice(0, -1)); // logging -> log
  if (base.endsWith('y')) bases.add(`${base.slice(0, -1)}i`); // policy -> polici(es)
  if (base.endsWith('e')) bases.add(base.slice(0, -1)); // encode -> encod(ing)
  return `(?:${[...bases].map(escape).join('|')})(?:s|es|ed|d|ing|ies)?`;
}

/** Lower case, letters and digits of any script, single spaces. */
export function normalize(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Weight of a synonym added by the thesaurus, relative to the question's own words. */
const SYNONYM_WEIGHT = 0.5;
/** How many synonyms of one matched group count at full weight; more share that weight. */
const SYNONYM_BUDGET = 4;

export interface ExpandedQuery {
  query: Query;
  hinted: string[];
}

/** The question's lexemes plus the synonyms of the thesaurus groups it mentions. */
export function expand(text: string, tokens: Tokens, groups: Expansion[]): ExpandedQuery {
  const own = termCounts(tokens);
  const query: Query = new Map();
  for (const t of own.keys()) query.set(t, 1);
  // A control named by several matched groups, or first in a group, is the stronger hint.
  const votes = new Map<string, number>();
  const lower = ` ${normalize(text)} `;
  // A phrase can only match where its first lexeme occurs: only those are tried.
  const present = new Set(tokens.map(([, l]) => l));
  const phrase = (st: Tokens) => present.has(st[0]![1]) && containsPhrase(tokens, st);
  // A term matches by its stems in order ("employment agreements" finds "employment
  // agreement"), or by its pattern (one word with its inflections; "24/7" as written).
  const matched = groups.filter((g) => g.stems.some(phrase) || g.match.test(lower));
  // Each matched term with how often it occurs (by its pattern; once when only its stems match).
  const said = matched.map((g) =>
    g.terms.flatMap((t) => {
      const times = lower.match(t.match)?.length ?? 0;
      return times > 0 || (t.stems !== undefined && phrase(t.stems)) ? [{ words: ` ${t.words} `, times: Math.max(1, times) }] : [];
    }),
  );
  for (const [at, g] of matched.entries()) {
    // The longest term wins: a group whose every matched term occurs only inside a longer term
    // that another group matched ("SOC" of "SOC 2", "monitoring" of "dark web monitoring") is not
    // what the question names.
    const longer = said.flatMap((ts, j) => (j === at ? [] : ts));
    const inside = (t: { words: string; times: number }) =>
      longer.some((l) => l.words.length > t.words.length && l.words.includes(t.words) && l.times >= t.times);
    if (said[at]!.length > 0 && said[at]!.every(inside)) continue;
    // A group adds at most SYNONYM_BUDGET synonyms' worth of weight, shared among its new words: a
    // large group ("physical access": badge, card, guard, visitor, escort, ...) would otherwise
    // outweigh the question's own words and rank the control with the most synonyms first.
    const added = [...g.lexemes].filter((t) => !query.has(t));
    const weight = SYNONYM_WEIGHT * Math.min(1, SYNONYM_BUDGET / Math.max(1, added.length));
    for (const t of added) query.set(t, weight);
    g.group.controls.forEach((c, i) => votes.set(c, (votes.get(c) ?? 0) + 1 / (i + 1)));
  }
  const hinted = [...votes.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  return { query, hinted };
}

/** Cosine similarity of two vectors of the same length (embeddings are ranked in process). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Weighted reciprocal rank fusion: each ranking adds weight/(k + rank); small k favours the first
 * places. A ranking with scores (the lexical one) adds that times each item's share of its first
 * score, so a clear lead stays a lead: a control the question's words match three times better
 * than the next is not overtaken by one that is second there and first among the thesaurus hints.
 * `rrf` is the plain rank fusion, without the scores (what the confidence's margin was fitted on).
 */
export function fuse<T>(
  rankings: Array<{ items: T[]; weight: number; scores?: number[] }>,
  k = 10,
): Array<{ item: T; score: number; rrf: number; topIn: number }> {
  const scores = new Map<T, { score: number; rrf: number; topIn: number }>();
  for (const { items, weight, scores: raw } of rankings) {
    const top = raw?.[0] ?? 0;
    items.forEach((item, i) => {
      const s = scores.get(item) ?? { score: 0, rrf: 0, topIn: 0 };
      const rrf = weight / (k + i + 1);
      s.rrf += rrf;
      s.score += raw && top > 0 ? rrf * Math.min(1, (raw[i] ?? 0) / top) : rrf;
      if (i < 3) s.topIn++;
      scores.set(item, s);
    });
  }
  return [...scores.entries()].map(([item, s]) => ({ item, ...s })).sort((a, b) => b.score - a.score);
}
