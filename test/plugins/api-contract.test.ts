import t from 'tap';
import { Type } from 'typebox';
import { CursorSigner } from '../../src/plugins/cursors.js';
import { decodeCursor, encodeCursor } from '../../src/lib/pagination.js';
import { signup, testApp } from '../helpers/app.js';

const base64Cursor = (k: string) => Buffer.from(JSON.stringify({ k })).toString('base64url');
const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

t.test('unknown query parameters on /api/v1 are a 400 naming them', async (t) => {
  const app = await testApp(t);
  // A route with an array-typed parameter, to show repeated parameters still work where declared.
  app.get(
    '/api/v1/test-array',
    {
      config: { public: true },
      schema: { querystring: Type.Object({ status: Type.Optional(Type.Array(Type.String())) }) },
    },
    async (req) => ({ status: (req.query as { status?: string[] }).status ?? [] }),
  );
  const a = await signup(app);
  const get = (url: string) => app.inject({ method: 'GET', url, headers: a.auth });

  const requests = await get('/api/v1/access-requests?colour=red');
  t.equal(requests.statusCode, 400);
  t.equal(requests.json().code, 'validation_failed');
  t.same(requests.json().errors, [{ field: 'querystring/colour', message: 'unknown query parameter' }]);
  t.match(requests.json().detail, /unknown query parameter colour/);
  t.match(requests.json().detail, /this route accepts limit, cursor, status\b/, 'the detail lists what the route takes');

  const analytics = await get('/api/v1/trust-page/analytics?period=week');
  t.equal(analytics.statusCode, 400);
  t.same(analytics.json().errors, [{ field: 'querystring/period', message: 'unknown query parameter' }]);

  const me = await get('/api/v1/me?verbose=1');
  t.equal(me.statusCode, 400, 'a route without a querystring schema takes none');
  t.same(me.json().errors, [{ field: 'querystring/verbose', message: 'unknown query parameter' }]);
  t.match(me.json().detail, /takes no query parameters/);

  const two = await get('/api/v1/evidence?limit=2&stauts=valid&sort=asc');
  t.equal(two.statusCode, 400);
  t.same(
    two.json().errors.map((e: { field: string }) => e.field),
    ['querystring/stauts', 'querystring/sort'],
    'each unknown one, not the declared limit',
  );
  t.match(two.json().detail, /unknown query parameters stauts, sort/);

  const plain = await get('/api/v1/me');
  t.equal(plain.statusCode, 200);
  const declared = await get('/api/v1/evidence?limit=2&status=valid&expiringWithinDays=30');
  t.equal(declared.statusCode, 200, 'declared parameters still work');
  t.same(declared.json().items, []);
  t.equal((await get('/api/v1/access-requests?status=pending&limit=5')).statusCode, 200);
  t.equal((await get('/api/v1/trust-page/analytics?from=2026-01-01')).statusCode, 200);
  t.equal((await get('/api/v1/evidence?limit=abc')).json().errors[0].field, 'querystring/limit', 'declared but invalid stays a schema error');

  t.same((await get('/api/v1/test-array?status=a&status=b')).json(), { status: ['a', 'b'] }, 'repeated parameters where declared');
  t.same((await get('/api/v1/test-array?status=a')).json(), { status: ['a'] });
  t.same((await get('/api/v1/test-array?status=a&x=1')).json().errors, [{ field: 'querystring/x', message: 'unknown query parameter' }]);

  // Pages outside /api/v1 stay lenient: marketing links carry utm parameters.
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true } })).statusCode, 200);
  const page = await app.inject({ method: 'GET', url: `/trust/${a.slug}?utm_source=x&utm_campaign=y` });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /text\/html/);
  t.equal((await app.inject({ method: 'GET', url: '/healthz?probe=1' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/jwks.json?utm_source=x' })).statusCode, 200);
  const docs = await app.inject({ method: 'GET', url: '/docs?utm_source=x' });
  t.ok(docs.statusCode >= 200 && docs.statusCode < 400, `the API docs page answers (${docs.statusCode})`);
  const publicJson = await app.inject({ method: 'GET', url: `/api/v1/public/trust/${a.slug}?utm_source=x` });
  t.equal(publicJson.statusCode, 400, 'the public JSON is API: strict too');
  t.same(publicJson.json().errors, [{ field: 'querystring/utm_source', message: 'unknown query parameter' }]);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/me?verbose=1' })).statusCode, 401, 'credentials are checked first');
});

t.test('cursors are signed over their list and organization', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);
  const get = (url: string, who = a) => app.inject({ method: 'GET', url, headers: who.auth });
  for (let i = 0; i < 7; i++) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: a.auth, payload: { title: `link ${i}`, url: `https://example.com/${i}` } });
    t.equal(r.statusCode, 201);
  }
  await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: b.auth, payload: { title: 'b only', url: 'https://example.com/b' } });

  t.test('a keyset list pages across three pages', async (t) => {
    const titles: string[][] = [];
    let cursor: string | null = null;
    do {
      const r = await get(`/api/v1/evidence?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      t.equal(r.statusCode, 200);
      titles.push(r.json().items.map((e: { title: string }) => e.title));
      cursor = r.json().nextCursor;
      if (cursor) {
        t.match(cursor, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/, 'URL-safe');
        t.ok(cursor.length <= 200, 'within the schema maxLength');
      }
    } while (cursor);
    t.same(titles, [['link 6', 'link 5', 'link 4'], ['link 3', 'link 2', 'link 1'], ['link 0']]);
  });

  t.test('an offset list (the catalog, its own cursor) pages across three pages', async (t) => {
    const all = (await get('/api/v1/frameworks/iso27001-2022/controls?limit=6')).json().items.map((c: { ref: string }) => c.ref);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 3; page++) {
      const r = await get(`/api/v1/frameworks/iso27001-2022/controls?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      t.equal(r.statusCode, 200);
      seen.push(...r.json().items.map((c: { ref: string }) => c.ref));
      cursor = r.json().nextCursor;
      t.ok(cursor, 'more pages');
    }
    t.same(seen, all);
    const raw = await get('/api/v1/frameworks/iso27001-2022/controls?limit=2&cursor=4');
    t.equal(raw.statusCode, 400, 'the bare offset the service understands is not a cursor the API issued');
  });

  t.test("a questionnaire's questions page across three pages, and only on that questionnaire", async (t) => {
    const create = async (name: string) => {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/questionnaires',
        headers: a.auth,
        payload: { name, questions: [1, 2, 3, 4, 5].map((i) => ({ ref: `${name}-${i}`, text: `Do you encrypt backups ${i}?` })) },
      });
      t.equal(r.statusCode, 201);
      return r.json().id as string;
    };
    const first = await create('one');
    const second = await create('two');
    const refs: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/api/v1/questionnaires/${first}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      t.equal(r.statusCode, 200);
      refs.push(...r.json().questions.map((q: { ref: string }) => q.ref));
      cursor = r.json().nextCursor;
      pages++;
    } while (cursor);
    t.equal(pages, 3);
    t.same(refs, ['one-1', 'one-2', 'one-3', 'one-4', 'one-5']);
    const p1 = (await get(`/api/v1/questionnaires/${first}?limit=2`)).json().nextCursor;
    const other = await get(`/api/v1/questionnaires/${second}?limit=2&cursor=${p1}`);
    t.equal(other.statusCode, 400, 'a cursor for another questionnaire');
    t.same(other.json().errors, [{ field: 'querystring/cursor', message: 'invalid cursor' }]);
  });

  t.test('cursors from elsewhere, edited or forged are a 400 on the cursor', async (t) => {
    const issued = (await get('/api/v1/evidence?limit=3')).json().nextCursor as string;
    const bad = async (url: string, who = a, why = url) => {
      const r = await get(url, who);
      t.equal(r.statusCode, 400, why);
      t.equal(r.json().code, 'validation_failed', why);
      t.same(r.json().errors, [{ field: 'querystring/cursor', message: 'invalid cursor' }], why);
    };
    await bad(`/api/v1/evidence?limit=3&cursor=${issued}`, b, 'another organization');
    await bad(`/api/v1/questionnaires?cursor=${issued}`, a, 'another list (also keyset on uuids)');
    await bad(`/api/v1/webhooks?cursor=${issued}`, a, 'another list');
    const dot = issued.indexOf('.');
    await bad(`/api/v1/evidence?cursor=${flip(issued, dot + 3)}`, a, 'the signature changed');
    await bad(`/api/v1/evidence?cursor=${flip(issued, 5)}`, a, 'the body changed');
    await bad(`/api/v1/evidence?cursor=${issued.slice(0, dot)}`, a, 'unsigned');
    await bad(`/api/v1/evidence?cursor=${base64Cursor('not-a-uuid')}`, a, 'a base64 cursor holding a non-uuid id (was a 500)');
    await bad(`/api/v1/evidence?cursor=${base64Cursor("1' or 1=1")}`, a, 'a base64 cursor holding text');
    await bad('/api/v1/controls?cursor=zzz', a, 'the controls list');
    await bad(`/api/v1/review-queue?cursor=${base64Cursor('0000:1')}`, a, 'the review queue');
    const forged = new CursorSigner('not the server key').sign(`GET /api/v1/evidence\n${a.orgId}\n{}`, base64Cursor('not-a-uuid'));
    await bad(`/api/v1/evidence?cursor=${forged}`, a, 'signed with another key');
    const ok = await get(`/api/v1/evidence?limit=3&cursor=${issued}`);
    t.equal(ok.statusCode, 200, 'the issued one still works');
    t.same(
      ok.json().items.map((e: { title: string }) => e.title),
      ['link 3', 'link 2', 'link 1'],
    );
  });
});

