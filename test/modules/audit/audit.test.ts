import t from 'tap';
import { sql } from 'drizzle-orm';
import { memberWithRole, signup, testApp } from '../../helpers/app.js';

t.test('audit log', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);
  const key = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: 'ci', role: 'viewer' } });
  await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.json().id}`, headers: { ...a.auth, 'x-request-id': 'req-revoke-1' } });

  const all = await app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: a.auth });
  t.equal(all.statusCode, 200);
  const actions = all.json().items.map((e: { action: string }) => e.action);
  t.same(actions, ['api_key.revoked', 'api_key.created', 'organization.created'], 'newest first');
  const revoked = all.json().items[0];
  t.match(revoked, {
    actor: { type: 'user', id: a.userId },
    target: { type: 'api_key', id: key.json().id },
    requestId: 'req-revoke-1',
    summary: { name: 'ci' },
  });
  t.notOk(JSON.stringify(all.json()).includes(key.json().key), 'the key itself is never audited');

  const byTarget = await app.inject({ method: 'GET', url: `/api/v1/audit-events?targetType=api_key&targetId=${key.json().id}`, headers: a.auth });
  t.equal(byTarget.json().items.length, 2);
  const byActor = await app.inject({ method: 'GET', url: `/api/v1/audit-events?actorId=${a.userId}&limit=1`, headers: a.auth });
  t.equal(byActor.json().items.length, 1);
  t.type(byActor.json().nextCursor, 'string');
  const next = await app.inject({
    method: 'GET',
    url: `/api/v1/audit-events?actorId=${a.userId}&limit=1&cursor=${byActor.json().nextCursor}`,
    headers: a.auth,
  });
  t.not(next.json().items[0].id, byActor.json().items[0].id);

  const other = await app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: b.auth });
  t.same(
    other.json().items.map((e: { action: string }) => e.action),
    ['organization.created'],
    'tenant B sees only its own events',
  );

  const viewer = await memberWithRole(app, a, 'viewer');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: viewer.auth })).statusCode, 403);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=0', headers: a.auth })).statusCode, 400);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/audit-events' })).statusCode, 401);

  t.test('rows cannot be changed or deleted', async (t) => {
    await t.rejects(app.database.db.execute(sql`update audit_events set action = 'forged'`), { cause: { message: /append-only/ } });
    await t.rejects(app.database.db.execute(sql`delete from audit_events`), { cause: { message: /append-only/ } });
  });
});
