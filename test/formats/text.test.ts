// Policy documents read into cited passages. The readers run on this thread (worker threads report
// no coverage); one test goes through a real parser pool. Every fixture is built here.
import t from 'tap';
import JSZip from 'jszip';
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import { ParserPool } from '../../src/formats/pool.js';
import { runTask } from '../../src/formats/tasks.js';
import { detectTextFormat, extractText, PassageBuilder, splitParagraph, TEXT_LIMITS } from '../../src/formats/text.js';
import { docxOf } from '../helpers/documents.js';

async function twoPagePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const p1 = doc.addPage([595, 842]);
  p1.drawText('Access Control', { x: 50, y: 780, size: 22, font: bold });
  p1.drawText('Access to production systems requires multi-factor authentication.', { x: 50, y: 740, size: 11, font });
  p1.drawText('Access rights are reviewed every quarter by the system owner.', { x: 50, y: 726, size: 11, font });
  const p2 = doc.addPage([595, 842]);
  p2.drawText('Backups are encrypted with AES-256 and restored in a yearly test.', { x: 50, y: 780, size: 11, font });
  p2.drawText('Backup copies are kept in a second region for thirty days.', { x: 50, y: 766, size: 11, font });
  return Buffer.from(await doc.save());
}

// A PDF written by hand (pdf-lib cannot encrypt): objects, then an xref table with their offsets.
function rawPdf(objects: string[], trailerExtra: string): Buffer {
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

async function scannedPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([595, 842]).drawRectangle({ x: 50, y: 50, width: 400, height: 600, color: rgb(0.2, 0.2, 0.2) });
  doc.addPage([595, 842]).drawRectangle({ x: 80, y: 80, width: 300, height: 300, color: rgb(0.5, 0.5, 0.5) });
  return Buffer.from(await doc.save());
}

function docx(): Promise<Buffer> {
  return docxOf([
    '# Information Security Policy',
    'This policy applies to all employees and contractors.',
    '## Encryption',
    'Customer data is encrypted at rest with AES-256.',
    'Keys are rotated every year.',
    '# Incident Response',
    'Incidents are reported to customers within 72 hours.',
  ]);
}

t.test('format detection: magic bytes first, then content type and extension', async (t) => {
  t.equal(detectTextFormat(await twoPagePdf(), { fileName: 'policy.txt' }), 'pdf', 'a PDF named .txt is a PDF');
  t.equal(detectTextFormat(await docx(), {}), 'docx', 'a DOCX without a name is found by word/document.xml');
  t.equal(detectTextFormat(Buffer.from('# Hi'), { fileName: 'README.MD' }), 'markdown');
  t.equal(
    detectTextFormat(Buffer.from('# Hi'), { fileName: 'notes.markdown', contentType: 'text/plain' }),
    'markdown',
    'text/plain leaves it to the extension',
  );
  t.equal(detectTextFormat(Buffer.from('<p>x</p>'), { contentType: 'text/html; charset=utf-8' }), 'html');
  t.equal(detectTextFormat(Buffer.from('<p>x</p>'), { fileName: 'a.htm' }), 'html');
  t.equal(detectTextFormat(Buffer.from('x'), { fileName: 'a.txt' }), 'text');
  t.equal(detectTextFormat(Buffer.from('x'), { fileName: 'a.bin' }), undefined);
  t.equal(detectTextFormat(Buffer.from('\x89PNG\r\n\x1a\n....', 'latin1'), { fileName: 'scan.txt' }), undefined, 'an image is never text, whatever its name');
});

t.test('PDF: passages carry their page and the heading above them', async (t) => {
  const out = await extractText(await twoPagePdf(), { fileName: 'policy.pdf' });
  t.equal(out.format, 'pdf');
  t.equal(out.pages, 2);
  t.equal(out.scanned, false);
  t.equal(out.truncated, false);
  const p1 = out.passages.filter((p) => p.page === 1);
  const p2 = out.passages.filter((p) => p.page === 2);
  t.ok(p1.length >= 1 && p2.length >= 1, 'passages on both pages');
  t.match(p1.map((p) => p.text).join(' '), /multi-factor authentication.*reviewed every quarter/s);
  t.notMatch(p1.map((p) => p.text).join(' '), /Backups/, 'page 2 text is not on page 1');
  t.match(p2.map((p) => p.text).join(' '), /Backups are encrypted with AES-256.*second region/s);
  t.equal(p1[0]?.heading, 'Access Control', 'the large short line is the heading');
  t.notMatch(p1[0]?.text ?? '', /^Access Control/, 'the heading is not repeated as body text');
  t.ok(
    out.passages.every((p) => p.page === 1 || p.page === 2),
    'every passage has a 1-based page',
  );
});

