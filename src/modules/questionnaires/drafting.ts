// The drafting itself, free of I/O but for the seed files it reads once: ranking, understanding
// the question, composing an answer from the cited sources, and the corpus as plain data. The
// worker pool loads only this (draft-task.ts), not the module's services and their dependencies.
import fs from 'node:fs';
import path from 'node:path';
import type { ControlStatus } from '../controls/pure.js';
import type { AnswerBasis, AnswerSource, AnswerStatus, Choice } from './tables.js';
import { polarityOf, type ReusableEntry } from '../library/pure.js';
import type { PassageRow } from '../knowledge/pure.js';
import { Bm25Index, cosine, expand, normalize, fuse, termCounts, type Expansion, type TermDoc, type Thesaurus, type Tokens } from './retrieval.js';
import { NUM, frequencyPerYear, numberOf, understand, type PlaceTable, type Understanding } from './understand.js';
import {
  bearingSentences,
  optionsInText,
  statementCoverage,
  inList,
  listMeaning,
  matchNumberOption,
  matchOption,
  matchPlaceOption,
  sentences,
  settleByFact,
  words,
  type FactMap,
  type FactValue,
  type Geo,
  type ListMeaning,
} from './decide.js';
import { countriesOf, factSentence, formatList, groupOf, inGroup, normalizeCountry, partlyInGroup, profileCatalog, regionCountry } from '../profile/pure.js';
import { SEEDS_DIR } from '../../lib/seeds-dir.js';

export type { Thesaurus } from './retrieval.js';

/**
 * Confidence as a measured probability: per decision path, a step function from the path's raw
 * score to the share of right answers on the labelled set's fit split (`npm run calibrate`), and
 * the lowest confidence whose measured precision is at least 95%: only answers at or above it
 * are drafts, the rest wait for a person.
 */
export interface Calibration {
  draftThreshold: number;
  probability(path: string, raw: number): number;
}

interface CalibrationFile {
  draftThreshold: number;
  paths: Record<string, Array<[number, number]>>;
  fallback?: number;
}

export function calibrationFrom(file: CalibrationFile): Calibration {
  return {
    draftThreshold: file.draftThreshold,
    probability(path, raw) {
      const steps = file.paths[path];
      if (!steps || steps.length === 0) return Math.min(file.fallback ?? 0.5, raw);
      let p = steps[0]![1];
      for (const [x, y] of steps) if (raw >= x) p = y;
      return Math.round(p * 100) / 100;
    },
  };
}

let cachedCalibration: Calibration | undefined;
export function loadCalibration(seedsDir = SEEDS_DIR): Calibration {
  if (seedsDir === SEEDS_DIR && cachedCalibration) return cachedCalibration;
  const c = calibrationFrom(JSON.parse(fs.readFileSync(path.join(seedsDir, 'calibration.json'), 'utf8')) as CalibrationFile);
  if (seedsDir === SEEDS_DIR) cachedCalibration = c;
  return c;
}

/** Countries, groups and cloud regions, from the profile module's tables (seeds/cloud-regions.json). */
export const geo: Geo = {
  countries: (facts) => countriesOf(facts as Map<string, { value: unknown }>),
  normalize: normalizeCountry,
  isGroup: (name) => groupOf(name) !== undefined,
  inGroup,
  partlyIn: partlyInGroup,
  list: (cs) => formatList(cs, { countries: true }),
};

/** A fact stated as a sentence (the catalog's phrase), for answers that lead with it. */
const say = (f: FactValue) => factSentence(f as Parameters<typeof factSentence>[0]);

/**
 * The catalog fact a fact question names by one of its keywords ("solution provider name" ->
 * `company.legal_name`), the longest keyword winning: routes wordings understanding has no rule for.
 */
export function factByKeyword(text: string, shape?: string): string | undefined {
  const q = ` ${text.toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  let best: { key: string; len: number } | undefined;
  for (const f of profileCatalog().items) {
    // A fact question is not answered by a yes/no fact, and an address only by an address.
    if (f.type === 'boolean') continue;
    if ((shape === 'email' || shape === 'url') && f.format !== shape) continue;
    for (const k of f.keywords) {
      const w = ` ${k
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, ' ')
        .trim()} `;
      if (w.trim() && q.includes(w) && (!best || w.length > best.len)) best = { key: f.key, len: w.length };
    }
  }
  return best?.key;
}

/** Countries, groups and providers for question understanding: the same seed the profile reads. */
let cachedPlaces: PlaceTable | undefined;
function places(): PlaceTable {
  cachedPlaces ??= JSON.parse(fs.readFileSync(path.join(SEEDS_DIR, 'cloud-regions.json'), 'utf8')) as PlaceTable;
  return cachedPlaces;
}

/**
 * Acronyms of the thesaurus with their spelled-out forms from the same group ("mfa": "multi-factor
 * authentication"); the groups are topics, so no other term of a group counts as the acronym.
 */
let cachedSpelled: Map<string, string[]> | undefined;
function spelledOut(): Map<string, string[]> {
  if (cachedSpelled) return cachedSpelled;
  const t = JSON.parse(fs.readFileSync(path.join(SEEDS_DIR, 'thesaurus.json'), 'utf8')) as Thesaurus;
  const out = new Map<string, string[]>();
  for (const g of t.groups) {
    const terms = g.terms.map((x) => x.toLowerCase());
    for (const term of terms) {
      const short = initials(term);
      if (short !== term && terms.includes(short)) out.set(short, [...(out.get(short) ?? []), term]);
    }
  }
  cachedSpelled = out;
  return out;
}

/** Named mechanisms a yes/no can hinge on, besides acronyms: algorithms, protocols, products, schemes. */
const NAMED =
  /\b(bcrypt|scrypt|argon2\w*|pbkdf2|sha-?\d+|md5|aes(-?\d+)?|rsa|ecdsa|ed25519|yubikeys?|kerberos|ldap|oauth2?|saml|oidc|openid|dnssec|dmarc|dkim|hsts|crest|fido2?|webauthn|passkeys?|totp|bitlocker|filevault|terraform|kubernetes|hardware security modules?|intrusion (detection|prevention)( systems?)?|security information and event management|data loss prevention|web application firewalls?|privileged access management|session recording|immutable backups?|code signing|bug bount(y|ies)|red team\w*|tokeni[sz]ation)\b/gi;
/** Capitals that name places, roles, kinds of data or interfaces rather than a mechanism. */
const PLAIN_ACRONYMS = new Set([
  ...['us', 'usa', 'eu', 'eea', 'uk', 'q1', 'q2', 'q3', 'q4', 'ok', 'na', 'yn', 'faq'],
  // parties and roles: the cloud service provider and customer of ISO/IEC 27017, officers
  ...['csp', 'csc', 'msp', 'mssp', 'ceo', 'cto', 'cfo', 'cio', 'ciso', 'dpo', 'hr', 'it'],
  // documents, programmes and domains, which a statement describes without naming
  ...['sla', 'slas', 'nda', 'ndas', 'dpa', 'bcp', 'drp', 'bcdr', 'bc', 'dr', 'ir', 'sop', 'sdlc', 'isms', 'iam', 'grc', 'kpi', 'raci'],
  // kinds of data, interfaces and things in general
  ...['api', 'apis', 'ai', 'pii', 'phi', 'id', 'os', 'vm', 'vms'],
]);

/**
 * The mechanisms a question names that the statement never mentions, by name or thesaurus synonym:
 * "Do you hash passwords with bcrypt?" against a statement saying Argon2id. Its status cannot say
 * yes or no to those.
 */
export function unmentioned(asked: string, statement: string): string[] {
  const said = ` ${statement.toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  const has = (term: string) =>
    said.includes(
      ` ${term
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, ' ')
        .trim()} `,
    );
  const named = [
    ...[...asked.matchAll(/\b([A-Z][A-Z0-9]{1,6})s?\b/g)].map((m) => m[1]!).filter((a) => !PLAIN_ACRONYMS.has(a.toLowerCase())),
    ...[...asked.matchAll(NAMED)].map((m) => m[0]),
  ];
  // An acronym is also said by its spelled-out form ("MFA": "multi-factor authentication").
  const spelled = spelledOut();
  return [...new Set(named)].filter((n) => !has(n) && !has(n.replace(/s$/i, '')) && !(spelled.get(n.toLowerCase()) ?? []).some(has));
}

