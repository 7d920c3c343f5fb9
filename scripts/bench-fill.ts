// npm run bench:fill: answers CSA CAIQ v4.0.3 (question text only, no ids) for the demo
// organization, whose 93 Annex A and 7 CLD controls are all answered, and scores the controls
// each answer cites against CSA's own ISO/IEC 27001:2022 mapping of the same questions
// (../shared/data/csa/caiq-v4.0.3-answer-key.csv). Prints, for PGlite and for PostgreSQL (when
// 127.0.0.1:5432 answers), and in LLM mode against a fake OpenAI-compatible server:
//   top-1 / top-3 hit rates, choice accuracy where the key determines it, answers needing
//   review, fill time (median of runs), LLM calls and tokens, and how well the confidence
//   separates right from wrong answers (top-1 accuracy by confidence decile).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { type ConfigOverrides } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { runNextJob } from '../src/modules/questionnaires/service.js';
import { startFakeOpenAI, type FakeOpenAI } from '../test/helpers/fake-openai.js';
import { wholeQuestionnaire } from '../test/helpers/app.js';
import { demoApp, importTexts, pgAvailable } from './bench-app.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const KEY_FILE = path.resolve(here, '../../shared/data/csa/caiq-v4.0.3-answer-key.csv');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface KeyRow {
  question_id: string;
  question: string;
  iso27001_2022_annexA: string;
  iso27017_2015: string;
}
const key = parse(fs.readFileSync(KEY_FILE, 'utf8'), { columns: true, skip_empty_lines: true }) as KeyRow[];
const expected = key.map(
  (r) => new Set([...r.iso27001_2022_annexA.split(';'), ...r.iso27017_2015.split(';').filter((x) => x.startsWith('CLD'))].map((s) => s.trim()).filter(Boolean)),
);

interface Answer {
  choice: string | null;
  confidence: number;
  status: string;
  sources: Array<{ kind: string; ref?: string }>;
}
type Usage = { calls: number; tokens: number; embeddingCalls: number };
interface Result {
  ms: number;
  answers: Answer[];
  llm?: Usage;
  refill?: Usage & { ms: number };
}

async function once(database: Database, overrides: ConfigOverrides, fake?: FakeOpenAI): Promise<Result> {
  const d = await demoApp(database, 'bench-fill', overrides);
  const { app, auth } = d;
  try {
    const id = await importTexts(
      d,
      'CAIQ v4.0.3',
      key.map((r) => r.question),
    );
    await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: auth });
    fake?.reset();
    const started = performance.now();
    while (await runNextJob(app.jobDeps)) {
      /* drain */
    }
    const ms = performance.now() - started;
    const answers = ((await wholeQuestionnaire(app, auth, id)).questions as Array<{ answer: Answer }>).map((q) => q.answer);
    if (!fake) return { ms, answers };
    const llm = fake.usage();
    // The same questionnaire again: every draft and vector comes from the content-hash caches.
    fake.reset();
    await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: auth });
    const again = performance.now();
    while (await runNextJob(app.jobDeps)) {
      /* drain */
    }
    return { ms, answers, llm, refill: { ...fake.usage(), ms: performance.now() - again } };
  } finally {
    await d.close();
  }
}

function score(answers: Answer[]) {
  let top1 = 0;
  let top3 = 0;
  let scored = 0;
  let review = 0;
  const perQuestion: Array<{ confidence: number; hit: boolean }> = [];
  answers.forEach((a, i) => {
    if (a.status === 'needs_review') review++;
    const want = expected[i]!;
    if (want.size === 0) return;
    scored++;
    const refs = a.sources.filter((s) => s.kind === 'control').map((s) => s.ref!);
    const hit1 = refs.slice(0, 1).some((r) => want.has(r));
    if (hit1) top1++;
    if (refs.slice(0, 3).some((r) => want.has(r))) top3++;
    perQuestion.push({ confidence: a.confidence, hit: hit1 });
  });
  // Deciles by confidence: does a high confidence mean a right first citation?
  const sorted = [...perQuestion].sort((a, b) => b.confidence - a.confidence);
  const decile = Math.max(1, Math.round(sorted.length / 10));
  const acc = (xs: typeof sorted) => xs.filter((x) => x.hit).length / xs.length;
  const deciles = Array.from({ length: 10 }, (_, d) => sorted.slice(d * decile, d === 9 ? undefined : (d + 1) * decile)).filter((xs) => xs.length > 0);
  return {
    scored,
    top1: top1 / scored,
    top3: top3 / scored,
    review,
    topDecile: acc(deciles[0]!),
    bottomDecile: acc(deciles[deciles.length - 1]!),
    deciles: deciles.map((xs) => ({ minConfidence: xs[xs.length - 1]!.confidence, accuracy: acc(xs) })),
  };
}

/**
 * Choice accuracy where the key determines it: when every control CSA maps a question to has the
 * same status in the demo organization, that status gives the right choice (implemented yes,
 * partial partial, planned or not implemented no, not applicable n/a).
 */
