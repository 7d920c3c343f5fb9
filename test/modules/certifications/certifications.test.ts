import t from 'tap';
import { evidence } from '../../../src/modules/evidence/tables.js';
import { certificationStatus, listCertificationsForOrg } from '../../../src/modules/certifications/service.js';
import { manualClock, memberWithRole, signup, testApp, type Tenant } from '../../helpers/app.js';
import type { App } from '../../../src/app.js';

const iso27001 = {
  kind: 'iso27001',
  name: 'ISO/IEC 27001:2022 certificate',
  issuer: 'Example Certification Body',
  scope: 'Development and operation of the SaaS platform',
  certificateNumber: 'IS 123456',
  includesIso27017: true,
  issuedAt: '2026-01-15',
  visibility: 'public',
};

function client(app: App, who: Tenant) {
  return {
    post: (payload: object, as = who) => app.inject({ method: 'POST', url: '/api/v1/certifications', headers: as.auth, payload }),
    patch: (id: string, payload: object, as = who) => app.inject({ method: 'PATCH', url: `/api/v1/certifications/${id}`, headers: as.auth, payload }),
    get: (id: string, as = who) => app.inject({ method: 'GET', url: `/api/v1/certifications/${id}`, headers: as.auth }),
    del: (id: string, as = who) => app.inject({ method: 'DELETE', url: `/api/v1/certifications/${id}`, headers: as.auth }),
    list: (query = '', as = who) => app.inject({ method: 'GET', url: `/api/v1/certifications${query}`, headers: as.auth }),
  };
}

/** Access tokens expire as the clock moves; an API key does not, so time-travel tests use one. */
async function withApiKey(app: App, owner: Tenant): Promise<Tenant> {
  const r = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: owner.auth, payload: { name: 'clock tests', role: 'editor' } });
  if (r.statusCode !== 201) throw new Error(`api key: ${r.statusCode} ${r.body}`);
  return { ...owner, token: r.json().key, auth: { authorization: `Bearer ${r.json().key}` } };
}

const fields = (res: { json: () => { errors?: { field: string }[] } }) => (res.json().errors ?? []).map((e) => e.field);

