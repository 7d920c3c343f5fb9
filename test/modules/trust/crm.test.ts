// The CRM hooks of issue #18: list filters with updatedSince, the decision and grant life-cycle
// events, grant expiry notices, and per-company analytics with an event list and CSV exports.
import t from 'tap';
import { and, asc, eq } from 'drizzle-orm';
import { parse } from 'csv-parse/sync';
import { manualClock, signup, testApp, type Tenant } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';
import { events } from '../../../src/modules/events/tables.js';
import { scanGrantExpiries } from '../../../src/modules/trust/access.js';
import { accessGrants, documentDownloads } from '../../../src/modules/trust/tables.js';
import { newId } from '../../../src/lib/ids.js';
import type { App } from '../../../src/app.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// Long-lived access tokens: these tests move the clock by days.
const config = { limits: { publicPerMinute: 100_000 }, auth: { accessTokenTtlSeconds: 90 * 24 * 3600 } };

async function publishWithDocuments(app: App, who: Tenant) {
  const upload = async (title: string, visibility: string) => {
    const body = multipart({ title, visibility }, [{ filename: `${title}.txt`, content: `${title} text`, contentType: 'text/plain' }]);
    const r = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...who.auth, ...body.headers }, payload: body.payload });
    if (r.statusCode !== 201) throw new Error(r.body);
    return r.json().id as string;
  };
  const nda = await upload('SOC 2 Report', 'nda');
  const pub = await upload('Whitepaper', 'public');
  const r = await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: who.auth, payload: { published: true } });
  if (r.statusCode !== 200) throw new Error(r.body);
  return { nda, pub };
}

function client(app: App, who: Tenant) {
  const ask = async (email: string, company: string, name = 'Pat Buyer') => {
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/public/trust/${who.slug}/access-requests`,
      payload: { name, email, company, ndaAccepted: true },
    });
    if (r.statusCode !== 201) throw new Error(r.body);
    return r.json().id as string;
  };
  const approve = async (id: string, expiresInDays = 7) => {
    const r = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${id}/approve`, headers: who.auth, payload: { expiresInDays } });
    if (r.statusCode !== 200) throw new Error(r.body);
    return r.json() as { grantId: string; url: string; expiresAt: string };
  };
  const get = async (url: string) => {
    const r = await app.inject({ method: 'GET', url, headers: who.auth });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r;
  };
  /** Every item of a list, page by page, with the page count. */
  const all = async (url: string, limit: number) => {
    const items: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const body: any = (await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
      items.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    return { items, pages };
  };
  return { ask, approve, get, all };
}

const emails = (items: { email: string }[]) => items.map((i) => i.email);

