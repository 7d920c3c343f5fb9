// Two replicas on one database and one Redis: a trust-page change made on A is served by B at once,
// not when B's cached copy expires. Needs Redis at 127.0.0.1:6379 (.ci/run starts it); without it
// this test FAILS, never skips.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Redis } from 'ioredis';
import { buildApp, type App } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config.js';
import { openDatabase } from '../../../src/db/client.js';
import { signup } from '../../helpers/app.js';
import { freshDatabase } from '../../helpers/db.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

t.test('a trust-page change on one replica reaches the cached page of the other at once', async (t) => {
  const fresh = await freshDatabase();
  if (!fresh.url) throw new Error('two replicas need a PostgreSQL server: run under npm test (DATABASE_URL or the embedded server)');
  const keyPrefix = `cache-${randomBytes(6).toString('hex')}:`;
  const replica = async (database: Awaited<ReturnType<typeof openDatabase>>): Promise<App> => {
    const app = await buildApp({
      // The cache keeps a page 60 s: within the two seconds allowed below, only the broadcast can make B drop its copy.
      config: defaultConfig({ dataDir: t.testdir({}), seedDemo: false, redis: { url: REDIS_URL, keyPrefix } }),
      database,
      logger: false,
    });
    return app;
  };
  const a = await replica(fresh.database);
  const b = await replica(await openDatabase({ url: fresh.url, poolMax: 2 }));
  t.teardown(async () => {
    await a.close();
    await b.close();
    await fresh.drop();
  });

  const tenant = await signup(a, 'replicated-page');
  const put = (payload: object) => a.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: tenant.auth, payload });
  t.equal((await put({ published: true, headline: 'First words' })).statusCode, 200);
  const page = () => b.inject({ method: 'GET', url: `/api/v1/public/trust/${tenant.slug}` });
  t.equal((await page()).json().headline, 'First words', 'B builds and caches the page');
  t.equal((await page()).json().headline, 'First words', 'and serves it from its cache');

  t.equal((await put({ headline: 'Second words' })).statusCode, 200, 'changed on A');
  let seen = '';
  for (let i = 0; i < 40 && seen !== 'Second words'; i++) {
    seen = (await page()).json().headline;
    if (seen !== 'Second words') await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(seen, 'Second words', 'B serves the change within two seconds, long before its cached copy expires');

  t.equal((await put({ published: false })).statusCode, 200, 'unpublished on A');
  let status = 200;
  for (let i = 0; i < 40 && status !== 404; i++) {
    status = (await page()).statusCode;
    if (status !== 404) await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(status, 404, 'B stops serving an unpublished page');

  // Another organization's cached page on B is untouched by A's changes.
  const other = await signup(b, 'other-page');
  t.equal(
    (await b.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: other.auth, payload: { published: true, headline: 'Unrelated' } })).statusCode,
    200,
  );
  t.equal((await b.inject({ method: 'GET', url: `/api/v1/public/trust/${other.slug}` })).json().headline, 'Unrelated');

  const redis = new Redis(REDIS_URL);
  t.teardown(() => redis.quit());
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
});
