import t from 'tap';
import { PASSWORD, memberWithRole, signup, testApp } from '../../helpers/app.js';

t.test('members, invitations and roles', async (t) => {
  const app = await testApp(t);
  const a = await signup(app, 'alpha');
  const b = await signup(app, 'beta');

  const invite = await app.inject({
    method: 'POST',
    url: '/api/v1/members',
    headers: a.auth,
    payload: { email: 'new.person@alpha.example.com', role: 'editor' },
  });
  t.equal(invite.statusCode, 201);
  t.equal(invite.json().status, 'invited');
  const token = invite.json().invitation.token;

  const weak = await app.inject({ method: 'POST', url: '/api/v1/auth/accept-invitation', payload: { token, password: 'Password123!' } });
  t.equal(weak.statusCode, 400, 'weak password refused on acceptance');
  const accept = await app.inject({ method: 'POST', url: '/api/v1/auth/accept-invitation', payload: { token, password: PASSWORD, name: 'New Person' } });
  t.equal(accept.statusCode, 201);
  const again = await app.inject({ method: 'POST', url: '/api/v1/auth/accept-invitation', payload: { token, password: PASSWORD } });
  t.equal(again.statusCode, 404, 'an invitation works once');

  const list = await app.inject({ method: 'GET', url: '/api/v1/members', headers: a.auth });
  t.equal(list.statusCode, 200);
  t.same(
    list
      .json()
      .items.map((m: { role: string }) => m.role)
      .sort(),
    ['editor', 'owner'],
  );
  const editorId = list.json().items.find((m: { role: string }) => m.role === 'editor').id;

  t.test('an existing account of another organization joins only by accepting, with its own password', async (t) => {
    const person = 'new.person@alpha.example.com';
    const add = await app.inject({ method: 'POST', url: '/api/v1/members', headers: b.auth, payload: { email: person, role: 'viewer' } });
    t.equal(add.statusCode, 201);
    t.equal(add.json().status, 'invited', 'never added silently');
    t.notOk(add.json().member, 'no membership yet');
    const membersOfB = async () =>
      (await app.inject({ method: 'GET', url: '/api/v1/members', headers: b.auth })).json().items.map((m: { email: string }) => m.email);
    t.notOk((await membersOfB()).includes(person), 'not a member before accepting');
    const notYet = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: person, password: PASSWORD, organization: b.slug } });
    t.equal(notYet.statusCode, 401, 'cannot enter B before accepting');

    // B's admin holds the token too: choosing a new password for the account is refused.
    const hijack = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/accept-invitation',
      payload: { token: add.json().invitation.token, password: 'Another-Strong-Phrase-42' },
    });
    t.equal(hijack.statusCode, 401);
    t.equal(hijack.json().code, 'invalid_credentials');
    t.notOk((await membersOfB()).includes(person), 'the token alone adds nobody');
    const stillMine = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: person, password: PASSWORD } });
    t.equal(stillMine.statusCode, 200, 'the account keeps its password');

    const accept = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/accept-invitation',
      payload: { token: add.json().invitation.token, password: PASSWORD },
    });
    t.equal(accept.statusCode, 201, accept.body);
    const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${accept.json().accessToken}` } });
    t.match(me.json(), { organization: { id: b.orgId }, role: 'viewer', user: { email: person } });
    t.ok((await membersOfB()).includes(person));
    const dup = await app.inject({ method: 'POST', url: '/api/v1/members', headers: b.auth, payload: { email: person, role: 'viewer' } });
    t.equal(dup.statusCode, 409, 'already a member');
    const loginB = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: person, password: PASSWORD, organization: b.slug } });
    t.equal(loginB.statusCode, 200, 'a person in two organizations picks one at login');
    t.equal(loginB.json().organization.slug, b.slug);
  });

  t.test("cross-tenant: B cannot see or change A's members", async (t) => {
    const patch = await app.inject({ method: 'PATCH', url: `/api/v1/members/${a.userId}`, headers: b.auth, payload: { role: 'viewer' } });
    t.equal(patch.statusCode, 404);
    const del = await app.inject({ method: 'DELETE', url: `/api/v1/members/${a.userId}`, headers: b.auth });
    t.equal(del.statusCode, 404);
    const listB = await app.inject({ method: 'GET', url: '/api/v1/members', headers: b.auth });
    t.notOk(listB.json().items.some((m: { id: string }) => m.id === a.userId));
  });

  t.test('roles: viewer reads, cannot write; admin cannot make owners', async (t) => {
    const viewer = await memberWithRole(app, a, 'viewer');
    const read = await app.inject({ method: 'GET', url: '/api/v1/members', headers: viewer.auth });
    t.equal(read.statusCode, 200);
    const write = await app.inject({ method: 'POST', url: '/api/v1/members', headers: viewer.auth, payload: { email: 'x@alpha.example.com', role: 'viewer' } });
    t.equal(write.statusCode, 403);
    t.equal(write.json().code, 'forbidden');
    t.match(write.json().detail, /admin/);
    const keys = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: viewer.auth, payload: { name: 'k', role: 'viewer' } });
    t.equal(keys.statusCode, 403);

    const admin = await memberWithRole(app, a, 'admin');
    const makeOwner = await app.inject({ method: 'PATCH', url: `/api/v1/members/${editorId}`, headers: admin.auth, payload: { role: 'owner' } });
    t.equal(makeOwner.statusCode, 403);
    const demoteOwner = await app.inject({ method: 'PATCH', url: `/api/v1/members/${a.userId}`, headers: admin.auth, payload: { role: 'viewer' } });
    t.equal(demoteOwner.statusCode, 403);
    const promote = await app.inject({ method: 'PATCH', url: `/api/v1/members/${editorId}`, headers: admin.auth, payload: { role: 'admin' } });
    t.equal(promote.statusCode, 200);
    t.equal(promote.json().role, 'admin');
  });

  t.test('the last owner stays', async (t) => {
    const demote = await app.inject({ method: 'PATCH', url: `/api/v1/members/${a.userId}`, headers: a.auth, payload: { role: 'admin' } });
    t.equal(demote.statusCode, 409);
    const leave = await app.inject({ method: 'DELETE', url: `/api/v1/members/${a.userId}`, headers: a.auth });
    t.equal(leave.statusCode, 409);
  });

  t.test('removing a member ends their access at once', async (t) => {
    const editor = await memberWithRole(app, a, 'editor');
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: editor.auth })).statusCode, 200);
    const del = await app.inject({ method: 'DELETE', url: `/api/v1/members/${editor.userId}`, headers: a.auth });
    t.equal(del.statusCode, 204);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: editor.auth })).statusCode, 401);
  });

  t.test('bad input', async (t) => {
    t.equal(
      (await app.inject({ method: 'POST', url: '/api/v1/members', headers: a.auth, payload: { email: 'x@y.example.com', role: 'god' } })).statusCode,
      400,
    );
    t.equal((await app.inject({ method: 'PATCH', url: '/api/v1/members/not-a-uuid', headers: a.auth, payload: { role: 'viewer' } })).statusCode, 400);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/members' })).statusCode, 401);
  });
});

t.test('member pagination walks every member once', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  for (let i = 0; i < 4; i++)
    await app.inject({ method: 'POST', url: '/api/v1/members', headers: a.auth, payload: { email: `p${i}@x.example.com`, role: 'viewer' } });
  for (let i = 0; i < 4; i++) await memberWithRole(app, a, 'viewer');
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const r: { statusCode: number; json: () => { items: { id: string }[]; nextCursor: string | null } } = await app.inject({
      method: 'GET',
      url: `/api/v1/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      headers: a.auth,
    });
    t.equal(r.statusCode, 200);
    const page = r.json();
    t.ok(page.items.length <= 2);
    seen.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor;
  } while (cursor);
  t.equal(seen.length, 5);
  t.equal(new Set(seen).size, 5);
  const bad = await app.inject({ method: 'GET', url: '/api/v1/members?cursor=@@@', headers: a.auth });
  t.equal(bad.statusCode, 400);
});

