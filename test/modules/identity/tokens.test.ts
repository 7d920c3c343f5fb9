import t from 'tap';
import { SignJWT, generateKeyPair, UnsecuredJWT } from 'jose';
import { manualClock, signup, testApp } from '../../helpers/app.js';

const kidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()).kid;

t.test('access tokens', async (t) => {
  const time = manualClock();
  const app = await testApp(t, { clock: time.clock });
  const a = await signup(app);
  const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });

  t.equal((await me(a.token)).statusCode, 200, 'fresh token works');

  t.test('JWKS publishes the public key only', async (t) => {
    const r = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    t.equal(r.statusCode, 200);
    const [key] = r.json().keys;
    t.match(key, { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    t.notOk('d' in key, 'no private part');
  });

  t.test('garbage and missing tokens', async (t) => {
    const garbage = await me('not-a-token');
    t.equal(garbage.statusCode, 401);
    t.equal(garbage.json().code, 'unauthenticated');
    t.match(garbage.headers['www-authenticate'], /invalid_token/);
    const none = await app.inject({ method: 'GET', url: '/api/v1/me' });
    t.equal(none.statusCode, 401);
    const basic = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Basic abc' } });
    t.equal(basic.statusCode, 401);
  });

  t.test('alg none is refused', async (t) => {
    const unsigned = new UnsecuredJWT({ sub: a.userId, org: a.orgId })
      .setIssuer('http://localhost:3000')
      .setAudience('trustcenter-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .encode();
    t.equal((await me(unsigned)).statusCode, 401);
  });

  t.test('a token signed by another key is refused, even with a known kid', async (t) => {
    const { privateKey } = await generateKeyPair('ES256');
    const kid = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys[0].kid;
    const forged = await new SignJWT({ sub: a.userId, org: a.orgId })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer('http://localhost:3000')
      .setAudience('trustcenter-api')
      .setIssuedAt(Math.floor(time.clock().getTime() / 1000))
      .setExpirationTime(Math.floor(time.clock().getTime() / 1000) + 600)
      .sign(privateKey);
    t.equal((await me(forged)).statusCode, 401);
  });

  t.test('a token for another audience is refused', async (t) => {
    const other = await testApp(t, {
      clock: time.clock,
      config: { auth: { issuer: 'http://localhost:3000', audience: 'someone-else', accessTokenTtlSeconds: 3600, signingKeyPem: undefined } },
    });
    const b = await signup(other);
    t.equal((await me(b.token)).statusCode, 401);
  });

  t.test('rotation keeps old tokens valid; retiring a key ends them', async (t) => {
    const before = a.token;
    await app.keys.rotate();
    t.equal(app.keys.jwks().keys.length, 2);
    t.equal((await me(before)).statusCode, 200, 'token signed by the previous key still works');
    const fresh = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: 'Correct-Horse-Battery-9' } });
    const newToken = fresh.json().accessToken;
    const oldKid = kidOf(before);
    t.not(kidOf(newToken), oldKid, 'new tokens use the new key');
    await app.keys.retire(oldKid);
    t.equal((await me(before)).statusCode, 401);
    t.equal((await me(newToken)).statusCode, 200);
  });

  t.test('expired token', async (t) => {
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: 'Correct-Horse-Battery-9' } });
    const token = login.json().accessToken;
    time.advance(3601 * 1000);
    const r = await me(token);
    t.equal(r.statusCode, 401);
    t.match(r.json().detail, /expired/);
  });
});

t.test('signing keys survive a restart in DATA_DIR', async (t) => {
  const { KeyRing } = await import('../../../src/modules/identity/keys.js');
  const dir = t.testdir({});
  const opts = { dir, issuer: 'i', audience: 'a', ttlSeconds: 60, clock: () => new Date() };
  const first = await KeyRing.open(opts);
  const { token } = await first.sign({ sub: 'u1' });
  const second = await KeyRing.open(opts);
  t.same(second.jwks(), first.jwks(), 'same key loaded, none generated');
  t.equal((await second.verify(token)).sub, 'u1');
});

t.test('a configured PEM key signs', async (t) => {
  const { exportPKCS8 } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const app = await testApp(t, {
    config: { auth: { issuer: 'http://localhost:3000', audience: 'trustcenter-api', accessTokenTtlSeconds: 3600, signingKeyPem: pem } },
  });
  const a = await signup(app);
  t.equal(app.keys.jwks().keys.length, 1);
  t.match(app.keys.jwks().keys[0]!.kid, /^cfg-/);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: a.auth })).statusCode, 200);
});
