// The work a parser worker does, run on this thread: worker threads report no coverage, and these
// readers deserve their own checks apart from the pool's limits (test/formats/pool.test.ts).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { PDFDocument } from 'pdf-lib';
import { failureOf, rethrow, runTask } from '../../src/formats/tasks.js';
import { readSoaTable, sniffUpload } from '../../src/formats/soa-table.js';
import { QuestionnaireParseError } from '../../src/formats/errors.js';
import { DomainError } from '../../src/lib/errors.js';
import { toXlsx } from '../../src/lib/tabular.js';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

t.test('questionnaires: CSV, the real HECVAT workbook and a VSAQ template', async (t) => {
  const csv = await runTask({
    kind: 'questionnaire',
    bytes: Buffer.from('ID,Question\nQ1,Do you encrypt backups?\nQ2,Describe your patching.\n'),
    fileName: 'q.csv',
    profile: 'editor',
  });
  t.match(csv, { ok: true, value: { format: 'csv', questions: [{ ref: 'Q1' }, { ref: 'Q2' }] } });
  const hecvat = await runTask({
    kind: 'questionnaire',
    bytes: fs.readFileSync(`${DATA}hecvat/HECVAT414.xlsx`),
    fileName: 'HECVAT414.xlsx',
    profile: 'editor',
  });
  t.ok(hecvat.ok && 'questions' in hecvat.value && hecvat.value.questions.length === 331, 'HECVAT: 331 answerable questions');
  const vsaq = await runTask({
    kind: 'questionnaire',
    bytes: fs.readFileSync(`${DATA}vsaq/infrastructure.json`),
    fileName: 'infrastructure.json',
    profile: 'prospect',
  });
  t.ok(vsaq.ok && 'questions' in vsaq.value && vsaq.value.questions.every((q) => q.answerCells[0]?.role === 'vsaq'), 'VSAQ items carry their answer cell');
  const refused = await runTask({ kind: 'questionnaire', bytes: Buffer.from([0, 1, 2, 3, 4, 5]), fileName: 'x.bin', profile: 'editor' });
  t.match(refused, { ok: false, kind: 'parse' });
});

t.test('SoA uploads: CSV and XLSX read to a header and rows; anything else refused', async (t) => {
  const csv = Buffer.from('ref,applicable,status,implementation,responsibility\nA.5.1,yes,implemented,Policies are approved yearly.,provider\n');
  t.equal(sniffUpload(csv), 'csv');
  t.match(await readSoaTable(csv), {
    format: 'csv',
    header: ['ref', 'applicable', 'status', 'implementation', 'responsibility'],
    rows: [{ rowNumber: 2, cells: ['A.5.1', 'yes', 'implemented'] }],
  });
  const xlsx = await toXlsx(
    'SoA',
    [
      { header: 'ref', value: (r: { ref: string }) => r.ref },
      { header: 'status', value: () => 'implemented' },
    ],
    [{ ref: 'A.5.1' }, { ref: 'A.8.5' }],
    { name: 'SoA', generatedAt: '2026-12-01T00:00:00Z' },
  );
  const table = await runTask({ kind: 'soa', bytes: xlsx });
  t.ok(table.ok, JSON.stringify(table).slice(0, 300));
  if (table.ok && 'rows' in table.value) {
    t.equal(table.value.format, 'xlsx');
    t.ok(
      table.value.rows.some((r) => r.cells.includes('A.8.5')),
      'the rows of the first sheet',
    );
  }
  t.match(await runTask({ kind: 'soa', bytes: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]) }), { ok: false, kind: 'domain' });
  t.match(await runTask({ kind: 'soa', bytes: Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]) }), { ok: false });
});

t.test('watermarks: every page stamped; a damaged PDF refused', async (t) => {
  const doc = await PDFDocument.create();
  doc.addPage([300, 400]);
  doc.addPage([400, 300]);
  const out = await runTask({
    kind: 'watermark',
    bytes: Buffer.from(await doc.save()),
    email: 'pat@buyer.example.com',
    at: '2026-12-01T10:00:00Z',
    organization: 'Acme',
  });
  t.ok(out.ok);
  if (out.ok) {
    const back = await PDFDocument.load(out.value as Uint8Array);
    t.equal(back.getPageCount(), 2);
    t.match(back.getSubject(), /pat@buyer\.example\.com on 2026-12-01 10:00 UTC/);
  }
  t.match(await runTask({ kind: 'watermark', bytes: Buffer.from('%PDF-1.7 broken'), email: 'x@y.z', at: new Date().toISOString(), organization: 'Acme' }), {
    ok: false,
    kind: 'domain',
    code: 'unprocessable',
  });
});

t.test('errors cross the thread boundary as the classes callers expect', async (t) => {
  t.throws(() => rethrow(failureOf(new QuestionnaireParseError('too_large', 'big'))), { name: 'QuestionnaireParseError', code: 'too_large' });
  t.throws(() => rethrow(failureOf(new DomainError('bad_request', 'bad', { errors: [{ field: 'f', message: 'm' }] }))), {
    name: 'DomainError',
    code: 'bad_request',
  });
  t.match(failureOf(new Error('boom')), { ok: false, kind: 'parse', code: 'corrupt', message: /boom/ });
});

t.test('compute tasks run an export of this code base, and nothing else', async (t) => {
  const cells = new URL('../../src/formats/cells.ts', import.meta.url).href;
  // columnLetter receives the task itself: an object is no column number, so it gives ''.
  t.same(await runTask({ kind: 'compute', module: cells, fn: 'columnLetter' }), { ok: true, value: '' });
  await t.rejects(runTask({ kind: 'compute', module: 'file:///etc/passwd', fn: 'x' }), /outside the code base/);
  await t.rejects(runTask({ kind: 'compute', module: cells, fn: 'noSuchExport' }), /noSuchExport is not a function/);
});
