// npm run bench:answers: how far the answers and their confidence can be trusted, measured on a
// labelled set in our own words (bench/answers/) for a fictional organization (and, for the questions
// marked profile: 'contrast', a second one with the same controls and an opposite profile). Everything goes
// through the REST contract (app.inject on buildApp, no LLM): sign up, PUT the control answers and
// the profile facts, import the questions as JSON, fill, read the answers back and score them.
// Prints per database, for the 'fit' and 'holdout' splits and for all questions:
//   a reliability table (confidence bins against accuracy), draft precision, the count of WRONG
//   DEFINITIVE DRAFTS (target 0), abstentions by kind, facts stated, choices right, dropdown values
//   within their list, accuracy by kind.
// Scoring: a choice is definitive when not null (a fact answer also when it states something); it is
// right when it equals the expected one (yes/no/partial/n-a in any case, list values verbatim), and
// any choice is wrong where the expected one is null (the sources do not settle it: abstain). A fact
// answer is right when its text holds an expected fact; a free-text one when it has text, no choice,
// and cites an expected source.
// Options: --db pglite|postgres|both (default both), --llm (also fill on PGlite through a fake
// OpenAI-compatible server, as bench:fill's LLM mode), --json <file> (a JSON array, one record per
// question and database), --fit (`npm run calibrate`): fit seeds/calibration.json on the 'fit' split
// (isotonic per decision path, then the lowest confidence whose precision is >= 95%) and stop; run
// the bench again to see the fitted confidences, the holdout split telling how well they carry over.
// PostgreSQL: DATABASE_URL when set,
// else a fresh database on postgres://postgres@127.0.0.1:5432 (dropped afterwards).
// Then a 'knowledge sources' section: the questions of bench/answers/knowledge/ without and with
// Quillmark's policy documents, evidence file and past questionnaire (see that section).
// Exits non-zero only when the run itself fails, never on poor figures.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { buildApp, type App } from '../src/app.js';
import { defaultConfig, type ConfigOverrides } from '../src/config.js';
import { startFakeOpenAI } from '../test/helpers/fake-openai.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { and, eq } from 'drizzle-orm';
import { questions as questionRows } from '../src/modules/questionnaires/tables.js';
import { fitCalibration, precisionAbove } from '../src/modules/questionnaires/calibration.js';
import { docxOf, pdfOf } from '../test/helpers/documents.js';
import { multipart } from '../test/helpers/multipart.js';
import { wholeQuestionnaire } from '../test/helpers/app.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCH = path.resolve(here, '../bench/answers');
const FILL_TIMEOUT_MS = Number(process.env.BENCH_FILL_TIMEOUT_MS ?? 15 * 60_000);

type Kind = 'practice' | 'risk' | 'scope' | 'fact' | 'option' | 'free_text';
const KINDS: Kind[] = ['practice', 'risk', 'scope', 'fact', 'option', 'free_text'];
interface Expected {
  choice: string | null;
  facts?: string[];
  sources?: string[];
}
interface LabelledQuestion {
  id: string;
  kind: Kind;
  text: string;
  section?: string;
  allowedAnswers?: string[];
  expected: Expected;
  split: 'fit' | 'holdout';
  /** 'contrast': asked of the second organization (bench/answers/contrast-profile.json). */
  profile?: 'contrast';
}
interface Organization {
  organization: { name: string; slug: string };
  profile: Array<{ key: string; value: unknown; visibility?: string }>;
  controls: Array<{
    ref: string;
    applicable: boolean;
    status: string;
    implementation: string;
    responsibility: string;
    customerStatement?: string;
    justification?: string;
  }>;
}
interface Source {
  kind: string;
  ref?: string;
  key?: string;
  id?: string;
}
interface Answer {
  choice: string | null;
  text: string | null;
  confidence: number;
  status: string;
  sources: Source[];
  reviewReason?: string | null;
}
interface ApiQuestion {
  id: string;
  ref: string | null;
  text: string;
  allowedAnswers?: string[] | null;
  answer: Answer | null;
}

export interface BenchRecord {
  database: string;
  id: string;
  kind: Kind;
  split: 'fit' | 'holdout';
  question: string;
  expected: Expected;
  choice: string | null;
  text: string | null;
  confidence: number | null;
  status: string | null;
  sources: string[];
  reviewReason: string | null;
  correct: boolean;
  definitive: boolean;
}

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    json: { type: 'string' },
    fit: { type: 'boolean', default: false },
    llm: { type: 'boolean', default: false },
  },
});
if (!['pglite', 'postgres', 'both'].includes(args.db!)) throw new Error(`--db must be pglite, postgres or both, not ${args.db}`);

