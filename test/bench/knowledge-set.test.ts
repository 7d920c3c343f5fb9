// The knowledge set behind the 'knowledge sources' section of `npm run bench:answers`
// (bench/answers/knowledge/): its shape, that each expected string is really said by the source the
// question was written from, that control questions are not answered by any of them, and that the
// documents are our own text.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { docxOf, pdfOf } from '../helpers/documents.js';
import { REFERENCE_DATA as DATA, referenceRuns, sharedRuns } from '../helpers/own-words.js';

const KB = path.resolve('bench', 'answers', 'knowledge');
/** pdfOf draws each line as it is: longer lines run off the page. */
const PDF_LINE_MAX = 90;

type Kind = 'document' | 'evidence' | 'library';
interface Question {
  id: string;
  text: string;
  from?: string;
  expected: { contains: string[]; source: Kind | null };
}
interface SourceFile {
  file: string;
  title: string;
  visibility: string;
  controls?: string[];
}
interface Manifest {
  documents: SourceFile[];
  evidence: SourceFile[];
  pastQuestionnaire: string;
}

const questions = (JSON.parse(fs.readFileSync(path.join(KB, 'questions.json'), 'utf8')) as { questions: Question[] }).questions;
const manifest = JSON.parse(fs.readFileSync(path.join(KB, 'sources.json'), 'utf8')) as Manifest;
const past = parse(fs.readFileSync(path.join(KB, manifest.pastQuestionnaire), 'utf8'), { columns: true, skip_empty_lines: true }) as Array<
  Record<string, string>
>;

