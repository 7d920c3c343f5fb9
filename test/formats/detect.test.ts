import fs from 'node:fs';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  QuestionnaireParseError,
  classifyHeader,
  isIdLike,
  parseQuestionnaire,
  readZipDirectory,
  type ParsedQuestionnaire,
  type QuestionnaireParseErrorCode,
} from '../../src/formats/detect.js';
import { htmlToText, stripJsonExtensions } from '../../src/formats/vsaq.js';

// Real questionnaires, read from the shared reference data at test time and never copied into the
// repo (see ../shared/data/SOURCES.md).
const data = (p: string) => fileURLToPath(new URL(`../../../shared/data/${p}`, import.meta.url));
const read = (p: string) => fs.readFileSync(data(p));
const VSAQ_TEMPLATES = ['infrastructure', 'physical_and_datacenter', 'security_privacy_programs', 'webapp'];

async function rejects(t: Test, input: Parameters<typeof parseQuestionnaire>[0], code: QuestionnaireParseErrorCode, message?: RegExp) {
  try {
    await parseQuestionnaire(input);
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(err instanceof QuestionnaireParseError, 'a QuestionnaireParseError');
    t.equal((err as QuestionnaireParseError).code, code);
    if (message) t.match((err as Error).message, message);
  }
}

/** A list dropdown on column `col`, rows `from`..`to` (exceljs types only expose per-cell validations). */
function dropdown(ws: ExcelJS.Worksheet, col: string, from: number, to: number, formula: string): void {
  for (let r = from; r <= to; r++) ws.getCell(`${col}${r}`).dataValidation = { type: 'list', allowBlank: true, formulae: [formula] };
}

async function xlsxBuffer(wb: ExcelJS.Workbook): Promise<Buffer> {
  return Buffer.from(await wb.xlsx.writeBuffer());
}

t.test('helpers', async (t) => {
  for (const id of ['A&A-01.1', 'IAM-02', '1.2.3', 'HPSS-01', 'GNRL-09', 'CC6.1', 'A.5.1', 'Q12', '7']) t.ok(isIdLike(id), id);
  for (const v of ['Yes', 'Do you encrypt data?', 'network_firewalls', '']) t.notOk(isIdLike(v), v);
  t.equal(classifyHeader('CSP CAIQ Answer').kind, 'answer');
  t.equal(classifyHeader('SSRM Control Ownership').kind, 'ownership');
  t.equal(classifyHeader('CSP Implementation Description (Optional/Recommended)').kind, 'text');
  t.equal(classifyHeader('CSC Responsibilities (Optional/Recommended)').kind, 'text');
  t.equal(classifyHeader('Question ID').kind, 'id');
  t.equal(classifyHeader('Yes/No').kind, 'answer');
  t.equal(classifyHeader('Additional Information').kind, 'comment');
  t.equal(classifyHeader('Analyst Notes').kind, 'reference');
  t.equal(classifyHeader('Control Domain').kind, 'section');
  t.equal(classifyHeader('No').kind, 'answer');
  t.equal(classifyHeader('Item No.').kind, 'id');
  t.equal(classifyHeader('#').kind, 'id');
  t.equal(JSON.parse(stripJsonExtensions('// c\n{"a": "x" + // mid\n "y" + "z", "u": "http://e.com"} /* end */')).a, 'xyz');
});