const initials = (term: string) =>
  term
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !['and', 'of', 'the', 'for', 'as', 'a', 'to', 'in'].includes(w))
    .map((w) => w[0])
    .join('');

/** Section headings that the buyer gates on a profile fact: a "HIPAA" section is off when we hold no PHI. */
const SECTION_GATES: Array<{ pattern: RegExp; key: string; because: string }> = [
  { pattern: /\b(hipaa|phi|protected health|health information)\b/i, key: 'data.processes_phi', because: 'we do not process protected health information.' },
  {
    pattern: /\b(pci|payment card|cardholder|credit card)\b/i,
    key: 'data.processes_cardholder_data',
    because: 'we do not store, process or transmit cardholder data.',
  },
  { pattern: /\bconsult(ing|ancy)\b/i, key: 'services.offers_consulting', because: 'we do not provide consulting services.' },
  { pattern: /\bon[- ]?prem(ise|ises)?\b/i, key: 'services.on_premises_option', because: 'we offer no on-premises deployment.' },
  { pattern: /\bbiometric/i, key: 'data.processes_biometric_data', because: 'we do not capture or process biometric data.' },
  {
    pattern: /(^|[\s>|(])(ai|a\.i\.)(\b|$)|artificial intelligence|machine learning|\bllm\b|large language model/i,
    key: 'ai.product_uses_ai',
    because: 'our product has no AI features.',
  },
];

/** The profile fact that switches a question's section off, when it is false. */
export function gateFor(q: QuestionInput, facts: FactMap): { fact: FactValue; because: string } | undefined {
  const heading = [q.sheet, q.section].filter(Boolean).join(' > ');
  if (!heading) return undefined;
  for (const g of SECTION_GATES) {
    if (!g.pattern.test(heading)) continue;
    const fact = facts.get(g.key);
    if (fact && fact.value === false) return { fact, because: g.because };
  }
  return undefined;
}

/** A question naming a cloud region code ("eu-west-1") asks about the regions we use, not the provider. */
export function settleRegion(text: string, facts: FactMap): { choice: 'yes' | 'no'; text: string; facts: FactValue[] } | { abstain: string } | undefined {
  const codes = (text.match(/\b[a-z]{2,}(?:-[a-z]+)+-?\d{1,2}\b/gi) ?? []).filter((c) => regionCountry(c) !== undefined);
  if (codes.length === 0 || !/\b(region|hosted|hosting|stored|store|located|run|runs|deployed|data)\b/i.test(text)) return undefined;
  const f = facts.get('hosting.regions');
  if (!f || !Array.isArray(f.value)) return { abstain: 'no fact `hosting.regions`' };
  const listed = (f.value as unknown[]).map((v) => String(v).toLowerCase());
  const has = codes.some((c) => listed.some((l) => l === c.toLowerCase() || l.split(/[\s:()]+/).includes(c.toLowerCase())));
  return { choice: has ? 'yes' : 'no', text: say(f), facts: [f] };
}

/** A `custom.*` fact whose recorded question is this question in other words. */
export function customFact(text: string, facts: FactMap): FactValue | undefined {
  const q = new Set(words(text));
  let best: { f: FactValue; score: number } | undefined;
  for (const f of facts.values()) {
    if (!f.key.startsWith('custom.') || !f.question) continue;
    const w = new Set(words(f.question));
    let shared = 0;
    for (const x of w) if (q.has(x)) shared++;
    const score = shared / Math.max(1, q.size + w.size - shared);
    if (score >= 0.6 && (!best || score > best.score)) best = { f, score };
  }
  return best?.f;
}
/** Reciprocal rank fusion constant: small, so the first places of each ranking weigh most. */
const RRF_K = 10;

export interface DraftAnswer {
  /** yes/no/partial/n/a, or the buyer's list value verbatim when the question has a list. */
  choice: string | null;
  text: string | null;
  confidence: number;
  status: AnswerStatus;
  sources: AnswerSource[];
  /** Why a person must look: the abstain rule's reason. */
  reason?: string | null;
  /** The decision path and its raw score, before calibration (what `npm run calibrate` fits). */
  basis?: AnswerBasis;
}

export interface QuestionInput {
  id: string;
  text: string;
  /** The heading the question sits under in the buyer's file, if any. */
  section?: string | null;
  /** The sheet of a workbook, which often names the topic ("HIPAA", "AI"). */
  sheet?: string | null;
  /** Offered options with their keys (VSAQ radio and check groups). */
  options?: Array<{ key: string; label: string }> | undefined;
  allowedAnswers?: string[] | null;
}

/** The choice follows the status of the control that answers, never optimism. */
export function choiceFor(answer: { applicable: boolean; status: ControlStatus } | undefined): Choice | null {
  if (!answer) return null;
  if (!answer.applicable) return 'n/a';
  switch (answer.status) {
    case 'implemented':
      return 'yes';
    case 'partially_implemented':
      return 'partial';
    case 'planned':
    case 'not_implemented':
      return 'no';
  }
}

/** A control as retrieval sees it: catalog text and, when answered, the organization's answer. */
export interface ControlDoc extends TermDoc {
  frameworkId: string;
  ref: string;
  title: string;
  summary: string | null;
  answer?: { applicable: boolean; status: ControlStatus; statement: string; customerStatement?: string | null; version: number };
}

/** An approved library answer as retrieval sees it. */
export interface LibraryDoc extends TermDoc {
  entry: ReusableEntry;
  /** Its question's lexemes, to recognise the same question asked in other words. */
  lexemes: Set<string>;
  normalized: string;
}

/** A passage of a policy document or evidence file, as retrieval sees it. */
export interface PassageDoc extends TermDoc {
  passage: PassageRow;
}

export interface AnswerCorpus {
  controls: ControlDoc[];
  index: Bm25Index<ControlDoc>;
  /** Passages of documents and evidence files marked for answers (public ones only on the prospect path). */
  passages: Bm25Index<PassageDoc>;
  byRef: Map<string, ControlDoc>;
  library: LibraryDoc[];
  /** Current evidence per control (none on the prospect path): cited with the best control. */
  evidence: EvidenceIndex;
  /** The organization's profile facts (public ones only on the prospect path). */
  facts: FactMap;
  geo: Geo;
  calibration: Calibration;
}

export interface Retrieved {
  question: QuestionInput;
  /** Best first by `score`; `rrf` is the plain rank fusion the confidence's margin is measured on. */
  ranked: Array<{ item: ControlDoc; score: number; rrf: number; topIn: number }>;
  /** How many rankings took part: agreement is measured over them. */
  rankings: number;
  /** Share of the question's weighted words that the best control matches. */
  coverage: number;
  /** The same question in the library, reused as is (and never anything else: a library answer does not lift other questions). */
  reuse?: { doc: LibraryDoc; exact: boolean };
  /** The best passages of documents and evidence files, by the same ranking as controls. */
  passages?: Array<{ doc: PassageDoc; score: number }>;
}

/** The topic of the previous question, carried from one batch to the next. */
export interface RetrievalContext {
  previous: ControlDoc[];
}

/** Same question: its words match a library question's this closely (Jaccard of lexeme sets). */
const NEAR_IDENTICAL = 0.8;

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

export interface RankOptions {
  context?: RetrievalContext;
  extra?: Map<string, ControlDoc[]>;
  extraPassages?: Map<string, PassageDoc[]>;
}

/** What a batch needs from the database before ranking: its words stemmed (one query) and the thesaurus. */
export interface PreparedBatch {
  tokens: Tokens[];
  groups: Expansion[];
}

/** The ranking itself: pure CPU work, run in a worker for a fill. */
export function rank(corpus: AnswerCorpus, qs: QuestionInput[], { tokens, groups }: PreparedBatch, opts: RankOptions = {}): Retrieved[] {
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
    const rankings = [
      { items: lexical, weight: 1, scores: hits.map((h) => h.score) },
      { items: hints, weight: HINT_WEIGHT },
      // The topic only nudges a question that matched something itself: it never answers alone.
      { items: lexical.length + hints.length + (semantic?.length ?? 0) > 0 ? context.previous : [], weight: TOPIC_WEIGHT },
      ...(semantic ? [{ items: semantic, weight: 1 }] : []),
    ].filter((r) => r.items.length > 0);
    const ranked = fuse(rankings, RRF_K);
    context.previous = ranked.slice(0, 5).map((r) => r.item);
    const coverage = hits.find((h) => h.doc === ranked[0]?.item)?.coverage ?? 0;
    // Passages: the same lexical ranking, fused with the embedding ranking when a model is configured.
    const lexicalPassages =
      corpus.passages.docs.length === 0
        ? []
        : corpus.passages
            .search(query)
            .slice(0, 20)
            .map((h) => h.doc);
    const semanticPassages = opts.extraPassages?.get(q.id);
    const passages = fuse(
      [{ items: lexicalPassages, weight: 1 }, ...(semanticPassages ? [{ items: semanticPassages, weight: 1 }] : [])].filter((x) => x.items.length > 0),
      RRF_K,
    )
      .slice(0, 3)
      .map(({ item, score }) => ({ doc: item, score }));
    return { question: q, ranked, rankings: rankings.length, coverage, ...(reuse ? { reuse } : {}), ...(passages.length > 0 ? { passages } : {}) };
  });
}

