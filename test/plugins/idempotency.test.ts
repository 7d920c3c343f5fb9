import t from 'tap';
import { manualClock, signup, testApp } from '../helpers/app.js';
import { multipart } from '../helpers/multipart.js';

t.test('Idempotency-Key', async (t) => {
  const time = manualClock();
  const app = await testApp(t, { clock: time.clock, config: { auth: { accessTokenTtlSeconds: 7 * 24 * 3600 } } });
  const a = await signup(app);
  const b = await signup(app);
  const post = (payload: object, key?: string, who = a) =>
    app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...who.auth, ...(key ? { 'idempotency-key': key } : {}) }, payload });

  const first = await post({ name: 'crm', role: 'viewer' }, 'key-1');
  t.equal(first.statusCode, 201);
  const again = await post({ role: 'viewer', name: 'crm' }, 'key-1');
  t.equal(again.statusCode, 201);
  t.equal(again.json().id, first.json().id, 'the first answer, again (key order in the body does not matter)');
  t.equal(again.json().key, first.json().key);
  t.equal(again.headers['idempotent-replayed'], 'true');
  const keys = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: a.auth });
  t.equal(keys.json().items.length, 1, 'created once');

  const different = await post({ name: 'crm', role: 'editor' }, 'key-1');
  t.equal(different.statusCode, 422);
  t.equal(different.json().code, 'idempotency_conflict');

  t.test('keys are per organization', async (t) => {
    const other = await post({ name: 'crm', role: 'viewer' }, 'key-1', b);
    t.equal(other.statusCode, 201);
    t.not(other.json().id, first.json().id);
  });

  t.test('a request refused by validation does not use up its key', async (t) => {
    const bad = await post({ name: '', role: 'viewer' }, 'key-2');
    t.equal(bad.statusCode, 400);
    const fixed = await post({ name: 'fixed', role: 'viewer' }, 'key-2');
    t.equal(fixed.statusCode, 201);
  });

  t.test('a refusal by the service is remembered', async (t) => {
    const add = () => app.inject({ method: 'POST', url: '/api/v1/members', headers: { ...a.auth, 'idempotency-key': 'key-4' }, payload: { email: a.email, role: 'viewer' } });
    const r = await add();
    t.equal(r.statusCode, 409, 'already a member');
    const again = await add();
    t.equal(again.statusCode, 409);
    t.equal(again.headers['idempotent-replayed'], 'true');
  });

  t.test('after 24 hours the key may be reused', async (t) => {
    time.advance(24 * 3600_000 + 1000);
    const later = await post({ name: 'crm', role: 'editor' }, 'key-1');
    t.equal(later.statusCode, 201);
    t.not(later.json().id, first.json().id);
  });

  t.test('multipart uploads too', async (t) => {
    const body = multipart({ title: 'Pentest summary' }, [{ filename: 'p.txt', content: 'findings: none critical' }]);
    const send = () => app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...a.auth, ...body.headers, 'idempotency-key': 'upload-1' }, payload: body.payload });
    const one = await send();
    const two = await send();
    t.equal(one.statusCode, 201, one.body);
    t.equal(two.json().id, one.json().id);
    const list = await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: a.auth });
    t.equal(list.json().items.length, 1);
    const other = multipart({ title: 'Pentest summary' }, [{ filename: 'p.txt', content: 'different bytes' }]);
    const conflict = await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...a.auth, ...other.headers, 'idempotency-key': 'upload-1' }, payload: other.payload });
    t.equal(conflict.statusCode, 422);
  });

  t.test('concurrent requests with one key create one thing', async (t) => {
    const results = await Promise.all([0, 1, 2, 3].map(() => post({ name: 'race', role: 'viewer' }, 'key-race')));
    const created = new Set(results.filter((r) => r.statusCode === 201).map((r) => r.json().id));
    t.equal(created.size, 1, `one id (${results.map((r) => r.statusCode)})`);
    t.ok(results.every((r) => r.statusCode === 201 || r.statusCode === 409));
  });

  t.equal((await post({ name: 'x', role: 'viewer' }, 'x'.repeat(300))).statusCode, 400, 'over-long key');
});

t.test('cursor pagination is stable while rows are inserted', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const create = (i: number) => app.inject({ method: 'POST', url: '/api/v1/evidence', headers: a.auth, payload: { title: `link ${i}`, url: `https://example.com/${i}` } });
  for (let i = 0; i < 7; i++) await create(i);
  const seen: string[] = [];
  let cursor: string | null = null;
  let inserted = 100;
  do {
    const page: { items: { id: string; title: string }[]; nextCursor: string | null } = (await app.inject({ method: 'GET', url: `/api/v1/evidence?limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: a.auth })).json();
    seen.push(...page.items.map((e) => e.title));
    cursor = page.nextCursor;
    await create(inserted++); // a concurrent writer adds rows between pages
  } while (cursor);
  t.same(seen, ['link 6', 'link 5', 'link 4', 'link 3', 'link 2', 'link 1', 'link 0'], 'no duplicates, no gaps');
});
