import fs from 'node:fs';
import path from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { DraftRequest, Llm } from './llm.js';
import { catalogControls } from '../catalog/tables.js';
import { ANSWERABLE } from '../catalog/service.js';
import { controlAnswers, type ControlStatus } from '../controls/tables.js';
import { evidenceByControl } from '../evidence/service.js';
import type { AnswerSource, AnswerStatus, Choice } from './tables.js';
import { reusableEntries, type ReusableEntry } from '../library/service.js';
import { libraryEntries } from '../library/tables.js';
import { Bm25Index, cosine, expand, normalize, fieldsFromWeights, fuse, rowsOf, termCounts, thesaurusTerms, tokensOf, type TermDoc } from './retrieval.js';

export interface Thesaurus {
  version: number;
  groups: Array<{ id: string; terms: string[]; controls: string[] }>;
}

export function loadThesaurus(seedsDir: string): Thesaurus {
  return JSON.parse(fs.readFileSync(path.join(seedsDir, 'thesaurus.json'), 'utf8')) as Thesaurus;
}

/** Answers below this confidence go to the review queue. */
export const REVIEW_THRESHOLD = 0.6;
/** Reciprocal rank fusion constant: small, so the first places of each ranking weigh most. */
const RRF_K = 10;

export interface DraftAnswer {
  choice: Choice | null;
  text: string | null;
  confidence: number;
  status: AnswerStatus;
  sources: AnswerSource[];
}

export interface QuestionInput {
  id: string;
  text: string;
  /** The heading the question sits under in the buyer's file, if any. */
  section?: string | null;
  allowedAnswers?: string[] | null;
}

const YES_NO_START = /^\s*(do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|shall|must|may)\b/i;

/** A question expecting yes/no: its answer cell offers yes and no, or it is phrased as one. */
export function isYesNo(q: QuestionInput): boolean {
  const allowed = (q.allowedAnswers ?? []).map((a) => a.trim().toLowerCase());
  if (allowed.includes('yes') && allowed.includes('no')) return true;
  if (allowed.length > 0) return false;
  return YES_NO_START.test(q.text);
}

/** The choice follows the status of the control that answers, never optimism. */
export function choiceFor(answer: { applicable: boolean; status: ControlStatus } | undefined): Choice | null {
  if (!answer) return null;
  if (!answer.applicable) return 'n/a';
  switch (answer.status) {
    case 'implemented': return 'yes';
    case 'partially_implemented': return 'partial';
    case 'planned':
    case 'not_implemented': return 'no';
  }
}

/** A control as retrieval sees it: catalog text and, when answered, the organization's answer. */
export interface ControlDoc extends TermDoc {
  frameworkId: string;
  ref: string;
  title: string;
  summary: string | null;
  answer?: { applicable: boolean; status: ControlStatus; statement: string; version: number };
}

/** An approved library answer as retrieval sees it. */
export interface LibraryDoc extends TermDoc {
  entry: ReusableEntry;
  /** Its question's lexemes, to recognise the same question asked in other words. */
  lexemes: Set<string>;
  normalized: string;
}

export interface AnswerCorpus {
  controls: ControlDoc[];
  index: Bm25Index<ControlDoc>;
  byRef: Map<string, ControlDoc>;
  library: LibraryDoc[];
  libraryIndex: Bm25Index<LibraryDoc>;
  /** Current evidence per control (none on the prospect path): cited with the best control. */
  evidence: EvidenceIndex;
}

/**
 * Loads what answers may come from, in three queries: the answerable catalog controls with their
 * stored weighted vectors, and the organization's answers, stemmed by Postgres. `publicOnly` (the
 * prospect path) keeps only public summaries of public answers: no internal text is ever read.
 */
