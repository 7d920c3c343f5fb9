// The trust page in real headless Chromium: it renders without console errors, works from the
// keyboard and on a phone, the request-access form submits, and a grant link downloads a document.
// Needs the Debian package `chromium` (/usr/bin/chromium); without it this test FAILS, never skips.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { signup, testApp } from '../helpers/app.js';
import { multipart } from '../helpers/multipart.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve('test-output');

t.test('trust page in headless Chromium', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install the Debian package (apt-get install -y chromium) to run the browser test`);
    return;
  }
  fs.mkdirSync(OUT, { recursive: true });
  const app = await testApp(t);
  const a = await signup(app, 'browser');
  const upload = async (title: string, visibility: string, content: Buffer | string, filename: string, contentType: string) => {
    const body = multipart({ title, visibility }, [{ filename, content, contentType }]);
    const r = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...body.headers }, payload: body.payload });
    t.equal(r.statusCode, 201, r.body);
  };
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  pdf.addPage([595, 842]).drawText('SOC 2 Type II report (test)', { x: 50, y: 780, size: 14, font });
  await upload('SOC 2 Type II Report', 'nda', Buffer.from(await pdf.save()), 'soc2.pdf', 'application/pdf');
  await upload('Security Whitepaper', 'public', 'public whitepaper', 'whitepaper.txt', 'text/plain');
  await upload('Risk Register', 'private', 'private', 'risks.txt', 'text/plain');
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.5.1',
    headers: a.auth,
    payload: {
      applicable: true,
      status: 'implemented',
      implementation: 'internal text',
      responsibility: 'provider',
      visibility: 'public',
      publicSummary: 'Policies are approved and reviewed yearly.',
    },
  });
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: {
      published: true,
      headline: 'Security at <Acme>',
      overview: 'We run a careful platform.',
      brandColor: '#0b7a3e',
      contactEmail: 'security@acme.example.com',
      subprocessors: [{ name: 'Cloud <b>Host</b>', purpose: 'Hosting', location: 'EU', url: 'https://host.example.com' }],
      faq: [{ question: 'Do you encrypt data?', answer: 'Yes.' }],
    },
  });
  t.equal(put.statusCode, 200, put.body);

  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ acceptDownloads: true });
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  };
  const page = await context.newPage();
  watch(page);

  await t.test('the page renders with no console errors', async (t) => {
    const res = await page.goto(`${base}/trust/${a.slug}`);
    t.equal(res?.status(), 200);
    t.equal(await page.locator('h1').textContent(), 'Security at <Acme>', 'markup in content is shown as text');
    t.equal(await page.locator('script').count(), 0);
    t.equal(await page.getByRole('main').count(), 1);
    t.equal(await page.getByRole('banner').count(), 1);
    t.equal(await page.getByRole('contentinfo').count(), 1);
    t.ok(await page.getByRole('navigation', { name: 'On this page' }).isVisible());
    t.ok(await page.getByRole('heading', { level: 2, name: 'Subprocessors' }).isVisible());
    t.ok(await page.getByRole('cell', { name: 'Hosting' }).isVisible());
    t.equal(await page.getByRole('link', { name: 'Cloud <b>Host</b>' }).count(), 1);
    t.equal(await page.getByText('Risk Register').count(), 0, 'private documents are not on the page');
    // The brand colour came through the stylesheet (no inline style).
    const bg = await page.evaluate<string>("getComputedStyle(document.querySelector('header.site')).backgroundColor");
    t.equal(bg, 'rgb(11, 122, 62)');
    await page.screenshot({ path: path.join(OUT, 'trust-page.png'), fullPage: true });
    t.same(problems, [], 'no console errors, page errors or failed requests');
  });

  await t.test('keyboard: the first Tab reaches the skip link, which moves focus to the content', async (t) => {
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate<string>('document.activeElement?.textContent'), 'Skip to main content');
    await page.keyboard.press('Enter');
    t.equal(await page.evaluate<string>('document.activeElement?.id'), 'main');
  });

  await t.test('readable on a phone: no horizontal scrolling', async (t) => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watch(p);
    await p.goto(`${base}/trust/${a.slug}`);
    const overflow = await p.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    t.ok(overflow <= 0, `page fits the screen (overflow ${overflow}px)`);
    await p.screenshot({ path: path.join(OUT, 'trust-page-phone.png'), fullPage: true });
    await phone.close();
  });

  await t.test('the request-access form submits', async (t) => {
    await page.getByLabel('Name', { exact: true }).fill('Pat Buyer');
    await page.getByLabel('Work email', { exact: true }).fill('pat@buyer.example.com');
    await page.getByLabel('Company', { exact: true }).fill('Buyer Inc');
    await page.getByLabel('Why you need the documents').fill('Vendor assessment');
    await page.locator('details.nda summary').click();
    await page.getByLabel('I accept the non-disclosure terms').check();
    await Promise.all([page.waitForURL(`**/trust/${a.slug}/request-access`), page.getByRole('button', { name: 'Request access' }).click()]);
    t.equal(await page.locator('h1').textContent(), 'Request received');
    const list = await app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: a.auth });
    t.match(list.json().items, [{ email: 'pat@buyer.example.com', company: 'Buyer Inc', status: 'pending', userAgent: /Chrome/ }]);
    t.same(problems, []);
  });

  await t.test('the grant page downloads a document', async (t) => {
    const id = (await app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: a.auth })).json().items[0].id;
    const grant = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${id}/approve`, headers: a.auth, payload: { expiresInDays: 7 } });
    t.equal(grant.statusCode, 200, grant.body);
    const url = base + new URL(grant.json().url).pathname;
    const res = await page.goto(url);
    t.equal(res?.status(), 200);
    t.equal(await page.locator('h1').textContent(), 'Documents shared with you');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'SOC 2 Type II Report' }).click()]);
    t.equal(download.suggestedFilename(), 'soc2.pdf');
    const saved = path.join(OUT, 'granted-soc2.pdf');
    await download.saveAs(saved);
    const stamped = await PDFDocument.load(fs.readFileSync(saved));
    t.match(stamped.getSubject(), /pat@buyer\.example\.com/, 'the copy carries the grantee');
    await page.screenshot({ path: path.join(OUT, 'grant-page.png'), fullPage: true });
    const analytics = (await app.inject({ method: 'GET', url: '/api/v1/trust-page/analytics', headers: a.auth })).json();
    t.match(analytics.downloads.byGrant, [{ email: 'pat@buyer.example.com', downloads: 1 }]);
    t.same(problems, []);
  });
});
