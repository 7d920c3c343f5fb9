import t from 'tap';
import { signup, testApp } from '../../helpers/app.js';

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
