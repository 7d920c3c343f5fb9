import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { memberWithRole, signup, testApp } from '../../helpers/app.js';

/** A local identity provider: OpenID configuration and JWKS on 127.0.0.1. */
async function identityProvider(t: Test) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    if (req.url === '/jwks') return res.end(JSON.stringify({ keys: [jwk] }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  // An RFC 9068 access token unless told otherwise (typ: null leaves the header without one).
  const token = (claims: Record<string, unknown>, opts: { iss?: string; aud?: string; key?: Parameters<SignJWT['sign']>[0]; typ?: string | null } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1', ...(opts.typ === null ? {} : { typ: opts.typ ?? 'at+jwt' }) })
      .setIssuer(opts.iss ?? issuer)
      .setAudience(opts.aud ?? 'trustcenter')
      .setSubject('idp-user-1')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(opts.key ?? privateKey);
  return { issuer, token };
}

t.test('access tokens from an external OpenID Connect issuer', async (t) => {
  const idp = await identityProvider(t);
  const app = await testApp(t, { config: { sso: { issuer: idp.issuer, audience: 'trustcenter', jwksUrl: undefined, orgClaim: 'org', emailClaim: 'email' } } });
  const a = await signup(app, 'sso');
  const editor = await memberWithRole(app, a, 'editor');
  const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });

  const ok = await me(await idp.token({ email: editor.email.toUpperCase(), email_verified: true, org: a.slug }));
  t.equal(ok.statusCode, 200, ok.body);
  t.match(ok.json(), { role: 'editor', organization: { slug: a.slug }, user: { email: editor.email } });

  t.equal((await me(await idp.token({ email: 'stranger@example.com', email_verified: true, org: a.slug }))).statusCode, 401, 'no membership, no access');
  t.equal((await me(await idp.token({ email: editor.email, email_verified: true, org: 'someone-else' }))).statusCode, 401, 'another organization');
  t.equal((await me(await idp.token({ email: editor.email, email_verified: true }))).statusCode, 401, 'missing org claim');
  t.equal((await me(await idp.token({ email: editor.email, email_verified: true, org: a.slug }, { aud: 'other-app' }))).statusCode, 401, 'wrong audience');
  const { privateKey: rogue } = await generateKeyPair('RS256');
  t.equal((await me(await idp.token({ email: editor.email, email_verified: true, org: a.slug }, { key: rogue }))).statusCode, 401, 'signed by another key');
  t.equal(
    (await me(await idp.token({ email: editor.email, email_verified: true, org: a.slug }, { iss: 'https://unknown-issuer.example.com', key: rogue })))
      .statusCode,
    401,
    'unknown issuer',
  );
  t.equal((await me(a.token)).statusCode, 200, 'our own tokens still work');

  await t.test('only access tokens: the header must say typ at+jwt (RFC 9068)', async (t) => {
    const claims = { email: editor.email, email_verified: true, org: a.slug };
    const idToken = await me(await idp.token({ ...claims, nonce: 'n-0S6_WzA2Mj' }, { typ: 'JWT' }));
    t.equal(idToken.statusCode, 401, 'an ID token is refused');
    t.match(idToken.json().detail, /at\+jwt/);
    t.equal((await me(await idp.token(claims, { typ: null }))).statusCode, 401, 'no typ at all');
    t.equal((await me(await idp.token(claims, { typ: 'application/at+jwt' }))).statusCode, 200, 'the media-type spelling counts');
  });

  await t.test('the email claim must be verified', async (t) => {
    const unverified = await me(await idp.token({ email: editor.email, email_verified: false, org: a.slug }));
    t.equal(unverified.statusCode, 401);
    t.match(unverified.json().detail, /email_verified/);
    t.equal((await me(await idp.token({ email: editor.email, org: a.slug }))).statusCode, 401, 'missing email_verified');
    t.equal((await me(await idp.token({ email: editor.email, email_verified: 'yes', org: a.slug }))).statusCode, 401, 'only true counts');
  });
});

t.test('a custom person claim is trusted as the operator configured it', async (t) => {
  const idp = await identityProvider(t);
  const app = await testApp(t, { config: { sso: { issuer: idp.issuer, audience: 'trustcenter', jwksUrl: undefined, orgClaim: 'org', emailClaim: 'upn' } } });
  const a = await signup(app, 'sso');
  const ok = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${await idp.token({ upn: a.email, org: a.slug })}` } });
  t.equal(ok.statusCode, 200, ok.body);
  t.match(ok.json(), { role: 'owner' });
});
