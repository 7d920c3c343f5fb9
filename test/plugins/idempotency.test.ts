import t, { type Test } from 'tap';
import { and, eq } from 'drizzle-orm';
import { sweepIdempotencyKeys } from '../../src/plugins/idempotency.js';
import { ReplaySealer } from '../../src/modules/idempotency/seal.js';
import { idempotencyKeys } from '../../src/modules/idempotency/tables.js';
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
    const add = () =>
      app.inject({ method: 'POST', url: '/api/v1/members', headers: { ...a.auth, 'idempotency-key': 'key-4' }, payload: { email: a.email, role: 'viewer' } });
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
    const send = () =>
      app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...a.auth, ...body.headers, 'idempotency-key': 'upload-1' }, payload: body.payload });
    const one = await send();
    const two = await send();
    t.equal(one.statusCode, 201, one.body);
    t.equal(two.json().id, one.json().id);
    const list = await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: a.auth });
    t.equal(list.json().items.length, 1);
    const other = multipart({ title: 'Pentest summary' }, [{ filename: 'p.txt', content: 'different bytes' }]);
    const conflict = await app.inject({
      method: 'POST',
      url: '/api/v1/evidence',
      headers: { ...a.auth, ...other.headers, 'idempotency-key': 'upload-1' },
      payload: other.payload,
    });
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

