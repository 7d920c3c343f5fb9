// Retrieval's database side: Postgres stems the words (to_tsvector, the same configuration the
// stored vectors used), a batch in one query; the ranking in retrieval.ts is pure and runs in a worker.
import { sql } from 'drizzle-orm';
import { rowsOf, type Executor } from '../../db/client.js';
import { normalize, termPattern, type Expansion, type Thesaurus, type Tokens } from './retrieval.js';

/** The lexemes of each text in order, all texts in one query. */
export async function tokensOf(db: Executor, texts: string[]): Promise<Tokens[]> {
  const out = texts.map((): Tokens => []);
  if (texts.length === 0) return out;
  const rows = await rowsOf<{ idx: string | number; lexeme: string; positions: number[] | null }>(
    db,
    sql`
    select t.idx, l.lexeme, l.positions::int[] as positions
    from unnest(${sql.param(texts)}::text[]) with ordinality as t(txt, idx),
         unnest(to_tsvector('english', t.txt)) as l`,
  );
  for (const r of rows) for (const p of r.positions ?? [0]) out[Number(r.idx) - 1]!.push([Number(p), r.lexeme]);
  for (const tokens of out) tokens.sort((a, b) => a[0] - b[0]);
  return out;
}

const expansions = new WeakMap<Thesaurus, Promise<Expansion[]>>();

/**
 * The thesaurus groups a question touches and the lexemes of all their terms: the question is
 * expanded with its synonyms (MFA finds "multi-factor"), and the groups' control hints are a
 * ranking of their own. Terms are stemmed once per process by the same configuration.
 */
export async function thesaurusTerms(db: Executor, thesaurus: Thesaurus) {
  let cached = expansions.get(thesaurus);
  if (!cached) {
    cached = (async () => {
      const termTokens = await tokensOf(
        db,
        thesaurus.groups.flatMap((g) => g.terms),
      );
      let k = 0;
      return thesaurus.groups.map((group): Expansion => {
        const tokens = group.terms.map(() => termTokens[k++]!);
        return {
          group,
          match: new RegExp(`(?:^|[^a-z0-9])(?:${group.terms.map(termPattern).join('|')})(?:$|[^a-z0-9])`),
          terms: group.terms.map((term, i) => ({
            words: normalize(term),
            match: new RegExp(`(?<![a-z0-9])(?:${termPattern(term)})(?![a-z0-9])`, 'g'),
            ...(tokens[i]!.length >= 2 ? { stems: tokens[i]! } : {}),
          })),
          // One-word terms go by their pattern instead: a stem alone conflates too much
          // ("utilities" and "utilizing" are both "util").
          stems: tokens.filter((st) => st.length >= 2),
          lexemes: new Set(tokens.flatMap((st) => st.map(([, lexeme]) => lexeme))),
        };
      });
    })();
    expansions.set(thesaurus, cached);
    cached.catch(() => expansions.delete(thesaurus));
  }
  return cached;
}
