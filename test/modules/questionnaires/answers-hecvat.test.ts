import fs from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ExcelJS from 'exceljs';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { testApp, wholeQuestionnaire } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

// EDUCAUSE HECVAT 4.1.4, read from the shared reference data, never copied into the repo (see ../shared/data/SOURCES.md).
const HECVAT = fileURLToPath(new URL('../../../../shared/data/hecvat/HECVAT414.xlsx', import.meta.url));

// Questions whose honest answer the demo profile settles, by the fact that settles them. Which
// ones count depends on the demo's values, read at run time: a fact that is false makes its
// question a "no", and switches off the workbook's section about it.
const SETTLED_BY: Array<{ key: string; refs: string[]; section?: RegExp }> = [
  { key: 'data.processes_phi', refs: ['REQU-05'], section: /HIPAA/ },
  { key: 'data.processes_cardholder_data', refs: ['REQU-06'], section: /PCI/ },
  { key: 'services.offers_consulting', refs: ['REQU-03'], section: /Consulting/ },
  { key: 'data.processes_biometric_data', refs: ['PDAT-02'] },
  { key: 'incidents.reportable_breach_last_36_months', refs: ['PCOM-01'] },
];

type Q = {
  id: string;
  ref: string;
  section: string;
  sheet: string;
  row: number;
  text: string;
  allowedAnswers: string[] | null;
  answer: { choice: string | null; status: string; confidence: number } | null;
};

t.test('HECVAT on the demo organization: no "yes" the profile rules out, no value outside a dropdown', async (t) => {
  const app = await testApp(t, { config: { seedDemo: true }, options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@demo.example.com', password: 'Demo-Password-2026!' } });
  const auth = { authorization: `Bearer ${login.json().accessToken}` };
  const profile = (await app.inject({ method: 'GET', url: '/api/v1/profile', headers: auth })).json().facts as Array<{ key: string; value: unknown }>;
  const fact = (key: string) => profile.find((f) => f.key === key)?.value;

  const original = fs.readFileSync(HECVAT);
  const body = multipart({ name: 'HECVAT' }, [
    { filename: 'HECVAT414.xlsx', content: original, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  ]);
  const up = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...auth, ...body.headers }, payload: body.payload });
  t.equal(up.statusCode, 201, up.body);
  const id = up.json().id;
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  const qs = (await wholeQuestionnaire(app, auth, id)).questions as Q[];
  t.ok(qs.length > 300);

  // Questions the profile settles as "no".
  const no = new Set<string>();
  for (const s of SETTLED_BY) {
    if (fact(s.key) !== false) continue;
    for (const r of s.refs) no.add(r);
    if (s.section) for (const q of qs) if (s.section.test(q.section ?? '') && /^(do|does|is|are|will|have|has|can)\b/i.test(q.text)) no.add(q.ref);
  }
  const countries = (fact('data.storage_countries') as string[] | undefined) ?? [];
  t.ok(countries.length > 0 && !countries.includes('China'), 'the demo stores data outside China');
  no.add('INTL-04');
  t.ok(no.size >= 10, `${no.size} questions are settled as no by the demo profile`);
  const wrongYes = qs.filter((q) => no.has(q.ref) && q.answer?.status === 'draft' && q.answer.choice?.toLowerCase() === 'yes');
  t.same(
    wrongYes.map((q) => q.ref),
    [],
    'no question the profile settles as "no" is a "yes" draft',
  );
  const settledNo = qs.filter((q) => fact('data.processes_phi') === false && q.ref === 'REQU-05');
  t.equal(settledNo[0]?.answer?.choice, 'No', "the PHI question is answered No from the profile, in the list's spelling");
  t.equal(qs.find((q) => q.ref === 'INTL-04')?.answer?.choice, 'No', 'China is not a storage country');

  // Hard-coded passwords: a risk question no status may answer "yes" to.
  const hardcoded = qs.find((q) => q.ref === 'AAAI-07')!;
  t.not(hardcoded.answer?.choice?.toLowerCase() === 'yes' && hardcoded.answer.status === 'draft', true, 'no "yes" draft for hard-coded passwords');

  // Name, e-mail and other fact cells never receive a control statement.
  for (const ref of ['GNRL-01', 'GNRL-06', 'GNRL-04']) {
    const q = qs.find((x) => x.ref === ref)!;
    t.notMatch(q.answer?.status === 'draft' ? ((q.answer as unknown as { text: string }).text ?? '') : '', /\. .*\. /, `${ref} holds no pasted statement`);
  }
  t.match(qs.find((q) => q.ref === 'GNRL-06')?.answer, { status: /draft|needs_review/ });

  // Every choice is a value of its list, in the API and in the exported workbook.
  const outside = qs.filter((q) => q.allowedAnswers && q.answer?.choice && !q.allowedAnswers.includes(q.answer.choice));
  t.same(
    outside.map((q) => `${q.ref}: ${q.answer!.choice}`),
    [],
    "every choice is one of its list's values",
  );
  const xlsx = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=xlsx`, headers: auth });
  t.equal(xlsx.statusCode, 200);
  const cells = await readCells(xlsx.rawPayload);
  const full = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=json`, headers: auth });
  let checked = 0;
  for (const q of full.json().questions as Array<Q & { answerCells?: unknown }>) {
    if (!q.allowedAnswers || !q.sheet || !q.row) continue;
    const written = cells.get(q.sheet)?.get(`C${q.row}`);
    if (written === undefined || written === '') continue;
    checked++;
    t.ok(q.allowedAnswers.includes(written), `${q.ref}: written value ${written} is in its list`);
  }
  t.ok(checked >= 20, `${checked} dropdown cells written`);
});

/** Every cell's text of every sheet, via exceljs's streaming reader (its full reader does not finish on HECVAT). */
async function readCells(buf: Buffer): Promise<Map<string, Map<string, string>>> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([buf]), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });
  const out = new Map<string, Map<string, string>>();
  for await (const ws of reader) {
    const sheet = ws as unknown as { name: string } & AsyncIterable<ExcelJS.Row>;
    const m = new Map<string, string>();
    for await (const row of sheet)
      row.eachCell({ includeEmpty: false }, (cell) => {
        if (typeof cell.value === 'string') m.set(cell.address, cell.value);
      });
    out.set(sheet.name, m);
  }
  return out;
}