t.test('CAIQ v4.0.3 CSV (CSA dataset export)', async (t) => {
  const r = await parseQuestionnaire({ fileName: 'caiq-v4.0.3.csv', bytes: read('csa/caiq-v4.0.3.csv') });
  t.equal(r.format, 'csv');
  t.equal(r.questions.length, 261);
  const [layout] = r.sheets;
  t.match(layout, { headerRow: 1, questionColumn: 'F', idColumn: 'E', sectionColumn: 'A' });
  const first = r.questions.find((q) => q.ref === 'A&A-01.1')!;
  t.match(first, { section: 'Audit & Assurance', questionCell: 'F13', row: 13 });
  t.match(first.text, /^Are audit and assurance policies/);
  t.equal(new Set(r.questions.map((q) => q.ref)).size, 261, 'every question keeps its Question ID');
  t.equal(new Set(r.questions.map((q) => q.section)).size, 17, 'sections are the 17 CCM control domains');
  // This CSV is CSA's dataset export (question + mappings), not the CAIQ response template: it has no
  // "CSP CAIQ Answer" column, and its Yes/No "CAIQ Lite" columns are subset flags, not answers. The
  // parser therefore proposes an answer column after the last used one; it is a choice because the
  // questions are closed (Are/Is/Does...).
  t.same(
    layout!.answerColumns.map((a) => [a.column, a.header, a.role, a.proposed]),
    [
      ['BU', 'Answer', 'choice', true],
      ['BV', 'Comments', 'comment', true],
    ],
  );
  t.same(
    first.answerCells.map((a) => [a.cell, a.role]),
    [
      ['BU13', 'choice'],
      ['BV13', 'comment'],
    ],
  );
  t.match(r.warnings.join('\n'), /No answer column found/);
});

t.test('CAIQ-style response workbook: answer, ownership and description headers', async (t) => {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('CAIQv4.0.3');
  ws.addRow(['Consensus Assessments Initiative Questionnaire v4.0.3']);
  ws.addRow([
    'Question ID',
    'Question',
    'CSP CAIQ Answer',
    'SSRM Control Ownership',
    'CSP Implementation Description (Optional/Recommended)',
    'CSC Responsibilities (Optional/Recommended)',
    'CCM Control ID',
    'CCM Control Specification',
    'CCM Control Title',
    'CCM Domain Title',
  ]);
  const rows: [string, string, string, string][] = [
    ['A&A-01.1', 'Are audit and assurance policies established?', 'A&A-01', 'Audit & Assurance'],
    ['A&A-01.2', 'Are audit and assurance policies reviewed at least annually?', 'A&A-01', 'Audit & Assurance'],
    ['AIS-01.1', 'Are application security policies established?', 'AIS-01', 'Application & Interface Security'],
    ['AIS-02.1', 'Are baseline requirements to secure applications established?', 'AIS-02', 'Application & Interface Security'],
  ];
  for (const [id, q, ctl, dom] of rows) ws.addRow([id, q, null, null, null, null, ctl, 'spec text', 'title', dom]);
  dropdown(ws, 'C', 3, 6, '"Yes,No,NA"');
  dropdown(ws, 'D', 3, 6, '"CSP-owned,CSC-owned,Shared CSP and CSC"');
  const r = await parseQuestionnaire({ fileName: 'caiq.xlsx', bytes: await xlsxBuffer(wb) });
  t.equal(r.format, 'xlsx');
  t.equal(r.questions.length, 4);
  t.match(r.sheets[0], { name: 'CAIQv4.0.3', headerRow: 2, questionColumn: 'B', idColumn: 'A', sectionColumn: 'J' });
  t.same(
    r.sheets[0]!.answerColumns.map((a) => [a.column, a.role, a.allowed ?? null]),
    [
      ['C', 'choice', ['Yes', 'No', 'NA']],
      ['D', 'ownership', ['CSP-owned', 'CSC-owned', 'Shared CSP and CSC']],
      ['E', 'text', null],
      ['F', 'text', null],
    ],
  );
  t.match(r.questions[0], {
    ref: 'A&A-01.1',
    section: 'Audit & Assurance',
    sheet: 'CAIQv4.0.3',
    row: 3,
    questionCell: 'B3',
    allowedAnswers: ['Yes', 'No', 'NA'],
  });
  t.same(
    r.questions[0]!.answerCells.map((a) => a.cell),
    ['C3', 'D3', 'E3', 'F3'],
  );
});

