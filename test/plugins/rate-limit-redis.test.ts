import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.js';
import { defaultConfig, loadConfig } from '../../src/config.js';
import { testApp } from '../helpers/app.js';
import { freshDatabase } from '../helpers/db.js';

// Two replicas with REDIS_URL count against one budget: an attacker who spreads login attempts
// over both gets no more than one replica allows. Needs Redis at 127.0.0.1:6379 (.ci/run starts
// it); without it this test FAILS, never skips.
const REDIS_URL = 'redis://127.0.0.1:6379';

t.test('two replicas share their rate-limit counters through Redis', async (t) => {
  const keyPrefix = `test-${randomBytes(6).toString('hex')}:`;
  const config = { redis: { url: REDIS_URL, keyPrefix }, limits: { authPerMinute: 3 } };
  const a = await testApp(t, { config });
  const b = await testApp(t, { config });
  const login = (app: typeof a) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@example.com', password: 'Not-The-Password-1' } });

  // Three attempts spread over both replicas use the whole budget of one address.
  const codes = [(await login(a)).statusCode, (await login(b)).statusCode, (await login(a)).statusCode];
  t.same(codes, [401, 401, 401], 'wrong passwords, within the budget');
  const fourth = await login(b);
  t.equal(fourth.statusCode, 429, 'the fourth attempt is refused, on the replica that saw only one');
  t.equal(fourth.json().code, 'rate_limited');
  t.equal(fourth.headers['x-ratelimit-limit'], '3');

  const redis = new Redis(REDIS_URL);
  t.teardown(() => redis.quit());
  const keys = await redis.keys(`${keyPrefix}*`);
  t.ok(keys.length > 0 && keys.every((k) => k.startsWith(`${keyPrefix}rate-limit:`)), `counters under the deployment's prefix (${keys.join(', ')})`);
  if (keys.length > 0) await redis.del(...keys);
});

t.test('an unreachable REDIS_URL is a clear start-up error', async (t) => {
  const { database, drop } = await freshDatabase();
  t.teardown(drop);
  const config = defaultConfig({ dataDir: t.testdir({}), seedDemo: false, redis: { url: 'redis://127.0.0.1:1', keyPrefix: 'x:' } });
  await t.rejects(buildApp({ config, database, logger: false }), /REDIS_URL: cannot reach Redis/);
});

t.test('REDIS_URL must be a redis: or rediss: URL', async (t) => {
  t.throws(() => loadConfig({ REDIS_URL: 'http://cache.example.com' }), /REDIS_URL must be a redis: or rediss: URL/);
  t.same(loadConfig({ REDIS_URL: 'rediss://cache.example.com:6380', REDIS_KEY_PREFIX: 'eu1:' }).redis, {
    url: 'rediss://cache.example.com:6380',
    keyPrefix: 'eu1:',
  });
  t.same(loadConfig({}).redis, { url: undefined, keyPrefix: 'trustcenter:' }, 'unset: counted per process');
});