/** The text a source says, as the app would read it (headings included). */
function textOf(file: string): string {
  const raw = fs.readFileSync(path.join(KB, file), 'utf8');
  if (file.endsWith('.docx.json')) return (JSON.parse(raw) as { paragraphs: string[] }).paragraphs.map((p) => p.replace(/^#+ /, '')).join('\n');
  if (file.endsWith('.pdf.json')) return (JSON.parse(raw) as { pages: string[][] }).pages.map((lines) => lines.join(' ')).join('\n');
  return raw;
}
const texts = new Map<string, string>([...manifest.documents, ...manifest.evidence].map((f) => [f.file, textOf(f.file)]));
const pastAnswers = past.map((r) => `${r.Answer ?? ''} ${r.Comment ?? ''}`).join('\n');
const said: Record<Kind, string> = {
  document: manifest.documents.map((d) => texts.get(d.file)!).join('\n'),
  evidence: manifest.evidence.map((e) => texts.get(e.file)!).join('\n'),
  library: pastAnswers,
};
const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

t.test('the sources: formats, visibilities, files present, PDF lines short', async (t) => {
  const files = [...manifest.documents, ...manifest.evidence].map((f) => f.file);
  t.same(
    files.filter((f) => !fs.existsSync(path.join(KB, f))),
    [],
    'every listed file exists',
  );
  t.ok(manifest.documents.length >= 4 && manifest.documents.length <= 5, `${manifest.documents.length} documents`);
  for (const ext of ['.md', '.docx.json', '.pdf.json'])
    t.ok(
      manifest.documents.some((d) => d.file.endsWith(ext)),
      `a ${ext} document`,
    );
  t.same(
    manifest.documents.filter((d) => !['public', 'nda', 'private'].includes(d.visibility)).map((d) => d.file),
    [],
    'document visibilities',
  );
  t.ok(
    manifest.documents.some((d) => d.visibility === 'public'),
    'a public document',
  );
  t.ok(
    manifest.documents.some((d) => d.visibility !== 'public'),
    'an NDA or private document',
  );
  t.ok(manifest.evidence.length >= 1, 'an evidence file');
  t.same(
    manifest.evidence.filter((e) => !['public', 'internal'].includes(e.visibility) || !/\.(md|txt)$/.test(e.file)).map((e) => e.file),
    [],
    'evidence: plain text or Markdown, public or internal',
  );
  const titles = manifest.documents.map((d) => d.title);
  t.equal(new Set(titles).size, titles.length, 'distinct titles');
  for (const d of manifest.documents.filter((x) => x.file.endsWith('.pdf.json'))) {
    const { pages } = JSON.parse(fs.readFileSync(path.join(KB, d.file), 'utf8')) as { pages: string[][] };
    t.same(
      pages.flat().filter((l) => l.length > PDF_LINE_MAX),
      [],
      `${d.file}: lines of at most ${PDF_LINE_MAX} characters`,
    );
    t.ok((await pdfOf(pages)).subarray(0, 5).toString('latin1') === '%PDF-', `${d.file} builds into a PDF`);
  }
  for (const d of manifest.documents.filter((x) => x.file.endsWith('.docx.json'))) {
    const { paragraphs } = JSON.parse(fs.readFileSync(path.join(KB, d.file), 'utf8')) as { paragraphs: string[] };
    t.ok(paragraphs.some((p) => p.startsWith('# ')) && paragraphs.some((p) => p.startsWith('## ')), `${d.file}: headings`);
    t.ok((await docxOf(paragraphs)).subarray(0, 2).toString('latin1') === 'PK', `${d.file} builds into a DOCX`);
  }
});

t.test('the past questionnaire: Question, Answer, Comment; 15 to 25 rows answered Yes, No or N/A', async (t) => {
  t.same(Object.keys(past[0]!), ['Question', 'Answer', 'Comment'], 'columns');
  t.ok(past.length >= 15 && past.length <= 25, `${past.length} rows`);
  t.same(
    past.filter((r) => !['Yes', 'No', 'N/A'].includes(r.Answer!)).map((r) => r.Question),
    [],
    'answers are Yes, No or N/A',
  );
  t.same(
    past.filter((r) => !r.Comment?.trim()).map((r) => r.Question),
    [],
    'every row has a comment',
  );
  const qs = past.map((r) => norm(r.Question!));
  t.equal(new Set(qs).size, qs.length, 'no question twice');
});

t.test('the labelled questions: well formed, each expected string said by its source', async (t) => {
  const ids = questions.map((q) => q.id);
  t.equal(new Set(ids).size, ids.length, 'ids are unique');
  const normalized = questions.map((q) => norm(q.text));
  t.equal(new Set(normalized).size, normalized.length, 'no question is asked twice');
  const answerable = questions.filter((q) => q.expected.source !== null);
  const control = questions.filter((q) => q.expected.source === null);
  t.ok(answerable.length >= 35 && answerable.length <= 50, `${answerable.length} answerable questions`);
  t.ok(control.length >= 8, `${control.length} control questions`);
  for (const k of ['document', 'evidence', 'library'] as const)
    t.ok(
      answerable.some((q) => q.expected.source === k),
      `questions answered from ${k}`,
    );

  const bad: string[] = [];
  const sourceFiles = new Set([...texts.keys(), manifest.pastQuestionnaire]);
  for (const q of questions) {
    if (!q.text?.trim()) bad.push(`${q.id}: empty text`);
    if (!q.expected || !Array.isArray(q.expected.contains) || !('source' in q.expected)) {
      bad.push(`${q.id}: expected needs contains and source`);
      continue;
    }
    if (q.expected.source === null) {
      if (q.expected.contains.length > 0) bad.push(`${q.id}: a control question expects strings`);
      continue;
    }
    if (!['document', 'evidence', 'library'].includes(q.expected.source)) bad.push(`${q.id}: source ${q.expected.source}`);
    if (q.expected.contains.length === 0) bad.push(`${q.id}: expects no string`);
    if (!q.from || !sourceFiles.has(q.from)) {
      bad.push(`${q.id}: from ${q.from}`);
      continue;
    }
    // The question was written from `from`; the expected strings must be there, in a source of the expected kind.
    const own = q.from === manifest.pastQuestionnaire ? pastAnswers : texts.get(q.from)!;
    const kindOfFrom: Kind = q.from === manifest.pastQuestionnaire ? 'library' : manifest.evidence.some((e) => e.file === q.from) ? 'evidence' : 'document';
    if (kindOfFrom !== q.expected.source) bad.push(`${q.id}: from a ${kindOfFrom}, expects a ${q.expected.source}`);
    for (const s of q.expected.contains) {
      if (!s.trim()) bad.push(`${q.id}: an empty expected string`);
      else if (!own.toLowerCase().includes(s.toLowerCase())) bad.push(`${q.id}: "${s}" is not in ${q.from}`);
      else if (!said[q.expected.source].toLowerCase().includes(s.toLowerCase())) bad.push(`${q.id}: "${s}" is in no ${q.expected.source}`);
    }
  }
  t.same(bad, [], 'every question is well formed');
});

t.test('the questions are reworded, and control questions are answered by no source', async (t) => {
  const everything = [...texts.values(), ...past.map((r) => `${r.Question} ${r.Answer} ${r.Comment}`)].map(norm).join('\n');
  t.same(
    questions.filter((q) => q.expected.source === null && everything.includes(norm(q.text))).map((q) => q.id),
    [],
    'control question texts appear in no source',
  );
  // A question copied from the past questionnaire would only measure exact matching.
  const pastQs = new Set(past.map((r) => norm(r.Question!)));
  t.same(
    questions.filter((q) => pastQs.has(norm(q.text))).map((q) => q.id),
    [],
    'no question is a past question word for word',
  );
  // Nor is a question a sentence lifted from a document.
  const sentences = new Set([...texts.values()].flatMap((s) => s.split(/(?<=[.?!])\s+/)).map(norm));
  t.same(
    questions.filter((q) => sentences.has(norm(q.text))).map((q) => q.id),
    [],
    'no question is a document sentence',
  );
});

// ---------- our own words ----------
t.test(
  'our own words: no run of 8 words shared with the reference questionnaires and standards',
  { skip: fs.existsSync(DATA) ? false : `no ${DATA}` },
  async (t) => {
    const reference = await referenceRuns();
    const ours: Array<[string, string]> = [
      ...[...texts].map(([file, text]) => [file, text] as [string, string]),
      ...past.map((r, i) => [`${manifest.pastQuestionnaire} row ${i + 2}`, `${r.Question} ${r.Comment}`] as [string, string]),
      ...questions.map((q) => [q.id, q.text] as [string, string]),
    ];
    // Runs are taken within a line: a heading and the next paragraph are not one sentence.
    const hits = ours.flatMap(([id, text]) => text.split('\n').flatMap((line) => sharedRuns(id, line, reference)));
    t.same(hits, [], 'no shared run of 8 words');
  },
);
