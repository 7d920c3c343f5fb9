import t, { type Test } from 'tap';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config.js';
import { memberWithRole, signup, testApp } from '../../helpers/app.js';
import { durableDatabase } from '../../helpers/db.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 whose answers the test scripts. */
async function receiver(t: Test, answer: (n: number) => number | 'hang' = () => 200) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      const a = answer(got.length);
      if (a === 'hang') return; // never answers: the sender must time out
      res.writeHead(a, { 'content-type': 'text/plain' });
      res.end(a === 200 ? 'ok' : 'nope'.repeat(5000));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

function verify(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const want = createHmac('sha256', key).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`).digest('base64');
  return String(r.headers['webhook-signature']).split(' ').includes(`v1,${want}`);
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const answer = { applicable: true, status: 'implemented', implementation: 'x', responsibility: 'provider' };
const fast = { retryScheduleMs: [60, 60, 60], pollIntervalMs: 20, timeoutMs: 500 };
/** The receivers here listen on 127.0.0.1, which the egress policy refuses unless configured to allow it. */
const LOCAL_RECEIVERS = { webhooks: { requireHttps: false, allowPrivateNetworks: true } };

t.test('webhook endpoints', async (t) => {
  const app = await testApp(t, { options: { webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);
  const create = (payload: object, who = a) => app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: who.auth, payload });

  const ok = await create({ url: 'https://hooks.example.com/in', events: ['control.updated', 'evidence.expired'] });
  t.equal(ok.statusCode, 201);
  t.match(ok.json().secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const id = ok.json().id;
  const list = await app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: a.auth });
  t.notOk(JSON.stringify(list.json()).includes(ok.json().secret), 'the secret is shown once');

  t.equal((await create({ url: 'https://user:pw@hooks.example.com/', events: ['control.updated'] })).statusCode, 400, 'no credentials in URLs');
  t.equal((await create({ url: 'ftp://hooks.example.com/', events: ['control.updated'] })).statusCode, 400);
  t.equal((await create({ url: 'https://hooks.example.com/', events: ['everything.happened'] })).statusCode, 400);
  t.equal((await create({ url: 'https://hooks.example.com/', events: [] })).statusCode, 400);

  const patch = await app.inject({ method: 'PATCH', url: `/api/v1/webhooks/${id}`, headers: a.auth, payload: { enabled: false, events: ['*'] } });
  t.match(patch.json(), { enabled: false, events: ['*'] });

  t.equal((await app.inject({ method: 'GET', url: `/api/v1/webhooks/${id}`, headers: b.auth })).statusCode, 404, 'cross-tenant');
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${id}`, headers: b.auth })).statusCode, 404);
  const editor = await memberWithRole(app, a, 'editor');
  t.equal((await create({ url: 'https://hooks.example.com/', events: ['*'] }, editor)).statusCode, 403, 'admins manage webhooks');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/webhooks' })).statusCode, 401);
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${id}`, headers: a.auth })).statusCode, 204);
});

t.test('signed delivery, retries with backoff, and the delivery log', async (t) => {
  const rx = await receiver(t, (n) => (n <= 2 ? 500 : 200));
  const app = await testApp(t, { config: LOCAL_RECEIVERS, options: { webhooks: fast } });
  await app.ready();
  const a = await signup(app);
  const hook = (await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: a.auth, payload: { url: rx.url, events: ['control.updated'] } })).json();

  await app.inject({ method: 'PUT', url: '/api/v1/controls/A.8.5', headers: a.auth, payload: answer });
  await until(() => rx.got.length >= 3);
  const [first, , last] = rx.got;
  t.ok(verify(hook.secret, last!), 'webhook-signature verifies (Standard Webhooks v1)');
  t.equal(first!.headers['webhook-id'], last!.headers['webhook-id'], 'the same message id on every attempt');
  t.match(JSON.parse(last!.body), { type: 'control.updated', data: { ref: 'A.8.5', framework: 'iso27001-2022', version: 1 } });

  await until(
    async () => (await app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: a.auth })).json().items[0]?.status === 'succeeded',
  );
  const d = (await app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: a.auth })).json().items[0];
  t.equal(d.attempts, 3);
  t.same(
    d.attemptLog.map((x: { statusCode: number }) => x.statusCode),
    [500, 500, 200],
  );

  t.test('an event nobody subscribed to is not sent', async (t) => {
    const before = rx.got.length;
    await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/test`, headers: a.auth });
    await until(() => rx.got.length === before + 1);
    t.equal(JSON.parse(rx.got.at(-1)!.body).type, 'webhook.test', 'only the explicit test went out');
  });

  t.test('rotation: both secrets sign for a while', async (t) => {
    const rotated = (await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/rotate-secret`, headers: a.auth })).json();
    t.not(rotated.secret, hook.secret);
    const before = rx.got.length;
    await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/test`, headers: a.auth });
    await until(() => rx.got.length === before + 1);
    const r = rx.got.at(-1)!;
    t.ok(verify(rotated.secret, r) && verify(hook.secret, r));
  });
});