export type EvidenceIndex = Map<string, { items: { id: string; status: string; version: number }[] }>;

/**
 * Drafts one answer (ANSWERING.md's decide and compose stages): the question's kind picks the
 * source that may settle it (a gate or a fact before any control; a risk question never takes
 * "yes" from a control's status), the choice is written in the buyer's own list or not at all,
 * and where the sources do not settle the question the answer abstains with a reason a reviewer
 * can read. The confidence is the calibrated probability of the path taken (seeds/calibration.json).
 */
export function compose(
  r: Retrieved,
  corpus: Pick<AnswerCorpus, 'evidence' | 'facts' | 'geo' | 'calibration'>,
  u: Understanding = understand(r.question, { places: places() }),
): DraftAnswer {
  const list = listMeaning(r.question.allowedAnswers, r.question.options);
  // A list that offers yes and no in its own words ("Yes, we ...", VSAQ's `_yes` keys) asks a yes/no question.
  if (list?.yes && list.no && !u.yesNo)
    u = { ...u, yesNo: true, kind: u.kind === 'option' || u.kind === 'free_text' ? (u.polarity === 'risk' ? 'risk' : 'practice') : u.kind };
  const facts = corpus.facts;
  const cal = corpus.calibration;
  // Where the answer would come from if it came from controls: an abstention still shows a reviewer where to look.
  const candidates: AnswerSource[] = r.ranked.slice(0, 3).map(({ item, score }) => ({
    kind: 'control',
    framework: item.frameworkId,
    ref: item.ref,
    ...(item.answer ? { version: item.answer.version } : {}),
    score: Math.round(score * 1000) / 1000,
  }));
  const abstain = (reason: string, extra: Partial<DraftAnswer> = {}): DraftAnswer => ({
    choice: null,
    text: null,
    confidence: 0,
    status: 'needs_review',
    sources: candidates,
    reason,
    basis: { path: 'abstain', raw: 0 },
    ...extra,
  });
  const settled = (path: string, raw: number, a: Omit<DraftAnswer, 'confidence' | 'status' | 'basis'>): DraftAnswer => {
    const confidence = cal.probability(path, raw);
    const ok = confidence >= cal.draftThreshold && (a.choice !== null || a.text !== null);
    return {
      ...a,
      confidence,
      status: ok ? 'draft' : 'needs_review',
      basis: { path, raw },
      ...(ok ? {} : { reason: a.reason ?? `confidence ${confidence} is below the draft threshold ${cal.draftThreshold}` }),
    };
  };
  const factSources = (fs: FactValue[]): AnswerSource[] => fs.map((f) => ({ kind: 'fact', key: f.key, version: f.version }));
  // Where a policy document or evidence file says what is asked and the sources above do not:
  // its sentences, cited with page or heading, for a person to confirm (never a choice by itself).
  const fromDocument = (reason: string, minCoverage = DOCUMENT_MIN_COVERAGE, extra: AnswerSource[] = []): DraftAnswer | undefined => {
    const asked = u.leadClauseStripped || r.question.text;
    const content = asked.replace(VALUE_ASKED, ' ');
    // A question asking for an amount ("how long", "how often") is answered by a passage that states one.
    const wantsValue = AMOUNT_ASKED.test(asked);
    const best = (r.passages ?? [])
      .map((p) => ({
        p,
        said: statementCoverage(content, `${p.doc.passage.heading ?? ''} ${p.doc.passage.text}`),
        value: wantsValue && STATES_AMOUNT.test(p.doc.passage.text) ? 1 : 0,
      }))
      .filter((x) => x.said >= minCoverage)
      .sort((a, b) => b.said - a.said || b.value - a.value || b.p.score - a.p.score)[0];
    if (!best) return undefined;
    const { passage } = best.p.doc;
    const bearing = bearingSentences(asked, passage.text);
    if (!bearing.text) return undefined;
    const where = passage.page !== null ? `page ${passage.page}` : passage.heading ? `"${passage.heading}"` : 'its text';
    return abstain(`${reason}; "${passage.title}" (${where}) speaks to it: confirm the quoted sentences answer the question`, {
      text: bearing.text,
      sources: [documentSource(passage), ...extra],
    });
  };

  // The buyer's own gating: a section about PHI, card data, consulting, ... when the profile says we do not.
  const gate = gateFor(r.question, facts);
  // Inside a gated section only the direct question ("Do you process PHI?") is answered from the fact itself.
  if (gate && (!u.facts.some((f) => f.key === gate.fact.key) || !DIRECT.test(u.leadClauseStripped || r.question.text))) {
    const choice = list ? (list.na ?? null) : u.yesNo ? 'n/a' : null;
    return settled('gate', 1, { choice, text: `Not applicable: ${gate.because}`, sources: factSources([gate.fact]) });
  }
  if (r.reuse) return reuseAnswer(r, r.reuse, u, list, cal);

  // Fact and scope questions: the profile settles them, or nobody does.
  if (u.facts.length > 0 && (u.kind === 'fact' || u.kind === 'scope' || u.kind === 'risk' || u.kind === 'option')) {
    const yesNo = settleRegion(r.question.text, facts) ?? settleByFact(u, facts, corpus.geo, say);
    if (yesNo && 'choice' in yesNo && u.yesNo) {
      const choice = inList(yesNo.choice, list);
      if (choice === undefined) return abstain(`the list has no value for "${yesNo.choice}"`, { text: yesNo.text, sources: factSources(yesNo.facts) });
      const lead = yesNo.choice === 'yes' ? 'Yes.' : 'No.';
      return settled('fact_settle', 1, { choice, text: `${lead} ${yesNo.text}`, sources: factSources(yesNo.facts) });
    }
    if (yesNo && 'abstain' in yesNo && u.yesNo) {
      // A missing fact about what we are (PHI, countries, on-premises) leaves the question to a
      // person; one about a practice (training cadence, encryption) may still be settled by a control.
      if (u.facts.some((f) => !PRACTICE_FACTS.test(f.key))) return abstain(yesNo.abstain);
      u = { ...u, kind: 'practice', facts: [] };
    }
    const stated = u.facts
      .filter((f) => f.test === 'state')
      .map((f) => facts.get(f.key))
      .find((f): f is FactValue => f !== undefined);
    if (stated) {
      if (list && u.kind === 'option') {
        const picks = pickOptions(list.values, stated, facts, corpus.geo);
        if (picks.length !== 1) return abstain(`no offered option matches fact \`${stated.key}\``, { text: say(stated), sources: factSources([stated]) });
        return settled('fact_option', 1, { choice: picks[0]!, text: say(stated), sources: factSources([stated]) });
      }
      if (!u.yesNo) return settled('fact_state', 1, { choice: null, text: say(stated), sources: factSources([stated]) });
    }
    if (u.kind === 'fact' || (u.kind === 'scope' && u.facts.length > 0)) {
      const why = `no fact ${u.facts.map((f) => `\`${f.key}\``).join(' or ')}`;
      return fromDocument(why) ?? abstain(why);
    }
  }
  if (u.kind === 'fact') {
    const custom = customFact(r.question.text, facts);
    if (custom) return settled('fact_state', 0.9, { choice: null, text: say(custom), sources: factSources([custom]) });
    const named = factByKeyword(r.question.text, u.answerShape);
    const byWord = named ? facts.get(named) : undefined;
    if (byWord) return settled('fact_state', 0.8, { choice: null, text: say(byWord), sources: factSources([byWord]) });
    if (named) return fromDocument(`no fact \`${named}\``) ?? abstain(`no fact \`${named}\``);
    // An e-mail or web address asked for without naming whose: the security contact, the website.
    const byShape =
      u.answerShape === 'email' ? facts.get('company.security_contact_email') : u.answerShape === 'url' ? facts.get('company.website') : undefined;
    if (byShape) return settled('fact_state', 0.7, { choice: null, text: say(byShape), sources: factSources([byShape]) });
    // A statement never goes into a name, e-mail, number or date cell.
    return fromDocument('a fact question that no profile fact answers') ?? abstain('a fact question that no profile fact answers');
  }
  if (u.kind === 'scope') return fromDocument('a scope question that no profile fact settles') ?? abstain('a scope question that no profile fact settles');

  // Practice, risk and free text: the best control answer.
  const ranked = [...r.ranked];
  const answered = ranked.slice(0, 3).findIndex((x) => x.item.answer);
  if (answered > 0 && ranked[answered]!.rrf >= ANSWERED_LEAD * ranked[0]!.rrf) ranked.unshift(...ranked.splice(answered, 1));
  const [first, second] = ranked;
  if (!first) return fromDocument('no control or library answer speaks to this question') ?? abstain('no control or library answer speaks to this question');
  const best = first.item;
  const sources: AnswerSource[] = ranked.slice(0, 3).map(({ item, score }) => ({
    kind: 'control',
    framework: item.frameworkId,
    ref: item.ref,
    ...(item.answer ? { version: item.answer.version } : {}),
    score: Math.round(score * 1000) / 1000,
  }));
  for (const item of corpus.evidence.get(best.key)?.items ?? []) {
    if (item.status !== 'expired') sources.push({ kind: 'evidence', id: item.id, version: item.version });
  }
  if (u.yesNo && (u.polarity === 'risk' || u.kind === 'risk')) {
    // "Yes" here admits a risk: a control's status says nothing about it (ANSWERING.md).
    return abstain('a risk question that no statement or fact settles', {
      text: best.answer ? bearingSentences(r.question.text, best.answer.statement).text || null : null,
      sources,
    });
  }
  if (!best.answer)
    return (
      fromDocument(`the closest control (${best.ref}) has no answer yet`, DOCUMENT_MIN_COVERAGE, sources) ??
      abstain(`the closest control (${best.ref}) has no answer yet`, { sources })
    );
  const statement = (u.customerSide && best.answer.customerStatement) || best.answer.statement;
  const bearing = bearingSentences(u.leadClauseStripped || r.question.text, statement);
  const margin = second ? Math.max(0, (first.rrf - Math.max(...ranked.slice(1).map((x) => x.rrf))) / first.rrf) : 1;
  const agreement = r.rankings > 0 ? first.topIn / r.rankings : 0;
  // Margin and coverage saturate: past a clear lead or most of the question matched, more says little.
  // How much of what the question names the organization's own statement says: a related control
  // that never mentions "bug bounty" does not answer a bug-bounty question, whatever its status.
  const said = statementCoverage(u.leadClauseStripped || r.question.text, statement);
  const raw =
    Math.round(
      (0.1 +
        0.15 * Math.min(1, margin / 0.25) +
        0.1 * agreement +
        0.15 * Math.min(1, r.coverage / 0.4) +
        0.1 * Math.min(1, bearing.overlap / 0.5) +
        0.4 * said) *
        100,
    ) / 100;
  if (bearing.overlap === 0 && r.coverage < 0.2) {
    return (
      fromDocument(`the closest control (${best.ref}) does not speak to what is asked`, DOCUMENT_MIN_COVERAGE, sources) ??
      abstain(`the closest control (${best.ref}) does not speak to what is asked`, { text: bearing.text || null, sources })
    );
  }

  if (u.kind === 'option' && list && !(list.yes && list.no)) {
    // An offered option the statement names in its own words ("every quarter" -> "Quarterly").
    let named = optionsInText(list.values, bearing.text);
    if (named.length === 0) named = optionsInText(list.values, statement);
    if (named.length !== 1)
      return abstain(
        named.length === 0 ? 'no offered option is supported by a fact or a statement' : `the statement names several offered options (${named.join(', ')})`,
        { text: bearing.text || null, sources },
      );
    const several = onePeriodOfSeveral(named[0]!, statement);
    if (several) return abstain(several, { text: bearing.text, sources });
    return settled('control_option', raw, { choice: named[0]!, text: bearing.text, sources });
  }
  if (!u.yesNo) {
    // A document that says more of what is asked than the control's statement answers an open question better.
    const better = fromDocument(
      `the control statement (${best.ref}) says less of what is asked than a document`,
      Math.max(DOCUMENT_MIN_COVERAGE, said + 0.2),
      sources,
    );
    if (better) return better;
    return settled('control_text', raw, { choice: null, text: bearing.text, sources });
  }
  if (u.parts.length > 1) return abstain(`a question in ${u.parts.length} parts: answer each part`, { text: bearing.text, sources });
  const generic = choiceFor(best.answer);
  if (generic === null) return abstain('the control has no status', { sources });
  const asked = u.leadClauseStripped || r.question.text;
  // Whether something happened ("Has an attacker ever ...") is an event, not a practice: no status answers it.
  if (EVENT.test(asked)) return abstain('a question about past events that no statement or fact settles', { text: bearing.text, sources });
  if (PERMISSION.test(asked))
    return abstain("a question about what people are able to do, which a control's status does not settle", { text: bearing.text, sources });
  // What data we handle is a fact about us; a privacy control's status does not say we hold children's data.
  if (HANDLES.test(asked) && !MANNER.test(asked))
    return abstain('a question about what data we handle that no profile fact settles', { text: bearing.text, sources });
  // A mechanism the question names and the statement never does ("bcrypt" against "Argon2id", "a CASB").
  const unsaid = generic === 'n/a' ? [] : unmentioned(asked, statement);
  if (unsaid.length > 0) return abstain(`the statement does not mention ${unsaid.join(', ')}: read it before answering`, { text: bearing.text, sources });
  // A "yes" resting on a sentence that says "not", "never", "forbids" is a contradiction a person must read.
  if (generic === 'yes' && NEGATIVE.test(bearing.text) && !NEGATIVE.test(asked))
    return abstain('the statement is worded in the negative: read it before answering', { text: bearing.text, sources });
  // The mirror: a "no" from a planned or missing control whose own words say the asked thing is
  // done now ("laptops already lock after five minutes") would contradict its statement.
  if (generic === 'no' && affirmsNow(asked, statement))
    return abstain(
      `${best.ref} is ${best.answer.status.replace('_', ' ')}, but its statement says part of what is asked is in place: read it before answering`,
      { text: bearing.text, sources },
    );
  // A control's status says the practice is in place, not that it runs as often or as fast as asked:
  // "every 90 days" against "rotated every year" is a person's call, as is a period the statement never states.
  if (generic === 'yes') {
    const clash = quantityClash(asked, statement);
    if (clash) return abstain(clash, { text: bearing.text, sources });
    // "A criminal check for all employees" against "staff with production access also receive one".
    const narrower = narrowerThanAsked(asked, statement);
    if (narrower) return abstain(narrower, { text: bearing.text, sources });
  }
  const choice = inList(generic, list, best.answer.status === 'planned');
  if (choice === undefined) {
    const why =
      generic === 'partial'
        ? `${best.ref} is partly implemented and the list has no Partial`
        : generic === 'n/a'
          ? `${best.ref} is excluded from the SoA and the list has no N/A`
          : `the list has no value for "${generic}"`;
    return abstain(why, { text: `${LEAD[generic]} ${bearing.text}`, sources });
  }
  // "Partially" resting on the sentence that says the asked thing is missing ("no intrusion alarm
  // yet") would call an absent part half there: the honest answer may be "no", so a person decides.
  if (generic === 'partial' && NEGATIVE.test(bearing.text) && !NEGATIVE.test(asked))
    return abstain(`${best.ref} is partly implemented and the sentence closest to the question says something is not in place: read it before answering`, {
      text: bearing.text,
      sources,
    });
  // "Partially" sums up the whole control; a question aimed at the part that is done ("is customer
  // data in the product labelled automatically?") may deserve a plain "yes": a person decides.
  if (generic === 'partial' && affirmsNow(asked, statement))
    return abstain(`${best.ref} is partly implemented, but the sentence closest to the question says it is in place: read it before answering`, {
      text: bearing.text,
      sources,
    });
  return settled(`control_${generic === 'n/a' ? 'na' : generic}`, raw, { choice, text: `${LEAD[generic]} ${bearing.text}`, sources });
}