// Two owners demoting (or removing) each other at the same moment: one of them wins, the other is
// refused, and the organization keeps an owner. Several rounds, since the race needs both
// transactions in flight at once.
t.test('two owners acting on each other at once leave one owner', async (t) => {
  const app = await testApp(t);
  for (let round = 0; round < 6; round++) {
    const a = await signup(app, `owners-${round}`);
    const b = await memberWithRole(app, a, 'admin');
    const promote = await app.inject({ method: 'PATCH', url: `/api/v1/members/${b.userId}`, headers: a.auth, payload: { role: 'owner' } });
    t.equal(promote.statusCode, 200, promote.body);
    const remove = round % 2 === 1;
    const act = (by: typeof a, on: typeof a) =>
      app.inject(
        remove
          ? { method: 'DELETE', url: `/api/v1/members/${on.userId}`, headers: by.auth }
          : { method: 'PATCH', url: `/api/v1/members/${on.userId}`, headers: by.auth, payload: { role: 'admin' } },
      );
    const results = await Promise.all([act(a, b), act(b, a)]);
    // The loser is refused: told an owner must stay (409), or, when the winner finished before the
    // loser's request was even authenticated (one connection, as on PGlite), its credentials are
    // already gone (removed: 401) or narrowed (demoted: 403).
    const winners = results.filter((r) => r.statusCode === (remove ? 204 : 200));
    const losers = results.filter((r) => r.statusCode !== (remove ? 204 : 200));
    t.equal(winners.length, 1, `round ${round} (${remove ? 'remove' : 'demote'}): one wins`);
    t.equal(losers.length, 1, `round ${round}: one is refused`);
    const loser = losers[0]!;
    t.ok([409, remove ? 401 : 403].includes(loser.statusCode), `round ${round}: refused with ${loser.statusCode}`);
    if (loser.statusCode === 409) t.match(loser.json(), { code: 'conflict', detail: /at least one owner/ }, 'the loser is told why');
    const members = [a, b].map(async (m) => app.inject({ method: 'GET', url: '/api/v1/members?limit=100', headers: m.auth }));
    const listing = (await Promise.all(members)).find((r) => r.statusCode === 200);
    const owners = listing ? (listing.json().items as Array<{ role: string }>).filter((m) => m.role === 'owner').length : 0;
    t.equal(owners, 1, `round ${round}: exactly one owner left`);
  }
});
