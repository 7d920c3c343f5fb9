// A prospect's self-serve questionnaire, end to end in headless Chromium on the demo organization:
// the workbook goes up through the grant page's own form, the page follows the answering, questions
// the public facts settle as "no" never show a "yes", unsettled ones show as awaiting review, and the
// file the browser downloads once the vendor releases it holds released answers only.
// Needs the Debian package `chromium` (/usr/bin/chromium); without it this test FAILS, never skips.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { chromium, type Browser, type ConsoleMessage, type Locator } from 'playwright-core';
import { runNextJob } from '../../src/modules/questionnaires/service.js';
import { testApp, type Tenant } from '../helpers/app.js';
import { prospectGrant } from '../helpers/trust.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve('test-output');

// Our own phrasings. The demo's public profile keeps no data in China and takes no card payments.
const SETTLED_NO = [
  { ref: 'P1', text: 'Do you keep any customer records on servers located in mainland China?' },
  { ref: 'P2', text: 'Does your service accept, store or transmit payment card numbers?' },
];
// A risk question only a statement ruling it out could answer: never a "yes".
const NEVER_YES = [{ ref: 'P3', text: 'Are secrets such as passwords written directly into your source code?' }];
// Nothing public settles these: a private fact, and a practice only a control's status speaks to
// (held for the vendor's review by default).
const UNSETTLED = [
  { ref: 'P4', text: 'What is the coverage limit of your cyber liability insurance?' },
  { ref: 'P5', text: 'Is customer data encrypted while stored on disk?' },
];
const ALL = [...SETTLED_NO, ...NEVER_YES, ...UNSETTLED];

/** The buyer's workbook: a Yes/No/N/A list on the answer column, as buyers send them. */
async function buyerWorkbook(file: string) {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Vendor review');
  ws.addRow(['ID', 'Question', 'Response', 'Comments']);
  for (const q of ALL) ws.addRow([q.ref, q.text, null, null]);
  for (let r = 2; r <= ALL.length + 1; r++) {
    ws.getCell(`C${r}`).dataValidation = { type: 'list', allowBlank: true, formulae: ['"Yes,No,N/A"'] };
  }
  await wb.xlsx.writeFile(file);
}

/** The answered workbook's rows by ID: [response, comments]. */
async function answeredRows(file: string) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.getWorksheet('Vendor review')!;
  const rows = new Map<string, [string, string]>();
  ws.eachRow((row, n) => {
    if (n === 1) return;
    const cell = (c: number) => (row.getCell(c).value === null ? '' : String(row.getCell(c).value));
    rows.set(cell(1), [cell(3), cell(4)]);
  });
  return rows;
}

const isYes = (s: string | null | undefined) => /^\s*y(es)?\b/i.test(s ?? '');