export async function loadCorpus(db: Executor, orgId: string, now: Date, opts: { publicOnly?: boolean } = {}): Promise<AnswerCorpus> {
  const frameworks = ANSWERABLE.map((a) => a.frameworkId);
  const kinds = ANSWERABLE.flatMap((a) => a.kinds);
  const answerText = opts.publicOnly
    ? sql`case when ${controlAnswers.visibility} = 'public' then coalesce(${controlAnswers.publicSummary}, '') else '' end`
    : sql`${controlAnswers.implementation} || ' ' || coalesce(${controlAnswers.providerStatement}, '') || ' ' || coalesce(${controlAnswers.customerStatement}, '')`;
  const [meta, catalogTerms, answerTerms] = await Promise.all([
    db.select({
      frameworkId: catalogControls.frameworkId, ref: catalogControls.ref, title: catalogControls.title, summary: catalogControls.summary,
      applicable: controlAnswers.applicable, status: controlAnswers.status, implementation: controlAnswers.implementation,
      publicSummary: controlAnswers.publicSummary, visibility: controlAnswers.visibility, version: controlAnswers.version,
    })
      .from(catalogControls)
      .leftJoin(controlAnswers, and(eq(controlAnswers.orgId, orgId), eq(controlAnswers.frameworkId, catalogControls.frameworkId), eq(controlAnswers.ref, catalogControls.ref)))
      .where(and(inArray(catalogControls.frameworkId, frameworks), inArray(catalogControls.kind, kinds)))
      .orderBy(catalogControls.frameworkId, catalogControls.position),
    rowsOf<{ framework_id: string; ref: string; lexeme: string; weights: string[] }>(db, sql`
      select ${catalogControls.frameworkId} as framework_id, ${catalogControls.ref} as ref, l.lexeme, l.weights::text[] as weights
      from ${catalogControls}, unnest(${catalogControls.search}) l
      where ${inArray(catalogControls.frameworkId, frameworks)} and ${inArray(catalogControls.kind, kinds)}`),
    rowsOf<{ framework_id: string; ref: string; lexeme: string; tf: number }>(db, sql`
      select ${controlAnswers.frameworkId} as framework_id, ${controlAnswers.ref} as ref, l.lexeme, coalesce(array_length(l.positions, 1), 1) as tf
      from ${controlAnswers}, unnest(to_tsvector('english', ${answerText})) l
      where ${controlAnswers.orgId} = ${orgId}`),
  ]);
  const catalogByKey = new Map<string, Array<{ lexeme: string; weights: string[] }>>();
  for (const r of catalogTerms) {
    const k = `${r.framework_id}:${r.ref}`;
    (catalogByKey.get(k) ?? catalogByKey.set(k, []).get(k)!).push(r);
  }
  const answerByKey = new Map<string, Map<string, number>>();
  for (const r of answerTerms) {
    const k = `${r.framework_id}:${r.ref}`;
    (answerByKey.get(k) ?? answerByKey.set(k, new Map()).get(k)!).set(r.lexeme, Number(r.tf));
  }
  const controls: ControlDoc[] = meta.map((m) => {
    const key = `${m.frameworkId}:${m.ref}`;
    const visible = m.status !== null && (!opts.publicOnly || m.visibility === 'public');
    const statement = visible ? (opts.publicOnly ? m.publicSummary : m.implementation) : null;
    return {
      key, frameworkId: m.frameworkId, ref: m.ref, title: m.title, summary: m.summary,
      fields: { ...fieldsFromWeights(catalogByKey.get(key) ?? []), ...(visible ? { answer: answerByKey.get(key) ?? new Map() } : {}) },
      ...(visible && statement ? { answer: { applicable: m.applicable!, status: m.status!, statement, version: m.version! } } : {}),
    };
  });
  const entries = await reusableEntries(db, orgId, opts);
  // The entries' stored weighted vectors: question A (title), answer C (body).
  const libraryTerms = entries.length === 0 ? [] : await rowsOf<{ id: string; lexeme: string; weights: string[] }>(db, sql`
    select ${libraryEntries.id} as id, l.lexeme, l.weights::text[] as weights
    from ${libraryEntries}, unnest(${libraryEntries.search}) l
    where ${libraryEntries.orgId} = ${orgId} and ${inArray(libraryEntries.id, entries.map((e) => e.id))}`);
  const termsById = new Map<string, Array<{ lexeme: string; weights: string[] }>>();
  for (const r of libraryTerms) (termsById.get(r.id) ?? termsById.set(r.id, []).get(r.id)!).push(r);
  const library: LibraryDoc[] = entries.map((entry) => {
    const fields = fieldsFromWeights(termsById.get(entry.id) ?? []);
    return { key: `library:${entry.id}`, entry, lexemes: new Set(fields.title?.keys() ?? []), normalized: normalize(entry.question), fields };
  });
  const evidence: EvidenceIndex = opts.publicOnly ? new Map() : await evidenceByControl(db, orgId, now);
  return { controls, index: new Bm25Index(controls), byRef: new Map(controls.map((c) => [c.ref, c])), library, libraryIndex: new Bm25Index(library), evidence };
}