t.test('PDF: pieces of one line are joined, paragraphs end at wider gaps, pages past the cap are not read', async (t) => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= 5; n++) {
    const page = doc.addPage([400, 400]);
    page.drawText('Retention:', { x: 40, y: 350, size: 10, font });
    page.drawText(`${n * 30} days`, { x: 100, y: 350, size: 10, font });
    page.drawText('for audit logs.', { x: 150, y: 350, size: 10, font });
    page.drawText(`Second paragraph of page ${n} stands apart.`, { x: 40, y: 300, size: 10, font });
  }
  // The page cap lowered for this test, so a 5-page file stands in for one of 2,001 pages.
  const cap = TEXT_LIMITS.maxPdfPages;
  TEXT_LIMITS.maxPdfPages = 3;
  t.teardown(() => {
    TEXT_LIMITS.maxPdfPages = cap;
  });
  const out = await extractText(Buffer.from(await doc.save()), {});
  t.equal(out.pages, 5, 'the page count is the whole document');
  t.equal(out.truncated, true);
  t.same(out.passages.slice(0, 2), [
    { text: 'Retention: 30 days for audit logs.\nSecond paragraph of page 1 stands apart.', page: 1 },
    { text: 'Retention: 60 days for audit logs.\nSecond paragraph of page 2 stands apart.', page: 2 },
  ]);
  t.same([...new Set(out.passages.map((p) => p.page))], [1, 2, 3], 'pages past the cap are not read');
});

t.test('PDF: pages without a text layer are a scan', async (t) => {
  const out = await extractText(await scannedPdf(), { fileName: 'scan.pdf' });
  t.same(out, { format: 'pdf', passages: [], pages: 2, scanned: true, truncated: false });
});

t.test('PDF and DOCX: damaged, misnamed and password-protected files are refused as such', async (t) => {
  await t.rejects(extractText(Buffer.from('%PDF-1.7\nnot really a pdf'), { fileName: 'x.pdf' }), { name: 'QuestionnaireParseError', code: 'corrupt' });
  await t.rejects(extractText(Buffer.from('just text'), { fileName: 'x.pdf' }), { code: 'corrupt', message: /does not start like one/ });
  await t.rejects(extractText(Buffer.from('just text'), { fileName: 'x.docx' }), { code: 'corrupt', message: /not a ZIP package/ });
  // A standard security handler whose user password is not empty: pdf.js asks for a password.
  const hex = (n: number) => `<${'ab'.repeat(n)}>`;
  const locked = rawPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
      `<< /Filter /Standard /V 1 /R 2 /O ${hex(32)} /U ${hex(32)} /P -4 >>`,
    ],
    `/Encrypt 4 0 R /ID [${hex(16)} ${hex(16)}]`,
  );
  await t.rejects(extractText(locked, { fileName: 'locked.pdf' }), { code: 'encrypted', message: /password-protected/ });
  t.equal(detectTextFormat(Buffer.from('just text'), { contentType: 'application/pdf' }), undefined, 'a content type alone does not make a PDF');
});

t.test('DOCX: Word heading styles give the passages their heading path', async (t) => {
  const out = await extractText(await docx(), { fileName: 'isp.docx' });
  t.equal(out.format, 'docx');
  t.same(out.passages, [
    { text: 'This policy applies to all employees and contractors.', heading: 'Information Security Policy' },
    { text: 'Customer data is encrypted at rest with AES-256.\nKeys are rotated every year.', heading: 'Information Security Policy > Encryption' },
    { text: 'Incidents are reported to customers within 72 hours.', heading: 'Incident Response' },
  ]);
});

t.test('DOCX: the ZIP limits apply before mammoth inflates anything', async (t) => {
  const zip = new JSZip();
  zip.file('word/document.xml', '<w:document/>');
  zip.file('word/bomb.xml', Buffer.alloc(8 * 1024 * 1024, 0x20));
  const bomb = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  await t.rejects(extractText(bomb, { fileName: 'bomb.docx' }), { code: 'too_large', message: /document expands .*zip bomb/ });
  await t.rejects(extractText(Buffer.from('PK\x03\x04 damaged'), { fileName: 'broken.docx' }), { code: 'corrupt', message: /document is damaged/ });
});