/** The offered options a fact names: an interval holding a number, a place holding every country, or the value's own words. */
function pickOptions(options: string[], f: FactValue, facts: FactMap, g: Geo): string[] {
  if (typeof f.value === 'number') {
    const hit = matchNumberOption(options, f.value, f.unit);
    return hit ? [hit] : [];
  }
  if (f.key === 'data.storage_countries' || f.key === 'hosting.regions') {
    const hit = matchPlaceOption(options, g.countries(facts), g);
    if (hit) return [hit];
  }
  const values = Array.isArray(f.value) ? (f.value as unknown[]).map(String) : [String(f.value)];
  return [...new Set(values.map((v) => matchOption(options, v)).filter((v): v is string => v !== undefined))];
}

/** A question that asks whether we do the gated thing at all, not how we do it. */
const DIRECT =
  /^\s*(do|does|will|would|is|are|can)\s+(you|your\s+\w+|the\s+\w+|it)\s+(\w+\s+)?(process\w*|captur\w*|collect\w*|stor\w*|handl\w*|use|uses|offer\w*|provid\w*|transmit\w*|access\w*|have|leverag\w*|requir\w*)\b/i;
const EVENT = /\b(ever|in the (past|last) \w+ (years?|months?)|have there been|has there been|did you (suffer|experience|have))\b/i;
const HANDLES = /^\s*(do|does|will|would)\s+(you|your \w+|the \w+|it)\s+(process|collect|store|handle|hold|receive|capture|keep|obtain)\b/i;
const MANNER =
  /\b(encrypt\w*|hash\w*|secure\w*|anonymi[sz]\w*|pseudonymi[sz]\w*|mask\w*|separate\w*|segregat\w*|in accordance|according|backups?|logs?|retention|only|minimi[sz]\w*)\b/i;