export interface Retrieved {
  question: QuestionInput;
  ranked: Array<{ item: ControlDoc; score: number; topIn: number }>;
  /** How many rankings took part: agreement is measured over them. */
  rankings: number;
  /** Share of the question's weighted words that the best control matches. */
  coverage: number;
  /** The same question in the library (reused as is), or a close library answer (cited). */
  reuse?: { doc: LibraryDoc; exact: boolean };
  related?: LibraryDoc;
}

/** The topic of the previous question, carried from one batch to the next. */
export interface RetrievalContext { previous: ControlDoc[] }

/** Words the english configuration drops as stop words that still turn a question's meaning. */
const POLARITY = new Set(['not', 'no', 'never', 'without', 'nor', 'before', 'after', 'during', 'except', 'unless', 'only', 'cannot', 'don', 'doesn', 'isn', 'aren', 'won', 'shouldn', 'more', 'less', 'most', 'least', 'above', 'below', 'same', 'other']);
const polarityOf = (normalized: string) => normalized.split(' ').filter((w) => POLARITY.has(w)).sort().join(' ');

/** Same question: its words match a library question's this closely (Jaccard of lexeme sets). */
const NEAR_IDENTICAL = 0.8;
/** A library answer this well matched is cited, and its controls join the ranking. */
const RELATED_COVERAGE = 0.6;

/** The library entry asking the same question: identical once normalized, or nearly so in lexemes. */
export function findReusable(corpus: AnswerCorpus, text: string, lexemes: Map<string, number>): { doc: LibraryDoc; exact: boolean } | undefined {
  const normalized = normalize(text);
  if (normalized === '') return undefined;
  const exact = corpus.library.find((d) => d.normalized === normalized);
  if (exact) return { doc: exact, exact: true };
  const polarity = polarityOf(normalized);
  let best: { doc: LibraryDoc; score: number } | undefined;
  for (const d of corpus.library) {
    // The stemmer drops "not", "before", "after": a question with other such words asks something else.
    if (polarityOf(d.normalized) !== polarity) continue;
    let shared = 0;
    for (const t of lexemes.keys()) if (d.lexemes.has(t)) shared++;
    const union = lexemes.size + d.lexemes.size - shared;
    const score = union > 0 ? shared / union : 0;
    if (score >= NEAR_IDENTICAL && (!best || score > best.score)) best = { doc: d, score };
  }
  return best ? { doc: best.doc, exact: false } : undefined;
}

/** Weights of the fused rankings: the question's own words lead; hints and topic only nudge. */
const HINT_WEIGHT = 0.5;
const TOPIC_WEIGHT = 0.35;
/** How close (share of the top fused score) an answered control must be to lead over an unanswered one. */
const ANSWERED_LEAD = 0.5;
/** Weight of a section heading's words in the query, relative to the question's own. */
const SECTION_WEIGHT = 0.3;

/**
 * Ranks the corpus for each question: BM25F over catalog and answer text (question lexemes plus
 * thesaurus synonyms), the thesaurus's control hints, the previous question's best controls
 * (questionnaires run in topics, and a follow-up like "Is it tested annually?" names none), and
 * any extra ranking (embeddings), fused by weighted reciprocal rank fusion. One query stems the
 * whole batch.
 */
