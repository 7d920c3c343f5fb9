import t from 'tap';
import { sql } from 'drizzle-orm';
import { DomainError } from '../../src/lib/errors.js';
import { newId } from '../../src/lib/ids.js';
import { users } from '../../src/modules/identity/tables.js';
import { PASSWORD, signup, testApp } from '../helpers/app.js';
import { multipart } from '../helpers/multipart.js';

t.test('one error contract', async (t) => {
  const logs: string[] = [];
  const app = await testApp(t, {
    config: { limits: { bodyBytes: 2048 } },
    options: { logger: { level: 'info', stream: { write: (line: string) => logs.push(line) } } },
  });
  app.get('/boom', async () => {
    throw new Error('connection string postgres://admin:hunter2@db/internal leaked?');
  });
  app.get('/domain', async () => {
    throw new DomainError('version_conflict', 'the record changed since you read it');
  });

  t.test('unknown route: problem+json 404 with a request id', async (t) => {
    const r = await app.inject({ method: 'GET', url: '/nope' });
    t.equal(r.statusCode, 404);
    t.match(r.headers['content-type'], /^application\/problem\+json/);
    t.match(r.json(), { status: 404, code: 'not_found', title: 'Not found', requestId: r.headers['x-request-id'] });
  });

  t.test('5xx never leaks internals, and is logged with the request id', async (t) => {
    const r = await app.inject({ method: 'GET', url: '/boom' });
    t.equal(r.statusCode, 500);
    t.equal(r.json().code, 'internal');
    t.notMatch(r.body, /hunter2|postgres|stack|Error:/);
    t.match(r.json().detail, r.headers['x-request-id'] as string);
    t.ok(
      logs.some((l) => l.includes('unhandled error') && l.includes(String(r.headers['x-request-id']))),
      'the real error is in the log',
    );
  });

  t.test('domain errors keep their code', async (t) => {
    const r = await app.inject({ method: 'GET', url: '/domain' });
    t.equal(r.statusCode, 409);
    t.match(r.json(), { code: 'version_conflict', detail: 'the record changed since you read it' });
  });

  t.test('a given request id is echoed; a hostile one is replaced', async (t) => {
    const ok = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    t.equal(ok.headers['x-request-id'], 'abc-123');
    const hostile = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'a\nb<script>' } });
    t.not(hostile.headers['x-request-id'], 'a\nb<script>');
  });

  t.test('bad JSON, too large, wrong media type', async (t) => {
    const bad = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email":' });
    t.equal(bad.statusCode, 400);
    t.equal(bad.json().code, 'bad_request');
    const big = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'a@b.example.com', password: 'x'.repeat(4000) } });
    t.equal(big.statusCode, 413);
    t.equal(big.json().code, 'payload_too_large');
    const xml = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    t.equal(xml.statusCode, 415);
    t.equal(xml.json().code, 'unsupported_media_type');
  });

  t.test('security headers', async (t) => {
    const r = await app.inject({ method: 'GET', url: '/healthz' });
    t.equal(r.headers['x-content-type-options'], 'nosniff');
    t.match(r.headers['content-security-policy'], /default-src 'self'/);
  });

  t.test('no token, password or key reaches the log', async (t) => {
    const a = await signup(app);
    await app.inject({ method: 'GET', url: '/api/v1/me', headers: a.auth });
    const key = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: 'x', role: 'viewer' } });
    const all = logs.join('\n');
    t.notOk(all.includes(a.token), 'no access token');
    t.notOk(all.includes('Correct-Horse-Battery-9'), 'no password');
    t.notOk(all.includes(key.json().key), 'no API key');
  });
});