t.test('the cursor key is stable across restarts and replicas', async (t) => {
  const dir = t.testdir({});
  const list = 'GET /api/v1/evidence\norg\n{}';
  const first = await CursorSigner.open({ dir });
  const restarted = await CursorSigner.open({ dir });
  const cursor = first.sign(list, encodeCursor('019a0000-0000-7000-8000-000000000001'));
  t.equal(restarted.open(list, cursor), encodeCursor('019a0000-0000-7000-8000-000000000001'), 'the same DATA_DIR secret after a restart');
  t.equal(restarted.open('GET /api/v1/webhooks\norg\n{}', cursor), undefined, 'bound to its list');
  t.equal((await CursorSigner.open({ dir: t.testdir({}) })).open(list, cursor), undefined, 'another DATA_DIR, another key');
  const pem = '-----BEGIN PRIVATE KEY-----\nshared by the replicas\n-----END PRIVATE KEY-----\n';
  const replicaA = await CursorSigner.open({ dir: t.testdir({}), pem });
  const replicaB = await CursorSigner.open({ dir: t.testdir({}), pem });
  t.equal(replicaB.open(list, replicaA.sign(list, 'MTI')), 'MTI', "replicas with the same JWT_PRIVATE_KEY accept each other's cursors");
});

t.test('decodeCursor checks the shape of the key inside', async (t) => {
  const uuid = '019a0000-0000-7000-8000-000000000001';
  t.equal(decodeCursor(encodeCursor(uuid)), uuid);
  t.equal(decodeCursor(encodeCursor('17')), '17');
  t.equal(decodeCursor(encodeCursor(`${uuid}:3`)), `${uuid}:3`);
  t.equal(decodeCursor(undefined), undefined);
  t.equal(decodeCursor(encodeCursor(uuid), ['uuid']), uuid);
  for (const k of ['not-a-uuid', '0000:1', '', '1e9999', `${uuid}x`, '1234567890']) {
    t.throws(() => decodeCursor(encodeCursor(k)), { code: 'validation_failed' }, `refuses ${JSON.stringify(k)}`);
  }
  t.throws(() => decodeCursor(encodeCursor('17'), ['uuid']), { code: 'validation_failed' }, 'a position where a uuid is paged on');
  t.throws(() => decodeCursor(Buffer.from('null').toString('base64url')), { code: 'validation_failed' });
  t.throws(() => decodeCursor('@@@'), { code: 'validation_failed' });
});