export async function retrieve(
  db: Executor, corpus: AnswerCorpus, qs: QuestionInput[], thesaurus: Thesaurus,
  opts: { context?: RetrievalContext; extra?: Map<string, ControlDoc[]> } = {},
): Promise<Retrieved[]> {
  const [tokens, groups] = await Promise.all([tokensOf(db, [...qs.map((q) => q.text), ...qs.map((q) => q.section ?? '')]), thesaurusTerms(db, thesaurus)]);
  const own = tokens.slice(0, qs.length).map(termCounts);
  const context = opts.context ?? { previous: [] };
  return qs.map((q, i) => {
    const { query, hinted } = expand(q.text, tokens[i]!, groups);
    // A section heading ("Data protection") says what a terse question is about, softly.
    for (const [, term] of tokens[qs.length + i]!) if (!query.has(term)) query.set(term, SECTION_WEIGHT);
    const hits = corpus.index.search(query).slice(0, 20);
    const lexical = hits.map((r) => r.doc);
    const hints = hinted.map((ref) => corpus.byRef.get(ref)).filter((c): c is ControlDoc => c !== undefined);
    const semantic = opts.extra?.get(q.id);
    const reuse = findReusable(corpus, q.text, own[i]!);
    const libraryHit = reuse ? undefined : corpus.libraryIndex.search(query)[0];
    const related = libraryHit && libraryHit.coverage >= RELATED_COVERAGE ? libraryHit.doc : undefined;
    const fromLibrary = related ? related.entry.controls.map((c) => corpus.byRef.get(c.ref)).filter((c): c is ControlDoc => c !== undefined) : [];
    const rankings = [
      { items: lexical, weight: 1 },
      { items: hints, weight: HINT_WEIGHT },
      // The topic only nudges a question that matched something itself: it never answers alone.
      { items: lexical.length + hints.length + (semantic?.length ?? 0) > 0 ? context.previous : [], weight: TOPIC_WEIGHT },
      { items: fromLibrary, weight: HINT_WEIGHT },
      ...(semantic ? [{ items: semantic, weight: 1 }] : []),
    ].filter((r) => r.items.length > 0);
    const ranked = fuse(rankings, RRF_K);
    context.previous = ranked.slice(0, 5).map((r) => r.item);
    const coverage = hits.find((h) => h.doc === ranked[0]?.item)?.coverage ?? 0;
    return { question: q, ranked, rankings: rankings.length, coverage, ...(reuse ? { reuse } : {}), ...(related ? { related } : {}) };
  });
}

export type EvidenceIndex = Map<string, { items: { id: string; status: string; version: number }[] }>;

/**
 * Drafts one answer from its retrieval: the choice from the best control's status, the text from
 * its statement, and a confidence from the evidence of retrieval: the fused margin over the
 * runner-up, how many rankings put the best control in their top 3, and how much of the question
 * it covers; an unanswered control leaves the answer empty and in review whatever the score.
 * Weights are set so that the review threshold sends the weakest answers to review;
 * `npm run bench:fill` reports accuracy by confidence decile.
 */
export function compose(r: Retrieved, evidence: EvidenceIndex): DraftAnswer {
  if (r.reuse) return reuseAnswer(r, r.reuse);
  // An answer needs a statement: a close runner-up the organization answered leads over a
  // control it has not answered (yet).
  const ranked = [...r.ranked];
  const answered = ranked.slice(0, 3).findIndex((x) => x.item.answer);
  if (answered > 0 && ranked[answered]!.score >= ANSWERED_LEAD * ranked[0]!.score) ranked.unshift(...ranked.splice(answered, 1));
  const [first, second] = ranked;
  if (!first) return { choice: null, text: null, confidence: 0, status: 'needs_review', sources: [] };
  const best = first.item;
  const margin = second ? Math.max(0, (first.score - second.score) / first.score) : 1;
  const agreement = r.rankings > 0 ? first.topIn / r.rankings : 0;
  // Margin and coverage saturate: past a clear lead or most of the question matched, more says little.
  const raw = 0.2 + 0.3 * Math.min(1, margin / 0.25) + 0.3 * agreement + 0.2 * Math.min(1, r.coverage / 0.4);
  const confidence = Math.round(Math.min(0.95, raw) * 100) / 100;
  const yesNo = isYesNo(r.question);
  const choice = yesNo ? choiceFor(best.answer) : null;
  const statement = best.answer?.statement ?? null;
  const sources: AnswerSource[] = ranked.slice(0, 3).map(({ item, score }) => ({
    kind: 'control', framework: item.frameworkId, ref: item.ref, ...(item.answer ? { version: item.answer.version } : {}), score: Math.round(score * 1000) / 1000,
  }));
  if (r.related) sources.push({ kind: 'library', id: r.related.entry.id, version: r.related.entry.version });
  for (const item of evidence.get(best.key)?.items ?? []) {
    if (item.status !== 'expired') sources.push({ kind: 'evidence', id: item.id, version: item.version });
  }
  return {
    choice, text: statement, confidence,
    status: confidence >= REVIEW_THRESHOLD && (!yesNo || choice !== null) && statement ? 'draft' : 'needs_review',
    sources,
  };
}