t.test('HECVAT 4.1.4 workbook', async (t) => {
  const bytes = read('hecvat/HECVAT414.xlsx');
  const started = Date.now();
  const r = await parseQuestionnaire({ fileName: 'HECVAT414.xlsx', bytes });
  t.ok(Date.now() - started < 15_000, 'parses in seconds (exceljs alone never finishes on this file)');
  t.equal(r.format, 'xlsx');

  // The hidden master sheet "Questions" lists 332 IDs (rows 3-334) but has no answer cells: respondents
  // answer on the visible tabs, whose rows pull the question text from it by formula. Those tabs hold
  // 331 distinct IDs: AILM-07 is in the master list but on no tab (the "AI" tab stops at AILM-06;
  // its rows 59-65 are hidden #REF! leftovers). So the answerable questions number 331, and the parser
  // says which one is missing.
  t.equal(r.questions.length, 331);
  t.match(r.warnings.join('\n'), /Hidden sheet "Questions" lists 332 question IDs; 1 of them .*: AILM-07\./);
  t.notOk(r.questions.some((q) => q.ref === 'AILM-07'));
  t.equal(new Set(r.questions.map((q) => q.ref)).size, 331, 'one entry per question ID');
  t.same(
    r.sheets.map((s) => s.name),
    ['START HERE', 'Organization', 'Product', 'Infrastructure', 'IT Accessibility', 'Case-Specific', 'AI', 'Privacy'],
  );
  for (const s of r.sheets) {
    t.match(s, { questionColumn: 'B', idColumn: 'A' }, s.name);
    t.same(
      s.answerColumns.map((a) => [a.column, a.header, a.role]),
      [
        ['C', 'Answer', 'choice'],
        ['D', 'Additional Information', 'comment'],
      ],
      s.name,
    );
  }

  // Answer cells are located, and the x14 cross-sheet dropdowns ('Auto Responses'!$J$3:$J$4 / $J$5 and
  // the hosting list $J$17:$J$23) give the allowed answers.
  t.ok(r.questions.every((q) => q.answerCells.length === 2));
  const q = (ref: string) => r.questions.find((x) => x.ref === ref)!;
  t.match(q('DOCU-01'), { sheet: 'Organization', row: 22, questionCell: 'B22', section: 'Documentation' });
  t.match(q('DOCU-01').text, /business continuity plan/);
  t.same(q('DOCU-01').answerCells, [
    { cell: 'C22', role: 'choice', header: 'Answer', allowed: ['Yes', 'No'] },
    { cell: 'D22', role: 'comment', header: 'Additional Information' },
  ]);
  t.same(q('DOCU-01').allowedAnswers, ['Yes', 'No']);
  t.same(q('THRD-01').allowedAnswers, ['Yes', 'No', 'N/A'], 'Organization C30:C33 use the three-value list');
  const hosting = r.questions.filter((x) => x.allowedAnswers?.includes('AWS'));
  t.equal(hosting.length, 1);
  t.match(hosting[0], { sheet: 'Infrastructure', row: 35 });
  t.same(hosting[0]!.answerCells[0]!.allowed, ['Self-Managed', 'Physical Co-Location', 'Virtual Co-Location', 'AWS', 'Azure', 'GCP', 'Hybrid/Other']);
  const withDropdown = r.questions.filter((x) => x.answerCells[0]!.allowed);
  t.equal(withDropdown.length, 303, 'every dropdown answer cell is found');
  // Cells without a dropdown in the Answer column take free text ("Describe ...", names, dates).
  t.ok(r.questions.filter((x) => x.answerCells[0]!.role === 'text').every((x) => !x.allowedAnswers));
  t.equal(r.questions.filter((x) => x.answerCells[0]!.role === 'text').length, 28);

  // GNRL-01..09 are answered on "START HERE" (the other tabs mirror them by formula) and sit above
  // that sheet's first header row.
  t.match(q('GNRL-01'), { sheet: 'START HERE', row: 13, answerCells: [{ cell: 'C13', role: 'text' }, { cell: 'D13' }] });
  t.match(q('GNRL-09'), { sheet: 'START HERE', row: 21 });
  t.match(q('REQU-01'), { sheet: 'START HERE', allowedAnswers: ['Yes', 'No'] });
  t.match(r.warnings.join('\n'), /17 question ID\(s\) appear on more than one sheet/);

  // Sections come from the block titles in the repeated header rows.
  t.equal(q('AILM-01').section, 'AI Large Language Model (LLM)');
  t.equal(q('PCID-01').section, 'Payment Card Industry Data Security Standard (PCI DSS)');
  t.ok(
    r.questions.every((x) => x.section),
    'every question has a section',
  );
  t.equal(new Set(r.questions.map((x) => x.section)).size, 35);
  // Formula-only evaluation sheets are reports, not questionnaires.
  t.match(r.warnings.join('\n'), /no answer cells were ignored: High-Risk Evaluation, Analyst Reference/);

  t.test('a mapping can read the hidden master list instead', async (t) => {
    const m = await parseQuestionnaire({ fileName: 'HECVAT414.xlsx', bytes, mapping: { sheet: 'Questions' } });
    t.equal(m.questions.length, 332);
    t.match(m.sheets, [{ name: 'Questions', headerRow: 2, questionColumn: 'B', idColumn: 'A' }]);
    t.match(m.questions.at(-1), { ref: 'AILM-07', sheet: 'Questions', row: 334 });
  });
});

