import fs from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { WritebackError, editSheetXml, writeAnswers, type CellEdit } from '../../src/formats/xlsx-writeback.js';

// EDUCAUSE HECVAT 4.1.4, read from the shared reference data, never copied into the repo (see ../shared/data/SOURCES.md).
const HECVAT = fileURLToPath(new URL('../../../shared/data/hecvat/HECVAT414.xlsx', import.meta.url));

// ---------------------------------------------------------------------------------------------
// helpers

/** Every cell value of every sheet, via exceljs's streaming reader. (exceljs's full reader does not
 * finish on HECVAT: it expands the N1:XFD1048576 validation of "High-Risk Evaluation" cell by cell.) */
async function readValues(buf: Buffer): Promise<{ names: string[]; states: string[]; cells: Map<string, Map<string, string>> }> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([buf]), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });
  const names: string[] = [];
  const states: string[] = [];
  const cells = new Map<string, Map<string, string>>();
  for await (const ws of reader) {
    const sheet = ws as unknown as { name: string; state: string } & AsyncIterable<ExcelJS.Row>;
    names.push(sheet.name);
    states.push(sheet.state);
    const m = new Map<string, string>();
    for await (const row of sheet) {
      row.eachCell({ includeEmpty: false }, (cell) => {
        if (cell.value !== null && cell.value !== undefined) m.set(cell.address, JSON.stringify(cell.value));
      });
    }
    cells.set(sheet.name, m);
  }
  return { names, states, cells };
}

interface CdEntry {
  name: string;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  data: Buffer;
}

/** The zip's central directory, read by hand, with each entry's raw compressed bytes. */
function zipEntries(buf: Buffer): CdEntry[] {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: CdEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
    const n = buf.readUInt16LE(p + 28);
    const local = buf.readUInt32LE(p + 42);
    const csize = buf.readUInt32LE(p + 20);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    out.push({
      name: buf.toString('utf8', p + 46, p + 46 + n),
      method: buf.readUInt16LE(p + 10),
      crc: buf.readUInt32LE(p + 16),
      csize,
      usize: buf.readUInt32LE(p + 24),
      data: buf.subarray(dataStart, dataStart + csize),
    });
    p += 46 + n + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return out;
}

async function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  const zip = await JSZip.loadAsync(buf);
  const out = new Map<string, Buffer>();
  for (const [name, f] of Object.entries(zip.files)) if (!f.dir) out.set(name, await f.async('nodebuffer'));
  return out;
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const block = (s: string, re: RegExp) => s.match(re)?.[0] ?? '';
/** The sheet part with <sheetData> and <dimension> taken out: what must not change at all. */
const outsideSheetData = (s: string) =>
  s.replace(/<sheetData[\s\S]*?<\/sheetData>|<sheetData\/>/, '<sheetData/>').replace(/<dimension [^>]*\/>/, '<dimension/>');
const cellXml = (s: string, ref: string) => block(s, new RegExp(`<c r="${ref}"[^>]*?(?:/>|>[\\s\\S]*?</c>)`));

/** What a reader should see for an edit's value. */
function expected(e: CellEdit): string | undefined {
  if (e.value === null) return undefined;
  if (typeof e.value === 'string' && /^[=+\-@\t\r]/.test(e.value)) return JSON.stringify(`'${e.value}`);
  return JSON.stringify(e.value);
}

async function expectWritebackError(t: Test, p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  try {
    await p;
    t.fail(`expected WritebackError ${code}`);
  } catch (err) {
    t.ok(err instanceof WritebackError, `a WritebackError (${(err as Error).message})`);
    t.ok(err instanceof Error);
    t.equal((err as WritebackError).name, 'WritebackError');
    t.equal((err as WritebackError).code, code);
    t.match((err as Error).message, message);
  }
}

/**
 * Package-level invariants: same entries in the same order, and every entry other than `changed`
 * (and `removed`) has the very same compressed bytes, method, CRC and sizes as in the original.
 */
function assertPackageUntouched(t: Test, original: Buffer, result: Buffer, changed: string[], removed: string[] = []): void {
  const before = zipEntries(original);
  const after = zipEntries(result);
  t.same(
    after.map((e) => e.name),
    before.map((e) => e.name).filter((n) => !removed.includes(n)),
    'same entries, same order',
  );
  for (const a of after) {
    const b = before.find((e) => e.name === a.name)!;
    if (changed.includes(a.name)) {
      t.equal(a.method, b.method, `${a.name}: same compression method`);
      continue;
    }
    if (!(a.method === b.method && a.crc === b.crc && a.csize === b.csize && a.usize === b.usize && a.data.equals(b.data))) {
      t.fail(`${a.name} changed in the package`);
    }
  }
  t.pass(`${after.length - changed.length} untouched entries have identical compressed bytes`);
}