const org = JSON.parse(fs.readFileSync(path.join(BENCH, 'organization.json'), 'utf8')) as Organization;
/** The same control answers with an opposite profile (PHI, cards, on-premises, a breach, two clouds in North America). */
const contrast = JSON.parse(fs.readFileSync(path.join(BENCH, 'contrast-profile.json'), 'utf8')) as Pick<Organization, 'organization' | 'profile'>;
const labelled = (JSON.parse(fs.readFileSync(path.join(BENCH, 'questions.json'), 'utf8')) as { questions: LabelledQuestion[] }).questions;

const YES_NO = new Set(['yes', 'no', 'partial', 'n/a']);
/** Yes/no/partial/n-a compare without case; a value from the buyer's list must be verbatim. */
function sameChoice(q: LabelledQuestion, got: string): boolean {
  const want = q.expected.choice!;
  if (!q.allowedAnswers && YES_NO.has(want.toLowerCase())) return got.toLowerCase() === want.toLowerCase();
  return got === want;
}
const sourceRef = (s: Source) => (s.kind === 'control' ? s.ref : s.kind === 'fact' ? `fact:${s.key}` : `${s.kind}:${s.id}`) ?? s.kind;

function score(q: LabelledQuestion, a: Answer | null, database: string): BenchRecord {
  const choice = a?.choice ?? null;
  const text = a?.text ?? null;
  const sources = (a?.sources ?? []).map(sourceRef);
  const hasText = !!text && text.trim().length > 0;
  let correct: boolean;
  let definitive = choice !== null;
  if (q.kind === 'fact') {
    // A fact answer commits through its text: a wrong name or number stated as a draft is as false as a wrong "yes".
    definitive = definitive || hasText;
    correct = hasText && q.expected.facts!.some((f) => text!.toLowerCase().includes(f.toLowerCase()));
  } else if (q.kind === 'free_text') {
    const wanted = q.expected.sources ?? [];
    correct = choice === null && hasText && (wanted.length === 0 || sources.some((s) => wanted.includes(s)));
  } else {
    correct = q.expected.choice === null ? choice === null : choice !== null && sameChoice(q, choice);
  }
  return {
    database,
    id: q.id,
    kind: q.kind,
    split: q.split,
    question: q.text,
    expected: q.expected,
    choice,
    text,
    confidence: a?.confidence ?? null,
    status: a?.status ?? null,
    sources,
    reviewReason: a?.reviewReason ?? null,
    correct,
    definitive,
  };
}