t.test('VSAQ templates (JSON with comments and string joins)', async (t) => {
  const flat = parseCsv(read('vsaq/vsaq-questions-flat.csv'), { columns: true }) as Record<string, string>[];
  // The flat export keeps HTML entities (&lt;script&gt;) and spaces out removed tags; compare decoded text without whitespace.
  const squeeze = (s: string) => s.replace(/\s+/g, '');
  const flatText = (s: string) => squeeze(htmlToText(s));
  let total = 0;
  for (const name of VSAQ_TEMPLATES) {
    const r = await parseQuestionnaire({ fileName: `${name}.json`, bytes: read(`vsaq/${name}.json`) });
    t.equal(r.format, 'vsaq');
    t.ok(r.name, 'the top block names the questionnaire');
    total += r.questions.length;
    const expected = flat.filter((x) => x.template === name);
    t.equal(r.questions.length, expected.length, name);
    // Same items, in the same order, as the flat export (which spaces out HTML tags differently).
    r.questions.forEach((q, i) => {
      const f = expected[i]!;
      t.equal(q.ref ?? '', f.id);
      t.equal(q.section, f.section);
      if (f.text) t.equal(squeeze(q.text), flatText(f.text));
      else t.ok(q.text, 'an item without text takes its block title');
      t.same((q.allowedAnswers ?? []).map(squeeze), f.choices ? f.choices.split(' | ').map(flatText) : []);
    });
  }
  t.equal(total, 245, '245 answerable items across the four templates');
  const infra = await parseQuestionnaire({ fileName: 'infrastructure.json', bytes: read('vsaq/infrastructure.json') });
  t.match(
    infra.questions.find((q) => q.ref === 'network_firewalls'),
    {
      section: 'Infrastructure Security Questionnaire > Network',
      allowedAnswers: ['Yes, we have firewalls for filtering all inbound and outbound traffic.', 'We do not use firewalls.'],
    },
  );
  t.notOk(
    infra.questions.some((q) => /<[a-z]/i.test(q.text)),
    'HTML is reduced to text',
  );
});

t.test('VSAQ flat CSV', async (t) => {
  const r = await parseQuestionnaire({ fileName: 'vsaq-questions-flat.csv', bytes: read('vsaq/vsaq-questions-flat.csv') });
  t.match(r.sheets, [{ headerRow: 1, questionColumn: 'E', idColumn: 'B', sectionColumn: 'D' }]);
  // 245 rows, but 3 of them (the "options" checkgroups) have no question text: a CSV row without
  // question text is not a question, so 242; the 2 with an ID are reported.
  t.equal(r.questions.length, 242);
  t.match(r.warnings.join('\n'), /2 row\(s\) .* have an ID but no question text/);
  t.match(
    r.questions.find((q) => q.ref === 'network_dmz'),
    { section: 'Infrastructure Security Questionnaire > Network > Firewalls', row: 5, questionCell: 'E5' },
  );
  t.equal(r.questions.find((q) => q.ref === 'network_firewalls')!.allowedAnswers!.length, 2, 'the "choices" column gives allowed answers');
});