// ---------------------------------------------------------------------------------------------
// HECVAT: the real buyer workbook

t.test('HECVAT: answers written into the Questions sheet', async (t) => {
  const original = fs.readFileSync(HECVAT);
  const pristine = Buffer.from(original);
  const before = await readValues(original);
  const q = before.cells.get('Questions')!;
  // Row 2 is the header row; T is "Follow-Up Inquiries/Responses", the free-text response column.
  t.equal(JSON.parse(q.get('T2')!), 'Follow-Up Inquiries/Responses');
  t.equal(JSON.parse(q.get('A3')!), 'GNRL-01');

  const edits: CellEdit[] = [];
  for (let r = 3; r <= 17; r++)
    edits.push({ sheet: 'Questions', cell: `T${r}`, value: `Response for ${JSON.parse(q.get(`A${r}`)!)}: see our SOC 2 report, section ${r}.` });
  edits.push(
    { sheet: 'Questions', cell: 'T18', value: "=cmd|' /C calc'!A0" }, // formula injection
    { sheet: 'Questions', cell: 'T19', value: `Tags <b> & "quotes" and 'apostrophes' > 0` },
    { sheet: 'Questions', cell: 'T20', value: '  line one\nline two\twith tab  ' },
    { sheet: 'Questions', cell: 'T21', value: 42 },
    { sheet: 'Questions', cell: 'T22', value: true },
    { sheet: 'Questions', cell: 'M12', value: null }, // clears a shared-string cell
    { sheet: 'Questions', cell: 'C1', value: 'new cell in an existing row' }, // row 1 holds only A1
    { sheet: 'Questions', cell: 'Y15', value: 'beyond the last column' }, // Y is past the sheet's dimension
    { sheet: 'Questions', cell: 'D970', value: '@SUM(1,2)' }, // row 970 does not exist (last is 963)
    { sheet: 'Questions', cell: 'X13', value: 7 }, // blank, inside the shared-formula range X12:X75
  );
  t.ok(edits.length >= 20);
  t.notOk(q.has('C1'), 'C1 is not there yet');
  t.ok(q.has('M12'), 'M12 has a value to clear');

  const result = await writeAnswers(original, edits);
  t.ok(original.equals(pristine), 'the input buffer is not modified');

  t.test('round trip through exceljs', async (t) => {
    const after = await readValues(result);
    t.same(after.names, before.names, 'same sheets, same order');
    t.same(after.states, before.states, 'same visibility');
    t.equal(after.names.length, 15);
    const qa = after.cells.get('Questions')!;
    for (const e of edits) t.equal(qa.get(e.cell), expected(e), `${e.cell} = ${String(e.value)}`);
    t.equal(qa.get('T18'), JSON.stringify("'=cmd|' /C calc'!A0"), 'formula injection neutralized');
    t.equal(qa.get('D970'), JSON.stringify("'@SUM(1,2)"));
    t.equal(JSON.parse(qa.get('T19')!), `Tags <b> & "quotes" and 'apostrophes' > 0`);
    t.equal(JSON.parse(qa.get('T20')!), '  line one\nline two\twith tab  ', 'whitespace kept');

    const edited = new Set(edits.map((e) => e.cell));
    let compared = 0;
    for (const name of before.names) {
      const b = before.cells.get(name)!;
      const a = after.cells.get(name)!;
      for (const [ref, v] of b) {
        if (name === 'Questions' && edited.has(ref)) continue;
        compared++;
        if (a.get(ref) !== v) t.fail(`${name}!${ref} changed: ${v} -> ${a.get(ref)}`);
      }
      const extra = [...a.keys()].filter((ref) => !b.has(ref) && !(name === 'Questions' && edited.has(ref)));
      t.same(extra, [], `${name}: no new cells`);
    }
    t.ok(compared > 20_000, `${compared} other cell values unchanged on all 15 sheets`);
  });

  t.test('package: only the Questions part changed', async (t) => {
    assertPackageUntouched(t, original, result, ['xl/worksheets/sheet13.xml']);
    const a = await unzip(original);
    const b = await unzip(result);
    for (const [name, bytes] of a) if (name !== 'xl/worksheets/sheet13.xml') t.ok(bytes.equals(b.get(name)!), `${name} byte-identical`);
    t.ok(b.has('xl/calcChain.xml'), 'no formula overwritten: calcChain kept');

    const s0 = a.get('xl/worksheets/sheet13.xml')!.toString('utf8');
    const s1 = b.get('xl/worksheets/sheet13.xml')!.toString('utf8');
    t.equal(outsideSheetData(s1), outsideSheetData(s0), 'everything outside <sheetData> and <dimension> is byte-identical');
    t.equal(block(s1, /<cols>[\s\S]*?<\/cols>/), block(s0, /<cols>[\s\S]*?<\/cols>/));
    t.equal(block(s1, /<protectedRanges>[\s\S]*?<\/protectedRanges>/), block(s0, /<protectedRanges>[\s\S]*?<\/protectedRanges>/));
    t.match(s1, /<dimension ref="A1:Y970"\/>/, 'dimension widened to the new cells');
    t.equal(count(s1, /<row /g), count(s0, /<row /g) + 1, 'one new row');
    t.equal(count(s1, /<c /g), count(s0, /<c /g) + 3, 'three new cells');

    t.equal(
      cellXml(s1, 'T3'),
      `<c r="T3" s="348" t="inlineStr"><is><t xml:space="preserve">Response for GNRL-01: see our SOC 2 report, section 3.</t></is></c>`,
      'style kept, inline string',
    );
    t.equal(
      cellXml(s1, 'T19'),
      `<c r="T19" s="348" t="inlineStr"><is><t xml:space="preserve">Tags &lt;b&gt; &amp; &quot;quotes&quot; and &apos;apostrophes&apos; &gt; 0</t></is></c>`,
    );
    t.equal(cellXml(s1, 'T21'), '<c r="T21" s="348"><v>42</v></c>');
    t.equal(cellXml(s1, 'T22'), '<c r="T22" s="348" t="b"><v>1</v></c>');
    t.equal(cellXml(s1, 'M12'), '<c r="M12" s="348"/>', 'cleared, style kept');
    t.equal(cellXml(s1, 'X13'), '<c r="X13" s="348"><v>7</v></c>');
    t.match(cellXml(s1, 'X12'), /<f t="shared" ref="X12:X75" si="0">/, 'its master untouched');
    t.match(s1, /<c r="A1" s="340" t="s"><v>1480<\/v><\/c><c r="C1" s="341" t="inlineStr">/, 'new cell after A1, with its column style');
    t.match(s1, /<c r="X15" [^>]*>[\s\S]*?<\/c><c r="Y15" s="341" t="inlineStr">/, 'new cell at the end of its row');
    t.match(
      s1,
      /<\/row><row r="970"><c r="D970" s="341" t="inlineStr"><is><t xml:space="preserve">&apos;@SUM\(1,2\)<\/t><\/is><\/c><\/row><\/sheetData>/,
      'new row after the last one',
    );
    t.match(s1, /<row r="1" spans="1:24" ht="15.75" hidden="1" customHeight="1" x14ac:dyDescent="0.2">/, 'row attributes kept');
  });

  t.test('overwriting a shared-formula dependent', async (t) => {
    const r = await writeAnswers(original, [{ sheet: 'Questions', cell: 'X14', value: 20 }]);
    const z = await unzip(r);
    const s = z.get('xl/worksheets/sheet13.xml')!.toString('utf8');
    t.equal(cellXml(s, 'X14'), '<c r="X14" s="348"><v>20</v></c>', 'its formula goes');
    t.equal(
      cellXml(s, 'X12'),
      '<c r="X12" s="348"><f t="shared" ref="X12:X75" si="0">IF($W12="Critical Importance",20,IF($W12="Minor Importance",5,10))</f><v>10</v></c>',
      'the master stays',
    );
    t.equal(cellXml(s, 'X15'), cellXml((await unzip(original)).get('xl/worksheets/sheet13.xml')!.toString('utf8'), 'X15'), 'other dependents stay');
    t.notOk(z.has('xl/calcChain.xml'), 'a formula was removed: calcChain goes');
    await expectWritebackError(
      t,
      writeAnswers(original, [{ sheet: 'Questions', cell: 'X12', value: 1 }]),
      'unsupported',
      /X12 holds the shared formula that the cells of X12:X75 copy/,
    );
  });

  t.test('writing the same answers again changes nothing more', async (t) => {
    const again = await writeAnswers(result, edits);
    const a = (await unzip(result)).get('xl/worksheets/sheet13.xml')!;
    const b = (await unzip(again)).get('xl/worksheets/sheet13.xml')!;
    t.ok(a.equals(b), 'idempotent');
  });
});