const NEGATIVE = /\b(not|never|no|nobody|no one|nothing|neither|nor|cannot|can't|forbid\w*|prohibit\w*|disallow\w*|blocked|none)\b/i;
/** Words that put a sentence in the future or in the making: it does not say the thing is done. */
const NOT_YET =
  /\b(will|shall|plan(s|ned|ning)? to|planned|planning|intend\w*|schedul\w*|draft\w*|propos\w*|being|next|upcoming|future|by (q[1-4]|the end)|roadmap|pilot\w*|evaluat\w*|consider\w*|aim\w*|expect\w*|until)\b/i;

/** Words of a question that reach everyone or everything: "all employees", "every system". */
const UNIVERSAL =
  /\b(all|every|each|any)\s+(of (your|the|our)\s+)?(\w+\s+)?(employees?|staff|personnel|workers?|people|users?|contractors?|engineers?|developers?|hires?|systems?|servers?|hosts?|devices?|laptops?|endpoints?|applications?|services?|suppliers?|vendors?|data|databases?|environments?|accounts?|locations?|offices?|sites?)\b/i;
/** A sentence that limits what it says to some of them, or to some conditions. */
const RESTRICTED =
  /\b(only|some|most|certain|selected|where (local )?(law|permitted|allowed|possible|feasible)\w*|if (permitted|allowed|possible|required)|unless|except|excluding|apart from|subject to|on request|(staff|employees|people|engineers|users|systems|devices|hosts|servers|suppliers|vendors|roles|accounts) (with|who|that|in)\b)/i;

/** Why a "yes" would claim more than the statement: the question asks it of all, the closest sentence of some. */
export function narrowerThanAsked(asked: string, statement: string): string | undefined {
  const all = UNIVERSAL.exec(asked);
  if (!all) return undefined;
  const best = bearingSentences(asked, statement, 1);
  if (best.overlap < 0.3 || RESTRICTED.test(asked)) return undefined;
  if (RESTRICTED.test(best.text) || qualifiedNoun(all[5]!, best.text) || (PEOPLE.test(all[5]!) && ROLE.test(best.text) && !EVERYONE.test(best.text)))
    return 'the question asks it of all, and the statement limits it: read it before answering';
  return undefined;
}

/**
 * "Deleted within 30 days, and backups within a further 35 days": an offered period that is one of
 * several in the statement's sentence closest to it; which one the buyer means (or their sum) is a
 * person's call.
 */
export function onePeriodOfSeveral(option: string, statement: string): string | undefined {
  const own = periods(option).length;
  if (own === 0) return undefined;
  const where = closestWith(option, statement, (x) => periods(x).length > 0);
  return where && periods(where).length > own ? `the statement names more than one period where it names "${option}": read it before answering` : undefined;
}

/** "All employees" against a sentence about engineers: a role is some of the people asked about. */
const PEOPLE = /^(employees?|staff|personnel|workers?|people|users?)$/i;
const ROLE =
  /\b(engineers?|developers?|administrators?|admins?|managers?|executives?|contractors?|interns?|new (staff|hires|joiners|employees|starters)|the (platform|security|engineering|it|devops|people|finance) team)\b/i;
const EVERYONE = /\b(all|every|each|any)\s+(\w+\s+)?(employees?|staff|personnel|workers?|people|members?)\b|\beveryone\b|\ball of us\b/i;

/** Words before a noun that do not narrow it. */
const NEUTRAL = new Set(['all', 'every', 'each', 'any', 'our', 'the', 'its', 'their', 'your', 'these', 'those', 'of', 'and', 'or', 'both', 'other']);

/** "top-tier suppliers" for "all suppliers": the sentence names only a kind of what is asked of all. */
function qualifiedNoun(noun: string, sentence: string): boolean {
  const stem = noun.toLowerCase().replace(/(es|s)$/, '');
  const m = new RegExp(`\\b([a-z][a-z-]*)\\s+${stem}(e?s)?\\b`, 'gi');
  for (const hit of sentence.matchAll(m)) {
    const before = hit[1]!.toLowerCase();
    const start = hit.index ?? 0;
    // A noun that opens the sentence ("Suppliers are tiered ...") has nothing before it.
    if (start === 0 && /^[A-Z]/.test(hit[0])) continue;
    if (!NEUTRAL.has(before) && !/^(are|is|were|was|be|been|by|to|for|with|from|on|in|at|that|which|who|a|an)$/.test(before)) return true;
  }
  return false;
}

/** Whether a sentence of the statement that shares most of the question's words states it as done now. */
function affirmsNow(asked: string, statement: string): boolean {
  const best = bearingSentences(asked, statement, 1);
  if (best.overlap < 0.3) return false;
  return !NEGATIVE.test(best.text) && !NOT_YET.test(best.text);
}

// Cadences and periods ("every 90 days", "within 24 hours", "kept for 12 months") in questions and statements.
const DURATION = new RegExp(
  `(?<![A-Za-z0-9.])${NUM}\\s*(?:-\\s*)?(minutes?|mins?|hours?|hrs?|(?:business |calendar |working )?days?|weeks?|months?|years?)\\b`,
  'gi',
);
const MINUTES: Array<[RegExp, number]> = [
  [/^min/i, 1],
  [/^h/i, 60],
  [/days?$/i, 1440],
  [/^weeks?$/i, 10080],
  [/^months?$/i, 43200],
  [/^years?$/i, 525600],
];
interface Period {
  minutes: number;
  bound?: 'max' | 'min';
  every: boolean;
  /** The words between the previous period (or the start) and this one: what it is the period of. */
  about: string;
}
/** The periods a text names, in minutes, with whether "within/under" or "at least" bounds them. */
function periods(text: string): Period[] {
  const out: Period[] = [];
  let from = 0;
  for (const m of text.matchAll(DURATION)) {
    const n = numberOf(m[1]!);
    const per = MINUTES.find(([re]) => re.test(m[2]!))?.[1];
    if (n === undefined || per === undefined) continue;
    const before = text.slice(Math.max(0, m.index! - 30), m.index);
    // "once a year", "three times a week": a cadence, read by cadence().
    if (/\b(once|twice|times|per)\s*$/i.test(before) && /^an?$/i.test(m[1]!)) continue;
    const after = text.slice(m.index! + m[0].length, m.index! + m[0].length + 20);
    const bound =
      /\b(within|under|less than|fewer than|no more than|not more than|at most|up to|no later than|maximum of|max\.?)\s*$/i.test(before) ||
      /^\s*or (less|sooner|fewer)\b/i.test(after)
        ? 'max'
        : /\b(at least|minimum of|min\.?|no less than|more than|over|longer than)\s*$/i.test(before) || /^\s*or (more|longer)\b/i.test(after)
          ? 'min'
          : undefined;
    out.push({ minutes: n * per, ...(bound ? { bound } : {}), every: /\bevery\s*$/i.test(before), about: text.slice(from, m.index) });
    from = m.index! + m[0].length;
  }
  return out;
}
/** Times a year: "quarterly", "twice a year", "every 90 days". */
function cadence(text: string): number | undefined {
  const every = periods(text).find((p) => p.every);
  // "kept for a year" is a period, not a cadence.
  return every ? 525600 / every.minutes : frequencyPerYear(text.replace(/\bfor (a|an|one|\d+) (years?|months?|weeks?|days?)\b/gi, ' '));
}

/** The sentence of a statement that shares most words with the question among those the test accepts. */
function closestWith(asked: string, statement: string, has: (sentence: string) => boolean): string | undefined {
  let best: { text: string; overlap: number } | undefined;
  for (const x of sentences(statement)) {
    if (!has(x)) continue;
    const overlap = bearingSentences(asked, x, 1).overlap;
    if (overlap > 0 && (!best || overlap > best.overlap)) best = { text: x, overlap };
  }
  return best?.text;
}

/**
 * Why a "yes" from a control's status would claim more than its statement says: the question names
 * a cadence or a period, and the statement's sentence closest to it states another one, or none.
 */
export function quantityClash(asked: string, statement: string): string | undefined {
  const q = cadence(asked);
  // A cadence ("once a year") is not also a period to meet.
  const wanted = q === undefined ? periods(asked).filter((p) => !p.every) : [];
  if (q === undefined && wanted.length === 0) return undefined;
  if (q !== undefined) {
    const closest = closestWith(asked, statement, (x) => cadence(x) !== undefined);
    if (closest === undefined) return 'the question asks how often, and the statement does not say: read it before answering';
    // More often than asked still answers "at least as often"; less often does not.
    if (cadence(closest)! < q * 0.95) return 'the statement names a lower frequency than the question: read it before answering';
  }
  if (wanted.length > 0) {
    const closest = closestWith(asked, statement, (x) => periods(x).some((p) => !p.every));
    if (closest === undefined) return 'the question names a period the statement does not state: read it before answering';
    const said = periods(closest).filter((p) => !p.every);
    // Of several periods ("critical within 7 days and high within 30"), the ones whose words the question shares.
    const asks = new Set(words(asked).filter((w) => w.length > 3));
    const score = (p: Period) => words(p.about).filter((w) => asks.has(w)).length;
    const top = Math.max(...said.map(score));
    const relevant = said.filter((p) => score(p) === top);
    const w = wanted[0]!;
    const meets = (m: number) =>
      w.bound === 'max' ? m <= w.minutes * 1.05 : w.bound === 'min' ? m >= w.minutes * 0.95 : Math.abs(m - w.minutes) <= w.minutes * 0.1;
    if (!relevant.every((p) => meets(p.minutes))) return 'the statement names another period than the question: read it before answering';
  }
  return undefined;
}

/** "Can an engineer ...?": what people are able to do; "yes" there is usually an admission. */
const PERMISSION =
  /^\s*(can|could|may|is it (possible|allowed|permitted) (for|to))\s+(an?\s+|any\s+|the\s+|our\s+|your\s+)?(engineers?|developers?|employees?|staff|users?|administrators?|admins?|support( staff| agents?)?|contractors?|someone|anyone|anybody|people|personnel|operators?)\b/i;

/** Facts that restate a practice a control also describes: without the fact, the control may answer. */
const PRACTICE_FACTS =
  /^(people\.|pentest\.(frequency|vulnerability_disclosure_program)$|bcdr\.dr_test_frequency$|data\.(encrypted_at_rest|customer_managed_keys|min_tls_version|backup_retention_days)$|services\.supports_sso$)/;

const LEAD: Record<Choice, string> = { yes: 'Yes.', no: 'No.', partial: 'Partially.', 'n/a': 'Not applicable.' };

/**
 * Words that ask for a value ("how long", "minimum length", "how often"): the passage answers them
 * with the value, not with the same words, so they do not count against its coverage.
 */
const AMOUNT_ASKED = /\b(how (long|often|many|much|quickly|soon|frequently)|minimum|maximum|number of|frequency|duration)\b/i;
const STATES_AMOUNT =
  /\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|daily|weekly|monthly|quarterly|annually|yearly|hourly|every (day|week|month|quarter|year))\b/i;