t.test('JSON questionnaires', async (t) => {
  const simple = {
    name: 'Vendor intake',
    questions: [{ ref: 'Q1', text: 'Do you encrypt data at rest?', section: 'Crypto' }, { text: 'Describe your backup process.' }, { section: 'no text' }],
  };
  const r = await parseQuestionnaire({ fileName: 'intake.json', bytes: Buffer.from(JSON.stringify(simple)) });
  t.match(r, { format: 'json', name: 'Vendor intake', sheets: [] });
  t.same(r.questions, [
    { ref: 'Q1', text: 'Do you encrypt data at rest?', section: 'Crypto', answerCells: [] },
    { text: 'Describe your backup process.', answerCells: [] },
  ]);
  t.match(r.warnings, [/1 JSON item/]);
  // CAIQ v4.1.0 as published in CSA's JSON dataset: question_id / question / ccm_domain_title.
  const caiq = await parseQuestionnaire({ fileName: 'caiq-v4.1.0.json', bytes: read('csa/caiq-v4.1.0.json') });
  t.equal(caiq.questions.length, 283);
  t.match(caiq.questions[0], { ref: 'A&A-01.1', section: 'Audit & Assurance' });
  await rejects(t, { fileName: 'x.json', bytes: Buffer.from('{"questions": [') }, 'corrupt');
  await rejects(t, { fileName: 'x.json', bytes: Buffer.from('{"foo": 1}') }, 'no_questions', /questions/);
});

t.test('mapping override fixes an odd custom spreadsheet', async (t) => {
  const wb = new ExcelJS.Workbook();
  const lists = wb.addWorksheet('Lists');
  ['Yes', 'No', 'Partially'].forEach((v, i) => (lists.getCell(`A${i + 1}`).value = v));
  ['Vendor', 'Customer', 'Shared'].forEach((v, i) => (lists.getCell(`B${i + 1}`).value = v));
  lists.state = 'hidden';
  wb.definedNames.add('Lists!$B$1:$B$3', 'Owners');
  const ws = wb.addWorksheet('Vendor Review');
  ws.getCell('A1').value = 'ACME vendor security review';
  ws.mergeCells('A1:F1');
  ws.getRow(3).values = ['Seq', 'Key', 'Status', 'Reviewer note', 'Item', 'Owner'];
  ws.getCell('A4').value = 'Access control';
  ws.mergeCells('A4:F4');
  const items: [number, string, string][] = [
    [5, 'K-01', 'Multi-factor authentication enforced for administrators'],
    [6, 'K-02', 'Access reviews performed quarterly'],
    [7, 'K-03', 'Single sign-on available to customers'],
  ];
  ws.getCell('A8').value = 'Data protection';
  ws.getCell('A8').font = { bold: true };
  items.push([9, 'K-04', 'Encryption at rest with AES-256'], [10, 'K-05', 'Backups tested twice a year']);
  ws.getCell('E11').value = 'Operations';
  ws.getCell('E11').font = { bold: true };
  items.push([12, 'K-06', 'Change management with peer review']);
  items.forEach(([row, key, text], i) => {
    ws.getCell(`A${row}`).value = i + 1;
    ws.getCell(`B${row}`).value = key;
    ws.getCell(`D${row}`).value = 'Checked by the 2023 review team?';
    ws.getCell(`E${row}`).value = text;
  });
  ws.getCell('D12').value = null;
  dropdown(ws, 'C', 5, 12, 'Lists!$A$1:$A$3');
  dropdown(ws, 'F', 5, 12, 'Owners');
  const bytes = await xlsxBuffer(wb);

  // "Item" is no question word and the items are statements, not questions: detection gives up and says why.
  await rejects(t, { fileName: 'review.xlsx', bytes }, 'no_questions', /question.*requirement.*description.*"\?"/s);

  const r = await parseQuestionnaire({ fileName: 'review.xlsx', bytes, mapping: { questionColumn: 'e', idColumn: 'B' } });
  t.match(r.sheets, [{ name: 'Vendor Review', headerRow: 3, questionColumn: 'E', idColumn: 'B' }]);
  t.same(
    r.sheets[0]!.answerColumns.map((a) => [a.column, a.header, a.role, a.allowed]),
    [
      ['C', 'Status', 'choice', ['Yes', 'No', 'Partially']],
      ['F', 'Owner', 'ownership', ['Vendor', 'Customer', 'Shared']],
    ],
  );
  t.same(
    r.questions.map((q) => [q.ref, q.section, q.row]),
    [
      ['K-01', 'Access control', 5],
      ['K-02', 'Access control', 6],
      ['K-03', 'Access control', 7],
      ['K-04', 'Data protection', 9],
      ['K-05', 'Data protection', 10],
      ['K-06', 'Operations', 12],
    ],
    'merged, bold and lone-title rows become sections',
  );
  t.same(r.questions[0]!.answerCells, [
    { cell: 'C5', role: 'choice', header: 'Status', allowed: ['Yes', 'No', 'Partially'] },
    { cell: 'F5', role: 'ownership', header: 'Owner', allowed: ['Vendor', 'Customer', 'Shared'] },
  ]);
  t.equal(r.questions[0]!.text, 'Multi-factor authentication enforced for administrators');

  const only = await parseQuestionnaire({
    bytes,
    mapping: { sheet: 'vendor review', headerRow: 3, questionColumn: 'E', idColumn: 'B', answerColumns: [{ column: 'D', role: 'comment' }] },
  });
  t.same(only.sheets[0]!.answerColumns, [{ column: 'D', header: 'Reviewer note', role: 'comment' }]);
  t.same(only.questions[0]!.answerCells, [{ cell: 'D5', role: 'comment', header: 'Reviewer note' }]);
  await rejects(t, { bytes, mapping: { sheet: 'Nope' } }, 'no_questions', /Vendor Review/);
  await rejects(t, { bytes, mapping: { questionColumn: '5' } }, 'no_questions', /column letter/);
});

