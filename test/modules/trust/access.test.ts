import t from 'tap';
import { and, eq } from 'drizzle-orm';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { PASSWORD, manualClock, memberWithRole, signup, testApp, type Tenant } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';
import { events } from '../../../src/modules/events/tables.js';
import { accessRequests } from '../../../src/modules/trust/tables.js';
import type { App } from '../../../src/app.js';

const DAY = 86_400_000;

async function samplePdf(pages = 2) {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++) pdf.addPage([595, 842]).drawText(`SOC 2 report page ${i + 1}`, { x: 50, y: 780, size: 14, font });
  return Buffer.from(await pdf.save());
}

async function setup(app: App, who: Tenant) {
  const upload = async (title: string, visibility: string, content: Buffer | string, filename: string, contentType: string) => {
    const body = multipart({ title, visibility }, [{ filename, content, contentType }]);
    const r = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...who.auth, ...body.headers }, payload: body.payload });
    if (r.statusCode !== 201) throw new Error(r.body);
    return r.json().id as string;
  };
  const pdf = await upload('SOC 2 Type II Report', 'nda', await samplePdf(), 'soc2.pdf', 'application/pdf');
  const txt = await upload('Pentest Summary', 'nda', 'pentest summary text', 'pentest.txt', 'text/plain');
  const priv = await upload('Risk Register', 'private', 'private risks', 'risks.txt', 'text/plain');
  const pub = await upload('Whitepaper', 'public', 'public paper', 'paper.txt', 'text/plain');
  const r = await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: who.auth, payload: { published: true } });
  if (r.statusCode !== 200) throw new Error(r.body);
  return { pdf, txt, priv, pub, ndaVersion: r.json().ndaVersion as string };
}

const request = (app: App, slug: string, payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `/api/v1/public/trust/${slug}/access-requests`, payload, headers });

const pathOf = (url: string) => new URL(url).pathname;

