import t from 'tap';
import { and, eq } from 'drizzle-orm';
import { scanExpiries } from '../../../src/scans.js';
import { events } from '../../../src/modules/events/tables.js';
import { PASSWORD, manualClock, signup, testApp } from '../../helpers/app.js';

t.test('expiry events go out once per subject and due date', async (t) => {
  const time = manualClock(new Date('2026-06-01T00:00:00Z'));
  const app = await testApp(t, {
    clock: time.clock,
    config: { auth: { accessTokenTtlSeconds: 7 * 24 * 3600 } },
    options: { expiryScanIntervalMs: 0, webhooks: { worker: false } },
  });
  const a = await signup(app);
  const b = await signup(app);
  const ev = await app.inject({
    method: 'POST',
    url: '/api/v1/evidence',
    headers: a.auth,
    payload: { title: 'Pentest 2025', url: 'https://example.com/pentest', expiresAt: '2026-06-20' },
  });
  await app.inject({
    method: 'POST',
    url: '/api/v1/evidence',
    headers: a.auth,
    payload: { title: 'Far away', url: 'https://example.com/far', expiresAt: '2027-06-20' },
  });
  await app.inject({
    method: 'POST',
    url: '/api/v1/certifications',
    headers: b.auth,
    payload: { kind: 'soc2_type2', name: 'SOC 2 Type II', periodStart: '2025-01-01', periodEnd: '2025-08-01' },
  });
  const typesOf = async (orgId: string) =>
    (await app.database.db.select().from(events).where(eq(events.orgId, orgId)))
      .map((e) => e.type)
      .filter((x) => x !== 'control.updated')
      .sort();

  t.equal(await scanExpiries(app.database.db, time.clock), 2, 'one evidence expiring, one certification due');
  t.equal(await scanExpiries(app.database.db, time.clock), 0, 'a second scan sends nothing');
  t.same(await typesOf(a.orgId), ['evidence.expiring']);
  t.same(await typesOf(b.orgId), ['certification.expiring'], 'each organization gets only its own');

  time.set(new Date('2026-06-21T00:00:00Z'));
  t.equal(await scanExpiries(app.database.db, time.clock), 1);
  t.same(await typesOf(a.orgId), ['evidence.expired', 'evidence.expiring']);
  const [expired] = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'evidence.expired')));
  t.match(expired!.data, { id: ev.json().id, title: 'Pentest 2025' });

  t.test('renewed evidence is noticed again for its new date', async (t) => {
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: PASSWORD } });
    const patch = await app.inject({
      method: 'PATCH',
      url: `/api/v1/evidence/${ev.json().id}`,
      headers: { authorization: `Bearer ${login.json().accessToken}` },
      payload: { expiresAt: '2026-07-10' },
    });
    t.equal(patch.statusCode, 200);
    t.equal(await scanExpiries(app.database.db, time.clock), 1);
  });
});