t.test('Markdown: ATX and setext headings, lists, tables and code blocks', async (t) => {
  const md = [
    '# Security Policy',
    '',
    'All laptops use **full-disk** encryption.',
    '',
    'Access Reviews',
    '--------------',
    '',
    '- Quarterly reviews of [admin](https://example.com) access',
    '- Leavers are removed within one day',
    '',
    '## Tooling',
    '',
    '```sh',
    'vault operator rotate',
    '```',
    '',
    '| Control | Owner |',
    '| --- | --- |',
    '| MFA | IT |',
    '',
    '<div class="note"><p>Reviewed <b>yearly</b>.</p></div>',
  ].join('\n');
  const out = await extractText(Buffer.from(md), { fileName: 'policy.md' });
  t.equal(out.format, 'markdown');
  t.same(out.passages, [
    { text: 'All laptops use full-disk encryption.', heading: 'Security Policy' },
    { text: 'Quarterly reviews of admin access\nLeavers are removed within one day', heading: 'Security Policy > Access Reviews' },
    { text: 'vault operator rotate\nControl | Owner\nMFA | IT\nReviewed yearly.', heading: 'Security Policy > Tooling' },
  ]);
});

t.test('HTML: scripts, styles and navigation are ignored; headings nest', async (t) => {
  const html = `<!doctype html><html><head><title>Policy page</title><style>p { color: red }</style></head><body>
    <nav><a href="/">Home</a> <a href="/about">About us</a></nav>
    <script>var secret = "do not index me";</script>
    <h1>Data Protection</h1>
    <p>We keep personal data   only as long as needed.</p>
    <h2>Retention &amp; Deletion</h2>
    <ul><li>Logs: 90 days</li><li>Backups: 30 days</li></ul>
    <table><tr><th>System</th><td>Postgres</td></tr></table>
    <script type="module">console.log('nor me')</script>
    <h2>Sub-processors</h2><p>Listed on our trust page.</p>
  </body></html>`;
  const out = await extractText(Buffer.from(html), { contentType: 'text/html' });
  const all = out.passages.map((p) => p.text).join('\n');
  t.notMatch(all, /do not index me|nor me|color: red|About us|Policy page/, 'script, style, nav and head text is absent');
  t.same(out.passages, [
    { text: 'We keep personal data only as long as needed.', heading: 'Data Protection' },
    { text: 'Logs: 90 days\nBackups: 30 days\nSystem\nPostgres', heading: 'Data Protection > Retention & Deletion' },
    { text: 'Listed on our trust page.', heading: 'Data Protection > Sub-processors' },
  ]);
});

t.test('HTML: a long heading path keeps the nearest heading, at most 200 characters', async (t) => {
  const html = `<h1>${'Parent '.repeat(20)}</h1><h2>${'Child '.repeat(50)}</h2><p>Body.</p>`;
  const out = await extractText(Buffer.from(html), { fileName: 'x.html' });
  const heading = out.passages[0]?.heading ?? '';
  t.ok(heading.length <= 200, `heading length ${heading.length}`);
  t.match(heading, /^Child Child/, 'the ancestor is dropped first');
});

t.test('plain text: paragraphs by blank lines, merged up to ~900 characters, no headings', async (t) => {
  const out = await extractText(Buffer.from('First paragraph\nwraps here.\n\n\nSecond one.\r\n\r\nThird.'), { fileName: 'notes.txt' });
  t.same(out, { format: 'text', passages: [{ text: 'First paragraph wraps here.\nSecond one.\nThird.' }], scanned: false, truncated: false });
  const long = Array.from({ length: 3 }, (_, i) => `Paragraph ${i} ${'word '.repeat(78)}`).join('\n\n');
  const merged = await extractText(Buffer.from(long), { fileName: 'notes.txt' });
  t.equal(merged.passages.length, 2, 'two ~400-character paragraphs share a passage, the third does not fit');
  t.ok(merged.passages.every((p) => p.text.length <= TEXT_LIMITS.mergeChars));
});

t.test('long paragraphs split at sentence boundaries, never over the maximum', async (t) => {
  const sentence = (i: number) => `Sentence number ${i} describes how the control operates in practice across teams.`;
  const text = Array.from({ length: 80 }, (_, i) => sentence(i)).join(' ');
  const out = await extractText(Buffer.from(text), { fileName: 'long.txt' });
  t.ok(out.passages.length > 1);
  t.ok(
    out.passages.every((p) => p.text.length <= TEXT_LIMITS.maxPassageChars),
    `max ${Math.max(...out.passages.map((p) => p.text.length))}`,
  );
  t.ok(
    out.passages.every((p) => /^Sentence number \d+ .*practice across teams\.$/.test(p.text)),
    'each passage starts and ends at a sentence',
  );
  t.equal(out.passages.map((p) => p.text).join(' '), text, 'nothing lost');
  // No sentence ends at all: cut at spaces, still within the maximum.
  const words = splitParagraph('lorem ipsum '.repeat(300).trim(), 900, 1200);
  t.ok(words.length > 1 && words.every((w) => w.length <= 1200 && !w.startsWith(' ')));
  t.same(splitParagraph('Short. Text.', 900, 1200), ['Short. Text.']);
});

