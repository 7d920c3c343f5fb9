import t from 'tap';
import { eq } from 'drizzle-orm';
import { manualClock, memberWithRole, signup, testApp } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';
import { organizations } from '../../../src/modules/identity/tables.js';
import { maskGrantTokens, safeRequestSerializer } from '../../../src/modules/trust/portal.js';

const EVIL = '<script>alert("x")</script>';

t.test('trust page: publishing, rendering, escaping, visibility, caching', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock });
  const a = await signup(app, 'tp');
  const b = await signup(app, 'tp');
  // An organization name with markup in it stays text everywhere.
  await app.database.db
    .update(organizations)
    .set({ name: `Acme ${EVIL} & Co` })
    .where(eq(organizations.id, a.orgId));
  const upload = (title: string, visibility: string, content: string | Buffer, filename = 'file.txt', contentType = 'text/plain', who = a) => {
    const body = multipart({ title, visibility }, [{ filename, content, contentType }]);
    return app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...who.auth, ...body.headers }, payload: body.payload });
  };
  const put = (payload: object, who = a) => app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: who.auth, payload });
  const html = (slug = a.slug, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: `/trust/${slug}`, headers });
  const json = (slug = a.slug, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: `/api/v1/public/trust/${slug}`, headers });

  await t.test('unpublished and unknown pages are 404', async (t) => {
    const settings = await app.inject({ method: 'GET', url: '/api/v1/trust-page', headers: a.auth });
    t.equal(settings.statusCode, 200);
    t.match(settings.json(), { published: false, version: 0, slug: a.slug });
    t.equal((await html()).statusCode, 404);
    t.match((await html()).headers['content-type'], /text\/html/);
    t.equal((await json()).statusCode, 404);
    t.equal((await html('no-such-org')).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: `/trust/${a.slug}/trust.json` })).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: `/trust/${a.slug}/llms.txt` })).statusCode, 404);
  });

  const pub = await upload(`Whitepaper ${EVIL}`, 'public', 'public whitepaper text', 'white paper.txt');
  t.equal(pub.statusCode, 201, pub.body);
  const nda = await upload('SOC 2 Report', 'nda', 'nda secret bytes', 'soc2.txt');
  const priv = await upload('Internal Risk Register', 'private', 'private risk register bytes', 'risks.txt');
  t.equal(nda.statusCode, 201);
  t.equal(priv.statusCode, 201);

  // A control marked public, one internal: only the public summary may show.
  const control = (ref: string, visibility: string, publicSummary: string | null, implementation: string) =>
    app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: a.auth,
      payload: { applicable: true, status: 'implemented', implementation, responsibility: 'provider', visibility, publicSummary },
    });
  t.equal((await control('A.5.1', 'public', `Policies reviewed yearly ${EVIL}`, 'INTERNAL-IMPLEMENTATION-DETAIL-1')).statusCode, 200);
  t.equal((await control('A.8.5', 'internal', null, 'INTERNAL-IMPLEMENTATION-DETAIL-2')).statusCode, 200);
  t.equal((await control('CLD.6.3.1', 'public', 'Responsibilities are published', 'INTERNAL-IMPLEMENTATION-DETAIL-3')).statusCode, 200);
  const cert = await app.inject({
    method: 'POST',
    url: '/api/v1/certifications',
    headers: a.auth,
    payload: {
      kind: 'iso27001',
      name: 'ISO/IEC 27001:2022',
      issuer: 'Registrar',
      issuedAt: '2025-03-14',
      includesIso27017: true,
      surveillanceAudits: [{ dueAt: '2026-03-14', completedAt: '2026-03-10' }, { dueAt: '2027-03-14' }],
      visibility: 'public',
    },
  });
  t.equal(cert.statusCode, 201, cert.body);
  const hiddenCert = await app.inject({
    method: 'POST',
    url: '/api/v1/certifications',
    headers: a.auth,
    payload: { kind: 'other', name: 'Internal-only attestation', visibility: 'internal' },
  });
  t.equal(hiddenCert.statusCode, 201, hiddenCert.body);

  await t.test('settings validation and roles', async (t) => {
    t.equal((await put({ brandColor: 'red' })).statusCode, 400);
    t.equal((await put({ contactUrl: 'javascript:alert(1)' })).statusCode, 400);
    const badCert = await put({ certificationIds: ['00000000-0000-7000-8000-000000000000'] });
    t.equal(badCert.statusCode, 400);
    t.match(badCert.json().errors, [{ field: 'body/certificationIds/0' }]);
    t.equal((await put({ controlRefs: ['A.99.1'] })).statusCode, 400);
    t.equal((await put({ autoApproveDomains: ['not a domain'] })).statusCode, 400);
    t.equal((await put({ subprocessors: [{ name: 'x', purpose: 'y', location: 'z', url: 'ftp://x' }] })).statusCode, 400);
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await put({ published: true }, viewer)).statusCode, 403);
    t.equal((await app.inject({ method: 'PUT', url: '/api/v1/trust-page', payload: { published: true } })).statusCode, 401);
  });

  const saved = await put({
    published: true,
    headline: `We keep ${EVIL} safe`,
    overview: 'First paragraph.\n\nSecond paragraph.',
    brandColor: '#1F6FEB',
    contactEmail: 'security@acme.example.com',
    subprocessors: [{ name: `Cloud ${EVIL}`, purpose: 'Hosting', location: 'EU', url: 'https://cloud.example.com' }],
    faq: [{ question: `Is data encrypted? ${EVIL}`, answer: 'Yes, at rest and in transit.' }],
  });
  t.equal(saved.statusCode, 200, saved.body);
  t.match(saved.json(), { published: true, brandColor: '#1f6feb', version: 1, sections: { documents: true }, ndaVersion: /^sha256:[0-9a-f]{64}$/ });
  t.ok(saved.json().publishedAt);

  await t.test('HTML: escaped, accessible, strict CSP, no private data', async (t) => {
    const r = await html();
    t.equal(r.statusCode, 200);
    t.match(r.headers['content-type'], /text\/html/);
    const csp = String(r.headers['content-security-policy']);
    t.match(csp, /default-src 'none'/);
    t.match(csp, /script-src 'none'/);
    t.match(csp, /style-src 'self'/);
    t.notMatch(csp, /unsafe-inline/);
    t.notMatch(r.body, /<script/i, 'no script element at all');
    t.notMatch(r.body, /\sstyle=/i, 'no inline style');
    t.match(r.body, /Acme &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; Co/);
    t.match(r.body, /We keep &lt;script&gt;/);
    t.match(r.body, /Cloud &lt;script&gt;/);
    t.match(r.body, /Is data encrypted\? &lt;script&gt;/);
    t.match(r.body, /Whitepaper &lt;script&gt;/);
    for (const landmark of ['<header', '<nav aria-label', '<main id="main"', '<footer', 'class="skip" href="#main"', '<html lang="en"', 'name="viewport"']) {
      t.ok(r.body.includes(landmark), `has ${landmark}`);
    }
    t.match(r.body, /<h1 id="page-title">/);
    t.match(r.body, /<label for="f-email">/);
    t.match(r.body, /<input id="f-email" name="email" type="email"/);
    t.match(r.body, /id="f-ndaAccepted"[^>]*required/);
    t.match(r.body, /Policies reviewed yearly &lt;script&gt;/, 'public control summary');
    t.match(r.body, /Responsibilities are published/);
    t.match(r.body, /ISO\/IEC 27017/);
    t.match(r.body, /SOC 2 coverage/);
    t.match(r.body, /Last updated <time datetime=/);
    t.match(r.body, /ISO\/IEC 27001:2022<\/h3>/, 'the public certification');
    t.match(r.body, /SOC 2 Report/, 'NDA document listed by title');
    for (const secret of [
      'Internal Risk Register',
      'private risk register bytes',
      'nda secret bytes',
      'INTERNAL-IMPLEMENTATION-DETAIL',
      'A.8.5',
      'Internal-only attestation',
      priv.json().id,
    ]) {
      t.notOk(r.body.includes(secret), `HTML does not contain ${secret}`);
    }
    const css = await app.inject({ method: 'GET', url: `/trust/${a.slug}/theme.css` });
    t.equal(css.body, ':root{--brand:#1f6feb;--brand-ink:#ffffff;}\n');
    const base = await app.inject({ method: 'GET', url: '/trust/assets/trust.css' });
    t.equal(base.statusCode, 200);
    t.match(base.headers['content-type'], /text\/css/);
    t.equal((await app.inject({ method: 'GET', url: '/trust/assets/favicon.svg' })).statusCode, 200);
  });

  await t.test('JSON, trust.json and llms.txt: same content, nothing private', async (t) => {
    const r = await json();
    t.equal(r.statusCode, 200);
    const body = r.json();
    t.equal(body.organization.name, `Acme ${EVIL} & Co`, 'JSON carries the raw text');
    t.same(body.documents.map((d: { title: string; visibility: string }) => [d.title, d.visibility]).sort(), [
      ['SOC 2 Report', 'nda'],
      [`Whitepaper ${EVIL}`, 'public'],
    ]);
    const ndaDoc = body.documents.find((d: { visibility: string }) => d.visibility === 'nda');
    t.same(Object.keys(ndaDoc).sort(), ['id', 'title', 'visibility'], 'NDA documents by title only');
    t.match(
      body.documents.find((d: { visibility: string }) => d.visibility === 'public'),
      { downloadUrl: /\/trust\/.+\/documents\// },
    );
    t.same(
      body.certifications.map((c: { name: string }) => c.name),
      ['ISO/IEC 27001:2022'],
    );
    t.match(body.certifications[0], { status: 'valid', statusLabel: 'Valid' });
    t.same(
      body.security.domains.flatMap((d: { controls: { ref: string }[] }) => d.controls.map((c) => c.ref)),
      ['A.5.1', 'CLD.6.3.1'],
    );
    t.match(body.security.frameworks, [
      { id: 'iso27001-2022', inScope: true, attested: true },
      { id: 'iso27017-2015', inScope: true, attested: true },
      { id: 'soc2-2017' },
    ]);
    t.equal(body.soc2.criteria, 61);
    t.ok(body.access.ndaText.length > 100);
    for (const [url, type] of [
      [`/trust/${a.slug}/trust.json`, /application\/json/],
      [`/trust/${a.slug}/llms.txt`, /text\/plain/],
    ] as const) {
      const p = await app.inject({ method: 'GET', url });
      t.equal(p.statusCode, 200, url);
      t.match(p.headers['content-type'], type);
      t.match(p.body, /SOC 2 Report/);
      t.match(p.body, /ISO\/IEC 27001:2022/);
    }
    t.equal(JSON.parse((await app.inject({ method: 'GET', url: `/trust/${a.slug}/trust.json` })).body).profileVersion, '1.0');
    t.match((await app.inject({ method: 'GET', url: `/trust/${a.slug}/llms.txt` })).body, /^# Acme .* Trust Center\n\n> We keep/);
    for (const url of [`/api/v1/public/trust/${a.slug}`, `/trust/${a.slug}/trust.json`, `/trust/${a.slug}/llms.txt`]) {
      const p = (await app.inject({ method: 'GET', url })).body;
      for (const secret of [
        'Internal Risk Register',
        'private risk register bytes',
        'nda secret bytes',
        'INTERNAL-IMPLEMENTATION-DETAIL',
        'Internal-only attestation',
        priv.json().id,
      ]) {
        t.notOk(p.includes(secret), `${url} does not contain ${secret}`);
      }
    }
  });

  await t.test('document downloads: public yes, NDA needs a grant, private does not exist', async (t) => {
    const ok = await app.inject({ method: 'GET', url: `/trust/${a.slug}/documents/${pub.json().id}` });
    t.equal(ok.statusCode, 200);
    t.equal(ok.body, 'public whitepaper text');
    t.match(ok.headers['content-disposition'], /attachment; filename="white paper.txt"/);
    const n = await app.inject({ method: 'GET', url: `/trust/${a.slug}/documents/${nda.json().id}` });
    t.equal(n.statusCode, 403);
    t.notMatch(n.body, /nda secret bytes/);
    const p = await app.inject({ method: 'GET', url: `/trust/${a.slug}/documents/${priv.json().id}` });
    t.equal(p.statusCode, 404);
    t.notMatch(p.body, /private risk register/);
    t.equal((await app.inject({ method: 'GET', url: `/trust/${b.slug}/documents/${pub.json().id}` })).statusCode, 404, 'not through another slug');
  });

  await t.test('ETag and invalidation on change', async (t) => {
    const first = await json();
    const etag = first.headers.etag as string;
    t.match(etag, /^"[A-Za-z0-9_-]+"$/);
    const again = await json(a.slug, { 'if-none-match': etag });
    t.equal(again.statusCode, 304);
    t.equal(again.body, '');
    const page = await html();
    t.equal((await html(a.slug, { 'if-none-match': page.headers.etag as string })).statusCode, 304);

    t.equal((await put({ headline: 'A new headline' })).statusCode, 200);
    const changed = await json(a.slug, { 'if-none-match': etag });
    t.equal(changed.statusCode, 200, 'the page changed: a full answer');
    t.equal(changed.json().headline, 'A new headline');

    // A change in another module (a control answer) also reaches the public page at once.
    t.equal((await control('A.5.2', 'public', 'Roles are assigned', 'INTERNAL-4')).statusCode, 200);
    t.ok((await json()).json().security.domains[0].controls.some((c: { ref: string }) => c.ref === 'A.5.2'));

    // Making a document private removes it at once.
    t.equal(
      (await app.inject({ method: 'PATCH', url: `/api/v1/documents/${pub.json().id}`, headers: a.auth, payload: { visibility: 'private' } })).statusCode,
      200,
    );
    t.notOk((await json()).body.includes(pub.json().id));
    t.notOk((await html()).body.includes(pub.json().id));
    t.equal((await app.inject({ method: 'GET', url: `/trust/${a.slug}/documents/${pub.json().id}` })).statusCode, 404);
    t.equal(
      (await app.inject({ method: 'PATCH', url: `/api/v1/documents/${pub.json().id}`, headers: a.auth, payload: { visibility: 'public' } })).statusCode,
      200,
    );
  });

  await t.test('page choices: sections, certifications and controls', async (t) => {
    t.equal((await put({ sections: { faq: false, soc2: false }, controlRefs: ['cld.6.3.1'], certificationIds: [hiddenCert.json().id] })).statusCode, 200);
    const body = (await json()).json();
    t.same(body.faq, []);
    t.equal(body.soc2, null);
    t.same(
      body.security.domains.flatMap((d: { controls: { ref: string }[] }) => d.controls.map((c) => c.ref)),
      ['CLD.6.3.1'],
    );
    t.same(body.certifications, [], 'a chosen certification must still be public itself');
    t.notMatch((await html()).body, /id="faq"/);
    t.equal((await put({ sections: { faq: true, soc2: true }, controlRefs: null, certificationIds: null })).statusCode, 200);
    t.equal((await json()).json().faq.length, 1);
  });

  await t.test('unpublishing takes the page down at once', async (t) => {
    t.equal((await put({ published: false })).statusCode, 200);
    t.equal((await html()).statusCode, 404);
    t.equal((await json()).statusCode, 404);
    t.equal((await put({ published: true })).statusCode, 200);
    t.equal((await html()).statusCode, 200);
  });

  await t.test('logo: raster images only, served from this origin', async (t) => {
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082',
      'hex',
    );
    const send = (content: Buffer, filename: string) => {
      const body = multipart({}, [{ filename, content, contentType: 'image/png' }]);
      return app.inject({ method: 'PUT', url: '/api/v1/trust-page/logo', headers: { ...a.auth, ...body.headers }, payload: body.payload });
    };
    t.equal((await send(Buffer.from('<svg onload="alert(1)"/>'), 'x.svg')).statusCode, 415);
    const ok = await send(png, 'logo.png');
    t.equal(ok.statusCode, 200, ok.body);
    t.match(ok.json().logoUrl, /\/trust\/.+\/logo$/);
    const logo = await app.inject({ method: 'GET', url: `/trust/${a.slug}/logo` });
    t.equal(logo.statusCode, 200);
    t.equal(logo.headers['content-type'], 'image/png');
    t.match((await html()).body, /<img src="\/trust\/[^"]+\/logo" alt=""/);
  });

  await t.test('documents API: versions, tenancy, validation', async (t) => {
    const id = nda.json().id;
    const body = multipart({}, [{ filename: 'soc2-v2.txt', content: 'nda secret bytes v2' }]);
    const v2 = await app.inject({ method: 'POST', url: `/api/v1/documents/${id}/versions`, headers: { ...a.auth, ...body.headers }, payload: body.payload });
    t.equal(v2.statusCode, 201, v2.body);
    t.equal(v2.json().currentVersion, 2);
    t.equal(v2.json().versions.length, 2);
    const old = await app.inject({ method: 'GET', url: `/api/v1/documents/${id}/download?version=1`, headers: a.auth });
    t.equal(old.body, 'nda secret bytes');
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/documents/${id}`, headers: b.auth })).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/documents/${id}/download`, headers: b.auth })).statusCode, 404);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/documents/${id}`, headers: b.auth })).statusCode, 404);
    t.notOk((await app.inject({ method: 'GET', url: '/api/v1/documents', headers: b.auth })).json().items.some((d: { id: string }) => d.id === id));
    const list = await app.inject({ method: 'GET', url: '/api/v1/documents?visibility=private', headers: a.auth });
    t.same(
      list.json().items.map((d: { title: string }) => d.title),
      ['Internal Risk Register'],
    );
    t.equal((await upload('x', 'secret', 'content x')).statusCode, 400, 'unknown visibility');
    t.equal((await upload('', 'public', 'content y')).statusCode, 400, 'no title');
    const noFile = multipart({ title: 'x', visibility: 'public' });
    t.equal(
      (await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...noFile.headers }, payload: noFile.payload })).statusCode,
      400,
    );
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await upload('x', 'public', 'content z', 'z.txt', 'text/plain', viewer)).statusCode, 403);
    const gone = await upload('Temp', 'public', 'temporary');
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/documents/${gone.json().id}`, headers: a.auth })).statusCode, 204);
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/documents/${gone.json().id}`, headers: a.auth })).statusCode, 404);
  });

  await t.test('analytics count anonymous views without personal data', async (t) => {
    const r = await app.inject({ method: 'GET', url: '/api/v1/trust-page/analytics', headers: a.auth });
    t.equal(r.statusCode, 200, r.body);
    t.ok(r.json().pageViews.html >= 5, `html views ${r.json().pageViews.html}`);
    t.ok(r.json().pageViews.json >= 5);
    t.ok(r.json().downloads.byDocument.some((d: { documentId: string }) => d.documentId === pub.json().id));
    const other = await app.inject({ method: 'GET', url: '/api/v1/trust-page/analytics', headers: b.auth });
    t.equal(other.json().pageViews.total, 0, 'per organization');
  });
});

t.test('grant tokens are masked in logged URLs', async (t) => {
  t.equal(maskGrantTokens('/trust/acme/access/eyJhbGciOi.eyJzdWIiOi.sig/documents/123'), '/trust/acme/access/[redacted]/documents/123');
  t.equal(maskGrantTokens('/trust/acme'), '/trust/acme');
  t.match(safeRequestSerializer({ method: 'GET', url: '/trust/a/access/abc.def.ghi' }), { method: 'GET', url: '/trust/a/access/[redacted]' });
});