t.test('bad input', async (t) => {
  const random = crypto.randomBytes(4096);
  random[0] = 0x00;
  await rejects(t, { fileName: 'q.xlsx', bytes: random }, 'corrupt', /not a ZIP/);
  await rejects(t, { fileName: 'q.bin', bytes: random }, 'not_a_spreadsheet', /binary/);
  await rejects(t, { bytes: Buffer.alloc(0) }, 'not_a_spreadsheet', /empty/);
  await rejects(t, { bytes: Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1') }, 'not_a_spreadsheet', /PDF/);
  await rejects(
    t,
    { fileName: 'export.xls', bytes: Buffer.from('<html><body><table><tr><td>Question</td></tr></table></body></html>') },
    'not_a_spreadsheet',
    /HTML/,
  );

  const ole = (...names: string[]) => {
    const b = Buffer.alloc(4096);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(b);
    names.forEach((n, i) => Buffer.from(n, 'utf16le').copy(b, 1024 + i * 128));
    return b;
  };
  await rejects(t, { fileName: 'locked.xlsx', bytes: ole('Root Entry', 'EncryptionInfo', 'EncryptedPackage') }, 'encrypted', /password/);
  await rejects(t, { fileName: 'old.xls', bytes: ole('Root Entry', 'Workbook', 'SummaryInformation') }, 'not_a_spreadsheet', /\.xls\b.*save it as \.xlsx/i);

  const docx = new JSZip();
  docx.file('[Content_Types].xml', '<Types/>');
  docx.file('word/document.xml', '<w:document/>');
  await rejects(t, { bytes: await docx.generateAsync({ type: 'nodebuffer' }) }, 'not_a_spreadsheet', /Word/);

  const hecvat = read('hecvat/HECVAT414.xlsx');
  await rejects(t, { fileName: 'cut.xlsx', bytes: hecvat.subarray(0, hecvat.length >> 1) }, 'corrupt', /truncated/);

  await rejects(
    t,
    { fileName: 'people.csv', bytes: Buffer.from('name,age,city\nAlice,30,Paris\nBob,41,Lyon\nCarol,28,Nantes\n') },
    'no_questions',
    /"question".*"requirement".*"description".*"\?"/s,
  );

  const many = ['Question', ...Array.from({ length: 5001 }, (_, i) => `Is control ${i} implemented?`)].join('\n');
  await rejects(t, { fileName: 'big.csv', bytes: Buffer.from(many) }, 'too_large', /5000/);
});

t.test('zip bombs are refused before inflating', async (t) => {
  // 300 MiB of zeros, streamed into jszip and DEFLATEd at level 9 (about 300 KiB on disk).
  const chunk = Buffer.alloc(1 << 20);
  let left = 300;
  const zeros = new Readable({
    read() {
      this.push(left-- > 0 ? chunk : null);
    },
  });
  const bomb = new JSZip();
  bomb.file('[Content_Types].xml', '<Types/>');
  bomb.file('xl/workbook.xml', '<workbook/>');
  bomb.file('xl/worksheets/sheet1.xml', zeros, { binary: true });
  const bytes = await bomb.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
  t.ok(bytes.length < 2 * 1024 * 1024);
  t.equal(readZipDirectory(bytes).find((e) => e.name === 'xl/worksheets/sheet1.xml')!.uncompressedSize, 300 * 1024 * 1024);
  await rejects(t, { fileName: 'bomb.xlsx', bytes }, 'too_large', /300 MiB.*100 MiB/);

  // Under the size limit but 1000:1.
  const dense = new JSZip();
  dense.file('xl/workbook.xml', '<workbook/>');
  dense.file('xl/worksheets/sheet1.xml', Buffer.alloc(4 * 1024 * 1024));
  await rejects(t, { bytes: await dense.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } }) }, 'too_large', /:1/);

  // An entry that lies about its size in the central directory is stopped at the declared size.
  const liar = new JSZip();
  liar.file('xl/workbook.xml', '<workbook/>');
  liar.file('xl/worksheets/sheet1.xml', Buffer.alloc(2 * 1024 * 1024));
  const lying = await liar.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  const cd = lying.indexOf(Buffer.from('xl/worksheets/sheet1.xml'), lying.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))) - 46;
  t.equal(lying.readUInt32LE(cd), 0x02014b50);
  lying.writeUInt32LE(1000, cd + 24);
  await rejects(t, { bytes: lying }, 'too_large', /declared size/);
});

