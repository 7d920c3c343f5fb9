import t from 'tap';
import { memberWithRole, signup, testApp } from '../../helpers/app.js';

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
  const write = await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.5.1',
    headers: readControls,
    payload: { applicable: true, status: 'implemented', implementation: 'x', responsibility: 'provider' },
  });
  t.equal(write.statusCode, 403);
  t.match(write.json().detail, /controls:write/, 'the 403 names the missing scope');
  const evidence = await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: readControls });
  t.equal(evidence.statusCode, 403);
  t.match(evidence.json().detail, /evidence:read/);

  const pipeline = await make({ name: 'ci', role: 'editor', scopes: ['evidence:write'] });
  t.equal(
    (await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: pipeline, payload: { title: 'build log', url: 'https://ci.example.com/1' } }))
      .statusCode,
    201,
  );
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: pipeline })).statusCode, 200, 'write implies read');

  const roleStillBinds = await make({ name: 'v', role: 'viewer', scopes: ['controls:write'] });
  t.equal(
    (
      await app.inject({
        method: 'PUT',
        url: '/api/v1/controls/A.5.2',
        headers: roleStillBinds,
        payload: { applicable: true, status: 'implemented', implementation: 'x', responsibility: 'provider' },
      })
    ).statusCode,
    403,
    'a scope never lifts the role',
  );

  const bad = await app.inject({
    method: 'POST',
    url: '/api/v1/api-keys',
    headers: a.auth,
    payload: { name: 'x', role: 'viewer', scopes: ['everything:all'] },
  });
  t.equal(bad.statusCode, 400);
  const listed = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: a.auth });
  t.ok(listed.json().items.some((k: { scopes: string[] | null }) => k.scopes?.includes('controls:read')));

  t.test('a scoped admin key cannot mint a broader key', async (t) => {
    const admin = await make({ name: 'admin-bot', role: 'admin', scopes: ['members:write'] });
    const broader = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'x', role: 'viewer' } });
    t.equal(broader.statusCode, 403);
    const within = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: admin,
      payload: { name: 'x', role: 'viewer', scopes: ['members:write'] },
    });
    t.equal(within.statusCode, 201);
  });

  t.test("a scoped key cannot create a person's (unscoped) credential", async (t) => {
    const admin = await make({ name: 'hr-bot', role: 'admin', scopes: ['members:write'] });
    const outsider = await app.inject({
      method: 'POST',
      url: '/api/v1/members',
      headers: admin,
      payload: { email: 'outsider@elsewhere.example.com', role: 'admin' },
    });
    t.equal(outsider.statusCode, 403, 'no admin invitation');
    t.match(outsider.json().detail, /scoped API key/);
    t.notOk(outsider.json().invitation, 'no token handed out');
    t.equal(
      (await app.inject({ method: 'POST', url: '/api/v1/members', headers: admin, payload: { email: 'viewer@elsewhere.example.com', role: 'viewer' } }))
        .statusCode,
      403,
      'not even a viewer: its login would read everything',
    );
    const members = await app.inject({ method: 'GET', url: '/api/v1/members', headers: a.auth });
    t.notOk(JSON.stringify(members.json()).includes('elsewhere.example.com'));

    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal(
      (await app.inject({ method: 'PATCH', url: `/api/v1/members/${viewer.userId}`, headers: admin, payload: { role: 'admin' } })).statusCode,
      403,
      'cannot raise a role',
    );
    const editor = await memberWithRole(app, a, 'editor');
    const lower = await app.inject({ method: 'PATCH', url: `/api/v1/members/${editor.userId}`, headers: admin, payload: { role: 'viewer' } });
    t.equal(lower.statusCode, 200, 'may lower one (members:write)');
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/members/${editor.userId}`, headers: admin })).statusCode, 204, 'and remove members');

    // An unscoped admin key may still invite: its power is already that of an admin's login.
    const unscoped = await make({ name: 'admin-full', role: 'admin' });
    t.equal(
      (await app.inject({ method: 'POST', url: '/api/v1/members', headers: unscoped, payload: { email: 'hire@elsewhere.example.com', role: 'editor' } }))
        .statusCode,
      201,
    );
  });
});