t.test('HECVAT: answers in the Organization sheet keep its dropdowns (x14 cross-sheet lists)', async (t) => {
  const original = fs.readFileSync(HECVAT);
  const before = await readValues(original);
  const edits: CellEdit[] = [
    ...[22, 23, 24, 25, 26, 27, 28].map((r, i) => ({ sheet: 'Organization', cell: `C${r}`, value: i % 3 === 2 ? 'No' : 'Yes' })),
    { sheet: 'Organization', cell: 'D22', value: 'BCP owned by the COO, tested every March.' },
    { sheet: 'Organization', cell: 'D23', value: 'DRP & failover drill: RTO < 4h, RPO < 15 min.' },
    { sheet: 'Organization', cell: 'G22', value: 'not in the row yet' }, // row 22 has no G cell; row style s=1
    { sheet: 'Organization', cell: 'C80', value: 'Yes' }, // row 80 is an empty <row .../>
    { sheet: 'Organization', cell: 'C120', value: 'Yes' }, // past the last row (112)
    { sheet: 'Organization', cell: 'C13', value: 'Acme Corp' }, // a VLOOKUP formula cell: calcChain must go
    { sheet: 'organization', cell: 'c14', value: '+1 555 0100' }, // case-insensitive sheet and ref; neutralized
  ];
  const result = await writeAnswers(original, edits);
  const a = await unzip(original);
  const b = await unzip(result);
  const s0 = a.get('xl/worksheets/sheet2.xml')!.toString('utf8');
  const s1 = b.get('xl/worksheets/sheet2.xml')!.toString('utf8');

  t.test('validations, hyperlinks and the rest of the part are byte-identical', async (t) => {
    t.equal(count(s0, /<x14:dataValidation /g), 2, 'the original has two x14 list validations');
    t.equal(count(s1, /<x14:dataValidation /g), 2);
    t.equal(count(s1, /<dataValidation /g), count(s0, /<dataValidation /g));
    t.equal(count(s1, /<mergeCell /g), count(s0, /<mergeCell /g));
    t.equal(block(s1, /<dataValidations[\s\S]*?<\/dataValidations>/), block(s0, /<dataValidations[\s\S]*?<\/dataValidations>/));
    const ext0 = block(s0, /<extLst>[\s\S]*?<\/extLst>/);
    t.match(ext0, /<x14:dataValidations[\s\S]*'Auto Responses'!\$J\$3:\$J\$4/);
    t.equal(block(s1, /<extLst>[\s\S]*?<\/extLst>/), ext0, 'x14 extLst unchanged');
    t.equal(block(s1, /<cols>[\s\S]*?<\/cols>/), block(s0, /<cols>[\s\S]*?<\/cols>/));
    t.equal(block(s1, /<hyperlinks>[\s\S]*?<\/hyperlinks>/), block(s0, /<hyperlinks>[\s\S]*?<\/hyperlinks>/));
    t.equal(outsideSheetData(s1), outsideSheetData(s0));
    t.match(s1, /<dimension ref="A1:L120"\/>/);
  });

  t.test('cells', async (t) => {
    t.equal(cellXml(s1, 'C22'), '<c r="C22" s="21" t="inlineStr"><is><t xml:space="preserve">Yes</t></is></c>', 'dropdown cell keeps style 21');
    t.equal(cellXml(s1, 'C13'), '<c r="C13" s="76" t="inlineStr"><is><t xml:space="preserve">Acme Corp</t></is></c>', 'formula dropped, style kept');
    t.match(s1, /<c r="F22" [^>]*>[\s\S]*?<\/c><c r="G22" s="1" t="inlineStr">[\s\S]*?<\/c><c r="I22" s="35"\/>/, 'G22 between F22 and I22 with the row style');
    t.match(
      s1,
      /<row r="80" spans="1:10" ht="15" hidden="1" customHeight="1" x14ac:dyDescent="0.2"><c r="C80" s="8" t="inlineStr">[\s\S]*?<\/c><\/row><row r="81" /,
      'empty row opened, attributes kept',
    );
    t.match(s1, /<row r="112" [^>]*\/><row r="120"><c r="C120" s="8" t="inlineStr">/, 'new row with the column style');
    const after = await readValues(result);
    const o = after.cells.get('Organization')!;
    for (const e of edits) t.equal(o.get(e.cell.toUpperCase()), expected(e), `${e.cell}`);
    t.same(after.names, before.names);
    // The Organization sheet's other cells are unchanged.
    const edited = new Set(edits.map((e) => e.cell.toUpperCase()));
    for (const [ref, v] of before.cells.get('Organization')!) if (!edited.has(ref) && o.get(ref) !== v) t.fail(`Organization!${ref} changed`);
    for (const name of ['START HERE', 'Auto Responses', 'Questions']) t.same(after.cells.get(name), before.cells.get(name), `${name} unchanged`);
  });

  t.test('calcChain removed with its two references, nothing else', async (t) => {
    t.notOk(b.has('xl/calcChain.xml'));
    assertPackageUntouched(t, original, result, ['xl/worksheets/sheet2.xml', '[Content_Types].xml', 'xl/_rels/workbook.xml.rels'], ['xl/calcChain.xml']);
    const ct0 = a.get('[Content_Types].xml')!.toString('utf8');
    const ct1 = b.get('[Content_Types].xml')!.toString('utf8');
    t.equal(
      ct1,
      ct0.replace('<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>', ''),
    );
    t.not(ct1, ct0);
    const rels0 = a.get('xl/_rels/workbook.xml.rels')!.toString('utf8');
    const rels1 = b.get('xl/_rels/workbook.xml.rels')!.toString('utf8');
    t.equal(
      rels1,
      rels0.replace(
        '<Relationship Id="rId21" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>',
        '',
      ),
    );
    t.not(rels1, rels0);
  });

  t.test('fullCalcOnLoad on request', async (t) => {
    const r = await writeAnswers(original, edits.slice(0, 2), { fullCalcOnLoad: true });
    const w0 = a.get('xl/workbook.xml')!.toString('utf8');
    const w1 = (await unzip(r)).get('xl/workbook.xml')!.toString('utf8');
    t.equal(w1, w0.replace('<calcPr calcId="191029"/>', '<calcPr calcId="191029" fullCalcOnLoad="1"/>'));
    assertPackageUntouched(t, original, r, ['xl/worksheets/sheet2.xml', 'xl/workbook.xml']);
  });
});