const VALUE_ASKED =
  /\b(how (long|often|many|much|quickly|soon|frequently)|minimum|maximum|length|number of|frequency|period|duration|which|what|kind of|type of|do you keep|are kept|do you retain|are retained)\b/gi;

/** Share of the question's specific words a passage must contain before its sentences are offered. */
const DOCUMENT_MIN_COVERAGE = 0.5;

/** A passage as an answer's source: the document or evidence item, its version, and where in it. */
function documentSource(p: PassageRow): AnswerSource {
  return {
    kind: p.kind === 'document' ? 'document' : 'evidence',
    id: p.sourceId,
    version: p.version,
    title: p.title,
    ...(p.page !== null ? { page: p.page } : {}),
    ...(p.heading ? { heading: p.heading } : {}),
  };
}

/** A library answer to the same question, reused as is: its choice (in this list), its text, its sources. */
function reuseAnswer(r: Retrieved, reuse: { doc: LibraryDoc; exact: boolean }, u: Understanding, list: ListMeaning | undefined, cal: Calibration): DraftAnswer {
  const { entry } = reuse.doc;
  let choice: string | null = null;
  if (u.yesNo && entry.choice) {
    const saved = entry.choice;
    const generic = (['yes', 'no', 'partial', 'n/a'] as const).find((c) => c === saved.toLowerCase());
    choice = generic ? (inList(generic, list) ?? null) : list?.values.includes(saved) ? saved : null;
    if (choice === null) {
      return {
        choice: null,
        text: entry.text,
        confidence: 0,
        status: 'needs_review',
        reason: `the library answer "${entry.choice}" is not in this question's list`,
        basis: { path: 'abstain', raw: 0 },
        sources: [{ kind: 'library', id: entry.id, version: entry.version }],
      };
    }
  }
  const path = reuse.exact ? 'library_exact' : 'library_near';
  const confidence = cal.probability(path, 1);
  return {
    choice,
    text: entry.text,
    confidence,
    status: confidence >= cal.draftThreshold ? 'draft' : 'needs_review',
    basis: { path, raw: 1 },
    sources: [
      { kind: 'library', id: entry.id, version: entry.version },
      ...entry.controls.map((c) => ({ kind: 'control' as const, framework: c.framework, ref: c.ref })),
    ],
  };
}

