import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { loadCorpus, retrieve, type Thesaurus } from './answering.js';

/**
 * The library import's control suggestions: for each question, the controls the fill's retrieval
 * ranks best (lexical, thesaurus hints, section words; no LLM), best first. Handed to the library
 * by the app, since the library may not import this module.
 */
export function controlSuggester(deps: { db: Executor; clock: Clock; thesaurus: Thesaurus }, depth = 3) {
  return async (orgId: string, questions: Array<{ text: string; section?: string | null }>) => {
    if (questions.length === 0) return [];
    const corpus = await loadCorpus({ db: deps.db, orgId }, deps.clock());
    const ranked = await retrieve(
      deps.db,
      corpus,
      questions.map((q, i) => ({ id: String(i), text: q.text, section: q.section ?? null })),
      deps.thesaurus,
    );
    return ranked.map((r) => r.ranked.slice(0, depth).map(({ item }) => ({ framework: item.frameworkId, ref: item.ref })));
  };
}