t.test('multipart retries are keyed by their fields and files, not by their bytes', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false } } });
  const a = await signup(app);
  type Body = ReturnType<typeof multipart>;
  const send = (url: string, body: Body, key: string) =>
    app.inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...a.auth, ...body.headers, 'idempotency-key': key }, payload: body.payload });
  const keyRows = async (key: string) =>
    (
      await app.database.db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.orgId, a.orgId), eq(idempotencyKeys.key, key)))
    ).length;

  t.test('evidence: a new boundary and another field order replay the first answer', async (t) => {
    const file = { filename: 'pentest.txt', content: 'findings: none critical', contentType: 'text/plain' };
    const first = multipart({ title: 'Pentest summary', controls: ['A.8.8', 'A.5.1'] }, [file], { boundary: '----first-boundary-0001' });
    const retry = multipart({ controls: ['A.5.1', 'A.8.8'], title: 'Pentest summary' }, [file], { boundary: '----retry-boundary-0002' });
    t.notOk(first.payload.equals(retry.payload), 'the bytes differ');
    const one = await send('/evidence', first, 'ev-1');
    t.equal(one.statusCode, 201, one.body);
    t.equal(one.headers['idempotent-replayed'], undefined, 'the first answer is not a replay');
    const two = await send('/evidence', retry, 'ev-1');
    t.equal(two.statusCode, 201, two.body);
    t.equal(two.headers['idempotent-replayed'], 'true');
    t.equal(two.headers['content-type'], one.headers['content-type']);
    t.equal(two.json().id, one.json().id);
    t.same(two.json(), one.json(), 'the same body');
    const list = await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: a.auth });
    t.equal(list.json().items.length, 1, 'created once');

    for (const [what, body] of [
      [
        'another file',
        multipart({ title: 'Pentest summary', controls: ['A.8.8', 'A.5.1'] }, [{ ...file, content: 'findings: one critical' }], { boundary: '----x1' }),
      ],
      [
        'another file name',
        multipart({ title: 'Pentest summary', controls: ['A.8.8', 'A.5.1'] }, [{ ...file, filename: 'pentest-2.txt' }], { boundary: '----x2' }),
      ],
      ['another field value', multipart({ title: 'Pentest summary (v2)', controls: ['A.8.8', 'A.5.1'] }, [file], { boundary: '----x3' })],
      ['a field fewer', multipart({ title: 'Pentest summary', controls: 'A.8.8' }, [file], { boundary: '----x4' })],
    ] as const) {
      const r = await send('/evidence', body, 'ev-1');
      t.equal(r.statusCode, 422, what);
      t.equal(r.json().code, 'idempotency_conflict', what);
    }
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: a.auth })).json().items.length, 1, 'still one');
    t.equal(await keyRows('ev-1'), 1);
  });

  t.test('documents', async (t) => {
    const file = { filename: 'soc2.txt', content: 'SOC 2 type II report, period 2025', contentType: 'text/plain' };
    const one = await send('/documents', multipart({ title: 'SOC 2 report', visibility: 'nda' }, [file], { boundary: 'doc-boundary-a' }), 'doc-1');
    t.equal(one.statusCode, 201, one.body);
    const two = await send('/documents', multipart({ visibility: 'nda', title: 'SOC 2 report' }, [file], { boundary: 'doc-boundary-b' }), 'doc-1');
    t.equal(two.statusCode, 201);
    t.equal(two.headers['idempotent-replayed'], 'true');
    t.equal(two.json().id, one.json().id);
    const other = await send(
      '/documents',
      multipart({ title: 'SOC 2 report', visibility: 'nda' }, [{ ...file, content: 'SOC 2 type II report, period 2026' }], { boundary: 'doc-boundary-c' }),
      'doc-1',
    );
    t.equal(other.statusCode, 422);
    t.equal(other.json().code, 'idempotency_conflict');
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/documents', headers: a.auth })).json().items.length, 1, 'created once');
  });

  t.test('SoA import (a reader that buffers the file)', async (t) => {
    const csv = 'ref,applicable,status,implementation,responsibility\nA.5.1,yes,implemented,Policies approved by the board,provider\n';
    const file = { filename: 'soa.csv', content: csv, contentType: 'text/csv' };
    const one = await send('/controls/import', multipart({}, [file], { boundary: 'soa-a' }), 'soa-1');
    t.equal(one.statusCode, 200, one.body);
    t.equal(one.json().created, 1);
    const two = await send('/controls/import', multipart({}, [file], { boundary: 'soa-b' }), 'soa-1');
    t.equal(two.headers['idempotent-replayed'], 'true');
    t.same(two.json(), one.json(), 'the first answer (a second import would say unchanged: 1)');
    const history = await app.inject({ method: 'GET', url: '/api/v1/controls/A.5.1/history', headers: a.auth });
    t.equal(history.json().items.length, 1, 'one version written');
    const dry = await send('/controls/import', multipart({ dryRun: 'true' }, [file], { boundary: 'soa-c' }), 'soa-1');
    t.equal(dry.statusCode, 422, 'a field more is another request');
    t.equal(dry.json().code, 'idempotency_conflict');
  });

  t.test('a request refused halfway through its body is not remembered', async (t) => {
    const file = { filename: 'x.txt', content: 'bytes' };
    const bad = await send('/evidence', multipart({ title: 'X' }, [{ ...file, name: 'attachment' }], { boundary: 'bad-1' }), 'half-1');
    t.equal(bad.statusCode, 400, bad.body);
    t.equal(await keyRows('half-1'), 0, 'the key is free again');
    const fixed = await send('/evidence', multipart({ title: 'X' }, [file], { boundary: 'bad-2' }), 'half-1');
    t.equal(fixed.statusCode, 201, fixed.body);
    t.equal(fixed.headers['idempotent-replayed'], undefined);
  });

  t.test('a text field too long to read whole is refused, not cut short (two such bodies would key alike)', async (t) => {
    const long = await send('/evidence', multipart({ title: 'T', description: 'x'.repeat(70 * 1024) }, [{ filename: 'x.txt', content: 'bytes' }]), 'long-1');
    t.equal(long.statusCode, 413, long.body);
    t.equal(long.json().code, 'payload_too_large');
    t.match(long.json().detail, /field "description" is longer than 65536 bytes/);
  });

  t.test('a multipart body its route ignores is read and keyed all the same', async (t) => {
    const q = await app.inject({
      method: 'POST',
      url: '/api/v1/questionnaires',
      headers: a.auth,
      payload: { name: 'Q', questions: [{ text: 'Do you encrypt data at rest?' }] },
    });
    t.equal(q.statusCode, 201, q.body);
    const url = `/questionnaires/${q.json().id}/fill`;
    const one = await send(url, multipart({ note: 'please' }, [], { boundary: 'fill-a' }), 'fill-1');
    t.equal(one.statusCode, 202, one.body);
    const two = await send(url, multipart({ note: 'please' }, [], { boundary: 'fill-b' }), 'fill-1');
    t.equal(two.statusCode, 202);
    t.equal(two.headers['idempotent-replayed'], 'true');
    t.equal(two.json().id, one.json().id);
    const other = await send(url, multipart({ note: 'again' }, [], { boundary: 'fill-c' }), 'fill-1');
    t.equal(other.statusCode, 422);
  });

  t.test('JSON bodies replay as before', async (t) => {
    const post = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...a.auth, 'idempotency-key': 'json-1' }, payload });
    const one = await post({ name: 'ci', role: 'viewer' });
    const two = await post({ role: 'viewer', name: 'ci' });
    t.equal(one.statusCode, 201);
    t.equal(two.headers['idempotent-replayed'], 'true');
    t.equal(two.json().key, one.json().key);
    const multi = await send('/api-keys', multipart({ name: 'ci', role: 'viewer' }, [], { boundary: 'k' }), 'json-1');
    t.equal(multi.statusCode, 415, 'a route without multipart refuses it before any key is looked at');
  });
});

