// The prospect questionnaire page follows answering through a polite live region: a script the
// page's CSP allows by its hash polls a small progress route; without scripts, a refresh link and
// a <noscript> refresh.
import t from 'tap';
import { createHash } from 'node:crypto';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { signup, testApp } from '../../helpers/app.js';
import { prospectGrant } from '../../helpers/trust.js';

t.test('questionnaire progress for prospects', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app, 'progress');
  const { base } = await prospectGrant(app, a);
  const upload = await app.inject({
    method: 'POST',
    url: `${base}/questionnaires`,
    payload: {
      name: 'Buyer <review>',
      questions: [
        { ref: 'P1', text: 'Do you enforce multi-factor authentication?' },
        { ref: 'P2', text: 'Do you encrypt data at rest?' },
        { ref: 'P3', text: 'Do you run a yearly penetration test?' },
      ],
    },
  });
  t.equal(upload.statusCode, 201, upload.body);
  const id = upload.json().id as string;
  const html = { accept: 'text/html' };

  await t.test('while answering: a live region, its script allowed by hash, and ways without scripts', async (t) => {
    const r = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}`, headers: html });
    t.equal(r.statusCode, 200);
    t.match(
      r.body,
      new RegExp(
        `<p id="progress" role="status" aria-live="polite" data-progress-url="${base}/questionnaires/${id}/progress">Answering: 0 of 3 questions so far\\.</p>`,
      ),
    );
    t.match(r.body, new RegExp(`<a id="refresh" href="${base}/questionnaires/${id}">Refresh progress</a>`), 'a visible refresh link');
    t.match(r.body, /<noscript><meta http-equiv="refresh" content="10"><\/noscript>/, 'without scripts the page still refreshes');
    t.notMatch(r.body.replace(/<noscript>[\s\S]*?<\/noscript>/g, ''), /http-equiv="refresh"/, 'no refresh for browsers that run the script');
    const scripts = [...r.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    t.equal(scripts.length, 1);
    const csp = String(r.headers['content-security-policy']);
    const hash = createHash('sha256').update(scripts[0]!).digest('base64');
    t.match(csp, `script-src 'sha256-${hash}'`, 'the CSP allows exactly this script');
    t.match(csp, /connect-src 'self'/);
    t.match(csp, /default-src 'none'/);
    t.notMatch(csp, /unsafe-inline|unsafe-eval/);
    t.match(r.body, /Buyer &lt;review&gt;/, 'escaped');
  });

  await t.test("the progress route: one small answer, in the page's words", async (t) => {
    const r = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/progress` });
    t.equal(r.statusCode, 200);
    t.same(r.json(), { status: 'queued', done: 0, total: 3, answering: true, message: 'Answering: 0 of 3 questions so far.' });
    t.equal(r.headers['cache-control'], 'no-store');
    t.equal(r.headers['referrer-policy'], 'no-referrer');
    t.equal((await app.inject({ method: 'GET', url: `${base}/questionnaires/00000000-0000-7000-8000-000000000000/progress` })).statusCode, 404);
    const other = await prospectGrant(app, a, { name: 'Sam', email: 'sam@other.example.com', company: 'Other' });
    t.equal((await app.inject({ method: 'GET', url: `${other.base}/questionnaires/${id}/progress` })).statusCode, 404, 'another grant cannot follow it');
    t.equal((await app.inject({ method: 'GET', url: `${base}x/questionnaires/${id}/progress` })).statusCode, 401, 'a tampered link is refused');
  });

  await t.test('once answered: the route says so, and the page shows the answers without a script', async (t) => {
    t.equal(await runNextJob(app.jobDeps), true);
    const r = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/progress` });
    t.match(r.json(), {
      status: 'filled',
      done: 3,
      total: 3,
      answering: false,
      message: 'Answering has finished for all 3 questions. Select “Show the answers” to read them.',
    });
    const page = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}`, headers: html });
    t.notMatch(page.body, /<script/);
    t.notMatch(page.body, /http-equiv="refresh"/);
    t.notMatch(page.body, /id="progress"/);
    t.match(page.body, /\d+ answered, \d+ awaiting review\./);
  });
});