/** Imports a questionnaire, starts its fill and waits for the job worker to finish it. */
async function fillQuestionnaire(app: App, auth: Record<string, string>, payload: object): Promise<{ id: string; questions: ApiQuestion[]; fillMs: number }> {
  const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: auth, payload });
  if (created.statusCode !== 201) throw new Error(`POST /questionnaires: ${created.statusCode} ${created.body}`);
  const id = created.json().id as string;
  const fill = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: auth });
  if (fill.statusCode !== 202) throw new Error(`POST /questionnaires/${id}/fill: ${fill.statusCode} ${fill.body}`);
  const started = performance.now();
  for (;;) {
    const got = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}?limit=1`, headers: auth });
    if (got.statusCode !== 200) throw new Error(`GET /questionnaires/${id}: ${got.statusCode} ${got.body}`);
    const body = got.json() as { status: string; error?: string | null };
    if (body.status === 'filled') {
      const fillMs = performance.now() - started;
      return { id, questions: (await wholeQuestionnaire(app, auth, id)).questions as ApiQuestion[], fillMs };
    }
    if (body.status === 'failed') throw new Error(`the fill failed: ${body.error ?? 'no reason given'}`);
    if (performance.now() - started > FILL_TIMEOUT_MS) throw new Error(`the fill did not finish in ${FILL_TIMEOUT_MS} ms (status ${body.status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface RunResult {
  records: BenchRecord[];
  notes: string[];
  fillMs: number;
  basis: Map<string, { path: string; raw: number }>;
}

async function run(label: string, database: Database, overrides: ConfigOverrides = {}): Promise<RunResult> {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-answers-'));
  // The job worker runs as in production; the bench only reads the questionnaire until it is filled.
  const app: App = await buildApp({
    config: defaultConfig({ dataDir, seedDemo: false, logLevel: 'silent', limits: { apiPerMinute: 1_000_000 }, ...overrides }), // a bench measures answers, not the per-credential limit
    database,
    logger: false,
    jobs: { pollIntervalMs: 50 },
    webhooks: { worker: false },
    expiryScanIntervalMs: 0,
  });
  try {
    const parts: RunResult[] = [];
    for (const [variant, questions] of [
      [org, labelled.filter((q) => !q.profile)],
      [{ ...org, ...contrast }, labelled.filter((q) => q.profile === 'contrast')],
    ] as const)
      if (questions.length > 0) parts.push(await runOrganization(app, database, label, variant, questions));
    return {
      records: parts.flatMap((p) => p.records),
      notes: parts.flatMap((p) => p.notes),
      fillMs: parts.reduce((sum, p) => sum + p.fillMs, 0),
      basis: new Map(parts.flatMap((p) => [...p.basis])),
    };
  } finally {
    await app.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
}

/** One organization on the app: sign up, PUT its control answers and profile, fill its questions and score them. */
async function runOrganization(app: App, database: Database, label: string, org: Organization, labelled: LabelledQuestion[]): Promise<RunResult> {
  const notes: string[] = [];
  {
    const slug = `${org.organization.slug}-${process.pid}-${label}`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 60);
    const signup = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { organization: { name: org.organization.name, slug }, user: { email: `owner@${slug}.example.com`, password: 'Bench-Answers-Password-2026!' } },
    });
    if (signup.statusCode !== 201) throw new Error(`signup: ${signup.statusCode} ${signup.body}`);
    const auth = { authorization: `Bearer ${signup.json().accessToken}` };

    for (const c of org.controls) {
      const { ref, ...body } = c;
      const res = await app.inject({ method: 'PUT', url: `/api/v1/controls/${ref}`, headers: auth, payload: body });
      if (res.statusCode !== 200) throw new Error(`PUT /controls/${ref}: ${res.statusCode} ${res.body}`);
    }

    const refused: string[] = [];
    for (const f of org.profile) {
      let res = await app.inject({
        method: 'PUT',
        url: `/api/v1/profile/facts/${f.key}`,
        headers: auth,
        payload: { value: f.value, visibility: f.visibility },
      });
      if (res.statusCode === 400 && f.visibility) {
        res = await app.inject({ method: 'PUT', url: `/api/v1/profile/facts/${f.key}`, headers: auth, payload: { value: f.value } });
        if (res.statusCode === 200) notes.push(`profile: visibility "${f.visibility}" refused for ${f.key}; stored without it`);
      }
      if (res.statusCode !== 200) refused.push(`${f.key} (${res.statusCode}${res.statusCode === 404 ? ': no profile API' : ''})`);
    }
    if (refused.length > 0)
      notes.push(`profile: ${refused.length} of ${org.profile.length} facts NOT stored: ${refused.slice(0, 4).join(', ')}${refused.length > 4 ? ', ...' : ''}`);

    const payload = {
      name: 'bench:answers labelled set',
      questions: labelled.map((q) => ({
        ref: q.id,
        text: q.text,
        ...(q.section ? { section: q.section } : {}),
        ...(q.allowedAnswers ? { allowedAnswers: q.allowedAnswers } : {}),
      })),
    };
    const { id, questions: filledQuestions, fillMs } = await fillQuestionnaire(app, auth, payload);
    const body = { questions: filledQuestions };

    const byRef = new Map(body.questions.map((q) => [q.ref, q]));
    const listsKept = labelled
      .filter((q) => q.allowedAnswers)
      .filter((q) => {
        const kept = byRef.get(q.id)?.allowedAnswers;
        return Array.isArray(kept) && kept.length === q.allowedAnswers!.length && kept.every((v, i) => v === q.allowedAnswers![i]);
      }).length;
    const withLists = labelled.filter((q) => q.allowedAnswers).length;
    if (listsKept < withLists)
      notes.push(`questionnaire: allowedAnswers kept for ${listsKept} of ${withLists} questions (refused or ignored by the JSON import)`);
    const missing = labelled.filter((q) => !byRef.has(q.id)).length;
    if (missing > 0) notes.push(`questionnaire: ${missing} questions came back without their ref`);
    // The decision path and raw score of each answer: internal, read only to fit the calibration.
    const rows = await database.db
      .select({ ref: questionRows.ref, basis: questionRows.answerBasis })
      .from(questionRows)
      .where(and(eq(questionRows.orgId, signup.json().organization.id), eq(questionRows.questionnaireId, id)));
    const basis = new Map(rows.filter((r) => r.ref && r.basis).map((r) => [r.ref!, r.basis!]));
    return { records: labelled.map((q) => score(q, byRef.get(q.id)?.answer ?? null, label)), notes, fillMs, basis };
  }
}