t.test('shown-once secrets are never stored in plaintext; replays still answer them', async (t) => {
  const time = manualClock();
  const app = await testApp(t, { clock: time.clock, config: { auth: { accessTokenTtlSeconds: 7 * 24 * 3600 } } });
  const a = await signup(app);
  const post = (url: string, key: string, payload: object = {}) =>
    app.inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...a.auth, 'idempotency-key': key }, payload });

  // Every creating route whose answer carries a secret (API key, webhook secret, invitation token, grant link).
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true } })).statusCode, 200);
  const doc = multipart({ title: 'SOC 2 report', visibility: 'nda' }, [{ filename: 'soc2.txt', content: 'report', contentType: 'text/plain' }]);
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...doc.headers }, payload: doc.payload })).statusCode, 201);
  const request = await app.inject({
    method: 'POST',
    url: `/api/v1/public/trust/${a.slug}/access-requests`,
    payload: { name: 'Pat', email: 'pat@buyer.example.com', company: 'Buyer', ndaAccepted: true },
  });
  t.equal(request.statusCode, 201, request.body);
  const hook = await post('/webhooks', 'hook', { url: 'https://hooks.example.com/in', events: ['control.updated'] });
  t.equal(hook.statusCode, 201, hook.body);
  const calls: Array<[string, string, object, (body: Record<string, any>) => string]> = [
    ['/api-keys', 'api-key', { name: 'crm', role: 'viewer' }, (b) => b.key],
    ['/webhooks', 'hook', { url: 'https://hooks.example.com/in', events: ['control.updated'] }, (b) => b.secret],
    [`/webhooks/${hook.json().id}/rotate-secret`, 'rotate', {}, (b) => b.secret],
    ['/members', 'invite', { email: 'new@outside.example.com', role: 'viewer' }, (b) => b.invitation.token],
    [`/access-requests/${request.json().id}/approve`, 'approve', { expiresInDays: 7 }, (b) => new URL(b.url).pathname.split('/').pop()!],
  ];
  const secrets: string[] = [];
  for (const [url, key, payload, secretOf] of calls) {
    const first = url === '/webhooks' ? hook : await post(url, key, payload);
    t.ok(first.statusCode < 300, `${url}: ${first.body}`);
    const secret = secretOf(first.json());
    t.ok(secret && secret.length >= 16, `${url} answers a secret`);
    secrets.push(secret);
    const again = await post(url, key, payload);
    t.equal(again.headers['idempotent-replayed'], 'true', `${url}: replayed`);
    t.equal(secretOf(again.json()), secret, `${url}: the replay answers the same secret`);
  }
  const grantId = (await app.inject({ method: 'GET', url: '/api/v1/access-grants', headers: a.auth })).json().items[0].id;
  const link = await post(`/access-grants/${grantId}/link`, 'link');
  t.equal(link.statusCode, 200, link.body);
  secrets.push(new URL(link.json().url).pathname.split('/').pop()!);

  const rows = await app.database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.orgId, a.orgId));
  t.equal(rows.length, calls.length + 1);
  const stored = JSON.stringify(rows);
  for (const secret of secrets) t.notOk(stored.includes(secret), `no secret in the store (${secret.slice(0, 8)}...)`);
  for (const r of rows) t.match(r.responseBody, /^v1\.[A-Za-z0-9_-]+$/, `${r.path}: the stored answer is sealed`);

  t.test('an answer sealed under another server secret is a clear 409, and nothing runs twice', async (t) => {
    const row = rows.find((r) => r.key === 'api-key')!;
    const foreign = new ReplaySealer('another server').seal(row.responseBody!, `${row.orgId}\n${row.key}\n${row.principal}`);
    await app.database.db
      .update(idempotencyKeys)
      .set({ responseBody: foreign })
      .where(and(eq(idempotencyKeys.orgId, a.orgId), eq(idempotencyKeys.key, 'api-key')));
    const r = await post('/api-keys', 'api-key', { name: 'crm', role: 'viewer' });
    t.equal(r.statusCode, 409);
    t.equal(r.json().code, 'conflict');
    t.match(r.json().detail, /shown once/);
    t.notOk(r.body.includes(secrets[0]!));
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: a.auth })).json().items.length, 1, 'still one key');
  });

  t.test("a sealed answer does not open under another row's key", async (t) => {
    const hookRow = rows.find((r) => r.key === 'hook')!;
    await app.database.db
      .update(idempotencyKeys)
      .set({ responseBody: hookRow.responseBody })
      .where(and(eq(idempotencyKeys.orgId, a.orgId), eq(idempotencyKeys.key, 'invite')));
    const r = await post('/members', 'invite', { email: 'new@outside.example.com', role: 'viewer' });
    t.equal(r.statusCode, 409);
    t.notOk(r.body.includes(secrets[1]!), 'the webhook secret is not shown');
  });
});