t.test('a wrong method on a known path is a 405 with Allow', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const call = (method: 'PATCH' | 'PUT' | 'POST' | 'DELETE' | 'GET' | 'OPTIONS', url: string) => app.inject({ method, url, headers: a.auth });

  const controls = await call('PATCH', '/api/v1/controls');
  t.equal(controls.statusCode, 405);
  t.equal(controls.headers.allow, 'GET, HEAD');
  t.match(controls.headers['content-type'], /^application\/problem\+json/);
  t.match(controls.json(), { status: 405, code: 'method_not_allowed', title: 'Method not allowed', requestId: controls.headers['x-request-id'] });
  t.match(controls.json().detail, /PATCH is not supported on \/api\/v1\/controls; use GET, HEAD/);

  const questionnaire = await call('PUT', '/api/v1/questionnaires/019a0000-0000-7000-8000-000000000001?x=1');
  t.equal(questionnaire.statusCode, 405);
  t.equal(questionnaire.headers.allow, 'DELETE, GET, HEAD, PATCH', 'the methods of the path pattern, whatever the id');

  const control = await call('DELETE', '/api/v1/controls/A.5.1');
  t.equal(control.statusCode, 405);
  t.equal(control.headers.allow, 'GET, HEAD, PUT');
  const health = await app.inject({ method: 'POST', url: '/healthz' });
  t.equal(health.statusCode, 405, 'outside the API too, and without credentials');
  t.equal(health.headers.allow, 'GET, HEAD');
  const options = await call('OPTIONS', '/api/v1/evidence');
  t.equal(options.statusCode, 405, 'no CORS here: OPTIONS names the methods');
  t.equal(options.headers.allow, 'GET, HEAD, POST');

  for (const url of ['/api/v1/nope', '/api/v1/controls/A.5.1/nope', '/nope']) {
    for (const method of ['GET', 'PATCH'] as const) {
      const r = await call(method, url);
      t.equal(r.statusCode, 404, `${method} ${url}`);
      t.equal(r.json().code, 'not_found');
      t.equal(r.headers.allow, undefined);
    }
  }
  const head = await app.inject({ method: 'HEAD', url: '/healthz' });
  t.equal(head.statusCode, 200, 'HEAD is served where GET is, as Allow says');
  const missing = await call('GET', '/api/v1/questionnaires/019a0000-0000-7000-8000-000000000001');
  t.equal(missing.statusCode, 404, 'the right method on a missing resource stays 404');
});