t.test('errors', async (t) => {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Answers');
  ws.getCell('A1').value = 'Title';
  ws.mergeCells('A1:C1');
  ws.getCell('A2').value = 1;
  ws.getCell('B2').value = { formula: 'A2*2', result: 2 };
  ws.getCell('C2').value = { formula: 'B2+1', result: 3, shareType: 'shared', ref: 'C2:C3' } as ExcelJS.CellValue;
  ws.getCell('C3').value = { sharedFormula: 'C2', result: 4 } as ExcelJS.CellValue;
  const buf = Buffer.from(await wb.xlsx.writeBuffer());

  await expectWritebackError(t, writeAnswers(buf, [{ sheet: 'Nope', cell: 'A1', value: 'x' }]), 'unknown_sheet', /no sheet named "Nope".*"Answers"/);
  for (const cell of ['D0', '12D', 'XFE1', 'A1048577', '', 'D12:D13', 'D-1', 'ABCD1']) {
    await expectWritebackError(t, writeAnswers(buf, [{ sheet: 'Answers', cell, value: 'x' }]), 'bad_cell', /not a cell reference/);
  }
  await expectWritebackError(
    t,
    writeAnswers(Buffer.from('this is not a zip file'), [{ sheet: 'Answers', cell: 'A1', value: 'x' }]),
    'not_xlsx',
    /not a readable \.xlsx/,
  );
  const plainZip = new JSZip();
  plainZip.file('hello.txt', 'hi');
  await expectWritebackError(
    t,
    writeAnswers(await plainZip.generateAsync({ type: 'nodebuffer' }), [{ sheet: 'Answers', cell: 'A1', value: 'x' }]),
    'not_xlsx',
    /no workbook/,
  );
  await expectWritebackError(t, writeAnswers(buf, [{ sheet: 'Answers', cell: 'B5', value: Number.NaN }]), 'bad_value', /NaN/);
  await expectWritebackError(
    t,
    writeAnswers(buf, [{ sheet: 'Answers', cell: 'B5', value: { x: 1 } as unknown as string }]),
    'bad_value',
    /string, number, boolean or null/,
  );
  await expectWritebackError(t, writeAnswers(buf, [{ sheet: 'Answers', cell: 'B5', value: 'x'.repeat(32_768) }]), 'bad_value', /32767/);
  await expectWritebackError(t, writeAnswers(buf, [{ sheet: 'Answers', cell: 'B1', value: 'x' }]), 'unsupported', /inside the merged range A1:C1.*A1/);
  await expectWritebackError(t, writeAnswers(buf, [{ sheet: 'Answers', cell: 'C2', value: 'x' }]), 'unsupported', /shared formula/);
  t.ok(await writeAnswers(buf, [{ sheet: 'Answers', cell: 'A1', value: 'merged anchor is fine' }]));
  t.ok(await writeAnswers(buf, [{ sheet: 'Answers', cell: 'C3', value: 'a shared dependent is fine' }]));

  // An array formula over B1:B3 (hand-written part): its cells cannot be overwritten one by one.
  const arr =
    '<worksheet><sheetData><row r="1"><c r="B1"><f t="array" ref="B1:B3">A1:A3*2</f><v>2</v></c></row><row r="2"><c r="B2"><v>4</v></c></row></sheetData></worksheet>';
  t.throws(() => editSheetXml(arr, [{ row: 2, col: 2, ref: 'B2', value: 1 }]), { name: 'WritebackError', code: 'unsupported', message: /array formula in B1/ });
  const single = '<worksheet><sheetData><row r="1"><c r="B1"><f t="array" ref="B1">SUM(A1:A3*2)</f><v>2</v></c></row></sheetData></worksheet>';
  t.match(editSheetXml(single, [{ row: 1, col: 2, ref: 'B1', value: 1 }]), { xml: /<c r="B1"><v>1<\/v><\/c>/, formulaRemoved: true });
});