// ---------- report ----------
const pct = (n: number, d: number) => (d === 0 ? '   -  ' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);
const frac = (n: number, d: number) => `${n}/${d} (${pct(n, d).trim()})`;
const BINS: Array<[number, number]> = [
  [0, 0.5],
  [0.5, 0.6],
  [0.6, 0.7],
  [0.7, 0.8],
  [0.8, 0.9],
  [0.9, 1.0000001],
];

function report(records: BenchRecord[], title: string): void {
  const answered = records.filter((r) => r.status !== null);
  console.log(`\n### ${title}: ${records.length} questions, ${answered.length} answered`);
  console.log('  confidence   count  correct  accuracy');
  for (const [lo, hi] of BINS) {
    const inBin = answered.filter((r) => r.confidence! >= lo && r.confidence! < hi);
    const right = inBin.filter((r) => r.correct).length;
    console.log(
      `  ${lo.toFixed(1)}-${Math.min(hi, 1).toFixed(1)}    ${String(inBin.length).padStart(5)}  ${String(right).padStart(7)}  ${pct(right, inBin.length)}`,
    );
  }
  const drafts = records.filter((r) => r.status === 'draft');
  const wrongDrafts = drafts.filter((r) => r.definitive && !r.correct);
  console.log(`  draft precision: ${frac(drafts.filter((r) => r.correct).length, drafts.length)}   (target >= 95%)`);
  const wrongByKind = KINDS.map((k) => [k, wrongDrafts.filter((r) => r.kind === k).length] as const).filter(([, n]) => n > 0);
  console.log(
    `  WRONG DEFINITIVE DRAFTS: ${wrongDrafts.length}   (target 0)${wrongByKind.length ? '  by kind: ' + wrongByKind.map(([k, n]) => `${k} ${n}`).join(', ') : ''}`,
  );
  const review = (k: Kind) => {
    const of = records.filter((r) => r.kind === k);
    return `${k} ${of.filter((r) => r.status === 'needs_review').length}/${of.length}`;
  };
  console.log(`  abstentions (needs_review) by kind: ${KINDS.map(review).join(', ')}; unanswered ${records.length - answered.length}`);
  const facts = records.filter((r) => r.kind === 'fact');
  console.log(`  facts stated: ${frac(facts.filter((r) => r.correct).length, facts.length)}`);
  const settled = records.filter((r) => r.kind !== 'fact' && r.kind !== 'free_text' && r.expected.choice !== null);
  const open = records.filter((r) => r.kind !== 'fact' && r.kind !== 'free_text' && r.expected.choice === null);
  console.log(
    `  choices right where the sources settle them: ${frac(settled.filter((r) => r.correct).length, settled.length)}; ` +
      `abstained where they do not: ${frac(open.filter((r) => r.choice === null).length, open.length)}`,
  );
  const listed = records.filter((r) => labelledById.get(r.id)!.allowedAnswers && r.choice !== null);
  console.log(
    `  dropdown values within their list: ${frac(listed.filter((r) => labelledById.get(r.id)!.allowedAnswers!.includes(r.choice!)).length, listed.length)}`,
  );
  console.log(
    `  accuracy by kind: ${KINDS.map((k) => {
      const of = records.filter((r) => r.kind === k);
      return `${k} ${pct(of.filter((r) => r.correct).length, of.length).trim()}`;
    }).join(', ')}`,
  );
  // What a draft threshold would give: precision of the definitive answers at or above each confidence.
  const definitive = answered.filter((r) => r.definitive);
  console.log(
    `  precision of definitive answers at confidence >= t: ${[0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
      .map((t) => {
        const above = definitive.filter((r) => r.confidence! >= t);
        return `${t}: ${above.filter((r) => r.correct).length}/${above.length}`;
      })
      .join(', ')}`,
  );
}
const labelledById = new Map(labelled.map((q) => [q.id, q]));