t.test('list filters: email, domain, company, status, updatedSince, with paging', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock, config, options: { expiryScanIntervalMs: 0, webhooks: { worker: false } } });
  const a = await signup(app, 'crm');
  const b = await signup(app, 'crm');
  await publishWithDocuments(app, a);
  await publishWithDocuments(app, b);
  const ca = client(app, a);
  const cb = client(app, b);

  // Newest last; one minute apart so the order is plain.
  const ids: Record<string, string> = {};
  for (const [email, company] of [
    ['pat@buyer.example.com', 'Buyer Inc'],
    ['lee@buyer.example.com', 'buyer inc'],
    ['Kim@BUYER.example.com', 'Buyer Incorporated'],
    ['sam@other.example.org', 'Other Ltd'],
    ['ann@sub.buyer.example.com', 'BUYER INC'],
  ] as const) {
    ids[email.toLowerCase()] = await ca.ask(email, company);
    time.advance(MIN);
  }
  await cb.ask('pat@buyer.example.com', 'Buyer Inc');

  await t.test('access requests', async (t) => {
    const list = async (q: string) => emails((await ca.get(`/api/v1/access-requests?${q}`)).json().items);
    t.same(await list('email=PAT@Buyer.Example.com'), ['pat@buyer.example.com'], 'email: exact, case-insensitive');
    t.same(await list('email=pat@buyer.example'), [], 'email: no partial match');
    t.same(
      await list('domain=Buyer.Example.com'),
      ['kim@buyer.example.com', 'lee@buyer.example.com', 'pat@buyer.example.com'],
      'domain: exact, subdomains are others',
    );
    t.same(await list('domain=sub.buyer.example.com'), ['ann@sub.buyer.example.com']);
    t.same(
      await list('company=buyer%20INC'),
      ['ann@sub.buyer.example.com', 'lee@buyer.example.com', 'pat@buyer.example.com'],
      'company: case-insensitive exact',
    );
    t.same(await list('company=Buyer'), [], 'company: no partial match');
    t.same(await list('domain=buyer.example.com&company=Buyer%20Inc'), ['lee@buyer.example.com', 'pat@buyer.example.com'], 'filters combine with AND');
    t.same(await list('domain=buyer.example.com&status=approved'), []);

    const paged = await ca.all('/api/v1/access-requests?domain=buyer.example.com', 1);
    t.equal(paged.pages, 3, 'one per page');
    t.same(emails(paged.items), ['kim@buyer.example.com', 'lee@buyer.example.com', 'pat@buyer.example.com'], 'the same rows across pages, newest first');
    const pagedCompany = await ca.all('/api/v1/access-requests?company=buyer%20inc&status=pending', 2);
    t.equal(pagedCompany.pages, 2);
    t.same(emails(pagedCompany.items), ['ann@sub.buyer.example.com', 'lee@buyer.example.com', 'pat@buyer.example.com']);

    // updatedSince: an hour later, approve one and deny another.
    time.advance(HOUR);
    const since = time.clock().toISOString();
    const before = await list(`updatedSince=${encodeURIComponent(since)}`);
    t.same(before, [], 'nothing changed since');
    time.advance(1000);
    await ca.approve(ids['lee@buyer.example.com']!);
    const denied = await app.inject({ method: 'POST', url: `/api/v1/access-requests/${ids['sam@other.example.org']}/deny`, headers: a.auth, payload: {} });
    t.equal(denied.statusCode, 200);
    const changed = (await ca.get(`/api/v1/access-requests?updatedSince=${encodeURIComponent(since)}`)).json().items;
    t.same(emails(changed), ['sam@other.example.org', 'lee@buyer.example.com'], 'the denied and the approved one, newest request first');
    t.match(
      changed.find((r: { email: string }) => r.email === 'lee@buyer.example.com'),
      { status: 'approved', updatedAt: time.clock().toISOString() },
    );
    t.same(await list(`updatedSince=${encodeURIComponent(since)}&status=approved`), ['lee@buyer.example.com']);
    t.same(await list(`updatedSince=${encodeURIComponent(since)}&domain=buyer.example.com`), ['lee@buyer.example.com']);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/access-requests?updatedSince=yesterday', headers: a.auth })).statusCode, 400, 'a date-time');

    // The other organization sees its own request only, whatever the filter.
    t.same(emails((await cb.get('/api/v1/access-requests?domain=buyer.example.com')).json().items), ['pat@buyer.example.com']);
    t.same(emails((await cb.get(`/api/v1/access-requests?updatedSince=${encodeURIComponent(since)}`)).json().items), []);
  });

  await t.test('access grants', async (t) => {
    // lee's grant exists (7 days, approved above); pat for 1 day, kim for 30, ann for 30 then revoked.
    const pat = await ca.approve(ids['pat@buyer.example.com']!, 1);
    const kim = await ca.approve(ids['kim@buyer.example.com']!, 30);
    const ann = await ca.approve(ids['ann@sub.buyer.example.com']!, 30);
    await cb.approve((await cb.get('/api/v1/access-requests')).json().items[0].id, 30);
    time.advance(HOUR);
    const beforeRevoke = time.clock().toISOString();
    time.advance(1000);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/access-grants/${ann.grantId}`, headers: a.auth })).statusCode, 204);
    time.advance(2 * DAY);

    const list = async (q: string) => emails((await ca.get(`/api/v1/access-grants?${q}`)).json().items);
    t.same(await list('status=active'), ['kim@buyer.example.com', 'lee@buyer.example.com'], 'active: not revoked, not past expiry');
    t.same(await list('status=expired'), ['pat@buyer.example.com'], 'expired: past expiry, not revoked');
    t.same(await list('status=revoked'), ['ann@sub.buyer.example.com']);
    t.same(await list('email=KIM@buyer.example.com'), ['kim@buyer.example.com']);
    t.same(await list('domain=buyer.example.com'), ['kim@buyer.example.com', 'pat@buyer.example.com', 'lee@buyer.example.com']);
    t.same(await list('company=BUYER%20INC'), ['ann@sub.buyer.example.com', 'pat@buyer.example.com', 'lee@buyer.example.com']);
    t.same(await list('company=buyer%20inc&status=active'), ['lee@buyer.example.com'], 'AND');
    t.same(await list(`updatedSince=${encodeURIComponent(beforeRevoke)}`), ['ann@sub.buyer.example.com'], 'the revoked one moved');

    const paged = await ca.all('/api/v1/access-grants?domain=buyer.example.com', 2);
    t.equal(paged.pages, 2);
    t.same(emails(paged.items), ['kim@buyer.example.com', 'pat@buyer.example.com', 'lee@buyer.example.com']);
    const pagedStatus = await ca.all('/api/v1/access-grants?status=active', 1);
    t.same(emails(pagedStatus.items), ['kim@buyer.example.com', 'lee@buyer.example.com']);

    const one = (await ca.get(`/api/v1/access-grants/${kim.grantId}`)).json();
    t.equal(one.accessRequestId, ids['kim@buyer.example.com'], 'accessRequestId names the access request');
    t.equal(one.requestId, one.accessRequestId, 'the deprecated requestId carries the same value');
    t.match(one, { updatedAt: /Z$/, company: 'Buyer Incorporated' });

    // Using the link moves updatedAt (lastUsedAt is part of the grant).
    const used = time.clock().toISOString();
    time.advance(1000);
    t.equal((await app.inject({ method: 'GET', url: new URL(kim.url).pathname })).statusCode, 200);
    t.same(await list(`updatedSince=${encodeURIComponent(used)}`), ['kim@buyer.example.com']);
    t.equal(pat.grantId.length, 36);

    t.same(emails((await cb.get('/api/v1/access-grants?domain=buyer.example.com')).json().items), ['pat@buyer.example.com'], 'only its own grants');
    t.same(emails((await cb.get('/api/v1/access-grants?status=revoked')).json().items), []);
  });
});

t.test('life-cycle events: each once, with its data, through the outbox and webhook deliveries', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock, config, options: { expiryScanIntervalMs: 0, webhooks: { worker: false } } });
  const a = await signup(app, 'ev');
  const b = await signup(app, 'ev');
  const docs = await publishWithDocuments(app, a);
  await publishWithDocuments(app, b);
  const ca = client(app, a);
  const hook = await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: a.auth, payload: { url: 'https://hooks.example.com/crm', events: ['*'] } });
  t.equal(hook.statusCode, 201);

  const ofType = async (type: string, orgId = a.orgId) =>
    (
      await app.database.db
        .select()
        .from(events)
        .where(and(eq(events.orgId, orgId), eq(events.type, type as never)))
        .orderBy(asc(events.id))
    ).map((e) => e.data);

  const patId = await ca.ask('Pat@Buyer.example.com', 'Buyer Inc', 'Pat Buyer');
  t.same(await ofType('access_request.created'), [
    {
      accessRequestId: patId,
      requestId: patId,
      name: 'Pat Buyer',
      email: 'pat@buyer.example.com',
      company: 'Buyer Inc',
      domain: 'buyer.example.com',
      reason: null,
      documentIds: [],
      ndaVersion: (await ca.get('/api/v1/trust-page')).json().ndaVersion,
    },
  ]);

  const pat = await ca.approve(patId, 7);
  t.same(await ofType('access_request.approved'), [
    {
      accessRequestId: patId,
      requestId: patId,
      grantId: pat.grantId,
      name: 'Pat Buyer',
      email: 'pat@buyer.example.com',
      company: 'Buyer Inc',
      domain: 'buyer.example.com',
      documentIds: [docs.nda],
      expiresAt: '2026-06-08T12:00:00.000Z',
      autoApproved: false,
    },
  ]);
  t.same(await ofType('access_grant.created'), [
    {
      grantId: pat.grantId,
      accessRequestId: patId,
      requestId: patId,
      email: 'pat@buyer.example.com',
      company: 'Buyer Inc',
      domain: 'buyer.example.com',
      documentIds: [docs.nda],
      expiresAt: '2026-06-08T12:00:00.000Z',
      autoApproved: false,
    },
  ]);

  const leeId = await ca.ask('lee@rival.example.com', 'Rival LLC', 'Lee Rival');
  t.equal(
    (await app.inject({ method: 'POST', url: `/api/v1/access-requests/${leeId}/deny`, headers: a.auth, payload: { note: ' competitor ' } })).statusCode,
    200,
  );
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/access-requests/${leeId}/deny`, headers: a.auth, payload: {} })).statusCode, 409);
  t.same(
    await ofType('access_request.denied'),
    [
      {
        accessRequestId: leeId,
        requestId: leeId,
        name: 'Lee Rival',
        email: 'lee@rival.example.com',
        company: 'Rival LLC',
        domain: 'rival.example.com',
        note: 'competitor',
      },
    ],
    'once, however often asked',
  );

  time.advance(HOUR);
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/access-grants/${pat.grantId}`, headers: a.auth })).statusCode, 204);
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/access-grants/${pat.grantId}`, headers: a.auth })).statusCode, 204);
  t.same(
    await ofType('access_grant.revoked'),
    [
      {
        grantId: pat.grantId,
        accessRequestId: patId,
        requestId: patId,
        email: 'pat@buyer.example.com',
        company: 'Buyer Inc',
        domain: 'buyer.example.com',
        revokedAt: '2026-06-01T13:00:00.000Z',
      },
    ],
    'once: revoking again changes nothing',
  );

  // Auto-approval: created, approved (autoApproved) and the grant, in the request's transaction.
  t.equal(
    (
      await app.inject({
        method: 'PUT',
        url: '/api/v1/trust-page',
        headers: a.auth,
        payload: { autoApproveDomains: ['partner.example.com'], autoApproveExpiresInDays: 2 },
      })
    ).statusCode,
    200,
  );
  const kimId = await ca.ask('kim@partner.example.com', 'Partner SA', 'Kim Partner');
  const kimGrant = (await ca.get(`/api/v1/access-requests/${kimId}`)).json().grantId as string;
  t.match(await ofType('access_request.created'), [
    { accessRequestId: patId },
    { accessRequestId: leeId },
    { accessRequestId: kimId, domain: 'partner.example.com' },
  ]);
  t.same((await ofType('access_request.approved'))[1], {
    accessRequestId: kimId,
    requestId: kimId,
    grantId: kimGrant,
    name: 'Kim Partner',
    email: 'kim@partner.example.com',
    company: 'Partner SA',
    domain: 'partner.example.com',
    documentIds: [docs.nda],
    expiresAt: '2026-06-03T13:00:00.000Z',
    autoApproved: true,
  });
  t.same((await ofType('access_grant.created'))[1], {
    grantId: kimGrant,
    accessRequestId: kimId,
    requestId: kimId,
    email: 'kim@partner.example.com',
    company: 'Partner SA',
    domain: 'partner.example.com',
    documentIds: [docs.nda],
    expiresAt: '2026-06-03T13:00:00.000Z',
    autoApproved: true,
  });

  // Expiry: nothing before, once after, never for the revoked grant whose date also passes.
  t.equal(await scanGrantExpiries(app.database.db, time.clock), 0, 'nothing due yet');
  time.set(new Date('2026-06-03T13:00:00Z'));
  t.equal(await scanGrantExpiries(app.database.db, time.clock), 1, "kim's grant expires at this instant");
  time.advance(10 * DAY);
  t.equal(await scanGrantExpiries(app.database.db, time.clock), 0, "a later scan sends nothing again; pat's grant was revoked");
  t.same(await ofType('access_grant.expired'), [
    {
      grantId: kimGrant,
      accessRequestId: kimId,
      requestId: kimId,
      email: 'kim@partner.example.com',
      company: 'Partner SA',
      domain: 'partner.example.com',
      expiredAt: '2026-06-03T13:00:00.000Z',
    },
  ]);
  const [kimRow] = await app.database.db
    .select()
    .from(accessGrants)
    .where(and(eq(accessGrants.orgId, a.orgId), eq(accessGrants.id, kimGrant)));
  t.same(kimRow!.expiryNotifiedAt, new Date('2026-06-03T13:00:00Z'), 'noticed in the same transaction');
  t.same(kimRow!.updatedAt, kimRow!.expiryNotifiedAt, 'and updatedAt moved with it (a sync sees the status change)');

  await t.test('each event has one webhook delivery; the other tenant has none of them', async (t) => {
    const outbox = await app.database.db.select().from(events).where(eq(events.orgId, a.orgId));
    const lifecycle = outbox.filter((e) => e.type.startsWith('access_'));
    t.same(lifecycle.map((e) => e.type).sort(), [
      'access_grant.created',
      'access_grant.created',
      'access_grant.expired',
      'access_grant.revoked',
      'access_request.approved',
      'access_request.approved',
      'access_request.created',
      'access_request.created',
      'access_request.created',
      'access_request.denied',
    ]);
    const delivered = (await client(app, a).all(`/api/v1/webhooks/${hook.json().id}/deliveries`, 200)).items;
    for (const e of lifecycle) t.equal(delivered.filter((d: { eventId: string }) => d.eventId === e.id).length, 1, `one delivery of ${e.type}`);
    t.same(await ofType('access_grant.expired', b.orgId), []);
    t.same(await ofType('access_request.approved', b.orgId), []);
  });
});

