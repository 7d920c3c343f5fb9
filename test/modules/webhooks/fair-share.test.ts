import t from 'tap';
import { signup, testApp } from '../../helpers/app.js';
import { LOCAL_ALLOWED, deliveries, hook, receiver, spellings, until } from './receivers.js';

t.test('with WEBHOOK_ALLOW_PRIVATE_NETWORKS: local URLs are accepted; coarse errors; a slow tenant does not starve another', async (t) => {
  const hang = await receiver(t, 'hang');
  const fine = await receiver(t, 200);
  const broken = await receiver(t, 500);
  const gone = await receiver(t);
  await gone.close(); // a closed port: nothing listens there now
  const target = await receiver(t, 200);
  const redirect = await receiver(t, 307, { location: `http://127.0.0.1:${target.port}/` });

  const timeoutMs = 6000;
  const app = await testApp(t, {
    config: LOCAL_ALLOWED,
    options: { webhooks: { worker: false, pollIntervalMs: 20, retryScheduleMs: [], timeoutMs }, expiryScanIntervalMs: 0 },
  });
  const slow = await signup(app);
  const other = await signup(app);

  t.teardown(() => app.deliveryWorker.stop());
  // Subscribed to an event that does not happen here: nothing is sent to these.
  for (const url of spellings(5432)) t.equal((await hook(app, other, url, ['evidence.expired'])).statusCode, 201, `${url} allowed`);

  // The slow tenant queues far more than a batch first, all to a receiver that never answers.
  const slowHook = (await hook(app, slow, `http://127.0.0.1:${hang.port}/`)).json();
  for (let i = 0; i < 25; i++) await app.inject({ method: 'POST', url: `/api/v1/webhooks/${slowHook.id}/test`, headers: slow.auth });
  const queue = async (url: string) => {
    const h = (await hook(app, other, url)).json();
    await app.inject({ method: 'POST', url: `/api/v1/webhooks/${h.id}/test`, headers: other.auth });
    return h.id as string;
  };
  const fineId = await queue(`http://localhost:${fine.port}/`);
  const brokenId = await queue(`http://127.0.0.1:${broken.port}/`);
  const goneId = await queue(`http://127.0.0.1:${gone.port}/`);
  const redirectId = await queue(`http://127.0.0.1:${redirect.port}/`);

  const started = Date.now();
  app.deliveryWorker.start();
  await until(() => fine.hits() === 1, timeoutMs - 1000);
  t.ok(Date.now() - started < timeoutMs, 'the other tenant was served before the slow receivers timed out');
  t.ok(hang.hits() >= 1 && hang.hits() <= 4, `the slow tenant holds at most its share of the worker (${hang.hits()} in flight)`);

  await until(async () => (await deliveries(app, other, fineId))[0]?.status === 'succeeded');
  t.match((await deliveries(app, other, fineId))[0], { lastStatusCode: 200, lastError: null });
  await until(async () => (await deliveries(app, other, brokenId))[0]?.status === 'failed');
  const br = (await deliveries(app, other, brokenId))[0];
  t.match(br, { lastStatusCode: 500, lastError: 'HTTP 500', attemptLog: [{ statusCode: 500, error: 'HTTP 500' }] });
  await until(async () => (await deliveries(app, other, goneId))[0]?.status === 'failed');
  t.match(
    (await deliveries(app, other, goneId))[0],
    {
      lastStatusCode: null,
      lastError: 'connection failed',
      attemptLog: [{ statusCode: null, durationMs: 0, error: 'connection failed' }],
    },
    'a closed port says only "connection failed": no errno, no port, no timing',
  );

  await until(async () => (await deliveries(app, other, redirectId))[0]?.status === 'failed');
  t.match((await deliveries(app, other, redirectId))[0], { lastStatusCode: 307, lastError: 'HTTP 307' });
  t.equal(target.hits(), 0, 'a redirect is not followed');

  await until(async () => (await deliveries(app, slow, slowHook.id)).some((d: { status: string }) => d.status === 'failed'), timeoutMs * 3);
  const timedOut = (await deliveries(app, slow, slowHook.id)).find((d: { status: string }) => d.status === 'failed');
  t.match(timedOut, { lastStatusCode: null, lastError: 'timed out', attemptLog: [{ durationMs: 0, error: 'timed out' }] });

  await hang.close();
  await app.deliveryWorker.stop();
});