t.test('access requests and grants: the whole life cycle', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock, config: { limits: { publicPerMinute: 1200 } } });
  const a = await signup(app, 'acc');
  const b = await signup(app, 'acc');
  const docs = await setup(app, a);
  const other = await setup(app, b);
  const person = { name: 'Pat Buyer', email: 'Pat@Buyer.example.com', company: 'Buyer Inc', reason: 'vendor review' };

  await t.test('NDA acceptance is required', async (t) => {
    const refused = await request(app, a.slug, { ...person, ndaAccepted: false });
    t.equal(refused.statusCode, 400);
    t.match(refused.json().errors, [{ field: 'body/ndaAccepted' }]);
    const missing = await request(app, a.slug, person);
    t.equal(missing.statusCode, 400);
    t.equal((await request(app, a.slug, { ...person, email: 'not-an-email', ndaAccepted: true })).statusCode, 400);
    t.equal((await request(app, 'no-such-org', { ...person, ndaAccepted: true })).statusCode, 404);
    const privateDoc = await request(app, a.slug, { ...person, ndaAccepted: true, documentIds: [docs.priv] });
    t.equal(privateDoc.statusCode, 400, 'a private document cannot be asked for');
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: a.auth })).json().items.length, 0, 'nothing recorded');
  });

  const first = await request(app, a.slug, { ...person, ndaAccepted: true }, { 'user-agent': 'TestBrowser/1.0', 'x-forwarded-for': '203.0.113.9' });
  t.equal(first.statusCode, 201, first.body);
  t.match(first.json(), { status: 'pending', merged: false });
  const requestId = first.json().id as string;

  await t.test('the request records the NDA version, time, address and agent', async (t) => {
    const r = await app.inject({ method: 'GET', url: `/api/v1/access-requests/${requestId}`, headers: a.auth });
    t.equal(r.statusCode, 200);
    t.match(r.json(), {
      email: 'pat@buyer.example.com',
      company: 'Buyer Inc',
      status: 'pending',
      requestCount: 1,
      ndaVersion: docs.ndaVersion,
      ndaAcceptedAt: '2026-06-01T12:00:00.000Z',
      ip: /\S/,
      userAgent: 'TestBrowser/1.0',
    });
    const created = await app.database.db
      .select()
      .from(events)
      .where(and(eq(events.orgId, a.orgId), eq(events.type, 'access_request.created')));
    t.equal(created.length, 1, 'one event per request');
    t.match(created[0]!.data, { requestId, email: 'pat@buyer.example.com' });
    // The organization sees nothing of another's requests.
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/access-requests/${requestId}`, headers: b.auth })).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/access-requests', headers: b.auth })).json().items.length, 0);
  });

  await t.test('a second request with the same email neither overwrites the pending one nor reveals it', async (t) => {
    const before = (await app.inject({ method: 'GET', url: `/api/v1/access-requests/${requestId}`, headers: a.auth })).json();
    const dup = await request(
      app,
      a.slug,
      { ...person, email: 'pat@buyer.example.com', name: 'Mallory', company: 'Evil Corp', reason: 'let me in', ndaAccepted: true },
      { 'user-agent': 'Other/2.0' },
    );
    const fresh = await request(app, a.slug, { ...person, email: 'never-asked@buyer.example.com', ndaAccepted: true });
    t.equal(dup.statusCode, 201, 'answered like a first request');
    t.equal(dup.statusCode, fresh.statusCode);
    t.same(Object.keys(dup.json()).sort(), Object.keys(fresh.json()).sort(), 'the same shape');
    t.same({ ...dup.json(), id: 'x' }, { ...fresh.json(), id: 'x' }, 'the same values but the id');
    t.not(dup.json().id, requestId, 'its own id: nothing ties it to the first');
    const after = (await app.inject({ method: 'GET', url: `/api/v1/access-requests/${requestId}`, headers: a.auth })).json();
    t.same(after, before, 'the first request is untouched (name, company, NDA time, agent, documents)');
    const second = (await app.inject({ method: 'GET', url: `/api/v1/access-requests/${dup.json().id}`, headers: a.auth })).json();
    t.match(second, { name: 'Mallory', company: 'Evil Corp', email: 'pat@buyer.example.com', status: 'pending', userAgent: 'Other/2.0' });
    const pending = (await app.inject({ method: 'GET', url: '/api/v1/access-requests?status=pending', headers: a.auth })).json().items;
    t.same(pending.filter((p: { email: string }) => p.email === 'pat@buyer.example.com').length, 2, 'the organization sees both and decides');
    // Keep the rest of the life cycle about the first request.
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/access-requests/${dup.json().id}/deny`, headers: a.auth, payload: {} })).statusCode, 200);
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/access-requests/${fresh.json().id}/deny`, headers: a.auth, payload: {} })).statusCode, 200);
  });

  await t.test('cross-tenant approval is 404; roles', async (t) => {
    const r = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/approve`, headers: b.auth, payload: { expiresInDays: 7 } });
    t.equal(r.statusCode, 404);
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/deny`, headers: b.auth, payload: {} })).statusCode, 404);
    const editor = await memberWithRole(app, a, 'editor');
    t.equal(
      (await app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/approve`, headers: editor.auth, payload: { expiresInDays: 7 } }))
        .statusCode,
      403,
    );
    t.equal(
      (await app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/approve`, headers: a.auth, payload: { expiresInDays: 0 } })).statusCode,
      400,
    );
    const privateGrant = await app.inject({
      method: 'POST',
      url: `/api/v1/access-requests/${requestId}/approve`,
      headers: a.auth,
      payload: { expiresInDays: 7, documentIds: [docs.priv] },
    });
    t.equal(privateGrant.statusCode, 400, 'private documents are never granted');
    const foreignDoc = await app.inject({
      method: 'POST',
      url: `/api/v1/access-requests/${requestId}/approve`,
      headers: a.auth,
      payload: { expiresInDays: 7, documentIds: [other.pdf] },
    });
    t.equal(foreignDoc.statusCode, 400, "another organization's document is unknown here");
  });

  const approved = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/approve`, headers: a.auth, payload: { expiresInDays: 7 } });
  t.equal(approved.statusCode, 200, approved.body);
  const grant = approved.json();
  t.match(grant, { grantId: /^[0-9a-f-]{36}$/, expiresAt: '2026-06-08T12:00:00.000Z', email: 'pat@buyer.example.com' });
  t.same([...grant.documentIds].sort(), [docs.pdf, docs.txt].sort(), 'every NDA document by default');
  t.match(grant.url, new RegExp(`^http://localhost:\\d+/trust/${a.slug}/access/[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
  const page = pathOf(grant.url);

  await t.test('approving twice is a conflict', async (t) => {
    const again = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${requestId}/approve`, headers: a.auth, payload: { expiresInDays: 7 } });
    t.equal(again.statusCode, 409);
  });

  await t.test('the grant page lists the documents and downloads them, stamped and logged', async (t) => {
    const r = await app.inject({ method: 'GET', url: page });
    t.equal(r.statusCode, 200, r.body);
    t.match(r.headers['content-type'], /text\/html/);
    t.equal(r.headers['cache-control'], 'no-store');
    t.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    t.match(r.body, /SOC 2 Type II Report/);
    t.match(r.body, /Pentest Summary/);
    t.notMatch(r.body, /Risk Register/);
    t.match(r.body, /pat@buyer\.example\.com/);

    time.advance(60_000);
    const pdf = await app.inject({ method: 'GET', url: `${page}/documents/${docs.pdf}` });
    t.equal(pdf.statusCode, 200);
    t.equal(pdf.headers['content-type'], 'application/pdf');
    t.equal(pdf.headers['x-watermarked'], 'true');
    const stamped = await PDFDocument.load(pdf.rawPayload);
    t.equal(stamped.getPageCount(), 2, 'every page kept');
    t.match(stamped.getSubject(), /pat@buyer\.example\.com on 2026-06-01 12:01 UTC/);
    t.not(pdf.rawPayload.length, (await samplePdf()).length, 'not the original bytes');

    const txt = await app.inject({ method: 'GET', url: `${page}/documents/${docs.txt}` });
    t.equal(txt.statusCode, 200);
    t.equal(txt.body, 'pentest summary text', 'other types are served as they are');
    t.equal((await app.inject({ method: 'GET', url: `${page}/documents/${docs.priv}` })).statusCode, 404, 'not in the grant');
    t.equal((await app.inject({ method: 'GET', url: `${page}/documents/${docs.pub}` })).statusCode, 404, 'not in the grant either');

    const downloads = await app.database.db
      .select()
      .from(events)
      .where(and(eq(events.orgId, a.orgId), eq(events.type, 'document.downloaded')));
    t.equal(downloads.length, 2, 'an event per download');
    t.match(
      downloads.map((e) => e.data),
      [{ grantId: grant.grantId, email: 'pat@buyer.example.com' }, { grantId: grant.grantId }],
    );
    const grants = await app.database.db
      .select()
      .from(events)
      .where(and(eq(events.orgId, a.orgId), eq(events.type, 'access_grant.created')));
    t.equal(grants.length, 1);
    t.notOk(JSON.stringify(grants[0]!.data).includes(grant.url.split('/').pop()), 'the token is not kept in the outbox');

    const analytics = (await app.inject({ method: 'GET', url: '/api/v1/trust-page/analytics', headers: a.auth })).json();
    // Three requests: the first, and the two of the same-email test (denied).
    t.match(analytics, { accessRequests: { total: 3, approved: 1, denied: 2 }, grants: { total: 1, active: 1 }, downloads: { total: 2 } });
    t.match(analytics.downloads.byGrant, [{ grantId: grant.grantId, email: 'pat@buyer.example.com', downloads: 2 }]);
    t.equal(analytics.pageViews.grantPages, 1);
    const listed = (await app.inject({ method: 'GET', url: '/api/v1/access-grants', headers: a.auth })).json();
    t.match(listed.items, [{ id: grant.grantId, status: 'active', downloads: 2 }]);
  });

  await t.test('tampered, foreign and malformed tokens are refused', async (t) => {
    const token = page.split('/').pop()!;
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 365 * 86400 })).toString('base64url')}.${s}`;
    const tampered = await app.inject({ method: 'GET', url: `/trust/${a.slug}/access/${forged}` });
    t.equal(tampered.statusCode, 401);
    t.notMatch(tampered.body, /SOC 2 Type II Report/);
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    t.equal((await app.inject({ method: 'GET', url: `/trust/${a.slug}/access/${flipped}/documents/${docs.pdf}` })).statusCode, 401);
    t.equal((await app.inject({ method: 'GET', url: `/trust/${a.slug}/access/not-a-token` })).statusCode, 401);
    // A valid link used on another organization's page.
    t.equal((await app.inject({ method: 'GET', url: `/trust/${b.slug}/access/${token}` })).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: `/trust/${b.slug}/access/${token}/documents/${docs.pdf}` })).statusCode, 404);
    // An access token of the API is not a grant, and a grant is not an access token.
    t.equal((await app.inject({ method: 'GET', url: `/trust/${a.slug}/access/${a.token}` })).statusCode, 401);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/documents', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
  });

  await t.test('revocation is effective at once', async (t) => {
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/access-grants/${grant.grantId}`, headers: b.auth })).statusCode, 404, 'not by another tenant');
    t.equal((await app.inject({ method: 'GET', url: page })).statusCode, 200);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/access-grants/${grant.grantId}`, headers: a.auth })).statusCode, 204);
    const r = await app.inject({ method: 'GET', url: page });
    t.equal(r.statusCode, 403);
    t.match(r.body, /revoked/);
    t.equal((await app.inject({ method: 'GET', url: `${page}/documents/${docs.txt}` })).statusCode, 403);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/access-grants/${grant.grantId}`, headers: a.auth })).statusCode, 204, 'idempotent');
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/access-grants/${grant.grantId}/link`, headers: a.auth })).statusCode, 410);
    t.match((await app.inject({ method: 'GET', url: `/api/v1/access-grants/${grant.grantId}`, headers: a.auth })).json(), {
      status: 'revoked',
      revokedBy: a.userId,
    });
  });

  await t.test('expiry follows the clock', async (t) => {
    const second = await request(app, a.slug, { ...person, email: 'sam@buyer.example.com', ndaAccepted: true, documentIds: [docs.txt] });
    t.equal(second.statusCode, 201);
    const g = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${second.json().id}/approve`, headers: a.auth, payload: { expiresInDays: 2 } });
    t.equal(g.statusCode, 200);
    t.same(g.json().documentIds, [docs.txt], 'the documents asked for');
    const url = pathOf(g.json().url);
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200);
    time.advance(2 * DAY - 120_000);
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, 'still valid just before expiry');
    time.advance(120_000);
    const expired = await app.inject({ method: 'GET', url });
    t.equal(expired.statusCode, 410);
    t.match(expired.body, /expired/);
    t.equal((await app.inject({ method: 'GET', url: `${url}/documents/${docs.txt}` })).statusCode, 410);
    // Log in again (the access token expired with the clock) and look at the grant.
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: PASSWORD } });
    a.auth.authorization = `Bearer ${login.json().accessToken}`;
    t.match((await app.inject({ method: 'GET', url: `/api/v1/access-grants/${g.json().grantId}`, headers: a.auth })).json(), { status: 'expired' });
  });

  await t.test('deny', async (t) => {
    const r = await request(app, a.slug, { ...person, email: 'lee@rival.example.com', ndaAccepted: true });
    const denied = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${r.json().id}/deny`, headers: a.auth, payload: { note: 'competitor' } });
    t.equal(denied.statusCode, 200);
    t.match(denied.json(), { status: 'denied', decisionNote: 'competitor', grantId: null });
    t.equal(
      (await app.inject({ method: 'POST', url: `/api/v1/access-requests/${r.json().id}/approve`, headers: a.auth, payload: { expiresInDays: 3 } })).statusCode,
      409,
    );
    // A denied address may ask again: a new pending request.
    const again = await request(app, a.slug, { ...person, email: 'lee@rival.example.com', ndaAccepted: true });
    t.equal(again.statusCode, 201);
    t.not(again.json().id, r.json().id);
  });

  await t.test('auto-approval by email domain', async (t) => {
    t.equal(
      (
        await app.inject({
          method: 'PUT',
          url: '/api/v1/trust-page',
          headers: a.auth,
          payload: { autoApproveDomains: ['@Partner.example.com'], autoApproveExpiresInDays: 5 },
        })
      ).statusCode,
      200,
    );
    const r = await request(app, a.slug, { ...person, email: 'kim@partner.example.com', ndaAccepted: true });
    t.equal(r.statusCode, 201);
    t.same(Object.keys(r.json()).sort(), ['id', 'merged', 'status'], 'no link in the public answer');
    t.equal(r.json().status, 'approved');
    const req = (await app.inject({ method: 'GET', url: `/api/v1/access-requests/${r.json().id}`, headers: a.auth })).json();
    t.match(req, { autoApproved: true, decidedBy: 'auto-approve', grantId: /^[0-9a-f-]{36}$/ });
    const link = await app.inject({ method: 'POST', url: `/api/v1/access-grants/${req.grantId}/link`, headers: a.auth });
    t.equal(link.statusCode, 200);
    t.equal((await app.inject({ method: 'GET', url: pathOf(link.json().url) })).statusCode, 200);
    const notPartner = await request(app, a.slug, { ...person, email: 'kim@notpartner.example.com', ndaAccepted: true });
    t.equal(notPartner.json().status, 'pending');
  });

  await t.test('the HTML form submits the same request', async (t) => {
    const form = (body: string) =>
      app.inject({ method: 'POST', url: `/trust/${a.slug}/request-access`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
    const missing = await form('name=Jo&email=jo%40form.example.com&company=Form+Co');
    t.equal(missing.statusCode, 400);
    t.match(missing.headers['content-type'], /text\/html/);
    t.match(missing.body, /aria-invalid="true" aria-describedby="e-ndaAccepted"/);
    t.match(missing.body, /value="jo@form.example.com"/, 'what was typed is kept');
    const ok = await form(`name=Jo&email=jo%40form.example.com&company=Form+Co&ndaAccepted=true&documentIds=${docs.pdf}`);
    t.equal(ok.statusCode, 201);
    t.match(ok.body, /Request received/);
    const rows = await app.database.db
      .select()
      .from(accessRequests)
      .where(and(eq(accessRequests.orgId, a.orgId), eq(accessRequests.email, 'jo@form.example.com')));
    t.equal(rows.length, 1);
    t.same(rows[0]!.documentIds, [docs.pdf]);
  });
});

t.test('rate limits on public routes', async (t) => {
  // 12 a minute for reads; a twelfth of that (1) for access requests.
  const app = await testApp(t, { config: { limits: { publicPerMinute: 12 } } });
  const a = await signup(app, 'rl');
  await setup(app, a);
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) codes.push((await request(app, a.slug, { name: 'N', email: `n${i}@x.example.com`, company: 'C', ndaAccepted: true })).statusCode);
  t.same(codes, [201, 429, 429]);
  const page: number[] = [];
  for (let i = 0; i < 14; i++) page.push((await app.inject({ method: 'GET', url: `/trust/${a.slug}` })).statusCode);
  t.same(page, [...Array(12).fill(200), 429, 429]);
  const limited = await app.inject({ method: 'GET', url: `/trust/${a.slug}` });
  t.equal(limited.statusCode, 429);
  t.equal(limited.json().code, 'rate_limited');
});

t.test('a PDF that cannot be stamped is not released', async (t) => {
  const app = await testApp(t);
  const a = await signup(app, 'wm');
  const body = multipart({ title: 'Broken', visibility: 'nda' }, [
    { filename: 'broken.pdf', content: '%PDF-1.4 not really a pdf', contentType: 'application/pdf' },
  ]);
  const doc = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...body.headers }, payload: body.payload });
  t.equal(doc.statusCode, 201);
  await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true } });
  const r = await request(app, a.slug, { name: 'N', email: 'n@x.example.com', company: 'C', ndaAccepted: true });
  const g = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${r.json().id}/approve`, headers: a.auth, payload: { expiresInDays: 1 } });
  const dl = await app.inject({ method: 'GET', url: `${pathOf(g.json().url)}/documents/${doc.json().id}` });
  t.equal(dl.statusCode, 422);
  t.notMatch(dl.body, /not really a pdf/);
  const logged = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'document.downloaded')));
  t.equal(logged.length, 0);
});