// ---------- databases ----------
async function withPostgres<T>(fn: (db: Database) => Promise<T>): Promise<T | undefined> {
  const url = process.env.DATABASE_URL;
  if (url) return fn(await openDatabase({ url, poolMax: 5 }));
  const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `bench_answers_${process.pid}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch (err) {
    if (args.db === 'postgres') throw err;
    console.log(`\n## PostgreSQL: not reachable at 127.0.0.1:5432 (${(err as Error).message}), skipped`);
    return undefined;
  }
  await client.query(`create database ${name}`);
  await client.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  try {
    return await fn(await openDatabase({ url: u.toString(), poolMax: 5 }));
  } finally {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  }
}

if (args.fit) {
  const result = await run('pglite', await openDatabase({ pglite: new PGlite() }));
  const fit = result.records
    .filter((r) => r.split === 'fit')
    .map((r) => ({ ...result.basis.get(r.id)!, correct: r.correct }))
    .filter((r) => r.path);
  const file = path.resolve(here, '../seeds/calibration.json');
  const calibration = fitCalibration(fit, JSON.parse(fs.readFileSync(file, 'utf8')));
  fs.writeFileSync(file, JSON.stringify(calibration, null, 2) + '\n');
  const above = precisionAbove(fit, calibration, calibration.draftThreshold);
  console.log(
    `# calibration fitted on ${fit.length} answers of the fit split: draft threshold ${calibration.draftThreshold}, ${above.right} of ${above.n} right at or above it`,
  );
  for (const [p, steps] of Object.entries(calibration.paths)) console.log(`  ${p.padEnd(16)} ${steps.map(([x, y]) => `>=${x}: ${y}`).join('  ')}`);
  process.exit(0);
}

const counts = KINDS.map((k) => `${k} ${labelled.filter((q) => q.kind === k).length}`).join(', ');
console.log(
  `# bench:answers: ${labelled.length} labelled questions (${counts}); ${org.controls.length} control answers, ${org.profile.length} profile facts; ` +
    `${labelled.filter((q) => q.profile === 'contrast').length} of the questions asked of a second organization with the same controls and a contrasting profile (${contrast.profile.length} facts); offline${args.llm ? ', then through a fake OpenAI-compatible server' : ' (no LLM)'}`,
);
const all: BenchRecord[] = [];
const targets: Array<[string, () => Promise<RunResult | undefined>]> = [];
if (args.db !== 'postgres') targets.push(['pglite', async () => run('pglite', await openDatabase({ pglite: new PGlite() }))]);
if (args.db !== 'pglite') targets.push(['postgres', () => withPostgres((db) => run('postgres', db))]);
// The LLM path takes the same decisions with a semantic ranking fused in and drafted prose: the fake
// server's embeddings are hashed bags of words, so this checks the path's honesty, not a model's quality.
const fake = args.llm ? await startFakeOpenAI() : undefined;
if (fake)
  targets.push([
    'llm',
    async () =>
      run('llm', await openDatabase({ pglite: new PGlite() }), {
        openai: { apiKey: 'bench', baseUrl: fake.url, model: 'fake-chat', embeddingModel: 'fake-embed' },
      }),
  ]);
for (const [label, go] of targets) {
  const result = await go();
  if (!result) continue;
  const { records, notes, fillMs } = result;
  console.log(
    `\n## ${label === 'pglite' ? 'PGlite (in memory)' : label === 'llm' ? 'LLM mode (fake OpenAI-compatible server), PGlite' : `PostgreSQL${process.env.DATABASE_URL ? ' (DATABASE_URL)' : ' 127.0.0.1 (fresh database)'}`}: filled in ${(fillMs / 1000).toFixed(1)} s`,
  );
  for (const n of notes) console.log(`  note: ${n}`);
  report(
    records.filter((r) => r.split === 'fit'),
    'fit',
  );
  report(
    records.filter((r) => r.split === 'holdout'),
    'holdout',
  );
  report(records, 'all');
  all.push(...records);
}
await fake?.close();
if (all.some((r) => r.database === 'pglite') && all.some((r) => r.database === 'postgres')) {
  const [a, b] = [all.filter((r) => r.database === 'pglite'), all.filter((r) => r.database === 'postgres')];
  const differ = a.filter((r, i) => r.choice !== b[i]!.choice || r.status !== b[i]!.status || r.confidence !== b[i]!.confidence).length;
  console.log(`\nPGlite and PostgreSQL differ on ${differ} of ${a.length} answers (choice, status or confidence)`);
}
if (args.json) {
  fs.writeFileSync(args.json, JSON.stringify(all, null, 1) + '\n');
  console.log(`\nwrote ${all.length} records to ${args.json}`);
}

