import t from 'tap';
import { DomainError } from '../../src/lib/errors.js';
import { signup, testApp } from '../helpers/app.js';

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
    t.ok(logs.some((l) => l.includes('unhandled error') && l.includes(String(r.headers['x-request-id']))), 'the real error is in the log');
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
