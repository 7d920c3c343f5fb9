// The trust pages in headless Chromium, checked with axe-core (0 violations) and from the
// keyboard: the error summary takes focus after a refused submit, focus indicators keep 3:1
// against what surrounds them, wide tables say they scroll on a phone, and the prospect page
// announces progress in a live region without reloading.
// Needs the Debian package `chromium` (/usr/bin/chromium); without it this test FAILS, never skips.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { runNextJob } from '../../src/modules/questionnaires/service.js';
import { signup, testApp } from '../helpers/app.js';
import { multipart } from '../helpers/multipart.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve('test-output');
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's violations on the page as it stands (injected through DevTools, so the page's CSP does not apply). */
async function axeViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE);
  return page.evaluate<Violation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
  })))`);
}

// In the page: the focused element's outline colour against the colour just outside it (where the
// outline is drawn), by the WCAG contrast formula.
const FOCUS_CONTRAST = `(() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const rgb = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = ({ r, g, b }) => [r, g, b].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const rect = el.getClientRects()[0];
  const offset = parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth) / 2;
  const x = Math.max(0, rect.left - offset);
  const y = rect.top + rect.height / 2;
  const behind = document.elementsFromPoint(x, y).filter((e) => e !== el && !el.contains(e));
  let background = 'rgb(255, 255, 255)';
  for (const e of behind) { const c = getComputedStyle(e).backgroundColor; if (rgb(c).a > 0) { background = c; break; } }
  const [l1, l2] = [lum(rgb(style.outlineColor)), lum(rgb(background))].sort((a, b) => b - a);
  return { element: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + (el.textContent || '').trim().slice(0, 40), outline: style.outlineColor,
    style: style.outlineStyle, width: parseFloat(style.outlineWidth), background, ratio: (l1 + 0.05) / (l2 + 0.05) };
})()`;

/**
 * Waits until an expression is true in the page. waitForFunction polls by evaluating the string
 * inside the page, which these pages' CSP (script-src 'none') refuses whenever the first check is
 * false; page.evaluate goes through the DevTools protocol, which the CSP does not govern.
 */
async function until(page: Page, expression: string, timeoutMs = 5000): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await page.evaluate<boolean>(expression)) return;
  throw new Error(`not true within ${timeoutMs} ms: ${expression}`);
}

t.test('accessibility of the trust pages in headless Chromium', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install the Debian package (apt-get install -y chromium) to run the browser test`);
    return;
  }
  fs.mkdirSync(OUT, { recursive: true });
  // Fills stay queued until the test runs them, so the prospect page can be watched while it waits.
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app, 'a11y');
  const upload = async (title: string, visibility: string, description?: string) => {
    const body = multipart({ title, visibility, ...(description ? { description } : {}) }, [
      { filename: `${title}.txt`, content: `${title} text`, contentType: 'text/plain' },
    ]);
    const r = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...body.headers }, payload: body.payload });
    t.equal(r.statusCode, 201, r.body);
  };
  await upload('SOC 2 Type II Report', 'nda');
  await upload('Penetration Test Summary', 'nda');
  await upload('Security Whitepaper', 'public', 'How we protect customer data, in twelve pages.');
  for (const [ref, summary] of [
    ['A.5.1', 'Policies are approved and reviewed every year.'],
    ['A.8.24', 'Data is encrypted at rest and in transit.'],
    ['CLD.6.3.1', 'Shared responsibilities are published.'],
  ] as const) {
    const r = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: a.auth,
      payload: {
        applicable: true,
        status: 'implemented',
        implementation: 'internal',
        responsibility: 'provider',
        visibility: 'public',
        publicSummary: summary,
      },
    });
    t.equal(r.statusCode, 200, r.body);
  }
  const cert = await app.inject({
    method: 'POST',
    url: '/api/v1/certifications',
    headers: a.auth,
    payload: { kind: 'iso27001', name: 'ISO/IEC 27001:2022', issuer: 'Registrar Ltd', issuedAt: '2025-03-14', includesIso27017: true, visibility: 'public' },
  });
  t.equal(cert.statusCode, 201, cert.body);
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: {
      // A light brand colour: the header's text and focus ring turn dark (the other tests use a dark one).
      published: true,
      headline: 'Security at Acme',
      overview: 'We run a careful platform.',
      brandColor: '#ffd33d',
      contactEmail: 'security@acme.example.com',
      subprocessors: [
        {
          name: 'Cloud Host',
          purpose: 'Hosting of the platform and its encrypted backups',
          location: 'EU (Ireland), US (Virginia)',
          url: 'https://host.example.com',
        },
        { name: 'Mailer', purpose: 'Transactional email', location: 'US' },
      ],
      faq: [{ question: 'Do you encrypt data?', answer: 'Yes, at rest and in transit.' }],
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
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  };
  const desktop = await browser.newContext();
  const page = await desktop.newPage();
  watch(page);
  const noViolations = async (t: Test, p: Page, name: string) => {
    const violations = await axeViolations(p);
    t.same(violations, [], `axe-core: no violations on ${name}`);
  };

  await t.test('the trust page: no axe violations', async (t) => {
    const res = await page.goto(`${base}/trust/${a.slug}`);
    t.equal(res?.status(), 200);
    t.equal(res?.headers()['content-encoding'], 'br', 'the browser gets the page compressed');
    await noViolations(t, page, 'the trust page');
    t.same(problems, []);
  });

  await t.test('focus indicators keep at least 3:1 against what surrounds them', async (t) => {
    await page.goto(`${base}/trust/${a.slug}`);
    const wanted: Array<[string, string]> = [
      ['the skip link', 'a.skip'],
      ['a link in the header (brand colour)', 'header.site nav a'],
      ['the search box', 'input#q'],
      ['the search button (on the white hero)', 'form.search button'],
      ['a scrollable table region (page background)', 'div.scroll[role=region]'],
      ['a link in the content', 'main section#documents a[href="#request-access"]'],
      ['the request button', 'form[action$="/request-access"] button'],
    ];
    type Measure = { element: string; outline: string; style: string; width: number; background: string; ratio: number };
    const measured = new Map<string, Measure>();
    // Tab through the page as a keyboard user does, measuring each wanted element when it has focus.
    for (let i = 0; i < 200 && measured.size < wanted.length; i++) {
      await page.keyboard.press('Tab');
      for (const [name, selector] of wanted) {
        if (measured.has(name)) continue;
        if (await page.evaluate<boolean>(`document.activeElement === document.querySelector(${JSON.stringify(selector)})`))
          measured.set(name, await page.evaluate<Measure>(FOCUS_CONTRAST));
      }
    }
    // A dark brand (the default one, on an error page, in a tab of its own whose 404 is expected):
    // the header ring turns white.
    const dark = await desktop.newPage();
    await dark.goto(`${base}/trust/no-such-page`);
    for (const [name, selector] of [
      ['the skip link on a dark header', 'a.skip'],
      ['the header link on a dark header', 'header.site a.brand'],
    ] as const) {
      wanted.push([name, selector]);
      for (let i = 0; i < 5 && !measured.has(name); i++) {
        await dark.keyboard.press('Tab');
        if (await dark.evaluate<boolean>(`document.activeElement === document.querySelector(${JSON.stringify(selector)})`))
          measured.set(name, await dark.evaluate<Measure>(FOCUS_CONTRAST));
      }
    }
    await dark.close();
    for (const [name] of wanted) {
      const m = measured.get(name);
      if (!m) {
        t.fail(`${name} was never reached with Tab`);
        continue;
      }
      t.equal(m.style, 'solid', `${name}: a solid outline`);
      t.ok(m.width >= 2, `${name}: outline ${m.width}px wide`);
      t.ok(m.ratio >= 3, `${name}: ${m.outline} on ${m.background} is ${m.ratio.toFixed(2)}:1 (${m.element})`);
    }
  });

  await t.test('search from the page, without scripts: results grouped, no axe violations', async (t) => {
    await page.goto(`${base}/trust/${a.slug}`);
    await page.getByLabel('Search controls, FAQ, subprocessors and documents').fill('encrypt');
    await Promise.all([page.waitForURL(`**/trust/${a.slug}/search?q=encrypt`), page.keyboard.press('Enter')]);
    t.match(await page.title(), /^Search results for “encrypt”/);
    t.same(await page.locator('main h2').allTextContents(), ['Controls (1)', 'Frequently asked questions (1)', 'Subprocessors (1)']);
    await noViolations(t, page, 'the search results');
    // A result leads to its place on the trust page, opening the collapsed control list.
    await Promise.all([page.waitForURL(/#c-iso27001-2022-a-8-24$/), page.getByRole('link', { name: 'A.8.24 Use of cryptography' }).click()]);
    t.ok(await page.locator('#c-iso27001-2022-a-8-24').isVisible(), 'the control is shown');
    t.same(problems, []);
  });

  await t.test('a refused submit: focus on the error summary, "Error:" title, no axe violations', async (t) => {
    await page.goto(`${base}/trust/${a.slug}`);
    // The browser would stop an empty form itself; the server's answer is what is tested here.
    await page.evaluate(`document.querySelector('form[action$="/request-access"]').noValidate = true`);
    await page.getByLabel('Work email', { exact: true }).fill('not-an-email');
    await Promise.all([page.waitForURL(`**/trust/${a.slug}/request-access`), page.getByRole('button', { name: 'Request access' }).click()]);
    t.match(await page.title(), /^Error: Request access to NDA documents/);
    await until(page, `document.activeElement && document.activeElement.id === 'form-errors'`);
    t.equal(await page.evaluate<string>('document.activeElement.id'), 'form-errors', 'the error summary has focus');
    const top = await page.evaluate<number>(`document.getElementById('form-errors').getBoundingClientRect().top`);
    t.ok(top >= 0 && top < 400, `the summary is in view at the top (${top}px)`);
    t.same(await page.locator('#form-errors li').allTextContents(), [
      'Enter your name.',
      'Enter your work email address in the form name@company.com.',
      'Enter the name of your company.',
      'Tick the box to accept the non-disclosure terms.',
    ]);
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate<string>('document.activeElement.textContent'), 'Enter your name.', 'Tab goes on to the first problem');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#f-name$/);
    t.ok(await page.locator('#f-name').isVisible());
    await noViolations(t, page, "the form's error state");
    await page.screenshot({ path: path.join(OUT, 'a11y-form-error.png'), fullPage: false });
    // Problems are for the client; the 400 itself is the only console line allowed.
    t.same(
      problems.filter((p) => !/status of 400/.test(p)),
      [],
    );
    problems.length = 0;
  });

  await t.test('on a phone: a wide table says it scrolls, and the keyboard can scroll it', async (t) => {
    const phone = await browser.newContext({ viewport: { width: 320, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watch(p);
    await p.goto(`${base}/trust/${a.slug}`);
    t.ok((await p.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')) <= 0, 'the page itself fits');
    const region = p.getByRole('region', { name: 'Coverage by criteria group' });
    t.equal(await region.getAttribute('tabindex'), '0');
    const hint = region.locator('.scroll-hint');
    const overflow = await region.evaluate((e) => e.scrollWidth - e.clientWidth);
    t.ok(overflow > 0, `the SOC 2 table is wider than the phone (${overflow}px more)`);
    t.ok(await hint.isVisible(), 'the hint shows while there is more to the right');
    t.equal(await hint.textContent(), 'Scroll sideways to see the whole table →');
    const shadows = await p.evaluate<string>(`getComputedStyle(document.querySelector('[aria-labelledby="cap-soc2"]')).backgroundImage`);
    t.match(shadows, /radial-gradient/, 'edge shadows mark the hidden part');
    await region.focus();
    for (let i = 0; i < 30; i++) await p.keyboard.press('ArrowRight');
    await until(p, `document.querySelector('[aria-labelledby="cap-soc2"]').scrollLeft > 0`);
    t.ok((await region.evaluate((e) => e.scrollLeft)) > 0, 'arrow keys scroll the focused table');
    await region.evaluate((e) => {
      e.scrollLeft = e.scrollWidth;
    });
    await until(p, `getComputedStyle(document.querySelector('.scroll-hint')).display === 'none'`);
    t.notOk(await hint.isVisible(), 'at the end the hint goes');
    await noViolations(t, p, 'the trust page on a phone');
    await p.screenshot({ path: path.join(OUT, 'a11y-phone.png'), fullPage: true });
    await phone.close();
    t.same(problems, []);
  });

  // An approved request: the grant page, and a questionnaire uploaded through it.
  const request = await app.inject({
    method: 'POST',
    url: `/api/v1/public/trust/${a.slug}/access-requests`,
    payload: { name: 'Pat Buyer', email: 'pat@buyer.example.com', company: 'Buyer Inc', ndaAccepted: true },
  });
  t.equal(request.statusCode, 201, request.body);
  const grant = await app.inject({
    method: 'POST',
    url: `/api/v1/access-requests/${request.json().id}/approve`,
    headers: a.auth,
    payload: { expiresInDays: 7 },
  });
  t.equal(grant.statusCode, 200, grant.body);
  const grantPath = new URL(grant.json().url).pathname;

  await t.test('the grant page: no axe violations', async (t) => {
    const res = await page.goto(base + grantPath);
    t.equal(res?.status(), 200);
    await noViolations(t, page, 'the grant page');
    t.same(problems, []);
  });

  await t.test('the prospect questionnaire page: progress in a live region, no reload, no axe violations', async (t) => {
    const up = await app.inject({
      method: 'POST',
      url: `${grantPath}/questionnaires`,
      payload: {
        name: 'Buyer review',
        questions: [
          { ref: 'Q1', text: 'Do you encrypt data at rest?' },
          { ref: 'Q2', text: 'Are policies reviewed every year?' },
        ],
      },
    });
    t.equal(up.statusCode, 201, up.body);
    const res = await page.goto(`${base}${grantPath}/questionnaires/${up.json().id}`);
    t.equal(res?.status(), 200);
    const live = page.locator('#progress');
    t.equal(await live.getAttribute('aria-live'), 'polite');
    t.equal(await live.getAttribute('role'), 'status');
    t.equal(await live.textContent(), 'Answering: 0 of 2 questions so far.');
    t.ok(await page.getByRole('link', { name: 'Refresh progress' }).isVisible(), 'a visible refresh link');
    await noViolations(t, page, 'the prospect questionnaire page while answering');
    // A mark on the window survives only if the page is never reloaded.
    await page.evaluate('window.stillHere = true');
    t.equal(await runNextJob(app.jobDeps), true);
    // Polled from here: this page's CSP refuses the string evaluation waitForFunction would use.
    for (const end = Date.now() + 30_000; Date.now() < end && !(await live.textContent())?.startsWith('Answering has finished');)
      await new Promise((r) => setTimeout(r, 250));
    t.equal(await live.textContent(), 'Answering has finished for all 2 questions. Select “Show the answers” to read them.');
    t.equal(await page.evaluate<boolean>('window.stillHere === true'), true, 'updated in place, not reloaded');
    await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: 'Show the answers' }).click()]);
    t.match(await page.locator('main').textContent(), /answered, \d+ awaiting review\./);
    await noViolations(t, page, 'the prospect questionnaire page once answered');
    t.same(problems, [], "no CSP report, console error or failed request: the script ran under the page's policy");
  });
});
