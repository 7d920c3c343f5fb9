// Search over the public trust page: what the page shows and nothing else, grouped by kind, each
// result linking to an anchor that exists on the page; escaped, bounded, works without scripts.
import t from 'tap';
import { signup, testApp } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const EVIL = '<script>alert(1)</script>';

t.test('search the trust page', async (t) => {
  const app = await testApp(t);
  const a = await signup(app, 'search');
  const upload = async (title: string, visibility: string, description?: string) => {
    const body = multipart({ title, visibility, ...(description ? { description } : {}) }, [
      { filename: 'f.txt', content: 'file body', contentType: 'text/plain' },
    ]);
    const r = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...body.headers }, payload: body.payload });
    t.equal(r.statusCode, 201, r.body);
  };
  await upload('Encryption Standard', 'public', 'How we encrypt data at rest.');
  await upload('Encryption Key Inventory', 'nda');
  await upload('Encryption Secrets Runbook', 'private');
  const control = (ref: string, visibility: string, publicSummary?: string) =>
    app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: a.auth,
      payload: {
        applicable: true,
        status: 'implemented',
        implementation: `INTERNAL-ONLY ${ref} encryption detail`,
        responsibility: 'provider',
        visibility,
        ...(publicSummary ? { publicSummary } : {}),
      },
    });
  t.equal((await control('A.8.24', 'public', `Data is encrypted at rest and in transit ${EVIL}.`)).statusCode, 200);
  t.equal((await control('A.8.5', 'internal')).statusCode, 200);
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: {
      published: true,
      subprocessors: [
        { name: 'Keyvault Zürich', purpose: 'Encryption key custody', location: 'Switzerland' },
        { name: 'Mailer', purpose: 'Email', location: 'US' },
      ],
      faq: [
        { question: 'Do you encrypt backups?', answer: 'Yes, backups are encrypted with their own keys.' },
        { question: 'Where are you based?', answer: 'Dublin.' },
      ],
    },
  });
  t.equal(put.statusCode, 200, put.body);
  const search = (q: string) => app.inject({ method: 'GET', url: `/trust/${a.slug}/search?q=${encodeURIComponent(q)}` });
  const page = (await app.inject({ method: 'GET', url: `/trust/${a.slug}` })).body;

  await t.test('the trust page has the search form: a GET form, labelled', async (t) => {
    t.match(page, new RegExp(`<form class="search" role="search" method="get" action="/trust/${a.slug}/search"`));
    t.match(page, /<label for="q">Search controls, FAQ, subprocessors and documents<\/label>/);
    t.match(page, /<input id="q" name="q" type="search" maxlength="200"/);
  });

  await t.test('results grouped by kind, in page order, each linking to an anchor on the page', async (t) => {
    const r = await search('encrypt');
    t.equal(r.statusCode, 200);
    t.match(r.headers['content-type'], /text\/html/);
    t.match(r.headers['content-security-policy'], /script-src 'none'/);
    t.match(r.body, /<title>Search results for “encrypt”: Org [^<]+ trust center<\/title>/);
    const groups = [...r.body.matchAll(/<h2 id="h-r-([a-z]+)">/g)].map((m) => m[1]);
    t.same(groups, ['controls', 'faq', 'subprocessors', 'documents']);
    t.match(r.body, /<p>5 results for “encrypt”/);
    const results = [...r.body.matchAll(/<ul class="results">([\s\S]*?)<\/ul>/g)].map((m) => m[1]).join('');
    const hrefs = [...results.matchAll(/<li><a href="([^"]+)">/g)].map((m) => m[1]!);
    t.equal(hrefs.length, 5);
    for (const href of hrefs) {
      const [path, id] = href.split('#');
      t.equal(path, `/trust/${a.slug}`);
      t.ok(page.includes(`id="${id}"`), `the page has the anchor ${id}`);
    }
    t.match(r.body, /Data is <mark>encrypt<\/mark>ed at rest and in transit &lt;script&gt;alert\(1\)&lt;\/script&gt;\./, 'marked and escaped');
    t.match(r.body, /<mark>Encrypt<\/mark>ion Key Inventory<\/a> <span class="muted">Under NDA<\/span>/);
  });

  await t.test('only what the public page shows', async (t) => {
    const r = await search('encryption');
    for (const hidden of ['Encryption Secrets Runbook', 'INTERNAL-ONLY', 'A.8.5']) t.notOk(r.body.includes(hidden), `no ${hidden}`);
    t.match((await search('INTERNAL-ONLY')).body, /No results for “INTERNAL-ONLY”/);
    t.match((await search('runbook')).body, /No results/);
  });

  await t.test('every word must match; case and accents are ignored', async (t) => {
    const both = await search('BACKUPS encrypted');
    t.match(both.body, /<p>1 result for “BACKUPS encrypted”\.<\/p>/);
    t.match(both.body, /Do you encrypt <mark>backups<\/mark>\?/);
    t.match((await search('zurich')).body, /Keyvault Zürich/, 'accents folded');
    t.match((await search('encrypt nowhere-word')).body, /No results/);
  });

  await t.test('escaped, bounded, and friendly without a query', async (t) => {
    const markup = '<img src=x onerror=alert(2)>';
    const evil = await search(markup);
    t.equal(evil.statusCode, 200);
    t.notOk(evil.body.includes(markup), 'the query is never markup');
    t.match(evil.body, /value="&lt;img src=x onerror=alert\(2\)&gt;"/);
    t.match(evil.body, /No results for “&lt;img src=x onerror=alert\(2\)&gt;”/);
    const found = await search('script alert');
    t.match(
      found.body,
      /&lt;<mark>script<\/mark>&gt;<mark>alert<\/mark>\(1\)&lt;\/<mark>script<\/mark>&gt;/,
      "the page's own markup-like text is marked, still escaped",
    );
    t.notOk(found.body.includes(EVIL));
    const empty = await app.inject({ method: 'GET', url: `/trust/${a.slug}/search` });
    t.equal(empty.statusCode, 200);
    t.match(empty.body, /Type one or more words to search/);
    t.match(empty.body, /<title>Search: /);
    t.equal((await search('x'.repeat(200))).statusCode, 200);
    const long = await search('x'.repeat(201));
    t.equal(long.statusCode, 400, 'a query longer than 200 characters is refused');
    // Words past the eighth are ignored, so a long list of words costs no more than eight.
    const many = await search('do you encrypt backups yes are with their nothing-matches-this');
    t.match(many.body, /1 result for/);
  });

  await t.test('unpublished or unknown pages are not searchable', async (t) => {
    t.equal((await app.inject({ method: 'GET', url: '/trust/no-such-org/search?q=x' })).statusCode, 404);
    const b = await signup(app, 'unpublished');
    t.equal((await app.inject({ method: 'GET', url: `/trust/${b.slug}/search?q=x` })).statusCode, 404);
  });
});
