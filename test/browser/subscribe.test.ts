// Subscribing from the trust page in headless Chromium, without scripts: the form, the
// confirmation link from the mail a real SMTP server on 127.0.0.1 received, and the one-click
// unsubscribe link from an update; every page on the way has no axe-core violation.
// Needs the Debian package `chromium` (/usr/bin/chromium); without it this test FAILS, never skips.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { chromium, type Page } from 'playwright-core';
import { signup, testApp } from '../helpers/app.js';
import { linkIn, smtpServer } from '../helpers/smtp.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve('test-output');
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function axeViolations(page: Page): Promise<{ id: string; nodes: string[] }[]> {
  await page.evaluate(AXE);
  return page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) })))`,
  );
}

t.test('subscribe from the page, confirm from the mail, unsubscribe from an update', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install the Debian package (apt-get install -y chromium) to run the browser test`);
    return;
  }
  fs.mkdirSync(OUT, { recursive: true });
  const smtp = await smtpServer(t);
  // Links in the mail point at the server the browser talks to: PUBLIC_URL is set once the port is known.
  const app = await testApp(t, { config: { mail: { smtpUrl: smtp.url, from: 'trust@acme.example' } }, options: { mail: { pollIntervalMs: 20 } } });
  const a = await signup(app, 'browser-subs');
  await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true, headline: 'Security at Acme' } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // The app was built with the default PUBLIC_URL (localhost:3000): links are followed on `base` by path.
  const onBase = (url: string) => base + url.slice(url.indexOf('/trust/'));

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  t.teardown(() => browser.close());
  // The pages carry no script and their CSP allows none; axe is injected through DevTools, past the CSP.
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  const axe = async (name: string) => t.same(await axeViolations(page), [], `axe-core: no violations on ${name}`);

  await page.goto(`${base}/trust/${a.slug}`);
  t.ok(await page.getByRole('heading', { level: 2, name: 'Updates' }).isVisible());
  t.ok(await page.getByText('No update is published yet.').isVisible());
  t.equal(await page.locator('script').count(), 0, 'no scripts on the page');
  await page.getByLabel('E-mail address').fill('dana@example.com');
  await page.getByRole('checkbox', { name: 'Security' }).check();
  await Promise.all([page.waitForURL(`**/trust/${a.slug}/subscribe`), page.getByRole('button', { name: 'Subscribe' }).click()]);
  t.equal(await page.locator('h1').textContent(), 'Check your inbox');
  await axe('the subscribe answer');

  const confirmation = await smtp.waitFor((m) => m.to === 'dana@example.com');
  await page.goto(onBase(linkIn(confirmation.text, 'http://localhost:3000/trust/')));
  t.equal(await page.locator('h1').textContent(), 'Confirm your subscription');
  await axe('the confirmation page');
  await page.getByRole('button', { name: 'Confirm subscription' }).click();
  t.equal(await page.locator('h1').textContent(), 'Subscription confirmed');
  const subscribers = (await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: a.auth })).json().items;
  t.match(subscribers, [{ email: 'dana@example.com', status: 'confirmed', topics: ['security'] }]);

  const update = await app.inject({
    method: 'POST',
    url: '/api/v1/trust-updates',
    headers: a.auth,
    payload: { title: 'New MFA policy', body: 'Every account now needs **two factors**.', category: 'security' },
  });
  await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${update.json().id}/publish`, headers: a.auth, payload: { notify: 'all' } });
  const notice = await smtp.waitFor((m) => m.subject.includes('New MFA policy'));
  await page.goto(`${base}/trust/${a.slug}#updates`);
  t.ok(await page.getByRole('heading', { level: 3, name: 'New MFA policy' }).isVisible(), 'the update is on the page, without scripts');
  t.equal(await page.locator('#updates strong').textContent(), 'two factors');
  await axe('the trust page with an update');
  await page.screenshot({ path: path.join(OUT, 'trust-updates.png'), fullPage: true });

  await page.goto(onBase(/^<(.+)>$/.exec(notice.listUnsubscribe!)![1]!));
  t.equal(await page.locator('h1').textContent(), 'Unsubscribe');
  await axe('the unsubscribe page');
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  t.equal(await page.locator('h1').textContent(), 'You are unsubscribed');
  await axe('the unsubscribed page');
  t.match((await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: a.auth })).json().items, [
    { email: 'dana@example.com', status: 'unsubscribed' },
  ]);

  t.same(problems, [], 'no console errors');

  // A refused address: the form again (a 400), its problem first.
  await page.goto(`${base}/trust/${a.slug}`);
  await page.getByLabel('E-mail address').evaluate((el) => el.removeAttribute('required'));
  await page.getByRole('button', { name: 'Subscribe' }).click();
  t.match(await page.title(), /^Error: /);
  await axe('a refused subscription');
});
