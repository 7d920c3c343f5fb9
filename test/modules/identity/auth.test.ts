import t from 'tap';
import { PASSWORD, signup, testApp } from '../../helpers/app.js';

t.test('signup and login', async (t) => {
  const app = await testApp(t);

  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    payload: { organization: { name: 'Acme Cloud', slug: 'acme-cloud' }, user: { email: 'Owner@Acme.example.com', password: PASSWORD } },
  });
  t.equal(res.statusCode, 201);
  const body = res.json();
  t.match(body, { organization: { slug: 'acme-cloud', name: 'Acme Cloud' }, user: { email: 'owner@acme.example.com' } });
  t.type(body.accessToken, 'string');

  const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${body.accessToken}` } });
  t.equal(me.statusCode, 200);
  t.match(me.json(), { organization: { id: body.organization.id }, role: 'owner', actor: { type: 'user' } });

  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@acme.example.com', password: PASSWORD } });
  t.equal(login.statusCode, 200);
  t.type(login.json().accessToken, 'string');
  t.equal(login.json().organization.slug, 'acme-cloud');

  t.test('email is case-insensitive at login', async (t) => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'OWNER@acme.example.com', password: PASSWORD } });
    t.equal(r.statusCode, 200);
  });
});

t.test('signup refusals', async (t) => {
  const app = await testApp(t);
  const first = await signup(app, 'taken');
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: payload as object });

  const dupSlug = await post({ organization: { name: 'X', slug: first.slug }, user: { email: 'other@x.example.com', password: PASSWORD } });
  t.equal(dupSlug.statusCode, 409);
  t.equal(dupSlug.json().code, 'slug_taken');

  const dupEmail = await post({ organization: { name: 'X', slug: 'fresh-slug' }, user: { email: first.email, password: PASSWORD } });
  t.equal(dupEmail.statusCode, 409);
  t.equal(dupEmail.json().code, 'email_taken');
  // Nothing half-done: the organization of the refused signup does not exist.
  const retry = await post({ organization: { name: 'X', slug: 'fresh-slug' }, user: { email: 'new@x.example.com', password: PASSWORD } });
  t.equal(retry.statusCode, 201, 'the slug of a refused signup is still free');

  const weak = [
    ['short1!', 'at least 12'],
    ['password1234', 'too easy to guess'],
    ['aaaaaaaaaaaaaaaa', 'too easy to guess'],
    ['weakling-user@', 'email'],
    ['Password123!', 'too easy to guess'],
    ['qwertyuiop[]\\', 'too easy to guess'],
    ['Weakling2026!', 'too easy to guess'],
  ] as const;
  for (const [i, [password, why]] of weak.entries()) {
    const r = await post({ organization: { name: 'Weakling Org', slug: `weak-${i}` }, user: { email: 'weakling-user@w.example.com', password } });
    t.equal(r.statusCode, 400, `weak password refused: ${password}`);
    t.equal(r.json().code, 'weak_password');
    t.match(r.json().detail, why);
    t.same(
      r.json().errors.map((e: { field: string }) => e.field),
      ['body/user/password'],
      'names the field',
    );
  }
  const strong = await post({ organization: { name: 'S', slug: 'strong-one' }, user: { email: 'strong@s.example.com', password: 'Correct-Horse-Battery-9' } });
  t.equal(strong.statusCode, 201, 'a passphrase of unrelated words is accepted');

  const badSlug = await post({ organization: { name: 'B', slug: 'Not A Slug' }, user: { email: 'b@b.example.com', password: PASSWORD } });
  t.equal(badSlug.statusCode, 400);
  t.equal(badSlug.json().code, 'validation_failed');
  t.ok(
    badSlug.json().errors.some((e: { field: string }) => e.field === 'body/organization/slug'),
    'names the field',
  );

  const reserved = await post({ organization: { name: 'R', slug: 'api' }, user: { email: 'r@r.example.com', password: PASSWORD } });
  t.equal(reserved.statusCode, 400);

  const missing = await post({ organization: { name: 'x' } });
  t.equal(missing.statusCode, 400);
  const fields = missing.json().errors.map((e: { field: string }) => e.field);
  t.ok(fields.includes('body/organization/slug') && fields.includes('body/user'), `all missing fields named: ${fields}`);

  const badEmail = await post({ organization: { name: 'E', slug: 'email-bad' }, user: { email: 'not-an-email', password: PASSWORD } });
  t.equal(badEmail.statusCode, 400);
});

t.test('login refusals', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const login = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });

  const wrong = await login({ email: a.email, password: 'wrong-password-1' });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().code, 'invalid_credentials');
  const unknown = await login({ email: 'nobody@nowhere.example.com', password: PASSWORD });
  t.equal(unknown.statusCode, 401);
  t.equal(unknown.json().detail, wrong.json().detail, 'unknown user and wrong password look the same');
  const otherOrg = await login({ email: a.email, password: PASSWORD, organization: 'not-my-org' });
  t.equal(otherOrg.statusCode, 401);
  const bad = await login({ email: a.email });
  t.equal(bad.statusCode, 400);
});

t.test('auth routes are rate limited', async (t) => {
  const app = await testApp(t, { config: { limits: { authPerMinute: 3 } } });
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'x@y.example.com', password: 'whatever-123456' } });
    codes.push(r.statusCode);
    if (r.statusCode === 429) {
      t.equal(r.json().code, 'rate_limited');
      t.match(r.headers['content-type'], /problem\+json/);
      t.ok(r.headers['retry-after'], 'says when to retry');
    }
  }
  t.same(codes, [401, 401, 401, 429, 429]);
});