t.test('create, list, get, patch, delete', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock });
  const a = await signup(app);
  const api = client(app, a);

  const created = await api.post(iso27001);
  t.equal(created.statusCode, 201, created.body);
  const cert = created.json();
  t.match(cert, {
    kind: 'iso27001',
    name: 'ISO/IEC 27001:2022 certificate',
    issuer: 'Example Certification Body',
    certificateNumber: 'IS 123456',
    includesIso27017: true,
    visibility: 'public',
    evidenceId: null,
    periodStart: null,
    periodEnd: null,
    issuedAt: '2026-01-15T00:00:00.000Z',
    expiresAt: '2029-01-14T00:00:00.000Z', // issuedAt + 3 years - 1 day
    surveillanceAudits: [
      { dueAt: '2027-01-15T00:00:00.000Z', completedAt: null },
      { dueAt: '2028-01-15T00:00:00.000Z', completedAt: null },
    ],
    status: 'valid',
    nextAuditDueAt: '2027-01-15T00:00:00.000Z',
    createdBy: a.userId,
    createdAt: '2026-06-01T12:00:00.000Z',
    updatedAt: '2026-06-01T12:00:00.000Z',
  });
  t.match(cert.statusReason, /2029-01-14/);

  const soc2 = await api.post({ kind: 'soc2_type2', name: 'SOC 2 Type 2', issuer: 'Audit LLP', periodStart: '2025-01-01', periodEnd: '2025-12-31' });
  t.equal(soc2.statusCode, 201, soc2.body);
  t.match(soc2.json(), { visibility: 'internal', includesIso27017: false, surveillanceAudits: [], expiresAt: null, nextAuditDueAt: null, status: 'valid' });

  const other = await api.post({ kind: 'other', name: 'PCI DSS AoC', expiresAt: '2027-06-30T00:00:00Z' });
  t.equal(other.statusCode, 201);

  t.test('get', async (t) => {
    const r = await api.get(cert.id);
    t.equal(r.statusCode, 200);
    t.same(r.json(), cert);
  });

  t.test('list newest first, in pages', async (t) => {
    const all = await api.list();
    t.equal(all.statusCode, 200);
    t.same(
      all.json().items.map((c: { id: string }) => c.id),
      [other.json().id, soc2.json().id, cert.id],
    );
    t.equal(all.json().nextCursor, null);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { json: () => { items: { id: string }[]; nextCursor: string | null } } = await api.list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      t.ok(r.json().items.length <= 2);
      seen.push(...r.json().items.map((c) => c.id));
      cursor = r.json().nextCursor;
    } while (cursor);
    t.same(seen, [other.json().id, soc2.json().id, cert.id]);
    t.equal((await api.list('?cursor=zzz')).statusCode, 400);
    const notUuid = Buffer.from(JSON.stringify({ k: 'nope' })).toString('base64url');
    t.equal((await api.list(`?cursor=${notUuid}`)).statusCode, 400, 'a well-formed cursor that is not an id');
    t.equal((await api.list('?limit=0')).statusCode, 400);
  });

  t.test('patch: partial, null clears, no-op writes nothing', async (t) => {
    time.advance(60_000);
    const r = await api.patch(cert.id, { certificateNumber: 'IS 654321', scope: null, visibility: 'internal' });
    t.equal(r.statusCode, 200, r.body);
    t.match(r.json(), {
      certificateNumber: 'IS 654321',
      scope: null,
      visibility: 'internal',
      issuer: 'Example Certification Body',
      expiresAt: '2029-01-14T00:00:00.000Z',
      updatedAt: '2026-06-01T12:01:00.000Z',
      createdAt: '2026-06-01T12:00:00.000Z',
    });
    const same = await api.patch(cert.id, { certificateNumber: 'IS 654321' });
    t.equal(same.statusCode, 200);
    t.equal(same.json().updatedAt, '2026-06-01T12:01:00.000Z');
    const empty = await api.patch(cert.id, {});
    t.equal(empty.statusCode, 200);
  });

  t.test('patch: moving the issue date moves the derived expiry and audits, not explicit ones', async (t) => {
    const r = await api.patch(cert.id, { issuedAt: '2026-02-01' });
    t.equal(r.statusCode, 200, r.body);
    t.equal(r.json().expiresAt, '2029-01-31T00:00:00.000Z');
    t.same(
      r.json().surveillanceAudits.map((x: { dueAt: string }) => x.dueAt),
      ['2027-02-01T00:00:00.000Z', '2028-02-01T00:00:00.000Z'],
    );
    const explicit = await api.post({ ...iso27001, expiresAt: '2028-12-31', surveillanceAudits: [{ dueAt: '2026-12-01' }] });
    t.equal(explicit.statusCode, 201);
    t.equal(explicit.json().expiresAt, '2028-12-31T00:00:00.000Z');
    t.same(explicit.json().surveillanceAudits, [{ dueAt: '2026-12-01T00:00:00.000Z', completedAt: null }]);
    const moved = await api.patch(explicit.json().id, { issuedAt: '2026-01-10' });
    t.equal(moved.json().expiresAt, '2028-12-31T00:00:00.000Z', 'an explicit expiry stays');
    t.same(moved.json().surveillanceAudits, [{ dueAt: '2026-12-01T00:00:00.000Z', completedAt: null }], 'explicit audits stay');
    const rederive = await api.patch(explicit.json().id, { expiresAt: null, surveillanceAudits: null });
    t.equal(rederive.json().expiresAt, '2029-01-09T00:00:00.000Z', 'null derives the expiry again');
    t.equal(rederive.json().surveillanceAudits.length, 2);
    t.equal((await api.del(explicit.json().id)).statusCode, 204);
  });

  t.test('patch: changing the kind drops ISO-only fields', async (t) => {
    const c = (await api.post(iso27001)).json();
    const r = await api.patch(c.id, { kind: 'other' });
    t.equal(r.statusCode, 200, r.body);
    t.match(r.json(), { kind: 'other', includesIso27017: false, surveillanceAudits: [], nextAuditDueAt: null, expiresAt: '2029-01-14T00:00:00.000Z' });
    const back = await api.patch(c.id, { kind: 'iso27001' });
    t.equal(back.json().surveillanceAudits.length, 2, 'audits generated again');
    const bad = await api.patch(c.id, { kind: 'soc2_type1', includesIso27017: true });
    t.equal(bad.statusCode, 400);
    t.same(fields(bad).sort(), ['body/includesIso27017', 'body/periodEnd']);
    await api.del(c.id);
  });

  t.test('delete', async (t) => {
    const r = await api.del(other.json().id);
    t.equal(r.statusCode, 204);
    t.equal(r.body, '');
    t.equal((await api.get(other.json().id)).statusCode, 404);
    t.equal((await api.del(other.json().id)).statusCode, 404);
    t.equal((await api.patch(other.json().id, { name: 'x' })).statusCode, 404);
  });

  t.test('every change is audited', async (t) => {
    const r = await app.inject({ method: 'GET', url: `/api/v1/audit-events?targetType=certification&targetId=${cert.id}`, headers: a.auth });
    t.same(
      r.json().items.map((e: { action: string }) => e.action),
      ['certification.updated', 'certification.updated', 'certification.created'],
    );
    t.same(r.json().items[1].summary.changed, ['scope', 'certificateNumber', 'visibility']);
    t.equal(r.json().items[2].actor.id, a.userId);
    const d = await app.inject({ method: 'GET', url: `/api/v1/audit-events?action=certification.deleted&targetId=${other.json().id}`, headers: a.auth });
    t.equal(d.json().items.length, 1);
    t.match(d.json().items[0].summary, { kind: 'other', name: 'PCI DSS AoC' });
  });
});

