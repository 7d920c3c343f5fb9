// The labelled set behind `npm run bench:retrieval` (bench/retrieval/questions.json): its shape, its
// consistency with the ISO/IEC 27001:2022 catalog, and that it is our own text.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { referenceRuns, sharedRuns } from '../helpers/own-words.js';

interface Question {
  id: string;
  text: string;
  acceptable: string[];
  split: string;
}
const questions = (JSON.parse(fs.readFileSync(path.resolve('bench', 'retrieval', 'questions.json'), 'utf8')) as { questions: Question[] }).questions;
const catalog = (JSON.parse(fs.readFileSync(path.resolve('seeds', 'catalog', 'iso27001-2022.json'), 'utf8')) as { controls: Array<{ ref: string }> }).controls;
const catalogRefs = new Set(catalog.map((c) => c.ref));
const annexA = catalog.map((c) => c.ref).filter((ref) => ref.startsWith('A.'));

t.test('the labelled questions: counts, ids, splits, acceptable controls', async (t) => {
  t.ok(questions.length >= 250, `${questions.length} questions`);
  const ids = questions.map((q) => q.id);
  t.equal(new Set(ids).size, ids.length, 'ids are unique');
  const texts = questions.map((q) => q.text.toLowerCase().trim());
  t.equal(new Set(texts).size, texts.length, 'no question is asked twice');
  const bad: string[] = [];
  for (const q of questions) {
    if (q.split !== 'fit' && q.split !== 'holdout') bad.push(`${q.id}: split ${q.split}`);
    if (!q.text.trim()) bad.push(`${q.id}: empty text`);
    if (q.acceptable.length < 1 || q.acceptable.length > 3) bad.push(`${q.id}: ${q.acceptable.length} acceptable controls`);
    if (new Set(q.acceptable).size !== q.acceptable.length) bad.push(`${q.id}: a control listed twice`);
    for (const ref of q.acceptable) if (!catalogRefs.has(ref) || !ref.startsWith('A.')) bad.push(`${q.id}: ${ref} is not an Annex A control of the catalog`);
  }
  t.same(bad, [], 'every question is well formed');
  t.equal(annexA.length, 93, 'the catalog holds the 93 Annex A controls');
  const uses = new Map<string, number>();
  for (const q of questions) for (const ref of q.acceptable) uses.set(ref, (uses.get(ref) ?? 0) + 1);
  t.same(
    annexA.filter((ref) => (uses.get(ref) ?? 0) < 2),
    [],
    'every Annex A control is an acceptable citation of at least two questions',
  );
  const holdout = questions.filter((q) => q.split === 'holdout').length / questions.length;
  t.ok(holdout >= 0.28 && holdout <= 0.38, `${(holdout * 100).toFixed(0)}% held out (about a third)`);
});

t.test('our own words: no run of 8 words shared with the reference questionnaires and standards', async (t) => {
  const reference = await referenceRuns();
  t.ok(reference.size > 100_000, `reference runs indexed: ${reference.size}`);
  t.same(
    questions.flatMap((q) => sharedRuns(q.id, q.text, reference)),
    [],
    'no shared run of 8 words',
  );
});