const DEMO = JSON.parse(fs.readFileSync(path.resolve(here, '../seeds/demo/controls.json'), 'utf8')) as {
  controls: Array<{ ref: string; applicable: boolean; status: string }>;
};
const demoChoice = new Map(
  DEMO.controls.map((c) => [c.ref, !c.applicable ? 'n/a' : c.status === 'implemented' ? 'yes' : c.status === 'partially_implemented' ? 'partial' : 'no']),
);
function choiceStats(answers: Answer[]) {
  const counts: Record<string, number> = {};
  let determinable = 0;
  let right = 0;
  answers.forEach((a, i) => {
    counts[a.choice ?? 'none'] = (counts[a.choice ?? 'none'] ?? 0) + 1;
    const choices = new Set([...expected[i]!].map((ref) => demoChoice.get(ref)));
    if (choices.size !== 1 || choices.has(undefined)) return;
    determinable++;
    if (a.choice === [...choices][0]) right++;
  });
  return { counts, determinable, right };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

async function series(label: string, open: () => Promise<Database>, overrides: ConfigOverrides = {}, fake?: FakeOpenAI) {
  const results: Result[] = [];
  for (let i = 0; i < RUNS; i++) results.push(await once(await open(), overrides, fake));
  const s = score(results[0]!.answers);
  if (process.env.BENCH_DEBUG) {
    results[0]!.answers.forEach((a, i) => {
      const refs = a.sources
        .filter((x) => x.kind === 'control')
        .map((x) => x.ref!)
        .slice(0, 3);
      if (expected[i]!.size > 0 && !refs.some((r) => expected[i]!.has(r)))
        console.log(`MISS ${key[i]!.question_id} [${refs.join(' ')}] want [${[...expected[i]!].join(' ')}] ${key[i]!.question.slice(0, 110)}`);
    });
  }
  const ms = median(results.map((r) => r.ms));
  console.log(`\n## ${label}`);
  console.log(`fill time for ${key.length} questions: median ${ms.toFixed(0)} ms over ${RUNS} runs (${results.map((r) => r.ms.toFixed(0)).join(', ')})`);
  console.log(`cited controls vs CSA's mapping (${s.scored} questions with a mapping): top-1 ${pct(s.top1)}, top-3 ${pct(s.top3)}`);
  const c = choiceStats(results[0]!.answers);
  console.log(`answers needing review: ${s.review} of ${key.length}; choices: ${JSON.stringify(c.counts)}`);
  console.log(
    `choice accuracy where the key determines it: ${c.right} of ${c.determinable} (${pct(c.right / c.determinable)}); the rest map to controls of differing status`,
  );
  console.log(`confidence calibration (top-1 accuracy): top decile ${pct(s.topDecile)}, bottom decile ${pct(s.bottomDecile)}`);
  console.log(`  by decile: ${s.deciles.map((d) => `${pct(d.accuracy)}@${d.minConfidence.toFixed(2)}`).join('  ')}`);
  if (results[0]!.llm) {
    const u = results[0]!.llm;
    const r = results[0]!.refill!;
    console.log(
      `LLM: ${u.calls} chat calls, ${u.embeddingCalls} embedding calls, ${u.tokens} tokens; re-fill of the same questionnaire: ${r.calls} chat calls, ${r.embeddingCalls} embedding calls, ${r.tokens} tokens, ${r.ms.toFixed(0)} ms`,
    );
  }
  return { ...s, ms };
}

const pgDatabases: string[] = [];
async function freshPg(): Promise<Database> {
  const name = `bench_fill_${process.pid}_${pgDatabases.length}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  pgDatabases.push(name);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return openDatabase({ url: url.toString() });
}

console.log(`# bench:fill: CAIQ v4.0.3, ${key.length} questions, question text only; ${os.cpus().length} cores, node ${process.version}`);
const offline = await series('offline, PGlite (in memory)', async () => openDatabase({ pglite: new PGlite() }));
let pgResult: { ms: number } | undefined;
const QUICK = process.env.BENCH_QUICK === '1';
if (QUICK) {
  process.exit(0);
} else if (await pgAvailable(PG_URL)) {
  pgResult = await series('offline, PostgreSQL 127.0.0.1', freshPg);
} else {
  console.log('\n## PostgreSQL: not reachable at 127.0.0.1:5432, skipped');
}
const fake = await startFakeOpenAI();
try {
  // The fake persists nothing between runs: the second run in the same database is what the cache saves.
  await series(
    'LLM mode (fake OpenAI-compatible server), PGlite',
    async () => openDatabase({ pglite: new PGlite() }),
    { openai: { apiKey: 'bench', baseUrl: fake.url, model: 'fake-chat', embeddingModel: 'fake-embed' } },
    fake,
  );
} finally {
  await fake.close();
}
if (pgDatabases.length > 0) {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  for (const name of pgDatabases) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
console.log(
  `\ntargets: top-3 >= 85% offline (${offline.top3 >= 0.85 ? 'met' : 'NOT met'}); < 3000 ms on PostgreSQL (${pgResult ? (pgResult.ms < 3000 ? 'met' : 'NOT met') : 'not measured'})`,
);