t.test('CSV details', async (t) => {
  // Semicolons, a UTF-8 BOM, section rows and a Yes/No column.
  const csv =
    '\ufeffRef;Question;Response;Comments\nAccess;;;\n1.1;Do you enforce MFA?;Yes;\n1.2;Do you review access quarterly?;No;planned\nCrypto;;;\n2.1;Is data encrypted at rest?;;\n';
  const r: ParsedQuestionnaire = await parseQuestionnaire({ fileName: 'q.csv', bytes: Buffer.from(csv) });
  t.match(r.sheets, [
    {
      headerRow: 1,
      questionColumn: 'B',
      idColumn: 'A',
      answerColumns: [
        { column: 'C', role: 'choice' },
        { column: 'D', role: 'comment' },
      ],
    },
  ]);
  t.same(
    r.questions.map((q) => [q.ref, q.section, q.row]),
    [
      ['1.1', 'Access', 3],
      ['1.2', 'Access', 4],
      ['2.1', 'Crypto', 6],
    ],
  );
  t.same(r.questions[0]!.answerCells, [
    { cell: 'C3', role: 'choice', header: 'Response' },
    { cell: 'D3', role: 'comment', header: 'Comments' },
  ]);
  // UTF-16 with BOM (Excel "Unicode text"), tab separated, no header row at all.
  const tsv = 'What is your RTO?\t\nDo you have a BCP?\t\n';
  // Opens like JSON but is a CSV.
  const bracket = await parseQuestionnaire({ bytes: Buffer.from('[Ref],Question\nQ1,Do you log admin actions?\n') });
  t.match(bracket, { format: 'csv', questions: [{ ref: 'Q1' }] });
  const u = await parseQuestionnaire({ fileName: 'q.txt', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tsv, 'utf16le')]) });
  t.match(u.sheets, [{ headerRow: 0, questionColumn: 'A' }]);
  t.equal(u.questions.length, 2);
});