export function draftPrepared(corpus: AnswerCorpus, qs: QuestionInput[], prepared: PreparedBatch, opts: RankOptions = {}): Map<string, DraftAnswer> {
  return new Map(rank(corpus, qs, prepared, opts).map((r) => [r.question.id, compose(r, corpus)]));
}

/**
 * The corpus as plain data, for a worker thread: indexes, functions and the shared tables are
 * rebuilt there (class instances and closures do not cross threads).
 */
export interface CorpusData {
  controls: ControlDoc[];
  passages: PassageDoc[];
  library: LibraryDoc[];
  evidence: EvidenceIndex;
  facts: FactMap;
}

export function corpusData(c: AnswerCorpus): CorpusData {
  return { controls: c.controls, passages: [...c.passages.docs], library: c.library, evidence: c.evidence, facts: c.facts };
}

export function corpusFromData(d: CorpusData): AnswerCorpus {
  return {
    controls: d.controls,
    index: new Bm25Index(d.controls),
    passages: new Bm25Index(d.passages),
    byRef: new Map(d.controls.map((c) => [c.ref, c])),
    library: d.library,
    evidence: d.evidence,
    facts: d.facts,
    geo,
    calibration: loadCalibration(),
  };
}

/** What a control says, for its embedding: the catalog's words and the organization's own. */
export function controlText(c: ControlDoc): string {
  return [`${c.ref} ${c.title}`, c.summary, c.answer?.statement].filter(Boolean).join('\n');
}