t.test('NUL characters are a 400 naming the field; database errors are logged without their parameters', async (t) => {
  const logs: string[] = [];
  const app = await testApp(t, { options: { logger: { level: 'info', stream: { write: (line: string) => logs.push(line) } } } });
  const HASH = 'scrypt$16384$8$1$c2VjcmV0LXNhbHQ$TOPSECRETHASHVALUE';
  const WHSEC = 'whsec_TOPSECRETWEBHOOKSECRET';
  // A query the database refuses, carrying secrets as bind parameters (as a signup or a webhook insert would).
  app.post('/test/db-insert', async () => {
    await app.database.db.insert(users).values({ id: newId(), email: 'x\u0000@example.com', name: WHSEC, passwordHash: HASH });
  });
  app.post('/test/db-cast', async () => app.database.db.execute(sql`select ${WHSEC}::int as n`));

  const a = await signup(app);
  const nul = (r: { statusCode: number; json: () => { code: string; errors?: Array<{ field: string; message: string }> } }, field: string, what: string) => {
    t.equal(r.statusCode, 400, `${what}: 400`);
    t.equal(r.json().code, 'validation_failed', `${what}: validation_failed`);
    t.match(r.json().errors, [{ field, message: /NUL/ }], `${what}: names ${field}`);
  };

  nul(
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { organization: { name: 'Evil\u0000 Inc', slug: 'evil-nul' }, user: { email: 'o@evil-nul.example.com', password: PASSWORD } },
    }),
    'body/organization/name',
    'signup',
  );
  nul(await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'a\u0000@b.example.com', password: PASSWORD } }), 'body/email', 'login');
  nul(
    await app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: a.auth,
      payload: { url: 'https://hooks.example.com/in', events: ['control.updated'], description: 'x\u0000y' },
    }),
    'body/description',
    'webhook',
  );
  nul(
    await app.inject({
      method: 'PUT',
      url: '/api/v1/controls/A.5.1',
      headers: a.auth,
      payload: { applicable: true, status: 'implemented', responsibility: 'provider', implementation: 'ok', owner: 'a\u0000' },
    }),
    'body/owner',
    'control answer',
  );
  nul(
    await app.inject({
      method: 'POST',
      url: '/api/v1/questionnaires',
      headers: a.auth,
      payload: { name: 'q', questions: [{ text: 'fine?' }, { text: 'not\u0000 fine?' }] },
    }),
    'body/questions/1/text',
    'nested array',
  );
  nul(
    await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: a.auth, payload: { name: 'q', questions: [{ text: 'x', 'k\u0000': 1 }] } }),
    'body/questions/0/k\\u0000',
    'an object key',
  );
  nul(
    await app.inject({ method: 'GET', url: '/api/v1/frameworks/iso27001-2022/controls?q=access%00control', headers: a.auth }),
    'querystring/q',
    'query string',
  );
  nul(await app.inject({ method: 'GET', url: '/api/v1/controls/A.5.1%00', headers: a.auth }), 'params/ref', 'path parameter');
  const doc = multipart({ title: 'Policy\u0000', visibility: 'public' }, [{ filename: 'p.txt', content: 'text', contentType: 'text/plain' }]);
  nul(
    await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...doc.headers }, payload: doc.payload }),
    'body/title',
    'multipart text field',
  );

  t.test('the public access-request route', async (t) => {
    t.equal((await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true } })).statusCode, 200);
    const url = `/api/v1/public/trust/${a.slug}/access-requests`;
    const r = await app.inject({ method: 'POST', url, payload: { name: 'Pat\u0000', email: 'pat@buyer.example.com', company: 'Buyer', ndaAccepted: true } });
    nul(r, 'body/name', 'access request');
    t.equal(
      (await app.inject({ method: 'POST', url, payload: { name: 'Pat', email: 'pat@buyer.example.com', company: 'Buyer', ndaAccepted: true } })).statusCode,
      201,
      'a clean one still works',
    );
  });

  t.test('a database error: a bare 500, and a log line with the SQLSTATE but no parameter', async (t) => {
    for (const [url, code] of [
      ['/test/db-insert', /^22/],
      ['/test/db-cast', /^22P02$/],
    ] as const) {
      const before = logs.length;
      const r = await app.inject({ method: 'POST', url });
      t.equal(r.statusCode, 500);
      t.equal(r.json().code, 'internal');
      t.notMatch(r.body, /TOPSECRET|scrypt|whsec_|params|Failed query/, 'nothing of the query in the answer');
      const lines = logs.slice(before).filter((l) => l.includes('unhandled error'));
      t.equal(lines.length, 1, 'logged once');
      const entry = JSON.parse(lines[0]!) as { err: { type: string; code?: string; stack?: string } };
      t.equal(entry.err.type, 'DatabaseError');
      t.match(entry.err.code, code, 'the SQLSTATE is kept');
      t.match(entry.err.stack, /\bat /, 'where it happened is kept');
    }
    const all = logs.join('\n');
    for (const secret of ['TOPSECRETHASHVALUE', 'TOPSECRETWEBHOOKSECRET', 'scrypt$', 'whsec_', 'params:'])
      t.notOk(all.includes(secret), `no "${secret}" in the log`);
  });

  t.test('the logger serializer sanitizes database errors logged anywhere (background work too)', async (t) => {
    const before = logs.length;
    const err = await app.database.db.execute(sql`select ${WHSEC}::int as n`).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err, 'the query failed');
    app.log.error({ err }, 'background job failed');
    const line = logs.slice(before).join('\n');
    t.match(line, /background job failed/);
    t.match(line, /22P02/);
    t.notOk(line.includes('TOPSECRET'), 'no parameter');
  });
});

t.test('health', async (t) => {
  const app = await testApp(t);
  const live = await app.inject({ method: 'GET', url: '/healthz' });
  t.same(live.json(), { status: 'ok' });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.equal(ready.json().status, 'ready');
  await app.database.close();
  const down = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(down.statusCode, 503);
  t.equal(down.json().code, 'service_unavailable');
});