t.test('dates: plain dates and date-times with an offset', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const api = client(app, a);
  const r = await api.post({ kind: 'soc2_type1', name: 'SOC 2 Type 1', periodEnd: '2026-03-31T17:00:00-07:00', issuedAt: '2026-04-30' });
  t.equal(r.statusCode, 201, r.body);
  t.equal(r.json().periodEnd, '2026-04-01T00:00:00.000Z');
  t.equal(r.json().issuedAt, '2026-04-30T00:00:00.000Z');
  for (const bad of ['2026-01-15T23:59:60Z', 'yesterday', '2026-13-01', '2026-02-30', '2026-01-15T09:30:00', '15/01/2026']) {
    const res = await api.post({ ...iso27001, issuedAt: bad });
    t.equal(res.statusCode, 400, bad);
    t.ok(fields(res).every((f) => f === 'body/issuedAt') && fields(res).length > 0, `${bad} names body/issuedAt`);
  }
  const audit = await api.post({ ...iso27001, surveillanceAudits: [{ dueAt: 'soon' }] });
  t.equal(audit.statusCode, 400);
  t.ok(fields(audit).includes('body/surveillanceAudits/0/dueAt'));
});

t.test('validation rules name the field', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);
  const api = client(app, a);
  const expect400 = async (payload: object, field: string, what: string) => {
    const r = await api.post(payload);
    t.equal(r.statusCode, 400, what);
    t.equal(r.json().code, 'validation_failed', what);
    t.ok(fields(r).includes(field), `${what}: ${field} in ${JSON.stringify(fields(r))}`);
  };
  await expect400({ kind: 'soc2_type2', name: 'T2', periodEnd: '2025-12-31' }, 'body/periodStart', 'type 2 needs a period start');
  await expect400({ kind: 'soc2_type2', name: 'T2', periodStart: '2025-01-01' }, 'body/periodEnd', 'type 2 needs a period end');
  await expect400({ kind: 'soc2_type2', name: 'T2', periodStart: '2025-12-31', periodEnd: '2025-01-01' }, 'body/periodEnd', 'start before end');
  await expect400({ kind: 'soc2_type2', name: 'T2', periodStart: '2025-12-31', periodEnd: '2025-12-31' }, 'body/periodEnd', 'start equal to end');
  await expect400({ kind: 'soc2_type1', name: 'T1', issuedAt: '2025-12-31' }, 'body/periodEnd', 'type 1 needs the "as of" date');
  await expect400({ ...iso27001, issuedAt: undefined }, 'body/issuedAt', 'iso27001 needs an issue date');
  await expect400({ ...iso27001, issuedAt: null }, 'body/issuedAt', 'iso27001 needs an issue date (null)');
  await expect400({ ...iso27001, expiresAt: '2025-01-01' }, 'body/expiresAt', 'expiry before issue');
  await expect400({ kind: 'other', name: 'X', includesIso27017: true }, 'body/includesIso27017', 'ISO 27017 scope outside ISO 27001');
  await expect400(
    { kind: 'other', name: 'X', surveillanceAudits: [{ dueAt: '2027-01-01' }] },
    'body/surveillanceAudits',
    'surveillance audits outside ISO 27001',
  );
  await expect400({ kind: 'iso27002', name: 'X' }, 'body/kind', 'unknown kind');
  await expect400({ kind: 'other' }, 'body/name', 'name missing');
  await expect400({ kind: 'other', name: '   ' }, 'body/name', 'blank name');
  await expect400({ kind: 'other', name: 'X', visibility: 'secret' }, 'body/visibility', 'visibility');
  await expect400({ kind: 'other', name: 'X', evidenceId: 'not-a-uuid' }, 'body/evidenceId', 'evidence id format');
  await expect400({ kind: 'other', name: 'X', evidenceId: '0190f7a0-0000-7000-8000-000000000000' }, 'body/evidenceId', 'unknown evidence');

  t.test("evidence must be the organization's own", async (t) => {
    const now = new Date('2026-06-01T12:00:00Z');
    const row = (orgId: string, id: string) => ({
      orgId,
      id,
      title: 'Certificate PDF',
      kind: 'link' as const,
      url: 'https://example.com/cert.pdf',
      visibility: 'internal' as const,
      currentVersion: 1,
      createdBy: 'test',
      createdAt: now,
      updatedAt: now,
    });
    const mine = '0190f7a0-0000-7000-8000-0000000000a1';
    const theirs = '0190f7a0-0000-7000-8000-0000000000b1';
    await app.database.db.insert(evidence).values([row(a.orgId, mine), row(b.orgId, theirs)]);
    const ok = await api.post({ kind: 'other', name: 'X', evidenceId: mine });
    t.equal(ok.statusCode, 201, ok.body);
    t.equal(ok.json().evidenceId, mine);
    await expect400({ kind: 'other', name: 'X', evidenceId: theirs }, 'body/evidenceId', "another tenant's evidence");
    const patched = await api.patch(ok.json().id, { evidenceId: theirs });
    t.equal(patched.statusCode, 400);
    t.same(fields(patched), ['body/evidenceId']);
    t.equal((await api.patch(ok.json().id, { evidenceId: null })).json().evidenceId, null);
  });

  t.test('patch validates the merged record', async (t) => {
    const t2 = (await api.post({ kind: 'soc2_type2', name: 'T2', periodStart: '2025-01-01', periodEnd: '2025-12-31' })).json();
    const r1 = await api.patch(t2.id, { periodStart: null });
    t.equal(r1.statusCode, 400);
    t.same(fields(r1), ['body/periodStart']);
    const r2 = await api.patch(t2.id, { periodStart: '2026-01-01' });
    t.same(fields(r2), ['body/periodEnd'], 'start after the stored end');
    const r3 = await api.patch(t2.id, { kind: 'iso27001' });
    t.same(fields(r3), ['body/issuedAt']);
    const r4 = await api.patch(t2.id, { name: '' });
    t.same(fields(r4), ['body/name']);
    t.equal((await api.get(t2.id)).json().periodStart, '2025-01-01T00:00:00.000Z', 'nothing was written');
    const r5 = await api.patch(t2.id, { kind: 'soc2_type1', periodStart: null });
    t.equal(r5.statusCode, 200, 'Type 1 needs only the period end');
  });
});

