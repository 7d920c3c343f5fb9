// Answering's database side: the corpus an organization's answers come from (one load per fill),
// the batch's stemming, and the LLM rewording; the drafting itself is in drafting.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Executor } from '../../db/client.js';
import type { OrgScope } from '../../lib/context.js';
import type { DraftRequest, Llm } from './llm.js';
import { answerableControlTerms } from '../catalog/index.js';
import { answersForRetrieval } from '../controls/index.js';
import { evidenceByControl } from '../evidence/index.js';
import { reusableEntries } from '../library/index.js';
import { entrySearchTerms } from '../library/index.js';
import { loadPassages } from '../knowledge/index.js';
import { loadFacts } from '../profile/index.js';
import { fieldsFromWeights, normalize, type Thesaurus } from './retrieval.js';
import { thesaurusTerms, tokensOf } from './stemming.js';
import {
  compose,
  corpusFromData,
  draftPrepared,
  rank,
  type AnswerCorpus,
  type ControlDoc,
  type DraftAnswer,
  type EvidenceIndex,
  type LibraryDoc,
  type PassageDoc,
  type PreparedBatch,
  type QuestionInput,
  type RankOptions,
  type Retrieved,
} from './drafting.js';
import type { FactMap } from './decide.js';

export * from './drafting.js';

export function loadThesaurus(seedsDir: string): Thesaurus {
  return JSON.parse(fs.readFileSync(path.join(seedsDir, 'thesaurus.json'), 'utf8')) as Thesaurus;
}

/**
 * Loads what answers may come from, in two queries: the answerable catalog controls with their
 * stored weighted vectors (catalog), and the organization's answers, stemmed by Postgres (controls).
 * `publicOnly` (the prospect path) keeps only public summaries of public answers: no internal text
 * is ever read.
 */
export async function loadCorpus(scope: OrgScope, now: Date, opts: { publicOnly?: boolean } = {}): Promise<AnswerCorpus> {
  const { db } = scope;
  const [catalog, answers] = await Promise.all([answerableControlTerms(db), answersForRetrieval(scope, { publicOnly: opts.publicOnly ?? false })]);
  const answerByKey = new Map(answers.map((a) => [`${a.frameworkId}:${a.ref}`, a]));
  const controls: ControlDoc[] = catalog.map((c) => {
    const key = `${c.frameworkId}:${c.ref}`;
    const a = answerByKey.get(key);
    const visible = a !== undefined && (!opts.publicOnly || a.visibility === 'public');
    const statement = visible ? a.statement : null;
    return {
      key,
      frameworkId: c.frameworkId,
      ref: c.ref,
      title: c.title,
      summary: c.summary,
      fields: { ...fieldsFromWeights(c.terms), ...(visible ? { answer: new Map(a.terms) } : {}) },
      ...(visible && statement
        ? {
            answer: {
              applicable: a.applicable,
              status: a.status,
              statement,
              customerStatement: opts.publicOnly ? null : a.customerStatement,
              version: a.version,
            },
          }
        : {}),
    };
  });
  const entries = await reusableEntries(scope, opts);
  // The entries' stored weighted vectors: question A (title), answer C (body).
  const libraryTerms = await entrySearchTerms(
    scope,
    entries.map((e) => e.id),
  );
  const termsById = new Map<string, Array<{ lexeme: string; weights: string[] }>>();
  for (const r of libraryTerms) (termsById.get(r.id) ?? termsById.set(r.id, []).get(r.id)!).push(r);
  const library: LibraryDoc[] = entries.map((entry) => {
    const fields = fieldsFromWeights(termsById.get(entry.id) ?? []);
    return { key: `library:${entry.id}`, entry, lexemes: new Set(fields.title?.keys() ?? []), normalized: normalize(entry.question), fields };
  });
  const evidence: EvidenceIndex = opts.publicOnly ? new Map() : await evidenceByControl(scope, now);
  const facts = (await loadFacts(scope, { publicOnly: opts.publicOnly ?? false })) as FactMap;
  const passages: PassageDoc[] = (await loadPassages(scope, { publicOnly: opts.publicOnly ?? false })).map((p) => ({
    key: `${p.kind}:${p.sourceId}:${p.position}`,
    passage: p,
    fields: fieldsFromWeights(p.terms),
  }));
  return corpusFromData({ controls, passages, library, evidence, facts });
}

