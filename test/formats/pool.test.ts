// The parser pool: files are read in worker threads with a heap cap and a deadline; a worker that
// runs out of either gives a clean too_large error naming the limit, and the pool goes on working.
import t from 'tap';
import { ParserPool } from '../../src/formats/pool.js';
import { PROSPECT_LIMITS, EDITOR_LIMITS } from '../../src/formats/limits.js';
import { DomainError } from '../../src/lib/errors.js';
import { bigCsv, manyCellsWorkbook, nestedVsaq } from '../helpers/hostile.js';

const csv = Buffer.from('ID,Question\nQ1,Do you encrypt data at rest?\n');

t.test('a worker out of memory is a too_large error, and the pool recovers', async (t) => {
  const pool = new ParserPool({ threads: 1, memoryMb: 64, timeoutMs: 60_000 });
  t.teardown(() => pool.close());
  // Under the editor's cell cap, but exceljs needs far more than 64 MB for it.
  await t.rejects(pool.parseQuestionnaire({ bytes: manyCellsWorkbook(450_000), fileName: 'big.xlsx', profile: 'editor' }), {
    code: 'too_large',
    message: /limit: parser memory/,
  });
  const ok = await pool.parseQuestionnaire({ bytes: csv, fileName: 'q.csv', profile: 'editor' });
  t.equal(ok.questions.length, 1, 'a new worker reads the next file');
});

t.test('a file past the deadline is a too_large error naming the time limit', async (t) => {
  const pool = new ParserPool({ threads: 1, memoryMb: 256, timeoutMs: 1 });
  t.teardown(() => pool.close());
  // The deadline starts when the worker starts on the file (not while it boots), then 1 ms is short for 2 MB.
  await t.rejects(pool.parseQuestionnaire({ bytes: bigCsv(2_000_000), fileName: 'q.csv', profile: 'editor' }), {
    code: 'too_large',
    message: /limit: parse time/,
  });
});

t.test('refusals come back as the errors the callers expect', async (t) => {
  const pool = new ParserPool({ threads: 1, memoryMb: 256, timeoutMs: 60_000 });
  t.teardown(() => pool.close());
  await t.rejects(pool.parseQuestionnaire({ bytes: nestedVsaq(40, 10), fileName: 'n.json', profile: 'prospect' }), {
    name: 'QuestionnaireParseError',
    code: 'too_large',
    message: /limit: nesting depth/,
  });
  const editor = await pool.parseQuestionnaire({ bytes: nestedVsaq(20, 10), fileName: 'n.json', profile: 'editor' });
  t.equal(editor.questions.length, 21);
  t.ok(PROSPECT_LIMITS.maxJsonDepth < 2 * 20 + 2 && EDITOR_LIMITS.maxJsonDepth >= 2 * 20 + 3, 'the depths straddle the limits');
  const table = await pool.readSoa(Buffer.from('ref,applicable\nA.5.1,yes\n'));
  t.same(table, { format: 'csv', header: ['ref', 'applicable'], rows: [{ rowNumber: 2, cells: ['A.5.1', 'yes'] }] });
  const wide = pool.readSoa(Buffer.from(`ref${',x'.repeat(600)}\n`));
  await t.rejects(wide, DomainError);
  await t.rejects(wide, { code: 'payload_too_large', message: /limit: columns/ });
  const lying = pool.readSoa(Buffer.from('PK\x03\x04not a zip'));
  await t.rejects(lying, { code: 'bad_request' });
});

t.test('NDA watermarks are stamped in a worker; a damaged PDF is refused, not served unmarked', async (t) => {
  const { PDFDocument } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  doc.addPage([300, 400]);
  const pdf = Buffer.from(await doc.save());
  const pool = new ParserPool({ threads: 1, memoryMb: 256, timeoutMs: 60_000 });
  t.teardown(() => pool.close());
  const stamped = await pool.watermarkPdf(pdf, { email: 'pat@buyer.example.com', at: new Date('2026-12-01T10:00:00Z'), organization: 'Acme' });
  t.ok(Buffer.isBuffer(stamped));
  const back = await PDFDocument.load(stamped);
  t.match(back.getSubject(), /pat@buyer\.example\.com/, 'the grantee is in the stamped file');
  await t.rejects(pool.watermarkPdf(Buffer.from('%PDF-1.7 not really'), { email: 'x@y.z', at: new Date(), organization: 'Acme' }), {
    name: 'DomainError',
    code: 'unprocessable',
  });
});