t.test('computed status moves with the clock', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock });
  const a = await withApiKey(app, await signup(app));
  const api = client(app, a);
  const at = async (id: string, when: string) => {
    time.set(new Date(when));
    const r = await api.get(id);
    return r.json() as { status: string; statusReason: string; nextAuditDueAt: string | null };
  };

  t.test('ISO/IEC 27001: 3-year cycle with annual surveillance audits', async (t) => {
    time.set(new Date('2026-06-01T12:00:00Z'));
    const c = (await api.post(iso27001)).json();
    // issued 2026-01-15: expires 2029-01-14; surveillance audits due 2027-01-15 and 2028-01-15.
    t.match(await at(c.id, '2026-06-01T12:00:00Z'), { status: 'valid', nextAuditDueAt: '2027-01-15T00:00:00.000Z' });
    t.match(await at(c.id, '2026-11-10T12:00:00Z'), { status: 'valid' }, '65.5 days before the first audit');
    const soon = await at(c.id, '2026-11-20T12:00:00Z');
    t.match(soon, { status: 'due_soon', nextAuditDueAt: '2027-01-15T00:00:00.000Z' }, '55.5 days before the first audit');
    t.match(soon.statusReason, /surveillance audit is due on 2027-01-15/);
    const missed = await at(c.id, '2027-01-16T12:00:00Z');
    t.match(missed, { status: 'stale' }, 'the first surveillance audit was missed');
    t.match(missed.statusReason, /2027-01-15 has not been completed/);

    const done = await api.patch(c.id, { surveillanceAudits: [{ dueAt: '2027-01-15', completedAt: '2027-01-20' }, { dueAt: '2028-01-15' }] });
    t.match(done.json(), { status: 'valid', nextAuditDueAt: '2028-01-15T00:00:00.000Z' });
    t.match(await at(c.id, '2028-01-16T00:00:00Z'), { status: 'stale' }, 'the second one missed');
    await api.patch(c.id, {
      surveillanceAudits: [
        { dueAt: '2027-01-15', completedAt: '2027-01-20' },
        { dueAt: '2028-01-15', completedAt: '2028-01-10' },
      ],
    });
    const recert = await at(c.id, '2028-10-01T12:00:00Z');
    t.match(recert, { status: 'valid', nextAuditDueAt: '2029-01-14T00:00:00.000Z' }, '105 days before expiry; next is recertification');
    const expiring = await at(c.id, '2028-11-01T12:00:00Z');
    t.match(expiring, { status: 'due_soon' }, '73.5 days before expiry');
    t.match(expiring.statusReason, /expires on 2029-01-14/);
    t.match(await at(c.id, '2029-01-14T00:00:00Z'), { status: 'due_soon' }, 'the expiry instant itself');
    const gone = await at(c.id, '2029-01-15T00:00:00Z');
    t.match(gone, { status: 'expired' });
    t.match(gone.statusReason, /expired on 2029-01-14/);
  });

  t.test('ISO/IEC 27001 issued on 29 February: anniversaries fall on 28 February', async (t) => {
    const r = await api.post({ ...iso27001, issuedAt: '2024-02-29' });
    t.equal(r.json().expiresAt, '2027-02-27T00:00:00.000Z');
    t.same(
      r.json().surveillanceAudits.map((x: { dueAt: string }) => x.dueAt),
      ['2025-02-28T00:00:00.000Z', '2026-02-28T00:00:00.000Z'],
    );
  });

  t.test('SOC 2 Type 2: the 12-month freshness rule', async (t) => {
    const c = (await api.post({ kind: 'soc2_type2', name: 'SOC 2 Type 2', periodStart: '2024-01-16', periodEnd: '2025-01-15' })).json();
    const cases: [string, string, string][] = [
      ['2025-09-15T00:00:00Z', 'valid', '8 months after period end'],
      ['2025-10-15T00:00:00Z', 'valid', 'exactly 9 months'],
      ['2025-10-15T00:00:01Z', 'due_soon', 'just past 9 months'],
      ['2025-11-15T00:00:00Z', 'due_soon', '10 months'],
      ['2026-01-15T00:00:00Z', 'due_soon', 'exactly 12 months'],
      ['2026-02-15T00:00:00Z', 'stale', '13 months: bridge letter'],
      ['2026-04-15T00:00:00Z', 'stale', 'exactly 15 months'],
      ['2026-05-15T00:00:00Z', 'expired', '16 months'],
    ];
    for (const [when, status, what] of cases) {
      const s = await at(c.id, when);
      t.equal(s.status, status, what);
      t.equal(s.nextAuditDueAt, null);
    }
    t.match((await at(c.id, '2026-02-15T00:00:00Z')).statusReason, /bridge letter/);
    time.set(new Date('2025-09-15T00:00:00Z'));
    const withExpiry = await api.patch(c.id, { expiresAt: '2025-09-01' });
    t.equal(withExpiry.json().status, 'expired', 'a passed expiresAt wins at 8 months');
  });

  t.test('SOC 2 Type 1: the same rule from the "as of" date', async (t) => {
    const c = (await api.post({ kind: 'soc2_type1', name: 'SOC 2 Type 1', periodEnd: '2025-03-31' })).json();
    // 31 March + 9 months = 31 December; + 12 = 31 March; + 15 = 30 June (clamped).
    t.equal((await at(c.id, '2025-11-30T00:00:00Z')).status, 'valid', '8 months');
    t.equal((await at(c.id, '2026-01-31T00:00:00Z')).status, 'due_soon', '10 months');
    t.equal((await at(c.id, '2026-04-30T00:00:00Z')).status, 'stale', '13 months');
    t.equal((await at(c.id, '2026-06-30T00:00:00Z')).status, 'stale', '15 months');
    t.equal((await at(c.id, '2026-07-31T00:00:00Z')).status, 'expired', '16 months');
  });

  t.test('other: expiry only', async (t) => {
    time.set(new Date('2026-01-01T00:00:00Z'));
    const c = (await api.post({ kind: 'other', name: 'CSA STAR', expiresAt: '2026-08-01' })).json();
    const none = (await api.post({ kind: 'other', name: 'Cyber Essentials' })).json();
    t.match(await at(c.id, '2026-04-01T00:00:00Z'), { status: 'valid', nextAuditDueAt: null });
    t.match(await at(c.id, '2026-06-01T12:00:00Z'), { status: 'due_soon' }, '60.5 days');
    t.match(await at(c.id, '2026-08-02T00:00:00Z'), { status: 'expired' });
    t.match(await at(none.id, '2040-01-01T00:00:00Z'), { status: 'valid' }, 'no expiry');
  });

  t.test('list computes with the request clock too', async (t) => {
    time.set(new Date('2040-01-01T00:00:00Z'));
    const items = (await api.list()).json().items as { kind: string; name: string; status: string }[];
    t.ok(items.length >= 5);
    t.ok(items.filter((c) => c.name !== 'Cyber Essentials').every((c) => c.status === 'expired'));
  });

  t.test('listCertificationsForOrg: the same views at a given instant, for reports and the trust page', async (t) => {
    const views = await listCertificationsForOrg({ db: app.database.db, orgId: a.orgId }, new Date('2026-06-01T12:00:00Z'));
    const api200 = (await api.list()).json().items as { id: string }[];
    t.same(
      views.map((v) => v.id),
      api200.map((v) => v.id),
      'newest first, same rows',
    );
    t.match(
      views.find((v) => v.name === 'CSA STAR'),
      { status: 'due_soon' },
    );
    t.same(await listCertificationsForOrg({ db: app.database.db, orgId: '0190f7a0-0000-7000-8000-00000000ffff' }, new Date()), []);
  });
});