t.test('sheet XML edge cases', async (t) => {
  // empty sheet, prefixed namespace, rows without r, cells without r, comments
  const empty = '<worksheet><dimension ref="A1"/><sheetData/></worksheet>';
  t.equal(
    editSheetXml(empty, [{ row: 3, col: 2, ref: 'B3', value: 'x' }]).xml,
    '<worksheet><dimension ref="B3"/><sheetData><row r="3"><c r="B3" t="inlineStr"><is><t xml:space="preserve">x</t></is></c></row></sheetData></worksheet>',
  );
  const prefixed =
    '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>';
  t.equal(
    editSheetXml(prefixed, [{ row: 1, col: 2, ref: 'B1', value: true }]).xml,
    '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="B1" t="b"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>',
  );
  const implicit = '<worksheet><sheetData><row><c><v>1</v></c><c><v>2</v></c></row><!-- note --><row><c t="s"><v>0</v></c></row></sheetData></worksheet>';
  t.equal(
    editSheetXml(implicit, [
      { row: 1, col: 2, ref: 'B1', value: 5 },
      { row: 2, col: 3, ref: 'C2', value: 6 },
    ]).xml,
    '<worksheet><sheetData><row><c><v>1</v></c><c r="B1"><v>5</v></c></row><!-- note --><row><c t="s"><v>0</v></c><c r="C2"><v>6</v></c></row></sheetData></worksheet>',
  );
  // text escaping: CR, control characters, Excel's own _xHHHH_ escape, leading tab
  const r = editSheetXml('<worksheet><sheetData/></worksheet>', [{ row: 1, col: 1, ref: 'A1', value: 'a\r\nb\u0001_x0041_' }]).xml;
  t.match(r, /<t xml:space="preserve">a&#13;\nb_x0001__x005F_x0041_<\/t>/);
  // a gap: the new row goes between its neighbours
  const gap = '<worksheet><sheetData><row r="1"><c r="A1"/></row><row r="9"><c r="A9"/></row></sheetData></worksheet>';
  t.match(
    editSheetXml(gap, [{ row: 5, col: 1, ref: 'A5', value: 1 }]).xml,
    /<row r="1"><c r="A1"\/><\/row><row r="5"><c r="A5"><v>1<\/v><\/c><\/row><row r="9">/,
  );
  // clearing a cell that does not exist writes nothing
  t.equal(editSheetXml(gap, [{ row: 5, col: 1, ref: 'A5', value: null }]).xml, gap);
});

t.test('a synthetic workbook with a dropdown, a merged cell and a styled answer cell', async (t) => {
  const wb = new ExcelJS.Workbook();
  const lists = wb.addWorksheet('Lists');
  ['Yes', 'No', 'N/A'].forEach((v, i) => (lists.getCell(`A${i + 1}`).value = v));
  const ws = wb.addWorksheet('Answers');
  ws.getCell('A1').value = 'Security questionnaire';
  ws.mergeCells('A1:C1');
  ws.getCell('A2').value = 'Do you encrypt data at rest?';
  ws.getCell('A3').value = 'Describe your backup policy.';
  ws.getCell('A10').value = 'Last question';
  for (const ref of ['B2', 'B3']) {
    const c = ws.getCell(ref);
    c.font = { bold: true, color: { argb: 'FF1F4E79' } };
    c.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFF2CC' } };
    c.border = { bottom: { style: 'thin' } };
  }
  ws.getCell('B2').dataValidation = { type: 'list', allowBlank: true, formulae: ['"Yes,No,N/A"'] };
  ws.getCell('B3').dataValidation = { type: 'list', allowBlank: true, formulae: ['Lists!$A$1:$A$3'] };
  ws.getCell('C2').value = { formula: 'IF(B2="Yes",1,0)', result: 0 };
  ws.getColumn(2).width = 40;
  const original = Buffer.from(await wb.xlsx.writeBuffer());

  const edits: CellEdit[] = [
    { sheet: 'Answers', cell: 'B2', value: 'Yes' },
    { sheet: 'Answers', cell: 'B3', value: 'Nightly, encrypted, kept 35 days & tested quarterly.' },
    { sheet: 'Answers', cell: 'B6', value: 'new row between 3 and 10' },
    { sheet: 'Answers', cell: 'A1', value: 'Security questionnaire (answered)' },
    { sheet: 'Answers', cell: 'C3', value: 3.25 },
    { sheet: 'Answers', cell: 'B10', value: false },
  ];
  const result = await writeAnswers(original, edits);

  const x0 = (await unzip(original)).get('xl/worksheets/sheet2.xml')!.toString('utf8');
  const x1 = (await unzip(result)).get('xl/worksheets/sheet2.xml')!.toString('utf8');
  const style = (s: string, ref: string) => cellXml(s, ref).match(/ s="(\d+)"/)?.[1];
  t.ok(style(x0, 'B2'), 'B2 has a style index');
  t.equal(style(x1, 'B2'), style(x0, 'B2'), 'B2 keeps its style index');
  t.equal(style(x1, 'B3'), style(x0, 'B3'), 'B3 keeps its style index');
  t.equal(outsideSheetData(x1), outsideSheetData(x0), 'validations, merges, columns unchanged');
  t.match(x1, /<row r="3"[\s\S]*?<\/row><row r="6"><c r="B6"[\s\S]*?<\/row><row r="10"/, 'row 6 inserted in order');
  assertPackageUntouched(t, original, result, ['xl/worksheets/sheet2.xml']);

  const back = new ExcelJS.Workbook();
  await back.xlsx.load(result as unknown as ExcelJS.Buffer);
  t.same(
    back.worksheets.map((w) => w.name),
    ['Lists', 'Answers'],
  );
  const a = back.getWorksheet('Answers')!;
  for (const e of edits) t.same(a.getCell(e.cell).value, e.value, `${e.cell}`);
  t.equal(a.getCell('A2').value, 'Do you encrypt data at rest?');
  t.equal(back.getWorksheet('Lists')!.getCell('A2').value, 'No');
  t.match(a.getCell('B2').font, { bold: true, color: { argb: 'FF1F4E79' } }, 'font kept');
  t.match(a.getCell('B3').fill, { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFF2CC' } }, 'fill kept');
  t.match(a.getCell('B2').dataValidation, { type: 'list', formulae: ['"Yes,No,N/A"'] }, 'inline dropdown kept');
  t.match(a.getCell('B3').dataValidation, { type: 'list', formulae: ['Lists!$A$1:$A$3'] }, 'cross-sheet dropdown kept');
  t.ok(a.getCell('B1').isMerged && a.getCell('C1').isMerged, 'merge kept');
  t.equal(a.getCell('B1').master.address, 'A1');
  t.equal(a.getColumn(2).width, 40);
  t.equal(a.getCell('C2').formula, 'IF(B2="Yes",1,0)', 'untouched formula kept');
});