/** A library answer to the same question, reused as is: its choice, its text, its controls. */
function reuseAnswer(r: Retrieved, reuse: { doc: LibraryDoc; exact: boolean }): DraftAnswer {
  const { entry } = reuse.doc;
  const choice = isYesNo(r.question) ? entry.choice : null;
  return {
    choice, text: entry.text, confidence: reuse.exact ? 0.95 : 0.9, status: 'draft',
    sources: [{ kind: 'library', id: entry.id, version: entry.version }, ...entry.controls.map((c) => ({ kind: 'control' as const, framework: c.framework, ref: c.ref }))],
  };
}

/** Offline drafting of a batch: retrieval, then composition from the cited statements. */
export async function draftAnswers(
  db: Executor, corpus: AnswerCorpus, qs: QuestionInput[], thesaurus: Thesaurus, opts: { context?: RetrievalContext; extra?: Map<string, ControlDoc[]> } = {},
): Promise<Map<string, DraftAnswer>> {
  const retrieved = await retrieve(db, corpus, qs, thesaurus, opts);
  return new Map(retrieved.map((r) => [r.question.id, compose(r, corpus.evidence)]));
}

/** What a control says, for its embedding: the catalog's words and the organization's own. */
export function controlText(c: ControlDoc): string {
  return [`${c.ref} ${c.title}`, c.summary, c.answer?.statement].filter(Boolean).join('\n');
}

/** The semantic ranking: controls by cosine similarity of their vectors to the question's. */
export function semanticRanking(corpus: AnswerCorpus, vectors: Float32Array[], qs: QuestionInput[], questionVectors: Float32Array[], depth = 20): Map<string, ControlDoc[]> {
  return new Map(qs.map((q, i) => {
    const qv = questionVectors[i]!;
    const scored = corpus.controls.map((c, j) => ({ c, s: vectors[j]!.length === qv.length ? cosine(vectors[j]!, qv) : 0 }))
      .filter((x) => x.s > 0).sort((a, b) => b.s - a.s).slice(0, depth);
    return [q.id, scored.map((x) => x.c)];
  }));
}

/**
 * Rewrites drafted texts with the model, from the statements of each answer's cited controls
 * only. The choice and confidence stay those of retrieval; the sources are reordered so the
 * controls the prose cites come first. Library reuses are left as they are (reused as is).
 */
export async function refineWithLlm(llm: Llm, db: Db, orgId: string, corpus: AnswerCorpus, qs: QuestionInput[], drafts: Map<string, DraftAnswer>): Promise<void> {
  const requests: DraftRequest[] = [];
  for (const q of qs) {
    const d = drafts.get(q.id);
    if (!d || d.sources[0]?.kind === 'library') continue;
    const sources = d.sources.filter((s) => s.kind === 'control')
      .map((s) => ({ id: s.ref!, text: corpus.byRef.get(s.ref!)?.answer?.statement ?? '' }))
      .filter((s) => s.text !== '');
    if (sources.length === 0) continue;
    requests.push({ id: q.id, text: q.text, sources });
  }
  if (requests.length === 0) return;
  const drafted = await llm.draft(db, orgId, requests);
  for (const [id, out] of drafted) {
    const d = drafts.get(id)!;
    if (out.citations.length === 0) {
      // Prose that cites none of its sources is not traceable: keep it for a person to judge.
      drafts.set(id, { ...d, text: out.text, status: 'needs_review' });
      continue;
    }
    const cited = d.sources.filter((s) => s.kind === 'control' && out.citations.includes(s.ref!));
    const rest = d.sources.filter((s) => !cited.includes(s));
    // Prose that opens against the choice the controls give goes to a person.
    const contradicts = (d.choice === 'yes' && /^\s*no\b/i.test(out.text)) || (d.choice === 'no' && /^\s*yes\b/i.test(out.text));
    drafts.set(id, { ...d, text: out.text, sources: [...cited, ...rest], ...(contradicts ? { status: 'needs_review' as const } : {}) });
  }
}
