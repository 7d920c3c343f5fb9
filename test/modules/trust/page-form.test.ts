// The request-access form after a refused submit, and how the page reads: one date format,
// no repeated certification cards, plain wording for the document choice, document dates.
import t from 'tap';
import { and, eq } from 'drizzle-orm';
import { accessRequests } from '../../../src/modules/trust/tables.js';
import { manualClock, signup, testApp } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

/** The text a person reads: no tags, no attribute values. */
const visibleText = (html: string) => html.replace(/<(script|style)[\s\S]*?<\/\1>/g, '').replace(/<[^>]+>/g, ' ');
const mainOf = (html: string) => html.slice(html.indexOf('<main'), html.indexOf('</main>'));

t.test('the request-access form and the page wording', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock });
  const a = await signup(app, 'form');
  const upload = async (title: string, visibility: string) => {
    const body = multipart({ title, visibility }, [{ filename: `${title}.txt`, content: title, contentType: 'text/plain' }]);
    const r = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...body.headers }, payload: body.payload });
    t.equal(r.statusCode, 201, r.body);
    return r.json().id as string;
  };
  const soc2 = await upload('SOC 2 Report', 'nda');
  await upload('Pentest Summary', 'nda');
  await upload('Whitepaper', 'public');
  const cert = await app.inject({
    method: 'POST',
    url: '/api/v1/certifications',
    headers: a.auth,
    payload: { kind: 'iso27001', name: 'ISO/IEC 27001:2022', issuer: 'Registrar', issuedAt: '2025-03-14', visibility: 'public' },
  });
  t.equal(cert.statusCode, 201, cert.body);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.5.1',
    headers: a.auth,
    payload: {
      applicable: true,
      status: 'implemented',
      implementation: 'x',
      responsibility: 'provider',
      visibility: 'public',
      publicSummary: 'Policies are reviewed every year; last review 2026-05-20.',
    },
  });
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true } })).statusCode, 200);
  const form = (body: string) =>
    app.inject({ method: 'POST', url: `/trust/${a.slug}/request-access`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body });

  await t.test('a refused submit: error summary first, focused, titled "Error:", in field order, in plain sentences', async (t) => {
    const r = await form('email=not-an-email&company=&reason=Vendor+review');
    t.equal(r.statusCode, 400);
    t.match(r.headers['content-type'], /text\/html/);
    t.equal(r.headers['cache-control'], 'no-store');
    t.match(r.body, /<title>Error: Request access to NDA documents: Org [^<]+ trust center<\/title>/);
    const main = mainOf(r.body);
    // The summary is the first thing in the main content, and takes focus on load without a script.
    t.match(
      main,
      /^<main id="main" tabindex="-1">\s*<div class="wrap">\s*<div class="error-summary" id="form-errors" role="alert" tabindex="-1" autofocus aria-labelledby="form-errors-title">/,
    );
    t.match(main, /<h2 id="form-errors-title">There are 4 problems with your request<\/h2>/);
    const items = [...main.matchAll(/<li><a href="#([^"]+)">([^<]+)<\/a><\/li>/g)].map((m) => [m[1], m[2]]);
    t.same(
      items,
      [
        ['f-name', 'Enter your name.'],
        ['f-email', 'Enter your work email address in the form name@company.com.'],
        ['f-company', 'Enter the name of your company.'],
        ['f-ndaAccepted', 'Tick the box to accept the non-disclosure terms.'],
      ],
      'field order, full sentences',
    );
    for (const [id] of items) t.match(main, new RegExp(`id="${id}"`), `the link target ${id} exists`);
    for (const apiWords of [/ndaAccepted/, /:\s*is required/, /body\//, /must be an email/])
      t.notMatch(visibleText(r.body), apiWords, `no API wording: ${apiWords}`);
    // Each field says its own problem, tied to it for screen readers.
    t.match(
      main,
      /<p class="error" id="e-name"><span class="sr-only">Error: <\/span>Enter your name\.<\/p>\s*<input id="f-name"[^>]* aria-invalid="true" aria-describedby="e-name">/,
    );
    t.match(main, /aria-invalid="true" aria-describedby="e-ndaAccepted"/);
    t.match(main, /value="not-an-email"/, 'what was typed is kept');
    t.match(main, />Vendor review<\/textarea>/);
    t.notMatch(main, /id="f-reason"[^>]*aria-invalid/, 'a field without a problem is not marked');
  });

  await t.test("problems the service finds are said in the page's words too", async (t) => {
    const r = await form(`name=Jo&email=jo%40example.com&company=Co&ndaAccepted=true&documentIds=${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`);
    t.equal(r.statusCode, 400);
    t.match(r.body, /<title>Error: /);
    t.match(
      mainOf(r.body),
      /<h2 id="form-errors-title">There is a problem with your request<\/h2>\s*<ul><li><a href="#f-doc-0">One of the documents you ticked is no longer offered\. Tick the documents you need again\.<\/a><\/li><\/ul>/,
    );
    t.match(r.body, /id="f-ndaAccepted" name="ndaAccepted" value="true" required checked/, 'the accepted NDA stays ticked');
  });

  await t.test('too long a name is refused in words, not stored', async (t) => {
    const r = await form(`name=${'n'.repeat(201)}&email=long%40example.com&company=Co&ndaAccepted=true`);
    t.equal(r.statusCode, 400);
    t.match(r.body, /Your name must be 200 characters or fewer\./);
    const rows = await app.database.db
      .select()
      .from(accessRequests)
      .where(and(eq(accessRequests.orgId, a.orgId), eq(accessRequests.email, 'long@example.com')));
    t.equal(rows.length, 0);
  });

  await t.test('a good submit is recorded as before', async (t) => {
    const r = await form(`name=Jo&email=jo%40example.com&company=Co&ndaAccepted=true&documentIds=${soc2}`);
    t.equal(r.statusCode, 201);
    t.match(r.body, /Request received/);
    t.notMatch(r.body, /<title>Error/);
  });

  await t.test('the page: one date format, controls without repeated cards, plain wording, document dates', async (t) => {
    const r = await app.inject({ method: 'GET', url: `/trust/${a.slug}` });
    t.equal(r.statusCode, 200);
    const words = visibleText(r.body);
    t.notMatch(words, /\b\d{4}-\d{2}-\d{2}\b/, 'no ISO dates in the text people read');
    t.match(r.body, /last review <time datetime="2026-05-20">20 May 2026<\/time>\./, "dates in the organization's words become long dates");
    t.match(
      r.body,
      /<p class="reason">[^<]*<time datetime="\d{4}-\d{2}-\d{2}">\d{1,2} [A-Z][a-z]+ \d{4}<\/time>/,
      "the certificate's reason, with its days written out",
    );
    // Certificates appear once, in their own section; the controls section points there.
    t.equal(r.body.match(/<h3>ISO\/IEC 27001:2022<\/h3>/g)?.length, 1);
    t.match(
      r.body,
      /<h2 id="h-security">Security controls<\/h2>\s*<p>1 control is published here, each with a summary of how we meet it: 1 implemented\.<\/p>/,
    );
    t.match(r.body, /Independently attested: ISO\/IEC 27001:2022 \(see <a href="#certifications">Certifications and reports<\/a>\)\./);
    t.notMatch(r.body, /Security overview/);
    t.match(
      r.body,
      /<legend>Documents you need <span class="muted">\(optional\)<\/span><\/legend>\s*<p class="hint" id="docs-hint">Tick the documents you need; leave all unticked to ask for all of them\.<\/p>/,
    );
    t.match(r.body, /<fieldset class="field" aria-describedby="docs-hint">/);
    t.notMatch(r.body, /leave all unticked for every one/);
    t.match(
      r.body,
      /Whitepaper<\/a> <span class="muted">\(TXT, [^)]+\)<\/span><p class="muted">Last updated <time datetime="2026-06-01T12:00:00.000Z">1 June 2026<\/time><\/p>/,
    );
    // The wide table is a labelled, focusable region with its scroll hint.
    t.match(
      r.body,
      /<div class="scroll" role="region" aria-labelledby="cap-soc2" tabindex="0">\s*<p class="scroll-hint" aria-hidden="true">Scroll sideways to see the whole table →<\/p>/,
    );
    const json = (await app.inject({ method: 'GET', url: `/trust/${a.slug}/trust.json` })).json();
    t.match(
      json.documents.find((d: { title: string }) => d.title === 'Whitepaper'),
      { access: 'public', updatedAt: '2026-06-01T12:00:00.000Z' },
    );
  });
});
