import t from 'tap';
import { PASSWORD, signup, testApp } from '../helpers/app.js';

t.test('authenticated routes: one budget per credential, with headers', async (t) => {
  const app = await testApp(t, { config: { limits: { apiPerMinute: 4 } } });
  const a = await signup(app);
  const b = await signup(app);
  const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers });

  const remaining: Array<string | undefined> = [];
  // Two routes, one budget: the limit is per credential, not per route.
  for (const url of ['/api/v1/controls', '/api/v1/frameworks', '/api/v1/controls', '/api/v1/me']) {
    const r = await get(url, a.auth);
    t.equal(r.statusCode, 200, url);
    t.equal(r.headers['x-ratelimit-limit'], '4', url);
    const reset = Number(r.headers['x-ratelimit-reset']);
    t.ok(reset >= 1 && reset <= 60, `x-ratelimit-reset is seconds to the window's end (${reset})`);
    remaining.push(r.headers['x-ratelimit-remaining'] as string | undefined);
  }
  t.same(remaining, ['3', '2', '1', '0'], 'x-ratelimit-remaining counts down');

  const limited = await get('/api/v1/frameworks', a.auth);
  t.equal(limited.statusCode, 429);
  t.match(limited.headers['content-type'], /application\/problem\+json/);
  t.equal(limited.json().code, 'rate_limited');
  t.equal(limited.headers['x-ratelimit-remaining'], '0');
  const retryAfter = Number(limited.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After in seconds (${retryAfter})`);
  t.match(
    limited.json().detail,
    new RegExp(`^rate limit of 4 requests per 1 minute exceeded; retry after ${retryAfter} seconds?$`),
    'the window, then when to retry',
  );

  const other = await get('/api/v1/controls', b.auth);
  t.equal(other.statusCode, 200, 'another organization from the same address has its own budget');
  t.equal(other.headers['x-ratelimit-remaining'], '3');

  // The budget belongs to the actor, not to one token: signing in again does not reset it.
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: b.email, password: PASSWORD } });
  t.equal(login.statusCode, 200, login.body);
  const sameUserNewToken = await get('/api/v1/controls', { authorization: `Bearer ${login.json().accessToken}` });
  t.equal(sameUserNewToken.headers['x-ratelimit-remaining'], '2', "a new token of the same user shares the user's budget");

  const anonymous = await get('/api/v1/controls', {});
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.headers['x-ratelimit-limit'], undefined, 'counted only once authenticated');
});

t.test('API keys have a budget of their own', async (t) => {
  const app = await testApp(t, { config: { limits: { apiPerMinute: 2 } } });
  const a = await signup(app);
  const created = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: 'ci', role: 'viewer' } });
  t.equal(created.statusCode, 201, created.body);
  const key = { authorization: `Bearer ${created.json().key}` };
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) codes.push((await app.inject({ method: 'GET', url: '/api/v1/frameworks', headers: key })).statusCode);
  t.same(codes, [200, 200, 429]);
  const owner = await app.inject({ method: 'GET', url: '/api/v1/frameworks', headers: a.auth });
  t.equal(owner.statusCode, 200, 'the owner used one of two (creating the key)');
  t.equal(owner.headers['x-ratelimit-remaining'], '0');
});

t.test('auth and public routes keep their own limits and say their window', async (t) => {
  const app = await testApp(t, { config: { limits: { apiPerMinute: 1000, authPerMinute: 2, publicPerMinute: 120 } } });
  const login = () => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@x.example.com', password: 'whatever-123456' } });
  const first = await login();
  t.equal(first.statusCode, 401);
  t.equal(first.headers['x-ratelimit-limit'], '2', 'per address, the auth limit');
  await login();
  const limited = await login();
  t.equal(limited.statusCode, 429);
  t.match(limited.json().detail, /^rate limit of 2 requests per 1 minute exceeded; retry after \d+ seconds?$/);

  const pub = await app.inject({ method: 'GET', url: '/api/v1/public/trust/no-such-org' });
  t.equal(pub.headers['x-ratelimit-limit'], '120', 'the public limit');
});