t.test('passages never merge across pages or headings', async (t) => {
  const b = new PassageBuilder();
  b.add('one', { page: 1, heading: 'A' });
  b.add('two', { page: 1, heading: 'A' });
  b.add('three', { page: 2, heading: 'A' });
  b.add('four', { page: 2, heading: 'B' });
  b.add('   ', { page: 2, heading: 'B' });
  t.same(b.finish(), [
    { text: 'one\ntwo', page: 1, heading: 'A' },
    { text: 'three', page: 2, heading: 'A' },
    { text: 'four', page: 2, heading: 'B' },
  ]);
});

t.test('truncation: past 2,000 passages or 2,000,000 characters the rest is dropped', async (t) => {
  const manyHeadings = Array.from({ length: 2_100 }, (_, i) => `# Section ${i}\n\nText ${i}.`).join('\n\n');
  const byCount = await extractText(Buffer.from(manyHeadings), { fileName: 'big.md' });
  t.equal(byCount.truncated, true);
  t.equal(byCount.passages.length, TEXT_LIMITS.maxPassages);
  t.same(byCount.passages.at(-1), { text: 'Text 1999.', heading: 'Section 1999' });

  const para = 'All data is encrypted. '.repeat(50).trim(); // 1,149 characters: one passage each, not split
  const byChars = await extractText(Buffer.from(Array.from({ length: 1_900 }, () => para).join('\n\n')), { fileName: 'big.txt' });
  t.equal(byChars.truncated, true);
  const total = byChars.passages.reduce((s, p) => s + p.text.length, 0);
  t.ok(total <= TEXT_LIMITS.maxChars && total > TEXT_LIMITS.maxChars - 1_200, `kept ${total} characters`);
  t.ok(byChars.passages.length < TEXT_LIMITS.maxPassages, 'the character cap, not the passage cap, stopped it');
});

t.test('unsupported files are refused with the unsupported code', async (t) => {
  const xlsx = new JSZip();
  xlsx.file('xl/workbook.xml', '<workbook/>');
  await t.rejects(extractText(await xlsx.generateAsync({ type: 'nodebuffer' }), { fileName: 'q.xlsx' }), {
    name: 'QuestionnaireParseError',
    code: 'unsupported',
    message: /Excel workbook/,
  });
  await t.rejects(extractText(Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'), { fileName: 'scan.png' }), { code: 'unsupported', message: /PNG image/ });
  await t.rejects(extractText(Buffer.from('\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1', 'latin1'), { fileName: 'old.doc' }), {
    code: 'unsupported',
    message: /legacy Office/,
  });
  await t.rejects(extractText(Buffer.from('some bytes'), { fileName: 'data.bin' }), { code: 'unsupported', message: /"data\.bin" is not recognized/ });
  await t.rejects(extractText(Buffer.alloc(0), { fileName: 'empty.txt' }), { code: 'unsupported', message: /empty/ });
  await t.rejects(extractText(Buffer.from('a\0b\0c'), { fileName: 'x.txt' }), { code: 'unsupported', message: /binary/ });
});

t.test('the text task runs in-thread and reports refusals as data', async (t) => {
  const ok = await runTask({ kind: 'text', bytes: Buffer.from('# Title\n\nBody.'), fileName: 'a.md', contentType: 'text/markdown' });
  t.same(ok, { ok: true, value: { format: 'markdown', passages: [{ text: 'Body.', heading: 'Title' }], scanned: false, truncated: false } });
  t.match(await runTask({ kind: 'text', bytes: Buffer.from('x'), fileName: 'a.exe' }), { ok: false, kind: 'parse', code: 'unsupported' });
});

t.test('through a real parser pool: PDF pages survive the thread boundary, refusals are rebuilt', async (t) => {
  const pool = new ParserPool({ threads: 1, memoryMb: 256, timeoutMs: 30_000 });
  t.teardown(() => pool.close());
  const out = await pool.extractText({ bytes: await twoPagePdf(), fileName: 'policy.pdf', contentType: 'application/pdf' });
  t.equal(out.pages, 2);
  t.same([...new Set(out.passages.map((p) => p.page))], [1, 2]);
  const md = await pool.extractText({ bytes: Buffer.from('Intro\n=====\n\nHello.'), fileName: 'a.md' });
  t.same(md.passages, [{ text: 'Hello.', heading: 'Intro' }]);
  await t.rejects(pool.extractText({ bytes: Buffer.from('GIF89a....'), fileName: 'a.gif' }), { name: 'QuestionnaireParseError', code: 'unsupported' });
});
