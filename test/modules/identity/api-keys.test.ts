import t from 'tap';
import { memberWithRole, signup, testApp } from '../../helpers/app.js';

t.test('API keys', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);

  const created = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: 'crm sync', role: 'editor' } });
  t.equal(created.statusCode, 201);
  const { key, id, prefix } = created.json();
  t.match(key, /^tck_[A-Za-z0-9]{43}$/);
  t.ok(key.startsWith(prefix), 'the visible prefix is the start of the key');

  const asKey = { authorization: `Bearer ${key}` };
  const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: asKey });
  t.equal(me.statusCode, 200);
  t.match(me.json(), { actor: { type: 'api_key', id }, role: 'editor', organization: { id: a.orgId } });

  const list = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: a.auth });
  t.equal(list.statusCode, 200);
  const listed = list.json().items[0];
  t.equal(listed.prefix, prefix);
  t.notOk('key' in listed, 'the secret is shown once only');
  t.notOk(JSON.stringify(list.json()).includes(key.slice(16)), 'no part of the secret is listed');
  t.type(listed.lastUsedAt, 'string', 'last use is recorded');

  t.test('an editor key cannot manage keys', async (t) => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: asKey, payload: { name: 'escalate', role: 'owner' } });
    t.equal(r.statusCode, 403);
  });

  t.test('a wrong key with a valid prefix is refused', async (t) => {
    const forged = key.slice(0, 16) + 'x'.repeat(key.length - 16);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${forged}` } })).statusCode, 401);
  });

  t.test('cross-tenant revoke is 404', async (t) => {
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers: b.auth })).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: asKey })).statusCode, 200, 'still works');
  });

  t.test('revoked key stops working at once', async (t) => {
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers: a.auth })).statusCode, 204);
    const r = await app.inject({ method: 'GET', url: '/api/v1/me', headers: asKey });
    t.equal(r.statusCode, 401);
    t.match(r.json().detail, /revoked/);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers: a.auth })).statusCode, 204, 'revoking twice is harmless');
    t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/api-keys/01900000-0000-7000-8000-000000000000', headers: a.auth })).statusCode, 404);
  });

  t.test('bad input', async (t) => {
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: '', role: 'editor' } })).statusCode, 400);
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/api-keys', payload: { name: 'x', role: 'editor' } })).statusCode, 401);
  });
});

t.test('an API key follows its creator: the lower of both roles, and gone when the creator leaves', async (t) => {
  const app = await testApp(t);
  const a = await signup(app, 'follow');
  const admin = await memberWithRole(app, a, 'admin');
  const made = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin.auth, payload: { name: 'admin bot', role: 'admin' } });
  t.equal(made.statusCode, 201, made.body);
  const asKey = { authorization: `Bearer ${made.json().key}` };
  const control = { applicable: true, status: 'implemented', implementation: 'x', responsibility: 'provider' };
  const invite = (role: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/members',
      headers: asKey,
      payload: { email: `hire-${Math.random().toString(36).slice(2)}@follow.example.com`, role },
    });

  t.equal((await invite('admin')).statusCode, 201, 'while its creator is an admin, the key invites admins');
  t.match((await app.inject({ method: 'GET', url: '/api/v1/me', headers: asKey })).json(), { role: 'admin' });

  const demote = await app.inject({ method: 'PATCH', url: `/api/v1/members/${admin.userId}`, headers: a.auth, payload: { role: 'viewer' } });
  t.equal(demote.statusCode, 200);
  t.match((await app.inject({ method: 'GET', url: '/api/v1/me', headers: asKey })).json(), { role: 'viewer' }, 'the key now acts as a viewer');
  const inviteAdmin = await invite('admin');
  t.equal(inviteAdmin.statusCode, 403, 'no more invitations');
  t.equal(
    (await app.inject({ method: 'PATCH', url: `/api/v1/members/${admin.userId}`, headers: asKey, payload: { role: 'admin' } })).statusCode,
    403,
    'cannot promote its creator back',
  );
  t.equal(
    (await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: asKey, payload: { name: 'x', role: 'viewer' } })).statusCode,
    403,
    'cannot mint keys',
  );
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.1', headers: asKey, payload: control })).statusCode, 403, 'cannot write');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/controls', headers: asKey })).statusCode, 200, 'still reads');

  const editorAgain = await app.inject({ method: 'PATCH', url: `/api/v1/members/${admin.userId}`, headers: a.auth, payload: { role: 'editor' } });
  t.equal(editorAgain.statusCode, 200);
  t.equal(
    (await app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.1', headers: asKey, payload: control })).statusCode,
    200,
    'follows the creator up to its own role',
  );
  t.equal((await invite('viewer')).statusCode, 403);

  // A key never exceeds its own role, whatever its creator holds.
  const low = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: 'reader', role: 'viewer' } });
  t.match((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${low.json().key}` } })).json(), { role: 'viewer' });

  const removed = await app.inject({ method: 'DELETE', url: `/api/v1/members/${admin.userId}`, headers: a.auth });
  t.equal(removed.statusCode, 204);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: asKey })).statusCode, 401, 'the key stops when its creator leaves');
});
