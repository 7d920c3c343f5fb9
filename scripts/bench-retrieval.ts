// npm run bench:retrieval: how well the fill cites the right ISO/IEC 27001:2022 controls, on a
// labelled set in our own words (bench/retrieval/questions.json; each question names the Annex A
// controls that are acceptable first citations). The demo organization (all 93 Annex A controls
// answered) fills one questionnaire of the set's texts, offline, as bench:fill does; each answer's
// cited controls are scored: top-1 (first citation acceptable) and top-3 (one of the first three).
// Prints, per database, the rates for the 'fit' split (the one to tune retrieval on), the 'holdout'
// split (the honest figure) and all, then per Annex A family (A.5 to A.8, by first acceptable ref).
// The questions go in a fixed shuffled order: the set is written control by control, and the
// previous question's topic nudges the next ranking, which would flatter a grouped order.
// Options: --db pglite|postgres|both (default both; PostgreSQL only when 127.0.0.1:5432 answers),
// --misses fit (list the fit split's top-1 misses; never the holdout's, which is not for tuning).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase, type Database } from '../src/db/client.js';
import { runNextJob } from '../src/modules/questionnaires/service.js';
import { wholeQuestionnaire } from '../test/helpers/app.js';
import { demoApp, importTexts, pgAvailable } from './bench-app.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const { values: args } = parseArgs({ options: { db: { type: 'string', default: 'both' }, misses: { type: 'string' } } });
if (args.misses !== undefined && args.misses !== 'fit') throw new Error('--misses lists the fit split only');

interface Labelled {
  id: string;
  text: string;
  acceptable: string[];
  split: 'fit' | 'holdout';
}
const set = (JSON.parse(fs.readFileSync(path.resolve(here, '../bench/retrieval/questions.json'), 'utf8')) as { questions: Labelled[] }).questions;

/** A fixed permutation (mulberry32 seeded Fisher-Yates), the same on every run. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
const order = shuffled(set, 27001);

interface Answer {
  sources: Array<{ kind: string; ref?: string }>;
}

/** The cited controls of each question, in the set's shuffled order. */
async function citations(database: Database): Promise<string[][]> {
  const d = await demoApp(database, 'bench-retrieval');
  try {
    const id = await importTexts(
      d,
      'bench:retrieval',
      order.map((q) => q.text),
    );
    const fill = await d.app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: d.auth });
    if (fill.statusCode !== 202) throw new Error(`fill: ${fill.statusCode} ${fill.body}`);
    while (await runNextJob(d.app.jobDeps)) {
      /* drain */
    }
    const answers = ((await wholeQuestionnaire(d.app, d.auth, id)).questions as Array<{ answer: Answer }>).map((q) => q.answer);
    if (answers.length !== order.length) throw new Error(`${answers.length} answers for ${order.length} questions`);
    return answers.map((a) => a.sources.filter((s) => s.kind === 'control' && s.ref).map((s) => s.ref!));
  } finally {
    await d.close();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function report(label: string, cited: string[][]) {
  const rows = order.map((q, i) => {
    const refs = cited[i]!;
    const want = new Set(q.acceptable);
    return { q, refs, top1: refs.slice(0, 1).some((r) => want.has(r)), top3: refs.slice(0, 3).some((r) => want.has(r)) };
  });
  const line = (name: string, xs: typeof rows) =>
    `${name.padEnd(9)} n=${String(xs.length).padStart(3)}  top-1 ${pct(xs.filter((r) => r.top1).length / xs.length).padStart(6)}  top-3 ${pct(xs.filter((r) => r.top3).length / xs.length).padStart(6)}`;
  console.log(`\n## ${label}`);
  console.log(
    line(
      'fit',
      rows.filter((r) => r.q.split === 'fit'),
    ),
  );
  console.log(
    line(
      'holdout',
      rows.filter((r) => r.q.split === 'holdout'),
    ),
  );
  console.log(line('all', rows));
  console.log('by Annex A family (all questions, by the first acceptable control):');
  for (const family of ['A.5', 'A.6', 'A.7', 'A.8'])
    console.log(
      `  ${line(
        family,
        rows.filter((r) => r.q.acceptable[0]!.startsWith(`${family}.`)),
      )}`,
    );
  if (args.misses === 'fit') {
    for (const r of rows.filter((x) => x.q.split === 'fit' && !x.top1))
      console.log(`${r.top3 ? 'MISS@1' : 'MISS@3'} ${r.q.id} [${r.refs.slice(0, 3).join(' ')}] want [${r.q.acceptable.join(' ')}] ${r.q.text}`);
  }
}

console.log(
  `# bench:retrieval: ${set.length} questions (${set.filter((q) => q.split === 'fit').length} fit, ${set.filter((q) => q.split === 'holdout').length} holdout)`,
);
if (args.db !== 'postgres') report('offline, PGlite (in memory)', await citations(await openDatabase({ pglite: new PGlite() })));
if (args.db !== 'pglite') {
  if (!(await pgAvailable(PG_URL))) {
    console.log('\n## PostgreSQL: not reachable at 127.0.0.1:5432, skipped');
  } else {
    const name = `bench_retrieval_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const url = new URL(PG_URL);
      url.pathname = `/${name}`;
      report('offline, PostgreSQL 127.0.0.1', await citations(await openDatabase({ url: url.toString() })));
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
}