t.test('a delivery that keeps failing ends failed; redeliver sends it again', async (t) => {
  let healthy = false;
  const rx = await receiver(t, () => (healthy ? 200 : 503));
  const app = await testApp(t, { config: LOCAL_RECEIVERS, options: { webhooks: { ...fast, retryScheduleMs: [30] } } });
  await app.ready();
  const a = await signup(app);
  const hook = (await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: a.auth, payload: { url: rx.url, events: ['*'] } })).json();
  await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/test`, headers: a.auth });
  const deliveries = async () => (await app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: a.auth })).json().items;
  await until(async () => (await deliveries())[0]?.status === 'failed');
  t.equal((await deliveries())[0].attempts, 2);
  t.equal((await deliveries())[0].lastError, 'HTTP 503', 'a coarse reason, the status the receiver gave');
  healthy = true;
  const again = await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/deliveries/${(await deliveries())[0].id}/redeliver`, headers: a.auth });
  t.equal(again.statusCode, 202);
  await until(async () => (await deliveries())[0]?.status === 'succeeded');
  t.equal(rx.got.length, 3);
});

t.test('a redelivery gets the whole retry schedule again, and the log keeps every attempt', async (t) => {
  // The receiver fails the first three requests: the two of the first delivery, then the
  // redelivery's first try; the redelivery's retry succeeds.
  let calls = 0;
  const rx = await receiver(t, () => (++calls <= 3 ? 503 : 200));
  const app = await testApp(t, { config: LOCAL_RECEIVERS, options: { webhooks: { ...fast, retryScheduleMs: [30] } } });
  await app.ready();
  const a = await signup(app);
  const hook = (await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: a.auth, payload: { url: rx.url, events: ['*'] } })).json();
  await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/test`, headers: a.auth });
  const deliveries = async () => (await app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: a.auth })).json().items;
  await until(async () => (await deliveries())[0]?.status === 'failed');
  const again = await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/deliveries/${(await deliveries())[0].id}/redeliver`, headers: a.auth });
  t.equal(again.statusCode, 202);
  await until(async () => ['succeeded', 'failed'].includes((await deliveries())[0]?.status) && calls >= 3);
  const d = (await deliveries())[0];
  t.equal(d.status, 'succeeded', 'the redelivery retried after its first failure instead of giving up');
  t.equal(d.attempts, 4);
  t.same(
    d.attemptLog.map((x: { attempt: number; statusCode: number }) => [x.attempt, x.statusCode]),
    [
      [1, 503],
      [2, 503],
      [3, 503],
      [4, 200],
    ],
  );
});

t.test('a receiver that hangs is timed out', async (t) => {
  const rx = await receiver(t, () => 'hang');
  const app = await testApp(t, { config: LOCAL_RECEIVERS, options: { webhooks: { ...fast, retryScheduleMs: [], timeoutMs: 200 } } });
  await app.ready();
  const a = await signup(app);
  const hook = (await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: a.auth, payload: { url: rx.url, events: ['*'] } })).json();
  await app.inject({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/test`, headers: a.auth });
  await until(
    async () => (await app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: a.auth })).json().items[0]?.status === 'failed',
  );
  const d = (await app.inject({ method: 'GET', url: `/api/v1/webhooks/${hook.id}/deliveries`, headers: a.auth })).json().items[0];
  t.equal(d.lastError, 'timed out');
});

t.test('deliveries survive a restart mid-retry, without duplicates', async (t) => {
  let healthy = false;
  const rx = await receiver(t, () => (healthy ? 200 : 500));
  const dir = t.testdir({});
  const db = await durableDatabase(dir);
  t.teardown(db.drop);
  const config = defaultConfig({ dataDir: dir, seedDemo: false, ...LOCAL_RECEIVERS });
  const slow = { retryScheduleMs: [400], pollIntervalMs: 20, timeoutMs: 500 };

  const first = await buildApp({ config, database: await db.open(), logger: false, webhooks: slow });
  await first.ready();
  const a = await signup(first);
  await first.inject({ method: 'POST', url: '/api/v1/webhooks', headers: a.auth, payload: { url: rx.url, events: ['control.updated'] } });
  await first.inject({ method: 'PUT', url: '/api/v1/controls/A.5.1', headers: a.auth, payload: answer });
  await until(() => rx.got.length === 1);
  await first.close(); // the process goes away with the retry still pending

  healthy = true;
  const second = await buildApp({ config, database: await db.open(), logger: false, webhooks: slow });
  t.teardown(() => second.close());
  await second.ready();
  await until(() => rx.got.length === 2);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(rx.got.length, 2, 'delivered once after the restart, not again');
  t.equal(rx.got[0]!.headers['webhook-id'], rx.got[1]!.headers['webhook-id']);
});