/** What a passage says, for its embedding: where it sits and its text. */
export function passageText(p: PassageDoc): string {
  return [p.passage.title, p.passage.heading, p.passage.text].filter(Boolean).join('\n');
}

/** The semantic ranking of passages: by cosine similarity of their vectors to the question's. */
export function semanticPassages(
  corpus: AnswerCorpus,
  vectors: Float32Array[],
  qs: QuestionInput[],
  questionVectors: Float32Array[],
  depth = 20,
): Map<string, PassageDoc[]> {
  const docs = corpus.passages.docs;
  return new Map(
    qs.map((q, i) => {
      const qv = questionVectors[i]!;
      const scored = docs
        .map((d, j) => ({ d, s: vectors[j]!.length === qv.length ? cosine(vectors[j]!, qv) : 0 }))
        .filter((x) => x.s > 0)
        .sort((a, b) => b.s - a.s)
        .slice(0, depth);
      return [q.id, scored.map((x) => x.d)];
    }),
  );
}

/** The semantic ranking: controls by cosine similarity of their vectors to the question's. */
export function semanticRanking(
  corpus: AnswerCorpus,
  vectors: Float32Array[],
  qs: QuestionInput[],
  questionVectors: Float32Array[],
  depth = 20,
): Map<string, ControlDoc[]> {
  return new Map(
    qs.map((q, i) => {
      const qv = questionVectors[i]!;
      const scored = corpus.controls
        .map((c, j) => ({ c, s: vectors[j]!.length === qv.length ? cosine(vectors[j]!, qv) : 0 }))
        .filter((x) => x.s > 0)
        .sort((a, b) => b.s - a.s)
        .slice(0, depth);
      return [q.id, scored.map((x) => x.c)];
    }),
  );
}