t.test('a prospect uploads a workbook through the grant page in Chromium and gets released answers only', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install the Debian package (apt-get install -y chromium) to run the browser test`);
    return;
  }
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prospect-browser-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const workbook = path.join(dir, 'vendor-review.xlsx');
  await buyerWorkbook(workbook);

  // Fills stay queued until the test runs them, so the page can be watched while it waits.
  const app = await testApp(t, { config: { seedDemo: true }, options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@demo.example.com', password: 'Demo-Password-2026!' } });
  t.equal(login.statusCode, 200, login.body);
  const demo = { auth: { authorization: `Bearer ${login.json().accessToken}` }, slug: 'demo' } as Tenant;
  const { base: grantPath } = await prospectGrant(app, demo, { name: 'Ines Moreau', email: 'ines@northwind-buyer.example', company: 'Northwind Buyer' });

  await app.listen({ port: 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));

  // The upload, through the form a person would use.
  t.equal((await page.goto(origin + grantPath))?.status(), 200);
  await page.getByLabel('Questionnaire file (XLSX, CSV or JSON)').setInputFiles(workbook);
  await Promise.all([page.waitForURL(/\/questionnaires\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Upload questionnaire' }).click()]);
  const questionnaireUrl = page.url();
  const id = questionnaireUrl.split('/').pop()!;
  t.ok(questionnaireUrl.startsWith(origin + grantPath + '/questionnaires/'), "the form post leads to the questionnaire's page");
  t.match(await page.locator('h1').textContent(), /\(from ines@northwind-buyer\.example\)/, 'named after the grantee');
  const live = page.locator('#progress');
  t.equal(await live.textContent(), `Answering: 0 of ${ALL.length} questions so far.`);
  t.equal(await page.getByText('Awaiting review by our security team.').count(), 0, 'nothing claims a review before answering');

  // The vendor's side runs the fill; the page follows it in place.
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  // Polled from here: this page's CSP refuses the string evaluation waitForFunction would use.
  for (const end = Date.now() + 30_000; Date.now() < end && !(await live.textContent())?.startsWith('Answering has finished');)
    await new Promise((r) => setTimeout(r, 250));
  t.match(await live.textContent(), /^Answering has finished/);
  await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: 'Show the answers' }).click()]);

  const item = (q: { ref: string; text: string }): Locator => page.locator('li.doc').filter({ hasText: `${q.ref}: ${q.text}` });
  for (const q of ALL) t.equal(await item(q).count(), 1, `${q.ref} is on the page once`);
  for (const q of [...SETTLED_NO, ...NEVER_YES, ...UNSETTLED]) {
    const badges = await item(q).locator('.badge').allTextContents();
    t.notOk(badges.some(isYes), `${q.ref}: no "yes" shown (${badges.join(', ') || 'no choice'})`);
  }
  for (const q of SETTLED_NO) {
    t.same(await item(q).locator('.badge').allTextContents(), ['No'], `${q.ref}: the public facts' "no", in the list's spelling`);
    t.ok(await item(q).getByText('From our published company facts.').isVisible(), `${q.ref}: says where it comes from`);
  }
  for (const q of [...NEVER_YES, ...UNSETTLED]) {
    t.ok(await item(q).getByText('Awaiting review by our security team.').isVisible(), `${q.ref}: awaiting review`);
    t.equal(await item(q).locator('.badge').count(), 0, `${q.ref}: no answer shown`);
  }
  t.match(await page.locator('main').textContent(), `${SETTLED_NO.length} answered, ${NEVER_YES.length + UNSETTLED.length} awaiting review.`);
  t.ok(await page.getByText('The answered file can be downloaded once our team has reviewed it.').isVisible());
  t.equal(await page.getByRole('link', { name: 'Download the answered file' }).count(), 0, 'no file before the vendor releases it');
  await page.screenshot({ path: path.join(OUT, 'prospect-answers.png'), fullPage: true });

  // The vendor reviews one held answer (its own words, approved) and releases the questionnaire.
  const questions = (await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}?limit=100`, headers: demo.auth })).json().questions as Array<{
    id: string;
    ref: string;
  }>;
  const p5 = questions.find((q) => q.ref === 'P5')!;
  const approved = await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${p5.id}`,
    headers: demo.auth,
    payload: { choice: 'Yes', text: 'Yes. Customer data is encrypted at rest with AES-256.', status: 'approved' },
  });
  t.equal(approved.statusCode, 200, approved.body);
  const released = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/release`, headers: demo.auth });
  t.equal(released.statusCode, 200, released.body);

  await page.reload();
  t.ok(await item(UNSETTLED[1]!).getByText('Reviewed by our security team.').isVisible(), 'P5: released by review');
  t.same(await item(UNSETTLED[1]!).locator('.badge').allTextContents(), ['Yes'], 'P5: the reviewed choice shows');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the answered file' }).click()]);
  const answered = path.join(dir, 'answered.xlsx');
  await download.saveAs(answered);
  const rows = await answeredRows(answered);
  t.same(
    [...rows.keys()],
    ALL.map((q) => q.ref),
    "every question, in the buyer's order",
  );
  for (const q of SETTLED_NO) t.equal(rows.get(q.ref)![0], 'No', `${q.ref}: the released "no", in the list's spelling`);
  t.same(rows.get('P5'), ['Yes', 'Yes. Customer data is encrypted at rest with AES-256.'], 'P5: the reviewed answer');
  for (const q of [NEVER_YES[0]!, UNSETTLED[0]!]) t.same(rows.get(q.ref), ['', ''], `${q.ref}: not released, left empty`);
  for (const [ref, [choice]] of rows) t.notOk(ref !== 'P5' && isYes(choice), `${ref}: no "yes" but the one a person approved`);
  // The buyer's own list is still on the answer column.
  const sheet = await (await JSZip.loadAsync(fs.readFileSync(answered))).file('xl/worksheets/sheet1.xml')!.async('string');
  t.match(
    sheet,
    /<dataValidation [^>]*type="list"[^>]*sqref="C2:C6"[^>]*>\s*<formula1>&quot;Yes,No,N\/A&quot;<\/formula1>/,
    'the answer list survives the write-back',
  );
  t.same(problems, [], 'no CSP report, console error or failed request');
});