t.test('expired rows are swept: in bounded batches, and periodically', async (t) => {
  const setup = async (t: Test, sweepEvery: number) => {
    const time = manualClock();
    const app = await testApp(t, {
      clock: time.clock,
      config: { auth: { accessTokenTtlSeconds: 7 * 24 * 3600 } },
      options: { idempotencySweepIntervalMs: sweepEvery },
    });
    const a = await signup(app);
    const post = (key: string) =>
      app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...a.auth, 'idempotency-key': key }, payload: { name: key, role: 'viewer' } });
    const keys = async () => (await app.database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.orgId, a.orgId))).map((r) => r.key).sort();
    for (let i = 0; i < 5; i++) t.equal((await post(`old-${i}`)).statusCode, 201);
    time.advance(23 * 3600_000);
    t.equal((await post('young')).statusCode, 201);
    t.equal((await keys()).length, 6);
    time.advance(2 * 3600_000); // the first five are now 25 hours old, "young" 2 hours
    return { app, keys, time };
  };

  t.test('a sweep deletes in bounded batches', async (t) => {
    const { app, keys, time } = await setup(t, 0);
    t.equal(await sweepIdempotencyKeys(app.database.db, time.clock(), { batchSize: 2, maxBatches: 2 }), 4, 'at most two batches of two per call');
    t.equal((await keys()).length, 2);
    t.equal(await sweepIdempotencyKeys(app.database.db, time.clock(), { batchSize: 2 }), 1);
    t.same(await keys(), ['young'], 'only the unexpired row is left');
  });

  t.test('the periodic sweep runs without being called', async (t) => {
    const { keys } = await setup(t, 25);
    const deadline = Date.now() + 10_000;
    while ((await keys()).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    t.same(await keys(), ['young'], 'only the unexpired row is left');
  });
});

t.test('cursor pagination is stable while rows are inserted', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const create = (i: number) =>
    app.inject({ method: 'POST', url: '/api/v1/evidence', headers: a.auth, payload: { title: `link ${i}`, url: `https://example.com/${i}` } });
  for (let i = 0; i < 7; i++) await create(i);
  const seen: string[] = [];
  let cursor: string | null = null;
  let inserted = 100;
  do {
    const page: { items: { id: string; title: string }[]; nextCursor: string | null } = (
      await app.inject({ method: 'GET', url: `/api/v1/evidence?limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: a.auth })
    ).json();
    seen.push(...page.items.map((e) => e.title));
    cursor = page.nextCursor;
    await create(inserted++); // a concurrent writer adds rows between pages
  } while (cursor);
  t.same(seen, ['link 6', 'link 5', 'link 4', 'link 3', 'link 2', 'link 1', 'link 0'], 'no duplicates, no gaps');
});
