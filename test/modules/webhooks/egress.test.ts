import t from 'tap';
import { and, eq } from 'drizzle-orm';
import { isPublicAddress } from '../../../src/modules/webhooks/egress.js';
import type * as Egress from '../../../src/modules/webhooks/egress.js';
import { webhookEndpoints } from '../../../src/modules/webhooks/tables.js';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { signup, testApp } from '../../helpers/app.js';
import { deliveries, hook, receiver, spellings, until } from './receivers.js';

t.test('WEBHOOK_ALLOW_PRIVATE_NETWORKS is off unless set, and validated', async (t) => {
  t.equal(loadConfig({}).webhooks.allowPrivateNetworks, false);
  t.equal(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }).webhooks.allowPrivateNetworks, true);
  t.throws(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'sometimes' }), ConfigError);
});

t.test('address classification', async (t) => {
  for (const a of [
    '127.0.0.1',
    '::1',
    '0.0.0.0',
    '::',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.0.1',
    '100.64.0.1',
    '169.254.169.254',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    '224.0.0.1',
    'ff02::1',
    '255.255.255.255',
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '198.18.0.1',
    '240.0.0.1',
    '2001:db8::1',
    '::ffff:7f00:1',
    '::ffff:8.8.8.8',
    '::7f00:1',
    '64:ff9b::a00:1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '2001::1',
    'not-an-address',
  ]) {
    t.notOk(isPublicAddress(a), `${a} is refused`);
  }
  for (const a of ['8.8.8.8', '93.184.215.14', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '64:ff9b::808:808']) {
    t.ok(isPublicAddress(a), `${a} is public`);
  }
});

t.test('a name answering with any non-public address is refused, when saved and when sending', async (t) => {
  // An attacker's DNS: one public address to pass a check, one private to be connected to.
  const answer = [
    { address: '93.184.215.14', family: 4 },
    { address: '10.0.0.5', family: 4 },
  ];
  const fakeDns = {
    lookup: (_host: string, _opts: unknown, cb: (err: null, a: typeof answer) => void) => setImmediate(() => cb(null, answer)),
    promises: { lookup: async () => answer },
  };
  const egress = await t.mockImport<typeof Egress>('../../../src/modules/webhooks/egress.js', {
    'node:dns': { ...fakeDns, default: fakeDns },
  });
  const policy = { allowPrivateNetworks: false };
  t.equal(await egress.checkUrlOnSave(new URL('https://rebind.attacker.test/'), policy), false);
  const sent = await egress.postUnderPolicy('https://rebind.attacker.test/', { headers: {}, body: '{}', timeoutMs: 2000, maxResponseBytes: 10, policy });
  t.match(sent, { ok: false, error: 'refused by egress policy' });
});

t.test('non-public URLs are refused when saved, in every spelling', async (t) => {
  const app = await testApp(t, { options: { webhooks: { worker: false }, expiryScanIntervalMs: 0 } });
  const a = await signup(app);
  const extra = [
    'http://172.16.5.4/',
    'http://100.64.0.1/',
    'http://[fc00::1]/',
    'http://[fe80::1]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[::]/',
    'http://[64:ff9b::a00:1]/',
    'http://[::127.0.0.1]/',
    'http://198.51.100.7/',
    'http://0/',
  ];
  for (const url of [...spellings(5432), ...extra]) {
    const res = await hook(app, a, url);
    t.equal(res.statusCode, 400, `${url} refused`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ field: 'body/url', message: /public internet host/ }] });
  }
  const ok = await hook(app, a, 'https://hooks.example.com/in'); // does not resolve here: checked again at send time
  t.equal(ok.statusCode, 201);
  for (const url of ['https://93.184.215.14/in', 'https://[2606:4700:4700::1111]/in', 'https://[64:ff9b::808:808]/in']) {
    t.equal((await hook(app, a, url)).statusCode, 201, `${url} is public`);
  }
  const patch = await app.inject({ method: 'PATCH', url: `/api/v1/webhooks/${ok.json().id}`, headers: a.auth, payload: { url: 'http://0x7f000001:3000/' } });
  t.equal(patch.statusCode, 400, 'PATCH checks too');
  t.match(patch.json(), { code: 'validation_failed', errors: [{ field: 'body/url' }] });
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/webhooks/${ok.json().id}`, headers: a.auth })).json().url, 'https://hooks.example.com/in');
});

t.test('a stored non-public URL is refused again at send time, before any connection', async (t) => {
  const rx = await receiver(t);
  const app = await testApp(t, { options: { webhooks: { pollIntervalMs: 20, retryScheduleMs: [], timeoutMs: 2000 }, expiryScanIntervalMs: 0 } });
  const a = await signup(app);
  const ids: string[] = [];
  for (const url of spellings(rx.port)) {
    const created = await hook(app, a, 'https://hooks.example.com/in');
    // As if saved before the policy existed, or a name that resolved elsewhere when saved (DNS rebinding).
    await app.database.db
      .update(webhookEndpoints)
      .set({ url })
      .where(and(eq(webhookEndpoints.orgId, a.orgId), eq(webhookEndpoints.id, created.json().id)));
    await app.inject({ method: 'POST', url: `/api/v1/webhooks/${created.json().id}/test`, headers: a.auth });
    ids.push(created.json().id);
  }
  for (const [i, id] of ids.entries()) {
    await until(async () => (await deliveries(app, a, id))[0]?.status === 'failed');
    const [d] = await deliveries(app, a, id);
    t.match(
      d,
      { lastError: 'refused by egress policy', lastStatusCode: null, attemptLog: [{ statusCode: null, durationMs: 0, error: 'refused by egress policy' }] },
      spellings(rx.port)[i]!,
    );
  }
  t.equal(rx.hits(), 0, 'nothing reached the local receiver');
});
