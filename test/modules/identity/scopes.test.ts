import t from 'tap';
import { signup, testApp } from '../../helpers/app.js';

t.test('API key scopes narrow a role', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const make = async (payload: object) => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload });
    t.equal(r.statusCode, 201, r.body);
    return { authorization: `Bearer ${r.json().key}` };
  };
  const readControls = await make({ name: 'dashboard', role: 'editor', scopes: ['controls:read'] });
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/controls', headers: readControls })).statusCode, 200);
  const write = await app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.1', headers: readControls, payload: { applicable: true, status: 'implemented', implementation: 'x', responsibility: 'provider' } });
  t.equal(write.statusCode, 403);
  t.match(write.json().detail, /controls:write/, 'the 403 names the missing scope');
  const evidence = await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: readControls });
  t.equal(evidence.statusCode, 403);
  t.match(evidence.json().detail, /evidence:read/);

  const pipeline = await make({ name: 'ci', role: 'editor', scopes: ['evidence:write'] });
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: pipeline, payload: { title: 'build log', url: 'https://ci.example.com/1' } })).statusCode, 201);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: pipeline })).statusCode, 200, 'write implies read');

  const roleStillBinds = await make({ name: 'v', role: 'viewer', scopes: ['controls:write'] });
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.2', headers: roleStillBinds, payload: { applicable: true, status: 'implemented', implementation: 'x', responsibility: 'provider' } })).statusCode, 403, 'a scope never lifts the role');

  const bad = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: 'x', role: 'viewer', scopes: ['everything:all'] } });
  t.equal(bad.statusCode, 400);
  const listed = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: a.auth });
  t.ok(listed.json().items.some((k: { scopes: string[] | null }) => k.scopes?.includes('controls:read')));

  t.test('a scoped admin key cannot mint a broader key', async (t) => {
    const admin = await make({ name: 'admin-bot', role: 'admin', scopes: ['members:write'] });
    const broader = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'x', role: 'viewer' } });
    t.equal(broader.statusCode, 403);
    const within = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'x', role: 'viewer', scopes: ['members:write'] } });
    t.equal(within.statusCode, 201);
  });
});