// ---------- knowledge sources ----------
// The questions of bench/answers/knowledge/ on two fresh organizations per database, each set up as
// the main run (same controls and facts): (a) without documents or past answers, (b) after uploading
// Quillmark's policy documents and evidence file and importing last year's questionnaire with
// approve=true. Coverage: the answer's text holds every expected string (case-insensitive) and its
// first source is of the expected kind. Wrong quotes: control questions (no source answers them)
// whose first source is a document, an evidence file or a library entry.
const KB = path.join(BENCH, 'knowledge');
type KnowledgeKind = 'document' | 'evidence' | 'library';
interface KnowledgeQuestion {
  id: string;
  text: string;
  from?: string;
  expected: { contains: string[]; source: KnowledgeKind | null };
}
interface KnowledgeFile {
  file: string;
  title: string;
  visibility: string;
  controls?: string[];
}
interface KnowledgeManifest {
  documents: KnowledgeFile[];
  evidence: KnowledgeFile[];
  pastQuestionnaire: string;
}
export interface KnowledgeRecord {
  set: 'knowledge';
  database: string;
  run: 'without' | 'with';
  id: string;
  question: string;
  expected: KnowledgeQuestion['expected'];
  text: string | null;
  status: string | null;
  firstSource: string | null;
  sources: string[];
  covered: boolean;
  wrongQuote: boolean;
}
interface KnowledgeRun {
  run: 'without' | 'with';
  records: KnowledgeRecord[];
  notes: string[];
}

const kbManifest = JSON.parse(fs.readFileSync(path.join(KB, 'sources.json'), 'utf8')) as KnowledgeManifest;
const kbQuestions = (JSON.parse(fs.readFileSync(path.join(KB, 'questions.json'), 'utf8')) as { questions: KnowledgeQuestion[] }).questions;
const QUOTING = new Set<string>(['document', 'evidence', 'library']);

/** The file to upload: Markdown and text as stored, DOCX and PDF built from their JSON sources. */
async function knowledgeUpload(f: KnowledgeFile): Promise<{ filename: string; content: Buffer | string; contentType: string }> {
  const raw = fs.readFileSync(path.join(KB, f.file), 'utf8');
  if (f.file.endsWith('.docx.json')) {
    return {
      filename: f.file.slice(0, -5),
      content: await docxOf((JSON.parse(raw) as { paragraphs: string[] }).paragraphs),
      contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    };
  }
  if (f.file.endsWith('.pdf.json'))
    return { filename: f.file.slice(0, -5), content: await pdfOf((JSON.parse(raw) as { pages: string[][] }).pages), contentType: 'application/pdf' };
  return { filename: f.file, content: raw, contentType: f.file.endsWith('.md') ? 'text/markdown' : 'text/plain' };
}

function scoreKnowledge(q: KnowledgeQuestion, a: Answer | null, database: string, run: KnowledgeRun['run']): KnowledgeRecord {
  const text = a?.text ?? null;
  const firstSource = a?.sources?.[0]?.kind ?? null;
  const lower = (text ?? '').toLowerCase();
  const covered = q.expected.source !== null && firstSource === q.expected.source && q.expected.contains.every((s) => lower.includes(s.toLowerCase()));
  return {
    set: 'knowledge',
    database,
    run,
    id: q.id,
    question: q.text,
    expected: q.expected,
    text,
    status: a?.status ?? null,
    firstSource,
    sources: (a?.sources ?? []).map(sourceRef),
    covered,
    wrongQuote: q.expected.source === null && firstSource !== null && QUOTING.has(firstSource),
  };
}

