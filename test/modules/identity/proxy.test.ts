import t from 'tap';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { PASSWORD, signup, testApp } from '../../helpers/app.js';

t.test('TRUST_PROXY', async (t) => {
  t.equal(loadConfig({}).trustProxy, false, 'off by default');
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,loopback' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', 'loopback']);
  t.throws(() => loadConfig({ TRUST_PROXY: 'the-load-balancer' }), ConfigError);
  t.throws(() => loadConfig({ TRUST_PROXY: '2' }), ConfigError, 'hop counts are refused (fastify trusts nothing with one)');

  const attempt = (app: Awaited<ReturnType<typeof testApp>>, from: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: `x-${from}@y.example.com`, password: 'whatever-123456' },
      headers: { 'x-forwarded-for': from },
    });

  await t.test('off: the forwarded address is ignored, every caller behind the proxy shares one limit', async (t) => {
    const app = await testApp(t, { config: { limits: { authPerMinute: 2 } } });
    t.same(
      [(await attempt(app, '203.0.113.1')).statusCode, (await attempt(app, '203.0.113.2')).statusCode, (await attempt(app, '203.0.113.3')).statusCode],
      [401, 401, 429],
    );
  });

  await t.test('on: each client behind the proxy has its own limit', async (t) => {
    const app = await testApp(t, { config: { trustProxy: ['127.0.0.1'], limits: { authPerMinute: 2 } } });
    t.same(
      [(await attempt(app, '203.0.113.1')).statusCode, (await attempt(app, '203.0.113.1')).statusCode, (await attempt(app, '203.0.113.1')).statusCode],
      [401, 401, 429],
    );
    t.equal((await attempt(app, '203.0.113.2')).statusCode, 401, 'another client is not limited by the first');
  });
});

t.test('invitations refuse weak passwords and name the field', async (t) => {
  const app = await testApp(t);
  const a = await signup(app, 'inv');
  const inv = await app.inject({ method: 'POST', url: '/api/v1/members', headers: a.auth, payload: { email: 'new-person@inv.example.com', role: 'viewer' } });
  const token = inv.json().invitation.token;
  const weak = await app.inject({ method: 'POST', url: '/api/v1/auth/accept-invitation', payload: { token, password: 'Password123!' } });
  t.equal(weak.statusCode, 400);
  t.equal(weak.json().code, 'weak_password');
  t.same(
    weak.json().errors.map((e: { field: string }) => e.field),
    ['body/password'],
  );
  const ok = await app.inject({ method: 'POST', url: '/api/v1/auth/accept-invitation', payload: { token, password: PASSWORD } });
  t.equal(ok.statusCode, 201);
});