t.test('grant expiry runs on the expiry scan schedule, once per grant', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock, config, options: { expiryScanIntervalMs: 20, webhooks: { worker: false } } });
  await app.ready();
  const a = await signup(app, 'sched');
  await publishWithDocuments(app, a);
  const ca = client(app, a);
  const grant = await ca.approve(await ca.ask('pat@buyer.example.com', 'Buyer Inc'), 1);
  const expired = async () =>
    (
      await app.database.db
        .select()
        .from(events)
        .where(and(eq(events.orgId, a.orgId), eq(events.type, 'access_grant.expired')))
    ).length;
  await new Promise((r) => setTimeout(r, 100));
  t.equal(await expired(), 0, 'not before its time');
  time.advance(DAY);
  const end = Date.now() + 15_000;
  while ((await expired()) === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.equal(await expired(), 1, 'the scheduled scan sent it');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(await expired(), 1, 'and later scans did not send it again');
  t.match((await ca.get(`/api/v1/access-grants/${grant.grantId}`)).json(), { status: 'expired' });
});

t.test('analytics: per company, CSV, and the event list', async (t) => {
  const time = manualClock(new Date('2026-06-01T09:00:00Z'));
  const app = await testApp(t, { clock: time.clock, config, options: { expiryScanIntervalMs: 0, webhooks: { worker: false } } });
  const a = await signup(app, 'an');
  const b = await signup(app, 'an');
  const docs = await publishWithDocuments(app, a);
  const docsB = await publishWithDocuments(app, b);
  const ca = client(app, a);
  const cb = client(app, b);
  const EVIL = '=HYPERLINK("http://evil.example.com","x")';

  const pat = await ca.approve(await ca.ask('pat@buyer.example.com', 'Buyer Inc'));
  const lee = await ca.approve(await ca.ask('lee@buyer.example.com', 'buyer inc'));
  const eve = await ca.approve(await ca.ask('eve@evil.example.com', EVIL));
  await ca.ask('sam@buyer.example.com', 'Buyer Inc'); // a request only
  const patPage = new URL(pat.url).pathname;
  const open = async (url: string) => t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url.replace(/access\/[^/]+/, 'access/<token>'));

  // 09:01 pat visits, 09:03 downloads (same visit), 09:34 visits again (31 minutes quiet); 09:35 and 09:36
  // lee downloads (one visit); 09:37 eve visits; 09:38 someone downloads the public paper.
  time.advance(MIN);
  await open(patPage);
  time.advance(2 * MIN);
  await open(`${patPage}/documents/${docs.nda}`);
  time.advance(31 * MIN);
  await open(patPage);
  time.advance(MIN);
  await open(`${new URL(lee.url).pathname}/documents/${docs.nda}`);
  time.advance(MIN);
  await open(`${new URL(lee.url).pathname}/documents/${docs.nda}`);
  time.advance(MIN);
  await open(new URL(eve.url).pathname);
  time.advance(MIN);
  await open(`/trust/${a.slug}/documents/${docs.pub}`);
  // The other tenant's activity, by a person at the same domain.
  const bPat = await cb.approve(await cb.ask('pat@buyer.example.com', 'Buyer Inc'));
  await open(`${new URL(bPat.url).pathname}/documents/${docsB.nda}`);
  time.advance(MIN);

  await t.test('per company in the JSON analytics', async (t) => {
    const body = (await ca.get('/api/v1/trust-page/analytics')).json();
    t.same(
      body.byCompany,
      [
        { company: EVIL, domain: 'evil.example.com', visits: 1, downloads: 0, requests: 1, lastSeenAt: '2026-06-01T09:37:00.000Z' },
        { company: 'buyer inc', domain: 'buyer.example.com', visits: 3, downloads: 3, requests: 3, lastSeenAt: '2026-06-01T09:36:00.000Z' },
      ],
      'company (case aside) and domain; the latest spelling; known people only',
    );
    t.equal(body.byCompanyTruncated, false);
    t.equal(body.downloads.total, 4, 'the anonymous public download is in the totals');
    const other = (await cb.get('/api/v1/trust-page/analytics')).json();
    t.same(
      other.byCompany.map((c: { domain: string; visits: number; downloads: number; requests: number }) => [c.domain, c.visits, c.downloads, c.requests]),
      [['buyer.example.com', 1, 1, 1]],
      'the other tenant sees its own only',
    );
    const before = (await ca.get('/api/v1/trust-page/analytics?from=2026-05-01&to=2026-05-31')).json();
    t.same(before.byCompany, [], 'the range applies');
  });

  await t.test('per company as CSV', async (t) => {
    const r = await ca.get('/api/v1/trust-page/analytics?format=csv');
    t.match(r.headers['content-type'], /^text\/csv/);
    t.match(r.headers['content-disposition'], /attachment; filename="trust-companies-/);
    const rows = parse(r.body, { bom: true, columns: true }) as Record<string, string>[];
    t.same(Object.keys(rows[0]!), ['company', 'domain', 'visits', 'downloads', 'requests', 'lastSeenAt'], 'a header row');
    t.same(
      rows,
      [
        { company: `'${EVIL}`, domain: 'evil.example.com', visits: '1', downloads: '0', requests: '1', lastSeenAt: '2026-06-01T09:37:00.000Z' },
        { company: 'buyer inc', domain: 'buyer.example.com', visits: '3', downloads: '3', requests: '3', lastSeenAt: '2026-06-01T09:36:00.000Z' },
      ],
      'the formula-like company is neutralized',
    );
  });

  await t.test('the event list', async (t) => {
    const { items, pages } = await ca.all('/api/v1/trust-page/analytics/events', 2);
    t.equal(pages, 4);
    t.same(
      items.map((e: { kind: string; email: string | null; at: string }) => [e.kind, e.email, e.at]),
      [
        ['download', null, '2026-06-01T09:38:00.000Z'],
        ['visit', 'eve@evil.example.com', '2026-06-01T09:37:00.000Z'],
        ['download', 'lee@buyer.example.com', '2026-06-01T09:36:00.000Z'],
        ['download', 'lee@buyer.example.com', '2026-06-01T09:35:00.000Z'],
        ['visit', 'lee@buyer.example.com', '2026-06-01T09:35:00.000Z'],
        ['visit', 'pat@buyer.example.com', '2026-06-01T09:34:00.000Z'],
        ['download', 'pat@buyer.example.com', '2026-06-01T09:03:00.000Z'],
        ['visit', 'pat@buyer.example.com', '2026-06-01T09:01:00.000Z'],
      ],
      'newest first; a visit starts each session; the anonymous download has no person',
    );
    t.match(items[2], {
      kind: 'download',
      company: 'buyer inc',
      domain: 'buyer.example.com',
      grantId: lee.grantId,
      documentId: docs.nda,
      documentTitle: 'SOC 2 Report',
    });
    t.match(items[0], { kind: 'download', company: null, domain: null, grantId: null, documentId: docs.pub, documentTitle: 'Whitepaper' });
    t.match(items[1], { kind: 'visit', company: EVIL, grantId: eve.grantId, documentId: null, documentTitle: null });
    const single = (await ca.get('/api/v1/trust-page/analytics/events?limit=200')).json();
    t.same(single.items, items, 'the pages add up to the whole list');
    t.equal(single.nextCursor, null);

    const list = async (q: string) =>
      (await ca.all(`/api/v1/trust-page/analytics/events?${q}`, 1)).items.map((e: { kind: string; email: string | null }) => `${e.kind}:${e.email}`);
    t.same(await list('kind=visit'), [
      'visit:eve@evil.example.com',
      'visit:lee@buyer.example.com',
      'visit:pat@buyer.example.com',
      'visit:pat@buyer.example.com',
    ]);
    t.same(await list('kind=download&domain=BUYER.example.com'), [
      'download:lee@buyer.example.com',
      'download:lee@buyer.example.com',
      'download:pat@buyer.example.com',
    ]);
    t.same(
      await list('company=Buyer%20INC&since=2026-06-01T09:34:00Z&until=2026-06-01T09:36:00Z'),
      ['download:lee@buyer.example.com', 'visit:lee@buyer.example.com', 'visit:pat@buyer.example.com'],
      'since included, until excluded',
    );
    t.same(await list('domain=evil.example.com&kind=download'), []);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/trust-page/analytics/events?kind=pageview', headers: a.auth })).statusCode, 400);

    const theirs = (await cb.get('/api/v1/trust-page/analytics/events')).json().items;
    t.same(
      theirs.map((e: { kind: string; grantId: string }) => [e.kind, e.grantId]),
      [
        ['download', bPat.grantId],
        ['visit', bPat.grantId],
      ],
      'the other tenant sees only its own',
    );
  });

  await t.test('the event list as CSV', async (t) => {
    const json = (await ca.get('/api/v1/trust-page/analytics/events?limit=200&kind=visit')).json().items;
    const r = await ca.get('/api/v1/trust-page/analytics/events?format=csv&kind=visit');
    t.match(r.headers['content-type'], /^text\/csv/);
    t.equal(r.headers['x-truncated'], undefined);
    const rows = parse(r.body, { bom: true, columns: true }) as Record<string, string>[];
    t.same(
      rows.map((x) => x.id),
      json.map((e: { id: string }) => e.id),
      'the same rows in the same order',
    );
    t.same(Object.keys(rows[0]!), ['at', 'kind', 'company', 'domain', 'email', 'documentId', 'documentTitle', 'grantId', 'id']);
    t.equal(rows[0]!.company, `'${EVIL}`, 'formula-like cells are neutralized');
    t.match(rows[1], {
      at: '2026-06-01T09:35:00.000Z',
      kind: 'visit',
      company: 'buyer inc',
      domain: 'buyer.example.com',
      email: 'lee@buyer.example.com',
      documentId: '',
      grantId: lee.grantId,
    });
    const none = parse((await ca.get('/api/v1/trust-page/analytics/events?format=csv&since=2027-01-01T00:00:00Z')).body, { bom: true }) as string[][];
    t.same(none, [['at', 'kind', 'company', 'domain', 'email', 'documentId', 'documentTitle', 'grantId', 'id']], 'a header row even when empty');
  });

  await t.test('a CSV export stops at 10,000 rows and says so', async (t) => {
    const start = new Date('2026-05-01T00:00:00Z').getTime();
    const rows = Array.from({ length: 10_002 }, (_, i) => ({
      orgId: b.orgId,
      id: newId(),
      documentId: docsB.pub,
      documentTitle: 'Whitepaper',
      version: 1,
      grantId: null,
      email: null,
      watermarked: false,
      at: new Date(start + i * 1000),
    }));
    for (let i = 0; i < rows.length; i += 1000) await app.database.db.insert(documentDownloads).values(rows.slice(i, i + 1000));
    const r = await cb.get('/api/v1/trust-page/analytics/events?format=csv&kind=download');
    t.equal(r.headers['x-truncated'], 'true');
    const got = parse(r.body, { bom: true, columns: true }) as Record<string, string>[];
    t.equal(got.length, 10_000);
    // Recorded last, so newest: the bulk rows, down to the 10,000th; the grantee's earlier download is left out.
    t.equal(got[0]!.id, rows[10_001]!.id);
    t.equal(got.at(-1)!.id, rows[2]!.id);
    t.equal(new Set(got.map((x) => x.id)).size, 10_000, 'no row twice');
    // The rest, from the cursor the export gave: the rows after its last one, nothing twice.
    const cursor = r.headers['x-next-cursor'];
    t.type(cursor, 'string', 'a truncated export says where to go on');
    const rest = await cb.get(`/api/v1/trust-page/analytics/events?format=csv&kind=download&cursor=${encodeURIComponent(String(cursor))}`);
    t.equal(rest.statusCode, 200, rest.body);
    t.equal(rest.headers['x-truncated'], undefined);
    t.equal(rest.headers['x-next-cursor'], undefined, 'the last export has no cursor');
    const more = parse(rest.body, { bom: true, columns: true }) as Record<string, string>[];
    t.same(more.map((x) => x.id).slice(0, 2), [rows[1]!.id, rows[0]!.id], "it starts right after the first export's last row");
    t.equal(more.length, 3, 'and holds the rest: two bulk rows and the earlier download');
    const page = await cb.get(`/api/v1/trust-page/analytics/events?kind=download&limit=2&cursor=${encodeURIComponent(String(cursor))}`);
    t.same(
      page.json().items.map((x: { id: string }) => x.id),
      [rows[1]!.id, rows[0]!.id],
      'the same cursor pages the JSON list',
    );
    const ranged = await cb.get('/api/v1/trust-page/analytics/events?format=csv&until=2026-05-01T01:00:00Z');
    t.equal(ranged.headers['x-truncated'], undefined, 'a narrower range fits');
    t.equal((parse(ranged.body, { bom: true, columns: true }) as unknown[]).length, 3600);
  });
});