async function knowledgeRuns(label: string, database: Database): Promise<KnowledgeRun[]> {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-knowledge-'));
  const app: App = await buildApp({
    config: defaultConfig({ dataDir, seedDemo: false, logLevel: 'silent', limits: { apiPerMinute: 1_000_000 } }), // a bench measures answers, not the per-credential limit
    database,
    logger: false,
    jobs: { pollIntervalMs: 50 },
    webhooks: { worker: false },
    expiryScanIntervalMs: 0,
  });
  try {
    const out: KnowledgeRun[] = [];
    for (const mode of ['without', 'with'] as const) {
      const notes: string[] = [];
      // A new organization for each run, set up as run() does: the main section stays as it is.
      const slug = `${org.organization.slug}-${process.pid}-kb-${mode}-${label}`
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-')
        .slice(0, 60);
      const signup = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/signup',
        payload: {
          organization: { name: org.organization.name, slug },
          user: { email: `owner@${slug}.example.com`, password: 'Bench-Answers-Password-2026!' },
        },
      });
      if (signup.statusCode !== 201) throw new Error(`signup: ${signup.statusCode} ${signup.body}`);
      const auth = { authorization: `Bearer ${signup.json().accessToken}` };
      for (const c of org.controls) {
        const { ref, ...body } = c;
        const res = await app.inject({ method: 'PUT', url: `/api/v1/controls/${ref}`, headers: auth, payload: body });
        if (res.statusCode !== 200) throw new Error(`PUT /controls/${ref}: ${res.statusCode} ${res.body}`);
      }
      let factsStored = 0;
      for (const f of org.profile) {
        let res = await app.inject({
          method: 'PUT',
          url: `/api/v1/profile/facts/${f.key}`,
          headers: auth,
          payload: { value: f.value, visibility: f.visibility },
        });
        if (res.statusCode === 400 && f.visibility)
          res = await app.inject({ method: 'PUT', url: `/api/v1/profile/facts/${f.key}`, headers: auth, payload: { value: f.value } });
        if (res.statusCode === 200) factsStored++;
      }
      if (factsStored < org.profile.length) notes.push(`profile: ${factsStored} of ${org.profile.length} facts stored`);

      if (mode === 'with') {
        const upload = async (url: string, fields: Record<string, string | string[]>, f: KnowledgeFile) => {
          const body = multipart(fields, [await knowledgeUpload(f)]);
          return app.inject({ method: 'POST', url, headers: { ...auth, ...body.headers }, payload: body.payload });
        };
        const indexed: string[] = [];
        for (const d of kbManifest.documents) {
          const res = await upload('/api/v1/documents', { title: d.title, visibility: d.visibility, useForAnswers: 'true' }, d);
          if (res.statusCode !== 201) throw new Error(`POST /documents (${d.file}): ${res.statusCode} ${res.body}`);
          const ix = res.json().textIndex as { status: string; passages: number } | undefined;
          indexed.push(`${d.file.replace(/\.json$/, '')} ${ix ? `${ix.status}, ${ix.passages} passages` : 'no text index'}`);
        }
        for (const e of kbManifest.evidence) {
          const res = await upload(
            '/api/v1/evidence',
            { title: e.title, visibility: e.visibility, useForAnswers: 'true', ...(e.controls ? { controls: e.controls } : {}) },
            e,
          );
          if (res.statusCode !== 201) throw new Error(`POST /evidence (${e.file}): ${res.statusCode} ${res.body}`);
          const ix = res.json().textIndex as { status: string; passages: number } | undefined;
          indexed.push(`evidence ${e.file} ${ix ? `${ix.status}, ${ix.passages} passages` : 'no text index'}`);
        }
        notes.push(`uploaded: ${indexed.join('; ')}`);
        const csv = fs.readFileSync(path.join(KB, kbManifest.pastQuestionnaire));
        const body = multipart({ approve: 'true' }, [{ filename: kbManifest.pastQuestionnaire, content: csv, contentType: 'text/csv' }]);
        const imported = await app.inject({ method: 'POST', url: '/api/v1/library/import', headers: { ...auth, ...body.headers }, payload: body.payload });
        // The import endpoint arrived separately: without it the bench still runs, on documents alone.
        if (imported.statusCode === 404) notes.push('past questionnaire import: not available');
        else if (imported.statusCode !== 201 && imported.statusCode !== 200) throw new Error(`POST /library/import: ${imported.statusCode} ${imported.body}`);
        else {
          const r = imported.json() as { imported: number; duplicates: number; conflicts: number; skipped: number };
          notes.push(
            `past questionnaire import (approve=true): ${r.imported} imported, ${r.duplicates} duplicates, ${r.conflicts} conflicts, ${r.skipped} skipped`,
          );
        }
      }

      const { questions: filled } = await fillQuestionnaire(app, auth, {
        name: `bench:answers knowledge set (${mode})`,
        questions: kbQuestions.map((q) => ({ ref: q.id, text: q.text })),
      });
      const body = { questions: filled };
      const byRef = new Map(body.questions.map((q) => [q.ref, q]));
      out.push({ run: mode, notes, records: kbQuestions.map((q) => scoreKnowledge(q, byRef.get(q.id)?.answer ?? null, label, mode)) });
    }
    return out;
  } finally {
    await app.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
}

