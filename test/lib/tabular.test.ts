import t from 'tap';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { neutralize, toCsv, toXlsx, unneutralize, type Column } from '../../src/lib/tabular.js';
import { neutralizeFormula } from '../../src/formats/xlsx-writeback.js';
import { signup, testApp } from '../helpers/app.js';

// The review's payload: a harmless question, then a line that is a DDE formula.
const EVIL = "Do you encrypt data at rest?\n=cmd|' /C calc'!A0";
const FORMULA_LINE = /^[=+\-@\t]/;

/** Every physical line of a file, as a tool that splits on line breaks (or a careless parser) sees it. */
const physicalLines = (body: string) => body.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
const records = (body: string) => parse(body, { bom: true, relax_column_count: true }) as string[][];

t.test('neutralize: every line start, reversibly', async (t) => {
  t.equal(neutralize(EVIL), "Do you encrypt data at rest?\n'=cmd|' /C calc'!A0");
  t.equal(neutralize('a\r\n+1\r-2\n@x\n\tt'), "a\r\n'+1\r'-2\n'@x\n'\tt", 'CRLF, CR and LF all start lines');
  t.equal(neutralize("=a\n'=b"), "'=a\n''=b", 'an apostrophe already there gets one more, per line');
  t.equal(neutralize('first\n\nsecond - third'), 'first\n\nsecond - third', 'plain multi-paragraph text is untouched');
  t.equal(neutralize('\r=x'), "'\r'=x");
  for (const v of [EVIL, 'a\r\n+1\r-2\n@x\n\tt', "=a\n'=b\n''+c", "'plain\n'quoted", '\r=x', 'x\n\n=y', '', "'", "'\n'"]) {
    t.equal(unneutralize(neutralize(v)), v, `round trip ${JSON.stringify(v)}`);
  }
  t.equal(neutralizeFormula(EVIL), neutralize(EVIL), 'the workbook write-back uses the same rule');
});

t.test('toCsv: a field with a line break is quoted and its lines neutralized', async (t) => {
  const cols: Column<{ ref: string; text: string }>[] = [
    { header: 'ref', value: (r) => r.ref },
    { header: 'text', value: (r) => r.text },
  ];
  const body = toCsv(cols, [
    { ref: 'Q1', text: EVIL },
    { ref: 'Q2', text: 'cr\ronly' },
  ]);
  t.match(body, /"Do you encrypt data at rest\?\n'=cmd/, 'quoted, and the second line starts with an apostrophe');
  t.match(body, /"cr\ronly"/, 'a lone CR is quoted too');
  const rows = records(body);
  t.equal(rows.length, 3, 'one record per row, not one per line');
  t.equal(unneutralize(rows[1]![1]!), EVIL);
  for (const line of physicalLines(body)) t.notOk(FORMULA_LINE.test(line), `no line starts a formula: ${JSON.stringify(line)}`);

  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load((await toXlsx('S', cols, [{ ref: 'Q1', text: EVIL }], { note: 'x\n=1+1' })) as unknown as ArrayBuffer);
  const cell = String(wb.getWorksheet('S')!.getRow(2).getCell(2).value);
  for (const line of cell.split(/\r\n|\r|\n/)) t.notOk(FORMULA_LINE.test(line), `XLSX: no line starts a formula: ${JSON.stringify(line)}`);
  t.equal(wb.getWorksheet('About')!.getRow(2).getCell(2).value, "x\n'=1+1");
});

t.test('exports: questionnaire, SoA and responsibility matrix CSVs', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const check = (name: string, body: string) => {
    for (const line of physicalLines(body)) t.notOk(FORMULA_LINE.test(line), `${name}: no line starts a formula: ${JSON.stringify(line.slice(0, 60))}`);
  };

  const q = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: a.auth,
    payload: {
      name: 'evil',
      questions: [
        { ref: 'Q1', text: EVIL },
        { ref: 'Q2', text: 'Do you use MFA?' },
      ],
    },
  });
  t.equal(q.statusCode, 201, q.body);
  const qcsv = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${q.json().id}/export?format=csv`, headers: a.auth });
  t.equal(qcsv.statusCode, 200);
  t.equal(records(qcsv.body).length, 3, 'questionnaire: header and two questions');
  check('questionnaire', qcsv.body);

  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/CLD.6.3.1',
    headers: a.auth,
    payload: {
      applicable: true,
      status: 'implemented',
      responsibility: 'shared',
      implementation: `We do.\n=cmd|' /C calc'!A0`,
      providerStatement: 'We publish it.\r\n+1+1',
      customerStatement: 'Customers\r@SUM(1)',
    },
  });
  t.equal(put.statusCode, 200, put.body);
  const soa = await app.inject({ method: 'GET', url: '/api/v1/reports/soa?format=csv', headers: a.auth });
  t.equal(soa.statusCode, 200);
  check('SoA', soa.body);
  const soaRow = records(soa.body).find((r) => r[1] === 'CLD.6.3.1')!;
  t.ok(soaRow.includes("We do.\n'=cmd|' /C calc'!A0"), 'SoA: the field stays one cell');

  const raci = await app.inject({ method: 'GET', url: '/api/v1/reports/responsibility-matrix?format=csv', headers: a.auth });
  t.equal(raci.statusCode, 200);
  check('RACI', raci.body);
  t.ok(
    records(raci.body)
      .find((r) => r[1] === 'CLD.6.3.1')!
      .includes("We publish it.\r\n'+1+1"),
    'RACI: the field stays one cell',
  );
});