t.test('certificationStatus is a pure function of the row and now', async (t) => {
  const row = { kind: 'soc2_type2' as const, issuedAt: null, expiresAt: null, periodEnd: new Date('2025-01-15T00:00:00Z'), surveillanceAudits: [] };
  t.equal(certificationStatus(row, new Date('2025-11-15T00:00:00Z')).status, 'due_soon');
  t.equal(certificationStatus({ ...row, periodEnd: null }, new Date('2025-11-15T00:00:00Z')).status, 'stale');
  t.equal(
    certificationStatus({ ...row, kind: 'iso27001', issuedAt: new Date('2026-01-15T00:00:00Z') }, new Date('2029-01-15T00:00:00Z')).status,
    'expired',
    'derives the ISO expiry when missing',
  );
  t.equal(certificationStatus({ ...row, kind: 'iso27001' }, new Date('2029-01-15T00:00:00Z')).status, 'stale', 'no dates at all');
});

t.test('authentication, roles and tenancy', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);
  const api = client(app, a);
  const c = (await api.post(iso27001)).json();

  t.equal((await app.inject({ method: 'GET', url: '/api/v1/certifications' })).statusCode, 401);
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/certifications', payload: iso27001 })).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/certifications/${c.id}` })).statusCode, 401);
  t.equal((await app.inject({ method: 'PATCH', url: `/api/v1/certifications/${c.id}`, payload: { name: 'x' } })).statusCode, 401);
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/certifications/${c.id}` })).statusCode, 401);

  const unknown = '0190f7a0-0000-7000-8000-00000000ffff';
  t.equal((await api.get(unknown)).statusCode, 404);
  t.equal((await api.get(unknown)).json().code, 'not_found');
  t.equal((await api.patch(unknown, { name: 'x' })).statusCode, 404);
  t.equal((await api.del(unknown)).statusCode, 404);
  t.equal((await api.get('not-a-uuid')).statusCode, 400);

  t.equal((await api.get(c.id, b)).statusCode, 404, "another tenant's id");
  t.equal((await api.patch(c.id, { name: 'mine now' }, b)).statusCode, 404);
  t.equal((await api.del(c.id, b)).statusCode, 404);
  t.same((await api.list('', b)).json().items, []);
  t.equal((await api.get(c.id)).json().name, iso27001.name, 'untouched');

  const viewer = await memberWithRole(app, a, 'viewer');
  t.equal((await api.post(iso27001, viewer)).statusCode, 403);
  t.equal((await api.patch(c.id, { name: 'x' }, viewer)).statusCode, 403);
  t.equal((await api.del(c.id, viewer)).statusCode, 403);
  t.equal((await api.get(c.id, viewer)).statusCode, 200, 'viewers read');
  t.equal((await api.list('', viewer)).json().items.length, 1);

  const editor = await memberWithRole(app, a, 'editor');
  const byEditor = await api.post({ kind: 'other', name: 'By editor' }, editor);
  t.equal(byEditor.statusCode, 201);
  t.equal(byEditor.json().createdBy, editor.userId);
  t.equal((await api.del(byEditor.json().id, editor)).statusCode, 204);

  const events = await app.inject({ method: 'GET', url: '/api/v1/audit-events?targetType=certification', headers: a.auth });
  t.same(
    events.json().items.map((e: { action: string }) => e.action),
    ['certification.deleted', 'certification.created', 'certification.created'],
    'refused writes leave no events',
  );
});
