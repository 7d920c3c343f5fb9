import fs from 'node:fs';
import path from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { catalogControls } from '../catalog/tables.js';
import { ANSWERABLE } from '../catalog/service.js';
import { controlAnswers, type ControlStatus } from '../controls/tables.js';
import { evidenceByControl } from '../evidence/service.js';
import type { AnswerSource, AnswerStatus, Choice } from './tables.js';

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

/**
 * The question's words plus the thesaurus groups it touches, as a web-search query ("a or b or
 * "two words"") for websearch_to_tsquery, and the controls those groups point to.
 */
export function expandQuestion(text: string, thesaurus: Thesaurus): { query: string; hinted: string[] } {
  const lower = ` ${text.toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  const words = new Set(lower.split(' ').filter((w) => w.length > 1));
  const phrases = new Set<string>();
  const hinted: string[] = [];
  for (const g of thesaurus.groups) {
    const hit = g.terms.some((term) => lower.includes(` ${term.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()} `));
    if (!hit) continue;
    for (const term of g.terms) {
      const clean = term.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
      if (clean.includes(' ')) phrases.add(`"${clean}"`);
      else if (clean) words.add(clean);
    }
    for (const c of g.controls) if (!hinted.includes(c)) hinted.push(c);
  }
  return { query: [...words, ...phrases].join(' or '), hinted };
}

interface Candidate {
  frameworkId: string;
  ref: string;
  title: string;
  catalogRank: number;
  answerRank: number;
  answer?: { applicable: boolean; status: ControlStatus; implementation: string; publicSummary: string | null; visibility: string };
}

/**
 * Drafts answers offline: retrieve the organization's control answers and the catalog with
 * Postgres full-text search (question words plus thesaurus), fuse the rankings (reciprocal rank
 * fusion with the thesaurus's control hints), derive the choice from the best control's status,
 * compose the text from its implementation statement, and score the confidence from the evidence
 * of retrieval: the margin over the runner-up, agreement between rankings, and a recorded answer.
 * `publicOnly` restricts everything to public control summaries (the prospect self-serve path).
 */
export async function draftAnswers(
  db: Executor, orgId: string, qs: QuestionInput[], thesaurus: Thesaurus, now: Date, opts: { publicOnly?: boolean } = {},
): Promise<Map<string, DraftAnswer>> {
  const frameworks = ANSWERABLE.map((a) => a.frameworkId);
  const kinds = ANSWERABLE.flatMap((a) => a.kinds);
  const evidence = opts.publicOnly ? new Map() : await evidenceByControl(db, orgId, now);
  const out = new Map<string, DraftAnswer>();
  for (const q of qs) {
    const { query, hinted } = expandQuestion(q.text, thesaurus);
    const answerText = opts.publicOnly
      ? sql`case when ${controlAnswers.visibility} = 'public' then coalesce(${controlAnswers.publicSummary}, '') else '' end`
      : sql`coalesce(${controlAnswers.implementation}, '') || ' ' || coalesce(${controlAnswers.providerStatement}, '') || ' ' || coalesce(${controlAnswers.customerStatement}, '')`;
    const rows = query === '' ? [] : await db
      .select({
        frameworkId: catalogControls.frameworkId,
        ref: catalogControls.ref,
        title: catalogControls.title,
        catalogRank: sql<number>`ts_rank_cd(${catalogControls.search}, websearch_to_tsquery('english', ${query}))`,
        answerRank: sql<number>`ts_rank_cd(to_tsvector('english', ${answerText}), websearch_to_tsquery('english', ${query}))`,
        applicable: controlAnswers.applicable,
        status: controlAnswers.status,
        implementation: controlAnswers.implementation,
        publicSummary: controlAnswers.publicSummary,
        visibility: controlAnswers.visibility,
      })
      .from(catalogControls)
      .leftJoin(controlAnswers, and(eq(controlAnswers.orgId, orgId), eq(controlAnswers.frameworkId, catalogControls.frameworkId), eq(controlAnswers.ref, catalogControls.ref)))
      .where(and(inArray(catalogControls.frameworkId, frameworks), inArray(catalogControls.kind, kinds)));
    const candidates: Candidate[] = rows.map((r) => ({
      frameworkId: r.frameworkId, ref: r.ref, title: r.title, catalogRank: Number(r.catalogRank), answerRank: Number(r.answerRank),
      ...(r.status !== null && (!opts.publicOnly || r.visibility === 'public')
        ? { answer: { applicable: r.applicable!, status: r.status, implementation: r.implementation!, publicSummary: r.publicSummary, visibility: r.visibility! } }
        : {}),
    }));
    out.set(q.id, compose(q, candidates, hinted, evidence, opts.publicOnly ?? false));
  }
  return out;
}

function compose(
  q: QuestionInput, candidates: Candidate[], hinted: string[], evidence: Map<string, { current: number; items: { id: string; status: string }[] }>, publicOnly: boolean,
): DraftAnswer {
  const rankings = [
    [...candidates].filter((c) => c.catalogRank > 0).sort((a, b) => b.catalogRank - a.catalogRank),
    [...candidates].filter((c) => c.answerRank > 0).sort((a, b) => b.answerRank - a.answerRank),
    hinted.map((ref) => candidates.find((c) => c.ref === ref)).filter((c): c is Candidate => c !== undefined),
  ];
  const fused = new Map<Candidate, number>();
  const topIn = new Map<Candidate, number>();
  for (const list of rankings) {
    list.forEach((c, i) => {
      fused.set(c, (fused.get(c) ?? 0) + 1 / (RRF_K + i + 1));
      if (i < 3) topIn.set(c, (topIn.get(c) ?? 0) + 1);
    });
  }
  const ranked = [...fused.entries()].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  if (!first) {
    return { choice: null, text: null, confidence: 0, status: 'needs_review', sources: [] };
  }
  const best = first[0];
  const margin = second ? (first[1] - second[1]) / first[1] : 1;
  const agreement = (topIn.get(best) ?? 0) >= 2 ? 1 : 0;
  const answered = best.answer ? 1 : 0;
  const confidence = Math.round(Math.min(0.95, 0.2 + 0.25 * margin + 0.3 * agreement + 0.25 * answered) * 100) / 100;
  const yesNo = isYesNo(q);
  const choice = yesNo ? choiceFor(best.answer) : null;
  const statement = best.answer ? (publicOnly ? best.answer.publicSummary : best.answer.implementation) : null;
  const sources: AnswerSource[] = ranked.slice(0, 3).map(([c, score]) => ({ kind: 'control', framework: c.frameworkId, ref: c.ref, score: Math.round(score * 1000) / 1000 }));
  if (!publicOnly) {
    for (const item of evidence.get(`${best.frameworkId}:${best.ref}`)?.items ?? []) {
      if (item.status !== 'expired') sources.push({ kind: 'evidence', id: item.id });
    }
  }
  return {
    choice,
    text: statement ?? null,
    confidence,
    status: confidence >= REVIEW_THRESHOLD && (!yesNo || choice !== null) && statement ? 'draft' : 'needs_review',
    sources,
  };
}