function reportKnowledge(r: KnowledgeRun): void {
  const title =
    r.run === 'without'
      ? '(a) controls and facts only'
      : `(b) with ${kbManifest.documents.length} documents, ${kbManifest.evidence.length} evidence file(s) and the past questionnaire`;
  console.log(`\n### ${title}`);
  for (const n of r.notes) console.log(`  note: ${n}`);
  const answerable = r.records.filter((x) => x.expected.source !== null);
  const control = r.records.filter((x) => x.expected.source === null);
  const bySource = (['document', 'evidence', 'library'] as const).map((k) => {
    const of = answerable.filter((x) => x.expected.source === k);
    return `${k} ${of.filter((x) => x.covered).length}/${of.length}`;
  });
  console.log(`  coverage: ${frac(answerable.filter((x) => x.covered).length, answerable.length)}   by expected source: ${bySource.join(', ')}`);
  console.log(
    `  WRONG QUOTES: ${control.filter((x) => x.wrongQuote).length} of ${control.length} control questions (target 0)${
      control.some((x) => x.wrongQuote)
        ? ': ' +
          control
            .filter((x) => x.wrongQuote)
            .map((x) => `${x.id} [${x.firstSource}]`)
            .join(', ')
        : ''
    }`,
  );
  const kinds = new Map<string, number>();
  for (const x of r.records) kinds.set(x.firstSource ?? 'none', (kinds.get(x.firstSource ?? 'none') ?? 0) + 1);
  console.log(
    `  first source: ${[...kinds]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}; status: ${['draft', 'needs_review'].map((s) => `${s} ${r.records.filter((x) => x.status === s).length}`).join(', ')}`,
  );
  const missed = answerable.filter((x) => !x.covered);
  if (r.run === 'with' && missed.length > 0) {
    // Why each one missed: another kind of source first, or the right kind without the expected words.
    console.log(
      `  not covered: ${missed
        .map((x) => {
          const lacks = x.expected.contains.filter((s) => !(x.text ?? '').toLowerCase().includes(s.toLowerCase()));
          return `${x.id} [${x.firstSource ?? 'none'}${x.firstSource === x.expected.source ? `, lacks ${lacks.map((s) => `"${s}"`).join(' ')}` : ''}]`;
        })
        .join(', ')}`,
    );
  }
}

{
  console.log(
    `\n## knowledge sources: ${kbQuestions.length} questions (${(['document', 'evidence', 'library'] as const).map((k) => `${k} ${kbQuestions.filter((q) => q.expected.source === k).length}`).join(', ')}, ` +
      `control ${kbQuestions.filter((q) => q.expected.source === null).length}); fresh organizations with the same controls and facts`,
  );
  const kbAll: KnowledgeRecord[] = [];
  const kbTargets: Array<[string, () => Promise<KnowledgeRun[] | undefined>]> = [];
  if (args.db !== 'postgres') kbTargets.push(['pglite', async () => knowledgeRuns('pglite', await openDatabase({ pglite: new PGlite() }))]);
  if (args.db !== 'pglite') kbTargets.push(['postgres', () => withPostgres((db) => knowledgeRuns('postgres', db))]);
  for (const [label, go] of kbTargets) {
    const runs = await go();
    if (!runs) continue;
    console.log(
      `\n## knowledge sources on ${label === 'pglite' ? 'PGlite (in memory)' : `PostgreSQL${process.env.DATABASE_URL ? ' (DATABASE_URL)' : ' 127.0.0.1 (fresh database)'}`}`,
    );
    for (const r of runs) {
      reportKnowledge(r);
      kbAll.push(...r.records);
    }
  }
  if (args.json) {
    // Appended to the main records, told apart by `set: 'knowledge'`.
    const previous = fs.existsSync(args.json) ? (JSON.parse(fs.readFileSync(args.json, 'utf8')) as unknown[]) : [];
    fs.writeFileSync(args.json, JSON.stringify([...previous, ...kbAll], null, 1) + '\n');
    console.log(`\nappended ${kbAll.length} knowledge records to ${args.json}`);
  }
}