/**
 * Ranks the corpus for each question: BM25F over catalog and answer text (question lexemes plus
 * thesaurus synonyms), the thesaurus's control hints, the previous question's best controls
 * (questionnaires run in topics, and a follow-up like "Is it tested annually?" names none), and
 * any extra ranking (embeddings), fused by weighted reciprocal rank fusion. One query stems the
 * whole batch.
 */
export async function retrieve(db: Executor, corpus: AnswerCorpus, qs: QuestionInput[], thesaurus: Thesaurus, opts: RankOptions = {}): Promise<Retrieved[]> {
  return rank(corpus, qs, await prepareBatch(db, qs, thesaurus), opts);
}

export async function prepareBatch(db: Executor, qs: QuestionInput[], thesaurus: Thesaurus): Promise<PreparedBatch> {
  const [tokens, groups] = await Promise.all([tokensOf(db, [...qs.map((q) => q.text), ...qs.map((q) => q.section ?? '')]), thesaurusTerms(db, thesaurus)]);
  return { tokens, groups };
}

/** Offline drafting of a batch: retrieval, then composition from the cited statements. */
export async function draftAnswers(
  db: Executor,
  corpus: AnswerCorpus,
  qs: QuestionInput[],
  thesaurus: Thesaurus,
  opts: RankOptions = {},
): Promise<Map<string, DraftAnswer>> {
  return draftPrepared(corpus, qs, await prepareBatch(db, qs, thesaurus), opts);
}

/**
 * Rewrites drafted texts with the model, from the statements of each answer's cited controls
 * only. The choice and confidence stay those of retrieval; the sources are reordered so the
 * controls the prose cites come first. Library reuses are left as they are (reused as is).
 */
export async function refineWithLlm(llm: Llm, scope: OrgScope, corpus: AnswerCorpus, qs: QuestionInput[], drafts: Map<string, DraftAnswer>): Promise<void> {
  const requests: DraftRequest[] = [];
  for (const q of qs) {
    const d = drafts.get(q.id);
    // Only answers drawn from control statements are reworded; facts, gates, library reuses and abstentions stay as decided.
    if (!d || !d.basis?.path.startsWith('control_') || d.text === null) continue;
    const sources = d.sources
      .filter((s) => s.kind === 'control')
      .map((s) => ({ id: s.ref!, text: corpus.byRef.get(s.ref!)?.answer?.statement ?? '' }))
      .filter((s) => s.text !== '');
    if (sources.length === 0) continue;
    requests.push({ id: q.id, text: q.text, sources });
  }
  if (requests.length === 0) return;
  const drafted = await llm.draft(scope, requests);
  for (const [id, out] of drafted) {
    const d = drafts.get(id)!;
    if (out.citations.length === 0) {
      // Prose that cites none of its sources is not traceable: keep it for a person to judge.
      drafts.set(id, { ...d, text: out.text, status: 'needs_review', reason: 'the drafted prose cites none of its sources' });
      continue;
    }
    const cited = d.sources.filter((s) => s.kind === 'control' && out.citations.includes(s.ref!));
    const rest = d.sources.filter((s) => !cited.includes(s));
    // Prose that opens against the choice the controls give goes to a person.
    const lead = /^(Yes|No|Partially|Not applicable)\./.exec(d.text ?? '')?.[0];
    const contradicts = (lead === 'Yes.' && /^\s*no\b/i.test(out.text)) || (lead === 'No.' && /^\s*yes\b/i.test(out.text));
    // The text leads with the answer the sources gave, whatever the model wrote first.
    const text = lead && !/^\s*(yes|no|partially|not applicable)\b/i.test(out.text) ? `${lead} ${out.text}` : out.text;
    drafts.set(id, {
      ...d,
      text,
      sources: [...cited, ...rest],
      ...(contradicts ? { status: 'needs_review' as const, reason: 'the drafted prose contradicts the choice' } : {}),
    });
  }
}
