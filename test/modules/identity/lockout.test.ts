import t from 'tap';
import { buildApp } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config.js';
import type { Database } from '../../../src/db/client.js';
import { loginThrottle } from '../../../src/modules/identity/tables.js';
import { PASSWORD, manualClock, signup, testApp } from '../../helpers/app.js';

t.test('per-account lock-out after repeated failed logins', async (t) => {
  const time = manualClock();
  // A high per-address limit: this test is about the account, not the address.
  const app = await testApp(t, { clock: time.clock, config: { limits: { authPerMinute: 10_000 } } });
  const a = await signup(app, 'lock');
  const login = (email: string, password: string) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });

  await t.test('five failures, then 429 with Retry-After even for the right password', async (t) => {
    for (let i = 0; i < 5; i++) t.equal((await login(a.email, `Wrong-Guess-${i}-zebra`)).statusCode, 401, `failure ${i + 1}`);
    const locked = await login(a.email, 'Wrong-Guess-6-zebra');
    t.equal(locked.statusCode, 429);
    t.equal(locked.json().code, 'rate_limited');
    t.match(locked.headers['content-type'], /problem\+json/);
    t.equal(locked.headers['retry-after'], '900', 'says when to retry');
    const right = await login(a.email.toUpperCase(), PASSWORD);
    t.equal(right.statusCode, 429, 'the right password waits too (any spelling of the email)');
    t.equal((await login('someone-else@lock.example.com', 'Wrong-Guess-1-zebra')).statusCode, 401, 'other accounts are unaffected');
    time.advance(600_000);
    const later = await login(a.email, PASSWORD);
    t.equal(later.statusCode, 429);
    t.equal(later.headers['retry-after'], '300', 'the lock does not grow while waiting');
    time.advance(300_000);
    t.equal((await login(a.email, PASSWORD)).statusCode, 200, 'the lock ends');
  });

  await t.test('an unknown email is throttled exactly the same way', async (t) => {
    const ghost = 'nobody-here@lock.example.com';
    for (let i = 0; i < 5; i++) t.equal((await login(ghost, `Wrong-Guess-${i}-zebra`)).statusCode, 401);
    const locked = await login(ghost, 'Wrong-Guess-6-zebra');
    t.equal(locked.statusCode, 429);
    t.equal(locked.headers['retry-after'], '900');
  });

  await t.test('a success resets the count', async (t) => {
    const b = await signup(app, 'lock');
    for (let i = 0; i < 4; i++) t.equal((await login(b.email, `Wrong-Guess-${i}-zebra`)).statusCode, 401);
    t.equal((await login(b.email, PASSWORD)).statusCode, 200);
    for (let i = 0; i < 5; i++) t.equal((await login(b.email, `Wrong-Guess-${i}-zebra`)).statusCode, 401, 'counting starts again');
    t.equal((await login(b.email, PASSWORD)).statusCode, 429);
  });

  await t.test('failures spread over more than the window do not add up', async (t) => {
    const c = await signup(app, 'lock');
    for (let i = 0; i < 4; i++) t.equal((await login(c.email, `Wrong-Guess-${i}-zebra`)).statusCode, 401);
    time.advance(901_000);
    for (let i = 0; i < 5; i++) t.equal((await login(c.email, `Wrong-Guess-${i}-zebra`)).statusCode, 401);
    t.equal((await login(c.email, PASSWORD)).statusCode, 429);
  });

  await t.test('the count lives in the database: a second replica sees the lock', async (t) => {
    const d = await signup(app, 'lock');
    for (let i = 0; i < 5; i++) t.equal((await login(d.email, `Wrong-Guess-${i}-zebra`)).statusCode, 401);
    const shared: Database = {
      kind: app.database.kind,
      db: app.database.db,
      migrate: () => app.database.migrate(),
      ping: () => app.database.ping(),
      close: async () => {},
    };
    const replica = await buildApp({
      config: defaultConfig({ dataDir: t.testdir({}), seedDemo: false, limits: { authPerMinute: 10_000 } }),
      database: shared,
      logger: false,
      clock: time.clock,
    });
    t.teardown(() => replica.close());
    const r = await replica.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: d.email, password: PASSWORD } });
    t.equal(r.statusCode, 429);
    const rows = await app.database.db.select().from(loginThrottle);
    t.notOk(
      rows.some((row) => JSON.stringify(row).includes('@')),
      'emails are stored hashed',
    );
  });

  await t.test('accepting an invitation into an existing account counts towards the same lock', async (t) => {
    const e = await signup(app, 'lock');
    const other = await signup(app, 'lock');
    const inv = await app.inject({ method: 'POST', url: '/api/v1/members', headers: other.auth, payload: { email: e.email, role: 'viewer' } });
    t.equal(inv.statusCode, 201, inv.body);
    const token = inv.json().invitation.token;
    for (let i = 0; i < 5; i++) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/auth/accept-invitation', payload: { token, password: `Wrong-Guess-${i}-zebra` } });
      t.equal(r.statusCode, 401);
    }
    const locked = await app.inject({ method: 'POST', url: '/api/v1/auth/accept-invitation', payload: { token, password: PASSWORD } });
    t.equal(locked.statusCode, 429, 'the invitation is no way around the lock');
    t.equal((await login(e.email, PASSWORD)).statusCode, 429);
  });

  await t.test('expired rows are swept', async (t) => {
    time.advance(3 * 900_000);
    await login('sweeper@lock.example.com', 'Wrong-Guess-1-zebra');
    const left = await app.database.db.select().from(loginThrottle);
    t.same(
      left.map((r) => r.failures),
      [1],
      'only the fresh row is left',
    );
  });
});
